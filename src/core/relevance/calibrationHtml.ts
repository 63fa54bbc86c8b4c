import type { CalibrationMeasure, CalibrationResult, Rates } from './calibrationTypes';

/**
 * The calibration report as one self-contained HTML page (no script, nothing loaded), styled like the
 * evaluation report. People judge a threshold by looking at two histograms: where the questions about a
 * subject score, where the questions about nothing score, and where the line was put between them.
 */

/** Nothing may load from anywhere, and no script runs (the same policy as the evaluation report). */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
const POSITIVE = '#2563eb';
const NEGATIVE = '#c2410c';
const BEFORE = '#6b7280';
const AFTER = '#059669';
const SURE = '#7c3aed';

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (v: number): string => `${Math.round(v * 1000) / 10}%`;
const num = (v: number): string => (Math.round(v * 1000) / 1000).toString();

interface Line {
  readonly at: number;
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
}

/**
 * Two overlaid histograms (each bar the share of its own group, so 235 positives and 209 negatives
 * compare) with vertical threshold lines. Labels of lines that would collide are stacked.
 */
function histogramSvg(input: {
  readonly positives: readonly number[];
  readonly negatives: readonly number[];
  readonly lines: readonly Line[];
  readonly xLabel: string;
  readonly width?: number;
}): string {
  const width = input.width ?? 560;
  const height = 266;
  const left = 40;
  const right = 12;
  const top = 14 + 14 * input.lines.length;
  const bottom = 56;
  const all = [...input.positives, ...input.negatives, ...input.lines.map((l) => l.at)].filter(Number.isFinite);
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const pad = (hi - lo) * 0.04;
  lo -= pad;
  hi += pad;
  const bins = 30;
  const step = (hi - lo) / bins;
  const share = (values: readonly number[]) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of values) if (Number.isFinite(v)) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / step)))]!++;
    return counts.map((c) => c / (values.length || 1));
  };
  const pos = share(input.positives);
  const neg = share(input.negatives);
  const peak = Math.max(...pos, ...neg, 0.01);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const x = (v: number) => left + ((v - lo) / (hi - lo)) * plotW;
  const y = (s: number) => top + plotH - (s / peak) * plotH;
  const barW = plotW / bins;
  const bars = (values: number[], color: string, offset: number, cls: string) =>
    values
      .map((s, i) =>
        s > 0
          ? `<rect class="bar ${cls}" x="${(left + i * barW + offset).toFixed(1)}" y="${y(s).toFixed(1)}" width="${(barW / 2 - 0.5).toFixed(1)}" height="${(top + plotH - y(s)).toFixed(1)}" fill="${color}" fill-opacity="0.8"/>`
          : '',
      )
      .join('');
  const ticks: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = lo + ((hi - lo) * i) / 5;
    ticks.push(`<text class="ax" x="${x(v).toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle">${num(v)}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const s = (peak * i) / 4;
    ticks.push(`<text class="ax" x="${left - 4}" y="${(y(s) + 3).toFixed(1)}" text-anchor="end">${Math.round(s * 100)}%</text>`);
    ticks.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(s).toFixed(1)}" y2="${y(s).toFixed(1)}" stroke="#f3f4f6"/>`);
  }
  // Lines sorted left to right; each label on its own row at the top, so none overlap.
  const lines = [...input.lines]
    .sort((a, b) => a.at - b.at)
    .map((l, i) => {
      const lx = x(l.at);
      const ly = 12 + 14 * i;
      const anchor = lx > left + plotW * 0.6 ? 'end' : 'start';
      return `<line x1="${lx.toFixed(1)}" x2="${lx.toFixed(1)}" y1="${ly + 2}" y2="${top + plotH}" stroke="${l.color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="5 3"' : ''}/>
<text class="lbl" x="${(lx + (anchor === 'end' ? -4 : 4)).toFixed(1)}" y="${ly + 8}" text-anchor="${anchor}" fill="${l.color}">${esc(l.label)} ${num(l.at)}</text>`;
    })
    .join('\n');
  const legendY = height - 8;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img">
