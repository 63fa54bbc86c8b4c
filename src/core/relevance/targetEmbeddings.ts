import { LlmError } from '../llm/errors';
import type { LlmPort } from '../llm/port';
import type { ForgetTarget } from '../targets/target';
import { embeddingKey, type EmbeddingCache } from './embeddingCache';
import { prepareVector, type EmbeddingProfile } from './embeddingProfiles';

/** Sample questions of a target embedded on their own rows; the rest still count for keywords. */
export const MAX_EXAMPLE_ROWS = 4;
/** Texts per /api/embed call: Ollama embeds them one after another anyway, and quality is reported to drop in very large batches. */
export const EMBED_BATCH = 32;

/**
 * Everyday questions about nothing in particular. Each target row's mean similarity to them is its
 * "unrelated" level for this model; a request must beat it by the profile's margin. This calibrates
 * per model and per target (a long description sits closer to everything than a two-word name).
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
    const { llm, model, profile, cache, signal } = input;
    const space = spaceOf(model, profile);
    const enabled = input.targets.filter((t) => t.enabled);
    const texts: string[] = [];
    const rowOwner: number[] = [];
    enabled.forEach((t, i) => {
      texts.push(profile.documentPrefix + documentText(t));
      rowOwner.push(i);
      for (const e of (t.examples ?? []).slice(0, MAX_EXAMPLE_ROWS)) {
        texts.push(profile.queryPrefix + e);
        rowOwner.push(i);
      }
    });
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
    const rowThreshold = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let mean = 0;
      for (const p of probeVectors) mean += dot(matrix, r * dims, p, dims);
      mean /= probeVectors.length;
      rowThreshold[r] = Math.max(profile.floor, mean + profile.margin);
    }
    return new TargetEmbeddings(
      model,
      profile,
      dims,
      matrix,
      Int32Array.from(rowOwner),
      rowThreshold,
      enabled.map((t) => t.id),
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
    for (let r = 0; r < rows; r++) {
      const at = r * dims;
      const threshold = rowThreshold[r]!;
      const t = rowTarget[r]!;
      for (let qi = 0; qi < q.length; qi++) {
        const s = dot(matrix, at, q[qi]!, dims);
        const excess = s - threshold;
        if (excess > bestExcess[t]!) {
          bestExcess[t] = excess;
          bestRow[t] = r;
          bestQuery[t] = qi;
          bestSim[t] = s;
        }
      }
    }
    const over: number[] = [];
    const under: number[] = [];
    for (let t = 0; t < targets; t++) {
      if (bestRow[t]! < 0) continue;
      if (bestExcess[t]! >= 0) over.push(t);
      else if (rankBelow > 0) under.push(t);
    }
    const hit = (t: number): SemanticHit => {
      const r = bestRow[t]!;
      return {
        targetId: this.targetIds[t]!,
        similarity: bestSim[t]!,
        threshold: rowThreshold[r]!,
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

  /** A request text as a query vector of this index (validated like the rows). */
  queryText(text: string): string {
    return this.profile.queryPrefix + text;
  }
}

export interface SemanticHit {
  readonly targetId: string;
  readonly similarity: number;
  readonly threshold: number;
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
export function documentText(target: ForgetTarget): string {
  const names = [target.name, ...target.aliases].join(', ');
  return target.description ? `${names}: ${target.description}` : names;
}

export function checkedVector(raw: readonly number[] | undefined, profile: EmbeddingProfile, model: string, host: string, dims: number): Float32Array {
  const v = raw ? prepareVector(raw, profile) : undefined;
  if (!v) throw new LlmError('malformed', `The embedding model ${model} at ${host} returned an unusable vector (empty, zero or not a number).`, { host, model });
  if (dims && v.length !== dims) throw mixedSizes(model, host);
  return v;
}

function mixedSizes(model: string, host: string): LlmError {
  return new LlmError('malformed', `The embedding model ${model} at ${host} returned vectors of different sizes.`, { host, model });
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
