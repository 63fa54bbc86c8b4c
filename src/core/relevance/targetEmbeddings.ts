import { LlmError, type LlmPort } from '../llm';
import type { ForgetTarget } from '../targets';
import { embeddingKey, type EmbeddingCache } from './embeddingCache';
import { prepareVector, withFitted, type EmbeddingProfile } from './embeddingProfiles';
import { createSimdKernel, type SimdKernel } from './simdKernel';

/** Sample questions of a target embedded on their own rows; the rest still count for keywords. */
const MAX_EXAMPLE_ROWS = 4;
/** Below this many rows the spread of a request's similarities says little; only per-row thresholds apply. */
export const MIN_ROWS_FOR_SPREAD = 50;
/**
 * Standard deviations beyond the expected largest of `rows` Gaussian noise draws (√(2 ln rows)) a hit
 * must reach. Similarities are not Gaussian (their tail is heavy: shared sub-words, shared templates),
 * so the slack is generous; a real match is far beyond it (5 to 10 deviations out is common).
 */
export const OUTLIER_SLACK = 1.5;
/** Texts per /api/embed call: Ollama embeds them one after another anyway, and quality is reported to drop in very large batches. */
export const EMBED_BATCH = 32;
/**
 * The sure band of meaning: the profile's margin this many times more above a row's threshold. The
 * threshold says "nearer than everyday questions and the other targets by a margin"; three more margins
 * is where, on every profile, an unrelated request has not been seen (see the relevance bench).
 */
export const SURE_MARGINS = 3;

/**
 * Everyday questions about nothing in particular. Each target row's mean similarity to them is its
 * "unrelated" level for this model; a request must beat it by the profile's margin. This calibrates
 * per model and per target (a long description sits closer to everything than a two-word name).
 * The row's mean similarity to the other targets' rows is a second such level (see build).
 */
export const NEUTRAL_PROBES: readonly string[] = [
  'What is the weather like tomorrow?',
  'How do I boil an egg?',
  'What is 17 times 23?',
  'Write a short poem about autumn leaves.',
  'How do I reverse a list in Python?',
  'What are good exercises for back pain?',
  'Recommend a board game for four players.',
  'How long does it take to fly from London to New York?',
];

export interface EmbeddingBuildProgress {
  readonly done: number;
  readonly total: number;
  /** Texts found in the cache (not embedded again). */
  readonly cached: number;
}

/**
 * The embedded rows of a target list: row 0 of each target is its name, aliases and description; up
 * to MAX_EXAMPLE_ROWS more are its sample questions. Search is exact: dot products over one Float32Array.
 */
export class TargetEmbeddings {
  private constructor(
    readonly model: string,
    readonly profile: EmbeddingProfile,
    readonly dims: number,
    private readonly matrix: Float32Array,
    private readonly rowTarget: Int32Array,
    /** Per row: the similarity it must reach (max of the floor and its probe mean + margin). */
    readonly rowThreshold: Float32Array,
    private readonly targetIds: readonly string[],
    /** The WebAssembly SIMD kernel holding the matrix, where available (about 5x faster than the loop). */
    private readonly kernel: SimdKernel | undefined,
  ) {}

  get rows(): number {
    return this.rowTarget.length;
  }

