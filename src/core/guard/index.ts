export * from './types';
export { redactMatches, guardText } from './redact';
export { redactionMarker, MARKER, PLACEHOLDER, KIND_REASON } from './marker';
export { buildFastIndex, mergeOverlaps, type FastTargetIndex } from './fastIndex';
export { getCachedIndex, clearIndexCache, targetsFingerprint } from './cache';
export { MAX_CHAR_SPAN } from './foldFlags';
export { foldForMatch } from './folding';
export { foldTerm, foldedString } from './termPool';
export { createAnswerGuard, finalizeAnswer, guardWouldAct, SafeStreamer, type AnswerGuard, type Finalized } from './answerGuard';
import type { ForgetTarget } from '../targets/target';
import { buildFastIndex } from './fastIndex';
import type { TargetIndex } from './types';

/** Builds the index the product uses: the fast, disguise-aware one. */
export function buildTargetIndex(targets: readonly ForgetTarget[]): TargetIndex {
  return buildFastIndex(targets);
}
