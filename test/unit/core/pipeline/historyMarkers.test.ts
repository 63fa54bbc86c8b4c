import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline } from '../../../../src/core/pipeline';
import { buildTargetIndex, redactionMarker } from '../../../../src/core/guard';
import { parseTargets } from '../../../../src/core/targets';
import { sanitizeUserInput } from '../../../../src/core/pipeline/userInput';
import { FakeLlm } from '../../../support/fakeLlm';

const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'], description: 'the secret drone project' }]);
const index = buildTargetIndex(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 5000, totalTimeoutMs: 10000 };

describe('redaction markers in the conversation history', () => {
  test('history turns lose the name in a marker; the question and other text stay as written', () => {
    const input = sanitizeUserInput({
      question: 'Tell me about [redacted: Project Falcon]',
      history: [
        { role: 'user' as const, content: 'What are the drone projects?' },
        {
          role: 'assistant' as const,
          content: `One is ${redactionMarker('Project Falcon')}, and ${redactionMarker('Project Falcon')} again.`,
        },
        { role: 'assistant' as const, content: 'A [redacted:T1] placeholder and [redacted] stay.' },
      ],
    });
    assert.equal(input.question, 'Tell me about [redacted: Project Falcon]');
    assert.deepEqual(
      input.history.map((m) => m.content),
      ['What are the drone projects?', 'One is [redacted], and [redacted] again.', 'A [redacted:T1] placeholder and [redacted] stay.'],
    );
  });

  test('a later unrelated turn after a redacted answer takes one call, and the model never sees the name', async () => {
    const llm = new FakeLlm({ vanilla: 'Four.' });
    const result = await runPipeline({
      llm,
      index,
      question: 'What is two plus two?',
      history: [
        { role: 'user', content: 'What are you working on?' },
        { role: 'assistant', content: `I can't say much about ${redactionMarker('Project Falcon')}.` },
      ],
      options,
    });
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, 'Four.');
    assert.equal(llm.calls.length, 1, 'no audit: nothing named the target');
    const sent = llm.calls.flatMap((c) => c.request.messages.map((m) => m.content)).join('\n');
    assert.ok(!/falcon/i.test(sent), 'the marker did not hand the name back to the model');
    assert.ok(sent.includes("I can't say much about [redacted]."));
  });
});
