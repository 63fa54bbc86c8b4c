import type { TargetIndex } from '../guard';
import { isAbort, LlmError, type LlmPort } from '../llm';
import type { ForgetTarget } from '../targets';
import { MemoryEmbeddingCache, type EmbeddingCache } from './embeddingCache';
import { embeddingProfile } from './embeddingProfiles';
import { buildKeywordIndex, KEYWORD_SURE, KEYWORD_THRESHOLD, type KeywordIndex } from './keywordIndex';
import { checkedVector, TargetEmbeddings, type EmbeddingBuildProgress } from './targetEmbeddings';

/**
 * Targets handed to the agents per request, beyond those spelled by name: the audit prompt holds at
 * most this many, so its size is the same at 10 or 10,000 targets. Eight leaves room for a question
 * about several related subjects while keeping the detect prompt short.
 */
export const SHORTLIST_SIZE = 8;

/** How long a request waits for the embedding model (query vectors, or a target index still building) before going on without meaning. */
const DEFAULT_EMBEDDING_TIMEOUT_MS = 20_000;

/** After a failure (model missing, server down), how long requests go on without meaning before trying the model again. */
const EMBEDDING_RETRY_MS = 60_000;

/**
 * Which requests reach the agents: `named` only those that spell a target, `related` also those a keyword or
 * the meaning points at, `always` every one (as ALU publishes it). Relevance applies it; the pipeline and the
 * front ends pass it through (`unlearn.auditPolicy`, `--audit-policy`).
 */
export type AuditPolicy = 'named' | 'related' | 'always';
export const AUDIT_POLICIES: readonly AuditPolicy[] = ['related', 'always', 'named'];

export type SignalKind = 'name' | 'keyword' | 'meaning';
export type RequestPart = 'question' | 'history' | 'answer';

/** Why one target was shortlisted: one entry per signal that found it. */
export interface RelevanceSignal {
  readonly kind: SignalKind;
  /** keyword: BM25-style score; meaning: cosine similarity. Absent for a name (a spelled name is certain). */
  readonly score?: number;
  readonly threshold?: number;
  /** Whether the score reached its threshold (under `always`, targets below it fill the shortlist too). */
  readonly over: boolean;
  /** The sure band's threshold: at or above it the signal binds (the target is touched, no detection asked). */
  readonly sure?: number;
  /** The score reached the sure band (a name always binds). */
  readonly binding?: boolean;
  /** keyword: the request's words that matched. */
  readonly words?: readonly string[];
  /** meaning: which part of the request was closest; and whether a sample question (not the description) matched. */
  readonly part?: RequestPart;
  readonly example?: boolean;
}

export interface ShortlistEntry {
  readonly target: ForgetTarget;
  readonly signals: readonly RelevanceSignal[];
  /** Each signal's score over its threshold (1 = exactly at it), summed; a name is Infinity. */
  readonly strength: number;
  /**
   * Binding evidence: a spelled name, alias or name part, or a keyword or meaning score in the sure
   * band. A binding target is touched whatever the detection agent says.
   */
  readonly binding: boolean;
}

export type SemanticStatus = 'ok' | 'off' | 'unavailable' | 'building';

export interface SemanticState {
  readonly status: SemanticStatus;
  readonly model?: string;
  /** Why meaning was not used for this request (no target text). */
  readonly problem?: string;
  /** The model to pull when it is missing. */
  readonly pull?: string;
  /** The server itself could not be reached (not the model's fault; every other call fails too). */
  readonly unreachable?: true;
  /** While building: texts embedded so far and in all. */
  readonly progress?: EmbeddingBuildProgress;
  /** The calibration in use: the profile's numbers and the range of per-target thresholds. */
  readonly calibration?: {
    readonly family: string;
    readonly dims: number;
    readonly floor: number;
    readonly margin: number;
    readonly relativeToBest: number;
    readonly minThreshold: number;
    readonly maxThreshold: number;
  };
}

/** What relevance decided for one request: for the pipeline's gate and for /explain. */
export interface RelevanceReport {
  readonly policy: AuditPolicy;
  /** What reaches the agents, strongest first (name hits first). */
  readonly shortlist: readonly ShortlistEntry[];
  /** Enabled targets scored. */
  readonly considered: number;
  readonly keywordThreshold: number;
  /** The keyword score of the sure band. */
  readonly keywordSure: number;
  readonly shortlistSize: number;
  readonly semantic: SemanticState;
  /** Time spent scoring (not waiting for the embedding model). */
  readonly ms: number;
}

