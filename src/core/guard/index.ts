export * from './types';
export { redactMatches, redactionMarker } from './redact';
export { buildSimpleIndex } from './simpleIndex';
export { buildFastIndex, mergeOverlaps, type FastTargetIndex } from './fastIndex';
export { StreamGuard, createStreamGuard, guardText } from './streamGuard';
export { getCachedIndex, clearIndexCache, targetsFingerprint } from './cache';
export { foldForMatch, foldTerm, foldedString, MAX_CHAR_SPAN } from './normalize';
import type { ForgetTarget } from '../targets/target';
import { buildFastIndex } from './fastIndex';
import type { TargetIndex } from './types';

/** Builds the index the product uses: the fast, disguise-aware one. */
export function buildTargetIndex(targets: readonly ForgetTarget[]): TargetIndex {
  return buildFastIndex(targets);
}
