export * from './types';
export { runPipeline, KEEP_ALIVE, REFUSAL, TOO_LONG } from './pipeline';
export {
  DEFAULT_CONTEXT_LENGTH,
  estimatePromptTokens,
  promptBudget,
  parseContextLength,
  numCtxOption,
  replyTokens,
  MAX_CONTEXT_LENGTH,
} from './contextWindow';
export { allWithLimit } from './parallelCalls';
