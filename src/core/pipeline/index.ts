export * from './types';
export { runPipeline, KEEP_ALIVE, REFUSAL, TOO_LONG } from './pipeline';
export { DEFAULT_CONTEXT_LENGTH, estimatePromptTokens, promptBudget, parseContextLength } from './contextWindow';
export { createAnswerGuard, finalizeAnswer, guardWouldAct, SafeStreamer, type Finalized } from '../guard';
