// The latency section of `unlearn bench`, small and fast: honest reply lengths, ratios that follow from
// the speed model, and goal lines that neither pass nor fail for a case the pipeline cannot produce yet.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatLatencyReport, proseOfTokens, runLatencyBench } from '../../src/bench/latencyBench';
import { estimateTokens } from '../support/scriptedOllama';

describe('latency bench', () => {
  it('writes prose of the asked length, naming the subject when given one', () => {
    for (const n of [1, 50, 300]) assert.equal(estimateTokens(proseOfTokens(n)), n);
    assert.match(proseOfTokens(40, 'Project Falcon'), /^Project Falcon /);
  });

  it('times the plain model, an untouched and a touched request, and reports goals as ratios', async () => {
    const report = await runLatencyBench({ timeScale: 0.03, answerTokens: 60, slots: [1] });
    const row = (c: string) => report.rows.find((r) => r.case === c)!;
    const plain = row('plain');
    assert.equal(plain.totalRatio, 1);
    // 60 tokens at 30 tok/s: 2 s of model time, plus prompt evaluation and our own time between calls.
    assert.ok(plain.totalSeconds > 1.95 && plain.totalSeconds < 2.5, `plain took ${plain.totalSeconds} s`);
    assert.equal(row('untouched').outcome, 'vanilla');
    assert.ok(row('untouched').totalRatio < 1.5);
    const touched = row('touched');
    assert.equal(touched.outcome, 'erased');
    // One slot: no draft (the question names the target), two rewrites one after the other, the critic;
    // the best candidate is shown as written.
    assert.equal(touched.calls, 3);
    // Two full answers in a row and the critic's scores: a little over two plain answers, under three.
    assert.ok(touched.totalRatio > 2 && touched.totalRatio < 3, `touched ratio ${touched.totalRatio}`);
    assert.ok(touched.firstTokenSeconds <= touched.totalSeconds);
    const composed = row('touched-composed');
    assert.equal(composed.outcome, 'erased');
    assert.equal(composed.calls, 3, 'one slot: k is 1, so no composer even when the critic tells candidates apart');
    const text = formatLatencyReport(report);
    assert.match(text, /PASS {2}touched request, total time, 1 slot: \d+\.\d\d× plain \(goal ≤ 3\.00×\)/);
    assert.match(text, /PASS {2}untouched request, total time, 1 slot\(s\)/);
    const semantic = row('semantic-false-positive');
    const semanticGoal = report.goals.find((g) => g.name.startsWith('semantic false positive'))!;
    if (semantic.measured) assert.equal(typeof semanticGoal.pass, 'boolean');
    else assert.equal(semanticGoal.pass, undefined);
  });

  it('--provider openai: the same speed model behind the OpenAI wire gives the same shape of result', async () => {
    const report = await runLatencyBench({ timeScale: 0.03, answerTokens: 60, slots: [1], provider: 'openai' });
    assert.equal(report.provider, 'openai');
    const plain = report.rows.find((r) => r.case === 'plain')!;
    assert.ok(plain.totalSeconds > 1.95 && plain.totalSeconds < 2.5, `plain took ${plain.totalSeconds} s`);
    const touched = report.rows.find((r) => r.case === 'touched')!;
    assert.equal(touched.outcome, 'erased');
    assert.equal(touched.calls, 3);
    assert.match(formatLatencyReport(report), /Latency of a guarded answer \(OpenAI-compatible wire/);
  });
});
