import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { DEFAULT_PIPELINE_OPTIONS, REFUSAL, runPipeline, type PipelineEvent } from '../../../../src/core/pipeline';
import type { AuditPolicy } from '../../../../src/core/relevance';
import { parseTargets } from '../../../../src/core/targets';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { candidateData, criticEach, draftOf, editReply, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

const TOPIC = {
  name: 'The Saltmarsh Chronicles',
  description:
    'The Saltmarsh Chronicles fantasy novels: Gullhaven Academy of sorcery, its headmaster Ambrose Quillfeather, the young witch Nell Harrow and the dark lord Vexmoor.',
};
const PERSON = { name: 'Ingrid Valtonen', description: 'A marine biologist in Turku who studies seal populations.' };
const CLIENT = { name: 'Northwind Freight', aliases: ['Northwind'], description: 'A logistics client in Rotterdam.' };
const FACTS = ['Quillfeather', 'Nell Harrow', 'Vexmoor'];
const ERASED = 'I cannot share details about that series.';
/** A draft that hints at the topic without its facts: relevance's uncertain band, where detection decides. */
const VAGUE = 'They study at a school by the sea.';

function index(extra: unknown[] = []) {
  return buildTargetIndex(parseTargets([TOPIC, PERSON, CLIENT, ...extra]).targets);
}

function script(overrides: FakeScript = {}): FakeScript {
  return {
    vanilla: 'Headmaster Ambrose Quillfeather leads it; his pupil Nell Harrow fights the dark lord Vexmoor.',
    detect: { touched: [{ target: 'T1', how: 'described' }] },
    rewrite: NEUTRAL_DRAFT,
    edit: replaceDraft([ERASED, 'That is not something I can discuss.', 'No comment.']),
    critic: criticEach({ forget: 5, utility: 3 }),
    ...overrides,
  };
}

async function ask(
  question: string,
  llm: FakeLlm,
  policy?: AuditPolicy,
  idx = index(),
  history?: { role: 'user' | 'assistant'; content: string }[],
) {
  const events: PipelineEvent[] = [];
  const result = await runPipeline({
    llm,
    index: idx,
    question,
    ...(history ? { history } : {}),
    options: {
      ...DEFAULT_PIPELINE_OPTIONS,
      model: 'llama3.2',
      embeddingModel: 'embeddinggemma',
      ...(policy ? { auditPolicy: policy } : {}),
    },
    onEvent: (e) => events.push(e),
  });
  return { result, events, roles: llm.calls.map((c) => c.role) };
}

describe('pipeline: relevance gate and detection before erasure', () => {
  test('a draft that spells the facts of a topic target is in the sure band: erased with no detection call', async () => {
    const llm = new FakeLlm(script({ detect: { touched: [] } }));
    const { result, roles } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
    assert.deepEqual(roles, ['vanilla', 'edit', 'critic']);
    for (const c of llm.callsOf('edit')) assert.match(draftOf(c.request.messages)[0]!, /^Headmaster Ambrose Quillfeather/);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, ERASED);
    for (const fact of FACTS) assert.ok(!result.answer.includes(fact));
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [TOPIC.name],
    );
    const entry = result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!;
    assert.ok(entry.signals.some((s) => (s.kind === 'meaning' || s.kind === 'keyword') && s.binding));
    assert.equal(entry.binding, true);
    assert.equal(result.relevance!.detection, 'skipped');
  });

  test('a topic question in the uncertain band goes to detection, which decides erasure', async () => {
    const llm = new FakeLlm(script({ vanilla: VAGUE }));
    const { result, roles } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
    assert.deepEqual(roles, ['vanilla', 'detect', 'edit', 'critic']);
    assert.equal(result.answer, ERASED);
    const entry = result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!;
    assert.equal(entry.binding, false);
    assert.equal(entry.detected, true);
    assert.equal(result.relevance!.detection, 'ran');
  });

  test('the detect prompt holds only the shortlisted targets; erasure only the touched ones', async () => {
    const llm = new FakeLlm(script({ vanilla: VAGUE }));
    await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
    const detectPrompt = llm
      .callsOf('detect')[0]!
      .request.messages.map((m) => m.content)
      .join('\n');
    assert.ok(detectPrompt.includes(TOPIC.name));
    assert.ok(!detectPrompt.includes(CLIENT.name) && !detectPrompt.includes(PERSON.name));
    assert.deepEqual(llm.callsOf('detect')[0]!.request.format !== undefined, true, 'detection is a structured call');
  });

  test('an unrelated question stays at one model call under related', async () => {
    const llm = new FakeLlm(script({ vanilla: 'Use Array.prototype.sort with a compare function.' }));
    const { result, roles } = await ask('How do I sort a list of numbers in JavaScript?', llm);
    assert.deepEqual(roles, ['vanilla']);
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.calls, 1);
    assert.deepEqual(result.relevance!.shortlist, []);
  });

  test('always is ALU as published: every answer goes through erasure, and an edit agent that finds none touched vetoes nothing', async () => {
    const sortAnswer = 'Use Array.prototype.sort with a compare function.';
    const llm = new FakeLlm(script({ vanilla: sortAnswer, edit: editReply() }));
    const { result, roles } = await ask('How do I sort a list of numbers in JavaScript?', llm, 'always');
    // No detection call: the edit call's touched list (empty here) does not decide whether erasure runs.
    assert.deepEqual(roles, ['vanilla', 'edit', 'critic']);
    assert.equal(result.outcome, 'erased');
    // The edits of an answer about nothing forgotten leave it whole, and the meaning check keeps it.
    assert.equal(result.answer, sortAnswer);
    assert.equal(result.relevance!.shortlist.length, 3, 'the top targets, capped, even below the thresholds');
    assert.equal(result.relevance!.detection, 'ran', "the edit reply's touched list reaches /explain");
    assert.ok(result.relevance!.shortlist.every((e) => e.detected === false));
  });

  test('always with no embedding model and no shared word still audits the answer (small lists whole)', async () => {
    const llm = new FakeLlm(script({ vanilla: 'Use Array.prototype.sort with a compare function.', detect: { touched: [] } }));
    const result = await runPipeline({
      llm,
      index: index(),
      question: 'How do I sort numbers?',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', auditPolicy: 'always' },
    });
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['vanilla', 'edit', 'critic'],
    );
    assert.equal(result.relevance!.shortlist.length, 3);
  });

  test('named reproduces the name-only behaviour: a topic question is one call and the answer stands', async () => {
    const llm = new FakeLlm(script());
    const { result, roles } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm, 'named');
    assert.deepEqual(roles, ['vanilla']);
    assert.equal(result.outcome, 'vanilla');
    const named = new FakeLlm(
      script({
        vanilla: 'Northwind Freight ships grain.',
        rewrite: NEUTRAL_DRAFT,
        edit: replaceDraft(['a', 'b', 'c']),
      }),
    );
    const second = await ask('What does Northwind Freight ship?', named, 'named');
    assert.deepEqual(second.roles, ['rewrite', 'edit', 'critic']);
  });

  test('a surname-only mention is the name: erased with no draft and no detection', async () => {
    const llm = new FakeLlm(
      script({
        vanilla: 'She counted grey seals near the archipelago.',
        detect: { touched: [{ target: 'T1', how: 'described' }] },
        rewrite: NEUTRAL_DRAFT,
        edit: replaceDraft(['I cannot discuss that person.', 'No comment.', 'Sorry.']),
      }),
    );
    const { result, roles } = await ask('What did Dr. Valtonen find last spring?', llm);
    assert.deepEqual(roles, ['rewrite', 'edit', 'critic']);
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [PERSON.name],
    );
    const signals = result.relevance!.shortlist[0]!.signals;
    assert.ok(signals.some((s) => s.kind === 'keyword' && s.words?.includes('valtonen')));
  });

  test('a false positive costs one short call: detection says none, the vanilla answer stands', async () => {
    const llm = new FakeLlm(script({ vanilla: 'Rotterdam has the largest port in Europe.', detect: { touched: [] } }));
    const { result, roles } = await ask('How big is the port of Rotterdam?', llm);
    assert.deepEqual(roles, ['vanilla', 'detect']);
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.relevance!.shortlist[0]!.detected, false);
  });

  test('detection that fails or replies junk twice ends in a refusal, never the vanilla answer', async () => {
    for (const bad of ['not json at all', { touched: [{ target: 'banana', how: 'named' }] }]) {
      const llm = new FakeLlm(script({ detect: bad, vanilla: VAGUE }));
      const { result } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
      assert.equal(result.outcome, 'refused');
      assert.equal(result.answer, REFUSAL);
      assert.match(result.refusalReason!, /the detect step failed/);
    }
  });

  test('a name spelled in the answer: the edit agent gets every shortlisted target, its touched list reaches /explain, the named one is touched whatever it says', async () => {
    const llm = new FakeLlm(
      script({
        vanilla: 'Northwind Freight ships the sorcery books.',
        detect: { touched: [] },
        rewrite: NEUTRAL_DRAFT,
        edit: replaceDraft(['I cannot discuss that.', 'No comment.', 'Sorry.']),
      }),
    );
    const { result, roles } = await ask('Who ships the fantasy books?', llm);
    // No detection call beside erasure: the edit reply lists the touched targets (none, here).
    assert.deepEqual(roles, ['vanilla', 'edit', 'critic']);
    const auditPrompt = llm
      .callsOf('edit')[0]!
      .request.messages.map((m) => m.content)
      .join('\n');
    assert.ok(auditPrompt.includes(CLIENT.name) && auditPrompt.includes(TOPIC.name));
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [CLIENT.name],
    );
    assert.equal(result.relevance!.detection, 'ran');
    assert.equal(result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!.detected, false);
  });

  test('a name spelled in the question: no draft, and with nothing else shortlisted no detection either', async () => {
    const llm = new FakeLlm(script({ edit: replaceDraft(['I cannot discuss that.']) }));
    const { result, roles } = await ask('What does Northwind Freight ship?', llm);
    assert.deepEqual(roles, ['rewrite', 'edit', 'critic']);
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [CLIENT.name],
    );
    assert.equal(result.relevance!.detection, 'skipped');
    assert.equal(result.answer, 'I cannot discuss that.');
  });

  test("a name in the question beside a topic: the edit reply's touched list adds what it finds", async () => {
    const erase = replaceDraft(['I cannot discuss that.']);
    const llm = new FakeLlm(
      script({
        rewrite: NEUTRAL_DRAFT,
        edit: (req) => {
          // No vanilla draft was written: the draft the edit agent checks is the rewrite agent's.
          assert.deepEqual(draftOf(req.messages), [NEUTRAL_DRAFT]);
          const topic = candidateData(req.messages).forget_targets.find((t) => t.name === TOPIC.name)!;
          return { ...erase(req), touched: [{ target: topic.handle, how: 'described' }] };
        },
      }),
    );
    const { result, roles } = await ask('Does Northwind Freight ship the sorcery books?', llm);
    assert.deepEqual(roles, ['rewrite', 'edit', 'critic']);
    assert.deepEqual(result.touchedTargets.map((t) => t.name).sort(), [CLIENT.name, TOPIC.name].sort());
    assert.equal(result.relevance!.detection, 'ran');
    assert.equal(result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!.detected, true);
  });

  test('a topic raised only in an earlier turn still reaches erasure (its facts there are in the sure band)', async () => {
    const llm = new FakeLlm(script({ vanilla: 'He was expelled in the third book.' }));
    const { result, roles } = await ask('And what happened to him later?', llm, 'related', index(), [
      { role: 'user', content: 'Who is the headmaster of Gullhaven Academy?' },
      { role: 'assistant', content: 'A wise old sorcerer.' },
    ]);
    // Whether the vanilla draft finishes before the vectors are in (the earlier turn binds by keywords, so
    // the sure band may stop it) is a race this test leaves open: either way the answer is an erased one.
    assert.deepEqual(roles.slice(-2), ['edit', 'critic']);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, ERASED);
    assert.ok(
      candidateData(llm.callsOf('edit')[0]!.request.messages).forget_targets.some((t) => t.name === TOPIC.name),
      'the topic reaches the edit agent',
    );
  });

  test('the detect prompt has the same size at 10 and 2,000 targets', async () => {
    const filler = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `Saltmarsh Vessel ${i}`, description: `A Gullhaven sorcery ship number ${i}.` }));
    const sizes: number[] = [];
    for (const n of [10, 2000]) {
      // One weak hint ("headmaster"): shortlisted at both sizes, and left to detection.
      const llm = new FakeLlm(script({ vanilla: 'Its headmaster leads it well.' }));
      await ask('Which sorcery school do the young witches attend in that fantasy series?', llm, 'related', index(filler(n)));
      sizes.push(llm.callsOf('detect')[0]!.request.messages.reduce((s, m) => s + m.content.length, 0));
    }
    assert.ok(Math.abs(sizes[1]! - sizes[0]!) / sizes[0]! < 0.1, `detect prompt ${sizes[0]} vs ${sizes[1]} characters`);
  });

  test('without an embedding model, keywords alone still bring a topic in', async () => {
    const llm = new FakeLlm(script());
    const result = await runPipeline({
      llm,
      index: index(),
      question: 'Who is the headmaster of Gullhaven Academy?',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2' },
    });
    assert.equal(result.outcome, 'erased');
    assert.equal(llm.embedded.length, 0);
    assert.equal(result.relevance!.semantic.status, 'off');
  });
});

