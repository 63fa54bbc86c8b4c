import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline, REFUSAL, type PipelineEvent, type PipelineInput } from '../../src/core/pipeline';
import { buildTargetIndex } from '../../src/core/guard';
import { parseTargets } from '../../src/core/targets';
import { LlmError } from '../../src/core/llm/errors';
import { FakeLlm, type FakeScript } from '../support/fakeLlm';

const { targets } = parseTargets([
  { name: 'Project Falcon', aliases: ['Falcon'], description: 'the secret drone project' },
  { name: 'Marta Quist', description: 'former CFO' },
  { name: 'Zephyr Holdings' },
]);
const index = buildTargetIndex(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 5000, totalTimeoutMs: 10000 };

const erased = {
  touched: [{ target: 'T1', how: 'named' }],
  candidates: ['The project you mention is confidential, so I cannot describe it.', 'I cannot share details about [redacted:T1].', 'Drones in general use GPS.'],
};
const goodScores = { scores: [{ candidate: 1, forget: 5, utility: 3 }, { candidate: 2, forget: 5, utility: 4 }, { candidate: 3, forget: 4, utility: 5 }] };

function run(script: FakeScript, extra: Partial<PipelineInput> = {}) {
  const llm = new FakeLlm(script);
  const events: PipelineEvent[] = [];
  const promise = runPipeline({ llm, index, question: 'What is Project Falcon building?', options, onEvent: (e) => events.push(e), ...extra });
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
    assert.deepEqual(r.llm.calls.map((c) => c.role), ['vanilla']);
  });

  test('a target in the question: audit, critic and composer run, in that order, and the composed answer is returned', async () => {
    const r = run({ vanilla: 'Project Falcon builds stealth drones for Zephyr Holdings.', audit: erased, critic: goodScores, compose: 'I cannot share details about [redacted:T1]. Drones in general use GPS.' });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(r.llm.calls.map((c) => c.role), ['vanilla', 'audit', 'critic', 'compose']);
    assert.equal(result.answer, 'I cannot share details about [redacted: Project Falcon]. Drones in general use GPS.');
    assert.equal(result.redactions.length, 1);
    const [red] = result.redactions;
    assert.equal(result.answer.slice(red!.start, red!.end), '[redacted: Project Falcon]');
    assert.equal(red!.by, 'agents');
    assert.equal(result.guardActed, false);
    assert.equal(r.streamed(), result.answer);
    assert.deepEqual(result.touchedTargets.map((t) => t.name).sort(), ['Project Falcon', 'Zephyr Holdings']);
  });

  test('progress events name each stage with counts', async () => {
    const r = run({ vanilla: 'Falcon is a drone.', audit: erased, critic: goodScores, compose: 'Drones fly.' });
    await r.promise;
    const starts = r.events.filter((e) => e.type === 'stage-start').map((e) => (e.type === 'stage-start' ? e.message : ''));
    assert.deepEqual(starts, ['Finding forget targets…', 'Answering…', 'Auditing for 1 target…', 'Scoring 3 candidates…', 'Composing…', 'Checking the answer…']);
  });

  test('only retrieved targets reach any prompt', async () => {
    const r = run({ vanilla: 'Falcon is a drone.', audit: erased, critic: goodScores, compose: 'Drones fly.' });
    await r.promise;
    for (const call of r.llm.calls) {
      const text = call.request.messages.map((m) => m.content).join('\n');
      assert.ok(!text.includes('Marta Quist'), `${call.role} prompt leaked an untouched target`);
      assert.ok(!text.includes('Zephyr'), `${call.role} prompt leaked an untouched target`);
    }
    const auditPrompt = r.llm.callsOf('audit')[0]!.request.messages[1]!.content;
    assert.match(auditPrompt, /Project Falcon/);
    assert.match(auditPrompt, /the secret drone project/);
  });

  test('an audit that reports no target does not wave through a target retrieval found by name', async () => {
    const r = run({ vanilla: 'Falcon is a drone.', audit: { touched: [], candidates: erased.candidates }, critic: goodScores, compose: 'Falcon drones fly.' });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.ok(!/falcon/i.test(result.answer.replace(/\[redacted: Project Falcon\]/g, '')));
    assert.equal(result.guardActed, true);
  });

  test('a target named in the history is retrieved for a follow-up that only says "it"', async () => {
    const r = run(
      { vanilla: 'It has a budget of 3M.', audit: erased, critic: goodScores, compose: 'I cannot talk about that.' },
      { question: 'And what is its budget?', history: [{ role: 'user', content: 'Tell me about Marta Quist' }, { role: 'assistant', content: 'I cannot.' }] },
    );
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(result.touchedTargets.map((t) => t.name), ['Marta Quist']);
  });

  test('the history reaches the vanilla agent in order', async () => {
    const history = [{ role: 'user' as const, content: 'Hi' }, { role: 'assistant' as const, content: 'Hello!' }];
    const r = run({ vanilla: 'Fine.' }, { question: 'How are you?', history });
    await r.promise;
    const sent = r.llm.callsOf('vanilla')[0]!.request.messages.map((m) => `${m.role}:${m.content}`);
    assert.deepEqual(sent.slice(1), ['user:Hi', 'assistant:Hello!', 'user:How are you?']);
  });
});

