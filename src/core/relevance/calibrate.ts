import { buildTargetIndex } from '../guard';
import { LlmError, type LlmPort } from '../llm';
import type { ForgetTarget } from '../targets';
import { embeddingKey, type EmbeddingCache } from './embeddingCache';
import { embeddingProfile, type EmbeddingProfile, type FittedThresholds } from './embeddingProfiles';
import { buildKeywordIndex, KEYWORD_SURE, KEYWORD_THRESHOLD } from './keywordIndex';
import {
  checkedVector,
  documentText,
  EMBED_BATCH,
  MAX_EXAMPLE_ROWS,
  MIN_ROWS_FOR_SPREAD,
  NEUTRAL_PROBES,
  OUTLIER_SLACK,
  spaceOf,
  SURE_MARGINS,
} from './targetEmbeddings';

/**
 * Calibration: how well relevance finds the subjects of a labelled question set with the user's own
 * embedding model, and per-model thresholds fitted to it. Cosine similarities do not transfer between
 * models, and the shipped floors and margins were never measured on a real one; this measures them.
 *
 * The meaning signal is replayed here exactly as TargetEmbeddings scores it (rows, probe and centroid
 * levels, the outlier level, the relative cut-off), so the numbers are the ones a request would get;
 * what changes between candidate thresholds is cheap arithmetic over similarities computed once.
 */

/** One labelled question: `subject` is the target it touches; a negative touches none. */
export interface CalibrationQuestion {
  readonly question: string;
  readonly subject?: string;
  /** For a negative: coding, general or near-miss. */
  readonly negative?: string;
  /** Where it came from: the shipped set, or a target's own sample question (held out while scored). */
  readonly source?: 'set' | 'examples';
}

export interface CalibrationSet {
  readonly targets: readonly ForgetTarget[];
  readonly questions: readonly CalibrationQuestion[];
}

/** Recall on positives and false-shortlist rate on negatives. */
export interface Rates {
  readonly recall: number;
  readonly falseRate: number;
}

/** The thresholds of the meaning signal that calibration chooses. */
export interface MeaningThresholds {
  readonly floor: number;
  readonly margin: number;
  readonly relativeToBest: number;
  /** How far above a target's threshold the sure band starts. */
  readonly sure: number;
  /** Standard deviations beyond the expected largest noise draw a hit must stand out (see OUTLIER_SLACK). */
  readonly outlierSlack: number;
}

export interface CalibrationMeasure {
  readonly thresholds: MeaningThresholds;
  readonly keyword: Rates;
  readonly meaning: Rates;
  /** Names, keywords and meaning together: what a request gets. */
  readonly together: Rates;
  /** The sure band alone: recall of binding evidence, and negatives bound by mistake. */
  readonly sure: Rates;
}

/** Scores behind the report's histograms: one number per question. */
export interface CalibrationScores {
  /** Positive: similarity to its subject's best row; negative: the best over all targets. */
  readonly positiveSimilarity: readonly number[];
  readonly negativeSimilarity: readonly number[];
  /** The same, as similarity minus the row's unrelated level (probe or centroid): where the margin applies. */
  readonly positiveOverBase: readonly number[];
  readonly negativeOverBase: readonly number[];
  readonly positiveKeyword: readonly number[];
  readonly negativeKeyword: readonly number[];
}

export interface CalibrationResult {
  readonly model: string;
  readonly family: string;
  readonly dims: number;
  readonly space: string;
  readonly questions: number;
  readonly positives: number;
  readonly negatives: number;
  readonly subjects: number;
  /** Positives that came from the targets' own sample questions. */
  readonly fromExamples: number;
  readonly recallGoal: number;
  readonly sureFalseGoal: number;
  readonly keywordThreshold: number;
  readonly keywordSure: number;
  readonly before: CalibrationMeasure;
  readonly after: CalibrationMeasure;
  /** Whether the fitted thresholds reach the recall goal (if not, the best recall found). */
  readonly goalReached: boolean;
  readonly scores: CalibrationScores;
  /** Per negative kind, false-shortlist rate after fitting. */
  readonly falseByKind: Readonly<Record<string, number>>;
  /** Positives missed after fitting (for the report), at most 40. */
  readonly missed: readonly { readonly subject: string; readonly question: string; readonly fromExamples?: true }[];
  /** Negatives shortlisted after fitting, with the target they hit, at most 40. */
  readonly falseHits: readonly { readonly question: string; readonly target: string; readonly kind: string; readonly userTarget?: true }[];
  readonly fittedAt: string;
}

