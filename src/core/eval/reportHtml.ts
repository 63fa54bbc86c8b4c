import type { StageName } from '../pipeline';
import type { KindMetrics, SystemMetrics } from './metrics';
import { CHOICE_LETTERS } from './multipleChoice';
import { reportSystems, type EvalReport, type ReportSystem } from './report';
import { ATTACK_KINDS, type AnswerRecord, type QuestionRecord } from './types';

/** Content-Security-Policy of the report: nothing may load from anywhere, and no script runs. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`);
const num = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '–' : v.toFixed(digits));

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Plain model orange; the pipeline blue, and each further audit policy its own cool colour. */
const SYSTEM_COLORS = ['#c2410c', '#2563eb', '#7c3aed', '#0891b2', '#4d7c0f'];
/** The class that colours a system's numbers: `plain`, `unlearn`, then `system-2`, `system-3`… */
const systemClass = (i: number): string => (i === 0 ? 'plain' : i === 1 ? 'unlearn' : `system-${i}`);
const SYSTEM_CSS = SYSTEM_COLORS.map((c, i) => `.${systemClass(i)}{color:${c}}`).join('');
const CHANCE_COLOR = '#b91c1c';
const STAGE_COLORS: Record<StageName, string> = {
  retrieve: '#94a3b8',
  vanilla: '#f59e0b',
  relevance: '#64748b',
  detect: '#a78bfa',
  rewrite: '#6366f1',
  edit: '#818cf8',
  critic: '#ec4899',
  compose: '#0ea5e9',
  guard: '#10b981',
};
const STAGES: readonly StageName[] = ['retrieve', 'vanilla', 'relevance', 'detect', 'rewrite', 'edit', 'critic', 'compose', 'guard'];

interface Series {
  readonly name: string;
  readonly color: string;
}

/**
 * A legend whose entries are spaced by their text, so full system names never overlap; entries that
 * would pass `maxWidth` start a new line.
 */
function legend(
  items: readonly (Series & { marker?: 'line' })[],
  x0: number,
  y0: number,
  maxWidth: number,
): { svg: string; width: number; height: number } {
  let x = x0;
  let y = y0;
  let widest = 0;
  const parts = items.map((item) => {
    const w = 18 + textWidth(item.name) + 18;
    if (x > x0 && x + w - 18 > x0 + maxWidth) {
      x = x0;
      y += LEGEND_LINE;
    }
    const mark =
      item.marker === 'line'
        ? `<line x1="${x}" x2="${x + 14}" y1="${y + 6}" y2="${y + 6}" stroke="${item.color}" stroke-width="2" stroke-dasharray="4 2"/>`
        : `<rect x="${x}" y="${y}" width="12" height="12" fill="${item.color}"/>`;
    const svg = `${mark}<text x="${x + 18}" y="${y + 10}" class="lbl">${esc(item.name)}</text>`;
    x += w;
    widest = Math.max(widest, x - 18 - x0);
    return svg;
  });
  return { svg: parts.join(''), width: widest, height: y - y0 + LEGEND_LINE };
}

const LEGEND_LINE = 16;

/** Width of a label at 11px system-ui: a generous 6.2 px per character. */
function textWidth(text: string): number {
  return Math.ceil(text.length * 6.2);
}

