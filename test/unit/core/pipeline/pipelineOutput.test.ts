import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildTargetIndex,
  createAnswerGuard,
  finalizeAnswer,
  guardWouldAct,
  SafeStreamer,
  type Finalized,
  type TargetIndex,
} from '../../../../src/core/guard';
import { buildSimpleIndex } from '../../../support/simpleIndex';
import { runPipeline, REFUSAL, type PipelineEvent, type PipelineInput } from '../../../../src/core/pipeline';
import { assignHandles } from '../../../../src/core/targets';
import { parseTargets } from '../../../../src/core/targets';
import { isBidiFormatChar, isControl } from '../../../../src/core/text/controls';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { taskData } from '../../../../src/core/agents';
import { criticEach, criticScores, edits, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }, { name: 'Acme Corp' }, { name: 'Marta Quist' }]);
const index = buildTargetIndex(targets);
/** T1 = Project Falcon, T2 = Acme Corp, T3 = Marta Quist. */
const handled = assignHandles(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 5000, totalTimeoutMs: 10000 };
/** Full marks for forgetting, utility told apart: the merge of the best two takes the best one's sentence. */
const goodScores = criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate })));
const cleanCandidates = replaceDraft(['That project is confidential.', 'I cannot share [redacted:T1].', 'No comment.']);

const finalize = (raw: string, i: TargetIndex = index) => finalizeAnswer(raw, i, handled, () => 'the agents erased it');

/** How the chat shows a marker: `[redacted: Name]` (the placeholder shape the guard takes out, with a space). */
const MARKER = /\[redacted: [^\]\n]{1,200}\]/g;

/**
 * Target names a reader could find in text shown to them: in the pieces between markers, with the
 * markers taken out, and with the markers and the whitespace around them taken out.
 */
function visibleNames(shown: string, i: TargetIndex = index): string[] {
  const readings = [...shown.split(MARKER), shown.replace(MARKER, ''), shown.replace(/\s*\[redacted: [^\]\n]{1,200}\]\s*/g, '')];
  return readings.flatMap((r) => i.find(r).map((m) => `${m.term} in ${JSON.stringify(r)}`));
}

function hasControls(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isControl(text.charCodeAt(i)) || isBidiFormatChar(text.charCodeAt(i))) return true;
  return false;
}

function checkRedactions(f: Finalized): void {
  for (const r of f.redactions) assert.equal(f.text.slice(r.start, r.end), `[redacted: ${r.targetName}]`, JSON.stringify(f.text));
}

function run(script: FakeScript, extra: Partial<PipelineInput> = {}) {
  const llm = new FakeLlm(script);
  const events: PipelineEvent[] = [];
  const promise = runPipeline({
    llm,
    index,
    question: 'What do Acme Corp and Falcon do?',
    options,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  const chunks = () => events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : []));
  return { llm, events, promise, chunks, streamed: () => chunks().join('') };
}

/** Streams `text` through a SafeStreamer in the given piece sizes; returns every emitted chunk and the result. */
function stream(text: string, sizes: readonly number[], i: TargetIndex = index, scanEvery = 1) {
  const chunks: string[] = [];
  const shownAfterEachPush: string[] = [];
  const s = new SafeStreamer(
    createAnswerGuard(i, handled, () => 'the agents erased it'),
    (t) => chunks.push(t),
    scanEvery,
  );
  let at = 0;
  for (let k = 0; at < text.length; k++) {
    const n = Math.max(1, sizes[k % sizes.length]!);
    s.push(text.slice(at, at + n));
    at += n;
    shownAfterEachPush.push(chunks.join(''));
  }
  const done = s.end();
  return { chunks, shownAfterEachPush, done, streamed: chunks.join('') };
}

