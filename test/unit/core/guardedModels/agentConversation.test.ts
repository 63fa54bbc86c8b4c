/** Agent mode's two views of a conversation: a tool step's messages, and the pipeline's question and evidence. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toAgentConversation, toToolStepMessages, type PlainMessage } from '../../../../src/core/guardedModels';

const loop: PlainMessage[] = [
  { role: 'system', parts: [{ type: 'text', text: 'You are an agent. Use tools.' }] },
  { role: 'user', parts: [{ type: 'text', text: 'What changed in the release notes?' }] },
  {
    role: 'assistant',
    parts: [
      { type: 'text', text: 'Reading them.' },
      { type: 'toolCall', callId: 'c1', name: 'read_file', input: { path: 'NOTES.md' } },
    ],
  },
  { role: 'user', parts: [{ type: 'toolResult', callId: 'c1', parts: [{ type: 'text', text: '## 2.0\n- new parser' }] }] },
  { role: 'assistant', parts: [{ type: 'toolCall', callId: 'c2', name: 'run', input: '{"cmd":"git log -1"}' }] },
  {
    role: 'user',
    parts: [
      { type: 'toolResult', callId: 'c2', parts: [{ type: 'text', text: 'commit abc' }] },
      { type: 'text', text: 'Continue.' },
    ],
  },
];

describe('agent conversations', () => {
  test('a tool step gets tool calls as calls and results as tool messages, right after the calls', () => {
    const { messages, omitted } = toToolStepMessages(loop);
    assert.deepEqual(messages, [
      { role: 'system', content: 'You are an agent. Use tools.' },
      { role: 'user', content: 'What changed in the release notes?' },
      { role: 'assistant', content: 'Reading them.', toolCalls: [{ id: 'c1', name: 'read_file', arguments: { path: 'NOTES.md' } }] },
      { role: 'tool', content: '## 2.0\n- new parser', toolCallId: 'c1', toolName: 'read_file' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c2', name: 'run', arguments: { cmd: 'git log -1' } }] },
      { role: 'tool', content: 'commit abc', toolCallId: 'c2', toolName: 'run' },
      { role: 'user', content: 'Continue.' },
    ]);
    assert.deepEqual(omitted, []);
  });

  test("an earlier answer's markers lose their names before a step sends them back; controls go", () => {
    const { messages } = toToolStepMessages([
      { role: 'user', parts: [{ type: 'text', text: 'hi\u001b[2J' }] },
      { role: 'assistant', parts: [{ type: 'text', text: 'About [redacted: Project Falcon] I cannot say.' }] },
      { role: 'user', parts: [{ type: 'text', text: 'ok' }] },
    ]);
    assert.deepEqual(
      messages.map((m) => m.content),
      ['hi', 'About [redacted] I cannot say.', 'ok'],
    );
  });

  test('for the pipeline, the question is what the person asked, and every tool result is evidence', () => {
    const conversation = toAgentConversation(loop);
    assert.equal(conversation.question, 'What changed in the release notes?');
    assert.deepEqual(
      conversation.history.map((m) => m.role),
      ['user'],
      'only the system text, labelled, comes before the question',
    );
    assert.deepEqual(conversation.evidence, ['## 2.0\n- new parser', 'commit abc']);
  });

  test('images in a tool result are named as omitted, not dropped silently', () => {
    const { messages, omitted } = toToolStepMessages([
      { role: 'user', parts: [{ type: 'text', text: 'look' }] },
      { role: 'assistant', parts: [{ type: 'toolCall', callId: 'c', name: 'screenshot', input: {} }] },
      { role: 'user', parts: [{ type: 'toolResult', callId: 'c', parts: [{ type: 'data', mimeType: 'image/png', bytes: 10 }] }] },
    ]);
    assert.deepEqual(omitted, ['image/png attachment (10 bytes)']);
    assert.match(messages[2]!.content, /this text-only model cannot see it/);
  });
});