/** Grouped bars, values 0..1, with an optional dashed reference line (chance). */
function barChart(
  title: string,
  rows: readonly { label: string; values: readonly (number | null | undefined)[] }[],
  series: readonly Series[],
  reference?: { value: number; name: string },
): string {
  // Wider bars when more systems share a group, so their value labels do not run into each other.
  const barW = series.length > 2 ? 18 : 14;
  const left = 40;
  const h = 170;
  const keys = legend(
    [...series, ...(reference ? [{ name: reference.name, color: CHANCE_COLOR, marker: 'line' as const }] : [])],
    left,
    6,
    660,
  );
  const top = 28 + keys.height;
  const barsW = series.length * (barW + 2);
  // Few groups (two splits) spread under the legend instead of huddling at the left edge.
  const groupW = Math.max(22 + barsW, Math.min(200, (keys.width - 20) / Math.max(rows.length, 1)));
  // Room on the right for the last group's label, which is drawn slanted (30°) past its bars.
  const labelEnd = Math.max(
    0,
    ...rows.map(
      (row, i) => left + i * groupW + Math.max(10, (groupW - barsW) / 2) + barsW / 2 + Math.ceil(textWidth(row.label) * 0.87) + 10,
    ),
  );
  const width = Math.max(left + rows.length * groupW + 20, left + keys.width + 10, labelEnd);
  const height = top + h + 62;
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const y = top + h - t * h;
    parts.push(
      `<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#e5e7eb"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" class="ax">${t * 100}%</text>`,
    );
  }
  rows.forEach((row, i) => {
    const x0 = left + i * groupW + Math.max(10, (groupW - barsW) / 2);
    row.values.forEach((v, s) => {
      const x = x0 + s * (barW + 2);
      if (v === null || v === undefined) {
        parts.push(`<text x="${x + barW / 2}" y="${top + h - 4}" text-anchor="middle" class="ax">–</text>`);
        return;
      }
      const bh = Math.max(v * h, v > 0 ? 1.5 : 0);
      parts.push(
        `<rect class="bar" x="${x}" y="${top + h - bh}" width="${barW}" height="${bh}" fill="${series[s]!.color}"><title>${esc(row.label)} · ${esc(series[s]!.name)}: ${Math.round(v * 100)}%</title></rect>`,
      );
      parts.push(`<text x="${x + barW / 2}" y="${top + h - bh - 4}" text-anchor="middle" class="val">${Math.round(v * 100)}</text>`);
    });
    parts.push(`<text transform="translate(${x0 + barsW / 2},${top + h + 12}) rotate(30)" class="lbl">${esc(row.label)}</text>`);
  });
  if (reference) {
    const y = top + h - reference.value * h;
    parts.push(
      `<line class="chance" x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="${CHANCE_COLOR}" stroke-width="1.5" stroke-dasharray="5 3"><title>${esc(reference.name)}</title></line>`,
    );
  }
  return `<figure><figcaption>${esc(title)}</figcaption><svg role="img" aria-label="${esc(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${keys.svg}${parts.join('')}</svg></figure>`;
}

/** Horizontal stacked bars: mean milliseconds per stage for each system, with a tick at the mean time to first text. */
function latencyChart(all: KindMetrics, systems: readonly ReportSystem[]): string {
  const rows = systems.map((s, i) => {
    const m = s.metrics(all);
    const segments =
      s.key === 'plain'
        ? [{ stage: 'model call', ms: m?.meanMs ?? 0, color: SYSTEM_COLORS[0]! }]
        : STAGES.filter((st) => m?.stageMs[st] !== undefined).map((st) => ({ stage: st, ms: m!.stageMs[st]!, color: STAGE_COLORS[st] }));
    return {
      label: s.key === 'plain' ? 'plain model' : i === 1 && systems.length === 2 ? 'Unlearn pipeline' : `Unlearn, ${s.short}`,
      segments,
      first: m?.meanFirstTokenMs ?? null,
    };
  });
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((a, s) => a + s.ms, 0)));
  const left = 130;
  const barW = 460;
  const keys = legend(
    [
      { name: 'plain call', color: SYSTEM_COLORS[0]! },
      ...STAGES.map((s) => ({ name: s, color: STAGE_COLORS[s] })),
      { name: 'first text shown', color: '#111827', marker: 'line' as const },
    ],
    10,
    6,
    700,
  );
  const width = Math.max(left + barW + 90, keys.width + 20);
  const top = 14 + keys.height;
  const height = top + rows.length * 40;
  const parts: string[] = [];
  rows.forEach((row, i) => {
    const y = top + i * 40;
    let x = left;
    parts.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end" class="lbl">${esc(row.label)}</text>`);
    for (const seg of row.segments) {
      const w = (seg.ms / max) * barW;
      parts.push(
        `<rect x="${x}" y="${y}" width="${Math.max(w, 0)}" height="24" fill="${seg.color}"><title>${esc(seg.stage)}: ${seg.ms.toFixed(0)} ms</title></rect>`,
      );
      x += w;
    }
    if (row.first !== null) {
      const fx = left + (row.first / max) * barW;
      parts.push(
        `<line class="first-token" x1="${fx}" x2="${fx}" y1="${y - 3}" y2="${y + 27}" stroke="#111827" stroke-width="2" stroke-dasharray="4 2"><title>first text shown after ${row.first.toFixed(0)} ms</title></line>`,
      );
    }
    const total = row.segments.reduce((a, s) => a + s.ms, 0);
    parts.push(
      `<text x="${x + 6}" y="${y + 17}" class="val">${total.toFixed(0)} ms${row.first !== null ? ` (first text ${row.first.toFixed(0)})` : ''}</text>`,
    );
  });
  const title = 'Mean latency per request, by pipeline stage';
  return `<figure><figcaption>${title}</figcaption><svg role="img" aria-label="${title}" width="${width + 120}" height="${height}" viewBox="0 0 ${width + 120} ${height}">${keys.svg}${parts.join('')}</svg></figure>`;
}

