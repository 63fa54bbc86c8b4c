// Tools through the port (the provider-neutral ToolSpec / ToolCall) and the real `ollama` client, against
// the scripted server: what goes on the wire, and what comes back, streamed or not.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import type { ChatMessage, LlmPort, ToolSpec } from '../../src/core/llm/port';
import { startScriptedOllama, toolCalls, type ScriptedOllama } from '../support/scriptedOllama';

const MODEL = 'llama3.2:latest';
const TOOLS: ToolSpec[] = [
  {
    name: 'read_file',
    description: 'Reads a file.',
    parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  },
];

describe('tool calls through the Ollama port', { timeout: 20_000 }, () => {
  let ollama: ScriptedOllama;
  let llm: LlmPort;
  before(async () => {
    ollama = await startScriptedOllama();
    llm = createOllamaPort({ host: ollama.host });
  });
  after(() => ollama.close());
  beforeEach(() => ollama.reset());

  it('sends the tools in Ollama’s shape and returns the streamed calls with their arguments', async () => {
    ollama.setScript({ vanilla: toolCalls([{ name: 'read_file', arguments: { path: 'a.md' } }], 'Looking.') });
    const tokens: string[] = [];
    const reply = await llm.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'open a.md' }],
      tools: TOOLS,
      onToken: (t) => tokens.push(t),
    });
    assert.deepEqual(ollama.chats[0]!.tools, [
      { type: 'function', function: { name: 'read_file', description: 'Reads a file.', parameters: TOOLS[0]!.parameters } },
    ]);
    assert.equal(ollama.chats[0]!.stream, true);
    assert.equal(reply.content, 'Looking.');
    assert.equal(tokens.join(''), 'Looking.');
    assert.deepEqual(reply.toolCalls, [{ name: 'read_file', arguments: { path: 'a.md' } }]);
  });

  it('returns the calls of a non-streaming reply too, and none for a text reply', async () => {
    ollama.setScript({ vanilla: [toolCalls([{ name: 'read_file', arguments: { path: 'b.md' } }]), 'Plain text.'] });
    const called = await llm.chat({ model: MODEL, messages: [{ role: 'user', content: 'open b.md' }], tools: TOOLS });
    assert.equal(ollama.chats[0]!.stream, false);
    assert.deepEqual(called.toolCalls, [{ name: 'read_file', arguments: { path: 'b.md' } }]);
    const text = await llm.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], tools: TOOLS });
    assert.equal(text.toolCalls, undefined);
    assert.equal(text.content, 'Plain text.');
  });

  it('writes earlier calls as tool_calls and results as tool messages with tool_name; no tools, no field', async () => {
    ollama.setScript({ vanilla: 'Done.' });
    const messages: ChatMessage[] = [
      { role: 'user', content: 'open c.md' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'x1', name: 'read_file', arguments: { path: 'c.md' } }] },
      { role: 'tool', content: 'contents of c', toolCallId: 'x1', toolName: 'read_file' },
    ];
    await llm.chat({ model: MODEL, messages });
    const sent = ollama.chats[0]!;
    assert.equal(sent.tools, undefined);
    assert.deepEqual(sent.messages, [
      { role: 'user', content: 'open c.md' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'read_file', arguments: { path: 'c.md' } } }] },
      { role: 'tool', content: 'contents of c', tool_name: 'read_file' },
    ]);
  });

  it('a call whose arguments arrive as a JSON string is parsed; anything else becomes an empty object', async () => {
    ollama.setScript({
      vanilla: toolCalls([
        { name: 'read_file', arguments: '{"path":"d.md"}' as never },
        { name: 'read_file', arguments: 'not json' as never },
      ]),
    });
    const reply = await llm.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'open d.md' }],
      tools: TOOLS,
      onToken: () => undefined,
    });
    assert.deepEqual(reply.toolCalls, [
      { name: 'read_file', arguments: { path: 'd.md' } },
      { name: 'read_file', arguments: {} },
    ]);
  });
});
