import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CONTEXT_LENGTH,
  estimatePromptTokens,
  promptBudget,
  runPipeline,
  KEEP_ALIVE,
  REFUSAL,
  TOO_LONG,
  type PipelineEvent,
  type PipelineInput,
} from '../../../../src/core/pipeline';
import { buildTargetIndex } from '../../../../src/core/guard';
import { parseTargets } from '../../../../src/core/targets';
import { LlmError } from '../../../../src/core/llm/errors';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { criticScores, rewrites } from '../../../support/erasedReplies';

const { targets } = parseTargets([
  { name: 'Project Falcon', aliases: ['Falcon'], description: 'the secret aircraft project' },
  { name: 'Marta Quist', description: 'former CFO' },
  { name: 'Zephyr Holdings' },
]);
const index = buildTargetIndex(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 5000, totalTimeoutMs: 10000 };

const erasedTexts = [
  'The project you mention is confidential, so I cannot describe it.',
  'I cannot share details about [redacted:T1].',
  'Drones in general use GPS.',
];
const erased = rewrites(erasedTexts);
const goodScores = criticScores([
  { forget: 5, utility: 3 },
  { forget: 5, utility: 4 },
  { forget: 4, utility: 5 },
]);

/** The data of a rewrite prompt (the JSON before its "Candidate n of j" line). */
function rewriteData(content: string) {
  return JSON.parse(content.slice(0, content.lastIndexOf('\n\nCandidate '))) as {
    forget_targets: { name: string }[];
    conversation: { role: string; content: string }[];
  };
}

function run(script: FakeScript, extra: Partial<PipelineInput> = {}) {
  const llm = new FakeLlm(script);
  const events: PipelineEvent[] = [];
  const promise = runPipeline({
    llm,
    index,
    question: 'What is Project Falcon building?',
    options,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  return { llm, events, promise, streamed: () => events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : [])).join('') };
}

