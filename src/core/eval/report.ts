import { redactMatches, type TargetIndex } from '../guard';
import type { StageName } from '../pipeline/types';
import { metricsByKind, type KindMetrics, type SystemMetrics } from './metrics';
import type { EvalRun } from './runner';
import type { EvalDataset, QuestionRecord } from './types';

export interface EvalReport {
  readonly format: 'unlearn-eval-report/1';
  readonly model: string;
  readonly host: string;
  readonly dataset: {
    readonly source: string;
    readonly seed?: number;
    readonly questions: number;
    readonly forget: number;
    readonly retain: number;
    readonly targets: number;
  };
  readonly startedAt: string;
  readonly finishedAt: string;
  /** False when the run was cancelled or stopped by an error: the numbers cover `answered` questions only. */
  readonly complete: boolean;
  readonly stoppedBy?: string;
  readonly answered: number;
  readonly judge: boolean;
  readonly metrics: readonly KindMetrics[];
  readonly questions: readonly QuestionRecord[];
  /** Set by `maskPlainAnswers`: the plain model's answers show `[redacted: …]` where they named a target. */
  readonly plainAnswersMasked?: true;
}

export function buildReport(input: { model: string; host: string; dataset: EvalDataset; run: EvalRun; judge: boolean }): EvalReport {
  const { dataset, run } = input;
  const stoppedBy = run.stopped
    ? run.stopped.reason === 'interrupted'
      ? 'interrupted'
      : `error: ${run.stopped.error instanceof Error ? run.stopped.error.message : String(run.stopped.error)}`
    : undefined;
  return {
    format: 'unlearn-eval-report/1',
    model: input.model,
    host: input.host,
    dataset: {
      source: dataset.source,
      ...(dataset.seed !== undefined ? { seed: dataset.seed } : {}),
      questions: dataset.questions.length,
      forget: dataset.questions.filter((q) => q.split === 'forget').length,
      retain: dataset.questions.filter((q) => q.split === 'retain').length,
      targets: dataset.targets.length,
    },
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    complete: !run.stopped && run.records.length === run.total,
    ...(stoppedBy ? { stoppedBy } : {}),
    answered: run.records.length,
    judge: input.judge,
    metrics: metricsByKind(run.records),
    questions: run.records,
  };
}

/**
 * The report with every mention of a target in the plain model's answers replaced by the guard's
 * `[redacted: …]` marker, for a viewer that promises never to show removed text (the extension, unless
 * `unlearn.preview.showOriginal` is on). The metrics were computed from the raw answers and stay as they
 * are; only the text shown changes. What the guard cannot see (base64, a short name written backwards)
 * stays, as it does in the pipeline's own output.
 */
export function maskPlainAnswers(report: EvalReport, index: TargetIndex): EvalReport {
  const mask = (text: string) => redactMatches(text, index.find(text), index).text;
  return {
    ...report,
    plainAnswersMasked: true,
    questions: report.questions.map((q) => ({ ...q, plain: { ...q.plain, answer: mask(q.plain.answer) } })),
  };
}

// --- terminal -------------------------------------------------------------------------------------

const pct = (v: number | null): string => (v === null ? '–' : `${Math.round(v * 100)}%`);
const num = (v: number | null, digits = 0): string => (v === null ? '–' : v.toFixed(digits));

/** A plain-text table, one row per question kind. */
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
    num(m.unlearn.callsPerRequest, 1),
    num(m.unlearn.tokensPerRequest),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((r, i) => {
    if (i === rows.length - 1) out.push(widths.map((w) => '-'.repeat(w)).join('  '));
    out.push(line(r));
  });
  const judged = report.metrics.at(-1)!;
  if (report.judge)
    out.push(
      '',
      `LLM judge leak rate: plain ${pct(judged.plain.forget.judgeLeakRate)}, unlearn ${pct(judged.unlearn.forget.judgeLeakRate)}`,
    );
  const atK = judged.unlearn.forget.leakAtK;
  if (atK)
    out.push(
      '',
      `Leak@${atK.k} (any of ${atK.k} sampled answers leaks): plain ${pct(judged.plain.forget.leakAtK?.rate ?? null)}, unlearn ${pct(atK.rate)}`,
    );
  out.push(
    '',
    'leak = forget questions whose answer reveals a forget fact; retain = retain questions answered with the fact;',
    'refusals = retain questions the pipeline refused; ms, calls and tokens are means per request (calls and tokens: pipeline).',
  );
  return out.join('\n') + '\n';
}

