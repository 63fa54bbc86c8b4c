import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { DEFAULT_PIPELINE_OPTIONS, REFUSAL, runPipeline, type PipelineEvent } from '../../../../src/core/pipeline';
import type { AuditPolicy } from '../../../../src/core/relevance';
import { parseTargets } from '../../../../src/core/targets';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { candidateData, criticEach, draftOf, editReply, NEUTRAL_DRAFT, replaceDraft, threadOf } from '../../../support/erasedReplies';

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

/** What a detect call reads: the question alone (its thread ends with the question), or the answer too. */
function detectReads(call: { request: { messages: readonly { role: string; content: string }[] } }): 'question' | 'answer' {
  return threadOf(call.request.messages).at(-1)?.role === 'assistant' ? 'answer' : 'question';
}

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
  test('a draft that spells the facts of a topic target is in the sure band: erased with no detection call on it', async () => {
    // Detection reads the uncertain question first and clears it (wrongly): the draft's facts still bind.
    const llm = new FakeLlm(script({ detect: { touched: [] } }));
    const { result, roles } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
    assert.deepEqual(roles, ['detect', 'vanilla', 'edit', 'critic']);
    assert.equal(detectReads(llm.callsOf('detect')[0]!), 'question', 'the one detect call read the question alone, never the draft');
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
    // /explain tells both: detection (on the question) said no, and the binding evidence erased anyway.
    assert.equal(result.relevance!.detection, 'ran');
    assert.equal(entry.detected, false);
  });

  test('a topic question in the uncertain band goes to detection, which decides erasure', async () => {
    const llm = new FakeLlm(
      script({
        vanilla: VAGUE,
        edit: (req) => {
          assert.deepEqual(draftOf(req.messages), [NEUTRAL_DRAFT], "the draft checked is the rewrite agent's");
          return replaceDraft([ERASED])(req);
        },
      }),
    );
    const { result, roles } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
    // Detection reads the question before any draft: it finds the topic, so no draft is written.
    assert.deepEqual(roles, ['detect', 'rewrite', 'edit', 'critic']);
    assert.equal(detectReads(llm.callsOf('detect')[0]!), 'question');
    assert.equal(result.answer, ERASED);
    // What detection found is touched, though the edit reply lists nothing.
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [TOPIC.name],
    );
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
    const answer = 'Rotterdam has the largest port in Europe.';
    const llm = new FakeLlm(script({ vanilla: answer, detect: { touched: [] } }));
    const { result, roles } = await ask('How big is the port of Rotterdam?', llm);
    // Detection reads the question alone, before the draft; the answer, which shortlists the same
    // target, is not sent to it again.
    assert.deepEqual(roles, ['detect', 'vanilla']);
    assert.equal(detectReads(llm.callsOf('detect')[0]!), 'question');
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, answer);
    assert.equal(result.relevance!.shortlist[0]!.detected, false);
  });

  test('detection that fails or replies junk twice ends in a refusal, never the vanilla answer', async () => {
    for (const bad of ['not json at all', { touched: [{ target: 'banana', how: 'named' }] }]) {
      const llm = new FakeLlm(script({ detect: bad, vanilla: VAGUE }));
      const { result } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
      // A failed detection on the question refuses nothing yet: the draft is written and audited, and
      // detection on it (failing again) refuses.
      const reads = llm.callsOf('detect').map(detectReads);
      assert.deepEqual(reads, ['question', 'question', 'answer', 'answer'], 'each detect call retried once');
      assert.equal(
        llm.calls.findIndex((c) => c.role === 'vanilla'),
        2,
      );
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
    // The question is assessed with the turns sent before any draft: the earlier turn binds by keywords.
    assert.deepEqual(roles, ['rewrite', 'edit', 'critic']);
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

  test("by meaning: the question's vectors are awaited before any draft, no vanilla call is made, and the rewrite agent answers", async () => {
    const llm = new FakeLlm(
      script({
        // Sentences about nothing forgotten, which a stream could show at once: the agent must not be asked.
        vanilla: 'That is a popular question. Many readers ask it. The answer is long.',
        edit: (req) => {
          assert.deepEqual(draftOf(req.messages), [NEUTRAL_DRAFT], "the draft checked is the rewrite agent's");
          return replaceDraft([ERASED])(req);
        },
      }),
    );
    const { result, events, roles } = await ask(MEANING_QUESTION, llm);
    assert.deepEqual(roles, ['rewrite', 'edit', 'critic']);
    assert.ok(!events.some((e) => e.type === 'stage-start' && e.stage === 'vanilla'), 'no vanilla stage begins');
    assert.ok(
      llm.embedded.some((t) => t.includes(MEANING_QUESTION)),
      'the question was embedded',
    );
    const shown = events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : [])).join('');
    assert.equal(shown, ERASED);
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
    // Binding: no detect call, on the question or anywhere.
    assert.equal(result.relevance!.detection, 'skipped');
  });

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

  test('a question over the threshold but short of the sure band is not bound by relevance alone: detection reads it, and once cleared the draft is written whole', async () => {
    // "sorcery", "witch", "fantasy" score under the keyword sure band, and the meaning score is far below its own.
    const llm = new FakeLlm(script({ vanilla: VAGUE, detect: { touched: [] } }));
    const { result, roles } = await ask('Which sorcery school do the young witches attend in that fantasy series?', llm);
    assert.deepEqual(roles, ['detect', 'vanilla']);
    assert.equal(detectReads(llm.callsOf('detect')[0]!), 'question');
    assert.match(llm.callsOf('detect')[0]!.request.messages.at(-1)!.content, /the last question above \(read with the earlier turns\)/);
    assert.equal(llm.callsOf('vanilla')[0]!.raw.signal?.aborted, false, 'the vanilla call ran to its end');
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, VAGUE);
    const entry = result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!;
    assert.equal(entry.binding, false);
  });
});

