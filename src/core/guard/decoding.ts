/** Encodings that render as something else: HTML entities, percent-encoding, ANSI escape sequences. */

import { isAsciiDigit } from './codePoints';
import { ESC_MAX } from './foldFlags';

/** What `decodeAt` found at a position; the decoded code point and length are in `decoded`. */
export const enum Dec {
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

export const decoded = { cp: 0, len: 0 };

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
export function decodeAt(text: string, i: number, c: number): Dec {
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
