export * from './types';
export { runPipeline, candidatesAgree, DEFAULT_PARALLEL_CALLS, KEEP_ALIVE, ONE_SLOT_CANDIDATES, REFUSAL, TOO_LONG } from './pipeline';
export { DEFAULT_CONTEXT_LENGTH, MAX_CONTEXT_LENGTH, estimatePromptTokens, promptBudget, parseContextLength } from './contextWindow';
export { createAnswerGuard, finalizeAnswer, guardWouldAct, SafeStreamer, type AnswerGuard, type Finalized } from '../guard';
