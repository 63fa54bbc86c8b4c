import { LETTER_FORMS } from './letterForms.generated';

/**
 * Folding for the leak guard. Every code point of a text becomes zero or more "compact characters":
 * letters and digits after NFKC, accent stripping, lower-casing and confusable mapping, plus the
 * symbols that can stand for letters (leetspeak, masks). Separators (spaces, punctuation) and
 * invisible characters (zero-width characters, control characters, ANSI escape sequences) become flags
 * on the next compact character, so a matcher can see both the letters and how they were split.
 * Encodings that render as one character (HTML entities, percent-encoded UTF-8) are decoded first.
 * Every compact character keeps its UTF-16 span in the original, so a match covers the encoded run.
 */

/** Flags on a compact character. The first four describe the gap before it, the others the character. */
export const F_SEP = 1; // a separator run (space, punctuation) lies between it and the previous compact char
export const F_IGN = 2; // an invisible character (zero-width, control, escape sequence) lies in that gap
export const F_CONF = 4; // came from a look-alike letter of another script or a compatibility form
export const F_LEET = 8; // a digit or symbol that may stand for a letter
export const F_MASK = 16; // a mask character (* _ •) that stands for any one letter
export const F_SYMBOL = 32; // not a letter or digit (leet symbol or mask): also counts as a word boundary
export const F_UPPER = 64; // the original character is an upper-case letter
export const F_LOWER = 128; // the original character is a lower-case letter
export const F_RLO = 256; // inside a right-to-left override (U+202E): displayed in reverse order
export const F_MARKUP = 512; // the gap holds a markdown delimiter that is a separator here (~ or `)
export const F_PLAIN_SEP = 1024; // the gap holds a separator other than a markdown delimiter
export const F_TURNED = 2048; // a turned (upside-down) letter: the text may be written upside down
/** Flags that describe the gap before a character rather than the character. */
export const GAP_FLAGS = F_SEP | F_IGN | F_MARKUP | F_PLAIN_SEP;

/** Skeleton code of mask characters; never part of a term, so the automaton never matches across it. */
export const MASK_SKELETON = 0x2a; // '*'

/**
 * Average stretch of original text (UTF-16 units) one compact character may take inside a match: a
 * match of n letters covers at most n × MAX_CHAR_SPAN units. This bounds how far a disguise may stretch
 * a name, and so how much a stream must hold back.
 */
export const MAX_CHAR_SPAN = 9;
/**
 * Longest distance between the starts of two neighbouring letters of a match (a letter, its marks, and
 * the separators, invisible characters or escape sequences before the next letter). A longer gap is a
 * word boundary.
 */
export const GAP_MAX = 24;
/** Longest encoded sequence decoded to one character (`&#x1F600;`, `%F0%9F%98%80`). */
export const SEQ_MAX = 12;
/** Longest ANSI escape sequence recognised (longer ones are not escape sequences). */
export const ESC_MAX = 24;

interface FoldedChar {
  /** Folded code: a lower-case letter or digit, or another script's letter as is (masks: the mask itself). */
  readonly raw: number;
  /** Code the automaton runs on: i and l merged, leet digits and symbols mapped to their letter. */
  readonly skeleton: number;
  /** Bit per letter a-z this character can stand for (0 for letters outside a-z). */
  readonly opts: number;
  readonly flags: number;
}

const enum Cls {
  Compact,
  Separator,
  Ignorable,
  Mark,
}

interface CodePointFold {
  readonly cls: Cls;
  readonly chars: readonly FoldedChar[];
}

const A = 0x61;
const bit = (letter: string): number => 1 << (letter.charCodeAt(0) - A);
const bits = (letters: string): number => [...letters].reduce((m, l) => m | bit(l), 0);
const isAsciiLetter = (code: number): boolean => code >= A && code <= 0x7a;
const isAsciiDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;

/** Skeleton: merges i and l (a digit 1 or a pipe may be either), keeps every other letter. */
function skeletonOfLetter(code: number): number {
  return code === 0x6c ? 0x69 : code;
}

/** Digits and symbols that commonly stand for letters, with every letter each may stand for. */
const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'il',
  '2': 'z',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '6': 'g',
  '7': 't',
  '8': 'b',
  '9': 'g',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'il',
  '+': 't',
  '€': 'e',
  '£': 'l',
  '¢': 'c',
};

/** Characters that hide one letter each ("F*lc*n", "F_lcon"). */
const MASKS = new Set(['*', '_', '•', '●', '∗', '⁎', '✱', '×']);

const IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u;
const MARK = /^\p{M}$/u;
const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;

let letterForms: Map<number, string> | undefined;

/**
 * Code points that read as a Latin letter and that NFKC does not fold to one: letter forms named in the
 * Unicode character names (small capitals, turned, enclosed and squared letters, regional indicators,
 * modifier letters, letters with a stroke or hook) and TR39 confusables, from the generated table
 * (scripts/generate/letterForms.mjs). An upper-case letter in the table marks a turned letter.
 */
function letterFormMap(): Map<number, string> {
  if (letterForms) return letterForms;
  letterForms = new Map();
  let cp = 0;
  for (const m of LETTER_FORMS.matchAll(/(\d+)([a-zA-Z])/g)) {
    cp += Number(m[1]);
    letterForms.set(cp, m[2]!);
  }
  return letterForms;
}

