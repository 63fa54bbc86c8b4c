// The latency section of `unlearn bench`, small and fast: the real pipeline against the paced scripted
// Ollama under the two GPU profiles, with `auto` parallelism measured by the probe; reply lengths by the
// BPE-like estimate; every case reaches the outcome it is named for; goal lines carry calls and tokens.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runLatencyBench, type LatencyRow } from '../../src/bench/latencyBench';
import { conversationOf, proseOfTokens } from '../../src/bench/latencyBenchWorld';
import { formatLatencyReport, goalsOf } from '../../src/bench/latencyBenchReport';
import { estimateBpeTokens } from '../support/speedModel';

describe('latency bench', () => {
  it('writes prose and conversations of the asked length in tokens, each conversation starting its own way', () => {
    for (const n of [1, 50, 300]) assert.ok(Math.abs(estimateBpeTokens(proseOfTokens(n)) - n) <= 1, `${n}`);
    const a = conversationOf(2000, 0);
    const b = conversationOf(2000, 1);
    const tokens = a.reduce((sum, m) => sum + estimateBpeTokens(m.content) + 4, 0);
    assert.ok(tokens >= 2000 && tokens < 2200, `${tokens} tokens`);
    assert.notEqual(a[0]!.content[0] + a[0]!.content.slice(0, 14), b[0]!.content[0] + b[0]!.content.slice(0, 14));
    assert.deepEqual(
      a.slice(0, 4).map((m) => m.role),
      ['user', 'assistant', 'user', 'assistant'],
    );
  });

  it('times every case through the real pipeline with parallelCalls auto, one slot and four', async () => {
    const report = await runLatencyBench({
      profiles: ['gpu-1-slot', 'gpu-4-slots'],
      answerTokens: 60,
      historyTokens: 300,
      // A faster clock than the bench's: this test checks what runs, not first-text precision.
      timeScaleFactor: 0.3,
    });
    assert.deepEqual(
      report.profiles.map((p) => [p.name, p.measuredSlots]),
      [
        ['gpu-1-slot', 1],
        ['gpu-4-slots', 4],
      ],
    );
    // The probe costs a fraction of a second of model time (10 tokens at 30 tok/s, twice on one slot).
    for (const p of report.profiles) assert.ok(p.probeSeconds > 0.3 && p.probeSeconds < 1.2, `${p.name}: ${p.probeSeconds} s`);
    const row = (profile: string, c: string) => report.rows.find((r) => r.profile === profile && r.case === c && !r.note)!;
    for (const profile of ['gpu-1-slot', 'gpu-4-slots'] as const) {
      const untouched = row(profile, 'untouched');
      assert.equal(untouched.outcome, 'vanilla');
      assert.equal(untouched.parallelCalls, profile === 'gpu-1-slot' ? 1 : 4);
      // The vanilla answer stands: about the plain model's time, whatever else the pipeline does.
      assert.ok(untouched.totalRatio > 0.85 && untouched.totalRatio < 1.5, `${profile} untouched ${untouched.totalRatio}`);
      for (const c of ['named-in-question', 'named-in-answer', 'meaning-only'] as const) {
        const r = row(profile, c);
        assert.equal(r.outcome, 'erased', `${profile} ${c}`);
        // Erasure ran (whole rewrites or edits, whichever the pipeline writes).
        assert.ok(
          r.agents.some((a) => a === 'rewrite' || a === 'edit'),
          `${profile} ${c}: ${r.agents.join(' ')}`,
        );
        assert.ok(r.totalRatio > 1, `${profile} ${c}: ${r.totalRatio}`);
        assert.ok(r.firstTextSeconds <= r.totalSeconds + 1e-9);
      }
      // Only the answer names the target: the vanilla agent starts a draft (after detection cleared the
      // question, when it was near a target); the question names it: no draft at all.
      assert.ok(row(profile, 'named-in-answer').agents.includes('vanilla'));
      assert.ok(
        !row(profile, 'named-in-answer').agents.slice(0, row(profile, 'named-in-answer').agents.indexOf('vanilla')).includes('edit'),
      );
      assert.ok(!row(profile, 'named-in-question').agents.includes('vanilla'));
      // Meaning only: nothing is spelled in the question, so a draft is started before anything is erased.
      assert.ok(row(profile, 'meaning-only').agents.includes('vanilla'));
      const falsePositive = row(profile, 'semantic-false-positive');
      assert.equal(falsePositive.outcome, 'vanilla');
      assert.ok(falsePositive.agents.includes('detect'), 'the meaning was near enough to ask detection');
      assert.ok(!falsePositive.agents.some((a) => a === 'rewrite' || a === 'edit'));
    }
    // One slot never makes more calls than four (the pipeline may cut candidates there, never add).
    assert.ok(row('gpu-1-slot', 'named-in-question').calls <= row('gpu-4-slots', 'named-in-question').calls);
    // Goals: one per case and profile, two for the untouched case; the run with a critic that tells the
    // candidates apart (the composer's case) is a note, not a goal, and only where k > 1 (four slots).
    assert.equal(report.goals.length, 2 * 6);
    assert.deepEqual(
      report.rows.filter((r) => r.note).map((r) => r.profile),
      ['gpu-4-slots'],
    );
    const text = formatLatencyReport(report);
    assert.match(
      text,
      /(PASS|FAIL) {2}gpu-1-slot {2}named in question, total: \d+\.\d\d× \(goal ≤ 2\.00×; \d+ calls, \d+ generated tokens\)/,
    );
    assert.match(text, /(PASS|FAIL) {2}gpu-4-slots untouched, first text \(× plain total\)/);
    assert.match(text, /NOTE {2}gpu-4-slots named-in-question, critic tells candidates apart/);
  });

  it('judges each case against its own limit per profile', () => {
    const base: Omit<LatencyRow, 'profile' | 'case' | 'totalRatio'> = {
      parallelCalls: 1,
      outcome: 'erased',
      totalSeconds: 1,
      firstTextSeconds: 1,
      plainTotalSeconds: 1,
      plainFirstTokenSeconds: 0.1,
      firstTextRatio: 1,
      firstTextOfPlainTotal: 0.1,
      calls: 3,
      generatedTokens: 100,
      promptTokens: 100,
      agents: [],
    };
    const goals = goalsOf([
      { ...base, profile: 'gpu-4-slots', case: 'named-in-question', totalRatio: 1.7 },
      { ...base, profile: 'gpu-1-slot', case: 'named-in-question', totalRatio: 1.7 },
      { ...base, profile: 'cpu', case: 'meaning-only', totalRatio: 2.4 },
      { ...base, profile: 'cpu', case: 'semantic-false-positive', totalRatio: 1.21 },
      { ...base, profile: 'cpu', case: 'untouched', totalRatio: 1.0 },
    ]);
    assert.deepEqual(
      goals.map((g) => [g.profile, g.name, g.limit, g.pass]),
      [
        ['gpu-4-slots', 'named in question, total', 1.6, false],
        ['gpu-1-slot', 'named in question, total', 2.0, true],
        ['cpu', 'meaning only, total', 2.5, true],
        ['cpu', 'semantic false positive, total', 1.2, false],
        ['cpu', 'untouched, total', 1.05, true],
        ['cpu', 'untouched, first text (× plain total)', 0.15, true],
      ],
    );
  });

  it('--provider openai: the same speed model behind the OpenAI wire gives the same shape of result', async () => {
    const report = await runLatencyBench({
      profiles: ['gpu-1-slot'],
      cases: ['untouched', 'named-in-question'],
      answerTokens: 60,
      historyTokens: 300,
      timeScaleFactor: 0.3,
      provider: 'openai',
    });
    assert.equal(report.provider, 'openai');
    assert.deepEqual(
      report.profiles.map((p) => p.measuredSlots),
      [1],
    );
    const row = (c: string) => report.rows.find((r) => r.case === c && !r.note)!;
    assert.equal(row('untouched').outcome, 'vanilla');
    assert.equal(row('named-in-question').outcome, 'erased');
    assert.match(formatLatencyReport(report), /Latency of a guarded answer as users run it \(OpenAI-compatible wire/);
  });
});