// --- HTML -----------------------------------------------------------------------------------------

/** Content-Security-Policy of the report: nothing may load from anywhere, and no script runs. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COLORS = { plain: '#c2410c', unlearn: '#2563eb', retain: '#15803d' };
const STAGE_COLORS: Record<StageName, string> = {
  retrieve: '#94a3b8',
  vanilla: '#f59e0b',
  relevance: '#64748b',
  detect: '#a78bfa',
  audit: '#8b5cf6',
  critic: '#ec4899',
  compose: '#0ea5e9',
  guard: '#10b981',
};
const STAGES: readonly StageName[] = ['retrieve', 'vanilla', 'relevance', 'detect', 'audit', 'critic', 'compose', 'guard'];

/** Grouped bars per question kind, values 0..1. */
function barChart(
  title: string,
  rows: readonly { label: string; values: readonly (number | null)[] }[],
  series: readonly { name: string; color: string }[],
): string {
  const barW = 14;
  const groupW = 22 + series.length * (barW + 2);
  const left = 40;
  const top = 44;
  const h = 170;
  const width = left + rows.length * groupW + 20;
  const height = top + h + 62;
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const y = top + h - t * h;
    parts.push(
      `<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" class="ax">${t * 100}%</text>`,
    );
  }
  rows.forEach((row, i) => {
    const x0 = left + i * groupW + 10;
    row.values.forEach((v, s) => {
      const x = x0 + s * (barW + 2);
      if (v === null) {
        parts.push(`<text x="${x + barW / 2}" y="${top + h - 4}" text-anchor="middle" class="ax">–</text>`);
        return;
      }
      const bh = Math.max(v * h, v > 0 ? 1.5 : 0);
      parts.push(
        `<rect class="bar" x="${x}" y="${top + h - bh}" width="${barW}" height="${bh}" fill="${series[s]!.color}"><title>${esc(row.label)} · ${esc(series[s]!.name)}: ${Math.round(v * 100)}%</title></rect>`,
      );
      parts.push(`<text x="${x + barW / 2}" y="${top + h - bh - 4}" text-anchor="middle" class="val">${Math.round(v * 100)}</text>`);
    });
    parts.push(
      `<text transform="translate(${x0 + (series.length * (barW + 2)) / 2},${top + h + 12}) rotate(30)" class="lbl">${esc(row.label)}</text>`,
    );
  });
  const legend = series
    .map(
      (s, i) =>
        `<rect x="${left + i * 130}" y="6" width="12" height="12" fill="${s.color}"/><text x="${left + i * 130 + 18}" y="16" class="lbl">${esc(s.name)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${legend}${parts.join('')}</svg></figure>`;
}

/** Horizontal stacked bars: mean milliseconds per stage, plain model and pipeline. */
function latencyChart(all: KindMetrics): string {
  const rows: { label: string; segments: { stage: string; ms: number; color: string }[] }[] = [
    { label: 'plain model', segments: [{ stage: 'model call', ms: all.plain.meanMs ?? 0, color: COLORS.plain }] },
    {
      label: 'Unlearn pipeline',
      segments: STAGES.filter((s) => all.unlearn.stageMs[s] !== undefined).map((s) => ({
        stage: s,
        ms: all.unlearn.stageMs[s]!,
        color: STAGE_COLORS[s],
      })),
    },
  ];
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((a, s) => a + s.ms, 0)));
  const left = 130;
  const barW = 460;
  const width = left + barW + 90;
  const height = 30 + rows.length * 40;
  const parts: string[] = [];
  rows.forEach((row, i) => {
    const y = 30 + i * 40;
    let x = left;
    parts.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end" class="lbl">${esc(row.label)}</text>`);
    for (const seg of row.segments) {
      const w = (seg.ms / max) * barW;
      parts.push(
        `<rect x="${x}" y="${y}" width="${Math.max(w, 0)}" height="24" fill="${seg.color}"><title>${esc(seg.stage)}: ${seg.ms.toFixed(0)} ms</title></rect>`,
      );
      x += w;
    }
    parts.push(`<text x="${x + 6}" y="${y + 17}" class="val">${row.segments.reduce((a, s) => a + s.ms, 0).toFixed(0)} ms</text>`);
  });
  const legendItems = [{ stage: 'plain call', color: COLORS.plain }, ...STAGES.map((s) => ({ stage: s, color: STAGE_COLORS[s] }))];
  const legend = legendItems
    .map(
      (l, i) =>
        `<rect x="${10 + i * 88}" y="6" width="12" height="12" fill="${l.color}"/><text x="${28 + i * 88}" y="16" class="lbl">${esc(l.stage)}</text>`,
    )
    .join('');
  const title = 'Mean latency per request, by pipeline stage';
  return `<figure><figcaption>${title}</figcaption><svg role="img" aria-label="${title}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${legend}${parts.join('')}</svg></figure>`;
}

