import type { Edit, EditSet } from './edits';

/**
 * ALU's composer, for edit sets: it merges the top-k candidates without a model call. Each sentence takes
 * the change of the best-ranked candidate that changed it; a sentence stays as drafted only when every
 * one of the top-k left it alone. So a sentence one passing candidate judged to touch a target is never
 * shown unchanged, and every sentence of the merged answer stands in some candidate the critic passed
 * (or in all of them). ALU's composer writes a new answer for a full answer's time and may bring back a
 * fact the candidates had dropped; this one cannot add a word.
 *
 * `ranked` is best first.
 */
export function composeEdits(ranked: readonly EditSet[]): EditSet {
  const merged = new Map<number, Edit>();
  for (const edits of ranked) for (const [sentence, edit] of edits) if (!merged.has(sentence)) merged.set(sentence, edit);
  return merged;
}