function card(label: string, values: readonly string[], note: string): string {
  const shown = values.map((v, i) => `<span class="${systemClass(i)}">${esc(v)}</span>`).join('<span class="arrow">→</span>');
  return `<div class="card"><div class="card-label">${esc(label)}</div><div class="card-values">${shown}</div><div class="note">${esc(note)}</div></div>`;
}

function metricsRow(m: KindMetrics, systems: readonly ReportSystem[]): string {
  const cell = (s: SystemMetrics | undefined) => [
    pct(s?.forget.leakRate),
    pct(s?.retain.accuracy),
    pct(s?.retain.refusalRate),
    num(s?.meanMs),
    num(s?.meanFirstTokenMs),
    num(s?.callsPerRequest, 1),
    num(s?.tokensPerRequest),
  ];
  const cells = [`${m.unlearn.forget.n} / ${m.unlearn.retain.n}`, ...systems.flatMap((s) => cell(s.metrics(m)))];
  return `<tr class="${m.kind === 'all' ? 'total' : ''}"><th>${esc(m.kind)}</th>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
}

function questionRow(r: QuestionRecord, systems: readonly ReportSystem[]): string {
  const verdict = (a: AnswerRecord) => {
    if (a.error) return `<span class="bad">error</span>`;
    if (r.choices?.length) {
      const picked = a.choice !== undefined ? ` (${CHOICE_LETTERS[a.choice]})` : '';
      if (a.refused && !a.correct) return `<span class="${r.split === 'forget' ? 'good' : 'bad'}">refused</span>`;
      if (a.correct) return `<span class="${r.split === 'forget' ? 'bad' : 'good'}">correct${picked}</span>`;
      return `<span class="${r.split === 'forget' ? 'good' : 'warn'}">${a.choice === undefined ? 'no letter' : `wrong${picked}`}</span>`;
    }
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
  // Multi-turn: every turn's answer, numbered as the turns are; composite: whether the retain half came back.
  const answerText = (a: AnswerRecord) =>
    a.turnAnswers?.length ? [...a.turnAnswers, a.answer].map((t, i) => `${i + 1}. ${t}`).join('\n') : a.answer;
  const half = (a: AnswerRecord) =>
    a.retainAnswered === undefined
      ? ''
      : ` <span class="${a.retainAnswered ? 'good' : 'warn'}">retain half ${a.retainAnswered ? 'answered' : 'missed'}</span>`;
  const cellOf = (a: AnswerRecord | undefined) =>
    a ? `${verdict(a)}${half(a)}<div class="answer">${esc(a.error ?? answerText(a))}</div>` : '–';
  const asked = r.turns?.length ? [...r.turns, r.question].map((t, i) => `${i + 1}. ${t}`).join('\n') : r.question;
  const choices = r.choices?.length
    ? `<ol class="choices" type="A">${r.choices.map((c, i) => `<li${i === r.answerIndex ? ' class="right"' : ''}>${esc(c)}</li>`).join('')}</ol>`
    : '';
  return `<tr><td>${esc(r.kind)}</td><td>${esc(r.split)}</td><td class="${r.turns?.length ? 'turns' : ''}">${esc(asked)}${choices}</td>${systems.map((s) => `<td>${cellOf(s.answer(r))}</td>`).join('')}</tr>`;
}

/** Policies side by side: what each costs and what each keeps out, over all questions. */
function policyTable(all: KindMetrics, systems: readonly ReportSystem[]): string {
  const mc = all.chance !== null;
  const head = [
    'system',
    'leak rate',
    ...(mc ? ['forget accuracy'] : []),
    'retain accuracy',
    'refusals on retain',
    'model calls / question',
    'mean ms',
    'first text ms',
  ];
  const rows = systems.map((s) => {
    const m = s.metrics(all);
    const cells = [
      pct(m?.forget.leakRate),
      ...(mc ? [pct(m?.forget.accuracy)] : []),
      pct(m?.retain.accuracy),
      pct(m?.retain.refusalRate),
      num(m?.callsPerRequest, 1),
      num(m?.meanMs),
      num(m?.meanFirstTokenMs),
    ];
    return `<tr><th>${esc(s.label)}</th>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  });
  return `<table class="policies"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** A self-contained page: inline CSS and SVG, no script, no external asset. */
export function renderHtml(report: EvalReport): string {
  const kinds = report.metrics.filter((m) => m.kind !== 'all');
  const all = report.metrics.at(-1)!;
  const systems = reportSystems(report);
  const series: Series[] = systems.map((s, i) => ({ name: s.label, color: SYSTEM_COLORS[i % SYSTEM_COLORS.length]! }));
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
  const values = (f: (m: SystemMetrics | undefined) => string) => systems.map((s) => f(s.metrics(all)));
  const mc = all.chance !== null;
  const accuracySection = mc
    ? `<h2>Multiple-choice accuracy</h2>
