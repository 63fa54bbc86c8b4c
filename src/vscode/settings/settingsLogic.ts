/**
 * What the `unlearn.*` settings resolve to, as pure functions (no `vscode`) so node tests cover them.
 * `settings.ts` feeds them VS Code's configuration through a small reader.
 */
import { DEFAULT_OLLAMA_HOST, DEFAULT_PROVIDER, isProvider, type Provider } from '../../core/llm';
import {
  DEFAULT_CONTEXT_LENGTH,
  MAX_CONTEXT_LENGTH,
  DEFAULT_MODEL,
  DEFAULT_PIPELINE_OPTIONS,
  type PipelineOptions,
} from '../../core/pipeline';
import { AUDIT_POLICIES, type AuditPolicy, DEFAULT_EMBEDDING_MODEL } from '../../core/relevance';
import type { ForgetTarget } from '../../core/targets';

export { DEFAULT_MODEL };

export interface UnlearnSettings {
  /** Which kind of server answers: Ollama, or an OpenAI-compatible one (vLLM, SGLang, llama-server, LM Studio). */
  readonly provider: Provider;
  /**
   * The address of the chosen provider's server: `unlearn.ollamaHost` for Ollama, `unlearn.baseUrl` for an
   * OpenAI-compatible server (empty when unset: never the Ollama host, which would send the requests to a
   * server the user did not choose for them).
   */
  readonly host: string;
  /** OpenAI-compatible only: where embeddings go when another server holds the embedding model; undefined = `host`. */
  readonly embeddingHost?: string;
  readonly model: string;
  readonly candidates: number;
  readonly topK: number;
  /** Model calls of one request in flight at once: `auto` measures the Ollama server's slots (see core/llm/parallelism.ts). */
  readonly parallelCalls: number | 'auto';
  /** Ollama's context window for every pipeline call (`num_ctx`); 0 = Ollama's own default. */
  readonly contextLength: number;
  /** Ollama embedding model for relevance by meaning; undefined = names and keywords only. */
  readonly embeddingModel: string | undefined;
  readonly auditPolicy: AuditPolicy;
  readonly showOriginal: boolean;
  readonly trace: boolean;
}

/**
 * The ranges of the numeric settings, the same as their schema in package.json (a unit test checks
 * that). VS Code does not enforce a schema's minimum or maximum when a value is read, so a settings
 * file can hold anything; we clamp.
 */
export const NUMERIC_LIMITS = {
  candidates: { min: 1, max: 10, fallback: DEFAULT_PIPELINE_OPTIONS.candidates },
  topK: { min: 1, max: 10, fallback: DEFAULT_PIPELINE_OPTIONS.topK },
  parallelCalls: { min: 1, max: 16, fallback: DEFAULT_PIPELINE_OPTIONS.parallelCalls ?? 4 },
  // parallelCalls defaults to 'auto' (see parallelCallsOf); the fallback is what 'auto' means when nothing measures.
  contextLength: { min: 0, max: MAX_CONTEXT_LENGTH, fallback: DEFAULT_CONTEXT_LENGTH },
} as const;

/** A whole number within [min, max]; a number outside is clamped (fractions cut), anything else is the fallback. */
/** The pipeline's options from the settings, for `model` (the settings' own model unless a caller routed elsewhere). */
export function pipelineOptions(
  settings: Pick<UnlearnSettings, 'model' | 'candidates' | 'topK' | 'contextLength'> &
    Partial<Pick<UnlearnSettings, 'embeddingModel' | 'auditPolicy' | 'parallelCalls'>>,
  model = settings.model,
  /** The server's measured slots, for `parallelCalls: 'auto'` (unmeasured: the pipeline's default). */
  measuredSlots?: number,
): PipelineOptions {
  const parallelCalls = settings.parallelCalls === 'auto' ? measuredSlots : settings.parallelCalls;
  return {
    ...DEFAULT_PIPELINE_OPTIONS,
    model,
    candidates: settings.candidates,
    topK: settings.topK,
    contextLength: settings.contextLength,
    ...(parallelCalls !== undefined ? { parallelCalls } : {}),
    auditPolicy: settings.auditPolicy ?? 'related',
    ...(settings.embeddingModel ? { embeddingModel: settings.embeddingModel } : {}),
  };
}

/** `named` < `related` < `always`: how much of the traffic the agents see. */
const POLICY_STRICTNESS: Record<AuditPolicy, number> = { named: 0, related: 1, always: 2 };

function policyOf(value: unknown): AuditPolicy | undefined {
  return typeof value === 'string' && (AUDIT_POLICIES as readonly string[]).includes(value) ? (value as AuditPolicy) : undefined;
}

/**
 * The audit policy: the user's setting, or a workspace's when it is stricter. A cloned repository may
 * ask for more auditing (`always`), never for less: `named` from a workspace would let every question
 * that describes a target without naming it through unaudited.
 */
function resolveAuditPolicy(read: SettingsReader): AuditPolicy {
  const user = policyOf(read.userOnly('auditPolicy')) ?? 'related';
  const effective = policyOf(read.effective('auditPolicy')) ?? user;
  return POLICY_STRICTNESS[effective] > POLICY_STRICTNESS[user] ? effective : user;
}

/** The embedding model from user settings only (a workspace could pick a cloud model and send the targets out); "" or "none" = off. */
function resolveEmbeddingModel(read: SettingsReader): string | undefined {
  const value = read.userOnly('embeddingModel');
  const text = typeof value === 'string' ? value.trim() : DEFAULT_EMBEDDING_MODEL;
  return text && text.toLowerCase() !== 'none' ? text : undefined;
}

