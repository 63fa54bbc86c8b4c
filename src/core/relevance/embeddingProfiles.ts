/**
 * How to use one embedding model: the task prefixes it was trained with, how many dimensions to keep,
 * and where its similarity thresholds sit. Cosine similarities do not transfer between models (one
 * model's "unrelated" is 0.05, another's 0.45), so every number here belongs to its model, and each
 * target's threshold is further calibrated at index build against neutral probe texts (see
 * targetEmbeddings.ts).
 */
export interface EmbeddingProfile {
  /** The family this profile is for (`embeddinggemma`, `nomic-embed-text`…); `default` for an unknown model. */
  readonly family: string;
  /** Prepended to a question, an answer or a sample question before it is embedded. */
  readonly queryPrefix: string;
  /** Prepended to a target's description text. */
  readonly documentPrefix: string;
  /**
   * Dimensions kept (Matryoshka-trained models keep most of their quality when cut; fewer dimensions
   * keep 10,000 targets × dims dot products inside the latency budget). 0 keeps all.
   */
  readonly dims: number;
  /** nomic-embed-text's recipe for cutting: layer-normalise the full vector first, then cut and re-normalise. */
  readonly layerNormBeforeCut?: boolean;
  /** A similarity below this never counts, whatever the calibration says. */
  readonly floor: number;
  /** How far above the target's mean similarity to neutral probe texts a request must score. */
  readonly margin: number;
  /** Among targets over their threshold, only those scoring at least this fraction of the best one are kept. */
  readonly relativeToBest: number;
}

/** The model `unlearn.embeddingModel` and `--embedding-model` default to. docs/relevance.md says why. */
export const DEFAULT_EMBEDDING_MODEL = 'embeddinggemma';

const DEFAULT_PROFILE: EmbeddingProfile = {
  family: 'default',
  queryPrefix: '',
  documentPrefix: '',
  dims: 0,
  floor: 0.3,
  margin: 0.1,
  relativeToBest: 0.75,
};

/**
 * Known families. Prefixes are the ones the model cards document; floors and margins sit between
 * the similarities these models give unrelated and related English sentence pairs, set low on purpose:
 * a false positive costs one short detection call.
 */
const PROFILES: readonly (EmbeddingProfile & { readonly match: RegExp })[] = [
  {
    match: /^embeddinggemma\b/,
    family: 'embeddinggemma',
    queryPrefix: 'task: search result | query: ',
    documentPrefix: 'title: none | text: ',
    dims: 256,
    floor: 0.3,
    margin: 0.1,
    relativeToBest: 0.75,
  },
  {
    match: /^nomic-embed-text\b/,
    family: 'nomic-embed-text',
    queryPrefix: 'search_query: ',
    documentPrefix: 'search_document: ',
    dims: 256,
    layerNormBeforeCut: true,
    floor: 0.4,
    margin: 0.08,
    relativeToBest: 0.8,
  },
  {
    match: /^all-minilm\b/,
    family: 'all-minilm',
    queryPrefix: '',
    documentPrefix: '',
    dims: 0,
    floor: 0.25,
    margin: 0.12,
    relativeToBest: 0.7,
  },
  {
    match: /^(?:mxbai-embed-large|snowflake-arctic-embed)\b/,
    family: 'mxbai-embed-large',
    queryPrefix: 'Represent this sentence for searching relevant passages: ',
    documentPrefix: '',
    dims: 512,
    floor: 0.4,
    margin: 0.08,
    relativeToBest: 0.8,
  },
  {
    match: /^bge-m3\b/,
    family: 'bge-m3',
    queryPrefix: '',
    documentPrefix: '',
    dims: 0,
    floor: 0.4,
    margin: 0.08,
    relativeToBest: 0.8,
  },
];

/** The profile for an Ollama model name (`embeddinggemma:300m`, `library/nomic-embed-text:latest`); unknown → no prefixes, all dims. */
export function embeddingProfile(model: string): EmbeddingProfile {
  const base = model.toLowerCase().split('/').pop() ?? '';
  const found = PROFILES.find((p) => p.match.test(base));
  if (!found) return DEFAULT_PROFILE;
  const { match: _match, ...profile } = found;
  return profile;
}

/**
 * The vector as the index stores it: cut to the profile's dims (after nomic's layer norm, when asked)
 * and L2-normalised, so a dot product is the cosine. Undefined when the vector is unusable (NaN,
 * infinite, all zeros): a broken model must not look like "nothing is related".
 */
export function prepareVector(raw: readonly number[], profile: EmbeddingProfile): Float32Array | undefined {
  if (raw.length === 0) return undefined;
  for (const v of raw) if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  let values: readonly number[] = raw;
  if (profile.layerNormBeforeCut && profile.dims > 0 && profile.dims < raw.length) {
    let mean = 0;
    for (const v of raw) mean += v;
    mean /= raw.length;
    let variance = 0;
    for (const v of raw) variance += (v - mean) ** 2;
    const sd = Math.sqrt(variance / raw.length) || 1;
    values = raw.map((v) => (v - mean) / sd);
  }
  const dims = profile.dims > 0 ? Math.min(profile.dims, values.length) : values.length;
  const out = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    const v = values[i]!;
    out[i] = v;
    norm += v * v;
  }
  if (!(norm > 0)) return undefined;
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dims; i++) out[i]! *= scale;
  return out;
}
