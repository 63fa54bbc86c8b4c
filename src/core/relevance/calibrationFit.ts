/** The threshold fit behind calibration: replays the meaning signal per question and grid-searches it. */
import { KEYWORD_SURE } from './keywordIndex';
import type { CalibrationMeasure, MeaningThresholds, Rates } from './calibrationTypes';

/** The sure band is fitted to bind at most this share of negatives (binding skips detection: it must be rare by mistake). */
export const SURE_FALSE_GOAL = 0.01;

/** What one question's candidate rows look like, computed once. */
export interface QuestionData {
  readonly positive: boolean;
  readonly subject: number;
  readonly kind: string;
  /** Candidate rows: similarity, the row's unrelated level, its target. */
  readonly sim: Float32Array;
  readonly base: Float32Array;
  readonly target: Int32Array;
  /** This question's similarities over all rows: mean, spread, and √(2 ln rows) (0 when too few rows for a spread). */
  readonly mean: number;
  readonly sd: number;
  readonly noise: number;
  readonly keyword: readonly { target: number; score: number }[];
  readonly named: ReadonlySet<number>;
}

/** Per target: whether meaning keeps it, and whether it is in the sure band. */
interface Hits {
  readonly over: Map<number, number>;
  readonly sure: Set<number>;
}

export function meaningHits(d: QuestionData, t: MeaningThresholds): Hits {
  const list = overTargets(d, t.floor, t.margin, t.outlierSlack);
  let top = -Infinity;
  for (const o of list) top = Math.max(top, o.sim);
  const over = new Map<number, number>();
  const sure = new Set<number>();
  for (const o of list) {
    if (o.sim < top * t.relativeToBest) continue;
    over.set(o.target, o.sim);
    if (o.sim >= o.threshold + t.sure) sure.add(o.target);
  }
  return { over, sure };
}

function keywordHit(d: QuestionData, target: number): boolean {
  return d.keyword.some((k) => k.target === target);
}

export function touches(d: QuestionData, h: Hits, target: number): boolean {
  return d.named.has(target) || keywordHit(d, target) || h.over.has(target);
}

export function anyHit(d: QuestionData, h: Hits): boolean {
  return d.named.size > 0 || d.keyword.length > 0 || h.over.size > 0;
}

export function firstHit(d: QuestionData, h: Hits): number {
  if (d.named.size) return [...d.named][0]!;
  if (d.keyword.length) return d.keyword[0]!.target;
  if (h.over.size) return [...h.over.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return -1;
}

export function measure(data: readonly QuestionData[], t: MeaningThresholds): CalibrationMeasure {
  let pos = 0;
  let neg = 0;
  const count = { kw: [0, 0], mn: [0, 0], all: [0, 0], sure: [0, 0] };
  for (const d of data) {
    const h = meaningHits(d, t);
    if (d.positive) {
      pos++;
      if (keywordHit(d, d.subject)) count.kw[0]!++;
      if (h.over.has(d.subject)) count.mn[0]!++;
      if (touches(d, h, d.subject)) count.all[0]!++;
      if (h.sure.has(d.subject) || d.keyword.some((k) => k.target === d.subject && k.score >= KEYWORD_SURE)) count.sure[0]!++;
    } else {
      neg++;
      if (d.keyword.length) count.kw[1]!++;
      if (h.over.size) count.mn[1]!++;
      if (anyHit(d, h)) count.all[1]!++;
      if (h.sure.size || d.keyword.some((k) => k.score >= KEYWORD_SURE)) count.sure[1]!++;
    }
  }
  const rates = ([p, n]: number[]): Rates => ({ recall: p! / (pos || 1), falseRate: n! / (neg || 1) });
  return { thresholds: t, keyword: rates(count.kw), meaning: rates(count.mn), together: rates(count.all), sure: rates(count.sure) };
}

/**
 * The grid search: every floor, margin and relative cut-off on a grid, keeping the one that reaches the
 * recall goal (names, keywords and meaning together) at the lowest false-shortlist rate; ties go to
 * higher recall, then to the larger margin (further from the noise). When no point reaches the goal,
 * the one with the largest recall minus false rate wins. The sure band is then the smallest offset above
 * the fitted threshold at which meaning binds at most SURE_FALSE_GOAL of the negatives.
 */
/** The relative cut-offs tried: among targets over threshold, keep those within this fraction of the best. */
const CUTS = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1];

