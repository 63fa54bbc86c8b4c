import { termsOf, type ForgetTarget } from '../targets/target';
import { Automaton } from './automaton';
import {
  F_CONF,
  F_IGN,
  F_LEET,
  F_MASK,
  F_SEP,
  F_SYMBOL,
  LETTER_BIT,
  MAX_CHAR_SPAN,
  foldForMatch,
  TermPool,
  isAsciiLetter,
  type Folded,
} from './normalize';
import type { GuardMatch, MatchKind, TargetIndex } from './types';

/** A match before overlaps are resolved. `from`/`to` index compact characters. */
interface Candidate {
  readonly entry: number;
  readonly start: number;
  readonly end: number;
  readonly kind: MatchKind;
}

/** Context a decision about a match needs after its last character: an "s"/"es" suffix and the boundary after it. */
const RIGHT_CONTEXT = 4 * MAX_CHAR_SPAN + 4;
/** Context a decision needs before its first character: the previous character and the gap to it. */
export const LEFT_CONTEXT = MAX_CHAR_SPAN + 2;

/** Extra read-only facts about the fast index, for the stream guard, the cache and the benchmark. */
export interface FastTargetIndex extends TargetIndex {
  readonly kindOfIndex: 'fast';
  /** Longest stretch of original text one match can cover. */
  readonly maxMatchSpan: number;
  /** Original characters after a match that decide whether it is one (suffix and boundary). */
  readonly rightContext: number;
  readonly leftContext: number;
  /** Matches before overlaps are resolved, with every target that matched (for streaming and `mentionedTargets`). */
  candidates(text: string): GuardMatch[];
  readonly stats: { readonly terms: number; readonly patterns: number; readonly automatonBytes: number };
}

/**
 * The product's index: folds names and text the same way (case, NFKC, accents, TR39 confusables,
 * leetspeak), runs one Aho–Corasick automaton over the folded text, and checks every hit against the
 * original layout (word boundaries, spaced-out letters, plural or possessive endings). Masked spellings
 * are looked up from each mask character. Scan time is linear in the text, whatever the number of targets.
 */