describe('a placeholder inside a name does not split it for the guard', () => {
  // The reviewer's cases: each came out with the name readable around the placeholder and no guard match.
  const cases: [string, string][] = [
    ['Fal[redacted:T1]con is the codename.', '[redacted: Project Falcon] is the codename.'],
    ['Fal[redacted:T2]con is the codename.', '[redacted: Project Falcon] is the codename.'],
    ['F[redacted:T2]alcon', '[redacted: Project Falcon]'],
    ['Pro[redacted:T2]ject Falcon', '[redacted: Project Falcon]'],
    ['Project [redacted:T2] Falcon', '[redacted: Project Falcon]'],
    ['Fal[redacted: Acme Corp]con', '[redacted: Project Falcon]'],
    // Rendered with spaces around, a marker reads as a break inside the word just the same.
    ['It is Fal [redacted:T2] con.', 'It is [redacted: Project Falcon].'],
    ['Ac\n[redacted:T1]\nme Corp builds it.', '[redacted: Acme Corp] builds it.'],
    // A placeholder for no retrieved target is shown as written, which splits a name no less.
    ['Fal[redacted:T9]con', '[redacted: Project Falcon]'],
    ['Fal[redacted: Someone Else]con', '[redacted: Project Falcon]'],
    // The guard's own marker splits a name as well as the agents' does.
    ['Fal Acme Corp con', '[redacted: Project Falcon]'],
    // ... and makes a boundary: "F*lcon" right after a marker reads as a word.
    ['theM.a.r.t.a Q.u.i.s.tF*lcon', 'the[redacted: Marta Quist][redacted: Project Falcon]'],
    // Only the innermost of nested placeholders is shown as a marker.
    ['[redacted:Ac [redacted: Marta Quist] me Corp', '[redacted:[redacted: Acme Corp]'],
  ];
  for (const [raw, expected] of cases) {
    test(JSON.stringify(raw), () => {
      const f = finalize(raw);
      assert.equal(f.text, expected);
      assert.ok(f.guardMatches >= 1, 'the guard acted');
      assert.deepEqual(visibleNames(f.text), []);
      checkRedactions(f);
    });
  }

  test('the marker that swallows a placeholder says so, and counts as the guard’s', () => {
    const f = finalize('Fal[redacted:T2]con is the codename.');
    assert.equal(f.redactions.length, 1);
    assert.equal(f.redactions[0]!.by, 'guard');
    assert.equal(f.redactions[0]!.targetName, 'Project Falcon');
    assert.match(f.redactions[0]!.reason, /alias "Falcon".*split by a placeholder/);
  });

  test('placeholders between ordinary words stay the agents’ markers', () => {
    const f = finalize('I cannot share [redacted:T1], and [redacted:T2] builds drones.');
    assert.equal(f.text, 'I cannot share [redacted: Project Falcon], and [redacted: Acme Corp] builds drones.');
    assert.deepEqual(
      f.redactions.map((r) => r.by),
      ['agents', 'agents'],
    );
    assert.equal(f.guardMatches, 0);
    checkRedactions(f);
  });

  test('the critic’s veto reads a candidate the same way', () => {
    assert.equal(guardWouldAct('[redacted:T2] builds Fal[redacted:T2]con drones.', index, handled), true);
    assert.equal(guardWouldAct('[redacted:T2] builds Fal [redacted:T2] con drones.', index, handled), true);
    assert.equal(guardWouldAct('[redacted:T2] builds [redacted:T1] drones.', index, handled), false);
  });

  test('end to end: candidates that split a name around a placeholder are vetoed, so the answer is a refusal', async () => {
    const split = '[redacted:T2] builds Fal[redacted:T2]con drones.';
    const r = run({
      vanilla: 'Acme Corp builds Falcon drones.',
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft([split, split, 'x']),
      critic: goodScores,
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    assert.equal(result.answer, REFUSAL);
    assert.equal(r.llm.callsOf('compose').length, 0);
  });
});

describe('control sequences are stripped before the guard reads the text', () => {
  // The reviewer's cases: the guard saw "Fal any words con", the chat and the terminal show "Falcon".
  for (const raw of [
    'Fal\x1b]0;anything at all here\x07con',
    'Fal\x1b[31mcon',
    'Fal\x9d some words \x9ccon',
    'Fal\x1bP words\x1b\\con',
    'Fal\u202econ',
    'Ac\x1b]8;;https://x.example/\x07me Corp',
  ]) {
    test(JSON.stringify(raw), () => {
      const f = finalize(raw);
      assert.ok(f.guardMatches >= 1);
      assert.match(f.text, /^\[redacted: (Project Falcon|Acme Corp)\]$/);
      assert.equal(hasControls(f.text), false);
    });
  }

  test('redaction spans refer to the stripped answer', () => {
    const f = finalize('\x1b[1mBold\x1b[0m words, then Fal\x1b]0;t\x07con and \x1b[2J[redacted:T2].');
    assert.equal(f.text, 'Bold words, then [redacted: Project Falcon] and [redacted: Acme Corp].');
    checkRedactions(f);
  });

  test('a vanilla answer with a name hidden by a sequence goes to the agents and is never shown', async () => {
    const written = 'Fal\x1b]0;harmless title\x07con is the drone programme.';
    const r = run(
      {
        vanilla: written,
        edit: cleanCandidates,
        critic: goodScores,
      },
      { question: 'What is the drone programme called?' },
    );
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'That project is confidential.');
    assert.doesNotMatch(r.streamed(), /Fal|harmless/);
    const edit = r.llm.callsOf('edit')[0]!.request.messages;
    // The thread continues the draft as the model wrote it (what the server has cached), while the edit
    // task numbers the sentences as they would be shown: the edits apply to the stripped answer.
    assert.equal(edit.at(-2)!.content, written);
    const task = edit.at(-1)!.content;
    assert.ok(task.includes('1: Falcon is the drone …'), task);
    assert.ok(!task.includes('\x1b') && !task.includes('harmless title'));
  });

  test('a vanilla answer that stands is shown without its control sequences', async () => {
    const r = run({ vanilla: 'Paris is \x1b[1mthe\x1b[0m capital\u202e of France.\x07' }, { question: 'Capital of France?' });
    const result = await r.promise;
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, 'Paris is the capital of France.');
    assert.equal(r.streamed(), result.answer);
  });

  test('the draft the rewrite agent writes is stripped before the pipeline reads it, so a C1 string between halves of a name is caught', async () => {
    const r = run({
      rewrite: 'Fal\x9d some words \x9ccon is secret. Drones fly.',
      // Candidate 1 keeps the draft as it is: only a guard that reads the stripped text sees the name in it.
      edit: edits([{}, { drop: [1] }, { drop: [1] }]),
      critic: criticEach({ forget: 5, utility: 4 }),
    });
    const result = await r.promise;
    const [edit] = r.llm.callsOf('edit');
    // The sentence index is of the stripped draft.
    assert.ok(edit!.request.messages.at(-1)!.content.includes('1: Falcon is secret.\n2: Drones fly.'));
    // The guard vetoed the untouched candidate, and the two the same are scored once.
    assert.deepEqual(taskData(r.llm.callsOf('critic')[0]!.request.messages.at(-1))?.score_candidates, [2]);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'Drones fly.');
    assert.equal(r.streamed(), result.answer);
  });

  test('candidates are stripped before the critic’s veto: a sequence inside a name is vetoed', async () => {
    const hidden = 'Fal\x1b]0;x\x07con builds drones.';
    const r = run({
      vanilla: 'Falcon builds drones.',
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft([hidden, hidden, 'Drones fly.']),
      critic: goodScores,
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'refused');
    for (const call of r.llm.callsOf('critic')) {
      assert.ok(!call.request.messages.some((m) => m.content.includes('\x1b')), `${call.role} saw a control sequence`);
    }
  });
});

