export * from './types';
export { redactMatches, guardText } from './redact';
export { redactionMarker, MARKER, PLACEHOLDER, KIND_REASON } from './marker';
export { buildTargetIndex, mergeOverlaps, type FastTargetIndex } from './targetIndex';
export { getCachedIndex, clearIndexCache, targetsFingerprint } from './cache';
export { MAX_CHAR_SPAN } from './foldFlags';
export { foldForMatch } from './folding';
export { foldTerm, foldedString, TermPool } from './termPool';
export { createAnswerGuard, finalizeAnswer, guardWouldAct, type AnswerGuard, type Finalized } from './answerGuard';
export { SafeStreamer } from './streamer';
// For the benchmark, which measures the automaton on its own.
export { Automaton } from './automaton';
