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
    // One slot: no vanilla draft (the question names the target): one erased answer, three short edit
    // calls one after the other, the critic; the merge makes no call.
    assert.equal(touched.calls, 5);
    // One full answer, three short edit replies and the critic's scores, one after the other. With answers of
    // only 60 tokens, each edit reply (about 25 tokens of JSON) is almost half an answer, so this small run
    // shows more than one plain answer and less than four; the full bench (300-token answers) measures the goal.
    assert.ok(touched.totalRatio > 1 && touched.totalRatio < 4, `touched ratio ${touched.totalRatio}`);
    assert.ok(touched.firstTokenSeconds <= touched.totalSeconds);
    const composed = row('touched-composed');
    assert.equal(composed.outcome, 'erased');
    assert.equal(composed.calls, 5, 'the composer merges edit sets without a model call, even when the critic tells candidates apart');
    const text = formatLatencyReport(report);
    assert.match(text, /PASS {2}touched request, total time, 1 slot: \d+\.\d\d× plain \(goal ≤ 3\.00×\)/);
    assert.match(text, /PASS {2}untouched request, total time, 1 slot\(s\)/);
    const semantic = row('semantic-false-positive');
    const semanticGoal = report.goals.find((g) => g.name.startsWith('semantic false positive'))!;
    if (semantic.measured) assert.equal(typeof semanticGoal.pass, 'boolean');
    else assert.equal(semanticGoal.pass, undefined);
  });
});
