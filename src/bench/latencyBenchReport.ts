/** The latency bench's goals and its printed report. */
import type { LatencyGoal, LatencyReport, LatencyRow, ProfileName } from './latencyBench';

/** Issue 22's goals (point 5), one per case and profile; rows with a note are extra measurements, not goals. */
const TOUCHED_LIMITS: Record<'named-in-question' | 'named-in-answer' | 'meaning-only', Record<ProfileName, number>> = {
  'named-in-question': { 'gpu-4-slots': 1.6, 'gpu-1-slot': 2.0, cpu: 2.0 },
  'named-in-answer': { 'gpu-4-slots': 2.0, 'gpu-1-slot': 2.5, cpu: 2.5 },
  'meaning-only': { 'gpu-4-slots': 2.0, 'gpu-1-slot': 2.5, cpu: 2.5 },
};

export function goalsOf(rows: readonly LatencyRow[]): LatencyGoal[] {
  const goals: LatencyGoal[] = [];
  const add = (r: LatencyRow, name: string, limit: number, value: number) =>
    goals.push({
      profile: r.profile,
      case: r.case,
      name,
      limit,
      value,
      pass: value <= limit,
      calls: r.calls,
      generatedTokens: r.generatedTokens,
    });
  for (const r of rows.filter((x) => !x.note)) {
    if (r.case === 'untouched') {
      add(r, 'untouched, total', 1.05, r.totalRatio);
      add(r, 'untouched, first text (× plain total)', 0.15, r.firstTextOfPlainTotal);
    } else if (r.case === 'semantic-false-positive') add(r, 'semantic false positive, total', 1.2, r.totalRatio);
    else add(r, `${r.case.replace(/-/g, ' ')}, total`, TOUCHED_LIMITS[r.case][r.profile], r.totalRatio);
  }
  return goals;
}

export function formatLatencyReport(report: LatencyReport): string {
  const lines = [
    '',
    `Latency of a guarded answer as users run it (${report.provider === 'openai' ? 'OpenAI-compatible wire' : 'Ollama wire'}; model time; parallelCalls auto; ${report.historyTokens}-token conversation + ` +
      `the client's system message on every request; answers of ${report.answerTokens} tokens, a replacement as long as its sentence; j=${report.candidates}, ` +
      `k=${report.topK}; embedding model on; ${report.realSeconds.toFixed(1)} s real)`,
  ];
  for (const p of report.profiles) {
    const s = p.speed;
    lines.push(
      '',
      `${p.label}: ${s.generationTokensPerSecond} tok/s generation, ${s.promptTokensPerSecond} tok/s prompt, ${s.slots} slot(s); ` +
        `auto measured ${p.measuredSlots} in ${p.probeSeconds.toFixed(2)} s (once per server); clock ×${p.timeScale}`,
      '',
      `${'case'.padEnd(30)}${'plain'.padStart(8)}${'total'.padStart(9)}${'×plain'.padStart(8)}${'1st text'.padStart(10)}${'×1st tok'.padStart(10)}${'×total'.padStart(8)}${'calls'.padStart(7)}${'gen tok'.padStart(9)}  agents`,
    );
    for (const r of report.rows.filter((x) => x.profile === p.name)) {
      lines.push(
        `${(r.note ? `${r.case} (composer)` : r.case).padEnd(30)}${`${r.plainTotalSeconds.toFixed(1)}s`.padStart(8)}${`${r.totalSeconds.toFixed(1)}s`.padStart(9)}` +
          `${r.totalRatio.toFixed(2).padStart(8)}${`${r.firstTextSeconds.toFixed(1)}s`.padStart(10)}${r.firstTextRatio.toFixed(2).padStart(10)}` +
          `${r.firstTextOfPlainTotal.toFixed(2).padStart(8)}${String(r.calls).padStart(7)}${String(r.generatedTokens).padStart(9)}  ${compactAgents(r.agents)}`,
      );
    }
  }
  lines.push('', '(×plain: total / plain total; ×1st tok: first text / plain first token; ×total: first text / plain total)', '');
  for (const g of report.goals) {
    lines.push(
      `${g.pass ? 'PASS' : 'FAIL'}  ${g.profile.padEnd(12)}${g.name}: ${g.value.toFixed(2)}× (goal ≤ ${g.limit.toFixed(2)}×; ${g.calls} calls, ${g.generatedTokens} generated tokens)`,
    );
  }
  for (const r of report.rows.filter((x) => x.note)) {
    lines.push(
      `NOTE  ${r.profile.padEnd(12)}${r.case}, ${r.note}: ${r.totalRatio.toFixed(2)}× plain (${r.calls} calls, ${r.generatedTokens} generated tokens)`,
    );
  }
  return lines.join('\n') + '\n';
}

/** "vanilla detect rewrite×3 critic": the agents of a request in order, repeats folded. */
function compactAgents(agents: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < agents.length;) {
    let n = 1;
    while (agents[i + n] === agents[i]) n++;
    out.push(n > 1 ? `${agents[i]}×${n}` : agents[i]!);
    i += n;
  }
  return out.join(' ');
}