export function buildFastIndex(targets: readonly ForgetTarget[]): FastTargetIndex {
  const enabled = targets.filter((t) => t.enabled);
  const byId = new Map(targets.map((t) => [t.id, t]));
  // Every name and alias, folded into one flat pool; entry i belongs to enabled target termTarget[i].
  let chars = 0;
  let termCount = 0;
  for (const t of enabled) {
    termCount += 1 + t.aliases.length;
    chars += t.name.length;
    for (const a of t.aliases) chars += a.length;
  }
  const pool = new TermPool(termCount, chars + (chars >> 3));
  const termTarget = new Int32Array(termCount);
  const termText: string[] = [];
  enabled.forEach((target, ti) => {
    for (const term of termsOf(target)) {
      const i = pool.add(term);
      // A name with no letters or digits (".*") cannot be spelled in text.
      if (pool.length(i) === 0) {
        pool.pop();
        continue;
      }
      termTarget[i] = ti;
      termText.push(term);
    }
  });
  const entries = pool.count;

  const patternOf = new Int32Array(entries);
  const automaton = new Automaton(pool.skeleton, pool.offset, entries, patternOf);
  // Entries per pattern, as a CSR list: entries with the same skeleton share one pattern.
  const counts = new Int32Array(automaton.patternCount + 1);
  for (let i = 0; i < entries; i++) counts[patternOf[i]! + 1]!++;
  for (let p = 0; p < automaton.patternCount; p++) counts[p + 1]! += counts[p]!;
  const patternEntries = new Int32Array(entries);
  const fill = counts.slice(0, automaton.patternCount);
  for (let i = 0; i < entries; i++) patternEntries[fill[patternOf[i]!]!++] = i;

  // Masked spellings cannot run through the automaton (a mask may be any letter); they are looked up by
  // first letter and length instead. Only names of 3+ letters can be masked (at most a third of them).
  const maskBuckets = new Map<number, number[]>();
  const maskBucketsByLast = new Map<number, number[]>();
  const addTo = (map: Map<number, number[]>, key: number, entry: number) => {
    const bucket = map.get(key);
    if (bucket) bucket.push(entry);
    else map.set(key, [entry]);
  };
  let maxLen = 0;
  let maxMaskLen = 0;
  for (let i = 0; i < entries; i++) {
    const len = pool.length(i);
    maxLen = Math.max(maxLen, len);
    if (len < 3 || len >= 4096) continue;
    maxMaskLen = Math.max(maxMaskLen, len);
    const key = pool.skeleton[pool.offset[i]!]! * 4096 + len;
    addTo(maskBuckets, key, i);
    // Also by last letter, for the usual case where the last letter is not masked.
    const last = pool.skeleton[pool.offset[i]! + len - 1]!;
    if (last < 65536) addTo(maskBucketsByLast, key * 65536 + last, i);
  }

  const maxMatchSpan = maxLen * MAX_CHAR_SPAN;

  const collect = (text: string): Candidate[] => {
    const f = foldForMatch(text);
    const found: Candidate[] = [];
    let hasMask = false;
    automaton.scan(f.skeleton, f.length, (pattern, end) => {
      const start = end - automaton.lengthOf(pattern);
      for (let k = counts[pattern]!; k < counts[pattern + 1]!; k++) {
        const entry = patternEntries[k]!;
        const kind = verify(pool, entry, f, start, false);
        if (kind) found.push({ entry, start, end, kind });
      }
    });
    for (let p = 0; p < f.length && !hasMask; p++) hasMask = (f.flags[p]! & F_MASK) !== 0;
    if (hasMask && maskBuckets.size > 0) findMasked(f, found);
    // Map compact positions to original offsets while the shared buffer is still ours.
    return found.map((c) => ({ ...c, start: f.start[c.start]!, end: Math.min(f.end[c.end - 1]!, f.start[c.end - 1]! + MAX_CHAR_SPAN) }));
  };

  const findMasked = (f: Folded, found: Candidate[]): void => {
    const seen = new Set<number>();
    for (let p = 1; p < f.length; p++) {
      if (!(f.flags[p]! & F_MASK)) continue;
      // A masked word starts and ends at a real boundary: another mask is not one, or "get_user_id"
      // would offer a candidate at every underscore (and cost seconds against 100,000 names).
      for (let s = p - 1; s >= 0 && s > p - maxMaskLen; s--) {
        if (f.flags[s]! & F_SYMBOL || !maskedWordStart(f, s)) continue;
        for (let e = p + 1; e <= f.length && e - s <= maxMaskLen; e++) {
          if (e - s < 3 || !maskedWordEnd(f, e)) continue;
          const pair = s * 4096 + (e - s);
          if (seen.has(pair)) continue;
          seen.add(pair);
          // At most a third masked, and at least one mask (the automaton found the rest).
          let masks = 0;
          for (let k = s + 1; k < e; k++) if (f.flags[k]! & F_MASK) masks++;
          if (masks === 0 || masks * 3 > e - s) continue;
          const key = f.skeleton[s]! * 4096 + (e - s);
          const last = f.skeleton[e - 1]!;
          const bucket = f.flags[e - 1]! & F_MASK || last >= 65536 ? maskBuckets.get(key) : maskBucketsByLast.get(key * 65536 + last);
          if (!bucket) continue;
          for (const entry of bucket) {
            const kind = verify(pool, entry, f, s, true);
            if (kind) found.push({ entry, start: s, end: e, kind });
          }
        }
      }
    }
  };

  const toMatch = (c: Candidate): GuardMatch => {
    return { targetId: enabled[termTarget[c.entry]!]!.id, term: termText[c.entry]!, start: c.start, end: c.end, kind: c.kind };
  };

  const candidates = (text: string): GuardMatch[] => collect(text).map(toMatch);
  const find = (text: string): GuardMatch[] => mergeOverlaps(candidates(text));

  return {
    kindOfIndex: 'fast',
    targets,
    holdBack: 2 * maxMatchSpan + RIGHT_CONTEXT,
    maxMatchSpan,
    rightContext: RIGHT_CONTEXT,
    leftContext: LEFT_CONTEXT,
    find,
    candidates,
    byId: (id) => byId.get(id),
    mentionedTargets: (...texts) => {
      const hit = new Set<number>();
      for (const text of texts) for (const c of collect(text)) hit.add(termTarget[c.entry]!);
      return enabled.filter((_, i) => hit.has(i));
    },
    stats: { terms: entries, patterns: automaton.patternCount, automatonBytes: automaton.byteSize },
  };
}

/** A word starts at compact position `s`: text start, a separator or symbol before it, or a long invisible gap. */
function boundaryBefore(f: Folded, s: number): boolean {
  return s === 0 || (f.flags[s]! & F_SEP) !== 0 || (f.flags[s - 1]! & F_SYMBOL) !== 0 || f.start[s]! - f.start[s - 1]! > MAX_CHAR_SPAN;
}

/** A word ends before compact position `e`. */
function boundaryAt(f: Folded, e: number): boolean {
  return e >= f.length || (f.flags[e]! & (F_SEP | F_SYMBOL)) !== 0 || f.start[e]! - f.start[e - 1]! > MAX_CHAR_SPAN;
}