${ticks.join('')}
${bars(neg, NEGATIVE, 0, 'neg')}${bars(pos, POSITIVE, barW / 2, 'pos')}
<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#9ca3af"/>
${lines}
<rect x="${left}" y="${legendY - 9}" width="10" height="10" fill="${POSITIVE}"/><text class="lbl" x="${left + 14}" y="${legendY}">questions about a subject (${input.positives.length})</text>
<rect x="${left + 250}" y="${legendY - 9}" width="10" height="10" fill="${NEGATIVE}"/><text class="lbl" x="${left + 264}" y="${legendY}">questions about none (${input.negatives.length})</text>
<text class="ax" x="${(left + plotW / 2).toFixed(1)}" y="${top + plotH + 28}" text-anchor="middle">${esc(input.xLabel)}</text>
</svg>`;
}

function ratesCells(r: Rates): string {
  return `<td>${pct(r.recall)}</td><td>${pct(r.falseRate)}</td>`;
}

function signalTable(before: CalibrationMeasure, after: CalibrationMeasure): string {
  const row = (label: string, pick: (m: CalibrationMeasure) => Rates, cls = '') =>
    `<tr${cls ? ` class="${cls}"` : ''}><th>${label}</th>${ratesCells(pick(before))}${ratesCells(pick(after))}</tr>`;
  return `<table class="signals"><thead><tr><th rowspan="2">signal</th><th colspan="2">shipped thresholds</th><th colspan="2">fitted</th></tr>
<tr><th>recall</th><th>false</th><th>recall</th><th>false</th></tr></thead><tbody>
${row('keywords', (m) => m.keyword)}
${row('meaning', (m) => m.meaning)}
${row('together (names, keywords, meaning)', (m) => m.together, 'total')}
${row('sure band (touched with no detect call)', (m) => m.sure)}
</tbody></table>`;
}

function thresholdTable(before: CalibrationMeasure, after: CalibrationMeasure): string {
  const b = before.thresholds;
  const a = after.thresholds;
  const row = (label: string, x: number, y: number, what: string) =>
    `<tr><th>${label}</th><td>${num(x)}</td><td class="${x === y ? '' : 'changed'}">${num(y)}</td><td class="what">${what}</td></tr>`;
  return `<table class="thresholds"><thead><tr><th>threshold</th><th>shipped</th><th>fitted</th><th class="what">what it does</th></tr></thead><tbody>
