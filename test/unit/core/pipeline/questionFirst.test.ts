import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { DEFAULT_PIPELINE_OPTIONS, runPipeline } from '../../../../src/core/pipeline';
import { parseTargets } from '../../../../src/core/targets';
import { FakeLlm } from '../../../support/fakeLlm';

const TOPIC = {
  name: 'The Saltmarsh Chronicles',
  description:
    'The Saltmarsh Chronicles fantasy novels: Gullhaven Academy of sorcery, its headmaster Ambrose Quillfeather and the dark lord Vexmoor.',
};

/** A fake whose embedding model answers only after `delayMs` (a model still loading, an index still building). */
class SlowEmbedder extends FakeLlm {
  constructor(private readonly delayMs: number) {
    super({ vanilla: 'Boil the water first, then add the pasta and stir it now and then.' });
  }
  override async embed(model: string, input: readonly string[], signal?: AbortSignal) {
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.embed(model, input, signal);
  }
}

describe('the question first: how long its vectors may hold up the draft', () => {
  test('a slow embedding model holds the draft back about 1.5 s at most, then the answer goes on and is read with meaning after it', async () => {
    const llm = new SlowEmbedder(4_000);
    const started = Date.now();
    let firstCallAt: number | undefined;
    const port = Object.assign(Object.create(llm) as FakeLlm, {
      chat: (request: Parameters<FakeLlm['chat']>[0]) => {
        firstCallAt ??= Date.now();
        return llm.chat(request);
      },
    });
    const result = await runPipeline({
      llm: port,
      index: buildTargetIndex(parseTargets([TOPIC]).targets),
      question: 'How do I cook pasta so it does not stick?',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', embeddingModel: 'embeddinggemma', embeddingTimeoutMs: 10_000 },
    });
    const waited = firstCallAt! - started;
    assert.ok(waited >= 1_400 && waited < 3_000, `the draft started after ${waited} ms`);
    assert.equal(result.outcome, 'vanilla');
    // Meaning was not given up on: the request still read the vectors once they came.
    assert.equal(result.relevance!.semantic.status, 'ok');
  });

  test('a prompt embedding model does not hold the draft back', async () => {
    const llm = new SlowEmbedder(0);
    const started = Date.now();
    const result = await runPipeline({
      llm,
      index: buildTargetIndex(parseTargets([TOPIC]).targets),
      question: 'How do I cook pasta so it does not stick?',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', embeddingModel: 'embeddinggemma' },
    });
    assert.ok(Date.now() - started < 1_000);
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.calls, 1);
  });
});
