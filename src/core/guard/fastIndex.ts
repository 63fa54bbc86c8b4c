import { isCaseSensitive, termsOf, type ForgetTarget } from '../targets/target';
import { Automaton } from './automaton';
import { lowerBound } from './lowerBound';
import { READINGS } from './derived';
import { implausibleShortDisguise, SHORT_DISGUISE_LOOKAHEAD, SHORT_TERM_LETTERS } from './shortDisguise';
import {
  ESC_MAX,
  F_CONF,
  F_IGN,
  F_LEET,
  F_LOWER,
  F_MASK,
  F_PLAIN_SEP,
  F_RLO,
  F_SEP,
  F_SYMBOL,
  F_TURNED,
  F_UPPER,
  GAP_MAX,
  LETTER_BIT,
  MAX_CHAR_SPAN,
  SEQ_MAX,
  foldForMatch,
  incompleteTail,
  renderedView,
  reversedView,
  upsideDownView,
  wordsAround,
  TermPool,
  isAsciiDigit,
  isAsciiLetter,
  type Folded,
} from './normalize';
import type { GuardMatch, MatchKind, TargetIndex } from './types';

/** A match before overlaps are resolved, in original UTF-16 offsets. */
interface Candidate {
  readonly entry: number;
  readonly start: number;
  readonly end: number;
  readonly kind: MatchKind;
  readonly reversed?: boolean;
  readonly encoding?: string;
}

/**
 * Original characters after the start of a match's last letter that can decide whether it is one: the
 * gap to the next letter (an escape sequence in it may still be open), and an adjacent "s"/"es" plural.
 */
const RIGHT_CONTEXT = GAP_MAX + ESC_MAX + 2 * SEQ_MAX;
/**
 * Fewest letters a name needs to be caught written backwards anywhere. Shorter names reversed are
 * ordinary words ("Liam" → "mail", "Tim" → "mit", "Noel" → "Leon"), so they are caught backwards only
 * where a right-to-left override shows them the right way round.
 */
export const REVERSED_MIN_LETTERS = 6;

/** Extra read-only facts about the fast index, for the cache and the benchmark. */
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
 */