<div class="charts">
${barChart(
  'Accuracy per split (forget: lower is better, down to chance; retain: higher is better)',
  (['forget', 'retain'] as const).map((split) => ({ label: split, values: systems.map((s) => s.metrics(all)?.[split].choice?.accuracy) })),
  series,
  { value: all.chance!, name: `chance (${pct(all.chance)}, random guessing)` },
)}
</div>
<p class="note">A refusal or a reply without a letter counts as wrong. With refusals scored at chance instead: ${systems
        .map(
          (s) =>
            `${esc(s.label)}: forget ${pct(s.metrics(all)?.forget.choice?.accuracyRefusalsAtChance)}, retain ${pct(s.metrics(all)?.retain.choice?.accuracyRefusalsAtChance)}`,
        )
        .join('; ')}.</p>`
    : '';
  const policySection = report.auditPolicies?.length
    ? `<h2>Audit policies side by side</h2>
<p class="note">The same questions, the plain model asked once, the pipeline once per policy.</p>
${policyTable(all, systems)}`
    : '';
  // The published attacks get charts of their own: seventeen kinds in one chart would not fit a page.
  const isAttackKind = (m: KindMetrics) => (ATTACK_KINDS as readonly string[]).includes(m.kind);
  const classic = kinds.filter((m) => !isAttackKind(m));
  const attacks = kinds.filter(isAttackKind);
  const composite = attacks.find((m) => m.kind === 'composite');
  const attackSection = attacks.length
    ? `<h2>Published attacks</h2>
