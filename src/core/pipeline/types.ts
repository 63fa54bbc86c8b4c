import type { ForgetTarget } from '../targets';
import type { Redaction, TargetIndex } from '../guard';
import type { ChatMessage, LlmPort } from '../llm';
import { DEFAULT_CONTEXT_LENGTH } from './contextWindow';
import type { EmbeddingCache, AuditPolicy, RelevanceExplanation } from '../relevance';

export type StageName = 'retrieve' | 'vanilla' | 'relevance' | 'detect' | 'rewrite' | 'edit' | 'critic' | 'compose' | 'guard';

/** Progress events, in order; adapters turn them into chat progress lines or stderr lines. */
export type PipelineEvent =
  | {
      readonly type: 'stage-start';
      readonly stage: StageName;
      readonly message: string;
      readonly targets?: number;
      readonly candidates?: number;
      /** Earlier turns left out of this stage's prompt to fit the context window. */
      readonly droppedTurns?: number;
    }
  | { readonly type: 'stage-end'; readonly stage: StageName; readonly ms: number }
  /** Text of the final answer as it becomes safe to show (already guarded). */
  | { readonly type: 'answer-chunk'; readonly text: string }
  /**
   * The embedding model cannot be used (missing, failing, too slow): requests go on with names and
   * keywords. Sent once per model and problem in a process; `pull` names the model to pull when it is missing.
   */
  | { readonly type: 'relevance-notice'; readonly message: string; readonly model: string; readonly pull?: string };

export interface PipelineOptions {
  readonly model: string;
  /** j: erased candidates the rewrite agent writes (one call each). */
  readonly candidates: number;
  /** k: how many of the best candidates the composer merges (k = 1: the best is shown as written). */
  readonly topK: number;
  /**
   * Model calls of one request in flight at once: the slots of the Ollama server (`OLLAMA_NUM_PARALLEL`).
   * More just queue on the server. 1 declares a one-slot server: the request then writes at most
   * ONE_SLOT_CANDIDATES candidates and shows the best instead of composing (see pipeline.ts). Unset: 4.
   */
  readonly parallelCalls?: number;
  /** Mean critic score (1–5) of the top-k below which the answer is a refusal. */
  readonly minScore: number;
  /** Per-call limits. */
  readonly firstTokenTimeoutMs: number;
  readonly totalTimeoutMs: number;
  /** Sampling temperature for the vanilla and composer agents. */
  readonly temperature?: number;
  readonly seed?: number;
  /**
   * Ollama's context window in tokens, sent as `num_ctx` on every call; history that would not fit is
   * trimmed from the oldest turn. 0 leaves Ollama's own default and turns trimming off. Unset: 8192.
   */
  readonly contextLength?: number;
  /**
   * When a request goes to the agents: `related` (default) when a name, a keyword or the meaning points
   * at a target; `always` every request (ALU as published); `named` only when a name is spelled.
   */
  readonly auditPolicy?: AuditPolicy;
  /**
   * Ollama embedding model for the meaning signal (`embeddinggemma`, `nomic-embed-text`…). Unset: no
   * meaning signal, names and keywords only. Front ends default it to DEFAULT_EMBEDDING_MODEL.
   */
  readonly embeddingModel?: string;
  /** How long a request waits for the embedding model before going on without meaning (default 20 s). */
  readonly embeddingTimeoutMs?: number;
}

/** The Ollama model used when none is configured: `unlearn.model`'s default and the CLI's. */
export const DEFAULT_MODEL = 'llama3.2';

export const DEFAULT_PIPELINE_OPTIONS: Omit<PipelineOptions, 'model'> = {
  candidates: 3,
  topK: 2,
  minScore: 4,
  parallelCalls: 4,
  firstTokenTimeoutMs: 60_000,
  totalTimeoutMs: 180_000,
  contextLength: DEFAULT_CONTEXT_LENGTH,
};

export interface PipelineInput {
  readonly llm: LlmPort;
  /** Built once per target-list change (see guard). Disabled targets are ignored by it. */
  readonly index: TargetIndex;
  readonly question: string;
  /** Earlier turns of this conversation, oldest first (user and assistant only). */
  readonly history?: readonly ChatMessage[];
  /**
   * The answer, already written by the model (Agent mode: the last step of a tool loop, written with the
   * tools' results in view). No vanilla call is made; the draft is read, assessed and erased exactly as
   * the vanilla agent's answer would be, and never shown unchecked.
   */
  readonly draft?: string;
  /**
   * What the model read besides the question and the history: tool results (a file, a command's output).
   * Not sent to any agent, but the matcher, keywords and meaning read all of it, so a result that names or
   * is about a target makes the request touched. Never trimmed to fit the context window.
   */
  readonly evidence?: readonly string[];
  readonly options: PipelineOptions;
  /** Where target embeddings are kept (a FileEmbeddingCache for the CLI or the extension's storage); default: memory. */
  readonly embeddingCache?: EmbeddingCache;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: PipelineEvent) => void;
}

export interface StageRecord {
  readonly stage: StageName;
  readonly ms: number;
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type PipelineOutcome =
  | 'vanilla' // no target touched: the vanilla answer stands (after the guard)
  | 'erased' // targets touched: composed from the best erased candidates
  | 'refused'; // targets touched and no candidate good enough, or an agent failed: a fixed refusal

export interface PipelineResult {
  /** The final answer, guarded: markers stand where targets were removed. */
  readonly answer: string;
  readonly outcome: PipelineOutcome;
  /** Every marker in `answer`, with the target and reason. */
  readonly redactions: readonly Redaction[];
  /** Targets the request touched (retrieval + audit), for /explain. */
  readonly touchedTargets: readonly Pick<ForgetTarget, 'id' | 'name'>[];
  /** True when the final guard had to mask something the agents let through. */
  readonly guardActed: boolean;
  /** Why the answer was refused, when it was (no forgotten content in it). */
  readonly refusalReason?: string;
  /**
   * Set when the oldest turns of the history were left out so the prompts fit the context window:
   * `sent` turns of `total` reached the vanilla agent (and retrieval), `audit` of them the audit.
   */
  readonly historyTrimmed?: { readonly total: number; readonly sent: number; readonly audit?: number };
  /** Which targets relevance shortlisted and why (signals, scores, thresholds), for /explain. */
  readonly relevance?: RelevanceExplanation;
  readonly stages: readonly StageRecord[];
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalMs: number;
}