export const DEFAULT_RECALL_GOAL = 0.95;
/** The sure band is fitted to bind at most this share of negatives (binding skips detection: it must be rare by mistake). */
const SURE_FALSE_GOAL = 0.01;

/** Candidate rows kept per question for the fit (the rest can never pass a threshold the best ones do not). */
const CANDIDATE_ROWS = 16;

/**
 * Reads questions.jsonl: one JSON object a line with `question` and either `subject` (a target id) or
 * `negative` (its kind). Problems name the line.
 */
export function parseCalibrationQuestions(text: string): { questions: CalibrationQuestion[]; problems: string[] } {
  const questions: CalibrationQuestion[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1}: not JSON`);
      return;
    }
    const o = v as { question?: unknown; subject?: unknown; negative?: unknown };
    if (typeof o.question !== 'string' || !o.question.trim()) {
      problems.push(`line ${i + 1}: no "question"`);
      return;
    }
    if (typeof o.subject === 'string' && o.subject) questions.push({ question: o.question, subject: o.subject, source: 'set' });
    else if (typeof o.negative === 'string' && o.negative) questions.push({ question: o.question, negative: o.negative, source: 'set' });
    else problems.push(`line ${i + 1}: needs "subject" (a target id) or "negative" (its kind)`);
  });
  return { questions, problems };
}

/**
 * The set to calibrate on: the shipped subjects and questions, plus the user's enabled targets, whose
 * sample questions join the positives. A user target replaces a shipped one of the same id or name (the
 * sample workspace's targets, say), and the shipped questions about it then test the user's version.
 */
export function withUserTargets(set: CalibrationSet, user: readonly ForgetTarget[]): CalibrationSet {
  const mine = user.filter((t) => t.enabled);
  const key = (name: string) => name.trim().toLowerCase();
  const replaced = new Map<string, string>();
  for (const shipped of set.targets) {
    const same = mine.find((t) => t.id === shipped.id || key(t.name) === key(shipped.name));
    if (same) replaced.set(shipped.id, same.id);
  }
  const targets = [...set.targets.filter((t) => !replaced.has(t.id)), ...mine];
  const known = new Set(targets.map((t) => t.id));
  const questions: CalibrationQuestion[] = set.questions
    .map((q) => (q.subject && replaced.has(q.subject) ? { ...q, subject: replaced.get(q.subject)! } : q))
    .filter((q) => !q.subject || known.has(q.subject));
  for (const t of mine) for (const e of t.examples ?? []) if (e.trim()) questions.push({ question: e, subject: t.id, source: 'examples' });
  return { targets, questions };
}

/** What one question's candidate rows look like, computed once. */
interface QuestionData {
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

export interface CalibrateInput {
  readonly llm: LlmPort;
  readonly model: string;
  readonly set: CalibrationSet;
  readonly cache?: EmbeddingCache;
  readonly recallGoal?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: { done: number; total: number; cached: number }) => void;
}

/**
 * Embeds the set with `model` (target rows through the cache, as relevance does), measures relevance at
 * the model's current thresholds, fits new ones and measures again. Rejects with an LlmError when the
 * model fails. Nothing is stored: the caller saves `fittedThresholds(result)` (see saveCalibration).
 */
export async function calibrate(input: CalibrateInput): Promise<CalibrationResult> {
  const { llm, model, set } = input;
  const recallGoal = input.recallGoal ?? DEFAULT_RECALL_GOAL;
  // Measured against the profile as shipped: a stored fit must not calibrate itself.
  const profile = embeddingProfile(model);
  const space = spaceOf(model, profile);
  const targets = set.targets.filter((t) => t.enabled);
  const targetIndex = new Map(targets.map((t, i) => [t.id, i]));
  const questions = set.questions.filter((q) => !q.subject || targetIndex.has(q.subject));
  if (!questions.some((q) => q.subject) || !questions.some((q) => !q.subject))
    throw new Error('the calibration set needs both positive and negative questions');

  // Rows as TargetEmbeddings lays them out: description, then up to MAX_EXAMPLE_ROWS sample questions.
  const rowTexts: string[] = [];
  const rowOwner: number[] = [];
  targets.forEach((t, i) => {
    rowTexts.push(profile.documentPrefix + documentText(t));
    rowOwner.push(i);
    for (const e of (t.examples ?? []).slice(0, MAX_EXAMPLE_ROWS)) {
      rowTexts.push(profile.queryPrefix + e);
      rowOwner.push(i);
    }
  });
  const probeTexts = NEUTRAL_PROBES.map((p) => profile.queryPrefix + p);
  const questionTexts = questions.map((q) => profile.queryPrefix + q.question);
  const vectors = await embedAll(llm, model, profile, space, [...rowTexts, ...probeTexts, ...questionTexts], input);

  const rows = rowTexts.length;
  const dims = vectors[0]!.length;
  const rowVec = vectors.slice(0, rows);
  const probeVec = vectors.slice(rows, rows + probeTexts.length);
  const questionVec = vectors.slice(rows + probeTexts.length);
  const centroid = new Float32Array(dims);
  for (const v of rowVec) for (let i = 0; i < dims; i++) centroid[i]! += v[i]! / rows;
  const base = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let probe = 0;
    for (const p of probeVec) probe += dot(rowVec[r]!, p);
    probe /= probeVec.length;
    const others = rows > 1 ? (rows * dot(rowVec[r]!, centroid) - 1) / (rows - 1) : -1;
    base[r] = Math.max(probe, others);
  }

  const keywords = buildKeywordIndex(targets);
  const names = buildTargetIndex(targets);
  const noise = rows >= MIN_ROWS_FOR_SPREAD ? Math.sqrt(2 * Math.log(rows)) : 0;
  const data: QuestionData[] = questions.map((q, qi) => {
    const v = questionVec[qi]!;
    const sims = new Float32Array(rows);
    let sum = 0;
    let squares = 0;
    for (let r = 0; r < rows; r++) {
      // A target's own sample question, asked as a question, is held out: it would match itself exactly.
      const s = q.source === 'examples' && rowTexts[r] === profile.queryPrefix + q.question ? -1 : dot(rowVec[r]!, v);
      sims[r] = s;
      sum += s;
      squares += s * s;
    }
    const mean = sum / rows;
    const sd = Math.sqrt(Math.max(0, squares / rows - mean * mean));
    const subject = q.subject ? targetIndex.get(q.subject)! : -1;
    // Rows that can pass: the best by similarity (where the floor decides) and by similarity over their
    // level (where the margin does), and every row of the subject.
    const order = Array.from({ length: rows }, (_, r) => r);
    const keep = new Set<number>();
    for (const r of [...order].sort((a, b) => sims[b]! - sims[a]!).slice(0, CANDIDATE_ROWS)) keep.add(r);
    for (const r of order.sort((a, b) => sims[b]! - base[b]! - (sims[a]! - base[a]!)).slice(0, CANDIDATE_ROWS)) keep.add(r);
    if (subject >= 0) for (let r = 0; r < rows; r++) if (rowOwner[r] === subject) keep.add(r);
    const kept = [...keep];
    return {
      positive: subject >= 0,
      subject,
      kind: q.negative ?? 'positive',
      sim: Float32Array.from(kept, (r) => sims[r]!),
      base: Float32Array.from(kept, (r) => base[r]!),
      target: Int32Array.from(kept, (r) => rowOwner[r]!),
      mean,
      sd,
      noise,
      keyword: keywords.search([q.question]).map((h) => ({ target: targetIndex.get(h.targetId)!, score: h.score })),
      named: new Set(names.mentionedTargets(q.question).map((t) => targetIndex.get(t.id)!)),
    };
  });

  const current: MeaningThresholds = {
    floor: profile.floor,
    margin: profile.margin,
    relativeToBest: profile.relativeToBest,
    sure: profile.sure ?? SURE_MARGINS * profile.margin,
    outlierSlack: profile.outlierSlack ?? OUTLIER_SLACK,
  };
  const before = measure(data, current);
  const fit = fitThresholds(data, recallGoal, current);
  const after = measure(data, fit.thresholds);
  const hits = data.map((d) => meaningHits(d, fit.thresholds));

  const falseByKind: Record<string, number> = {};
  const kinds = new Set(data.filter((d) => !d.positive).map((d) => d.kind));
  for (const kind of kinds) {
    const of = data.map((d, i) => ({ d, i })).filter(({ d }) => !d.positive && d.kind === kind);
    falseByKind[kind] = of.filter(({ d, i }) => anyHit(d, hits[i]!)).length / of.length;
  }
  const missed: { subject: string; question: string; fromExamples?: true }[] = [];
  const falseHits: { question: string; target: string; kind: string; userTarget?: true }[] = [];
  // Targets whose sample questions joined the set: the user's own (a front end may hide their text).
  const userTargets = new Set(questions.filter((q) => q.source === 'examples').map((q) => q.subject));
  data.forEach((d, i) => {
    const h = hits[i]!;
    if (d.positive && !touches(d, h, d.subject) && missed.length < 40)
      missed.push({
        subject: targets[d.subject]!.id,
        question: questions[i]!.question,
        ...(questions[i]!.source === 'examples' ? { fromExamples: true as const } : {}),
      });
    if (!d.positive && falseHits.length < 40) {
      const t = firstHit(d, h);
      if (t >= 0)
        falseHits.push({
          question: questions[i]!.question,
          target: targets[t]!.id,
          kind: d.kind,
          ...(userTargets.has(targets[t]!.id) ? { userTarget: true as const } : {}),
        });
    }
  });

  const positives = data.filter((d) => d.positive);
  const negatives = data.filter((d) => !d.positive);
  return {
    model,
    family: profile.family,
    dims,
    space,
    questions: data.length,
    positives: positives.length,
    negatives: negatives.length,
    subjects: new Set(positives.map((d) => d.subject)).size,
    fromExamples: questions.filter((q) => q.source === 'examples').length,
    recallGoal,
    sureFalseGoal: SURE_FALSE_GOAL,
    keywordThreshold: KEYWORD_THRESHOLD,
    keywordSure: KEYWORD_SURE,
    before,
    after,
    goalReached: after.together.recall >= recallGoal,
    scores: {
      positiveSimilarity: positives.map((d) => best(d, d.subject, (s) => s)),
      negativeSimilarity: negatives.map((d) => best(d, -1, (s) => s)),
      positiveOverBase: positives.map((d) => best(d, d.subject, (s, b) => s - b)),
      negativeOverBase: negatives.map((d) => best(d, -1, (s, b) => s - b)),
      positiveKeyword: positives.map((d) => d.keyword.find((k) => k.target === d.subject)?.score ?? 0),
      negativeKeyword: negatives.map((d) => d.keyword.reduce((m, k) => Math.max(m, k.score), 0)),
    },
    falseByKind,
    missed,
    falseHits,
    fittedAt: new Date().toISOString(),
  };
}

/** What relevance stores beside the embedding cache, for `unlearn ask` and the extension to use. */
export function fittedThresholds(result: CalibrationResult): FittedThresholds {
  const t = result.after.thresholds;
  return {
    version: 1,
    model: result.model,
    family: result.family,
    floor: round(t.floor),
    margin: round(t.margin),
    relativeToBest: round(t.relativeToBest),
    sure: round(t.sure),
    outlierSlack: round(t.outlierSlack),
    questions: result.questions,
    recall: round(result.after.together.recall),
    falseRate: round(result.after.together.falseRate),
    recallGoal: result.recallGoal,
    fittedAt: result.fittedAt,
  };
}

/** Stores the fit where relevance reads it (the cache's calibration slot for the model and profile). */
export async function saveCalibration(cache: EmbeddingCache, result: CalibrationResult): Promise<boolean> {
  if (!cache.writeCalibration) return false;
  await cache.writeCalibration(result.space, fittedThresholds(result));
  return true;
}

/** The one-line summary /explain and the status tooltip show. */
export function calibrationSummary(fitted: Pick<FittedThresholds, 'questions' | 'recall' | 'falseRate'> | undefined): string {
  if (!fitted) return 'not calibrated';
  return `calibrated on ${fitted.questions} questions, recall ${pct(fitted.recall)}, false ${pct(fitted.falseRate)}`;
}

function pct(v: number): string {
  return `${Math.round(v * 1000) / 10}%`;
}

async function embedAll(
  llm: LlmPort,
  model: string,
  profile: EmbeddingProfile,
  space: string,
  texts: readonly string[],
  input: CalibrateInput,
): Promise<Float32Array[]> {
  const keys = texts.map((t) => embeddingKey(t));
  const stored = input.cache ? await input.cache.read(space, keys) : new Map<string, Float32Array>();
  const missing = [...new Set(keys.filter((k) => !stored.has(k)))];
  const textOf = new Map(keys.map((k, i) => [k, texts[i]!]));
  const cached = keys.length - keys.filter((k) => !stored.has(k)).length;
  let dims = stored.size ? [...stored.values()][0]!.length : 0;
  input.onProgress?.({ done: 0, total: missing.length, cached });
  for (let start = 0; start < missing.length; start += EMBED_BATCH) {
    input.signal?.throwIfAborted();
    const batch = missing.slice(start, start + EMBED_BATCH);
    const raw = await llm.embed(
      model,
      batch.map((k) => textOf.get(k)!),
      input.signal,
    );
    if (raw.length !== batch.length)
      throw new LlmError('malformed', `The embedding model ${model} returned ${raw.length} vectors for ${batch.length} texts.`);
    const fresh = new Map<string, Float32Array>();
    batch.forEach((k, j) => {
      const v = checkedVector(raw[j], profile, model, llm.host, dims);
      dims = v.length;
      fresh.set(k, v);
      stored.set(k, v);
    });
    // Written so the next `unlearn ask` finds the target rows embedded already.
    if (input.cache) await input.cache.write(space, fresh);
    input.onProgress?.({ done: Math.min(start + EMBED_BATCH, missing.length), total: missing.length, cached });
  }
  return keys.map((k) => {
    const v = stored.get(k)!;
    if (v.length !== dims) throw new LlmError('malformed', `The embedding model ${model} returned vectors of different sizes.`);
    return v;
  });
}

/** Per target: whether meaning keeps it, and whether it is in the sure band. */
interface Hits {
  readonly over: Map<number, number>;
  readonly sure: Set<number>;
}

function meaningHits(d: QuestionData, t: MeaningThresholds): Hits {
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

function touches(d: QuestionData, h: Hits, target: number): boolean {
  return d.named.has(target) || keywordHit(d, target) || h.over.has(target);
}

function anyHit(d: QuestionData, h: Hits): boolean {
  return d.named.size > 0 || d.keyword.length > 0 || h.over.size > 0;
}

function firstHit(d: QuestionData, h: Hits): number {
  if (d.named.size) return [...d.named][0]!;
  if (d.keyword.length) return d.keyword[0]!.target;
  if (h.over.size) return [...h.over.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return -1;
}

function measure(data: readonly QuestionData[], t: MeaningThresholds): CalibrationMeasure {
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

function fitThresholds(data: readonly QuestionData[], recallGoal: number, start: MeaningThresholds): { thresholds: MeaningThresholds } {
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

function best(d: QuestionData, target: number, score: (sim: number, base: number) => number): number {
  let m = -Infinity;
  for (let k = 0; k < d.sim.length; k++) if (target < 0 || d.target[k] === target) m = Math.max(m, score(d.sim[k]!, d.base[k]!));
  return round(m);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