describe('pipeline control flow', () => {
  test('no target touched: the vanilla answer stands after one call', async () => {
    const r = run({ vanilla: 'Paris is the capital of France.' }, { question: 'What is the capital of France?' });
    const result = await r.promise;
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, 'Paris is the capital of France.');
    assert.equal(result.calls, 1);
    assert.deepEqual(result.redactions, []);
    assert.equal(r.streamed(), result.answer);
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla'],
    );
  });

  test('a target in the question: no vanilla draft; j rewrites, the critic and the composer run, in that order, and the composed answer is returned', async () => {
    const r = run({
      vanilla: 'Project Falcon builds stealth drones for Zephyr Holdings.',
      rewrite: erased,
      critic: goodScores,
      compose: 'I cannot share details about [redacted:T1]. Drones in general use GPS.',
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['rewrite', 'rewrite', 'rewrite', 'critic', 'compose'],
    );
    // Without a draft each rewrite answers the question itself; the critic scores exactly what they wrote.
    for (const c of r.llm.callsOf('rewrite')) assert.ok(!c.request.messages[1]!.content.includes('draft_answer'));
    const criticData = JSON.parse(r.llm.callsOf('critic')[0]!.request.messages[1]!.content) as { candidates: { text: string }[] };
    assert.deepEqual(
      criticData.candidates.map((c) => c.text),
      erasedTexts,
    );
    const composerData = JSON.parse(r.llm.callsOf('compose')[0]!.request.messages[1]!.content) as { rewrites: string[] };
    assert.deepEqual(composerData.rewrites, [erasedTexts[1], erasedTexts[0]]);
    assert.equal(result.answer, 'I cannot share details about [redacted: Project Falcon]. Drones in general use GPS.');
    assert.equal(result.redactions.length, 1);
    const [red] = result.redactions;
    assert.equal(result.answer.slice(red!.start, red!.end), '[redacted: Project Falcon]');
    assert.equal(red!.by, 'agents');
    assert.equal(result.guardActed, false);
    assert.equal(r.streamed(), result.answer);
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      ['Project Falcon'],
    );
  });

  test('a target the vanilla answer names that the question did not: the draft goes to every rewrite', async () => {
    const r = run(
      { vanilla: 'Zephyr Holdings funds it.', rewrite: erased, critic: goodScores, compose: 'Drones in general use GPS.' },
      { question: 'Who funds the drone work?' },
    );
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'rewrite', 'rewrite', 'rewrite', 'critic', 'compose'],
    );
    for (const c of r.llm.callsOf('rewrite')) assert.match(c.request.messages[1]!.content, /"draft_answer": "Zephyr Holdings funds it\."/);
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      ['Zephyr Holdings'],
    );
  });

  test('progress events name each stage with counts', async () => {
    const r = run({ vanilla: 'Falcon is a drone.', rewrite: erased, critic: goodScores, compose: 'Drones fly.' });
    await r.promise;
    const starts = r.events.filter((e) => e.type === 'stage-start').map((e) => (e.type === 'stage-start' ? e.message : ''));
    assert.deepEqual(starts, [
      'Finding forget targets…',
      'Writing 3 erased answers for 1 target…',
      'Scoring 3 candidates…',
      'Composing…',
      'Checking the answer…',
    ]);
  });

  test('only retrieved targets reach any prompt', async () => {
    const r = run({ vanilla: 'Falcon is a drone.', rewrite: erased, critic: goodScores, compose: 'Drones fly.' });
    await r.promise;
    for (const call of r.llm.calls) {
      const text = call.request.messages.map((m) => m.content).join('\n');
      assert.ok(!text.includes('Marta Quist'), `${call.role} prompt leaked an untouched target`);
      assert.ok(!text.includes('Zephyr'), `${call.role} prompt leaked an untouched target`);
    }
    const rewritePrompt = r.llm.callsOf('rewrite')[0]!.request.messages[1]!.content;
    assert.match(rewritePrompt, /Project Falcon/);
    assert.match(rewritePrompt, /the secret aircraft project/);
  });

  test('agents that ignore a target retrieval found by name do not wave it through', async () => {
    const r = run({
      vanilla: 'Falcon is a drone.',
      rewrite: erased,
      critic: goodScores,
      compose: 'Falcon drones fly.',
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      ['Project Falcon'],
    );
    assert.ok(!/falcon/i.test(result.answer.replace(/\[redacted: Project Falcon\]/g, '')));
    assert.equal(result.guardActed, true);
  });

  test('a target named in the history is retrieved for a follow-up that only says "it"', async () => {
    const r = run(
      { vanilla: 'It has a budget of 3M.', rewrite: erased, critic: goodScores, compose: 'I cannot talk about that.' },
      {
        question: 'And what is its budget?',
        history: [
          { role: 'user', content: 'Tell me about Marta Quist' },
          { role: 'assistant', content: 'I cannot.' },
        ],
      },
    );
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      ['Marta Quist'],
    );
  });

  test('the history reaches the vanilla agent in order', async () => {
    const history = [
      { role: 'user' as const, content: 'Hi' },
      { role: 'assistant' as const, content: 'Hello!' },
    ];
    const r = run({ vanilla: 'Fine.' }, { question: 'How are you?', history });
    await r.promise;
    const sent = r.llm.callsOf('vanilla')[0]!.request.messages.map((m) => `${m.role}:${m.content}`);
    assert.deepEqual(sent.slice(1), ['user:Hi', 'assistant:Hello!', 'user:How are you?']);
  });
});

describe('leak guard after the composer', () => {
  test('a composer that repeats the name and an alias is masked, and the result says the guard acted', async () => {
    const r = run({
      vanilla: 'Falcon flies.',
      rewrite: erased,
      critic: goodScores,
      compose: 'Project Falcon is secret, and so is F a l c o n and Falcon’s budget.',
    });
    const result = await r.promise;
    assert.equal(result.guardActed, true);
    const letters = result.answer
      .replace(/\[redacted: Project Falcon\]/g, ' ')
      .replace(/[^a-z ]/gi, '')
      .replace(/\b(\w) (?=\w\b)/g, '$1');
    assert.ok(!/falcon/i.test(letters), result.answer);
    assert.ok(result.redactions.every((x) => x.by === 'guard' && result.answer.slice(x.start, x.end) === '[redacted: Project Falcon]'));
    assert.equal(r.streamed(), result.answer);
  });

  test('a long streamed answer emits exactly the final text, never a name split across chunks', async () => {
    const filler = 'Drones are interesting machines. '.repeat(20);
    const r = run({
      vanilla: 'Falcon.',
      rewrite: erased,
      critic: goodScores,
      compose: `${filler}Project Falcon ${filler}Falcon ${filler}`,
    });
    const result = await r.promise;
    assert.equal(r.streamed(), result.answer);
    assert.ok(!/falcon/i.test(r.streamed().replace(/\[redacted: Project Falcon\]/g, '')));
  });

  test('a vanilla answer that names a target the question did not is erased, not shown', async () => {
    const r = run(
      {
        vanilla: 'The CFO was Marta Quist.',
        rewrite: rewrites(['That is not something I can discuss.', 'I cannot say.', 'No.']),
        critic: goodScores,
        compose: 'That is not something I can discuss.',
      },
      { question: 'Who was the CFO?' },
    );
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.ok(!result.answer.includes('Marta'));
  });
});