  /**
   * Embeds (or takes from the cache) every enabled target's text. Fails with an LlmError when the
   * server or model fails, or the vectors are unusable (NaN, zero, mixed sizes).
   */
  static async build(input: {
    llm: LlmPort;
    model: string;
    profile: EmbeddingProfile;
    targets: readonly ForgetTarget[];
    cache: EmbeddingCache;
    signal?: AbortSignal;
    onProgress?: (p: EmbeddingBuildProgress) => void;
  }): Promise<TargetEmbeddings> {
    const { llm, model, cache, signal } = input;
    const space = spaceOf(model, input.profile);
    // Thresholds fitted on this machine for this model and profile replace the shipped ones.
    const profile = withFitted(input.profile, await cache.readCalibration?.(space));
    const enabled = input.targets.filter((t) => t.enabled);
    const { texts, rowOwner } = targetRows(enabled, profile);
    const probes = NEUTRAL_PROBES.map((p) => profile.queryPrefix + p);
    const all = [...texts, ...probes];
    const keys = all.map((t) => embeddingKey(t));
    const vectors = await cache.read(space, keys);
    const cached = keys.filter((k) => vectors.has(k)).length;
    const missing: number[] = [];
    const queued = new Set<string>();
    keys.forEach((k, i) => {
      if (!vectors.has(k) && !queued.has(k)) {
        queued.add(k);
        missing.push(i);
      }
    });
    const total = queued.size + cached;
    input.onProgress?.({ done: cached, total, cached });
    let dims = vectors.size ? [...vectors.values()][0]!.length : 0;
    for (let start = 0; start < missing.length; start += EMBED_BATCH) {
      signal?.throwIfAborted();
      const batch = missing.slice(start, start + EMBED_BATCH);
      const raw = await llm.embed(
        model,
        batch.map((i) => all[i]!),
        signal,
      );
      const fresh = new Map<string, Float32Array>();
      batch.forEach((i, j) => {
        const v = checkedVector(raw[j], profile, model, llm.host, dims);
        dims = v.length;
        fresh.set(keys[i]!, v);
        vectors.set(keys[i]!, v);
      });
      await cache.write(space, fresh);
      input.onProgress?.({ done: cached + Math.min(start + EMBED_BATCH, missing.length), total, cached });
    }
    // Cached vectors of another size (the model was replaced under the same name) cannot be mixed in.
    for (const k of keys) if (vectors.get(k)!.length !== dims) throw mixedSizes(model, llm.host);
    await cache.retain(space, new Set(keys));

    const rows = texts.length;
    const matrix = new Float32Array(rows * dims);
    for (let r = 0; r < rows; r++) matrix.set(vectors.get(keys[r]!)!, r * dims);
    const probeVectors = keys.slice(rows).map((k) => vectors.get(k)!);
    // The mean of all rows: a row's similarity to it says how much the row shares with the rest of
    // the list (a template such as "A logistics client in …" repeated 10,000 times). A request that
    // matches the template would otherwise be near every one of them.
    const centroid = new Float32Array(dims);
    for (let r = 0; r < rows; r++) for (let i = 0; i < dims; i++) centroid[i]! += matrix[r * dims + i]!;
    for (let i = 0; i < dims; i++) centroid[i]! /= rows || 1;
    const rowThreshold = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let probe = 0;
      for (const p of probeVectors) probe += dot(matrix, r * dims, p, dims);
      probe /= probeVectors.length;
      // Mean similarity to the *other* rows (the row's own 1/n share of the centroid taken out).
      const others = rows > 1 ? (rows * dot(matrix, r * dims, centroid, dims) - 1) / (rows - 1) : -1;
      rowThreshold[r] = Math.max(profile.floor, probe + profile.margin, others + profile.margin);
    }
    const kernel = createSimdKernel(rows, dims);
    kernel?.matrix.set(matrix);
    return new TargetEmbeddings(
      model,
      profile,
      dims,
      kernel?.matrix ?? matrix,
      Int32Array.from(rowOwner),
      rowThreshold,
      enabled.map((t) => t.id),
      kernel,
    );
  }

  /**
   * Targets whose best row reaches its threshold for some query, with the similarity, the row's
   * threshold and which query found it, strongest first; among them only those within the profile's
   * fraction of the best similarity. With `rankBelow` > 0 the best `rankBelow` targets under their
   * threshold come too (the `always` policy fills its shortlist with them). One pass over the matrix
   * serves every query.
   */
  search(queries: readonly Float32Array[], rankBelow = 0): SemanticHit[] {
    const { dims, matrix, rowTarget, rowThreshold } = this;
    const q = queries.filter((v) => v.length === dims);
    const targets = this.targetIds.length;
    const bestExcess = new Float32Array(targets).fill(-Infinity);
    const bestRow = new Int32Array(targets).fill(-1);
    const bestQuery = new Int32Array(targets);
    const bestSim = new Float32Array(targets);
    const rows = rowTarget.length;
    const sims = q.map(() => new Float32Array(rows));
    // Queries two at a time: each row is read once per pair (a request is usually a question and an
    // answer), with eight accumulators so the multiplications do not wait on each other.
    for (let qi = 0; qi < q.length; qi += 2) {
      if (qi + 1 < q.length) {
        if (this.kernel) this.kernel.dotPair(q[qi]!, q[qi + 1]!, sims[qi]!, sims[qi + 1]!);
        else dotPair(matrix, rows, dims, q[qi]!, q[qi + 1]!, sims[qi]!, sims[qi + 1]!);
      } else if (this.kernel) this.kernel.dotPair(q[qi]!, q[qi]!, sims[qi]!, sims[qi]!);
      else for (let r = 0; r < rows; r++) sims[qi]![r] = dot(matrix, r * dims, q[qi]!, dims);
    }
    const sum = new Float64Array(q.length);
    const sumSq = new Float64Array(q.length);
    for (let qi = 0; qi < q.length; qi++) {
      const row = sims[qi]!;
      let total = 0;
      let squares = 0;
      for (let r = 0; r < rows; r++) {
        const v = row[r]!;
        total += v;
        squares += v * v;
        const t = rowTarget[r]!;
        const excess = v - rowThreshold[r]!;
        if (excess > bestExcess[t]!) {
          bestExcess[t] = excess;
          bestRow[t] = r;
          bestQuery[t] = qi;
          bestSim[t] = v;
        }
      }
      sum[qi] = total;
      sumSq[qi] = squares;
    }
    // Per query, the level this request reaches on every row: a hit must stand out of it as the
    // largest of `rows` noise draws would not (about 5.8 standard deviations at 10,000 rows, see OUTLIER_SLACK). A request
    // that matches what many targets share (a template, a common subject) is near all of them; none
    // of those stands out. Too few rows for a spread to mean anything: the per-row thresholds alone.
    const outlier = rows >= MIN_ROWS_FOR_SPREAD ? Math.sqrt(2 * Math.log(rows)) + (this.profile.outlierSlack ?? OUTLIER_SLACK) : Infinity;
    const queryLevel = Array.from(q, (_, qi) => {
      if (outlier === Infinity) return -Infinity;
      const mean = sum[qi]! / rows;
      const sd = Math.sqrt(Math.max(0, sumSq[qi]! / rows - mean * mean));
      return mean + outlier * sd;
    });
    const thresholdOf = (t: number) => Math.max(rowThreshold[bestRow[t]!]!, queryLevel[bestQuery[t]!]!);
    const over: number[] = [];
    const under: number[] = [];
    for (let t = 0; t < targets; t++) {
      if (bestRow[t]! < 0) continue;
      const excess = bestSim[t]! - thresholdOf(t);
      bestExcess[t] = excess;
      if (excess >= 0) over.push(t);
      else if (rankBelow > 0) under.push(t);
    }
    const hit = (t: number): SemanticHit => {
      const r = bestRow[t]!;
      return {
        targetId: this.targetIds[t]!,
        similarity: bestSim[t]!,
        threshold: thresholdOf(t),
        // A calibrated profile carries its fitted sure band; otherwise SURE_MARGINS margins.
        sure: thresholdOf(t) + this.sureMargin,
        query: bestQuery[t]!,
        example: r > 0 && rowTarget[r - 1] === t,
      };
    };
    const byExcess = (a: number, b: number) => bestExcess[b]! - bestExcess[a]!;
    const top = over.reduce((m, t) => Math.max(m, bestSim[t]!), -Infinity);
    const kept = over.filter((t) => bestSim[t]! >= top * this.profile.relativeToBest).sort(byExcess);
    const filler = rankBelow > 0 ? under.sort(byExcess).slice(0, rankBelow) : [];
    return [...kept, ...filler].map(hit);
  }

  /** Per target id, its rows [first, end): rows of one target are adjacent. Built on first use. */
  private rowsById: Map<string, readonly [number, number]> | undefined;

  /** The rows of one target, or undefined for a target not in this index. */
  rowsOf(targetId: string): readonly [number, number] | undefined {
    if (!this.rowsById) {
      const map = new Map<string, readonly [number, number]>();
      const { rowTarget } = this;
      for (let r = 0; r < rowTarget.length;) {
        const t = rowTarget[r]!;
        let end = r + 1;
        while (end < rowTarget.length && rowTarget[end] === t) end++;
        map.set(this.targetIds[t]!, [r, end]);
        r = end;
      }
      this.rowsById = map;
    }
    return this.rowsById.get(targetId);
  }

  /** Cosine similarity of a query vector with one row (vectors are normalised). */
  similarity(query: Float32Array, row: number): number {
    return query.length === this.dims ? dot(this.matrix, row * this.dims, query, this.dims) : -1;
  }

  /** A request text as a query vector of this index (validated like the rows). */
  /** How far above a row's threshold the sure band starts: the fitted band, else SURE_MARGINS margins. */
  get sureMargin(): number {
    return this.profile.sure ?? SURE_MARGINS * this.profile.margin;
  }

  queryText(text: string): string {
    return this.profile.queryPrefix + text;
  }
}