describe('pipeline: a target detection cleared on the question', () => {
  const QUESTION = 'Which sorcery school do the young witches attend in that fantasy series?';
  /**
   * Shares no content word with the topic's name or description; on its own it is in the topic's sure
   * band by meaning (wizard, school, books, villain), though the answer as a whole is not.
   */
  const ABOUT_TOPIC = 'The wizard school in those books has an evil villain.';
  const around = (middle: string) =>
    [
      'That is a fine question.',
      'Many readers ask it on rainy weekends.',
      middle,
      'Libraries lend the paperback editions for free.',
      'Check the shelf near the entrance, next to the travel guides and cookery titles.',
    ].join(' ');

  test('is not asked about again for the answer, and an answer sentence in its sure band is still removed by the meaning check', async () => {
    const answer = around(ABOUT_TOPIC);
    const llm = new FakeLlm(script({ vanilla: answer, detect: { touched: [] } }));
    const { result, events, roles } = await ask(QUESTION, llm);
    // One detect call, on the question; the answer shortlists the same target and goes to no agent.
    assert.deepEqual(roles, ['detect', 'vanilla']);
    assert.equal(detectReads(llm.callsOf('detect')[0]!), 'question');
    const entry = result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!;
    assert.equal(entry.binding, false, 'the answer as a whole does not bind the topic');
    assert.equal(entry.detected, false);
    // The sentence about the topic is replaced; the others stand as written.
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, around(`[redacted: about ${TOPIC.name}]`));
    assert.ok(!result.answer.includes('villain'));
    const [removed] = result.redactions;
    assert.equal(result.redactions.length, 1);
    assert.equal(removed!.by, 'meaning');
    assert.match(removed!.reason, /meaning/, 'by its meaning, not by a shared word');
    const shown = events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : [])).join('');
    assert.equal(shown, result.answer, 'what was shown is the checked answer');
  });

  test('a target only the answer shortlists still goes to detection, alone', async () => {
    const aboutPerson = 'A marine biologist I know reads them aloud.';
    const answer = around(`${ABOUT_TOPIC} ${aboutPerson}`);
    const llm = new FakeLlm(
      script({
        vanilla: answer,
        // Clears the question; finds every target it is shown in the answer.
        detect: (req) =>
          detectReads({ request: req }) === 'question'
            ? { touched: [] }
            : { touched: candidateData(req.messages).forget_targets.map((t) => ({ target: t.handle, how: 'described' })) },
        edit: (req) => {
          const at = draftOf(req.messages).indexOf(aboutPerson);
          assert.ok(at >= 0, 'the edit agent edits the vanilla draft');
          return editReply({ drop: [at + 1] });
        },
      }),
    );
    const { result, roles } = await ask(QUESTION, llm);
    assert.deepEqual(roles, ['detect', 'vanilla', 'detect', 'edit', 'critic']);
    const [onQuestion, onAnswer] = llm.callsOf('detect').map((c) => candidateData(c.request.messages).forget_targets.map((t) => t.name));
    assert.deepEqual(onQuestion, [TOPIC.name]);
    assert.deepEqual(onAnswer, [PERSON.name], 'the cleared topic is not asked about again');
    assert.deepEqual(
      candidateData(llm.callsOf('edit')[0]!.request.messages).forget_targets.map((t) => t.name),
      [PERSON.name],
    );
    assert.equal(result.outcome, 'erased');
    // The edit agent dropped the person's sentence; the meaning check removed the topic's.
    assert.ok(!result.answer.includes('biologist') && !result.answer.includes('villain'), result.answer);
    assert.ok(result.answer.includes(`[redacted: about ${TOPIC.name}]`), result.answer);
    assert.ok(result.answer.startsWith('That is a fine question. Many readers ask it on rainy weekends.'), result.answer);
    assert.deepEqual(result.touchedTargets.map((t) => t.name).sort(), [PERSON.name, TOPIC.name].sort());
  });
});

