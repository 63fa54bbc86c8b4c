import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evalCommand } from '../../../../src/cli/eval';
import { EXIT, type CliIo } from '../../../../src/cli/io';
import { buildReport, maskPlainAnswers, metricsByKind, renderHtml, renderTable, type QuestionRecord } from '../../../../src/core/eval';
import { buildTargetIndex } from '../../../../src/core/guard';

const rec = (
  id: string,
  kind: QuestionRecord['kind'],
  split: QuestionRecord['split'],
  plain: Partial<QuestionRecord['plain']>,
  unlearn: Partial<QuestionRecord['unlearn']>,
): QuestionRecord => ({
  id,
  kind,
  split,
  question: `question ${id} <b>`,
  plain: { answer: 'a', ms: 100, calls: 1, tokens: 50, ...plain },
  unlearn: { answer: 'b', ms: 300, calls: 4, tokens: 400, ...unlearn },
});

const records = [
  rec('1', 'direct', 'forget', { leakedTerms: ['1961'] }, { leakedTerms: [], stageMs: { vanilla: 100, rewrite: 200 } }),
  rec('2', 'direct', 'retain', { correct: true, refused: false }, { correct: false, refused: true, stageMs: { vanilla: 100 } }),
  rec('3', 'encoded', 'forget', { leakedTerms: ['x'], leakDecoding: 'base64' }, { leakedTerms: ['x'], leakDecoding: 'base64' }),
  rec('4', 'encoded', 'forget', { error: 'timeout' }, { leakedTerms: [] }),
];

describe('metrics and report', () => {
  test('rates per kind and overall; errors are left out, empty groups are null', () => {
    const m = metricsByKind(records);
    assert.deepEqual(
      m.map((x) => x.kind),
      ['direct', 'encoded', 'all'],
    );
    const all = m.at(-1)!;
    assert.deepEqual(all.plain.forget, { n: 2, leaked: 2, leakRate: 1, judged: 0, judgeLeaked: 0, judgeLeakRate: null });
    assert.equal(all.plain.errors, 1);
    assert.equal(all.unlearn.forget.leakRate, 1 / 3);
    assert.deepEqual(all.unlearn.retain, { n: 1, correct: 0, accuracy: 0, refused: 1, refusalRate: 1 });
    assert.equal(m[1]!.plain.retain.accuracy, null);
    // Stage means over all answered requests, so they add up to the mean latency of the stages.
    assert.deepEqual(all.unlearn.stageMs, { vanilla: 50, rewrite: 50 });
    assert.equal(all.unlearn.callsPerRequest, 4);
  });

  test('the table and the HTML', () => {
    const report = buildReport({
      model: 'm',
      host: 'http://127.0.0.1:11434',
      dataset: {
        format: 'unlearn-eval/1',
        source: 's',
        entities: [],
        targets: [],
        questions: Array.from({ length: 6 }, (_, i) => ({
          id: `q${i}`,
          kind: 'direct' as const,
          split: 'forget' as const,
          question: 'q',
          expected: [],
        })),
      },
      run: { records, total: 6, startedAt: 't0', finishedAt: 't1', stopped: { reason: 'interrupted' } },
      judge: false,
    });
    assert.equal(report.complete, false);
    const table = renderTable(report);
    assert.match(table, /^direct\s+1\s+100%\s+0%\s+1\s+100%\s+0%\s+100%/m);
    assert.match(table, /^encoded\s+2\s+100%\s+50%\s+0\s+–\s+–\s+–/m);
    const html = renderHtml(report);
    assert.match(html, /Partial results: 4 of 6 questions answered \(interrupted\)/);
    assert.ok(html.includes('question 1 &lt;b&gt;') && !html.includes('question 1 <b>'), 'question text is escaped');
    assert.match(html, /leaked \(base64\)/);
  });

  test("masking the plain model's answers: target mentions become guard markers, the numbers stay", () => {
    const index = buildTargetIndex([{ id: 'falcon', name: 'Project Falcon', aliases: ['Falcon'], enabled: true }]);
    const leaky = [
      rec(
        '1',
        'direct',
        'forget',
        { answer: 'That is Project Falcon, run out of Lisbon.', leakedTerms: ['Project Falcon'] },
        { answer: 'I cannot share that.', leakedTerms: [] },
      ),
      rec('2', 'masked', 'forget', { answer: 'F-a-l-c-o-n, obviously.', leakedTerms: ['Falcon'] }, { answer: 'No.', leakedTerms: [] }),
      rec(
        '3',
        'direct',
        'retain',
        { answer: 'Brelmont has 12,400 inhabitants.', correct: true, refused: false },
        { answer: 'Brelmont has 12,400 inhabitants.', correct: true, refused: false },
      ),
    ];
    const full = buildReport({
      model: 'm',
      host: 'h',
      dataset: { format: 'unlearn-eval/1', source: 'workspace targets', entities: [], targets: [], questions: [] },
      run: { records: leaky, total: 3, startedAt: 't0', finishedAt: 't1' },
      judge: false,
    });
    const masked = maskPlainAnswers(full, index);
    assert.deepEqual(
      masked.questions.map((q) => q.plain.answer),
      [
        'That is [redacted: Project Falcon], run out of Lisbon.',
        '[redacted: Project Falcon], obviously.',
        'Brelmont has 12,400 inhabitants.',
      ],
    );
    assert.deepEqual(masked.metrics, full.metrics, 'computed from the full answers');
    assert.deepEqual(
      masked.questions.map((q) => q.plain.leakedTerms),
      full.questions.map((q) => q.plain.leakedTerms),
    );
    assert.equal(full.questions[0]!.plain.answer, 'That is Project Falcon, run out of Lisbon.', 'the full report is not changed');
    const html = renderHtml(masked);
    assert.ok(!html.includes('Project Falcon,') && !/F-a-l-c-o-n/.test(html), 'no plain answer names the target in the page');
    assert.match(html, /redacted \(turn on unlearn\.preview\.showOriginal to see them whole\)/);
    assert.doesNotMatch(renderHtml(full), /showOriginal/);
  });
});

