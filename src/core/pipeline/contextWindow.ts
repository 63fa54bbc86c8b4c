import { estimateTokens, MESSAGE_OVERHEAD_TOKENS, type ChatMessage } from '../llm';

/**
 * Ollama's context window for every pipeline call, in tokens. Sent as `options.num_ctx`: without it
 * Ollama uses its own default (2048 or 4096 tokens, depending on the version) and silently cuts a longer
 * prompt from the front, which can cut away an agent's instructions. One value for every stage, so
 * Ollama keeps the model loaded between them (a different `num_ctx` makes it reload the model).
 */
export const DEFAULT_CONTEXT_LENGTH = 8192;

/** Tokens a chat template adds once per prompt (BOS, the final assistant header). */
const PROMPT_OVERHEAD_TOKENS = 8;

/**
 * Tokens these messages need, estimated without the model's tokenizer: ASCII text at about four
 * characters a token, every other character (accents, CJK, emoji) as a whole token, plus the chat
 * template's markers around each message. It errs high for most text; dense code can run a little
 * above it, which the reply reserve (see `promptBudget`) absorbs.
 */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  return messages.reduce((n, m) => n + MESSAGE_OVERHEAD_TOKENS + estimateTokens(m.content), PROMPT_OVERHEAD_TOKENS);
}

/** The most a reply keeps of any window, however large. */
const MAX_REPLY_TOKENS = 4096;

/**
 * The reply's share of a window of `window` tokens: a quarter, at least 1, at most 4096. The pipeline
 * budgets its prompts with it and the guarded models advertise the same split to VS Code.
 */
export function replyTokens(window: number): number {
  return Math.min(MAX_REPLY_TOKENS, Math.max(1, Math.floor(window / 4)));
}

/**
 * How many prompt tokens a call may use in a window of `contextLength`: the rest is kept for the reply.
 * `contextLength` 0 means Ollama's own default, which we cannot know: no limit is applied then.
 */
export function promptBudget(contextLength: number): number {
  if (!(contextLength > 0)) return Number.POSITIVE_INFINITY;
  const window = Math.floor(contextLength);
  return window - replyTokens(window);
}

/** The `num_ctx` to send, or undefined to leave Ollama's default. */
export function numCtxOption(contextLength: number | undefined): { num_ctx?: number } {
  return contextLength !== undefined && contextLength > 0 ? { num_ctx: Math.floor(contextLength) } : {};
}

/**
 * The longest suffix of `turns` (the most recent ones) whose prompt, built by `build`, fits `budget`.
 * When turns are left out, a leading assistant turn goes too, so the kept history opens with a user turn.
 * Returns undefined when even the prompt without any turn does not fit.
 */
export function fitHistory(
  turns: readonly ChatMessage[],
  build: (kept: readonly ChatMessage[]) => readonly ChatMessage[],
  budget: number,
): { kept: readonly ChatMessage[]; tokens: number } | undefined {
  const cost = (from: number) => estimatePromptTokens(build(turns.slice(from)));
  const all = cost(0);
  if (all <= budget) return { kept: turns, tokens: all };
  if (cost(turns.length) > budget) return undefined;
  // The cost falls as `from` grows: binary search for the smallest start that fits.
  let lo = 1;
  let hi = turns.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cost(mid) <= budget) hi = mid;
    else lo = mid + 1;
  }
  let from = lo;
  while (from < turns.length && turns[from]!.role === 'assistant') from++;
  return { kept: turns.slice(from), tokens: cost(from) };
}

/** A prompt that cannot fit the context window even without any history: the pipeline fails closed on it. */
export class PromptTooLongError extends Error {
  override readonly name = 'PromptTooLongError';
  readonly details: { readonly label: string };

  constructor(label: string, tokens: number, budget: number, contextLength: number) {
    super(
      `the ${label} prompt needs about ${tokens} tokens, more than the ${budget} a context window of ${contextLength} tokens leaves for it; ` +
        'raise the context length or ask a shorter question',
    );
    this.details = { label };
  }
}

/** The largest window accepted from a setting or flag (2^20 tokens; no local model goes beyond it). */
export const MAX_CONTEXT_LENGTH = 1_048_576;

/**
 * A context length from the command line: a whole number of tokens, 0 for Ollama's own default.
 * Returns the number, or a message saying what is wrong; undefined gives the default.
 */
export function parseContextLength(value: string | undefined, flag = '--num-ctx'): number | string {
  if (value === undefined) return DEFAULT_CONTEXT_LENGTH;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  return Number.isInteger(n) && n >= 0 && n <= MAX_CONTEXT_LENGTH
    ? n
    : `${flag} must be a whole number of tokens from 0 (Ollama's own default) to ${MAX_CONTEXT_LENGTH}, got "${value}"`;
}
