/** Builds the product's target index (buildTargetIndex) and merges overlapping matches. */

import type { ForgetTarget } from '../targets';
import { IndexedTerms } from './indexedTerms';
import { IndexScan, type Candidate } from './indexScan';
import type { GuardMatch, TargetIndex } from './types';

/** Extra read-only facts about the index, for the cache and the benchmark. */
export interface FastTargetIndex extends TargetIndex {
  /** Longest stretch of original text one match can cover. */
  readonly maxMatchSpan: number;
  readonly stableEnd: (text: string) => number;
  readonly stats: { readonly terms: number; readonly patterns: number; readonly automatonBytes: number };
}

/**
 * The product's index: folds names and text the same way (case, NFKC, accents, TR39 confusables,
 * leetspeak, entities, escapes), runs one Aho–Corasick automaton over the folded text, and checks every
 * hit against the original layout (word boundaries, spaced-out letters, plural or possessive endings).
 * The automaton also runs over the text as rendered (markdown emphasis and URL `+` dropped, symbols read
 * as separators) and over the text backwards (reversed names, bidi overrides). Masked spellings are
 * looked up from each mask character. Scan time is linear in the text, whatever the number of targets.
 * `IndexedTerms` holds what is built once; `IndexScan` runs the passes over one text.
 */
export function buildTargetIndex(targets: readonly ForgetTarget[]): FastTargetIndex {
  const terms = new IndexedTerms(targets);
  const scan = new IndexScan(terms);
  const byId = new Map(targets.map((t) => [t.id, t]));

  const toMatch = (c: Candidate): GuardMatch => {
    const m = {
      targetId: terms.enabled[terms.termTarget[c.entry]!]!.id,
      term: terms.termText[c.entry]!,
      start: c.start,
      end: c.end,
      kind: c.kind,
    };
    return { ...m, ...(c.reversed ? { reversed: true as const } : {}), ...(c.encoding ? { encoding: c.encoding } : {}) };
  };

  return {
    targets,
    holdBack: terms.holdBack,
    maxMatchSpan: terms.maxMatchSpan,
    find: (text) => mergeOverlaps(scan.run(text, false).found.map(toMatch)),
    stableEnd: (text) => scan.run(text, true).stable,
    byId: (id) => byId.get(id),
    mentionedTargets: (...texts) => {
      const hit = new Set<number>();
      for (const text of texts) for (const c of scan.run(text, false).found) hit.add(terms.termTarget[c.entry]!);
      return terms.enabled.filter((_, i) => hit.has(i));
    },
    stats: { terms: terms.entries, patterns: terms.automaton.patternCount, automatonBytes: terms.automaton.byteSize },
  };
}

/**
 * Sorts matches and merges overlapping ones: the longest (earliest on ties) names the target, and the
 * span grows to cover every overlapping match, so no part of any matched name stays visible.
 */
export function mergeOverlaps(matches: GuardMatch[]): GuardMatch[] {
  const sorted = [...matches].sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start));
  const out: GuardMatch[] = [];
  let winner: GuardMatch | undefined;
  let start = 0;
  let end = 0;
  for (const m of sorted) {
    if (winner && m.start < end) {
      if (m.end - m.start > winner.end - winner.start) winner = m;
      end = Math.max(end, m.end);
      continue;
    }
    if (winner) out.push({ ...winner, start, end });
    winner = m;
    start = m.start;
    end = m.end;
  }
  if (winner) out.push({ ...winner, start, end });
  return out;
}