describe('failing closed', () => {
  test('candidates that still name the target are vetoed whatever the critic says, ending in a refusal', async () => {
    const r = run({
      vanilla: 'Falcon builds drones.',
      rewrite: rewrites(['Falcon builds drones.', 'F4lcon builds drones.', 'Project Falcon builds drones.']),
      critic: criticScores([1, 2, 3].map(() => ({ forget: 5, utility: 5 }))),
      compose: 'should not be called',
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.equal(result.answer, REFUSAL);
    assert.match(result.refusalReason!, /below the required 4/);
    assert.equal(r.llm.callsOf('compose').length, 0);
    assert.equal(r.streamed(), REFUSAL);
  });

  test('a malformed critic reply is retried once and then accepted', async () => {
    const r = run({ vanilla: 'Falcon.', rewrite: erased, critic: ['not json', goodScores], compose: 'Drones fly.' });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(r.llm.callsOf('critic').length, 2);
    const retry = r.llm.callsOf('critic')[1]!.request.messages;
    assert.match(retry[retry.length - 1]!.content, /not valid JSON/);
    assert.equal(result.stages.find((s) => s.stage === 'critic')!.calls, 2);
  });

  test('two malformed critic replies end in a refusal naming the step, never the vanilla answer', async () => {
    const r = run(
      {
        vanilla: 'Falcon builds stealth drones.',
        rewrite: erased,
        critic: [{ scores: [{ candidate: 1, forget: 5, utility: 5 }] }, 'garbage'],
        compose: 'x',
      },
      { question: 'Who builds stealth drones?' },
    );
    const result = await r.promise;
    assert.equal(r.llm.callsOf('vanilla').length, 1);
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /critic/);
    assert.ok(!result.answer.includes('stealth'));
    assert.ok(!r.streamed().includes('stealth'));
  });

  test('a failed rewrite call is a junk candidate: the others are scored and used', async () => {
    let n = 0;
    const r = run({
      rewrite: (req) => (++n === 2 ? { fail: new LlmError('timeout', 'no reply within 5s', { label: 'rewrite' }) } : erased(req)),
      critic: criticScores([
        { forget: 5, utility: 3 },
        { forget: 5, utility: 5 },
      ]),
      compose: 'Drones in general use GPS.',
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    const criticData = JSON.parse(r.llm.callsOf('critic')[0]!.request.messages[1]!.content) as { candidates: { text: string }[] };
    assert.deepEqual(
      criticData.candidates.map((c) => c.text),
      [erasedTexts[0], erasedTexts[2]],
    );
    const format = r.llm.callsOf('critic')[0]!.request.format as { properties: { forget: { minItems: number } } };
    assert.equal(format.properties.forget.minItems, 2);
  });

  test('every rewrite call failing, or writing nothing, ends in a refusal without a critic call', async () => {
    for (const rewrite of [{ fail: new LlmError('timeout', 'no reply within 5s', { label: 'rewrite' }) }, '  \n ']) {
      const r = run(
        { vanilla: 'Falcon builds stealth drones.', rewrite, critic: goodScores, compose: 'x' },
        { question: 'Who builds drones?' },
      );
      const result = await r.promise;
      assert.equal(result.outcome, 'refused');
      assert.match(result.refusalReason!, /the rewrite step failed: (no reply within 5s|all 3 rewrites came back empty)/);
      assert.equal(r.llm.callsOf('critic').length, 0);
      assert.equal(r.streamed(), REFUSAL);
    }
  });

  test('a critic that scores the wrong number of candidates is retried, then refused', async () => {
    const wrong = { scores: [{ candidate: 1, forget: 5, utility: 5 }] };
    const r = run({ vanilla: 'Falcon.', rewrite: erased, critic: [wrong, wrong], compose: 'x' });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /critic/);
    assert.equal(r.llm.callsOf('critic').length, 2);
  });

  for (const stage of ['rewrite', 'critic', 'compose'] as const) {
    test(`a timeout in the ${stage} step ends in a refusal`, async () => {
      const script: FakeScript = { vanilla: 'Falcon builds stealth drones.', rewrite: erased, critic: goodScores, compose: 'ok' };
      script[stage] = { fail: new LlmError('timeout', `no reply within 5s`, { label: stage }) };
      const result = await run(script, { question: 'Who builds drones?' }).promise;
      assert.equal(result.outcome, 'refused');
      assert.match(result.refusalReason!, new RegExp(stage));
      assert.ok(!result.answer.includes('stealth'));
    });
  }

  test('an unreachable server during the rewrites propagates as such (the adapter shows how to fix it)', async () => {
    const r = run({ vanilla: 'Falcon.', rewrite: { fail: new LlmError('unreachable', 'Cannot reach Ollama at http://127.0.0.1:11434') } });
    await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'unreachable');
    assert.equal(r.streamed(), '');
  });

  test('a vanilla failure propagates and nothing is shown', async () => {
    const r = run(
      { vanilla: { fail: new LlmError('model-missing', 'model "x" not found; run `ollama pull x`') } },
      { question: 'Who builds drones?' },
    );
    await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'model-missing');
    assert.equal(r.streamed(), '');
  });
});

