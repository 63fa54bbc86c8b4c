export * from './types';
export { runPipeline, REFUSAL } from './pipeline';
export { finalizeAnswer, SafeStreamer } from './finalize';