export function buildFastIndex(targets: readonly ForgetTarget[]): FastTargetIndex {
  const enabled = targets.filter((t) => t.enabled);
  const byId = new Map(targets.map((t) => [t.id, t]));
  // Every name and alias, folded into one flat pool; entry i belongs to enabled target termTarget[i].
  let chars = 0;
  let termCount = 0;
  // Terms include each target's derived name parts (termsOf), so they are counted from it.
  const termLists = enabled.map((t) => termsOf(t));
  for (const terms of termLists) {
    termCount += terms.length;
    for (const term of terms) chars += term.length;
  }
  const pool = new TermPool(termCount, chars + (chars >> 3));
  const termTarget = new Int32Array(termCount);
  const termText: string[] = [];
  // 1 for a term that matches only with its first letter capitalised (an ordinary word as a proper noun).
  const needsCapital = new Uint8Array(termCount);
  enabled.forEach((target, ti) => {
    for (const term of termLists[ti]!) {
      const i = pool.add(term);
      // A name with no letters or digits (".*") cannot be spelled in text.
      if (pool.length(i) === 0) {
        pool.pop();
        continue;
      }
      termTarget[i] = ti;
      termText.push(term);
      if (isCaseSensitive(target, term)) needsCapital[i] = 1;
    }
  });
  /** The letter at `k` of `f` (the match's first) satisfies the entry's case rule. */
  const capitalOk = (entry: number, f: Folded, k: number): boolean => needsCapital[entry] === 0 || (f.flags[k]! & F_UPPER) !== 0;
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
  let maxMaskWords = 1;
  for (let i = 0; i < entries; i++) {
    const len = pool.length(i);
    maxLen = Math.max(maxLen, len);
    if (len < 3 || len >= 4096) continue;
    maxMaskLen = Math.max(maxMaskLen, len);
    let words = 1;
    for (let k = pool.offset[i]! + 1; k < pool.offset[i + 1]!; k++) if (pool.breaks[k]) words++;
    maxMaskWords = Math.max(maxMaskWords, words);
    const key = pool.skeleton[pool.offset[i]!]! * 4096 + len;
    addTo(maskBuckets, key, i);
    // Also by last letter, for the usual case where the last letter is not masked.
    const last = pool.skeleton[pool.offset[i]! + len - 1]!;
    if (last < 65536) addTo(maskBucketsByLast, key * 65536 + last, i);
  }

  // verify() bounds a match of n letters to n × MAX_CHAR_SPAN original characters.
  const maxMatchSpan = maxLen * MAX_CHAR_SPAN;
  const holdBack = maxMatchSpan + RIGHT_CONTEXT;

  // Every name's skeleton backwards, sorted, built on first use: a stream asks whether its last letters
  // could begin a reversed name.
  let reversedSorted: string[] | undefined;
  const reversedPrefixExists = (prefix: string): boolean => {
    if (!reversedSorted) {
      const all: string[] = [];
      for (let i = 0; i < entries; i++) {
        let r = '';
        for (let k = pool.offset[i + 1]! - 1; k >= pool.offset[i]!; k--) r += String.fromCodePoint(pool.skeleton[k]!);
        all.push(r);
      }
      reversedSorted = all.sort();
    }
    const at = lowerBound(reversedSorted, prefix);
    return at < reversedSorted.length && reversedSorted[at]!.startsWith(prefix);
  };

  /**
   * Finds every candidate in `text`. With `live`, the text may continue: the analysis stops before a
   * half-written escape or entity and also returns the offset after which a continuation could still
   * change the result.
   */
  const collect = (text: string, live: boolean): { found: Candidate[]; stable: number } => {
    const tail = live ? incompleteTail(text) : text.length;
    const a = foldForMatch(tail < text.length ? text.slice(0, tail) : text);
    const L = a.length;
    const found: Candidate[] = [];
    let stable = tail;
    const hold = (offset: number) => {
      if (offset < stable) stable = offset;
    };
    const endOf = (f: Folded, last: number) => Math.min(f.end[last]!, f.start[last]! + MAX_CHAR_SPAN);

    // The text as written: automaton hits, checked letter by letter.
    const forward = (f: Folded) => {
      const state = automaton.scan(f.skeleton, f.length, (pattern, end) => {
        const start = end - automaton.lengthOf(pattern);
        // A hit at the very end may still become a longer word or take a plural.
        if (live && !decidedAfter(f, end, end - start)) hold(f.start[start]!);
        for (let k = counts[pattern]!; k < counts[pattern + 1]!; k++) {
          const entry = patternEntries[k]!;
          const kind = verify(pool, entry, f, start, false);
          if (kind && capitalOk(entry, f, start)) found.push({ entry, start: f.start[start]!, end: endOf(f, end - 1), kind });
        }
      });
      // The longest suffix that begins a name, and starts where a word may, may still grow into it.
      if (live) {
        const k = openPrefixStart(f, state);
        if (k < f.length) hold(f.start[k]!);
      }
    };
    forward(a);
    if (a.summary & F_MASK && maskBuckets.size > 0) {
      findMasked(a, found, endOf);
      if (live) {
        // A masked name still open reaches the last letters; it is at most maxMaskLen letters and
        // maxMaskWords words long, so only a mask in that stretch may still be inside one.
        let from = L;
        for (let k = L - 1, words = 0; k >= 0 && k >= L - maxMaskLen - 2; k--) {
          from = k;
          if (a.flags[k]! & F_SEP && ++words >= maxMaskWords) break;
        }
        for (let p = Math.max(1, from); p < L; p++) {
          if (a.flags[p]! & F_MASK) {
            hold(a.start[Math.max(from, p - maxMaskLen + 1)]!);
            break;
          }
        }
      }
    }
    // The text as rendered, when it has symbols that render differently.
    const rendered = renderedView(a);
    if (rendered) forward(rendered);

    // The text backwards.
    let reversed: Folded | undefined;
    automaton.scanBackward(a.skeleton, L, (pattern, k) => {
      const n = automaton.lengthOf(pattern);
      const rs = k - n;
      // Backwards, what follows the name in the text is what precedes it here: decided once a character follows.
      if (live && rs === 0) hold(a.start[L - k]!);
      reversed ??= reversedView(a);
      for (let c = counts[pattern]!; c < counts[pattern + 1]!; c++) {
        const entry = patternEntries[c]!;
        const kind = verify(pool, entry, reversed, rs, false);
        // The reversed view drops case; the name's first letter is at the end of the span in the text.
        if (!kind || !capitalOk(entry, a, L - 1 - rs)) continue;
        if (n < REVERSED_MIN_LETTERS) {
          let shown = true;
          for (let j = rs; j < k && shown; j++) shown = (reversed.flags[j]! & F_RLO) !== 0;
          if (!shown) continue;
        }
        found.push({ entry, start: a.start[L - k]!, end: endOf(a, L - 1 - rs), kind, reversed: true });
      }
    });
    // Upside-down text ("uoɔlɐɟ"): backwards, letters turned. A match needs a turned letter in it, or it
    // would be ordinary text read backwards with n, u, b, q, d and p swapped.
    if (a.summary & F_TURNED) {
      const turned = upsideDownView(a, text);
      automaton.scan(turned.skeleton, L, (pattern, k) => {
        const n = automaton.lengthOf(pattern);
        const rs = k - n;
        if (live && rs === 0) hold(a.start[L - k]!);
        let anyTurned = false;
        for (let j = rs; j < k && !anyTurned; j++) anyTurned = (turned.flags[j]! & F_TURNED) !== 0;
        if (!anyTurned || n < 3) return;
        for (let c = counts[pattern]!; c < counts[pattern + 1]!; c++) {
          const entry = patternEntries[c]!;
          // Turned letters have no case to tell a proper noun by: a case-sensitive term is not read so.
          if (needsCapital[entry] === 0 && verify(pool, entry, turned, rs, false))
            found.push({ entry, start: a.start[L - k]!, end: endOf(a, L - 1 - rs), kind: 'confusable', reversed: true });
        }
      });
    }
    if (live && L > 0) {
      // The last letters may begin a name written backwards.
      const from = Math.max(0, L - maxLen);
      if (a.start[from]! < stable) {
        for (let s = from; s < L; s++) {
          // A name backwards starts (in the text) where a word may start, like any other match.
          if (!mayBeginWord(a, s)) continue;
          let prefix = '';
          for (let j = s; j < L; j++) prefix += String.fromCodePoint(a.skeleton[j]!);
          if (reversedPrefixExists(prefix)) {
            hold(a.start[s]!);
            break;
          }
        }
      }
    }
    // Other readings of the text: markup taken out, multi-character leet, one-step encodings. Each is
    // folded and scanned on its own; a match maps back to the original characters it was read from.
    const source = tail < text.length ? text.slice(0, tail) : text;
    for (const read of READINGS) {
      const r = read(source, live, a);
      if (!r) continue;
      if (live) hold(r.openFrom);
      // Its own scratch buffers: the folding of the text itself stays intact for the next reading.
      const f = r.folded ?? foldForMatch(r.text, 'reading');
      const state = automaton.scan(f.skeleton, f.length, (pattern, end) => {
        const start = end - automaton.lengthOf(pattern);
        // The reading's characters may map back out of order (words backwards): the span covers them all.
        let from = r.from[f.start[start]!]!;
        let to = r.to[f.end[end - 1]! - 1]!;
        for (let i = f.start[start]!, last = Math.min(f.end[end - 1]!, i + maxMatchSpan); i < last; i++) {
          if (r.from[i]! < from) from = r.from[i]!;
          if (r.to[i]! > to) to = r.to[i]!;
        }
        if (r.wholeWords) [from, to] = wordsAround(source, from, to);
        if (live && !decidedAfter(f, end, end - start)) hold(from);
        // Decoded text is read as plain words: a name glued to other letters in it is no mention.
        const wholeWord = boundaryBefore(f, start, false) && (boundaryAt(f, end, false) || pluralAt(f, end));
        // A decoded match spans more text than its letters; beyond the longest match a stream could miss it.
        if (to - from > maxMatchSpan) return;
        for (let k = counts[pattern]!; k < counts[pattern + 1]!; k++) {
          const entry = patternEntries[k]!;
          if (r.multiWordOnly && !hasBreak(pool, entry)) continue;
          const kind = verify(pool, entry, f, start, false);
          if (!kind || (r.plainOnly && (kind !== 'exact' || !wholeWord)) || !capitalOk(entry, f, start)) continue;
          found.push({ entry, start: from, end: to, kind: r.kind, ...(r.encoding ? { encoding: r.encoding } : {}) });
        }
      });
      if (live) {
        // The reading's last letters may begin a name: hold every original character they came from.
        for (let k = openPrefixStart(f, state, r.plainOnly); k < f.length; k++) {
          for (let i = f.start[k]!; i < f.end[k]!; i++) hold(r.from[i]!);
        }
      }
    }
    // Short names disguised: drop the readings that sit in code, escapes or foreign words. What decides
    // that may follow the match, so a stream holds such a match until those characters are there.
    let kept = 0;
    for (const c of found) {
      if (pool.length(c.entry) <= SHORT_TERM_LETTERS && !c.reversed && c.kind !== 'exact' && c.kind !== 'encoded') {
        if (live && c.end + SHORT_DISGUISE_LOOKAHEAD > tail) hold(c.start);
        if (implausibleShortDisguise(text, c.start, c.end, c.kind)) continue;
      }
      found[kept++] = c;
    }
    found.length = kept;
    // Nothing older than holdBack can still change: no match is longer, no decision looks further.
    if (live) stable = Math.min(tail, Math.max(stable, text.length - holdBack));
    return { found, stable };
  };

  /**
   * Where the longest suffix of `f` that may still grow into a match starts (`f.length` when none): a
   * suffix the automaton's end `state` says begins a name, at a place where a word may begin (a match
   * starts at a word boundary, so "Ordinar" is no start of "Nara" however many names begin with "nar").
   * With `wholeWords` (decoded readings), only where a word starts without glue.
   */
  const openPrefixStart = (f: Folded, state: number, wholeWords = false): number => {
    for (const depth of automaton.prefixDepths(state)) {
      if (depth >= 255) return Math.max(0, f.length - maxLen);
      const k = f.length - depth;
      if (wholeWords ? boundaryBefore(f, k, false) : mayBeginWord(f, k)) return k;
    }
    return f.length;
  };

  const findMasked = (f: Folded, found: Candidate[], endOf: (f: Folded, last: number) => number): void => {
    // Masks before each position, so a window's mask count is one subtraction.
    const before = new Int32Array(f.length + 1);
    for (let k = 0; k < f.length; k++) before[k + 1] = before[k]! + (f.flags[k]! & F_MASK ? 1 : 0);
    for (let p = 1; p < f.length; p++) {
      if (!(f.flags[p]! & F_MASK)) continue;
      // Each window is tried once, from its first mask: the start goes back only to the previous mask.
      // A masked word starts and ends at a real boundary: another mask is not one, or "get_user_id"
      // would offer a candidate at every underscore (and cost seconds against 100,000 names).
      for (let s = p - 1; s >= 0 && s > p - maxMaskLen; s--) {
        if (f.flags[s]! & F_MASK) break;
        if (f.flags[s]! & F_SYMBOL || !maskedWordStart(f, s)) continue;
        for (let e = p + 1; e <= f.length && e - s <= maxMaskLen; e++) {
          // At most a third masked, and at least one mask (the automaton found the rest).
          const masks = before[e]! - before[s + 1]!;
          if (masks * 3 > maxMaskLen) break;
          if (e - s < 3 || masks * 3 > e - s || !maskedWordEnd(f, e)) continue;
          const key = f.skeleton[s]! * 4096 + (e - s);
          const last = f.skeleton[e - 1]!;
          const bucket = f.flags[e - 1]! & F_MASK || last >= 65536 ? maskBuckets.get(key) : maskBucketsByLast.get(key * 65536 + last);
          if (!bucket) continue;
          for (const entry of bucket) {
            const kind = verify(pool, entry, f, s, true);
            if (kind && capitalOk(entry, f, s)) found.push({ entry, start: f.start[s]!, end: endOf(f, e - 1), kind });
          }
        }
      }
    }
  };

  const toMatch = (c: Candidate): GuardMatch => {
    const m = { targetId: enabled[termTarget[c.entry]!]!.id, term: termText[c.entry]!, start: c.start, end: c.end, kind: c.kind };
    return { ...m, ...(c.reversed ? { reversed: true as const } : {}), ...(c.encoding ? { encoding: c.encoding } : {}) };
  };

  const find = (text: string): GuardMatch[] => mergeOverlaps(collect(text, false).found.map(toMatch));

  return {
    targets,
    holdBack,
    maxMatchSpan,
    find,
    stableEnd: (text) => collect(text, true).stable,
    byId: (id) => byId.get(id),
    mentionedTargets: (...texts) => {
      const hit = new Set<number>();
      for (const text of texts) for (const c of collect(text, false).found) hit.add(termTarget[c.entry]!);
      return enabled.filter((_, i) => hit.has(i));
    },
    stats: { terms: entries, patterns: automaton.patternCount, automatonBytes: automaton.byteSize },
  };
}