/**
 * Letters that upside-down text uses for a letter Unicode does not name as turned, with that letter
 * (read upside down, "ɔ" is a c and "ɟ" an f); plus n/u, b/q and d/p, which turn into each other.
 */
const UPSIDE_DOWN: ReadonlyMap<number, number> = new Map(
  [
    [0x254, 'c'],
    [0x25f, 'f'],
    [0x183, 'g'],
    [0x27e, 'j'],
    [0x2200, 'a'],
    [0x6e, 'u'],
    [0x75, 'n'],
    [0x62, 'q'],
    [0x71, 'b'],
    [0x64, 'p'],
    [0x70, 'd'],
  ].map(([cp, l]) => [cp as number, (l as string).charCodeAt(0)]),
);
/** Upside-down letters that are not themselves ordinary Latin letters: they mark a text as written upside down. */
const isUpsideDownOnly = (cp: number): boolean => cp > 0x7f && UPSIDE_DOWN.has(cp);

/** The letter a character of an upside-down text stands for (its code point, with its folded letter). */
export function upsideDownLetter(cp: number, folded: number): number {
  return UPSIDE_DOWN.get(cp) ?? UPSIDE_DOWN.get(folded) ?? folded;
}

function stripMarks(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '');
}

function letterChar(code: number, flags: number, opts?: number): FoldedChar {
  const o = opts ?? bit(String.fromCharCode(code));
  return { raw: code, skeleton: skeletonOfLetter(code), opts: o, flags };
}

/**
 * C0 and C1 control characters other than whitespace: invisible wherever they are (a terminal or a
 * renderer shows nothing for NUL or BEL). The information separators U+001C–U+001F and NEL stay separators.
 */
function isInvisibleControl(cp: number): boolean {
  if (cp < 0x20) return cp < 0x09 || (cp > 0x0d && cp < 0x1c);
  return cp === 0x7f || (cp >= 0x80 && cp <= 0x9f && cp !== 0x85);
}

function foldCodePoint(cp: number): CodePointFold {
  const ch = String.fromCodePoint(cp);
  if (isInvisibleControl(cp) || IGNORABLE.test(ch)) return { cls: Cls.Ignorable, chars: [] };
  if (MARK.test(ch)) return { cls: Cls.Mark, chars: [] };
  const letterCase = ch !== ch.toLowerCase() ? F_UPPER : ch !== ch.toUpperCase() ? F_LOWER : 0;
  // Upper-case I stands for itself and for l ("PayPaI"); lower-case l does not stand for i, or "all" would read as "ali".
  if (ch === 'I') return { cls: Cls.Compact, chars: [letterChar(0x69, F_UPPER, bits('il'))] };
  const compat = ch.normalize('NFKC');
  const conf = compat !== ch.normalize('NFC') ? F_CONF : 0;
  const chars: FoldedChar[] = [];
  for (const c of compat) {
    const base = stripMarks(c);
    if (base === '') continue;
    const lower = base.toLowerCase();
    const code = lower.charCodeAt(0);
    if (lower.length === 1 && isAsciiLetter(code)) {
      chars.push(letterChar(code, conf | letterCase, c === 'I' ? bits('il') : undefined));
      continue;
    }
    if (lower.length === 1 && isAsciiDigit(code)) {
      chars.push({ raw: code, skeleton: skeletonOfLetter(LEET[lower]!.charCodeAt(0)), opts: bits(LEET[lower]!), flags: conf | F_LEET });
      continue;
    }
    if (MASKS.has(base)) {
      // The mask keeps its own code (markdown tells * and _ apart); its skeleton is the shared mask code.
      chars.push({ raw: base.codePointAt(0)!, skeleton: MASK_SKELETON, opts: 0, flags: conf | F_MASK | F_SYMBOL });
      continue;
    }
    const leet = LEET[base];
    if (leet) {
      chars.push({
        raw: base.codePointAt(0)!,
        skeleton: skeletonOfLetter(leet.charCodeAt(0)),
        opts: bits(leet),
        flags: conf | F_LEET | F_SYMBOL,
      });
      continue;
    }
    const map = letterFormMap();
    const form = map.get(base.codePointAt(0)!) ?? map.get(lower.codePointAt(0)!) ?? map.get(base.toUpperCase().codePointAt(0)!);
    if (form) {
      // A look-alike capital I (Cyrillic І, Greek Ι) may stand for i as well as l.
      const l = form.toLowerCase().charCodeAt(0);
      const turned = form !== form.toLowerCase() || isUpsideDownOnly(cp) ? F_TURNED : 0;
      chars.push(letterChar(l, F_CONF | letterCase | turned, l === 0x6c ? bits('il') : undefined));
      continue;
    }
    if (!LETTER_OR_NUMBER.test(base[0] === undefined ? '' : String.fromCodePoint(base.codePointAt(0)!))) continue;
    for (const u of lower) {
      const uc = u.codePointAt(0)!;
      chars.push({ raw: uc, skeleton: uc, opts: 0, flags: conf | letterCase });
    }
  }
  return { cls: chars.length ? Cls.Compact : Cls.Separator, chars };
}

const asciiFolds: CodePointFold[] = Array.from({ length: 128 }, (_, cp) => foldCodePoint(cp));
const foldCache = new Map<number, CodePointFold>();

