import type { ForgetTarget } from '../targets/target';
import { buildFastIndex, type FastTargetIndex } from './fastIndex';

/**
 * A cheap fingerprint of a target list: FNV-1a over every field the index reads. Hashing 100,000
 * targets takes a few milliseconds, against about a second to build their index.
 */
export function targetsFingerprint(targets: readonly ForgetTarget[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const mix = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    }
    // A separator no field can contain, so ["ab","c"] and ["a","bc"] differ.
    h1 = Math.imul(h1 ^ 0xffff, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ 0xffff, 0x5bd1e995) >>> 0;
  };
  for (const t of targets) {
    mix(t.id);
    mix(t.enabled ? '1' : '0');
    mix(t.name);
    for (const a of t.aliases) mix(a);
    mix('\u0000');
  }
  return `${targets.length}:${h1.toString(36)}:${h2.toString(36)}`;
}

let cached: { key: string; list: readonly ForgetTarget[]; index: FastTargetIndex } | undefined;

/**
 * The index for this target list, rebuilt only when the list changed. The same array object is
 * recognised without hashing; an equal list in a new array (settings re-read) costs one fingerprint.
 */
export function getCachedIndex(targets: readonly ForgetTarget[]): FastTargetIndex {
  if (cached && cached.list === targets) return cached.index;
  const key = targetsFingerprint(targets);
  if (cached && cached.key === key) {
    cached = { ...cached, list: targets };
    return cached.index;
  }
  cached = { key, list: targets, index: buildFastIndex(targets) };
  return cached.index;
}

/** Forgets the cached index (tests, or to free memory when the feature is switched off). */
export function clearIndexCache(): void {
  cached = undefined;
}