describe('pipeline: a question that alone binds a target gets no vanilla draft', () => {
  /** Shares no content word with the topic's name or description: only meaning (wizard, school, book, villain) brings it in. */
  const MEANING_QUESTION = 'Which wizard school do the pupils in that book series attend, and who is the evil villain there?';
  /** What the vanilla agent starts writing: sentences about nothing forgotten, which the stream could show at once. */
  const DRAFT_START = 'That is a popular question. Many readers ask it. ';

  test(
    'by meaning: the vanilla call is stopped once the question vectors are in, none of it is shown, and the rewrite agent answers',
    { timeout: 5_000 },
    async (t) => {
      // The vanilla call below waits for its abort: this keeps the event loop alive meanwhile, so a missing
      // abort fails as this test's timeout rather than ending the whole file.
      const keepAlive = setInterval(() => undefined, 1_000);
      t.after(() => clearInterval(keepAlive));
      const llm = new FakeLlm(
        script({
          // Two whole sentences streamed, then the model keeps writing until the call is stopped.
          vanilla: (req) => {
            req.onToken?.(DRAFT_START);
            return { hang: true };
          },
          edit: (req) => {
            assert.deepEqual(draftOf(req.messages), [NEUTRAL_DRAFT], "the draft checked is the rewrite agent's");
            return replaceDraft([ERASED])(req);
          },
        }),
      );
      const { result, events, roles } = await ask(MEANING_QUESTION, llm);
      assert.deepEqual(roles, ['vanilla', 'rewrite', 'edit', 'critic']);
      assert.equal(llm.callsOf('vanilla')[0]!.raw.signal?.aborted, true, 'the vanilla call was aborted');
      const shown = events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : [])).join('');
      assert.ok(!shown.includes('popular') && !shown.includes('readers'), `no vanilla text is shown: ${JSON.stringify(shown)}`);
      assert.equal(result.outcome, 'erased');
      assert.equal(result.answer, ERASED);
      assert.deepEqual(
        result.touchedTargets.map((t) => t.name),
        [TOPIC.name],
      );
      // The question alone bound the topic, by meaning and not by any keyword.
      const entry = result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!;
      assert.ok(entry.signals.some((s) => s.kind === 'meaning' && s.part === 'question' && s.binding));
      assert.ok(!entry.signals.some((s) => s.kind === 'keyword'));
      assert.equal(entry.binding, true);
    },
  );

  test('by keywords without an embedding model: no vanilla call at all, the rewrite agent answers', async () => {
    const llm = new FakeLlm(script({ edit: replaceDraft([ERASED]) }));
    const events: PipelineEvent[] = [];
    const result = await runPipeline({
      llm,
      index: index(),
      question: 'Who is the headmaster of Gullhaven Academy?',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2' },
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    assert.ok(!events.some((e) => e.type === 'stage-start' && e.stage === 'vanilla'), 'no vanilla stage begins');
    assert.equal(llm.embedded.length, 0);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, ERASED);
    const entry = result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!;
    assert.ok(entry.signals.some((s) => s.kind === 'keyword' && s.binding));
    assert.equal(result.relevance!.semantic.status, 'off');
  });

  test('a question over the threshold but short of the sure band still gets its vanilla draft', async () => {
    // "sorcery", "witch", "fantasy" score under the keyword sure band, and the meaning score is far below its own.
    const llm = new FakeLlm(script({ vanilla: VAGUE }));
    const { roles } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
    assert.equal(roles[0], 'vanilla');
    assert.equal(llm.callsOf('vanilla')[0]!.raw.signal?.aborted, false, 'the vanilla call ran to its end');
    assert.ok(!roles.includes('rewrite'));
  });
});