/**
 * A word starts at compact position `s`: text start, a separator or symbol before it, or a long gap.
 * With `glue` (names of 3+ letters), also where a name glued to other letters still reads apart at a
 * glance: a camel-case hump ("theFalcon", "XMLFalcon") or a digit before a letter ("1Falcon").
 */
function boundaryBefore(f: Folded, s: number, glue: boolean): boolean {
  if (s === 0) return true;
  const flags = f.flags[s]!;
  const prev = f.flags[s - 1]!;
  if (flags & F_SEP || prev & F_SYMBOL || f.start[s]! - f.start[s - 1]! > GAP_MAX) return true;
  if (!glue) return false;
  if (flags & F_UPPER && (prev & F_LOWER || (prev & F_UPPER && s + 1 < f.length && (f.flags[s + 1]! & (F_LOWER | F_SEP)) === F_LOWER)))
    return true;
  return isAsciiDigit(f.raw[s - 1]!) && !isAsciiDigit(f.raw[s]!);
}

/**
 * A match could start at compact position `s`, forwards or read backwards: `boundaryBefore` with glue,
 * or any change of case or between digit and letter (which a backwards reading sees as a hump).
 */
function mayBeginWord(f: Folded, s: number): boolean {
  if (s === 0 || boundaryBefore(f, s, true)) return true;
  const prev = f.flags[s - 1]!;
  // A capital after a capital, last so far: a lower-case letter next makes it a hump ("FFalcon").
  if (prev & F_UPPER && f.flags[s]! & F_UPPER && s + 1 >= f.length) return true;
  if (prev & (F_SYMBOL | F_MASK) || f.flags[s]! & F_SEP) return true;
  if ((prev & F_UPPER && f.flags[s]! & F_LOWER) || (prev & F_LOWER && f.flags[s]! & F_UPPER)) return true;
  return isAsciiDigit(f.raw[s - 1]!) !== isAsciiDigit(f.raw[s]!);
}

