export * from './types';
export { runPipeline, KEEP_ALIVE, REFUSAL, TOO_LONG } from './pipeline';
export { DEFAULT_PARALLEL_CALLS } from './erasure';
export { DEFAULT_CONTEXT_LENGTH, MAX_CONTEXT_LENGTH, estimatePromptTokens, promptBudget, parseContextLength } from './contextWindow';
export { createAnswerGuard, finalizeAnswer, guardWouldAct, SafeStreamer, type AnswerGuard, type Finalized } from '../guard';