${row('floor', b.floor, a.floor, 'a similarity below it never counts')}
${row('margin', b.margin, a.margin, 'how far above the row’s unrelated level (everyday questions, the other targets) a question must score')}
${row('relative cut-off', b.relativeToBest, a.relativeToBest, 'targets under this fraction of the best one’s similarity are dropped')}
${row('outlier slack', b.outlierSlack, a.outlierSlack, 'standard deviations beyond the expected largest noise similarity a hit must stand out')}
${row('sure band', b.sure, a.sure, 'above the threshold by this much, a target is touched with no detection call')}
</tbody></table>`;
}

/**
 * `maskUserText`: the user's own targets (their ids and sample questions) are not written out, for a
 * front end that shows removed text only when asked (the extension's unlearn.preview.showOriginal).
 */
export function calibrationHtml(r: CalibrationResult, options: { maskUserText?: boolean } = {}): string {
  const mask = options.maskUserText === true;
  const { before, after, scores } = r;
  const goal = r.goalReached
    ? `<p class="ok">The fitted thresholds reach the recall goal of ${pct(r.recallGoal)}.</p>`
    : `<p class="warn">No thresholds reach the recall goal of ${pct(r.recallGoal)} with this model: the fitted ones are the best trade-off found (recall minus false rate). Questions this model cannot tell from unrelated ones reach the audit only by their names and words.</p>`;
  const similarity = histogramSvg({
    positives: scores.positiveSimilarity,
    negatives: scores.negativeSimilarity,
    xLabel: 'cosine similarity',
    lines: [
      { at: before.thresholds.floor, label: 'shipped floor', color: BEFORE, dashed: true },
      { at: after.thresholds.floor, label: 'fitted floor', color: AFTER },
    ],
  });
  const overBase = histogramSvg({
    positives: scores.positiveOverBase,
    negatives: scores.negativeOverBase,
    xLabel: 'similarity minus the row’s unrelated level',
    lines: [
      { at: before.thresholds.margin, label: 'shipped margin', color: BEFORE, dashed: true },
      { at: after.thresholds.margin, label: 'fitted margin', color: AFTER },
      { at: after.thresholds.margin + after.thresholds.sure, label: 'fitted sure band', color: SURE },
    ],
  });
  // Most questions share no word with any target and score 0: drawn, that bar would flatten the rest.
  const keyword = histogramSvg({
    positives: scores.positiveKeyword.filter((v) => v > 0),
    negatives: scores.negativeKeyword.filter((v) => v > 0),
    xLabel: 'keyword score',
    lines: [
      { at: r.keywordThreshold, label: 'keyword threshold', color: AFTER },
      { at: r.keywordSure, label: 'keyword sure band', color: SURE },
    ],
  });
  const kinds = Object.entries(r.falseByKind)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${pct(v)}</td></tr>`)
    .join('');
  const list = (items: readonly string[]) =>
    items.length ? `<ul>${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : '<p class="note">none</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unlearn relevance calibration · ${esc(r.model)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;background:#fff;margin:0;padding:24px 32px;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#4b5563;margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:12px}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px}
.card-label{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#6b7280}
.card-values{font-size:22px;font-weight:600;margin:2px 0}
.before{color:${BEFORE}}.after{color:${AFTER}}.arrow{color:#9ca3af;margin:0 8px}
.note{font-size:12px;color:#6b7280}
.ok{background:#ecfdf5;border:1px solid #10b981;padding:8px 12px;border-radius:6px}
.warn{background:#fef3c7;border:1px solid #f59e0b;padding:8px 12px;border-radius:6px}
.charts{display:flex;gap:32px;flex-wrap:wrap;margin-bottom:16px}
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
svg .ax{font-size:10px;fill:#6b7280}svg .lbl{font-size:11px;fill:#374151}
table{border-collapse:collapse;font-size:13px;margin-bottom:8px}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 10px;text-align:right;vertical-align:top}
thead th{background:#f9fafb;font-weight:600}thead th[colspan]{text-align:center}
th:first-child,td:first-child{text-align:left}
tbody th{font-weight:400}
tr.total th,tr.total td{font-weight:700;border-top:2px solid #9ca3af}
td.changed{color:${AFTER};font-weight:600}
.what{text-align:left;color:#4b5563;max-width:520px}
ul{margin:4px 0 0;padding-left:20px}li{margin:2px 0}
.subject{color:#6b7280;font-size:12px}
</style></head><body>
<h1>Relevance calibration · ${esc(r.model)}</h1>
<p class="meta">${r.questions} questions (${r.positives} about ${r.subjects} subjects${r.fromExamples ? `, ${r.fromExamples} of them your targets’ sample questions` : ''}; ${r.negatives} about none) · profile ${esc(r.family)}, ${r.dims} dimensions · ${esc(r.fittedAt)}</p>
<div class="cards">
<div class="card"><div class="card-label">recall (together)</div><div class="card-values"><span class="before">${pct(before.together.recall)}</span><span class="arrow">→</span><span class="after">${pct(after.together.recall)}</span></div><div class="note">questions about a subject that reach its audit</div></div>
<div class="card"><div class="card-label">false shortlist (together)</div><div class="card-values"><span class="before">${pct(before.together.falseRate)}</span><span class="arrow">→</span><span class="after">${pct(after.together.falseRate)}</span></div><div class="note">questions about none that cost a detection call</div></div>
<div class="card"><div class="card-label">sure band, false</div><div class="card-values"><span class="before">${pct(before.sure.falseRate)}</span><span class="arrow">→</span><span class="after">${pct(after.sure.falseRate)}</span></div><div class="note">goal: at most ${pct(r.sureFalseGoal)}; recall in the band ${pct(after.sure.recall)}</div></div>
</div>
${goal}
<h2>Score distributions</h2>
<p class="note">Each bar is the share of its group. A positive scores against its own subject; a negative against the closest target. The gap between the blue and the orange is what a threshold can use.</p>
<div class="charts">
<figure><figcaption>Meaning: similarity over the row’s unrelated level</figcaption>${overBase}</figure>
<figure><figcaption>Meaning: raw similarity</figcaption>${similarity}</figure>
<figure><figcaption>Keywords</figcaption>${keyword}<p class="note">Questions scoring above 0 only: ${scores.positiveKeyword.filter((v) => v > 0).length} of ${scores.positiveKeyword.length} about a subject, ${scores.negativeKeyword.filter((v) => v > 0).length} of ${scores.negativeKeyword.length} about none.</p></figure>
</div>
<h2>Recall and false shortlists per signal</h2>
${signalTable(before, after)}
<p class="note">The set’s questions share no word with their subject’s name, description or examples, so keyword recall on them is near zero by design: they measure meaning.</p>
<h2>Thresholds</h2>
${thresholdTable(before, after)}
<h2>False shortlists by kind of question (fitted)</h2>
<table><tbody>${kinds}</tbody></table>
<h2>Missed questions (fitted, first ${r.missed.length})</h2>
${list(r.missed.map((m) => (mask && m.fromExamples ? '<i>a sample question of one of your targets</i>' : `${esc(m.question)} <span class="subject">${esc(m.subject)}</span>`)))}
<h2>Questions about none that were shortlisted (fitted, first ${r.falseHits.length})</h2>
${list(r.falseHits.map((f) => `${esc(f.question)} <span class="subject">→ ${mask && f.userTarget ? 'one of your targets' : esc(f.target)} · ${esc(f.kind)}</span>`))}
</body></html>
`;
}
