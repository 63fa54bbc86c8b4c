export * from './types';
export { redactMatches, guardText } from './redact';
export { redactionMarker, sentenceMarker, withoutMarkerNames, ANONYMOUS_MARKER, MEANING_REASON, MARKER } from './marker';
export { buildTargetIndex } from './targetIndex';
export { getCachedIndex, clearIndexCache } from './cache';
export { foldForMatch } from './folding';
export { foldedString, TermPool } from './termPool';
export { createAnswerGuard, finalizeAnswer, guardWouldAct, type Finalized } from './answerGuard';
export { SafeStreamer } from './streamer';
// For the benchmark, which measures the automaton on its own.
export { Automaton } from './automaton';
