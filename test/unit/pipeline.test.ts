import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CONTEXT_LENGTH,
  estimatePromptTokens,
  promptBudget,
  runPipeline,
  REFUSAL,
  TOO_LONG,
  type PipelineEvent,
  type PipelineInput,
} from '../../src/core/pipeline';
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
  candidates: [
    'The project you mention is confidential, so I cannot describe it.',
    'I cannot share details about [redacted:T1].',
    'Drones in general use GPS.',
  ],
};
const goodScores = {
  scores: [
    { candidate: 1, forget: 5, utility: 3 },
    { candidate: 2, forget: 5, utility: 4 },
    { candidate: 3, forget: 4, utility: 5 },
  ],
};

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

  test('a target in the question: audit, critic and composer run, in that order, and the composed answer is returned', async () => {
    const r = run({
      vanilla: 'Project Falcon builds stealth drones for Zephyr Holdings.',
      audit: erased,
      critic: goodScores,
      compose: 'I cannot share details about [redacted:T1]. Drones in general use GPS.',
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'audit', 'critic', 'compose'],
    );
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
    assert.deepEqual(starts, [
      'Finding forget targets…',
      'Answering…',
      'Auditing for 1 target…',
      'Scoring 3 candidates…',
      'Composing…',
      'Checking the answer…',
    ]);
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
    const r = run({
      vanilla: 'Falcon is a drone.',
      audit: { touched: [], candidates: erased.candidates },
      critic: goodScores,
      compose: 'Falcon drones fly.',
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.ok(!/falcon/i.test(result.answer.replace(/\[redacted: Project Falcon\]/g, '')));
    assert.equal(result.guardActed, true);
  });

  test('a target named in the history is retrieved for a follow-up that only says "it"', async () => {
    const r = run(
      { vanilla: 'It has a budget of 3M.', audit: erased, critic: goodScores, compose: 'I cannot talk about that.' },
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
      audit: erased,
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
    const r = run({ vanilla: 'Falcon.', audit: erased, critic: goodScores, compose: `${filler}Project Falcon ${filler}Falcon ${filler}` });
    const result = await r.promise;
    assert.equal(r.streamed(), result.answer);
    assert.ok(!/falcon/i.test(r.streamed().replace(/\[redacted: Project Falcon\]/g, '')));
  });

  test('a vanilla answer that names a target the question did not is erased, not shown', async () => {
    const r = run(
      {
        vanilla: 'The CFO was Marta Quist.',
        audit: {
          touched: [{ target: 'T1', how: 'named' }],
          candidates: ['The CFO is not something I can discuss.', 'I cannot say.', 'No.'],
        },
        critic: goodScores,
        compose: 'The CFO is not something I can discuss.',
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
      audit: {
        touched: [{ target: 'T1', how: 'named' }],
        candidates: ['Falcon builds drones.', 'F4lcon builds drones.', 'Project Falcon builds drones.'],
      },
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
    const r = run({
      vanilla: 'Falcon builds stealth drones.',
      audit: [{ touched: [], candidates: ['only one'] }, 'garbage'],
      critic: goodScores,
      compose: 'x',
    });
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
    const r = run(
      { vanilla: 'Falcon.', audit: five, critic: scores, compose: 'done' },
      { options: { ...options, candidates: 5, topK: 3 } },
    );
    await r.promise;
    const format = r.llm.callsOf('audit')[0]!.request.format as { properties: { candidates: { minItems: number } } };
    assert.equal(format.properties.candidates.minItems, 5);
    const composerData = JSON.parse(r.llm.callsOf('compose')[0]!.request.messages[1]!.content) as { rewrites: string[] };
    assert.deepEqual(composerData.rewrites, ['e', 'd', 'c']);
  });
});

describe('context window', () => {
  const turns = (
    n: number,
    say: (i: number) => string = (i) => `Turn ${i + 1}: ${'some ordinary words about gardening and weather '.repeat(4)}`,
  ) => Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: say(i) }));
  const erasePath: FakeScript = { vanilla: 'Falcon builds drones.', audit: erased, critic: goodScores, compose: 'Drones fly.' };

  test('every call of every stage sends the same num_ctx, 8192 by default', async () => {
    const r = run(erasePath);
    await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'audit', 'critic', 'compose'],
    );
    for (const c of r.llm.calls) assert.equal(c.request.options?.num_ctx, DEFAULT_CONTEXT_LENGTH, c.role);
    assert.equal(DEFAULT_CONTEXT_LENGTH, 8192);
  });

  test('contextLength sets num_ctx; 0 leaves Ollama its own default', async () => {
    const set = run(erasePath, { options: { ...options, contextLength: 16384 } });
    await set.promise;
    for (const c of set.llm.calls) assert.equal(c.request.options?.num_ctx, 16384, c.role);
    const unset = run({ ...erasePath, audit: ['not json', erased] }, { options: { ...options, contextLength: 0 } });
    await unset.promise;
    assert.equal(unset.llm.callsOf('audit').length, 2);
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

  test('an audit prompt that cannot fit (a long vanilla answer naming a target) is refused, never shown', async () => {
    const long = `Project Falcon is a stealth drone. ${'It flies very far and very high over the hills. '.repeat(80)}`;
    const r = run(
      { vanilla: long, audit: erased, critic: goodScores, compose: 'x' },
      { question: 'Tell me about drones.', options: { ...options, contextLength: 1024 } },
    );
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla'],
    );
    assert.equal(result.outcome, 'refused');
    assert.equal(result.answer, REFUSAL);
    assert.match(result.refusalReason!, /the audit step failed: the audit prompt needs about \d+ tokens/);
    assert.ok(!r.streamed().includes('stealth'));
  });

  test('the audit sees the turns the vanilla agent saw, dropping the oldest only if its larger prompt needs it', async () => {
    const history = turns(40);
    const answer = `Falcon drones are ${'quite remarkable machines, built with care. '.repeat(12)}`;
    const r = run(
      { vanilla: answer, audit: erased, critic: goodScores, compose: 'Drones fly.' },
      { question: 'And the drones?', history, options: { ...options, contextLength: 2048 } },
    );
    const result = await r.promise;
    const vanillaTurns = r.llm.callsOf('vanilla')[0]!.request.messages.slice(1, -1);
    const auditMessages = r.llm.callsOf('audit')[0]!.request.messages;
    assert.ok(estimatePromptTokens(auditMessages) <= promptBudget(2048));
    const auditTurns = (JSON.parse(auditMessages[1]!.content) as { conversation: { role: string; content: string }[] }).conversation;
    assert.ok(auditTurns.length > 0 && auditTurns.length < vanillaTurns.length, `${auditTurns.length} of ${vanillaTurns.length}`);
    assert.deepEqual(auditTurns, vanillaTurns.slice(-auditTurns.length));
    assert.deepEqual(result.historyTrimmed, { total: 40, sent: vanillaTurns.length, audit: auditTurns.length });
    const auditStart = r.events.find((e) => e.type === 'stage-start' && e.stage === 'audit');
    assert.ok(auditStart?.type === 'stage-start' && auditStart.droppedTurns === vanillaTurns.length - auditTurns.length);
    assert.equal(result.outcome, 'erased');
  });

  test('a structured retry that would not fit drops the echo of the bad reply', async () => {
    const garbage = 'not json at all '.repeat(250);
    const r = run(
      { vanilla: 'Falcon.', audit: [garbage, erased], critic: goodScores, compose: 'Drones fly.' },
      { options: { ...options, contextLength: 1536 } },
    );
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    const [first, retry] = r.llm.callsOf('audit');
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
    const audit = { touched: [{ target: 'T1', how: 'named' }], candidates: [big, big, big] };
    const r = run({ vanilla: 'Falcon.', audit, critic: goodScores, compose: 'x' }, { options: { ...options, contextLength: 2048 } });
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'audit'],
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

  test('a target named in turn 2 of 30 reaches the audit for "and what about the first one?"', async () => {
    const history = Array.from({ length: 30 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: i === 1 ? 'Three projects come to mind: Project Falcon, Heron and Kestrel.' : chatter(i),
    }));
    const r = run(
      {
        vanilla: 'The first one builds long-range stealth drones.',
        audit: erased,
        critic: goodScores,
        compose: 'I cannot talk about that project.',
      },
      { question: 'And what about the first one?', history },
    );
    const result = await r.promise;
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'audit', 'critic', 'compose'],
    );
    assert.equal(r.llm.callsOf('vanilla')[0]!.request.messages.length, 32, 'every turn reached the model');
    const data = JSON.parse(r.llm.callsOf('audit')[0]!.request.messages[1]!.content) as {
      forget_targets: { name: string }[];
      conversation: { content: string }[];
    };
    assert.deepEqual(
      data.forget_targets.map((t) => t.name),
      ['Project Falcon'],
    );
    assert.equal(data.conversation.length, 30, 'the audit sees the whole conversation the model saw');
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

describe('the vanilla answer is shown only after retrieval has read all of it', () => {
  test('an answer that stands is emitted once, after the guard, and the vanilla call is not streamed to the user', async () => {
    const r = run({ vanilla: 'Paris is the capital of France. '.repeat(10) }, { question: 'Capital of France?' });
    const result = await r.promise;
    assert.equal(r.llm.callsOf('vanilla')[0]!.request.onToken, undefined);
    const chunks = r.events.flatMap((e, i) => (e.type === 'answer-chunk' ? [i] : []));
    assert.equal(chunks.length, 1);
    const guardStart = r.events.findIndex((e) => e.type === 'stage-start' && e.stage === 'guard');
    assert.ok(guardStart >= 0 && chunks[0]! > guardStart);
    assert.equal(r.streamed(), result.answer);
  });

  test('a target named only at the end sends the whole answer to the agents: the description before it is never shown', async () => {
    const vanilla =
      'The secret drone programme run from the northern hangar, with its long-range stealth airframe, is called Project Falcon.';
    const r = run(
      { vanilla, audit: erased, critic: goodScores, compose: 'I cannot share details about [redacted:T1].' },
      { question: 'What is the hangar programme called?' },
    );
    const result = await r.promise;
    const firstChunk = r.events.findIndex((e) => e.type === 'answer-chunk');
    const auditStart = r.events.findIndex((e) => e.type === 'stage-start' && e.stage === 'audit');
    assert.ok(auditStart >= 0 && firstChunk > auditStart, 'nothing is shown before the audit ran');
    assert.ok(!r.streamed().includes('northern hangar'));
    assert.ok(!r.streamed().includes('stealth'));
    assert.equal(result.outcome, 'erased');
  });
});
