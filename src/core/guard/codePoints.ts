/** How each code point folds: letters, leetspeak, masks, look-alikes and upside-down letters (cached tables). */

import { F_CONF, F_LEET, F_LOWER, F_MASK, F_SYMBOL, F_TURNED, F_UPPER, MASK_SKELETON } from './foldFlags';
import { LETTER_FORMS } from './letterForms.generated';

export interface FoldedChar {
  /** Folded code: a lower-case letter or digit, or another script's letter as is (masks: the mask itself). */
  readonly raw: number;
  /** Code the automaton runs on: i and l merged, leet digits and symbols mapped to their letter. */
  readonly skeleton: number;
  /** Bit per letter a-z this character can stand for (0 for letters outside a-z). */
  readonly opts: number;
  readonly flags: number;
}

export const enum Cls {
  Compact,
  Separator,
  Ignorable,
  Mark,
}

export interface CodePointFold {
  readonly cls: Cls;
  readonly chars: readonly FoldedChar[];
}

const A = 0x61;
export const bit = (letter: string): number => 1 << (letter.charCodeAt(0) - A);
const bits = (letters: string): number => [...letters].reduce((m, l) => m | bit(l), 0);
export const isAsciiLetter = (code: number): boolean => code >= A && code <= 0x7a;
export const isAsciiDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;

/** Skeleton: merges i and l (a digit 1 or a pipe may be either), keeps every other letter. */
export function skeletonOfLetter(code: number): number {
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
export const MARK = /^\p{M}$/u;
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

export const asciiFolds: CodePointFold[] = Array.from({ length: 128 }, (_, cp) => foldCodePoint(cp));
const foldCache = new Map<number, CodePointFold>();

export function foldOf(cp: number): CodePointFold {
  if (cp < 128) return asciiFolds[cp]!;
  let f = foldCache.get(cp);
  if (!f) {
    f = foldCodePoint(cp);
    if (foldCache.size < 50_000) foldCache.set(cp, f);
  }
  return f;
}

export const LETTER_BIT = (code: number): number => (isAsciiLetter(code) ? 1 << (code - A) : 0);
