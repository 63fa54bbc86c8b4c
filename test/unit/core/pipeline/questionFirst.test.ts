import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { DEFAULT_PIPELINE_OPTIONS, runPipeline } from '../../../../src/core/pipeline';
import { parseTargets } from '../../../../src/core/targets';
import { FakeLlm } from '../../../support/fakeLlm';
import { criticEach, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

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

describe('a draft stopped at its opening', () => {
  const CLIENT = { name: 'Northwind Freight', aliases: ['Northwind'], description: 'A logistics client in Rotterdam.' };

  test('shows nothing of the draft, not even a first sentence whose check was still running when it stopped', async () => {
    // Embeddings slow enough (a cold model) that the first sentence's check is still waiting for them when
    // the second sentence names the target and the opening stops the draft.
    const llm = new (class extends FakeLlm {
      override async embed(model: string, input: readonly string[], signal?: AbortSignal) {
        await new Promise((r) => setTimeout(r, 1_800));
        return super.embed(model, input, signal);
      }
    })({
      vanilla: 'Start with a ripe and bubbly starter. Northwind Freight once shipped my flour. Bake it hot.',
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft(['I would rather not name a company.']),
      critic: criticEach({ forget: 5, utility: 3 }),
      detect: { touched: [] },
    });
    const shown: string[] = [];
    const result = await runPipeline({
      llm,
      index: buildTargetIndex(parseTargets([CLIENT]).targets),
      question: 'How do I bake a good sourdough loaf at home?',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', embeddingModel: 'embeddinggemma' },
      onEvent: (e) => e.type === 'answer-chunk' && shown.push(e.text),
    });
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['vanilla', 'rewrite', 'edit', 'critic'],
    );
    // Long enough for any check still running to have released what it held.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(shown.join(''), result.answer);
    assert.ok(!shown.join('').includes('starter'), shown.join(''));
  });

  test("model text joins the agents' thread with chat-template tokens defused", async () => {
    const llm = new FakeLlm({
      vanilla: 'Set the end token first. Then call the tokenizer. Use tok.eos_token = "<|im_end|>" here. Northwind Freight uses this.',
      edit: replaceDraft(['I cannot help with that.']),
      critic: criticEach({ forget: 5, utility: 3 }),
    });
    await runPipeline({
      llm,
      index: buildTargetIndex(parseTargets([CLIENT]).targets),
      question: 'How do I set a tokenizer end token?',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', auditPolicy: 'named' },
    });
    const edit = llm.callsOf('edit')[0]!;
    const draftTurn = edit.raw.messages.at(-2)!;
    assert.equal(draftTurn.role, 'assistant');
    assert.ok(!draftTurn.content.includes('<|im_end|>'), draftTurn.content);
    assert.ok(draftTurn.content.includes('‹|im_end|>'));
  });
});