/** A word ends before compact position `e`; with `glue`, also before a camel-case hump ("FalconX") or a digit ("Falcon2"). */
function boundaryAt(f: Folded, e: number, glue: boolean): boolean {
  if (e >= f.length) return true;
  const flags = f.flags[e]!;
  if (flags & (F_SEP | F_SYMBOL) || f.start[e]! - f.start[e - 1]! > GAP_MAX) return true;
  if (!glue) return false;
  if (flags & F_UPPER && f.flags[e - 1]! & F_LOWER) return true;
  return isAsciiDigit(f.raw[e]!) && !isAsciiDigit(f.raw[e - 1]!);
}

/** Like `boundaryBefore`, but a mask before `s` does not count (it would be part of the masked word). */
function maskedWordStart(f: Folded, s: number): boolean {
  return (
    s === 0 ||
    (f.flags[s]! & F_SEP) !== 0 ||
    (f.flags[s - 1]! & (F_SYMBOL | F_MASK)) === F_SYMBOL ||
    f.start[s]! - f.start[s - 1]! > GAP_MAX
  );
}

function plainBoundaryAt(f: Folded, e: number): boolean {
  return (
    e >= f.length ||
    (f.flags[e]! & F_SEP) !== 0 ||
    (f.flags[e]! & (F_SYMBOL | F_MASK)) === F_SYMBOL ||
    f.start[e]! - f.start[e - 1]! > GAP_MAX
  );
}