export interface SemanticHit {
  readonly targetId: string;
  readonly similarity: number;
  readonly threshold: number;
  /** The sure band's threshold: the threshold plus SURE_MARGINS margins. */
  readonly sure: number;
  /** Which of the query vectors matched best (the caller knows what each one was). */
  readonly query: number;
  /** True when one of the target's sample questions matched, rather than its description. */
  readonly example: boolean;
}

/** The cache space of a model used with a profile: a change of prefixes or dims is another space. */
export function spaceOf(model: string, profile: EmbeddingProfile): string {
  return `${model}|${profile.family}|${profile.dims}${profile.layerNormBeforeCut ? 'ln' : ''}|${embeddingKey(profile.queryPrefix + '\u0000' + profile.documentPrefix).slice(0, 6)}`;
}

/** What a target's description row says: its name, aliases and description. */
/**
 * The rows of the targets, in order: each target's description, then up to MAX_EXAMPLE_ROWS of its sample
 * questions (as queries), with the index of the target each row belongs to. Calibration uses the same rows.
 */
export function targetRows(
  targets: readonly ForgetTarget[],
  profile: Pick<EmbeddingProfile, 'documentPrefix' | 'queryPrefix'>,
): { texts: string[]; rowOwner: number[] } {
  const texts: string[] = [];
  const rowOwner: number[] = [];
  targets.forEach((t, i) => {
    texts.push(profile.documentPrefix + documentText(t));
    rowOwner.push(i);
    for (const e of (t.examples ?? []).slice(0, MAX_EXAMPLE_ROWS)) {
      texts.push(profile.queryPrefix + e);
      rowOwner.push(i);
    }
  });
  return { texts, rowOwner };
}