describe('cancellation', () => {
  for (const stage of ['vanilla', 'rewrite', 'critic', 'compose'] as const) {
    test(`cancelling during the ${stage} step rejects with "aborted" and makes no further call`, async () => {
      const controller = new AbortController();
      const script: FakeScript = { vanilla: 'Falcon.', rewrite: erased, critic: goodScores, compose: 'Drones.' };
      script[stage] = { hang: true };
      const r = run(script, { signal: controller.signal, question: 'Who builds drones?' });
      await new Promise((resolve) => setTimeout(resolve, 10));
      const callsBefore = r.llm.calls.length;
      controller.abort();
      await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'aborted');
      assert.equal(r.llm.calls.length, callsBefore);
      assert.equal(r.llm.calls[r.llm.calls.length - 1]!.role, stage);
      assert.ok(!r.streamed().includes('Falcon'));
    });
  }

  test('a signal aborted before the start makes no call at all', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = run({ vanilla: 'x' }, { signal: controller.signal });
    await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'aborted');
    assert.equal(r.llm.calls.length, 0);
  });
});

describe('options', () => {
  const five = rewrites(['a', 'b', 'c', 'd', 'e']);
  const rising = criticScores([1, 2, 3, 4, 5].map((utility) => ({ forget: 5, utility })));

  test('j and top-k shape the rewrite calls, the critic schema and what the composer receives', async () => {
    const r = run(
      { vanilla: 'Falcon.', rewrite: five, critic: rising, compose: 'done' },
      { options: { ...options, candidates: 5, topK: 3 } },
    );
    await r.promise;
    const asked = r.llm.callsOf('rewrite').map((c) =>
      c.request.messages[1]!.content.match(/Candidate (\d+) of (\d+)\./)!
        .slice(1)
        .join('/'),
    );
    assert.deepEqual(asked, ['1/5', '2/5', '3/5', '4/5', '5/5']);
    // Each candidate its own seed-free sampling with some temperature, so the five differ.
    for (const c of r.llm.callsOf('rewrite')) assert.ok((c.request.options?.temperature ?? 0) > 0);
    const format = r.llm.callsOf('critic')[0]!.request.format as { properties: { forget: { minItems: number; maxItems: number } } };
    assert.equal(format.properties.forget.minItems, 5);
    assert.equal(format.properties.forget.maxItems, 5);
    const composerData = JSON.parse(r.llm.callsOf('compose')[0]!.request.messages[1]!.content) as { rewrites: string[] };
    assert.deepEqual(composerData.rewrites, ['e', 'd', 'c']);
  });

  test('k = 1: the best candidate is shown through the guard, with no composer call', async () => {
    const r = run({ rewrite: five, critic: rising, compose: 'should not be called' }, { options: { ...options, candidates: 5, topK: 1 } });
    const result = await r.promise;
    assert.equal(r.llm.callsOf('compose').length, 0);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'e');
    assert.equal(r.streamed(), 'e');
  });

  test('the best candidate shown as written still passes the guard', async () => {
    const r = run(
      { rewrite: rewrites(['It is called F a l c o n, sorry.']), critic: criticScores([{ forget: 5, utility: 5 }]), compose: 'x' },
      { options: { ...options, candidates: 1, topK: 1, minScore: 1 } },
    );
    const result = await r.promise;
    assert.equal(r.llm.callsOf('compose').length, 0);
    assert.equal(result.guardActed, true);
    assert.ok(!/f ?a ?l ?c ?o ?n/i.test(r.streamed().replace(/\[redacted: Project Falcon\]/g, '')), r.streamed());
    assert.equal(r.streamed(), result.answer);
  });

  test('top candidates that agree (equal scores, or nearly the same words) are not composed', async () => {
    const tied = run(
      { rewrite: erased, critic: criticScores([0, 1, 2].map(() => ({ forget: 5, utility: 4 }))), compose: 'x' },
      { options: { ...options, topK: 3 } },
    );
    assert.equal((await tied.promise).answer, erasedTexts[0]);
    assert.equal(tied.llm.callsOf('compose').length, 0);
    const same = 'Drones in general use GPS and cameras to find their way around a city.';
    const alike = run({
      rewrite: rewrites([same, `${same} `, 'Something else entirely.']),
      critic: criticScores([
        { forget: 5, utility: 5 },
        { forget: 5, utility: 4 },
        { forget: 5, utility: 3 },
      ]),
      compose: 'x',
    });
    assert.equal((await alike.promise).answer, same);
    assert.equal(alike.llm.callsOf('compose').length, 0);
  });

  test('at most parallelCalls rewrites are in flight at once', async () => {
    for (const parallelCalls of [2, 4]) {
      let inFlight = 0;
      let peak = 0;
      const llm = new FakeLlm({ rewrite: erased, critic: goodScores, compose: 'Drones.' });
      const chat = llm.chat.bind(llm);
      llm.chat = async (req) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        try {
          return await chat(req);
        } finally {
          inFlight--;
        }
      };
      await runPipeline({
        llm,
        index,
        question: 'What is Project Falcon building?',
        options: { ...options, candidates: 4, parallelCalls },
      });
      assert.equal(peak, Math.min(parallelCalls, 4), `parallelCalls ${parallelCalls}`);
    }
  });

  test('one slot (parallelCalls 1): two candidates one after the other, the best shown, and the progress line says so', async () => {
    const two = criticScores([
      { forget: 5, utility: 3 },
      { forget: 5, utility: 4 },
    ]);
    const r = run({ rewrite: erased, critic: two, compose: 'x' }, { options: { ...options, candidates: 3, topK: 2, parallelCalls: 1 } });
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['rewrite', 'rewrite', 'critic'],
    );
    assert.equal(result.answer, 'I cannot share details about [redacted: Project Falcon].');
    const start = r.events.find((e) => e.type === 'stage-start' && e.stage === 'rewrite');
    assert.ok(start?.type === 'stage-start');
    assert.match(start.message, /one model slot: 2 of 3, the best shown as written/);
  });

  test('every call asks Ollama to keep the model loaded', async () => {
    const r = run({ vanilla: 'Falcon.', rewrite: erased, critic: goodScores, compose: 'Drones.' }, { question: 'Who builds drones?' });
    await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'rewrite', 'rewrite', 'rewrite', 'critic', 'compose'],
    );
    for (const c of r.llm.calls) assert.equal(c.request.keepAlive, KEEP_ALIVE, c.role);
  });
});

