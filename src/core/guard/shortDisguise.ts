import type { MatchKind } from './types';

/**
 * Precision rules for disguised short names. A name of two to four letters ("Ada", "Eve", "Ian", "Lisa")
 * read through leet, masks, separators or look-alikes turns up by chance in code and markup: `i,a=n` is
 * "Ian" spaced out, `le[0` is "Leo" in leet, `||$a` is "Lisa", `%2Ed` is "Zed", Greek `και` is "Kai". A
 * person who disguises a short name writes it as a word in prose ("I.a.n", "3ve", "L1sa", "(W1ll)"): these
 * rules keep such spellings and drop the ones that sit inside code. Longer names are distinctive enough
 * not to need them (measured by the precision benchmark, `src/bench/precisionBench.ts`).
 */

/** Names with at most this many letters get the extra checks. */
export const SHORT_TERM_LETTERS = 4;
/** Characters after a match the rules look at: a stream holds a short disguised match until they are there. */
export const SHORT_DISGUISE_LOOKAHEAD = 3;

/** Symbols that glue code tokens together; next to a short disguised name they mean it sits in code. */
const CODE_SYMBOLS = new Set([...'=<>&|+^%$#@\\/~`[]{}']);
const OPENERS = new Set([...'([{']);
const CLOSERS = new Set([...')]}']);
const SENTENCE_END = new Set([...'.,;:!?']);

const isSpace = (c: string | undefined): boolean => c === undefined || /\s/.test(c);
const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/** The character before `start` says the match is glued into code ("V(e", "n,i,1,e,o", "[v]=e"). */
function codeBefore(text: string, start: number): boolean {
  const c = text[start - 1];
  if (c === undefined || isSpace(c)) return false;
  if (CODE_SYMBOLS.has(c)) return true;
  // "(" or a comma after a word is a call or an argument list; after a space it is prose.
  if (OPENERS.has(c) || SENTENCE_END.has(c)) return !isSpace(text[start - 2]) && !OPENERS.has(text[start - 2] ?? ' ');
  return false;
}

/** The character after `end` says the match is glued into code ("le[0]", "Le()", "a(d):a"). */
function codeAfter(text: string, end: number): boolean {
  const c = text[end];
  if (c === undefined || isSpace(c)) return false;
  if (CODE_SYMBOLS.has(c) || OPENERS.has(c)) return true;
  const next = text[end + 1];
  // ")" or "," then a space or the end is prose; then another token ("),", ".x", ",a") it is code.
  if (CLOSERS.has(c) || SENTENCE_END.has(c))
    return !(isSpace(next) || SENTENCE_END.has(next ?? '') || CLOSERS.has(next ?? '') || next === '"' || next === "'");
  return false;
}

/** The gaps between the letters of a spaced-out match differ ("i,a=n", "L||e===o"): no one spells a name so. */
function mixedGaps(span: string): boolean {
  // Escape sequences and invisible characters carry letters and digits of their own; only visible gaps compare.
  if (/\p{C}/u.test(span)) return false;
  const parts = span.split(/[\p{L}\p{N}]+/u);
  const gaps = parts.slice(1, -1).map((g) => g.replace(/\s+/g, ' '));
  return gaps.some((g) => g !== gaps[0]);
}

/** Letters of another script right around a look-alike match: it is a word of that language ("και"). */
function foreignNeighbours(text: string, start: number, end: number): boolean {
  const around = text.slice(Math.max(0, start - SHORT_DISGUISE_LOOKAHEAD), start) + text.slice(end, end + SHORT_DISGUISE_LOOKAHEAD);
  return /[^\P{L}\p{Script=Latin}]/u.test(around);
}

/**
 * True when a non-exact match of a short name (at most SHORT_TERM_LETTERS letters) in `text[start, end)`
 * is better read as code, an escape or a foreign word than as a disguise.
 */
export function implausibleShortDisguise(text: string, start: number, end: number, kind: MatchKind): boolean {
  if (kind === 'exact' || kind === 'encoded') return false;
  if (codeBefore(text, start) || codeAfter(text, end)) return true;
  // A percent escape ("%2Ed", "%252Ed") leaves hex digits that read as leet.
  if (/%(?:25)*$/.test(text.slice(Math.max(0, start - 7), start))) return true;
  const span = text.slice(start, end);
  if (kind === 'spaced' && mixedGaps(span)) return true;
  if (kind === 'confusable' && !/\p{Script=Latin}/u.test(span) && foreignNeighbours(text, start, end)) return true;
  // A letter glued to either side (past a single separator) continues a run of single letters: "n,i,1,e,o".
  if (kind === 'spaced' && (singleBefore(text, start) || singleAfter(text, end))) return true;
  return false;
}

function singleBefore(text: string, start: number): boolean {
  const sep = text[start - 1];
  return sep !== undefined && !isWordChar(sep) && !isSpace(sep) && isWordChar(text[start - 2]) && !isWordChar(text[start - 3]);
}

function singleAfter(text: string, end: number): boolean {
  const sep = text[end];
  // An apostrophe starts a possessive or a contraction ("I.a.n's"), not another letter.
  return (
    sep !== undefined &&
    sep !== "'" &&
    sep !== '\u2019' &&
    !isWordChar(sep) &&
    !isSpace(sep) &&
    isWordChar(text[end + 1]) &&
    !isWordChar(text[end + 2])
  );
}
