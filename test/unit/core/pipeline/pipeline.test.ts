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
import { buildVanillaMessages, taskData } from '../../../../src/core/agents';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { candidateData, criticCandidates, criticEach, criticScores, draftOf, dropNamed, edits } from '../../../support/erasedReplies';

const { targets } = parseTargets([
  { name: 'Project Falcon', aliases: ['Falcon'], description: 'the secret aircraft project' },
  { name: 'Marta Quist', description: 'former CFO' },
  { name: 'Zephyr Holdings' },
]);
const index = buildTargetIndex(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 5000, totalTimeoutMs: 10000 };

/** What the rewrite agent writes when the question names a target: a draft with the target already erased. */
const DRAFT = 'That programme is confidential. Drones in general use GPS. Its budget is not public.';
/** Three edit candidates over DRAFT, and the texts they make. */
const editSets = [{ drop: [3] }, { replace: [{ sentence: 1, text: 'I cannot share details about [redacted:T1].' }] }, {}];
const editTexts = [
  'That programme is confidential. Drones in general use GPS.',
  'I cannot share details about [redacted:T1]. Drones in general use GPS. Its budget is not public.',
  DRAFT,
];
const goodScores = criticScores([
  { forget: 5, utility: 3 },
  { forget: 5, utility: 4 },
  { forget: 4, utility: 5 },
]);
/** The whole erasure path, scripted: a draft, three edit sets, scores that rank candidate 2, then 1. */
const erasing: FakeScript = { rewrite: DRAFT, edit: edits(editSets), critic: goodScores };
/** The top two merged (candidate 2's replacement and candidate 1's drop), after the guard. */
const MERGED = 'I cannot share details about [redacted: Project Falcon]. Drones in general use GPS.';

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

const roles = (r: { llm: FakeLlm }) => r.llm.calls.map((c) => c.role);

