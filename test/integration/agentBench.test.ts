// The Agent-mode section of `unlearn bench`, small and fast: the guarded turn makes the same model calls as
// the plain one, and a turn whose tool result names a target is erased.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatAgentReport, runAgentBench } from '../../src/bench/agentBench';

describe('agent bench', () => {
  it('times a five-call turn plain and guarded, and a touched turn that goes to the agents', async () => {
    const report = await runAgentBench({ timeScale: 0.03, answerTokens: 60, slots: [1] });
    const row = (c: string) => report.rows.find((r) => r.case === c)!;
    assert.equal(row('plain').calls, 5);
    assert.equal(row('guarded').calls, 5, 'tool steps and an untouched answer add no model call');
    assert.equal(row('guarded').outcome, 'vanilla');
    // Same calls, same prompts: only our own time between calls differs.
    assert.ok(row('guarded').totalRatio < 1.3, `guarded ratio ${row('guarded').totalRatio}`);
    assert.equal(row('guarded-touched').outcome, 'erased');
    assert.ok(row('guarded-touched').calls > 5);
    assert.match(
      formatAgentReport(report),
      /(PASS|FAIL) {2}agent turn of 5 steps, no target touched, total time, 1 slot\(s\): \d\.\d\d× plain/,
    );
  });
});