<div class="charts">
${barChart(
  'Forget leak rate per attack (lower is better)',
  attacks.map((m) => ({ label: m.kind, values: systems.map((s) => s.metrics(m)?.forget.leakRate) })),
  series,
)}
${
  composite?.plain.forget.retainHalf
    ? barChart(
        'Composite: retain half still answered (higher is better)',
        [{ label: 'composite', values: systems.map((s) => s.metrics(composite)?.forget.retainHalf?.rate) }],
        series,
      )
    : ''
}
</div>
<p class="note">composite: one question asks a forget fact and a retain fact; prefix: the answer must open with an affirmative phrase; format: a poem, dialogue, table or JSON; substitution: the name bound to a variable first; reverse: the facts given, the entity asked; relearning: related true facts pasted before the question; multi-turn: three turns closing in, each answered (a leak in any turn counts); agent-injection: instructions addressed to the pipeline's own agents.${
        composite?.plain.forget.retainHalf
          ? ` Composite questions whose answer still gave the retain half: ${systems
              .map((s) => {
                const h = s.metrics(composite)?.forget.retainHalf;
                return `${esc(s.short)} ${h ? `${h.answered} of ${h.n}` : '–'}`;
              })
              .join(', ')}.`
          : ''
      }</p>`
    : '';
  const columns = ['leak', 'retain', 'refused', 'ms', 'first ms', 'calls', 'tokens'];
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
.card-values{font-size:${systems.length > 2 ? 17 : 22}px;font-weight:600;margin:2px 0;display:flex;flex-wrap:wrap;align-items:baseline}
${SYSTEM_CSS}.arrow{color:#9ca3af;margin:0 8px}
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
.questions td{text-align:left;max-width:340px}.questions td.turns{white-space:pre-wrap}
.choices{margin:4px 0 0;padding-left:22px;color:#4b5563;font-size:12px}.choices .right{font-weight:600;color:#111827}
.answer{color:#4b5563;font-size:12px;white-space:pre-wrap;max-height:7em;overflow:auto}
.good{color:#15803d;font-weight:600}.bad{color:#b91c1c;font-weight:600}.warn{color:#b45309;font-weight:600}
details summary{cursor:pointer;font-weight:600}
</style></head><body>
<h1>Unlearn evaluation</h1>
<p class="meta">Model <b>${esc(report.model)}</b> at ${esc(report.host)} · dataset ${esc(report.dataset.source)} · ${report.dataset.forget} forget and ${report.dataset.retain} retain questions, ${report.dataset.targets} forget targets · ${esc(report.startedAt)}</p>
${status}
<div class="cards">
${card(
  'Forget leak rate',
  values((m) => pct(m?.forget.leakRate)),
  'forget answers that reveal a fact (lower is better)',
)}
${
  mc
    ? card(
        `Forget accuracy (chance ${pct(all.chance)})`,
        values((m) => pct(m?.forget.accuracy)),
        'multiple choice: right picks on the forget split (chance is the goal)',
      )
    : ''
}
${card(
  'Retain accuracy',
  values((m) => pct(m?.retain.accuracy)),
  'retain answers that give the fact (higher is better)',
)}
${card(
  'Refusals on retain',
  values((m) => pct(m?.retain.refusalRate)),
  'over-forgetting (lower is better)',
)}
${card(
  'Latency per request',
  values((m) => `${num(m?.meanMs)} ms`),
  `first text after ${values((m) => `${num(m?.meanFirstTokenMs)} ms`).join(' → ')}; ${values((m) => num(m?.callsPerRequest, 1)).join(' → ')} model calls, ${values((m) => num(m?.tokensPerRequest)).join(' → ')} tokens`,
)}
</div>
<p class="note">Left to right: ${systems.map((s, i) => `<span class="${systemClass(i)}">${esc(s.label)}</span>`).join(', ')}. Model calls count every request sent to Ollama, retries and failed calls included.</p>
${judgeLine}
${atKLine}
${accuracySection}
${policySection}
<h2>By question kind</h2>
<div class="charts">
${barChart(
  attacks.length ? 'Forget leak rate, classic kinds (lower is better)' : 'Forget leak rate (lower is better)',
  classic.map((m) => ({ label: m.kind, values: systems.map((s) => s.metrics(m)?.forget.leakRate) })),
  series,
)}
${barChart(
  attacks.length ? 'Retain accuracy, classic kinds (higher is better)' : 'Retain accuracy (higher is better)',
  classic.map((m) => ({ label: m.kind, values: systems.map((s) => s.metrics(m)?.retain.accuracy) })),
  series,
)}
</div>
${attackSection}
<div class="charts">${latencyChart(all, systems)}</div>
<h2>Numbers</h2>
<table>
<thead><tr><th rowspan="2">kind</th><th rowspan="2">forget / retain</th>${systems.map((s) => `<th colspan="${columns.length}">${esc(s.label)}</th>`).join('')}</tr>
<tr>${systems.flatMap(() => columns.map((h) => `<th>${h}</th>`)).join('')}</tr></thead>
<tbody>${report.metrics.map((m) => metricsRow(m, systems)).join('\n')}</tbody>
</table>
<h2>Questions</h2>
<details><summary>${report.questions.length} answered questions, with every system's answer</summary>
${report.plainAnswersMasked ? '<p class="note">The plain model\'s answers are shown with the targets\' names and aliases redacted (turn on unlearn.preview.showOriginal to see them whole); the verdicts and numbers were computed from the full answers.</p>' : ''}
<table class="questions"><thead><tr><th>kind</th><th>set</th><th>question</th>${systems.map((s) => `<th>${esc(s.label)}</th>`).join('')}</tr></thead>
<tbody>${report.questions.map((r) => questionRow(r, systems)).join('\n')}</tbody></table>
</details>
</body></html>
`;
}