function foldOf(cp: number): CodePointFold {
  if (cp < 128) return asciiFolds[cp]!;
  let f = foldCache.get(cp);
  if (!f) {
    f = foldCodePoint(cp);
    if (foldCache.size < 50_000) foldCache.set(cp, f);
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// Encodings that render as something else: HTML entities, percent-encoding, ANSI escape sequences.

/** What `decodeAt` found at a position; the decoded code point and length are in `decoded`. */
const enum Dec {
  /** Not an encoded sequence: the character stands for itself. */
  None,
  /** One character, `decoded.cp`, spelled with `decoded.len` code units. */
  Char,
  /** An escape sequence that shows nothing. */
  Invisible,
  /** An escape sequence that starts or ends a terminal string (OSC, DCS): a separator. */
  Separator,
  /** The text ends inside what may still become an encoded sequence. */
  More,
}

const decoded = { cp: 0, len: 0 };

/** Named HTML entities worth decoding: punctuation that separates, invisible characters, and accented letters. */
const NAMED_ENTITIES: Readonly<Record<string, number>> = {
  amp: 0x26,
  lt: 0x3c,
  gt: 0x3e,
  quot: 0x22,
  apos: 0x27,
  nbsp: 0xa0,
  shy: 0xad,
  zwj: 0x200d,
  zwnj: 0x200c,
  lrm: 0x200e,
  rlm: 0x200f,
  ensp: 0x2002,
  emsp: 0x2003,
  thinsp: 0x2009,
  ndash: 0x2013,
  mdash: 0x2014,
  hellip: 0x2026,
  middot: 0xb7,
  bull: 0x2022,
  lowbar: 0x5f,
  ast: 0x2a,
  plus: 0x2b,
  period: 0x2e,
  comma: 0x2c,
  colon: 0x3a,
  semi: 0x3b,
  excl: 0x21,
  quest: 0x3f,
  num: 0x23,
  dollar: 0x24,
  percnt: 0x25,
  lpar: 0x28,
  rpar: 0x29,
  sol: 0x2f,
  bsol: 0x5c,
  grave: 0x60,
  equals: 0x3d,
  commat: 0x40,
  verbar: 0x7c,
  vert: 0x7c,
  lsqb: 0x5b,
  rsqb: 0x5d,
  lcub: 0x7b,
  rcub: 0x7d,
  hyphen: 0x2010,
  dash: 0x2010,
  szlig: 0xdf,
  aelig: 0xe6,
  AElig: 0xc6,
  oelig: 0x153,
  OElig: 0x152,
  eth: 0xf0,
  ETH: 0xd0,
  thorn: 0xfe,
  THORN: 0xde,
  oslash: 0xf8,
  Oslash: 0xd8,
  NewLine: 0x0a,
  Tab: 0x09,
};
/** `&eacute;`-style entities: a letter and the accent's name. */
const ENTITY_ACCENTS: Readonly<Record<string, number>> = {
  acute: 0x301,
  grave: 0x300,
  circ: 0x302,
  uml: 0x308,
  tilde: 0x303,
  ring: 0x30a,
  cedil: 0x327,
  caron: 0x30c,
  macr: 0x304,
  ogon: 0x328,
  breve: 0x306,
  dot: 0x307,
};

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
const hexValue = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);

/** `&#97;`, `&#x61;`, `&amp;`, `&eacute;` at `i` (which holds `&`). */
function decodeEntity(text: string, i: number): Dec {
  const len = text.length;
  let j = i + 1;
  if (j >= len) return Dec.More;
  if (text.charCodeAt(j) === 0x23) {
    j++;
    const hex = j < len && (text.charCodeAt(j) | 0x20) === 0x78;
    if (hex) j++;
    const digitsFrom = j;
    let value = 0;
    for (; j < len && j - digitsFrom < (hex ? 6 : 7); j++) {
      const c = text.charCodeAt(j);
      if (hex ? !isHex(c) : !isAsciiDigit(c)) break;
      value = value * (hex ? 16 : 10) + (hex ? hexValue(c) : c - 0x30);
    }
    if (j >= len) return Dec.More;
    if (j === digitsFrom || text.charCodeAt(j) !== 0x3b) return Dec.None;
    if (value === 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return Dec.None;
    decoded.cp = value;
    decoded.len = j + 1 - i;
    return Dec.Char;
  }
  const nameFrom = j;
  while (j < len && j - nameFrom < 10 && isAlnum(text.charCodeAt(j))) j++;
  if (j >= len) return j - nameFrom < 10 ? Dec.More : Dec.None;
  if (j === nameFrom || text.charCodeAt(j) !== 0x3b) return Dec.None;
  const name = text.slice(nameFrom, j);
  let cp = NAMED_ENTITIES[name];
  if (cp === undefined && name.length > 1) {
    const mark = ENTITY_ACCENTS[name.slice(1)];
    if (mark !== undefined && /^[A-Za-z]$/.test(name[0]!)) {
      const composed = (name[0]! + String.fromCharCode(mark)).normalize('NFC');
      cp = composed.length === 1 ? composed.charCodeAt(0) : name.charCodeAt(0);
    }
  }
  if (cp === undefined) return Dec.None;
  decoded.cp = cp;
  decoded.len = j + 1 - i;
  return Dec.Char;
}

/** One `%XX` byte at `i`, or -1 (not one), or -2 (the text ends inside it). */
function percentByte(text: string, i: number): number {
  if (i >= text.length) return -2;
  if (text.charCodeAt(i) !== 0x25) return -1;
  if (i + 1 >= text.length) return -2;
  const h = text.charCodeAt(i + 1);
  if (!isHex(h)) return -1;
  if (i + 2 >= text.length) return -2;
  const l = text.charCodeAt(i + 2);
  if (!isHex(l)) return -1;
  return hexValue(h) * 16 + hexValue(l);
}

/** Percent-encoded UTF-8 (`%61`, `%C3%A1`) at `i` (which holds `%`); anything that is not valid UTF-8 stays as written. */
function decodePercent(text: string, i: number): Dec {
  const lead = percentByte(text, i);
  if (lead === -2) return Dec.More;
  if (lead < 0) return Dec.None;
  let need: number;
  let cp: number;
  if (lead < 0x80) {
    decoded.cp = lead;
    decoded.len = 3;
    return Dec.Char;
  } else if (lead >= 0xc2 && lead <= 0xdf) {
    need = 1;
    cp = lead & 0x1f;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    need = 2;
    cp = lead & 0x0f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    need = 3;
    cp = lead & 0x07;
  } else return Dec.None;
  for (let k = 1; k <= need; k++) {
    const b = percentByte(text, i + 3 * k);
    if (b === -2) return Dec.More;
    if (b < 0x80 || b > 0xbf) return Dec.None;
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return Dec.None;
  decoded.cp = cp;
  decoded.len = 3 * (need + 1);
  return Dec.Char;
}

/** A CSI sequence's parameters and final byte from `j` (after `ESC [` or the C1 CSI). */
function decodeCsi(text: string, i: number, j: number): Dec {
  const len = text.length;
  while (j < len && j - i < ESC_MAX && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x3f) j++;
  while (j < len && j - i < ESC_MAX && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  if (j >= len) return Dec.More;
  const c = text.charCodeAt(j);
  if (j - i >= ESC_MAX || c < 0x40 || c > 0x7e) return Dec.None;
  decoded.len = j + 1 - i;
  return Dec.Invisible;
}

/**
 * ANSI escape sequences (ECMA-48) at `i`: CSI (`ESC [ 1 ; 31 m`) and two- or three-character escapes
 * show nothing; an OSC or DCS opener (`ESC ]`) starts a terminal string (a window title, a hyperlink)
 * whose text is scanned like any other, so the opener is a separator. A lone ESC is invisible.
 */
function decodeEscape(text: string, i: number): Dec {
  const len = text.length;
  const first = text.charCodeAt(i);
  if (first === 0x9b) return decodeCsi(text, i, i + 1);
  if (i + 1 >= len) return Dec.More;
  const next = text.charCodeAt(i + 1);
  if (next === 0x5b) return decodeCsi(text, i, i + 2);
  if (next === 0x5d || next === 0x50 || next === 0x5f || next === 0x5e || next === 0x58) {
    decoded.len = 2;
    return Dec.Separator;
  }
  let j = i + 1;
  while (j < len && j - i < ESC_MAX && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
  if (j >= len) return Dec.More;
  const c = text.charCodeAt(j);
  if (j - i < ESC_MAX && c >= 0x30 && c <= 0x7e) {
    decoded.len = j + 1 - i;
    return Dec.Invisible;
  }
  decoded.len = 1;
  return Dec.Invisible;
}

/** An encoded sequence at `i`, whose first code unit is `c` (`&`, `%`, ESC or the C1 CSI). */
function decodeAt(text: string, i: number, c: number): Dec {
  if (c === 0x26) return decodeEntity(text, i);
  if (c === 0x25) return decodePercent(text, i);
  if (c === 0x1b || c === 0x9b) return decodeEscape(text, i);
  return Dec.None;
}

/**
 * Where `text` ends inside something that more text could still turn into another character: a
 * half-written entity, percent escape or ANSI escape sequence, or the first half of a surrogate pair.
 * Text before this offset folds the same whatever follows; `text.length` when there is none.
 */
export function incompleteTail(text: string): number {
  const len = text.length;
  for (let i = Math.max(0, len - ESC_MAX - 1); i < len; i++) {
    const c = text.charCodeAt(i);
    if ((c === 0x26 || c === 0x25 || c === 0x1b || c === 0x9b) && decodeAt(text, i, c) === Dec.More) return i;
  }
  const last = text.charCodeAt(len - 1);
  return last >= 0xd800 && last <= 0xdbff ? len - 1 : len;
}

// ---------------------------------------------------------------------------------------------
// Bidi: a right-to-left override shows Latin letters in reverse order.

/**
 * The explicit bidi state at a point of the text: the open embeddings, overrides and isolates, one
 * character each (the control that opened it), innermost last. Empty at the start of a paragraph.
 */
export type BidiState = string;

const isParagraphEnd = (cp: number): boolean => cp === 0x0a || cp === 0x0d || cp === 0x2029 || cp === 0x85 || (cp >= 0x1c && cp <= 0x1e);
/** The controls that open or close an embedding, override or isolate (not the marks LRM, RLM, ALM). */
const isExplicitBidiControl = (cp: number): boolean => (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);

function nextBidi(state: BidiState, cp: number): BidiState {
  if (isParagraphEnd(cp)) return '';
  if (cp === 0x202c) {
    // PDF closes the innermost embedding or override, but not an isolate.
    const top = state.charCodeAt(state.length - 1);
    return state.length > 0 && top >= 0x202a && top <= 0x202e ? state.slice(0, -1) : state;
  }
  if (cp === 0x2069) {
    // PDI closes the innermost isolate and everything opened inside it.
    for (let k = state.length - 1; k >= 0; k--) if (state.charCodeAt(k) >= 0x2066) return state.slice(0, k);
    return state;
  }
  return state.length < 125 ? state + String.fromCharCode(cp) : state;
}

const rloOf = (state: BidiState): number => (state.length > 0 && state.charCodeAt(state.length - 1) === 0x202e ? F_RLO : 0);

// ---------------------------------------------------------------------------------------------
// The folded text

/** A text folded into compact characters. Arrays may be longer than `length`; only [0, length) is valid. */
export interface Folded {
  length: number;
  raw: Int32Array;
  skeleton: Int32Array;
  opts: Int32Array;
  flags: Uint16Array;
  /** Original UTF-16 start of the code point (or encoded sequence) this character came from. */
  start: Int32Array;
  /** Original UTF-16 end, including trailing combining marks. */
  end: Int32Array;
  /** Every flag that occurs in [0, length), or-ed together. */
  summary: number;
  /**
   * `F_PLAIN_SEP` when a plain separator (space, punctuation) follows the last character: whatever comes
   * next, it starts a new word. 0 when unknown (views other than the folding and its rendering).
   */
  trailing: number;
}

function allocFolded(capacity: number): Folded {
  return {
    length: 0,
    raw: new Int32Array(capacity),
    skeleton: new Int32Array(capacity),
    opts: new Int32Array(capacity),
    flags: new Uint16Array(capacity),
    start: new Int32Array(capacity),
    end: new Int32Array(capacity),
    summary: 0,
    trailing: 0,
  };
}

function grow(f: Folded, min: number): Folded {
  const g = allocFolded(Math.max(min, f.raw.length * 2));
  copyInto(g, f, f.raw.length);
  g.summary = f.summary;
  return g;
}

/** Copies the first `n` compact characters of `f` into `out` (large enough), and `f`'s length. */
function copyInto(out: Folded, f: Folded, n: number): void {
  out.raw.set(f.raw.subarray(0, n));
  out.skeleton.set(f.skeleton.subarray(0, n));
  out.opts.set(f.opts.subarray(0, n));
  out.flags.set(f.flags.subarray(0, n));
  out.start.set(f.start.subarray(0, n));
  out.end.set(f.end.subarray(0, n));
  out.length = f.length;
}

/** `scratch`, grown to hold `f`, holding a copy of it: the start of a view that changes some characters. */
function copyOf(scratch: Folded, f: Folded): Folded {
  const out = scratch.raw.length < f.length + 4 ? allocFolded(Math.max(f.length + 4, scratch.raw.length * 2)) : scratch;
  copyInto(out, f, f.length);
  out.summary = f.summary;
  out.trailing = f.trailing;
  return out;
}

// Scratch buffers reused by every scan: scans are synchronous, and reuse keeps a 256 KB scan from
// allocating fresh arrays each time. One for the text as written, one each for the derived views.
let scratch = allocFolded(1024);
let scratchRendered = allocFolded(1024);
let scratchReversed = allocFolded(1024);
let scratchUpsideDown = allocFolded(1024);
let scratchRot13 = allocFolded(1024);
let scratchWords = allocFolded(1024);
/** For the other readings (decoded, markup): each is folded, scanned and dropped in turn. */
let scratchReading = allocFolded(1024);

/**
 * Folds `text` into compact characters. With `reuse`, the result lives in a shared buffer that the
 * next call overwrites; callers that keep the result must pass `reuse = false`. `bidi` is the bidi
 * state before the text (for a text that continues an earlier one).
 */
export function foldForMatch(text: string, reuse: boolean | 'reading' = true, bidi: BidiState = ''): Folded {
  let out = reuse === 'reading' ? scratchReading : reuse ? scratch : allocFolded(text.length + 4);
  if (out.raw.length < text.length + 4) out = grow(out, text.length + 4);
  let n = 0;
  let pending = F_SEP; // the start of the text counts as a separator
  let summary = 0;
  let state = bidi;
  let rlo = rloOf(state);
  const len = text.length;
  for (let i = 0; i < len;) {
    let cp = text.charCodeAt(i);
    let width = 1;
    let fold: CodePointFold;
    if (cp === 0x26 || cp === 0x25 || cp === 0x1b || cp === 0x9b) {
      const d = decodeAt(text, i, cp);
      if (d === Dec.Invisible || d === Dec.Separator) {
        pending |= d === Dec.Invisible ? F_IGN : F_SEP | F_PLAIN_SEP;
        i += decoded.len;
        continue;
      }
      if (d === Dec.Char) {
        cp = decoded.cp;
        width = decoded.len;
      }
    } else if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    if (cp < 128) fold = asciiFolds[cp]!;
    else {
      if (isExplicitBidiControl(cp) || isParagraphEnd(cp)) {
        state = nextBidi(state, cp);
        rlo = rloOf(state);
      }
      fold = foldOf(cp);
    }
    switch (fold.cls) {
      case Cls.Compact: {
        const chars = fold.chars;
        if (n + chars.length > out.raw.length) out = grow(out, n + chars.length + 16);
        for (let k = 0; k < chars.length; k++) {
          const c = chars[k]!;
          const flags = c.flags | rlo | (k === 0 ? pending : 0);
          out.raw[n] = c.raw;
          out.skeleton[n] = c.skeleton;
          out.opts[n] = c.opts;
          out.flags[n] = flags;
          out.start[n] = i;
          out.end[n] = i + width;
          summary |= flags;
          n++;
        }
        pending = 0;
        break;
      }
      case Cls.Mark:
        // A combining mark belongs to the character before it (stripped for matching, kept in the span).
        if (n > 0 && out.end[n - 1] === i) {
          for (let k = n - 1; k >= 0 && out.start[k] === out.start[n - 1]; k--) out.end[k] = i + width;
        } else pending |= F_IGN;
        break;
      case Cls.Ignorable:
        pending |= F_IGN;
        break;
      case Cls.Separator:
        if (cp < 128 && isParagraphEnd(cp) && state !== '') {
          state = '';
          rlo = 0;
        }
        // ~ and ` are markdown delimiters (strikethrough, code): the rendered view may drop them.
        pending |= width === 1 && (cp === 0x7e || cp === 0x60) ? F_SEP | F_MARKUP : F_SEP | F_PLAIN_SEP;
        break;
    }
    i += width;
  }
  out.length = n;
  out.summary = summary;
  out.trailing = pending & F_PLAIN_SEP;
  if (reuse === 'reading') scratchReading = out;
  else if (reuse) scratch = out;
  return out;
}

/** Longest run of markdown delimiters between two letters that still reads as emphasis, not as a separator. */
const MAX_MARKUP_RUN = 3;

/**
 * The text as a markdown or URL renderer shows it, derived from its folding: symbols read as what they
 * are, not as leetspeak or masks. Inside a word, runs of emphasis delimiters (`*`, `__`, `~~`, `` ` ``)
 * disappear (`Fa**lc**on` renders as "Falcon"); elsewhere, and for a single `_` (snake_case) or `+`
 * (a URL's space), a symbol is a separator. Undefined when the text has no symbol, so the view would
 * equal the folding. The result lives in a shared buffer.
 */
export function renderedView(f: Folded): Folded | undefined {
  if (!(f.summary & (F_SYMBOL | F_MARKUP))) return undefined;
  let out = scratchRendered;
  if (out.raw.length < f.length + 4) out = grow(out, f.length + 4);
  let n = 0;
  let summary = 0;
  let gap = 0; // gap flags gathered since the last letter kept
  let markup = 0; // markdown delimiters in that gap
  let separated = false; // a symbol in that gap reads as a separator
  for (let k = 0; k < f.length; k++) {
    const flags = f.flags[k]!;
    gap |= flags & GAP_FLAGS;
    if (flags & F_MARKUP) markup++;
    if (flags & F_SYMBOL) {
      const r = f.raw[k]!;
      const joined = k + 1 < f.length && f.raw[k + 1] === r && !(f.flags[k + 1]! & GAP_FLAGS);
      const afterSame = k > 0 && f.raw[k - 1] === r && !(flags & GAP_FLAGS);
      // `*` is emphasis anywhere in a word; `_` only doubled (a single one joins snake_case words).
      if (r === 0x2a || (r === 0x5f && (joined || afterSame))) markup++;
      else separated = true;
      continue;
    }
    let g = gap & (F_SEP | F_IGN);
    if (separated || gap & F_PLAIN_SEP || n === 0) {
      if (separated || markup > 0) g |= F_SEP;
    } else if (markup > 0) {
      // Only delimiters between two letters: emphasis inside a word, invisible when rendered.
      g = (g & ~F_SEP) | (markup <= MAX_MARKUP_RUN ? F_IGN : F_SEP);
    }
    const own = (flags & ~GAP_FLAGS) | g;
    out.raw[n] = f.raw[k]!;
    out.skeleton[n] = f.skeleton[k]!;
    out.opts[n] = f.opts[k]!;
    out.flags[n] = own;
    out.start[n] = f.start[k]!;
    out.end[n] = f.end[k]!;
    summary |= own;
    n++;
    gap = 0;
    markup = 0;
    separated = false;
  }
  out.length = n;
  out.summary = summary;
  // Emphasis delimiters at the end may still close around more letters; a plain separator may not.
  out.trailing = separated || (gap | f.trailing) & F_PLAIN_SEP ? F_PLAIN_SEP : 0;
  scratchRendered = out;
  return out;
}

/**
 * The folding read backwards, for names written in reverse (or shown in reverse by a bidi override).
 * Gap flags move with the gap (the edge of a right-to-left override is a separator); `start` is negated
 * so that differences between neighbours still measure the original distance. Compact character k of the result is character `length - 1 - k` of `f`.
 * Case flags are dropped (camel-case boundaries do not read backwards). The result lives in a shared buffer.
 */
export function reversedView(f: Folded): Folded {
  let out = scratchReversed;
  const len = f.length;
  if (out.raw.length < len + 4) out = grow(out, len + 4);
  for (let k = 0; k < len; k++) {
    const j = len - 1 - k;
    out.raw[k] = f.raw[j]!;
    out.skeleton[k] = f.skeleton[j]!;
    out.opts[k] = f.opts[j]!;
    // Where a right-to-left override starts or ends, the display order breaks: a word boundary.
    const gap = k === 0 ? F_SEP : (f.flags[j + 1]! & GAP_FLAGS) | ((f.flags[j]! ^ f.flags[j + 1]!) & F_RLO ? F_SEP : 0);
    out.flags[k] = (f.flags[j]! & ~(GAP_FLAGS | F_UPPER | F_LOWER)) | gap;
    out.start[k] = -f.start[j]!;
    out.end[k] = out.start[k]! + (f.end[j]! - f.start[j]!);
  }
  out.length = len;
  out.summary = f.summary & ~(F_UPPER | F_LOWER);
  scratchReversed = out;
  return out;
}

/**
 * The text as read when turned upside down: backwards, each letter read as its turned form ("ɐ" a,
 * "ɔ" c, "u" n, "q" b). Built from the backwards view; `text` gives each character's code point. Only
 * worth building when the text has a turned letter (`F_TURNED`). The result lives in a shared buffer.
 */
export function upsideDownView(f: Folded, text: string): Folded {
  const r = reversedView(f);
  let out = scratchUpsideDown;
  if (out.raw.length < r.length + 4) out = grow(out, r.length + 4);
  for (let k = 0; k < r.length; k++) {
    const raw = r.raw[k]!;
    const letter = isAsciiLetter(raw) ? upsideDownLetter(text.codePointAt(-r.start[k]!) ?? raw, raw) : raw;
    out.raw[k] = letter;
    out.skeleton[k] = letter === raw ? r.skeleton[k]! : skeletonOfLetter(letter);
    out.opts[k] = letter === raw ? r.opts[k]! : bit(String.fromCharCode(letter));
    out.flags[k] = r.flags[k]!;
    out.start[k] = r.start[k]!;
    out.end[k] = r.end[k]!;
  }
  out.length = r.length;
  out.summary = r.summary;
  scratchUpsideDown = out;
  return out;
}

/** The letter 13 places on (ROT13) of an ASCII letter code, case kept; other codes as they are. */
function rot13(c: number): number {
  if (c >= 0x61 && c <= 0x7a) return ((c - 0x61 + 13) % 26) + 0x61;
  if (c >= 0x41 && c <= 0x5a) return ((c - 0x41 + 13) % 26) + 0x41;
  return c;
}

/**
 * The folding of the text read through ROT13, derived from its folding rather than folded again: every
 * compact character that an ASCII letter of the text stands for becomes the folding of the letter 13
 * places on; everything else (digits, symbols, other scripts, decoded entities) stays. Positions and gaps
 * are the text's own. The result lives in a shared buffer.
 */
export function rot13View(f: Folded, text: string): Folded {
  const out = (scratchRot13 = copyOf(scratchRot13, f));
  const n = f.length;
  const { raw, skeleton, opts, flags } = out;
  const start = f.start;
  let summary = f.summary;
  for (let k = 0; k < n; k++) {
    const c = text.charCodeAt(start[k]!);
    const r = rot13(c);
    if (r === c) continue;
    const ch = ROT13_FOLDS[r]!;
    raw[k] = ch.raw;
    skeleton[k] = ch.skeleton;
    opts[k] = ch.opts;
    const fl = (flags[k]! & (GAP_FLAGS | F_RLO)) | ch.flags;
    flags[k] = fl;
    summary |= fl;
  }
  out.summary = summary;
  return out;
}

/** The folding of each ASCII code as one compact character (letters only are looked up). */
const ROT13_FOLDS: readonly FoldedChar[] = asciiFolds.map((f) => f.chars[0] ?? { raw: 0, skeleton: 0, opts: 0, flags: 0 });

const LETTER = /^\p{L}$/u;

/** The code point at `i` of `text` is a letter. */
function letterAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 0x80 ? ((c | 0x20) - 0x61) >>> 0 < 26 : otherLetterAt(text, i);
}

function otherLetterAt(text: string, i: number): boolean {
  return LETTER.test(String.fromCodePoint(text.codePointAt(i)!));
}

/**
 * The whole words (runs of letters, with their combining marks) that `[from, to)` of `text` lies in or
 * touches: a match read from words written backwards covers the words it was read from.
 */
export function wordsAround(text: string, from: number, to: number): [number, number] {
  while (
    from > 0 &&
    (letterAt(text, from - 1) ||
      (from > 1 && text.charCodeAt(from - 1) >= 0xdc00 && text.charCodeAt(from - 1) <= 0xdfff && letterAt(text, from - 2)))
  )
    from--;
  while (to < text.length && (letterAt(text, to) || MARK.test(text[to]!))) to++;
  return [from, to];
}

/**
 * The folding of the text with every word (letters written together) turned around in place
 * ("tcejorP noclaF" reads "Project Falcon"), derived from its folding. Letters move; positions and gaps
 * stay the text's own, so the usual word checks apply (`wordsAround` gives what a match covers). With
 * `live`, a last word that more text may still lengthen is left out, and `openFrom` says where it starts
 * (`text.length` when none). The view lives in a shared buffer.
 */
export function wordsBackwardsView(f: Folded, text: string, live: boolean): { view: Folded; openFrom: number } {
  // Letters only move within their word, and gaps stay: the copy's summary holds.
  const out = (scratchWords = copyOf(scratchWords, f));
  let n = f.length;
  const { raw, skeleton, opts, flags, start, end } = f;
  const { raw: toRaw, skeleton: toSkeleton, opts: toOpts, flags: toFlags } = out;
  let openFrom = text.length;
  for (let k = 0; k < n;) {
    if (!letterAt(text, start[k]!)) {
      k++;
      continue;
    }
    // The word: letters whose original characters touch (several compact characters may share one).
    let q = k + 1;
    let shared = false;
    for (; q < n; q++) {
      if (start[q] === start[q - 1]) shared = true;
      else if (start[q] !== end[q - 1] || !letterAt(text, start[q]!)) break;
    }
    if (live && q === n && end[q - 1] === text.length) {
      // It may still grow ("Falc" backwards is "claF", "Falcon" is "noclaF"): held back, left out.
      openFrom = start[k]!;
      out.trailing = flags[k]! & F_PLAIN_SEP;
      n = k;
      break;
    }
    if (!shared) {
      for (let j = q - 1, m = k; j >= k; j--, m++) {
        toRaw[m] = raw[j]!;
        toSkeleton[m] = skeleton[j]!;
        toOpts[m] = opts[j]!;
        toFlags[m] = (flags[j]! & ~GAP_FLAGS) | (flags[m]! & GAP_FLAGS);
      }
    } else {
      // Characters that came from one original character keep their order; those groups are reversed.
      let m = k;
      for (let g = q; g > k;) {
        let h = g - 1;
        while (h > k && start[h - 1] === start[g - 1]) h--;
        for (let j = h; j < g; j++, m++) {
          toRaw[m] = raw[j]!;
          toSkeleton[m] = skeleton[j]!;
          toOpts[m] = opts[j]!;
          toFlags[m] = (flags[j]! & ~GAP_FLAGS) | (flags[m]! & GAP_FLAGS);
        }
        g = h;
      }
    }
    k = q;
  }
  out.length = n;
  return { view: out, openFrom };
}

/**
 * Names and aliases folded for the matcher, back to back in flat arrays (100,000 targets would
 * otherwise mean several hundred thousand small typed arrays): letters and digits only, with the word
 * breaks between them. Term `i` is `[offset[i], offset[i + 1])`.
 */
export class TermPool {
  count = 0;
  /** Folded codes (letters a-z, digits, other scripts' letters). */
  raw: Int32Array;
  skeleton: Int32Array;
  /** 1 when a word break lies before the character (never on a term's first character). */
  breaks: Uint8Array;
  offset: Int32Array;

  constructor(expectedTerms: number, expectedChars: number) {
    this.raw = new Int32Array(expectedChars + 16);
    this.skeleton = new Int32Array(expectedChars + 16);
    this.breaks = new Uint8Array(expectedChars + 16);
    this.offset = new Int32Array(expectedTerms + 1);
  }

  /**
   * Folds and appends a name or alias; returns its index. Symbols in a term are separators, not
   * leetspeak: the name "C++" is the letter c, and "AT&T" is the words "at" and "t".
   */
  add(term: string): number {
    const f = foldForMatch(term);
    const at = this.offset[this.count]!;
    if (at + f.length > this.raw.length) this.growChars(at + f.length);
    if (this.count + 2 > this.offset.length) {
      const o = new Int32Array(this.offset.length * 2 + 2);
      o.set(this.offset);
      this.offset = o;
    }
    let n = at;
    let brk = false;
    for (let k = 0; k < f.length; k++) {
      const flags = f.flags[k]!;
      if (flags & F_SYMBOL) {
        brk = true;
        continue;
      }
      const r = f.raw[k]!;
      this.raw[n] = r;
      // Digits in a name stay digits (the text must show the same digit) but share the skeleton of their letter.
      this.skeleton[n] = isAsciiDigit(r) ? f.skeleton[k]! : skeletonOfLetter(r);
      this.breaks[n] = n > at && (brk || flags & F_SEP) ? 1 : 0;
      brk = false;
      n++;
    }
    this.offset[++this.count] = n;
    return this.count - 1;
  }

  /** Removes the last term (a name with no letters or digits). */
  pop(): void {
    this.count--;
  }

  length(i: number): number {
    return this.offset[i + 1]! - this.offset[i]!;
  }

  private growChars(min: number): void {
    const size = Math.max(min + 16, this.raw.length * 2);
    const raw = new Int32Array(size);
    raw.set(this.raw);
    const skeleton = new Int32Array(size);
    skeleton.set(this.skeleton);
    const breaks = new Uint8Array(size);
    breaks.set(this.breaks);
    this.raw = raw;
    this.skeleton = skeleton;
    this.breaks = breaks;
  }
}

/** One name or alias folded on its own (tests, diagnostics, the benchmark). */
export function foldTerm(term: string): { raw: Int32Array; skeleton: Int32Array; breaks: Uint8Array } {
  const pool = new TermPool(1, term.length * 2);
  pool.add(term);
  const n = pool.length(0);
  return { raw: pool.raw.slice(0, n), skeleton: pool.skeleton.slice(0, n), breaks: pool.breaks.slice(0, n) };
}

/** The folded letters of a term or text slice as a string (for tests and diagnostics). */
export function foldedString(text: string): string {
  const t = foldTerm(text);
  return String.fromCodePoint(...t.raw);
}

export const LETTER_BIT = (code: number): number => (isAsciiLetter(code) ? 1 << (code - A) : 0);
export { isAsciiLetter, isAsciiDigit };