function documentText(target: ForgetTarget): string {
  const names = [target.name, ...target.aliases].join(', ');
  return target.description ? `${names}: ${target.description}` : names;
}

export function checkedVector(
  raw: readonly number[] | undefined,
  profile: EmbeddingProfile,
  model: string,
  host: string,
  dims: number,
): Float32Array {
  const v = raw ? prepareVector(raw, profile) : undefined;
  if (!v)
    throw new LlmError('malformed', `The embedding model ${model} at ${host} returned an unusable vector (empty, zero or not a number).`, {
      host,
      model,
    });
  if (dims && v.length !== dims) throw mixedSizes(model, host);
  return v;
}

function mixedSizes(model: string, host: string): LlmError {
  return new LlmError('malformed', `The embedding model ${model} at ${host} returned vectors of different sizes.`, { host, model });
}

/**
 * Dot products of every row with two queries: the plain fallback for a runtime without WebAssembly
 * SIMD (the kernel in simdKernel.ts does both queries in one pass over the matrix).
 */
function dotPair(
  matrix: Float32Array,
  rows: number,
  dims: number,
  a: Float32Array,
  b: Float32Array,
  outA: Float32Array,
  outB: Float32Array,
): void {
  for (let r = 0, at = 0; r < rows; r++, at += dims) {
    outA[r] = dot(matrix, at, a, dims);
    outB[r] = dot(matrix, at, b, dims);
  }
}

function dot(matrix: Float32Array, at: number, q: Float32Array, dims: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dims; i += 4) {
    s0 += matrix[at + i]! * q[i]!;
    s1 += matrix[at + i + 1]! * q[i + 1]!;
    s2 += matrix[at + i + 2]! * q[i + 2]!;
    s3 += matrix[at + i + 3]! * q[i + 3]!;
  }
  for (; i < dims; i++) s0 += matrix[at + i]! * q[i]!;
  return s0 + s1 + s2 + s3;
}