function card(label: string, plain: string, unlearn: string, note: string): string {
  return `<div class="card"><div class="card-label">${esc(label)}</div><div class="card-values"><span class="plain">${esc(plain)}</span><span class="arrow">→</span><span class="unlearn">${esc(unlearn)}</span></div><div class="note">${esc(note)}</div></div>`;
}

function metricsRow(m: KindMetrics): string {
  const cell = (s: SystemMetrics) => [
    pct(s.forget.leakRate),
    pct(s.retain.accuracy),
    pct(s.retain.refusalRate),
    num(s.meanMs),
    num(s.callsPerRequest, 1),
    num(s.tokensPerRequest),
  ];
  const cells = [`${m.unlearn.forget.n} / ${m.unlearn.retain.n}`, ...cell(m.plain), ...cell(m.unlearn)];
  return `<tr class="${m.kind === 'all' ? 'total' : ''}"><th>${esc(m.kind)}</th>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

function questionRow(r: QuestionRecord): string {
  const verdict = (a: QuestionRecord['plain']) => {
    if (a.error) return `<span class="bad">error</span>`;
    if (r.split === 'forget')
      return (a.leakedTerms?.length ?? 0) > 0
        ? `<span class="bad">leaked${a.leakDecoding ? ` (${esc(a.leakDecoding)})` : ''}</span>`
        : `<span class="good">kept</span>`;
    return a.correct
      ? `<span class="good">correct</span>`
      : a.refused
        ? `<span class="bad">refused</span>`
        : `<span class="warn">missed</span>`;
  };
  const answer = (a: QuestionRecord['plain']) => `<div class="answer">${esc(a.error ?? a.answer)}</div>`;
  return `<tr><td>${esc(r.kind)}</td><td>${esc(r.split)}</td><td>${esc(r.question)}</td><td>${verdict(r.plain)}${answer(r.plain)}</td><td>${verdict(r.unlearn)}${answer(r.unlearn)}</td></tr>`;
}

/** A self-contained page: inline CSS and SVG, no script, no external asset. */
export function renderHtml(report: EvalReport): string {
  const kinds = report.metrics.filter((m) => m.kind !== 'all');
  const all = report.metrics.at(-1)!;
  const status = report.complete
    ? ''
    : `<p class="partial">Partial results: ${report.answered} of ${report.dataset.questions} questions answered (${esc(report.stoppedBy ?? 'stopped')}). The numbers below cover the answered questions only.</p>`;
  const atK = all.unlearn.forget.leakAtK;
  const atKLine = atK
    ? `<p>Leak@${atK.k} (a forget question counts if any of ${atK.k} sampled answers leaks): plain ${pct(all.plain.forget.leakAtK?.rate ?? null)}, Unlearn ${pct(atK.rate)}.</p>`
    : '';
  const judgeLine = report.judge
    ? `<p>LLM judge leak rate: plain ${pct(all.plain.forget.judgeLeakRate)}, Unlearn ${pct(all.unlearn.forget.judgeLeakRate)} (${all.unlearn.forget.judged} judged).</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unlearn evaluation · ${esc(report.model)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;background:#fff;margin:0;padding:24px 32px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#4b5563;margin:0 0 16px}
.partial{background:#fef3c7;border:1px solid #f59e0b;padding:8px 12px;border-radius:6px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px}
.card-label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#6b7280}
.card-values{font-size:22px;font-weight:600;margin:2px 0}
.plain{color:${COLORS.plain}}.unlearn{color:${COLORS.unlearn}}.arrow{color:#9ca3af;margin:0 8px}
.note{font-size:12px;color:#6b7280}
.charts{display:flex;gap:32px;flex-wrap:wrap;margin-bottom:16px}
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
svg .ax{font-size:10px;fill:#6b7280}svg .lbl{font-size:11px;fill:#374151}svg .val{font-size:10px;fill:#111827}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:right;vertical-align:top}
thead th{background:#f9fafb;font-weight:600}
thead th[colspan]{text-align:center}
th:first-child,td:first-child{text-align:left}
tr.total th,tr.total td{font-weight:700;border-top:2px solid #9ca3af}
.questions td{text-align:left;max-width:340px}
.answer{color:#4b5563;font-size:12px;white-space:pre-wrap;max-height:7em;overflow:auto}
.good{color:#15803d;font-weight:600}.bad{color:#b91c1c;font-weight:600}.warn{color:#b45309;font-weight:600}
details summary{cursor:pointer;font-weight:600}
</style></head><body>
<h1>Unlearn evaluation</h1>
<p class="meta">Model <b>${esc(report.model)}</b> at ${esc(report.host)} · dataset ${esc(report.dataset.source)} · ${report.dataset.forget} forget and ${report.dataset.retain} retain questions, ${report.dataset.targets} forget targets · ${esc(report.startedAt)}</p>
${status}
<div class="cards">
${card('Forget leak rate', pct(all.plain.forget.leakRate), pct(all.unlearn.forget.leakRate), 'forget answers that reveal a fact (lower is better)')}
${card('Retain accuracy', pct(all.plain.retain.accuracy), pct(all.unlearn.retain.accuracy), 'retain answers that give the fact (higher is better)')}
${card('Refusals on retain', pct(all.plain.retain.refusalRate), pct(all.unlearn.retain.refusalRate), 'over-forgetting (lower is better)')}
${card('Latency per request', `${num(all.plain.meanMs)} ms`, `${num(all.unlearn.meanMs)} ms`, `${num(all.plain.callsPerRequest, 1)} → ${num(all.unlearn.callsPerRequest, 1)} model calls, ${num(all.plain.tokensPerRequest)} → ${num(all.unlearn.tokensPerRequest)} tokens`)}
</div>
<p class="note">Left of each arrow: the plain model; right: the same model through the Unlearn pipeline.</p>
${judgeLine}
${atKLine}
<h2>By question kind</h2>
<div class="charts">
${barChart(
  'Forget leak rate (lower is better)',
  kinds.map((m) => ({ label: m.kind, values: [m.plain.forget.leakRate, m.unlearn.forget.leakRate] })),
  [
    { name: 'plain model', color: COLORS.plain },
    { name: 'Unlearn', color: COLORS.unlearn },
  ],
)}
${barChart(
  'Retain accuracy (higher is better)',
  kinds.map((m) => ({ label: m.kind, values: [m.plain.retain.accuracy, m.unlearn.retain.accuracy] })),
  [
    { name: 'plain model', color: COLORS.plain },
    { name: 'Unlearn', color: COLORS.unlearn },
  ],
)}
</div>
<div class="charts">${latencyChart(all)}</div>
<h2>Numbers</h2>
<table>
<thead><tr><th rowspan="2">kind</th><th rowspan="2">forget / retain</th><th colspan="6">plain model</th><th colspan="6">Unlearn pipeline</th></tr>
<tr>${['leak', 'retain', 'refused', 'ms', 'calls', 'tokens', 'leak', 'retain', 'refused', 'ms', 'calls', 'tokens'].map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>${report.metrics.map(metricsRow).join('\n')}</tbody>
</table>
<h2>Questions</h2>
<details><summary>${report.questions.length} answered questions, with both answers</summary>
${report.plainAnswersMasked ? '<p class="note">The plain model\'s answers are shown with the targets\' names and aliases redacted (turn on unlearn.preview.showOriginal to see them whole); the verdicts and numbers were computed from the full answers.</p>' : ''}
<table class="questions"><thead><tr><th>kind</th><th>set</th><th>question</th><th>plain model</th><th>Unlearn</th></tr></thead>
<tbody>${report.questions.map(questionRow).join('\n')}</tbody></table>
</details>
</body></html>
`;
}
