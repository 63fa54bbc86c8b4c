import type { EvalReport } from './report';
import { reportSystems } from './report';

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
const num = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '–' : v.toFixed(digits));

function grid(header: readonly string[], rows: readonly string[][], totalLast = false): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(header), rule];
  rows.forEach((r, i) => {
    if (totalLast && i === rows.length - 1) out.push(rule);
    out.push(line(r));
  });
  return out;
}

/** A plain-text table, one row per question kind; then multiple-choice accuracy and the policies side by side when the run has them. */
export function renderTable(report: EvalReport): string {
  const header = [
    'kind',
    'forget',
    'leak plain',
    'leak unlearn',
    'retain',
    'retain plain',
    'retain unlearn',
    'refusals',
    'ms plain',
    'ms unlearn',
    '1st plain',
    '1st unlearn',
    'calls',
    'tokens',
  ];
  const rows = report.metrics.map((m) => [
    m.kind,
    String(m.unlearn.forget.n),
    pct(m.plain.forget.leakRate),
    pct(m.unlearn.forget.leakRate),
    String(m.unlearn.retain.n),
    pct(m.plain.retain.accuracy),
    pct(m.unlearn.retain.accuracy),
    pct(m.unlearn.retain.refusalRate),
    num(m.plain.meanMs),
    num(m.unlearn.meanMs),
    num(m.plain.meanFirstTokenMs),
    num(m.unlearn.meanFirstTokenMs),
    num(m.unlearn.callsPerRequest, 1),
    num(m.unlearn.tokensPerRequest),
  ]);
  const out = grid(header, rows, true);
  const all = report.metrics.at(-1)!;
  const systems = reportSystems(report);
  if (all.chance !== null) {
    out.push('', `Multiple choice: accuracy per split (chance ${pct(all.chance)}; with refusals scored at chance in brackets)`);
    out.push(
      ...grid(
        ['system', 'forget', 'retain'],
        systems.map((s) => {
          const m = s.metrics(all);
          const cell = (c: { accuracy: number | null; accuracyRefusalsAtChance: number | null } | undefined) =>
            c ? `${pct(c.accuracy)} (${pct(c.accuracyRefusalsAtChance)})` : '–';
          return [s.label, cell(m?.forget.choice), cell(m?.retain.choice)];
        }),
      ),
    );
  }
  if (report.auditPolicies?.length) {
    out.push('', 'Forget leak rate per kind and system:');
    out.push(
      ...grid(
        ['kind', ...systems.map((s) => s.short)],
        report.metrics
          .filter((m) => m.unlearn.forget.n > 0)
          .map((m) => [m.kind, ...systems.map((s) => pct(s.metrics(m)?.forget.leakRate))]),
        true,
      ),
    );
    out.push('', 'Audit policies side by side (all questions):');
    out.push(
      ...grid(
        ['system', 'leak', 'retain', 'refusals', 'calls/q', 'ms', '1st ms'],
        systems.map((s) => {
          const m = s.metrics(all);
          return [
            s.label,
            pct(m?.forget.leakRate),
            pct(m?.retain.accuracy),
            pct(m?.retain.refusalRate),
            num(m?.callsPerRequest, 1),
            num(m?.meanMs),
            num(m?.meanFirstTokenMs),
          ];
        }),
      ),
    );
  }
  const composite = report.metrics.find((m) => m.kind === 'composite');
  if (composite?.plain.forget.retainHalf)
    out.push(
      '',
      `Composite questions whose answer still gave the retain half: ${systems
        .map((s) => {
          const h = s.metrics(composite)?.forget.retainHalf;
          return `${s.short} ${h ? `${h.answered}/${h.n} (${pct(h.rate)})` : '–'}`;
        })
        .join(', ')}`,
    );
  if (report.judge)
    out.push('', `LLM judge leak rate: plain ${pct(all.plain.forget.judgeLeakRate)}, unlearn ${pct(all.unlearn.forget.judgeLeakRate)}`);
  const atK = all.unlearn.forget.leakAtK;
  if (atK)
    out.push(
      '',
      `Leak@${atK.k} (any of ${atK.k} sampled answers leaks): plain ${pct(all.plain.forget.leakAtK?.rate ?? null)}, unlearn ${pct(atK.rate)}`,
    );
  out.push(
    '',
    'leak = forget questions whose answer reveals a forget fact (multiple choice: picks the right choice); retain = retain',
    'questions answered correctly; refusals = retain questions the pipeline refused; ms = mean time per request, 1st = mean',
    'time to the first text shown; calls = every request sent to Ollama per question (retries and failed calls included); tokens: pipeline.',
  );
  return out.join('\n') + '\n';
}
