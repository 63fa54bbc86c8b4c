/**
 * Calibration: how well relevance finds the subjects of a labelled question set with the user's own
 * embedding model, and per-model thresholds fitted to it. Cosine similarities do not transfer between
 * models, and the shipped floors and margins were never measured on a real one; this measures them.
 *
 * The meaning signal is replayed here exactly as TargetEmbeddings scores it (rows, probe and centroid
 * levels, the outlier level, the relative cut-off), so the numbers are the ones a request would get;
 * what changes between candidate thresholds is cheap arithmetic over similarities computed once.
 */
import { buildTargetIndex } from '../guard';
import { LlmError, type LlmPort } from '../llm';
import type { ForgetTarget } from '../targets';
import { embeddingKey, type EmbeddingCache } from './embeddingCache';
import { embeddingProfile, type EmbeddingProfile, type FittedThresholds } from './embeddingProfiles';
import { buildKeywordIndex, KEYWORD_SURE, KEYWORD_THRESHOLD } from './keywordIndex';
import {
  checkedVector,
  EMBED_BATCH,
  MIN_ROWS_FOR_SPREAD,
  NEUTRAL_PROBES,
  OUTLIER_SLACK,
  spaceOf,
  SURE_MARGINS,
  targetRows,
} from './targetEmbeddings';
import {
  anyHit,
  best,
  dot,
  firstHit,
  fitThresholds,
  meaningHits,
  measure,
  round,
  SURE_FALSE_GOAL,
  touches,
  type QuestionData,
} from './calibrationFit';
import type { CalibrationQuestion, CalibrationResult, CalibrationSet, MeaningThresholds } from './calibrationTypes';

export type { CalibrationQuestion, CalibrationSet, CalibrationMeasure, CalibrationResult } from './calibrationTypes';

export const DEFAULT_RECALL_GOAL = 0.95;

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

  // Rows exactly as TargetEmbeddings lays them out.
  const { texts: rowTexts, rowOwner } = targetRows(targets, profile);
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
