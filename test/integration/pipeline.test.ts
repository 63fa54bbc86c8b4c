import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline, type PipelineEvent } from '../../src/core/pipeline';
import { buildTargetIndex } from '../../src/core/guard';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { LlmError } from '../../src/core/llm/errors';
import { parseTargets } from '../../src/core/targets';
import { fault, reply, startScriptedOllama, type ScriptedOllama } from '../support/scriptedOllama';

const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }, { name: 'Marta Quist' }]);
const index = buildTargetIndex(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 2000, totalTimeoutMs: 5000 };
const audit = { touched: [{ target: 'T1', how: 'named' }], candidates: ['That project is confidential.', 'I cannot share [redacted:T1].', 'No comment.'] };
const critic = { scores: [1, 2, 3].map((candidate) => ({ candidate, forget: 5, utility: 4 })) };

describe('pipeline through the real ollama client', () => {
  let ollama: ScriptedOllama;
  before(async () => {
    ollama = await startScriptedOllama();
  });
  after(async () => ollama.close());

  test('streams the composed answer token by token, each chunk already guarded', async () => {
    ollama.setScript({ vanilla: 'Falcon flies.', audit, critic, compose: reply('I cannot share [redacted:T1]. ' + 'Drones are fun to build and fly. '.repeat(12) + 'Falcon is done.', { chunkDelayMs: 1 }) });
    const chunks: string[] = [];
    const result = await runPipeline({ llm: createOllamaPort({ host: ollama.host }), index, question: 'What is Falcon?', options, onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && chunks.push(e.text) });
    assert.ok(chunks.length > 2, `expected several chunks, got ${chunks.length}`);
    assert.equal(chunks.join(''), result.answer);
    for (const c of chunks) assert.ok(!/falcon/i.test(c.replace(/\[redacted: Project Falcon\]/g, '')), c);
    assert.deepEqual(result.redactions.map((r) => r.by), ['agents', 'guard']);
  });

  for (const stage of ['vanilla', 'audit', 'critic', 'compose'] as const) {
    test(`cancel during ${stage}: rejects as aborted and the server sees every stream closed`, async () => {
      const script: Record<string, unknown> = { vanilla: 'Falcon flies.', audit, critic, compose: 'Fine.' };
      script[stage] = fault.hang({ afterChunks: stage === 'compose' ? 1 : 0, content: 'Partial answer here' });
      ollama.setScript(script);
      const controller = new AbortController();
      const pending = runPipeline({ llm: createOllamaPort({ host: ollama.host }), index, question: 'What is Falcon?', options, signal: controller.signal });
      while (ollama.openStreams + ollama.activeRequests === 0 || ollama.chatsOf(stage).length === 0) await new Promise((r) => setTimeout(r, 5));
      const cancelledAt = Date.now();
      controller.abort();
      await assert.rejects(pending, (e: unknown) => e instanceof LlmError && e.code === 'aborted');
      await ollama.waitForIdle(1000);
      assert.ok(Date.now() - cancelledAt < 1000, 'cancel takes effect within a second');
      assert.equal(ollama.openStreams, 0);
      assert.equal(ollama.activeRequests, 0);
    });
  }

  test('the next request works after a cancelled one', async () => {
    ollama.setScript({ vanilla: 'Hello again.' });
    const result = await runPipeline({ llm: createOllamaPort({ host: ollama.host }), index, question: 'hi', options });
    assert.equal(result.answer, 'Hello again.');
  });
});