/** `auto` (the default, and whatever is neither `auto` nor a number), or a number clamped to 1–16. */
function parallelCallsOf(value: unknown): number | 'auto' {
  return typeof value === 'number' && !Number.isNaN(value) ? clampInteger(value, NUMERIC_LIMITS.parallelCalls) : 'auto';
}

export function clampInteger(value: unknown, limits: { readonly min: number; readonly max: number; readonly fallback: number }): number {
  if (typeof value !== 'number' || Number.isNaN(value)) return limits.fallback;
  return Math.min(limits.max, Math.max(limits.min, Math.trunc(value)));
}

/**
 * How settings are read. `userOnly` gives the user-settings value (or the default), never a workspace
 * or folder value: for everything a cloned repository must not be able to choose. `effective` gives the
 * value VS Code resolves across all scopes.
 */
export interface SettingsReader {
  userOnly(key: string): unknown;
  effective(key: string): unknown;
}

/** The setting that holds the address of this provider's server. */
export function hostSettingOf(provider: Provider): 'unlearn.ollamaHost' | 'unlearn.baseUrl' {
  return provider === 'openai' ? 'unlearn.baseUrl' : 'unlearn.ollamaHost';
}

/**
 * User settings only for the provider, the host, the model, showOriginal and trace: a workspace must not be able to
 * send the questions and targets elsewhere (a host, or an Ollama cloud model such as
 * `gpt-oss:120b-cloud` that a local Ollama forwards to ollama.com), choose what "Pull" downloads, keep
 * the unguarded answers, or write forgotten content to the log. The tuning numbers may come from a
 * workspace, clamped to their ranges.
 */
export function resolveSettings(read: SettingsReader): UnlearnSettings {
  const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
  const candidates = clampInteger(read.effective('candidates'), NUMERIC_LIMITS.candidates);
  const provider = isProvider(read.userOnly('provider')) ? (read.userOnly('provider') as Provider) : DEFAULT_PROVIDER;
  return {
    provider,
    host: provider === 'openai' ? text(read.userOnly('baseUrl')) : text(read.userOnly('ollamaHost')) || DEFAULT_OLLAMA_HOST,
    ...(provider === 'openai' && text(read.userOnly('embeddingBaseUrl')) ? { embeddingHost: text(read.userOnly('embeddingBaseUrl')) } : {}),
    model: text(read.userOnly('model')) || DEFAULT_MODEL,
    candidates,
    topK: Math.min(clampInteger(read.effective('topK'), NUMERIC_LIMITS.topK), candidates),
    parallelCalls: parallelCallsOf(read.effective('parallelCalls')),
    contextLength: clampInteger(read.effective('contextLength'), NUMERIC_LIMITS.contextLength),
    embeddingModel: resolveEmbeddingModel(read),
    auditPolicy: resolveAuditPolicy(read),
    showOriginal: read.userOnly('preview.showOriginal') === true,
    trace: read.userOnly('trace') === true,
  };
}

// --- targets of several settings files -------------------------------------------------------------

export interface TargetsMerge {
  /** Every enabled target of every file, each with an id unique across the list. */
  readonly targets: ForgetTarget[];
  /** Targets whose id an earlier file already used (they are guarded too, under a new id). */
  readonly clashes: readonly { readonly storeKey: string; readonly id: string }[];
}

/**
 * Joins the enabled targets of several settings files (multi-root: the workspace file and each folder).
 * Fails closed: every valid entry of every file is guarded. An id already used by an earlier file
 * (two folders each with `{"id": "client", ...}`, or the same name with other aliases) does not drop
 * the later target; it gets a new id and is reported as a clash.
 */
export function mergeStoreTargets(stores: readonly { readonly key: string; readonly targets: readonly ForgetTarget[] }[]): TargetsMerge {
  const taken = new Set<string>();
  for (const store of stores) for (const t of store.targets) taken.add(t.id);
  const used = new Set<string>();
  const targets: ForgetTarget[] = [];
  const clashes: { storeKey: string; id: string }[] = [];
  for (const store of stores) {
    for (const t of store.targets) {
      if (!t.enabled) continue;
      if (!used.has(t.id)) {
        used.add(t.id);
        targets.push(t);
        continue;
      }
      let n = 2;
      while (taken.has(`${t.id}~${n}`) || used.has(`${t.id}~${n}`)) n++;
      const id = `${t.id}~${n}`;
      used.add(id);
      targets.push({ ...t, id });
      clashes.push({ storeKey: store.key, id: t.id });
    }
  }
  return { targets, clashes };
}

/**
 * Clashes counted per id across all files, enabled or not (what the Forget Targets view flags): the
 * keys of files whose entry uses an id some earlier file uses too.
 */
export function idClashes(
  stores: readonly { readonly key: string; readonly targets: readonly ForgetTarget[] }[],
): { readonly storeKey: string; readonly id: string; readonly firstStoreKey: string }[] {
  const first = new Map<string, string>();
  const out: { storeKey: string; id: string; firstStoreKey: string }[] = [];
  for (const store of stores) {
    for (const t of store.targets) {
      const owner = first.get(t.id);
      if (owner === undefined) first.set(t.id, store.key);
      else if (owner !== store.key) out.push({ storeKey: store.key, id: t.id, firstStoreKey: owner });
    }
  }
  return out;
}