describe('pipeline control flow', () => {
  test('no target touched: the vanilla answer stands after one call', async () => {
    const r = run({ vanilla: 'Paris is the capital of France.' }, { question: 'What is the capital of France?' });
    const result = await r.promise;
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, 'Paris is the capital of France.');
    assert.equal(result.calls, 1);
    assert.deepEqual(result.redactions, []);
    assert.equal(r.streamed(), result.answer);
    assert.deepEqual(roles(r), ['vanilla']);
  });

  test('a target in the question: no vanilla draft; one erased draft, one call for j edit sets, the critic, and the top-k merged without a model call', async () => {
    const r = run({ vanilla: 'Project Falcon builds stealth drones for Zephyr Holdings.', ...erasing });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(roles(r), ['rewrite', 'edit', 'critic']);
    // The rewrite answers the question itself: its thread ends with the question, no draft before its task.
    const rewrite = r.llm.callsOf('rewrite')[0]!.request.messages;
    assert.deepEqual(
      rewrite.map((m) => m.role),
      ['system', 'user', 'user'],
    );
    assert.equal(rewrite[1]!.content, 'What is Project Falcon building?');
    // The edit call gets its text, numbered by sentence, and asks for all j sets at once.
    const edit = r.llm.callsOf('edit')[0]!.request.messages;
    assert.deepEqual(candidateData(edit).draft_sentences, [
      { sentence: 1, text: 'That programme is confidential.' },
      { sentence: 2, text: 'Drones in general use GPS.' },
      { sentence: 3, text: 'Its budget is not public.' },
    ]);
    assert.equal(taskData(edit.at(-1))?.candidate_sets, 3);
    // The critic scores each edit set applied to the draft, by number: the texts are in its thread, not its task.
    const critic = r.llm.callsOf('critic')[0]!.request.messages;
    assert.deepEqual(taskData(critic.at(-1))?.score_candidates, [1, 2, 3]);
    assert.deepEqual(criticCandidates(critic), editTexts);
    assert.ok(!critic.at(-1)!.content.includes('Drones in general'), 'the critic task repeats no candidate text');
    assert.equal(result.answer, MERGED);
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

  test('a target the vanilla answer names that the question did not: the draft goes to the edit call, and the sentence naming it goes', async () => {
    const r = run(
      { vanilla: 'Zephyr Holdings funds it. Drones in general use GPS.', edit: dropNamed, critic: criticEach({ forget: 5, utility: 4 }) },
      { question: 'Who funds the drone work?' },
    );
    const result = await r.promise;
    assert.deepEqual(roles(r), ['vanilla', 'edit', 'critic']);
    assert.deepEqual(draftOf(r.llm.callsOf('edit')[0]!.request.messages), ['Zephyr Holdings funds it.', 'Drones in general use GPS.']);
    // Three identical candidates are one text: the critic scores it once.
    assert.deepEqual(criticCandidates(r.llm.callsOf('critic')[0]!.request.messages), ['Drones in general use GPS.']);
    assert.equal(result.answer, 'Drones in general use GPS.');
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      ['Zephyr Holdings'],
    );
  });

  test('progress events name each stage with counts', async () => {
    const r = run(erasing);
    await r.promise;
    const starts = r.events.filter((e) => e.type === 'stage-start').map((e) => (e.type === 'stage-start' ? e.message : ''));
    assert.deepEqual(starts, [
      'Finding forget targets…',
      'Writing an answer without 1 target…',
      'Checking the answer for 1 target: 3 sets of edits…',
      'Scoring 3 candidates…',
      'Merging the best 2 sets of edits…',
      'Checking the answer…',
    ]);
    assert.deepEqual(
      r.events.flatMap((e) => (e.type === 'stage-start' ? [e.stage] : [])),
      ['retrieve', 'rewrite', 'edit', 'critic', 'compose', 'guard'],
    );
  });

  test('only retrieved targets reach any prompt', async () => {
    const r = run(erasing);
    await r.promise;
    for (const call of r.llm.calls) {
      const text = call.request.messages.map((m) => m.content).join('\n');
      assert.ok(!text.includes('Marta Quist'), `${call.role} prompt leaked an untouched target`);
      assert.ok(!text.includes('Zephyr'), `${call.role} prompt leaked an untouched target`);
    }
    // The targets reach the agents in their tasks, the last message of each call.
    for (const role of ['rewrite', 'edit'] as const) {
      const task = r.llm.callsOf(role)[0]!.request.messages.at(-1)!.content;
      assert.match(task, /Project Falcon/);
      assert.match(task, /the secret aircraft project/);
    }
  });

  test('agents that ignore a target retrieval found by name do not wave it through', async () => {
    // The rewrite names the target anyway and no edit set removes it: every candidate is vetoed.
    const r = run({ rewrite: 'Falcon is a drone. It flies.', edit: edits([{}]), critic: criticEach({ forget: 5, utility: 5 }) });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.equal(r.llm.callsOf('critic').length, 0);
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      ['Project Falcon'],
    );
    assert.equal(r.streamed(), REFUSAL);
  });

  test('a target named in the history is retrieved for a follow-up that only says "it"', async () => {
    const r = run(erasing, {
      question: 'And what is its budget?',
      history: [
        { role: 'user', content: 'Tell me about Marta Quist' },
        { role: 'assistant', content: 'I cannot.' },
      ],
    });
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

describe('one cached thread', () => {
  const history = [
    { role: 'user' as const, content: 'Hi, I am reading about drones.' },
    { role: 'assistant' as const, content: 'Glad to help with drones.' },
  ];

  /** A run whose port also keeps each reply as the model wrote it, in call order. */
  async function threaded(script: FakeScript, question: string) {
    const llm = new FakeLlm(script);
    const replies: string[] = [];
    const chat = llm.chat.bind(llm);
    llm.chat = async (request) => {
      const response = await chat(request);
      replies.push(response.content);
      return response;
    };
    const result = await runPipeline({ llm, index, question, history, options });
    return { result, llm, replies, sent: llm.calls.map((c) => c.raw.messages) };
  }

  test('every agent call starts with the vanilla call as sent, then the draft as written; the critic continues after the edit reply', async () => {
    // An escape sequence the user never sees: the shown answer loses it, the thread keeps the draft as the model wrote it.
    const written = 'Zephyr Holdings funds it.\u001b[0m Drones in general use GPS.';
    const question = 'Who funds the drone work?';
    const r = await threaded({ vanilla: written, edit: dropNamed, critic: criticEach({ forget: 5, utility: 4 }) }, question);
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'edit', 'critic'],
    );
    const [vanilla, edit, critic] = r.sent;
    assert.deepEqual(vanilla, buildVanillaMessages(question, history));
    // The edit call: exactly the vanilla prompt, the draft as the assistant turn, then its own task only.
    assert.deepEqual(edit!.slice(0, vanilla!.length), vanilla);
    assert.deepEqual(edit![vanilla!.length], { role: 'assistant', content: written });
    assert.equal(edit!.length, vanilla!.length + 2);
    // The critic: all of the edit call, the edit reply as written, then its own task only.
    assert.deepEqual(critic!.slice(0, edit!.length), edit);
    assert.deepEqual(critic![edit!.length], { role: 'assistant', content: r.replies[1] });
    assert.equal(critic!.length, edit!.length + 2);
    assert.equal(r.result.outcome, 'erased');
    assert.equal(r.result.answer, 'Drones in general use GPS.');
  });

  test('without a draft the rewrite continues the vanilla prompt, and its reply is the draft the edit and the critic continue', async () => {
    const question = 'What is Project Falcon building?';
    const r = await threaded(erasing, question);
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    const [rewrite, edit, critic] = r.sent;
    const prompt = buildVanillaMessages(question, history);
    assert.deepEqual(rewrite!.slice(0, -1), prompt);
    assert.deepEqual(edit!.slice(0, rewrite!.length), rewrite);
    assert.deepEqual(edit![rewrite!.length], { role: 'assistant', content: DRAFT });
    assert.equal(edit!.length, rewrite!.length + 2);
    assert.deepEqual(critic!.slice(0, edit!.length), edit);
    assert.deepEqual(critic![edit!.length], { role: 'assistant', content: r.replies[1] });
    assert.equal(critic!.length, edit!.length + 2);
    assert.equal(r.result.answer, MERGED);
  });

  test('only the text a task quotes is datamarked: the turns, the question and the draft go as sent', async () => {
    const written = 'Zephyr Holdings funds it. Drones in general use GPS.';
    const r = await threaded(
      { vanilla: written, edit: dropNamed, critic: criticEach({ forget: 5, utility: 4 }) },
      'Who funds the drone work?',
    );
    const editTask = r.sent[1]!.at(-1)!.content;
    const marker = /has its spaces replaced by "(.)"/u.exec(editTask)?.[1];
    assert.ok(marker, 'the edit task states the marking rule');
    // The sentence index quotes the draft's first words: marked.
    assert.match(
      editTask,
      new RegExp(`\\n1: Zephyr${marker}Holdings${marker}funds${marker}it\\.\\n2: Drones${marker}in${marker}general${marker}use …`, 'u'),
    );
    // Nothing else carries the marker, so the thread reads as the vanilla call sent it and the cache holds it.
    for (const [i, messages] of r.sent.entries())
      for (const m of messages)
        if (m.content !== editTask) assert.ok(!m.content.includes(marker), `call ${i + 1}, ${m.role}: ${m.content.slice(0, 60)}`);
    // The critic's task quotes nothing, so it states no rule.
    assert.doesNotMatch(r.sent[2]!.at(-1)!.content, /Untrusted text quoted here/);
  });
});

describe('edits the agents cannot be trusted with', () => {
  test('a replacement that puts the name back is vetoed like any candidate that spells a target; the others stand', async () => {
    const r = run({
      ...erasing,
      edit: edits([
        { replace: [{ sentence: 1, text: 'F a l c o n is confidential.' }] },
        { replace: [{ sentence: 3, text: 'Project Falcon’s budget is not public.' }] },
        { drop: [3] },
      ]),
      critic: criticEach({ forget: 5, utility: 4 }),
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(criticCandidates(r.llm.callsOf('critic')[0]!.request.messages), [editTexts[0]]);
    assert.equal(result.answer, editTexts[0]);
    assert.equal(result.guardActed, false);
  });

  test('a candidate with a sentence number the draft does not have is junk; the others are scored without a second call', async () => {
    const r = run({ ...erasing, edit: edits([{ drop: [7] }, { drop: [3] }, {}]), critic: criticEach({ forget: 5, utility: 4 }) });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(r.llm.callsOf('edit').length, 1);
    const critic = r.llm.callsOf('critic')[0]!.request.messages;
    assert.deepEqual(taskData(critic.at(-1))?.score_candidates, [2, 3]);
    assert.deepEqual(criticCandidates(critic), [editTexts[0], DRAFT]);
  });

  test('a reply with no usable candidate is asked for once more, naming each problem; a second one ends in a refusal', async () => {
    const retrying = (req: { messages: readonly { content: string }[] }) => /could not be used/.test(req.messages.at(-1)!.content);
    // Every candidate miscounts at first, then answers right.
    const fixed = run({
      ...erasing,
      edit: (req) => (retrying(req) ? { drop: [3], replace: [] } : { drop: [7], replace: [] }),
      critic: criticEach({ forget: 5, utility: 4 }),
    });
    const result = await fixed.promise;
    const [first, retry] = fixed.llm.callsOf('edit');
    assert.equal(fixed.llm.callsOf('edit').length, 2);
    assert.match(
      retry!.request.messages.at(-1)!.content,
      /candidate 1: sentence 7 does not exist: the draft has 3 sentences; candidate 2: sentence 7 does not exist/,
    );
    // The retry continues the same thread: the first call's messages, its bad reply, then the request to fix it.
    assert.deepEqual(retry!.request.messages.slice(0, first!.request.messages.length), first!.request.messages);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, editTexts[0]);

    // 0 is not a sentence number at all: the schema refuses the whole reply; then all miscount again.
    const twice = run({
      ...erasing,
      edit: (req) =>
        retrying(req) ? { drop: [7], replace: [] } : { drop: /Candidate 2 of/.test(req.messages.at(-1)!.content) ? [0] : [3], replace: [] },
      critic: criticEach({ forget: 5, utility: 4 }),
    });
    const refused = await twice.promise;
    assert.match(twice.llm.callsOf('edit')[1]!.request.messages.at(-1)!.content, /does not fit the schema/);
    assert.equal(refused.outcome, 'refused');
    assert.match(refused.refusalReason!, /the edit step failed: .*could not be read twice in a row/);
    assert.equal(twice.llm.callsOf('critic').length, 0);
    assert.equal(twice.streamed(), REFUSAL);
  });

  test('a replacement far longer than its sentence is refused: new writing is not an edit', async () => {
    const essay = 'Drones are fascinating. '.repeat(30);
    // Beside a usable candidate the long one is junk: no second call, and it reaches no critic.
    const r = run({
      ...erasing,
      edit: edits([{ replace: [{ sentence: 2, text: essay }] }, { drop: [3] }]),
      critic: criticEach({ forget: 5, utility: 4 }),
    });
    const result = await r.promise;
    assert.equal(r.llm.callsOf('edit').length, 1);
    assert.deepEqual(taskData(r.llm.callsOf('critic')[0]!.request.messages.at(-1))?.score_candidates, [2]);
    assert.ok(!result.answer.includes('fascinating'));
    assert.equal(result.answer, editTexts[0]);
    // Alone, it is asked for again with the reason, and never shown.
    const alone = run(
      { ...erasing, edit: edits([{ replace: [{ sentence: 2, text: essay }] }]), critic: criticEach({ forget: 5, utility: 4 }) },
      { options: { ...options, candidates: 1, topK: 1 } },
    );
    const refused = await alone.promise;
    const retry = alone.llm.callsOf('edit')[1];
    assert.match(retry!.request.messages.at(-1)!.content, /the replacement of sentence 2 has \d+ characters, more than the 200 allowed/);
    assert.equal(refused.outcome, 'refused');
    assert.ok(!alone.streamed().includes('fascinating'));
  });

  test('edits that leave nothing, or only names, end in a refusal without a critic call', async () => {
    const r = run({ ...erasing, edit: edits([{ drop: [1, 2, 3] }]) });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /the edit step failed: all 3 erased answers still named a target or had nothing left/);
    assert.equal(r.llm.callsOf('critic').length, 0);
    assert.equal(r.streamed(), REFUSAL);
  });

  test('a vanilla answer that names a target the question did not is erased, not shown', async () => {
    const r = run(
      { vanilla: 'The CFO was Marta Quist. She left in 2020.', edit: dropNamed, critic: criticEach({ forget: 5, utility: 3 }) },
      { question: 'Who was the CFO?' },
    );
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'She left in 2020.');
    assert.ok(!r.streamed().includes('Marta'));
  });

  test('a merge that would bring the halves of a name together gives way to the best candidate', async () => {
    // Each candidate drops one line between "Fal-" and "con"; merged, they would drop both.
    const r = run({
      rewrite: 'Fal-\nHeron\nKestrel\ncon',
      edit: edits([{ drop: [2] }, { drop: [3] }]),
      critic: criticEach((_, n) => ({ forget: 5, utility: 5 - n })),
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'Fal-\nKestrel\ncon');
    assert.equal(result.guardActed, false);
    assert.ok(!result.stages.some((s) => s.stage === 'compose'));
  });
});

describe('failing closed', () => {
  test('candidates that the critic scores below minScore end in a refusal', async () => {
    const r = run({ ...erasing, critic: criticScores([1, 2, 3].map(() => ({ forget: 3, utility: 5 }))) });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.equal(result.answer, REFUSAL);
    assert.match(result.refusalReason!, /the best 2 erased answers score 3\.0 of 5 for forgetting, below the required 4/);
    assert.equal(r.streamed(), REFUSAL);
  });

  test('a malformed critic reply is retried once and then accepted', async () => {
    const r = run({ ...erasing, critic: ['not json', goodScores] });
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
        vanilla: 'Falcon builds stealth drones. They fly at night.',
        edit: dropNamed,
        critic: [{ scores: [{ candidate: 1, forget: 5, utility: 5 }] }, 'garbage'],
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

  test('an unreadable candidate is junk: the others are scored and used', async () => {
    // One edit call writes all j sets; the second names a sentence the draft does not have.
    const r = run({
      ...erasing,
      edit: {
        touched: [],
        candidates: [
          { drop: [3], replace: [] },
          { drop: [9], replace: [] },
          { drop: [], replace: [] },
        ],
      },
      critic: criticScores([
        { forget: 5, utility: 3 },
        { forget: 5, utility: 5 },
      ]),
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    const critic = r.llm.callsOf('critic')[0]!.request;
    assert.deepEqual(taskData(critic.messages.at(-1))?.score_candidates, [1, 3]);
    assert.deepEqual(criticCandidates(critic.messages), [editTexts[0], editTexts[2]]);
    const format = critic.format as { properties: { forget: { minItems: number } } };
    assert.equal(format.properties.forget.minItems, 2);
  });

  test('a failed or twice unreadable edit call, or a rewrite that writes nothing, ends in a refusal without a critic call', async () => {
    // A failed edit call leaves no candidate: all j sets were to come from it. A transport failure is not retried.
    const cases: [FakeScript, RegExp, number][] = [
      [{ edit: { fail: new LlmError('timeout', 'no reply within 5s', { label: 'edit' }) } }, /the edit step failed: no reply within 5s/, 1],
      // Fewer sets than asked for: the schema fixes the count.
      [
        { edit: { touched: [], candidates: [] } },
        /the edit step failed: .*could not be read twice in a row \(it does not fit the schema/,
        2,
      ],
      [{ rewrite: '  \n ' }, /the rewrite step failed: the rewrite agent wrote nothing/, 0],
    ];
    for (const [script, reason, editCalls] of cases) {
      const r = run({ ...erasing, ...script });
      const result = await r.promise;
      assert.equal(result.outcome, 'refused');
      assert.match(result.refusalReason!, reason);
      assert.equal(r.llm.callsOf('edit').length, editCalls, String(reason));
      assert.equal(r.llm.callsOf('critic').length, 0);
      assert.equal(r.streamed(), REFUSAL);
      assert.ok(!result.answer.includes('confidential'));
    }
  });

  test('a critic that scores the wrong number of candidates is retried, then refused', async () => {
    const wrong = { forget: [5], utility: [5] };
    const r = run({ ...erasing, critic: [wrong, wrong] });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /critic/);
    assert.equal(r.llm.callsOf('critic').length, 2);
  });

  for (const stage of ['rewrite', 'edit', 'critic'] as const) {
    test(`a timeout in the ${stage} step ends in a refusal`, async () => {
      const script: FakeScript = { ...erasing };
      script[stage] = { fail: new LlmError('timeout', `no reply within 5s`, { label: stage }) };
      const result = await run(script).promise;
      assert.equal(result.outcome, 'refused');
      assert.match(result.refusalReason!, new RegExp(`the ${stage} step failed`));
      assert.ok(!result.answer.includes('confidential'));
    });
  }

  test('an unreachable server during the edits propagates as such (the adapter shows how to fix it)', async () => {
    const r = run({ ...erasing, edit: { fail: new LlmError('unreachable', 'Cannot reach Ollama at http://127.0.0.1:11434') } });
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
  for (const stage of ['vanilla', 'edit', 'critic'] as const) {
    test(`cancelling during the ${stage} step rejects with "aborted" and makes no further call`, async () => {
      const controller = new AbortController();
      const script: FakeScript = {
        vanilla: 'Falcon flies. Drones use GPS.',
        edit: dropNamed,
        critic: criticEach({ forget: 5, utility: 4 }),
      };
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

  test('cancelling while the rewrite writes the draft rejects with "aborted" and makes no further call', async () => {
    const controller = new AbortController();
    const r = run({ ...erasing, rewrite: { hang: true } }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'aborted');
    assert.deepEqual(roles(r), ['rewrite']);
  });

  test('a signal aborted before the start makes no call at all', async () => {
    const controller = new AbortController();
    controller.abort();
    const r = run({ vanilla: 'x' }, { signal: controller.signal });
    await assert.rejects(r.promise, (e: unknown) => e instanceof LlmError && e.code === 'aborted');
    assert.equal(r.llm.calls.length, 0);
  });
});

describe('options', () => {
  /** Five edit sets over DRAFT, each dropping one more sentence... of a five-sentence draft. */
  const FIVE = 'One. Two. Three. Four. Five.';
  const five = edits([1, 2, 3, 4, 5].map((n) => ({ drop: [n] })));
  const rising = criticScores([1, 2, 3, 4, 5].map((utility) => ({ forget: 5, utility })));

  test('j and top-k shape the edit call, the critic schema and what the composer merges', async () => {
    const r = run({ rewrite: FIVE, edit: five, critic: rising }, { options: { ...options, candidates: 5, topK: 3 } });
    const result = await r.promise;
    assert.deepEqual(roles(r), ['rewrite', 'edit', 'critic']);
    const edit = r.llm.callsOf('edit')[0]!.request;
    assert.equal(taskData(edit.messages.at(-1))?.candidate_sets, 5);
    // The schema fixes the count, so Ollama's grammar makes the model write exactly j sets.
    const sets = (edit.format as { properties: { candidates: { minItems: number; maxItems: number } } }).properties.candidates;
    assert.deepEqual([sets.minItems, sets.maxItems], [5, 5]);
    // The sets differ because the task asks for each in its own way (the ways repeat only past four).
    const ways = /in this order:\n((?:\d+: .*\n)+)/.exec(edit.messages.at(-1)!.content)![1]!.trim().split('\n');
    assert.equal(ways.length, 5);
    assert.equal(new Set(ways.slice(0, 4).map((w) => w.replace(/^\d+: /, ''))).size, 4);
    const format = r.llm.callsOf('critic')[0]!.request.format as { properties: { forget: { minItems: number; maxItems: number } } };
    assert.equal(format.properties.forget.minItems, 5);
    assert.equal(format.properties.forget.maxItems, 5);
    // The best three drop sentences 5, 4 and 3: the merge drops all three.
    assert.equal(result.answer, 'One. Two.');
  });

  test('k = 1: the best candidate is shown through the guard, nothing merged', async () => {
    const r = run({ rewrite: FIVE, edit: five, critic: rising }, { options: { ...options, candidates: 5, topK: 1 } });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'One. Two. Three. Four.');
    assert.equal(r.streamed(), result.answer);
    assert.ok(!result.stages.some((s) => s.stage === 'compose'));
  });

  test('with a seed, every call is seeded, so a seeded run sends the same calls again', async () => {
    const seeded = async () => {
      const r = run(erasing, { options: { ...options, seed: 40 } });
      await r.promise;
      return r.llm.calls.map((c) => ({ role: c.role, messages: c.raw.messages, options: c.raw.options, format: c.raw.format }));
    };
    const [a, b] = [await seeded(), await seeded()];
    assert.deepEqual(
      a.map((c) => [c.role, c.options?.seed]),
      [
        ['rewrite', 41],
        ['edit', 40],
        ['critic', 40],
      ],
    );
    assert.deepEqual(a, b);
  });

  test('the calls of a request run one after another, whatever parallelCalls says', async () => {
    // Each call continues the one before it on the server's cached thread, so none may start before the last ended.
    for (const parallelCalls of [1, 4]) {
      let inFlight = 0;
      let peak = 0;
      const llm = new FakeLlm(erasing);
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
      const result = await runPipeline({
        llm,
        index,
        question: 'What is Project Falcon building?',
        options: { ...options, candidates: 4, parallelCalls },
      });
      assert.equal(result.outcome, 'erased');
      assert.deepEqual(
        llm.calls.map((c) => c.role),
        ['rewrite', 'edit', 'critic'],
      );
      assert.equal(peak, 1, `parallelCalls ${parallelCalls}`);
    }
  });

  test('every call asks Ollama to keep the model loaded', async () => {
    const r = run(
      { vanilla: 'Falcon flies. Drones use GPS.', edit: dropNamed, critic: criticEach({ forget: 5, utility: 4 }) },
      { question: 'Who builds drones?' },
    );
    await r.promise;
    assert.deepEqual(roles(r), ['vanilla', 'edit', 'critic']);
    for (const c of r.llm.calls) assert.equal(c.request.keepAlive, KEEP_ALIVE, c.role);
  });
});

describe('context window', () => {
  const turns = (
    n: number,
    say: (i: number) => string = (i) => `Turn ${i + 1}: ${'some ordinary words about gardening and weather '.repeat(4)}`,
  ) => Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: say(i) }));

  test('every call of every stage sends the same num_ctx, 8192 by default', async () => {
    const r = run({ ...erasing, critic: ['not json', goodScores] });
    await r.promise;
    // The critic's retry too.
    assert.deepEqual(roles(r), ['rewrite', 'edit', 'critic', 'critic']);
    for (const c of r.llm.calls) assert.equal(c.request.options?.num_ctx, DEFAULT_CONTEXT_LENGTH, c.role);
    assert.equal(DEFAULT_CONTEXT_LENGTH, 8192);
  });

  test('contextLength sets num_ctx; 0 leaves Ollama its own default', async () => {
    const set = run(erasing, { options: { ...options, contextLength: 16384 } });
    await set.promise;
    for (const c of set.llm.calls) assert.equal(c.request.options?.num_ctx, 16384, c.role);
    const unset = run({ ...erasing, critic: ['not json', goodScores] }, { options: { ...options, contextLength: 0 } });
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

  test('an edit prompt that cannot fit (a long vanilla answer naming a target) is refused, never shown', async () => {
    // The name comes after the opening (two sentences), so the draft is written whole, not stopped.
    const start = 'Drones come in many sizes. Some are toys.';
    const long = `${start} Project Falcon is a stealth drone. ${'It flies very far and very high over the hills. '.repeat(80)}`;
    const r = run(
      { vanilla: long, edit: dropNamed, critic: goodScores },
      { question: 'Tell me about drones.', options: { ...options, contextLength: 1024 } },
    );
    const result = await r.promise;
    assert.deepEqual(roles(r), ['vanilla']);
    assert.equal(r.llm.callsOf('vanilla')[0]!.raw.signal?.aborted, false, 'the vanilla call ran to its end');
    assert.equal(result.outcome, 'refused');
    assert.match(result.refusalReason!, /the edit step failed: the edit prompt needs about \d+ tokens/);
    // The opening touched nothing and may have streamed; nothing after it is shown but the refusal.
    assert.ok(result.answer.endsWith(REFUSAL), result.answer);
    assert.ok(['', start].includes(result.answer.slice(0, -REFUSAL.length).trim()), result.answer);
    assert.equal(r.streamed(), result.answer);
    assert.ok(!/stealth|Falcon|hills/.test(r.streamed()), r.streamed());
  });

  test('the agents see the turns the vanilla agent saw, dropping the oldest only if their larger prompt needs it', async () => {
    const history = turns(40);
    // The name comes after the opening (two sentences), so the draft is written whole and goes to the edit agent.
    const answer = `Drones are everywhere now. Many are small. Falcon drones are remarkable. ${'They are quite remarkable machines, built with care. '.repeat(12)}`;
    const r = run(
      { vanilla: answer, edit: dropNamed, critic: criticEach({ forget: 5, utility: 4 }) },
      { question: 'And the drones?', history, options: { ...options, contextLength: 2048 } },
    );
    const result = await r.promise;
    assert.deepEqual(roles(r), ['vanilla', 'edit', 'critic']);
    const vanillaTurns = r.llm.callsOf('vanilla')[0]!.request.messages.slice(1, -1);
    const turnsOf = (role: 'edit' | 'critic') => {
      const messages = r.llm.callsOf(role)[0]!.request.messages;
      assert.ok(estimatePromptTokens(messages) <= promptBudget(2048), role);
      return candidateData(messages).conversation;
    };
    const [editTurns, criticTurns] = [turnsOf('edit'), turnsOf('critic')];
    assert.ok(editTurns.length > 0 && editTurns.length < vanillaTurns.length, `${editTurns.length} of ${vanillaTurns.length}`);
    assert.deepEqual(editTurns, vanillaTurns.slice(-editTurns.length));
    // The critic's thread is longer still (the edit task and reply): it may leave out more, never other turns.
    assert.ok(criticTurns.length > 0 && criticTurns.length <= editTurns.length, `${criticTurns.length} of ${editTurns.length}`);
    assert.deepEqual(criticTurns, vanillaTurns.slice(-criticTurns.length));
    assert.deepEqual(result.historyTrimmed, { total: 40, sent: vanillaTurns.length, audit: criticTurns.length });
    const editStart = r.events.find((e) => e.type === 'stage-start' && e.stage === 'edit');
    assert.ok(editStart?.type === 'stage-start' && editStart.droppedTurns === vanillaTurns.length - editTurns.length);
    assert.equal(result.outcome, 'erased');
  });

  test('a structured retry that would not fit drops the echo of the bad reply', async () => {
    const garbage = 'not json at all '.repeat(250);
    const r = run({ ...erasing, critic: [garbage, goodScores] }, { options: { ...options, contextLength: 1536 } });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    const [first, retry] = r.llm.callsOf('critic');
    assert.ok(
      estimatePromptTokens([...first!.request.messages, { role: 'assistant', content: garbage }]) > promptBudget(1536),
      'the echo would not have fitted',
    );
    // The thread as it was, then only the request to fix the reply.
    assert.deepEqual(retry!.request.messages.slice(0, -1), first!.request.messages);
    assert.equal(retry!.request.messages.at(-1)!.role, 'user');
    assert.match(retry!.request.messages.at(-1)!.content, /not valid JSON/);
    assert.ok(!retry!.request.messages.some((m) => m.content.includes('not json at all')));
    assert.ok(estimatePromptTokens(retry!.request.messages) <= promptBudget(1536));
  });

  test('a critic prompt that cannot fit (a long edit reply) is refused, and nothing is shown', async () => {
    // The edit prompt fits; its reply of long replacements leaves no room for the critic's task after it.
    const long = (n: number) =>
      `Remark ${n} is a rather long replacement sentence, harmless and about drones in general, kept short of the limit.`;
    const sets = [1, 2, 3].map((c) => ({
      drop: [],
      replace: [1, 2, 3].map((sentence) => ({ sentence, text: `${long(sentence)} Set ${c}.` })),
    }));
    const r = run({ ...erasing, edit: { touched: [], candidates: sets } }, { options: { ...options, contextLength: 1536 } });
    const result = await r.promise;
    assert.deepEqual(roles(r), ['rewrite', 'edit']);
    const edit = r.llm.callsOf('edit')[0]!.request.messages;
    assert.ok(estimatePromptTokens(edit) <= promptBudget(1536), `the edit prompt fitted: ${estimatePromptTokens(edit)} tokens`);
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

  test('a target named in turn 2 of 30 reaches the erasure agents for "and what about the first one?"', async () => {
    const history = Array.from({ length: 30 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content: i === 1 ? 'Three projects come to mind: Project Falcon, Heron and Kestrel.' : chatter(i),
    }));
    const r = run(
      { vanilla: 'The first one builds long-range stealth drones.', ...erasing },
      { question: 'And what about the first one?', history },
    );
    const result = await r.promise;
    assert.deepEqual(roles(r), ['rewrite', 'edit', 'critic']);
    for (const role of ['rewrite', 'edit', 'critic'] as const) {
      const data = candidateData(r.llm.callsOf(role)[0]!.request.messages);
      // The targets are in the rewrite's and the edit's tasks; the critic reads them in the edit task above its own.
      if (role !== 'critic')
        assert.deepEqual(
          data.forget_targets.map((t) => t.name),
          ['Project Falcon'],
        );
      assert.equal(data.conversation.length, 30, `the ${role} agent sees the whole conversation the model would have`);
      assert.match(data.conversation[1]!.content, /Project Falcon/);
    }
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
        // Every agent call opens with the vanilla prompt now: the call's label says which is the vanilla agent's.
        if (request.label === 'vanilla' && request.onToken) {
          // Recorded like any call, so call sequences read the same whoever answered it.
          llm.calls.push({ role: 'vanilla', request, raw: request });
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
        edit: edits([{ drop: [4], replace: [{ sentence: 3, text: 'I cannot say more.' }] }]),
        critic: criticEach({ forget: 5, utility: 4 }),
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
      { vanilla: answer, detect: { touched: [] }, edit: edits([{}]), critic: criticEach({ forget: 5, utility: 4 }) },
      'Capital of France?',
      'always',
    );
    const firstChunk = r.events.findIndex((e) => e.type === 'answer-chunk');
    const criticEnd = r.events.findIndex((e) => e.type === 'stage-end' && e.stage === 'critic');
    assert.ok(criticEnd >= 0 && firstChunk > criticEnd, 'the first text comes after the critic scored the erased answers');
    assert.deepEqual(
      r.llm.calls.map((c) => c.role),
      ['vanilla', 'edit', 'critic'],
    );
    assert.equal(r.result.answer, answer);
  });

  test('named streams through the matcher alone: a description without the name streams, the name stops it', async () => {
    const answer = 'The secret aircraft project is run from a hangar. It is called Falcon. It flies at night.';
    const r = await streamRun(
      {
        vanilla: answer,
        edit: edits([{ drop: [3], replace: [{ sentence: 2, text: 'I cannot name it.' }] }]),
        critic: criticEach({ forget: 5, utility: 4 }),
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
      {
        vanilla,
        edit: edits([{ replace: [{ sentence: 1, text: 'I cannot share details about [redacted:T1].' }] }]),
        critic: criticEach({ forget: 5, utility: 3 }),
      },
      { question: 'What is the hangar programme called?' },
    );
    const result = await r.promise;
    const firstChunk = r.events.findIndex((e) => e.type === 'answer-chunk');
    const editStart = r.events.findIndex((e) => e.type === 'stage-start' && e.stage === 'edit');
    assert.ok(editStart >= 0 && firstChunk > editStart, 'nothing is shown before the edits ran');
    assert.ok(!r.streamed().includes('northern hangar'));
    assert.ok(!r.streamed().includes('stealth'));
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'I cannot share details about [redacted: Project Falcon].');
  });
});