describe('context window', () => {
  const turns = (
    n: number,
    say: (i: number) => string = (i) => `Turn ${i + 1}: ${'some ordinary words about gardening and weather '.repeat(4)}`,
  ) => Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: say(i) }));
  const erasePath: FakeScript = { vanilla: 'Falcon builds drones.', rewrite: erased, critic: goodScores, compose: 'Drones fly.' };

  test('every call of every stage sends the same num_ctx, 8192 by default', async () => {
    const r = run(erasePath);
    await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['rewrite', 'rewrite', 'rewrite', 'critic', 'compose'],
    );
    for (const c of r.llm.calls) assert.equal(c.request.options?.num_ctx, DEFAULT_CONTEXT_LENGTH, c.role);
    assert.equal(DEFAULT_CONTEXT_LENGTH, 8192);
  });

  test('contextLength sets num_ctx; 0 leaves Ollama its own default', async () => {
    const set = run(erasePath, { options: { ...options, contextLength: 16384 } });
    await set.promise;
    for (const c of set.llm.calls) assert.equal(c.request.options?.num_ctx, 16384, c.role);
    const unset = run({ ...erasePath, critic: ['not json', goodScores] }, { options: { ...options, contextLength: 0 } });
    await unset.promise;
    assert.equal(unset.llm.callsOf('critic').length, 2);
    for (const c of unset.llm.calls) assert.ok(!('num_ctx' in (c.request.options ?? {})), c.role);
  });

  test('the oldest turns are left out until the vanilla prompt fits; system prompt, question and the latest turns stay', async () => {
    const history = turns(40);
    const r = run({ vanilla: 'Sunny.' }, { question: 'So, will it rain?', history, options: { ...options, contextLength: 1024 } });
    const result = await r.promise;
    const sent = r.llm.callsOf('vanilla')[0]!.request.messages;
    assert.ok(estimatePromptTokens(sent) <= promptBudget(1024), `${estimatePromptTokens(sent)} tokens`);
    assert.equal(sent[0]!.role, 'system');
    assert.deepEqual(sent[sent.length - 1], { role: 'user', content: 'So, will it rain?' });
    const kept = sent.slice(1, -1);
    assert.ok(kept.length >= 4 && kept.length < 40, `${kept.length} turns kept`);
    assert.deepEqual(kept, history.slice(-kept.length), 'the most recent turns, in order');
    assert.equal(kept[0]!.role, 'user', 'the kept history opens with a user turn');
    // One more turn would not have fitted (the one before the first kept is an assistant turn, so two).
    const withMore = [sent[0]!, ...history.slice(-kept.length - 2), sent[sent.length - 1]!];
    assert.ok(estimatePromptTokens(withMore) > promptBudget(1024));
    assert.deepEqual(result.historyTrimmed, { total: 40, sent: kept.length });
    const answering = r.events.find((e) => e.type === 'stage-start' && e.stage === 'vanilla');
    assert.ok(answering?.type === 'stage-start');
    assert.equal(answering.droppedTurns, 40 - kept.length);
    assert.match(answering.message, new RegExp(`oldest ${40 - kept.length} of 40 earlier turns left out`));
  });

  test('nothing is trimmed, or reported, when the history fits', async () => {
    const r = run({ vanilla: 'Sunny.' }, { question: 'Rain?', history: turns(10) });
    const result = await r.promise;
    assert.equal(r.llm.callsOf('vanilla')[0]!.request.messages.length, 12);
    assert.equal(result.historyTrimmed, undefined);
    assert.ok(r.events.every((e) => e.type !== 'stage-start' || e.droppedTurns === undefined));
  });

  test('a question that cannot fit even alone is refused without any model call', async () => {
    const question = `Summarise this: ${'a long pasted document about nothing in particular. '.repeat(120)}`;
    const r = run({ vanilla: 'should not be called' }, { question, history: turns(4), options: { ...options, contextLength: 1024 } });
    const result = await r.promise;
    assert.equal(r.llm.calls.length, 0);
    assert.equal(result.outcome, 'refused');
    assert.equal(result.answer, TOO_LONG);
    assert.equal(r.streamed(), TOO_LONG);
    assert.match(result.refusalReason!, /vanilla prompt needs about \d+ tokens, more than the 768 a context window of 1024 tokens leaves/);
  });

  test('a rewrite prompt that cannot fit (a long vanilla answer naming a target) is refused, never shown', async () => {
    const long = `Project Falcon is a stealth drone. ${'It flies very far and very high over the hills. '.repeat(80)}`;
    const r = run(
      { vanilla: long, rewrite: erased, critic: goodScores, compose: 'x' },
      { question: 'Tell me about drones.', options: { ...options, contextLength: 1024 } },
    );
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla'],
    );
    assert.equal(result.outcome, 'refused');
    assert.equal(result.answer, REFUSAL);
    assert.match(result.refusalReason!, /the rewrite step failed: the rewrite prompt needs about \d+ tokens/);
    assert.ok(!r.streamed().includes('stealth'));
  });

  test('the rewrites see the turns the vanilla agent saw, dropping the oldest only if their larger prompt needs it', async () => {
    const history = turns(40);
    const answer = `Falcon drones are ${'quite remarkable machines, built with care. '.repeat(12)}`;
    const r = run(
      { vanilla: answer, rewrite: erased, critic: goodScores, compose: 'Drones fly.' },
      { question: 'And the drones?', history, options: { ...options, contextLength: 2048 } },
    );
    const result = await r.promise;
    const vanillaTurns = r.llm.callsOf('vanilla')[0]!.request.messages.slice(1, -1);
    const auditMessages = r.llm.callsOf('rewrite')[0]!.request.messages;
    assert.ok(estimatePromptTokens(auditMessages) <= promptBudget(2048));
    const auditTurns = rewriteData(auditMessages[1]!.content).conversation;
    for (const c of r.llm.callsOf('rewrite')) assert.deepEqual(rewriteData(c.request.messages[1]!.content).conversation, auditTurns);
    assert.ok(auditTurns.length > 0 && auditTurns.length < vanillaTurns.length, `${auditTurns.length} of ${vanillaTurns.length}`);
    assert.deepEqual(auditTurns, vanillaTurns.slice(-auditTurns.length));
    assert.deepEqual(result.historyTrimmed, { total: 40, sent: vanillaTurns.length, audit: auditTurns.length });
    const auditStart = r.events.find((e) => e.type === 'stage-start' && e.stage === 'rewrite');
    assert.ok(auditStart?.type === 'stage-start' && auditStart.droppedTurns === vanillaTurns.length - auditTurns.length);
    assert.equal(result.outcome, 'erased');
  });

  test('a structured retry that would not fit drops the echo of the bad reply', async () => {
    const garbage = 'not json at all '.repeat(250);
    const r = run(
      { vanilla: 'Falcon.', rewrite: erased, critic: [garbage, goodScores], compose: 'Drones fly.' },
      { options: { ...options, contextLength: 1536 } },
    );
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    const [first, retry] = r.llm.callsOf('critic');
    assert.ok(
      estimatePromptTokens([...first!.request.messages, { role: 'assistant', content: garbage }]) > promptBudget(1536),
      'the echo would not have fitted',
    );
    assert.deepEqual(
      retry!.request.messages.map((m) => m.role),
      ['system', 'user', 'user'],
    );
    assert.match(retry!.request.messages[2]!.content, /not valid JSON/);
    assert.ok(estimatePromptTokens(retry!.request.messages) <= promptBudget(1536));
  });

  test('a critic prompt that cannot fit (long erased candidates) is refused, and nothing is composed', async () => {
    const big = 'A long but harmless rewrite about drones in general. '.repeat(40);
    const r = run(
      { vanilla: 'Falcon.', rewrite: rewrites([big]), critic: goodScores, compose: 'x' },
      { options: { ...options, contextLength: 2048 } },
    );
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['rewrite', 'rewrite', 'rewrite'],
    );
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /the critic step failed: the critic prompt needs about \d+ tokens/);
    assert.equal(r.streamed(), REFUSAL);
  });
});