describe('unlearn eval generate', () => {
  const io = (cwd: string) => {
    const out = { stdout: '', stderr: '' };
    const value: CliIo = {
      stdout: (t) => (out.stdout += t),
      stderr: (t) => (out.stderr += t),
      env: {},
      cwd,
      signal: new AbortController().signal,
    };
    return { io: value, out };
  };

  test('writes the same file for the same seed; prints to stdout without --out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-eval-gen-'));
    const a = io(dir);
    assert.equal(await evalCommand(['generate', '--seed', '5', '--entities', '4', '--out', 'a.json'], a.io), EXIT.ok);
    assert.match(a.out.stderr, /wrote 68 questions \(34 forget, 34 retain\) about 4 entities/);
    const b = io(dir);
    assert.equal(await evalCommand(['generate', '--seed', '5', '--entities', '4'], b.io), EXIT.ok);
    assert.equal(await readFile(join(dir, 'a.json'), 'utf8'), b.out.stdout);
    // --kinds keeps the named kinds only, and an unknown one is a usage error.
    const c = io(dir);
    assert.equal(await evalCommand(['generate', '--seed', '5', '--entities', '4', '--kinds', 'composite,multi-turn'], c.io), EXIT.ok);
    const kinds = (JSON.parse(c.out.stdout) as { questions: { kind: string }[] }).questions.map((q) => q.kind);
    assert.deepEqual([...new Set(kinds)].sort(), ['composite', 'multi-turn']);
    const bad = io(dir);
    assert.equal(await evalCommand(['generate', '--kinds', 'riddle'], bad.io), EXIT.usage);
    assert.match(bad.out.stderr, /--kinds must be a comma list of direct, .*agent-injection; got "riddle"/);
  });

  test('usage errors exit 2 and say what is wrong', async () => {
    for (const [args, message] of [
      [['generate', '--entities', '1'], /--entities must be a whole number from 2 to 400/],
      [['run', '--samples', '0'], /--samples must be a whole number from 1 to 50/],
      [['run', '--retain', 'r.json'], /--retain and --targets go with a TOFU --dataset file/],
      [['run', '--dataset', 'missing.json'], /cannot read .*missing.json: ENOENT/],
      [['frobnicate'], /unknown subcommand "frobnicate"/],
    ] as const) {
      const x = io(tmpdir());
      assert.equal(await evalCommand([...args], x.io), EXIT.usage, args.join(' '));
      assert.match(x.out.stderr, message);
    }
  });
});