/** A masked word may end before `e`: a boundary that is not a mask, or an "s"/"es" plural and then one. */
function maskedWordEnd(f: Folded, e: number): boolean {
  if (plainBoundaryAt(f, e)) return true;
  if (f.raw[e] === S) return plainBoundaryAt(f, e + 1);
  return f.raw[e] === E && f.raw[e + 1] === S && plainBoundaryAt(f, e + 2);
}

/** An "s" or "es" plural ending, written plainly, then a word boundary, at compact position `e`. */
function pluralAt(f: Folded, e: number): boolean {
  if (f.raw[e] === S) return boundaryAt(f, e + 1, false);
  return f.raw[e] === E && f.raw[e + 1] === S && boundaryAt(f, e + 2, false);
}

/** The term has a word break (two or more words). */
function hasBreak(pool: TermPool, entry: number): boolean {
  for (let k = pool.offset[entry]! + 1; k < pool.offset[entry + 1]!; k++) if (pool.breaks[k]) return true;
  return false;
}

const S = 0x73;
const E = 0x65;

/**
 * Whether a hit of `n` letters ending before `e` is decided by the text so far: the next letter is there
 * and is a boundary or not, and a plural ending that could follow is complete.
 */
function decidedAfter(f: Folded, e: number, n: number): boolean {
  // After the last letter, a plain separator already ends the word whatever letter comes next.
  if (e >= f.length) return (f.trailing & F_PLAIN_SEP) !== 0;
  if (n < 3 || boundaryAt(f, e, true)) return true;
  if (f.raw[e] === S) return e + 1 < f.length;
  if (f.raw[e] === E) return e + 1 < f.length && (f.raw[e + 1] !== S || e + 2 < f.length);
  return true;
}