describe('leak guard after the composer', () => {
  test('a composer that repeats the name and an alias is masked, and the result says the guard acted', async () => {
    const r = run({ vanilla: 'Falcon flies.', audit: erased, critic: goodScores, compose: 'Project Falcon is secret, and so is F a l c o n and Falcon’s budget.' });
    const result = await r.promise;
    assert.equal(result.guardActed, true);
    const letters = result.answer.replace(/\[redacted: Project Falcon\]/g, ' ').replace(/[^a-z ]/gi, '').replace(/\b(\w) (?=\w\b)/g, '$1');
    assert.ok(!/falcon/i.test(letters), result.answer);
    assert.ok(result.redactions.every((x) => x.by === 'guard' && result.answer.slice(x.start, x.end) === '[redacted: Project Falcon]'));
    assert.equal(r.streamed(), result.answer);
  });

  test('a long streamed answer emits exactly the final text, never a name split across chunks', async () => {
    const filler = 'Drones are interesting machines. '.repeat(20);
    const r = run({ vanilla: 'Falcon.', audit: erased, critic: goodScores, compose: `${filler}Project Falcon ${filler}Falcon ${filler}` });
    const result = await r.promise;
    assert.equal(r.streamed(), result.answer);
    assert.ok(!/falcon/i.test(r.streamed().replace(/\[redacted: Project Falcon\]/g, '')));
  });

  test('a vanilla answer that names a target the question did not is erased, not shown', async () => {
    const r = run({ vanilla: 'The CFO was Marta Quist.', audit: { touched: [{ target: 'T1', how: 'named' }], candidates: ['The CFO is not something I can discuss.', 'I cannot say.', 'No.'] }, critic: goodScores, compose: 'The CFO is not something I can discuss.' }, { question: 'Who was the CFO?' });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.ok(!result.answer.includes('Marta'));
  });
});