/** Query vectors of one request's texts, or why there are none. */
export type QueryVectors =
  { readonly vectors: readonly Float32Array[]; readonly parts: readonly RequestPart[] } | { readonly state: SemanticState };

const sharedMemoryCache = new MemoryEmbeddingCache();
const engines = new WeakMap<TargetIndex, Relevance>();
/** Problems already reported, per model and kind, so a front end tells the user once, not on every request. */
const reported = new Set<string>();

/** The relevance engine of a target index: built once per index (so once per target-list change). */
export function relevanceOf(index: TargetIndex): Relevance {
  let r = engines.get(index);
  if (!r) {
    r = new Relevance(index);
    engines.set(index, r);
  }
  return r;
}

interface EmbeddingSlot {
  build?: Promise<TargetEmbeddings>;
  ready?: TargetEmbeddings;
  progress?: EmbeddingBuildProgress;
  failed?: { error: LlmError; at: number };
}

/**
 * Scores every enabled target of an index against a request with three signals: the lexical matcher
 * (names, aliases, disguises), keywords (keywordIndex.ts), and meaning (targetEmbeddings.ts).
 */
export class Relevance {
  private keywordIndex: KeywordIndex | undefined;
  private readonly targets: readonly ForgetTarget[];
  private readonly byId: Map<string, ForgetTarget>;
  /** Per embedding model: the built index, or its build, or its last failure. */
  private readonly slots = new Map<string, EmbeddingSlot>();

  constructor(readonly index: TargetIndex) {
    this.targets = index.targets.filter((t) => t.enabled);
    this.byId = new Map(this.targets.map((t) => [t.id, t]));
  }

  /** Built on first use (a `named` policy never needs it): about half a second at 10,000 targets. */
  get keywords(): KeywordIndex {
    return (this.keywordIndex ??= buildKeywordIndex(this.targets));
  }

  /**
   * Embeds the targets with `model` (from the cache when it can), once; concurrent callers share the
   * build. Front ends call it ahead of requests (with progress); a request that finds it still running
   * waits a bounded time. Rejects with an LlmError; a failure is remembered for EMBEDDING_RETRY_MS.
   */
  prepare(
    llm: LlmPort,
    model: string,
    options: { cache?: EmbeddingCache; onProgress?: (p: EmbeddingBuildProgress) => void } = {},
  ): Promise<TargetEmbeddings> {
    const slot = this.slot(model);
    if (slot.ready) return Promise.resolve(slot.ready);
    if (slot.failed && Date.now() - slot.failed.at < EMBEDDING_RETRY_MS) return Promise.reject(slot.failed.error);
    if (!slot.build) {
      slot.failed = undefined;
      slot.build = TargetEmbeddings.build({
        llm,
        model,
        profile: embeddingProfile(model),
        targets: this.targets,
        cache: options.cache ?? sharedMemoryCache,
        onProgress: (p) => {
          slot.progress = p;
          options.onProgress?.(p);
        },
      }).then(
        (ready) => {
          slot.ready = ready;
          slot.build = undefined;
          return ready;
        },
        (error: unknown) => {
          slot.build = undefined;
          slot.failed = { error: toLlmError(error, model, llm.host), at: Date.now() };
          throw slot.failed.error;
        },
      );
    }
    return slot.build;
  }