/**
 * Letter `k` reads as directly after letter `k - 1`, as a plural ending does: no separator between them,
 * at most a short invisible run ("\x1b[1mFalcon\x1b[0ms" shows "Falcons").
 */
function adjacent(f: Folded, k: number): boolean {
  return k < f.length && !(f.flags[k]! & F_SEP) && f.start[k]! - f.start[k - 1]! <= SEQ_MAX;
}

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
  const glue = n >= 3;
  if (s < 0 || e > f.length || !boundaryBefore(f, s, glue)) return undefined;
  // A match of n letters covers at most n × MAX_CHAR_SPAN characters (what a stream must hold back).
  if (f.start[e - 1]! - f.start[s]! > (n - 1) * MAX_CHAR_SPAN) return undefined;
  let conf = false;
  let leet = false;
  let hidden = false;
  let masks = 0;
  for (let j = 0; j < n; j++) {
    const k = s + j;
    const flags = f.flags[k]!;
    if (j > 0) {
      if (f.start[k]! - f.start[k - 1]! > GAP_MAX) return undefined;
      // An invisible character splits the letters only where nothing visible does.
      if ((flags & (F_IGN | F_SEP)) === F_IGN) hidden = true;
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
  if (masks > 0) {
    // A mask needs a word around it: the masked letters are written together ("</a>⏎* <a" is no "Ada").
    for (let j = 1; j < n; j++) if (f.flags[s + j]! & F_SEP && !pool.breaks[base + j]) return undefined;
  }
  if (n <= 3 && (leet || masks > 0)) {
    // Short names disguised: one stand-in at most, and whole words only (no glue to digits or humps),
    // so array arithmetic ("3*e") and hashes ("4da496e") stay what they are.
    let standIns = masks;
    for (let j = 0; j < n; j++) if (f.flags[s + j]! & F_LEET) standIns++;
    if (standIns > 1 || !boundaryBefore(f, s, false) || !boundaryAt(f, e, false)) return undefined;
  }

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

  if (!boundaryAt(f, e, glue)) {
    // "apples", "boxes": a plural ending attached to the last word.
    if (n < 3 || !isAsciiLetter(raw[base + n - 1]!)) return undefined;
    if (f.raw[e] === S && adjacent(f, e) && boundaryAt(f, e + 1, glue)) {
      /* plural s */
    } else if (f.raw[e] === E && adjacent(f, e) && f.raw[e + 1] === S && adjacent(f, e + 1) && boundaryAt(f, e + 2, glue)) {
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
