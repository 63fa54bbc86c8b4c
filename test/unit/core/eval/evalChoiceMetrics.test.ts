import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildReport, metricsByKind, renderHtml, renderTable, type AnswerRecord, type QuestionRecord } from '../../../../src/core/eval';
import { parseAuditPolicies } from '../../../../src/cli/eval';

const answer = (extra: Partial<AnswerRecord>): AnswerRecord => ({ answer: 'x', ms: 100, firstTokenMs: 40, calls: 1, tokens: 10, ...extra });
const mc = (
  id: string,
  split: 'forget' | 'retain',
  choices: number,
  plain: Partial<AnswerRecord>,
  unlearn: Partial<AnswerRecord>,
): QuestionRecord => ({
  id,
  kind: 'multiple-choice',
  split,
  question: `q${id}`,
  choices: Array.from({ length: choices }, (_, i) => `choice ${i}`),
  answerIndex: 0,
  plain: answer(plain),
  unlearn: answer(unlearn),
});

describe('multiple-choice metrics', () => {
  const records = [
    mc(
      '1',
      'forget',
      4,
      { correct: true, choice: 0, leakedTerms: ['(correct choice)'] },
      { correct: false, refused: true, leakedTerms: [] },
    ),
    mc('2', 'forget', 4, { correct: true, choice: 0, leakedTerms: ['(correct choice)'] }, { correct: false, choice: 2, leakedTerms: [] }),
    mc('3', 'retain', 2, { correct: true, choice: 0 }, { correct: true, choice: 0 }),
    mc('4', 'retain', 4, { correct: false }, { correct: false, refused: true }),
  ];

  test('accuracy per split, chance, and refusals scored at chance', () => {
    const all = metricsByKind(records).at(-1)!;
    assert.equal(all.chance, (0.25 + 0.25 + 0.5 + 0.25) / 4);
    assert.equal(all.plain.forget.accuracy, 1);
    assert.equal(all.unlearn.forget.accuracy, 0);
    assert.equal(all.plain.retain.accuracy, 0.5);
    assert.equal(all.unlearn.retain.accuracy, 0.5);
    // Unlearn refused one forget question of 4 choices and one retain question of 4.
    assert.deepEqual(all.unlearn.forget.choice, { n: 2, correct: 0, accuracy: 0, refused: 1, accuracyRefusalsAtChance: 0.25 / 2 });
    assert.equal(all.unlearn.retain.choice!.accuracyRefusalsAtChance, (1 + 0.25) / 2);
    assert.equal(all.plain.forget.leakRate, 1, 'a right pick on a forget question is a leak');
    assert.equal(all.unlearn.meanFirstTokenMs, 40);
  });

  test('free-text runs carry no chance and no forget accuracy', () => {
    const free: QuestionRecord = {
      id: 'f',
      kind: 'direct',
      split: 'forget',
      question: 'q',
      plain: answer({ leakedTerms: [] }),
      unlearn: answer({ leakedTerms: [] }),
    };
    const all = metricsByKind([free]).at(-1)!;
    assert.equal(all.chance, null);
    assert.equal('accuracy' in all.plain.forget, false);
  });

  test('calls count every request, those of failed questions too', () => {
    const failed: QuestionRecord = {
      ...records[0]!,
      id: 'e',
      plain: answer({ error: 'timeout', calls: 1 }),
      unlearn: answer({ error: 'timeout', calls: 3 }),
    };
    const all = metricsByKind([records[1]!, failed]).at(-1)!;
    assert.equal(all.unlearn.calls, 4);
    assert.equal(all.unlearn.callsPerRequest, 2);
    assert.equal(all.unlearn.requests, 1);
  });

  test('policies side by side: metrics per policy, the table and the page name each system in full', () => {
    const withPolicies = records.map((r) => ({
      ...r,
      policies: { named: r.unlearn, always: { ...r.unlearn, calls: 5, correct: r.split === 'retain' ? r.unlearn.correct : false } },
    }));
    const m = metricsByKind(withPolicies);
    const all = m.at(-1)!;
    assert.deepEqual(Object.keys(all.policies!), ['named', 'always']);
    assert.equal(all.policies!.always!.callsPerRequest, 5);
    assert.equal(all.policies!.named!.callsPerRequest, 1);
    const report = buildReport({
      model: 'm',
      host: 'h',
      dataset: { format: 'unlearn-eval/1', source: 's', entities: [], targets: [], questions: [] },
      run: { records: withPolicies, total: 4, startedAt: 't0', finishedAt: 't1' },
      judge: false,
      auditPolicies: ['named', 'always'],
    });
    const table = renderTable(report);
    assert.match(table, /Multiple choice: accuracy per split \(chance 31%/);
    assert.match(table, /^Unlearn pipeline, audit policy: always\s+0%\s+50%\s+50%\s+5\.0\s+100\s+40$/m);
    const html = renderHtml(report);
    for (const label of ['Plain model (no unlearning)', 'Unlearn pipeline, audit policy: named', 'Unlearn pipeline, audit policy: always'])
      assert.ok(html.includes(`class="lbl">${label}</text>`), `legend names ${label}`);
    assert.match(html, /<line class="chance"/);
    assert.match(html, /Audit policies side by side/);
  });

  test('--audit-policy: one value or a comma list; anything else is a usage error', () => {
    assert.deepEqual(parseAuditPolicies('related'), ['related']);
    assert.deepEqual(parseAuditPolicies('named, related,always,named'), ['named', 'related', 'always']);
    assert.equal(parseAuditPolicies(undefined), undefined);
    assert.match(parseAuditPolicies('sometimes') as string, /--audit-policy must be one or more of/);
    assert.match(parseAuditPolicies(',') as string, /--audit-policy/);
  });
});