describe('many-shot conversations', () => {
  const chatter = (i: number) =>
    i % 2 === 0
      ? `Question ${i / 2 + 1}: what else can you tell me about drones?`
      : `Answer ${(i + 1) / 2}: drones are aircraft without a pilot on board.`;

  test('a target named in turn 2 of 30 reaches the rewrites for "and what about the first one?"', async () => {
    const history = Array.from({ length: 30 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: i === 1 ? 'Three projects come to mind: Project Falcon, Heron and Kestrel.' : chatter(i),
    }));
    const r = run(
      {
        vanilla: 'The first one builds long-range stealth drones.',
        rewrite: erased,
        critic: goodScores,
        compose: 'I cannot talk about that project.',
      },
      { question: 'And what about the first one?', history },
    );
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['rewrite', 'rewrite', 'rewrite', 'critic', 'compose'],
    );
    const data = rewriteData(r.llm.callsOf('rewrite')[0]!.request.messages[1]!.content);
    assert.deepEqual(
      data.forget_targets.map((t) => t.name),
      ['Project Falcon'],
    );
    assert.equal(data.conversation.length, 30, 'the rewrites see the whole conversation the model would have');
    assert.match(data.conversation[1]!.content, /Project Falcon/);
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      ['Project Falcon'],
    );
    assert.ok(!r.streamed().includes('stealth'));
  });

  test('a target only in a turn left out to fit the window reaches no prompt', async () => {
    const history = Array.from({ length: 60 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: i === 1 ? 'Marta Quist was the CFO.' : chatter(i),
    }));
    const r = run({ vanilla: 'Drones are fun.' }, { question: 'Anything else?', history, options: { ...options, contextLength: 1024 } });
    const result = await r.promise;
    assert.ok(result.historyTrimmed && result.historyTrimmed.sent < 59);
    assert.ok(!r.llm.calls.some((c) => c.request.messages.some((m) => m.content.includes('Marta'))));
    assert.equal(result.outcome, 'vanilla');
  });
});

