/** Checks an automaton hit against a term: letters, gaps, word structure and the boundaries around it. */

import { isAsciiDigit, isAsciiLetter, LETTER_BIT } from './codePoints';
import {
  F_CONF,
  F_IGN,
  F_LEET,
  F_LOWER,
  F_MASK,
  F_PLAIN_SEP,
  F_SEP,
  F_SYMBOL,
  F_UPPER,
  GAP_MAX,
  MAX_CHAR_SPAN,
  SEQ_MAX,
} from './foldFlags';
import type { Folded } from './folding';
import type { TermPool } from './termPool';
import type { MatchKind } from './types';

/**
 * A word starts at compact position `s`: text start, a separator or symbol before it, or a long gap.
 * With `glue` (names of 3+ letters), also where a name glued to other letters still reads apart at a
 * glance: a camel-case hump ("theFalcon", "XMLFalcon") or a digit before a letter ("1Falcon").
 */
export function boundaryBefore(f: Folded, s: number, glue: boolean): boolean {
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
export function mayBeginWord(f: Folded, s: number): boolean {
  if (s === 0 || boundaryBefore(f, s, true)) return true;
  const prev = f.flags[s - 1]!;
  // A capital after a capital, last so far: a lower-case letter next makes it a hump ("FFalcon").
  if (prev & F_UPPER && f.flags[s]! & F_UPPER && s + 1 >= f.length) return true;
  if (prev & (F_SYMBOL | F_MASK) || f.flags[s]! & F_SEP) return true;
  if ((prev & F_UPPER && f.flags[s]! & F_LOWER) || (prev & F_LOWER && f.flags[s]! & F_UPPER)) return true;
  return isAsciiDigit(f.raw[s - 1]!) !== isAsciiDigit(f.raw[s]!);
}

/** A word ends before compact position `e`; with `glue`, also before a camel-case hump ("FalconX") or a digit ("Falcon2"). */
export function boundaryAt(f: Folded, e: number, glue: boolean): boolean {
  if (e >= f.length) return true;
  const flags = f.flags[e]!;
  if (flags & (F_SEP | F_SYMBOL) || f.start[e]! - f.start[e - 1]! > GAP_MAX) return true;
  if (!glue) return false;
  if (flags & F_UPPER && f.flags[e - 1]! & F_LOWER) return true;
  return isAsciiDigit(f.raw[e]!) && !isAsciiDigit(f.raw[e - 1]!);
}

/** Like `boundaryBefore`, but a mask before `s` does not count (it would be part of the masked word). */
export function maskedWordStart(f: Folded, s: number): boolean {
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
export function maskedWordEnd(f: Folded, e: number): boolean {
  if (plainBoundaryAt(f, e)) return true;
  if (f.raw[e] === S) return plainBoundaryAt(f, e + 1);
  return f.raw[e] === E && f.raw[e + 1] === S && plainBoundaryAt(f, e + 2);
}

/** An "s" or "es" plural ending, written plainly, then a word boundary, at compact position `e`. */
export function pluralAt(f: Folded, e: number): boolean {
  if (f.raw[e] === S) return boundaryAt(f, e + 1, false);
  return f.raw[e] === E && f.raw[e + 1] === S && boundaryAt(f, e + 2, false);
}

/** The term has a word break (two or more words). */
export function hasBreak(pool: TermPool, entry: number): boolean {
  for (let k = pool.offset[entry]! + 1; k < pool.offset[entry + 1]!; k++) if (pool.breaks[k]) return true;
  return false;
}

const S = 0x73;
const E = 0x65;

/**
 * Whether a hit of `n` letters ending before `e` is decided by the text so far: the next letter is there
 * and is a boundary or not, and a plural ending that could follow is complete.
 */
export function decidedAfter(f: Folded, e: number, n: number): boolean {
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
export function verify(pool: TermPool, entry: number, f: Folded, s: number, allowMask: boolean): MatchKind | undefined {
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