/** Like `boundaryBefore`, but a mask before `s` does not count (it would be part of the masked word). */
function maskedWordStart(f: Folded, s: number): boolean {
  return s === 0 || (f.flags[s]! & F_SEP) !== 0 || (f.flags[s - 1]! & (F_SYMBOL | F_MASK)) === F_SYMBOL || f.start[s]! - f.start[s - 1]! > MAX_CHAR_SPAN;
}

function plainBoundaryAt(f: Folded, e: number): boolean {
  return e >= f.length || (f.flags[e]! & F_SEP) !== 0 || (f.flags[e]! & (F_SYMBOL | F_MASK)) === F_SYMBOL || f.start[e]! - f.start[e - 1]! > MAX_CHAR_SPAN;
}

/** A masked word may end before `e`: a boundary that is not a mask, or an "s"/"es" plural and then one. */
function maskedWordEnd(f: Folded, e: number): boolean {
  if (plainBoundaryAt(f, e)) return true;
  if (f.raw[e] === S) return plainBoundaryAt(f, e + 1);
  return f.raw[e] === E && f.raw[e + 1] === S && plainBoundaryAt(f, e + 2);
}

const S = 0x73;
const E = 0x65;

/**
 * Checks one automaton hit (or masked candidate) against the term: letters compatible position by
 * position, gaps short, word structure either kept or fully spaced out, whole words only (an "s" or
 * "es" plural may follow). Returns how it was spelled, or undefined when it is not a mention.
 */
function verify(pool: TermPool, entry: number, f: Folded, s: number, allowMask: boolean): MatchKind | undefined {
  const base = pool.offset[entry]!;
  const n = pool.offset[entry + 1]! - base;
  const raw = pool.raw;
  const e = s + n;
  if (s < 0 || e > f.length || !boundaryBefore(f, s)) return undefined;
  let conf = false;
  let leet = false;
  let hidden = false;
  let masks = 0;
  for (let j = 0; j < n; j++) {
    const k = s + j;
    const flags = f.flags[k]!;
    if (j > 0) {
      if (f.start[k]! - f.start[k - 1]! > MAX_CHAR_SPAN) return undefined;
      if (flags & F_IGN) hidden = true;
    }
    const t = raw[base + j]!;
    if (flags & F_MASK) {
      if (!allowMask || j === 0 || !isAsciiLetter(t)) return undefined;
      masks++;
      continue;
    }
    const r = f.raw[k]!;
    if (r === t) {
      if (flags & F_CONF) conf = true;
      continue;
    }
    const b = LETTER_BIT(t);
    if (b !== 0 && (f.opts[k]! & b) !== 0) {
      if (flags & F_LEET) leet = true;
      else conf = true;
      continue;
    }
    return undefined;
  }
  if (allowMask && (masks === 0 || masks * 3 > n || n - masks < 2)) return undefined;

  // Word structure: each word of the term is either intact or split between every pair of letters.
  // Words may also run together ("ProjectFalcon") when both sides have 3+ letters; "a.b" must not match "ab".
  let spaced = false;
  let wordStart = 0;
  let prevLen = 0;
  for (let j = 1; j <= n; j++) {
    if (j < n && !pool.breaks[base + j]) continue;
    const len = j - wordStart;
    if (wordStart > 0 && !(f.flags[s + wordStart]! & F_SEP) && (prevLen < 3 || len < 3)) return undefined;
    let splits = 0;
    for (let i = wordStart + 1; i < j; i++) if (f.flags[s + i]! & F_SEP) splits++;
    if (splits > 0) {
      if (splits !== len - 1 || n < 3) return undefined;
      spaced = true;
    }
    prevLen = len;
    wordStart = j;
  }

  if (!boundaryAt(f, e)) {
    // "apples", "boxes": a plural ending attached to the last word.
    if (n < 3 || !isAsciiLetter(raw[base + n - 1]!)) return undefined;
    if (f.raw[e] === S && !(f.flags[e]! & F_IGN) && boundaryAt(f, e + 1)) {
      /* plural s */
    } else if (f.raw[e] === E && e + 1 < f.length && f.raw[e + 1] === S && !(f.flags[e + 1]! & (F_SEP | F_IGN)) && boundaryAt(f, e + 2)) {
      /* plural es */
    } else return undefined;
  }

  if (n === 1 && (leet || hidden)) return undefined;
  if (masks > 0) return 'masked';
  if (spaced || hidden) return 'spaced';
  if (leet) return 'leet';
  if (conf) return 'confusable';
  return 'exact';
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