export function fitThresholds(
  data: readonly QuestionData[],
  recallGoal: number,
  start: MeaningThresholds,
): { thresholds: MeaningThresholds } {
  type Point = { t: MeaningThresholds; recall: number; falseRate: number };
  let chosen: Point | undefined;
  const better = (a: Point, b: Point): boolean => {
    const aGoal = a.recall >= recallGoal;
    const bGoal = b.recall >= recallGoal;
    if (aGoal !== bGoal) return aGoal;
    if (aGoal) {
      if (a.falseRate !== b.falseRate) return a.falseRate < b.falseRate;
      if (a.recall !== b.recall) return a.recall > b.recall;
    } else {
      // Short of the goal, "most recall" would shortlist everything; the point that separates best wins
      // (recall minus false rate), and the report says the goal was not reached.
      const ja = a.recall - a.falseRate;
      const jb = b.recall - b.falseRate;
      if (ja !== jb) return ja > jb;
      if (a.recall !== b.recall) return a.recall > b.recall;
    }
    // Among equals, the stricter point: further from the noise.
    if (a.t.margin !== b.t.margin) return a.t.margin > b.t.margin;
    return a.t.outlierSlack > b.t.outlierSlack;
  };
  const positives = data.filter((d) => d.positive).length || 1;
  const negatives = data.length - data.filter((d) => d.positive).length || 1;
  // Names and keywords do not depend on the meaning thresholds: decided once per question.
  const fixedHit = data.map((d) =>
    d.positive ? d.named.has(d.subject) || keywordHit(d, d.subject) : d.named.size > 0 || d.keyword.length > 0,
  );
  const found = new Array<number>(CUTS.length);
  const wrong = new Array<number>(CUTS.length);
  /** Scores one floor, margin and slack at every relative cut-off, keeping the best point so far. */
  const tryPoint = (floor: number, margin: number, outlierSlack: number, cuts: readonly number[]) => {
    found.fill(0);
    wrong.fill(0);
    data.forEach((d, i) => {
      const count = d.positive ? found : wrong;
      if (fixedHit[i]) {
        for (let c = 0; c < cuts.length; c++) count[c]!++;
        return;
      }
      const over = overTargets(d, floor, margin, outlierSlack);
      if (over.length === 0) return;
      let top = -Infinity;
      for (const o of over) top = Math.max(top, o.sim);
      const mine = d.positive ? over.find((o) => o.target === d.subject) : undefined;
      // A negative is shortlisted whatever the cut (the best target always survives it).
      for (let c = 0; c < cuts.length; c++) if (!d.positive || (mine && mine.sim >= top * cuts[c]!)) count[c]!++;
    });
    cuts.forEach((relativeToBest, c) => {
      const point: Point = {
        t: { floor, margin, relativeToBest, sure: 0, outlierSlack },
        recall: found[c]! / positives,
        falseRate: wrong[c]! / negatives,
      };
      if (!chosen || better(point, chosen)) chosen = point;
    });
  };
  // Coordinate search: the outlier slack with the rest as shipped, then floor, margin and cut-off on a
  // grid at that slack, then the slack again at the fitted rest.
  for (const slack of SLACKS) tryPoint(start.floor, start.margin, slack, [start.relativeToBest]);
  let slack = chosen!.t.outlierSlack;
  for (let f = 0; f <= 30; f++) for (let m = 0; m <= 45; m++) tryPoint(round(f * 0.03), round(m * 0.01), slack, CUTS);
  const fitted = chosen!.t;
  for (const s of SLACKS) tryPoint(fitted.floor, fitted.margin, s, [fitted.relativeToBest]);
  slack = chosen!.t.outlierSlack;
  const t = chosen!.t;
  const negativeData = data.filter((d) => !d.positive);
  let sure = 0.5;
  for (let k = 0; k <= 100; k++) {
    const offset = round(k * 0.005);
    const bound = negativeData.filter((d) => meaningHits(d, { ...t, sure: offset }).sure.size > 0).length;
    if (bound <= SURE_FALSE_GOAL * negativeData.length) {
      sure = offset;
      break;
    }
  }
  return { thresholds: { ...t, outlierSlack: slack, sure } };
}

/** Outlier slacks tried: from hits that barely stand out of the request's spread to the far tail. */
const SLACKS = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3];

/** The level a hit must stand out of, as TargetEmbeddings.search computes it; -Infinity with too few rows. */
function levelOf(d: QuestionData, slack: number): number {
  return d.noise > 0 ? d.mean + (d.noise + slack) * d.sd : -Infinity;
}

/** Per-target scratch of overTargets, grown to the largest target count seen (the fit calls it about a million times). */
let scratchExcess = new Float64Array(0);
let scratchRow = new Int32Array(0);

/** Targets over their meaning threshold at this floor and margin (before the relative cut-off), with their best row's similarity. */
function overTargets(d: QuestionData, floor: number, margin: number, slack: number): { target: number; sim: number; threshold: number }[] {
  const n = d.sim.length;
  const touched: number[] = [];
  for (let k = 0; k < n; k++) {
    const target = d.target[k]!;
    if (target >= scratchExcess.length) {
      scratchExcess = new Float64Array(Math.max(target + 1, scratchExcess.length * 2)).fill(-Infinity);
      scratchRow = new Int32Array(scratchExcess.length);
    }
    const excess = d.sim[k]! - Math.max(floor, d.base[k]! + margin);
    if (scratchExcess[target] === -Infinity) touched.push(target);
    if (excess > scratchExcess[target]!) {
      scratchExcess[target] = excess;
      scratchRow[target] = k;
    }
  }
  const out: { target: number; sim: number; threshold: number }[] = [];
  const level = levelOf(d, slack);
  for (const target of touched) {
    const k = scratchRow[target]!;
    scratchExcess[target] = -Infinity;
    const sim = d.sim[k]!;
    const threshold = Math.max(floor, d.base[k]! + margin, level);
    if (sim >= threshold) out.push({ target, sim, threshold });
  }
  return out;
}

export function best(d: QuestionData, target: number, score: (sim: number, base: number) => number): number {
  let m = -Infinity;
  for (let k = 0; k < d.sim.length; k++) if (target < 0 || d.target[k] === target) m = Math.max(m, score(d.sim[k]!, d.base[k]!));
  return round(m);
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