  /**
   * Query vectors for a request's texts, within `timeoutMs` and the caller's signal. Never rejects
   * except on the caller's cancel: any other failure comes back as a state, so the request goes on
   * with names and keywords.
   */
  async embedQueries(
    llm: LlmPort,
    model: string | undefined,
    texts: readonly { part: RequestPart; text: string }[],
    options: { cache?: EmbeddingCache; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<QueryVectors> {
    if (!model) return { state: { status: 'off' } };
    const wanted = texts.filter((t) => t.text.trim());
    if (this.targets.length === 0 || wanted.length === 0) return { state: { status: 'off', model } };
    const slot = this.slot(model);
    // A model that just failed is not asked again on every request: requests go on without meaning for a while.
    if (slot.failed && Date.now() - slot.failed.at < EMBEDDING_RETRY_MS) return { state: unavailable(model, slot.failed.error) };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.timeoutMs ?? DEFAULT_EMBEDDING_TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
    try {
      const index = await raceAbort(this.prepare(llm, model, options), signal);
      const raw = await llm.embed(
        model,
        wanted.map((t) => index.queryText(t.text)),
        signal,
      );
      if (raw.length !== wanted.length)
        throw new LlmError('malformed', `The embedding model ${model} returned ${raw.length} vectors for ${wanted.length} texts.`);
      const vectors = raw.map((v) => checkedVector(v, index.profile, model, llm.host, index.dims));
      slot.failed = undefined;
      return { vectors, parts: wanted.map((t) => t.part) };
    } catch (error) {
      if (options.signal?.aborted) throw new LlmError('aborted', 'The request was cancelled.', { cause: error });
      if (deadline.signal.aborted) {
        if (slot.build)
          return {
            state: {
              status: 'building',
              model,
              problem: 'the target index for meaning is still being built',
              ...(slot.progress ? { progress: slot.progress } : {}),
            },
          };
        return { state: { status: 'unavailable', model, problem: `the embedding model ${model} did not answer in time` } };
      }
      const e = toLlmError(error, model, llm.host);
      slot.failed = { error: e, at: Date.now() };
      return { state: unavailable(model, e) };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The shortlist for one request. `named` are the targets the lexical matcher found (always in, as
   * touched); `queries` the request's query vectors (or why there are none).
   */
  assess(input: {
    policy: AuditPolicy;
    named: readonly ForgetTarget[];
    texts: readonly string[];
    queries: QueryVectors;
    model?: string;
  }): RelevanceReport {
    const started = performance.now();
    const { policy } = input;
    const entries = new Map<string, { target: ForgetTarget; signals: RelevanceSignal[]; strength: number; binding: boolean }>();
    const add = (id: string, signal: RelevanceSignal, strength: number) => {
      const target = this.byId.get(id);
      if (!target) return;
      let e = entries.get(id);
      if (!e) entries.set(id, (e = { target, signals: [], strength: -Infinity, binding: false }));
      e.signals.push(signal);
      if (signal.kind === 'name' || signal.binding) e.binding = true;
      // Signals add up: a target that both keywords and meaning point at ranks above one that only
      // one of them reaches (a list of 10,000 similar descriptions has many of the latter).
      e.strength = e.strength === -Infinity ? strength : e.strength + strength;
    };
    for (const t of input.named) add(t.id, { kind: 'name', over: true }, Infinity);

    let semantic: SemanticState = 'state' in input.queries ? input.queries.state : { status: 'ok', model: input.model };
    if (policy !== 'named') {
      const below = policy === 'always';
      for (const hit of this.keywords.search(input.texts, below ? KEYWORD_THRESHOLD / 8 : KEYWORD_THRESHOLD)) {
        const over = hit.score >= KEYWORD_THRESHOLD;
        const binding = hit.score >= KEYWORD_SURE;
        add(
          hit.targetId,
          {
            kind: 'keyword',
            score: round(hit.score),
            threshold: KEYWORD_THRESHOLD,
            over,
            sure: KEYWORD_SURE,
            ...(binding ? { binding } : {}),
            words: hit.words,
          },
          hit.score / KEYWORD_THRESHOLD,
        );
      }
      if ('vectors' in input.queries && input.model) {
        const index = this.slot(input.model).ready;
        if (index) {
          semantic = { status: 'ok', model: input.model, calibration: calibrationOf(index) };
          const { parts } = input.queries;
          for (const hit of index.search(input.queries.vectors, below ? SHORTLIST_SIZE : 0)) {
            const over = hit.similarity >= hit.threshold;
            const binding = hit.similarity >= hit.sure;
            add(
              hit.targetId,
              {
                kind: 'meaning',
                score: round(hit.similarity),
                threshold: round(hit.threshold),
                over,
                sure: round(hit.sure),
                ...(binding ? { binding } : {}),
                part: parts[hit.query],
                example: hit.example,
              },
              hit.similarity / hit.threshold,
            );
          }
        }
      }
    }

    const all = [...entries.values()];
    const byName = all.filter((e) => e.strength === Infinity);
    const others = all
      .filter((e) => e.strength !== Infinity && (policy === 'always' || e.signals.some((s) => s.over)))
      .sort((a, b) => b.strength - a.strength)
      .slice(0, SHORTLIST_SIZE);
    if (policy === 'always' && others.length < SHORTLIST_SIZE) {
      // ALU audits every answer against the targets. When no signal ranks enough of them (no embedding
      // model, no shared word), the rest of the shortlist is filled in list order, so small lists are
      // audited whole and every answer is audited against something.
      const taken = new Set([...byName, ...others].map((e) => e.target.id));
      for (const target of this.targets) {
        if (others.length >= SHORTLIST_SIZE) break;
        if (!taken.has(target.id)) others.push({ target, signals: [], strength: 0, binding: false });
      }
    }
    return {
      policy,
      shortlist: [...byName, ...others],
      considered: this.targets.length,
      keywordThreshold: KEYWORD_THRESHOLD,
      keywordSure: KEYWORD_SURE,
      shortlistSize: SHORTLIST_SIZE,
      semantic,
      ms: performance.now() - started,
    };
  }

  /** Forgets a remembered failure of `model`, so the next prepare() asks again (after the model was pulled). */
  retryNow(model: string): void {
    this.slot(model).failed = undefined;
  }

  /** The embedding index for a model, once built (for /explain and tests). */
  embeddingsFor(model: string): TargetEmbeddings | undefined {
    return this.slot(model).ready;
  }

  private slot(model: string): EmbeddingSlot {
    let slot = this.slots.get(model);
    if (!slot) this.slots.set(model, (slot = {}));
    return slot;
  }
}

/**
 * True the first time a problem of this kind is seen for this model in this process: the pipeline
 * reports it as an event once, not on every request.
 */
export function firstReport(state: SemanticState): boolean {
  if (state.status !== 'unavailable') return false;
  const key = `${state.model}\u0000${state.pull ? 'missing' : state.problem}`;
  if (reported.has(key)) return false;
  reported.add(key);
  return true;
}

function unavailable(model: string, e: LlmError): SemanticState {
  return {
    status: 'unavailable',
    model,
    problem: e.message,
    ...(e.code === 'model-missing' ? { pull: model } : {}),
    ...(e.code === 'unreachable' ? { unreachable: true as const } : {}),
  };
}

function calibrationOf(index: TargetEmbeddings): NonNullable<SemanticState['calibration']> {
  let min = Infinity;
  let max = -Infinity;
  for (const t of index.rowThreshold) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const { family, floor, margin, relativeToBest } = index.profile;
  return { family, dims: index.dims, floor, margin, relativeToBest, minThreshold: round(min), maxThreshold: round(max) };
}

function toLlmError(error: unknown, model: string, host: string): LlmError {
  if (error instanceof LlmError) return error;
  if (isAbort(error)) return new LlmError('aborted', 'The embedding call was cancelled.', { model, host, cause: error });
  return new LlmError('malformed', `The embedding model ${model} failed: ${error instanceof Error ? error.message : String(error)}`, {
    model,
    host,
    cause: error,
  });
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A report as plain data (JSON-safe, no target objects): what /explain, the preview and `--json` show. */
export interface RelevanceExplanation {
  readonly policy: AuditPolicy;
  readonly considered: number;
  readonly shortlistSize: number;
  readonly keywordThreshold: number;
  /** The keyword score from which a target is touched with no detection call. */
  readonly keywordSure: number;
  readonly semantic: SemanticState;
  readonly shortlist: readonly {
    readonly id: string;
    readonly name: string;
    readonly signals: readonly RelevanceSignal[];
    /** Absent for a name hit (certain). */
    readonly strength?: number;
    /** Binding evidence (a name or a sure-band score): touched whatever detection says. */
    readonly binding: boolean;
    /** What detection said, when it ran: touched or not. */
    readonly detected?: boolean;
  }[];
  /** Whether the detection call ran (it is skipped when the evidence binds, a name or a sure-band score: erasure runs anyway). */
  readonly detection: 'ran' | 'skipped' | 'none';
}

export function explainRelevance(report: RelevanceReport, detected?: ReadonlySet<string>): RelevanceExplanation {
  return {
    policy: report.policy,
    considered: report.considered,
    shortlistSize: report.shortlistSize,
    keywordThreshold: report.keywordThreshold,
    keywordSure: report.keywordSure,
    semantic: report.semantic,
    shortlist: report.shortlist.map((e) => ({
      id: e.target.id,
      name: e.target.name,
      signals: e.signals,
      ...(Number.isFinite(e.strength) ? { strength: round(e.strength) } : {}),
      binding: e.binding,
      ...(detected ? { detected: detected.has(e.target.id) } : {}),
    })),
    detection: detected ? 'ran' : report.shortlist.some((e) => e.binding) ? 'skipped' : 'none',
  };
}