describe('failing closed', () => {
  test('candidates that still name the target are vetoed whatever the critic says, ending in a refusal', async () => {
    const r = run({
      vanilla: 'Falcon builds drones.',
      audit: { touched: [{ target: 'T1', how: 'named' }], candidates: ['Falcon builds drones.', 'F4lcon builds drones.', 'Project Falcon builds drones.'] },
      critic: { scores: [1, 2, 3].map((candidate) => ({ candidate, forget: 5, utility: 5 })) },
      compose: 'should not be called',
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.equal(result.answer, REFUSAL);
    assert.match(result.refusalReason!, /below the required 4/);
    assert.equal(r.llm.callsOf('compose').length, 0);
    assert.equal(r.streamed(), REFUSAL);
  });

  test('a malformed audit reply is retried once and then accepted', async () => {
    const r = run({ vanilla: 'Falcon.', audit: ['not json', erased], critic: goodScores, compose: 'Drones fly.' });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(r.llm.callsOf('audit').length, 2);
    const retry = r.llm.callsOf('audit')[1]!.request.messages;
    assert.match(retry[retry.length - 1]!.content, /not valid JSON/);
    assert.equal(result.stages.find((s) => s.stage === 'audit')!.calls, 2);
  });

  test('two malformed audit replies end in a refusal naming the step, never the vanilla answer', async () => {
    const r = run({ vanilla: 'Falcon builds stealth drones.', audit: [{ touched: [], candidates: ['only one'] }, 'garbage'], critic: goodScores, compose: 'x' });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /audit/);
    assert.ok(!result.answer.includes('stealth'));
  });

  test('a critic that scores the wrong number of candidates is retried, then refused', async () => {
    const wrong = { scores: [{ candidate: 1, forget: 5, utility: 5 }] };
    const r = run({ vanilla: 'Falcon.', audit: erased, critic: [wrong, wrong], compose: 'x' });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /critic/);
    assert.equal(r.llm.callsOf('critic').length, 2);
  });

  for (const stage of ['audit', 'critic', 'compose'] as const) {
    test(`a timeout in the ${stage} step ends in a refusal`, async () => {
      const script: FakeScript = { vanilla: 'Falcon builds stealth drones.', audit: erased, critic: goodScores, compose: 'ok' };
      script[stage] = { fail: new LlmError('timeout', `no reply within 5s`, { label: stage }) };
      const result = await run(script).promise;
      assert.equal(result.outcome, 'refused');
      assert.match(result.refusalReason!, new RegExp(stage));
      assert.ok(!result.answer.includes('stealth'));
    });
  }

  test('an unreachable server during the audit propagates as such (the adapter shows how to fix it)', async () => {
    const r = run({ vanilla: 'Falcon.', audit: { fail: new LlmError('unreachable', 'Cannot reach Ollama at http://127.0.0.1:11434') } });
    await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'unreachable');
    assert.equal(r.streamed(), '');
  });

  test('a vanilla failure propagates and nothing is shown', async () => {
    const r = run({ vanilla: { fail: new LlmError('model-missing', 'model "x" not found; run `ollama pull x`') } });
    await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'model-missing');
    assert.equal(r.streamed(), '');
  });
});

describe('cancellation', () => {
  for (const stage of ['vanilla', 'audit', 'critic', 'compose'] as const) {
    test(`cancelling during the ${stage} step rejects with "aborted" and makes no further call`, async () => {
      const controller = new AbortController();
      const script: FakeScript = { vanilla: 'Falcon.', audit: erased, critic: goodScores, compose: 'Drones.' };
      script[stage] = { hang: true };
      const r = run(script, { signal: controller.signal });
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
  test('j and top-k shape the audit schema and what the composer receives', async () => {
    const five = { touched: [{ target: 'T1', how: 'named' }], candidates: ['a', 'b', 'c', 'd', 'e'] };
    const scores = { scores: [1, 2, 3, 4, 5].map((candidate) => ({ candidate, forget: 5, utility: candidate })) };
    const r = run({ vanilla: 'Falcon.', audit: five, critic: scores, compose: 'done' }, { options: { ...options, candidates: 5, topK: 3 } });
    await r.promise;
    const format = r.llm.callsOf('audit')[0]!.request.format as { properties: { candidates: { minItems: number } } };
    assert.equal(format.properties.candidates.minItems, 5);
    const composerData = JSON.parse(r.llm.callsOf('compose')[0]!.request.messages[1]!.content) as { rewrites: string[] };
    assert.deepEqual(composerData.rewrites, ['e', 'd', 'c']);
  });
});