describe('streaming latency', () => {
  const prose = 'Drones are interesting machines. They fly over fields and hills. '.repeat(5);

  test('ordinary prose is shown as soon as it arrives, not a fixed holdBack behind', () => {
    assert.ok(index.holdBack > 100, 'the fixed hold-back this replaces');
    const chunks: string[] = [];
    const s = new SafeStreamer(
      createAnswerGuard(index, handled, () => ''),
      (t) => chunks.push(t),
    );
    s.push(prose);
    // Only the last word (which could still grow into something) may wait.
    const shown = chunks.join('');
    assert.ok(shown.length >= prose.length - 12, `${shown.length} of ${prose.length} shown`);
    assert.equal(shown, prose.slice(0, shown.length));
    s.end();
    assert.equal(chunks.join(''), prose);
  });

  test('the start of a name is held until it is decided', () => {
    const chunks: string[] = [];
    const s = new SafeStreamer(
      createAnswerGuard(index, handled, () => ''),
      (t) => chunks.push(t),
      1,
    );
    s.push(`${prose}Then Fal`);
    assert.ok(!chunks.join('').includes('Fal'));
    s.push(' [redacted:T2] ');
    assert.ok(!chunks.join('').includes('Fal'), 'still held: a placeholder with spaces does not end it');
    s.push('con flew.');
    const done = s.end();
    assert.equal(chunks.join(''), done.text);
    assert.ok(done.text.endsWith('Then [redacted: Project Falcon] flew.'), done.text);
  });

  test('an unfinished placeholder is held, however much whitespace it has', () => {
    const chunks: string[] = [];
    const s = new SafeStreamer(
      createAnswerGuard(index, handled, () => ''),
      (t) => chunks.push(t),
      1,
    );
    s.push(`${prose}[redacted:${' '.repeat(300)}`);
    assert.ok(!chunks.join('').includes('['));
    s.push('T1] is secret.');
    const done = s.end();
    assert.equal(chunks.join(''), done.text);
    assert.ok(done.text.endsWith('[redacted: Project Falcon] is secret.'));
  });

  test('a reference index without stableEnd still streams safely, holdBack behind', () => {
    const simple = buildSimpleIndex(targets);
    const r = stream(`${prose}Fal[redacted:T2]con and Acme Corp. ${prose}`, [5], simple);
    assert.equal(r.streamed, r.done.text);
    assert.deepEqual(visibleNames(r.done.text, simple), []);
  });
});