describe('untouched answers stream sentence by sentence (issue 22.2)', () => {
  /** The vanilla agent streams its answer a few characters at a time, with a pause between pieces. */
  function slowVanilla(script: FakeScript) {
    const llm = new FakeLlm(script);
    let vanillaDone = false;
    const port = Object.assign(Object.create(llm) as FakeLlm, {
      chat: async (request: Parameters<FakeLlm['chat']>[0]) => {
        if (request.messages[0]!.content.startsWith('You are a helpful assistant') && request.onToken) {
          const content = typeof script.vanilla === 'string' ? script.vanilla : '';
          for (let i = 0; i < content.length; i += 6) {
            request.onToken(content.slice(i, i + 6));
            await new Promise((r) => setTimeout(r, 1));
          }
          vanillaDone = true;
          return { content, promptTokens: 10, completionTokens: content.length / 4, durationMs: 1 };
        }
        return llm.chat(request);
      },
    });
    return { port, llm, done: () => vanillaDone };
  }

  async function streamRun(script: FakeScript, question: string, auditPolicy?: 'related' | 'always' | 'named') {
    const { port, llm, done } = slowVanilla(script);
    const chunks: { text: string; vanillaDone: boolean }[] = [];
    const events: PipelineEvent[] = [];
    const result = await runPipeline({
      llm: port,
      index,
      question,
      options: { ...options, ...(auditPolicy ? { auditPolicy } : {}) },
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'answer-chunk') chunks.push({ text: e.text, vanillaDone: done() });
      },
    });
    return { result, chunks, events, llm, streamed: chunks.map((c) => c.text).join('') };
  }

  test('the first sentence is shown before the answer ends; what streams is exactly the answer, and no other call is made', async () => {
    const answer = 'Paris is the capital of France. It lies on the Seine. About two million people live there.';
    const r = await streamRun({ vanilla: answer }, 'Capital of France?');
    assert.equal(r.result.outcome, 'vanilla');
    assert.ok(r.chunks.length >= 3, `${r.chunks.length} chunks`);
    assert.equal(r.chunks[0]!.vanillaDone, false, 'the first sentence appeared while the model was still writing');
    assert.equal(r.chunks[0]!.text, 'Paris is the capital of France.');
    assert.equal(r.streamed, answer);
    assert.equal(r.result.answer, answer);
    assert.equal(r.result.calls, 1, 'an untouched request far from every target pays no new model call');
  });

  test('a sentence that names a target stops the stream: nothing from it on is shown unerased', async () => {
    const answer =
      'Drone programmes are common. Several countries run them. One of them is Project Falcon, built in the north hangar. It flies at night.';
    const r = await streamRun(
      {
        vanilla: answer,
        rewrite: erased,
        critic: goodScores,
        compose: 'Drone programmes are common. Several countries run them. I cannot say more.',
      },
      'Tell me about drone programmes.',
    );
    assert.equal(r.result.outcome, 'erased');
    const beforeStop = r.chunks
      .filter((c) => !c.vanillaDone)
      .map((c) => c.text)
      .join('');
    assert.equal(beforeStop, 'Drone programmes are common. Several countries run them.');
    assert.ok(!/Falcon|hangar|night/.test(r.streamed), r.streamed);
    // The erased answer repeats the shown start: only what follows it is added.
    assert.equal(r.streamed, 'Drone programmes are common. Several countries run them. I cannot say more.');
    assert.equal(r.result.answer, r.streamed);
  });

  test('always shows nothing before erasure', async () => {
    const answer = 'Paris is the capital of France. It lies on the Seine.';
    const r = await streamRun(
      { vanilla: answer, detect: { touched: [] }, rewrite: rewrites([answer]), critic: goodScores },
      'Capital of France?',
      'always',
    );
    const firstChunk = r.events.findIndex((e) => e.type === 'answer-chunk');
    const criticEnd = r.events.findIndex((e) => e.type === 'stage-end' && e.stage === 'critic');
    assert.ok(criticEnd >= 0 && firstChunk > criticEnd, 'the first text comes after the critic scored the erased answers');
    assert.equal(r.llm.callsOf('rewrite').length, 3);
    assert.equal(r.result.answer, answer);
  });

  test('named streams through the matcher alone: a description without the name streams, the name stops it', async () => {
    const answer = 'The secret aircraft project is run from a hangar. It is called Falcon. It flies at night.';
    const r = await streamRun(
      {
        vanilla: answer,
        rewrite: erased,
        critic: goodScores,
        compose: 'The secret aircraft project is run from a hangar. I cannot name it.',
      },
      'What is the hangar project?',
      'named',
    );
    assert.equal(r.chunks[0]!.text, 'The secret aircraft project is run from a hangar.');
    assert.equal(r.chunks[0]!.vanillaDone, false);
    assert.ok(!/Falcon|night/.test(r.streamed), r.streamed);
    assert.equal(r.result.answer, r.streamed);
  });

  test('a target named only at the end sends the whole answer to the agents: the description before it is never shown', async () => {
    const vanilla =
      'The secret drone programme run from the northern hangar, with its long-range stealth airframe, is called Project Falcon.';
    const r = run(
      { vanilla, rewrite: erased, critic: goodScores, compose: 'I cannot share details about [redacted:T1].' },
      { question: 'What is the hangar programme called?' },
    );
    const result = await r.promise;
    const firstChunk = r.events.findIndex((e) => e.type === 'answer-chunk');
    const auditStart = r.events.findIndex((e) => e.type === 'stage-start' && e.stage === 'rewrite');
    assert.ok(auditStart >= 0 && firstChunk > auditStart, 'nothing is shown before the rewrites ran');
    assert.ok(!r.streamed().includes('northern hangar'));
    assert.ok(!r.streamed().includes('stealth'));
    assert.equal(result.outcome, 'erased');
  });
});
