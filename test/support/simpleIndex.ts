import { termsOf, type ForgetTarget } from '../../src/core/targets/target';
import type { GuardMatch, TargetIndex } from '../../src/core/guard';

/**
 * First version of the index: case- and accent-insensitive, whole words only, one scan per term.
 * Kept as the reference the fast index is tested against.
 */
export function buildSimpleIndex(targets: readonly ForgetTarget[]): TargetIndex {
  const enabled = targets.filter((t) => t.enabled);
  const terms = enabled.flatMap((t) => termsOf(t).map((term) => ({ target: t, term, folded: foldText(term).text })));
  const byId = new Map(targets.map((t) => [t.id, t]));
  const holdBack = Math.max(0, ...terms.map((t) => t.term.length * 4));
  const find = (text: string): GuardMatch[] => {
    const folded = foldText(text);
    const found: GuardMatch[] = [];
    for (const { target, term, folded: needle } of terms) {
      if (!needle) continue;
      let from = 0;
      for (;;) {
        const at = folded.text.indexOf(needle, from);
        if (at < 0) break;
        from = at + 1;
        const endAt = at + needle.length;
        if (isWordChar(folded.text[at - 1]) || isWordChar(folded.text[endAt])) continue;
        found.push({ targetId: target.id, term, start: folded.origin[at]!, end: folded.origin[endAt]!, kind: 'exact' });
      }
    }
    return resolveOverlaps(found);
  };
  return {
    targets,
    holdBack,
    find,
    byId: (id) => byId.get(id),
    mentionedTargets: (...texts) => {
      const ids = new Set(texts.flatMap((t) => find(t).map((m) => m.targetId)));
      return enabled.filter((t) => ids.has(t.id));
    },
  };
}

/** Lower-cases and strips accents, keeping for each folded index the index in the original text. */
function foldText(text: string): { text: string; origin: number[] } {
  let out = '';
  const origin: number[] = [];
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const folded = String.fromCodePoint(cp).normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
    for (let k = 0; k < folded.length; k++) origin.push(i);
    out += folded;
    i += width;
  }
  origin.push(text.length);
  return { text: out, origin };
}

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
}

/** Sorts by start and keeps, among overlapping matches, the longest (earliest on ties). */
function resolveOverlaps(matches: GuardMatch[]): GuardMatch[] {
  const sorted = [...matches].sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start));
  const kept: GuardMatch[] = [];
  for (const m of sorted) {
    const last = kept[kept.length - 1];
    if (last && m.start < last.end) {
      if (m.end - m.start > last.end - last.start) kept[kept.length - 1] = m;
      continue;
    }
    kept.push(m);
  }
  return kept;
}