describe('property: streamed output equals the final answer and never shows a name', () => {
  const FRAGMENTS = [
    'the',
    'drone',
    'is',
    'fast',
    'and',
    'Pro',
    'Fal',
    'con',
    'Corp',
    'Acme',
    'ject',
    'Quist',
    'Marta',
    '.',
    ',',
    '\n',
    '  ',
    '**',
    'Drones are interesting machines and fly over the hills every day. ',
    // names and disguises
    'Project Falcon',
    'Falcon',
    'Acme Corp',
    'Marta Quist',
    'F a l c o n',
    'F4lc0n',
    'F*lcon',
    'F\u0430lcon',
    'PROJECT FALCON',
    'Falcon\u2019s',
    'noclaF',
    'Falconry',
    'F-a-l-c-o-n',
    '`Falcon`',
    'Fal**con**',
    'project_falcon',
    'Proj\u200bect Fal\u00adcon',
    '&#70;alcon',
    'M.a.r.t.a Q.u.i.s.t',
    // placeholders inside names, known, copied, unknown, with spaces
    'Fal[redacted:T1]con',
    'Fal [redacted:T2] con',
    'Project [redacted:T1] Falcon',
    'Acme[redacted:T3]Corp',
    'Ac [redacted: Marta Quist] me Corp',
    'Fal[redacted:T9]con',
    'Fal Acme Corp con',
    '[redacted:T1]',
    '[redacted: Acme Corp]',
    '[redacted:T9]',
    '[',
    ']',
    '[redacted:',
    '[redacted:  T1  ]',
    // control sequences inside names
    'Fal\x1b[31mcon',
    'Fal\x1b]0;some words\x07con',
    'Fal\x9d words\x9ccon',
    'Fal\u202econ',
    'Ac\x1b[0mme Corp',
    '\x1b',
    '\x1b]',
  ];
  const INSERTS = [
    '[redacted:T1]',
    '[redacted:T2]',
    ' [redacted:T3] ',
    '[redacted: Acme Corp]',
    '[redacted:T9]',
    ' ',
    '\n',
    '\x1b[31m',
    '\x1b]0;x y\x07',
    '\x9d a b\x9c',
    '\u202e',
    '\u200f',
    '\x1b',
    '[',
    ']',
    '**',
    '\u00ad',
  ];
  const base = fc
    .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.constantFrom(' ', '')), { minLength: 1, maxLength: 30 })
    .map((a) => a.join(''));
  // Placeholders and sequences also land anywhere, inside names included.
  const textArb = fc.tuple(base, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INSERTS)), { maxLength: 6 })).map(([text, inserts]) => {
    let out = text;
    for (const [pos, piece] of inserts) {
      const at = pos % (out.length + 1);
      out = out.slice(0, at) + piece + out.slice(at);
    }
    return out;
  });
  const sizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 });
  const runs = { numRuns: Number(process.env.PIPELINE_PROPERTY_RUNS ?? 400) };

  test('counterexamples the property found: each streamed in every chunk size equals the whole', () => {
    // A capital after a capital may still start a name ("F" + "&#70;" + "alcon" reads "FFalcon"), and the
    // marker that name gets turns the backwards name before it into a word of its own.
    for (const text of ['noclaF&#70;alcon', 'noclaFFalcon']) {
      const whole = finalize(text, index).text;
      assert.equal(whole, '[redacted: Project Falcon][redacted: Project Falcon]', text);
      for (const size of [1, 2, 3, 6, 11]) assert.equal(stream(text, [size]).streamed, whole, `${text} in chunks of ${size}`);
    }
  });

  for (const [label, i] of [
    ['fast index', index],
    ['reference index', buildSimpleIndex(targets)],
  ] as const) {
    test(label, () => {
      fc.assert(
        fc.property(textArb, sizes, fc.integer({ min: 1, max: 64 }), (text, pieceSizes, scanEvery) => {
          const r = stream(text, pieceSizes, i, scanEvery);
          assert.equal(r.streamed, r.done.text);
          assert.equal(r.done.text, finalize(text, i).text, 'the stream finalizes like the whole text');
          for (const shown of r.shownAfterEachPush) assert.deepEqual(visibleNames(shown, i), [], JSON.stringify(shown));
          assert.deepEqual(visibleNames(r.done.text, i), []);
          assert.equal(hasControls(r.done.text), false);
          checkRedactions(r.done);
        }),
        runs,
      );
    });
  }
});