describe('pipeline: a draft whose opening binds a target is stopped', () => {
  /** A question near no target: the vanilla agent answers it, and its answer streams while it touches nothing. */
  const QUESTION = 'What is a good way to send a parcel abroad?';

  test('a name in the first sentence: the vanilla call is aborted, nothing of it is shown, and the rewrite agent answers after a pause', async () => {
    const draft = 'Northwind Freight is a good choice. It ships across Europe. Call them today for a quote, and ask about insurance.';
    let abortedAt = 0;
    let rewriteAt = 0;
    const llm = new FakeLlm(
      script({
        vanilla: (req) => {
          req.signal?.addEventListener('abort', () => (abortedAt = performance.now()), { once: true });
          return draft;
        },
        rewrite: () => {
          rewriteAt = performance.now();
          return NEUTRAL_DRAFT;
        },
        edit: (req) => {
          assert.deepEqual(draftOf(req.messages), [NEUTRAL_DRAFT], "the draft checked is the rewrite agent's");
          return replaceDraft([ERASED])(req);
        },
      }),
    );
    const { result, events, roles } = await ask(QUESTION, llm);
    assert.deepEqual(roles, ['vanilla', 'rewrite', 'edit', 'critic']);
    assert.equal(llm.callsOf('vanilla')[0]!.raw.signal?.aborted, true, 'the vanilla call was aborted');
    // The server is given a moment to free the stopped call's slot before the next call.
    assert.ok(abortedAt > 0 && rewriteAt - abortedAt >= 90, `${(rewriteAt - abortedAt).toFixed(0)} ms between the abort and the rewrite`);
    const shown = events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : [])).join('');
    assert.equal(shown, ERASED, 'no vanilla text is shown');
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, ERASED);
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [CLIENT.name],
    );
  });

  test('a name only in the fourth sentence: the vanilla answer is written whole and the edit agent edits it', async () => {
    const opening = 'Compare a few couriers first. Ask each for a written quote. Check what their insurance covers.';
    const draft = `${opening} Northwind Freight is one option.`;
    const llm = new FakeLlm(
      script({
        vanilla: draft,
        edit: (req) => {
          assert.deepEqual(draftOf(req.messages), [
            'Compare a few couriers first.',
            'Ask each for a written quote.',
            'Check what their insurance covers.',
            'Northwind Freight is one option.',
          ]);
          return editReply({ drop: [4] });
        },
      }),
    );
    const { result, events, roles } = await ask(QUESTION, llm);
    assert.deepEqual(roles, ['vanilla', 'edit', 'critic']);
    assert.equal(llm.callsOf('vanilla')[0]!.raw.signal?.aborted, false, 'the vanilla call ran to its end');
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, opening);
    const shown = events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : [])).join('');
    assert.ok(!shown.includes('Northwind'), shown);
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [CLIENT.name],
    );
  });

  test("an opening in a target's keyword sure band, naming nothing, stops the draft and the rewrite is told the target", async () => {
    const llm = new FakeLlm(
      script({
        vanilla: 'Try the books set at Gullhaven Academy. Its headmaster Ambrose Quillfeather is memorable. Readers love the final duel.',
        edit: replaceDraft([ERASED]),
      }),
    );
    const { result, roles } = await ask('What should I read on the train tonight?', llm);
    assert.deepEqual(roles, ['vanilla', 'rewrite', 'edit', 'critic']);
    assert.equal(llm.callsOf('vanilla')[0]!.raw.signal?.aborted, true);
    // The rewrite agent writes with the bound target erased: it must be among its forget targets.
    assert.deepEqual(
      candidateData(llm.callsOf('rewrite')[0]!.request.messages).forget_targets.map((t) => t.name),
      [TOPIC.name],
    );
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [TOPIC.name],
    );
  });
});
