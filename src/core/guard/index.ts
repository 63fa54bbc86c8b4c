export * from './types';
export { redactMatches, guardText } from './redact';
export { redactionMarker, sentenceMarker, withoutMarkerNames, MEANING_REASON, MARKER, PLACEHOLDER, KIND_REASON } from './marker';
export { buildFastIndex, mergeOverlaps, type FastTargetIndex } from './fastIndex';
export { getCachedIndex, clearIndexCache, targetsFingerprint } from './cache';
export { foldForMatch, foldTerm, foldedString, MAX_CHAR_SPAN } from './normalize';
export { createAnswerGuard, finalizeAnswer, guardWouldAct, SafeStreamer, type AnswerGuard, type Finalized } from './answerGuard';
import type { ForgetTarget } from '../targets/target';
import { buildFastIndex } from './fastIndex';
import type { TargetIndex } from './types';

/** Builds the index the product uses: the fast, disguise-aware one. */
export function buildTargetIndex(targets: readonly ForgetTarget[]): TargetIndex {
  return buildFastIndex(targets);
}
