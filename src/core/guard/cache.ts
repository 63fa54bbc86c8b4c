import type { ForgetTarget } from '../targets';
import { buildTargetIndex, type FastTargetIndex } from './targetIndex';

/** Running state of the fingerprint's two hash lanes; typed, so the hot loop never boxes a number. */
const lanes = new Int32Array(2);

function mix(s: string): void {
  let h1 = lanes[0]!;
  let h2 = lanes[1]!;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  // A separator no field can contain (0xffff is a noncharacter), so ["ab","c"] and ["a","bc"] differ.
  lanes[0] = Math.imul(h1 ^ 0xffff, 0x01000193);
  lanes[1] = Math.imul(h2 ^ 0xffff, 0x5bd1e995);
}

/**
 * A cheap fingerprint of a target list: FNV-1a-style hashing in two 32-bit lanes over every field the
 * index reads or hands on (the pipeline passes `description` to the agents). At 100,000 targets it
 * takes a few tens of milliseconds on a busy 2-core machine, against seconds to build their index.
 */
function targetsFingerprint(targets: readonly ForgetTarget[]): string {
  lanes[0] = 0x811c9dc5;
  lanes[1] = 0x01000193;
  for (const t of targets) {
    mix(t.id);
    mix(t.enabled ? '1' : '0');
    mix(t.name);
    for (const a of t.aliases) mix(a);
    mix('\u0000');
    // Which terms need a capital changes what the index matches.
    for (const c of t.caseSensitive ?? []) mix(c);
    mix('\u0002');
    // Freed name parts change which terms the index holds.
    if (t.freeNameParts === true) mix('\u0003');
    else for (const f of t.freeNameParts ?? []) mix(f);
    mix('\u0002');
    mix(t.description ?? '');
    // Examples feed relevance (keywords, meaning): an edited example must rebuild the index too.
    for (const e of t.examples ?? []) mix(e);
    mix('\u0001');
  }
  return `${targets.length}:${(lanes[0]! >>> 0).toString(36)}:${(lanes[1]! >>> 0).toString(36)}`;
}

let cached: { key: string; index: FastTargetIndex } | undefined;

/**
 * The index for this target list, rebuilt only when the list changed. Every call fingerprints the
 * list: recognising it by array identity would hand a list edited in place (a push, a changed alias)
 * the index of what it used to be. The index is built from a snapshot (copies of the array and of each
 * target), so later edits of the caller's list cannot change an index a running request holds.
 */
export function getCachedIndex(targets: readonly ForgetTarget[]): FastTargetIndex {
  const key = targetsFingerprint(targets);
  if (cached && cached.key === key) return cached.index;
  const snapshot = targets.map((t) => ({
    ...t,
    aliases: [...t.aliases],
    ...(t.caseSensitive ? { caseSensitive: [...t.caseSensitive] } : {}),
    ...(Array.isArray(t.freeNameParts) ? { freeNameParts: [...(t.freeNameParts as readonly string[])] } : {}),
  }));
  cached = { key, index: buildTargetIndex(snapshot) };
  return cached.index;
}

/** Forgets the cached index (tests, or to free memory when the feature is switched off). */
export function clearIndexCache(): void {
  cached = undefined;
}
