export * from './types';
export { redactMatches, redactionMarker } from './redact';
export { buildSimpleIndex } from './simpleIndex';
import type { ForgetTarget } from '../targets/target';
import { buildSimpleIndex } from './simpleIndex';
import type { TargetIndex } from './types';

/** Builds the index the product uses. */
export function buildTargetIndex(targets: readonly ForgetTarget[]): TargetIndex {
  return buildSimpleIndex(targets);
}
