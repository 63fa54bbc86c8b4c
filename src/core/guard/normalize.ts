import confusableData from 'unhomoglyph/data.json';

/**
 * Folding for the leak guard. Every code point of a text becomes zero or more "compact characters":
 * letters and digits after NFKC, accent stripping, lower-casing and confusable mapping, plus the
 * symbols that can stand for letters (leetspeak, masks). Separators (spaces, punctuation) and
 * invisible characters become flags on the next compact character, so a matcher can see both the
 * letters and how they were split. Every compact character keeps its UTF-16 span in the original.
 */

/** Flags on a compact character. */
export const F_SEP = 1; // a separator run (space, punctuation) lies between it and the previous compact char
export const F_IGN = 2; // an invisible (default-ignorable) character lies between it and the previous one
export const F_CONF = 4; // came from a look-alike letter of another script or a compatibility form
export const F_LEET = 8; // a digit or symbol that may stand for a letter
export const F_MASK = 16; // a mask character (* _ •) that stands for any one letter
export const F_SYMBOL = 32; // not a letter or digit (leet symbol or mask): also counts as a word boundary

/** Skeleton code of mask characters; never part of a term, so the automaton never matches across it. */
export const MASK_SKELETON = 0x2a; // '*'

/**
 * Longest stretch of original text (UTF-16 units) one compact character may take inside a match:
 * the letter, its combining marks, invisible characters and the separators before the next letter.
 * It bounds how far a disguise may stretch a name, and so how much a stream must hold back.
 */
export const MAX_CHAR_SPAN = 8;

interface FoldedChar {
  /** Folded code: a lower-case letter or digit, or another script's letter as is. */
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

let confusables: Map<string, string> | undefined;

/**
 * Single letters that look like a Latin letter, from Unicode's TR39 confusables (via unhomoglyph).
 * Only mappings to one ASCII letter are kept: TR39 also maps "m" to "rn" and "I" to "l", which would
 * make ordinary words collide, and those ASCII cases are handled on purpose elsewhere.
 */
function confusableMap(): Map<string, string> {
  if (confusables) return confusables;
  const data = confusableData as Record<string, string>;
  const resolve = (ch: string, depth: number): string | undefined => {
    const folded = stripMarks(ch).toLowerCase();
    if (/^[a-z]$/.test(folded)) return folded;
    const proto = data[ch];
    if (proto === undefined || depth > 3) return undefined;
    const p = stripMarks(proto).toLowerCase();
    if (/^[a-z]$/.test(p)) return p;
    return [...proto].length === 1 ? resolve(proto, depth + 1) : undefined;
  };
  confusables = new Map();
  for (const key of Object.keys(data)) {
    if ([...key].length !== 1 || key.charCodeAt(0) < 0x80) continue;
    const letter = resolve(key, 0);
    if (letter) confusables.set(key, letter);
  }
  return confusables;
}

function stripMarks(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '');
}

function letterChar(code: number, flags: number, opts?: number): FoldedChar {
  const o = opts ?? bit(String.fromCharCode(code));
  return { raw: code, skeleton: skeletonOfLetter(code), opts: o, flags };
}

function foldCodePoint(cp: number): CodePointFold {
  const ch = String.fromCodePoint(cp);
  if (IGNORABLE.test(ch)) return { cls: Cls.Ignorable, chars: [] };
  if (MARK.test(ch)) return { cls: Cls.Mark, chars: [] };
  // Upper-case I stands for itself and for l ("PayPaI"); lower-case l does not stand for i, or "all" would read as "ali".
  if (ch === 'I') return { cls: Cls.Compact, chars: [letterChar(0x69, 0, bits('il'))] };
  const compat = ch.normalize('NFKC');
  const conf = compat !== ch.normalize('NFC') ? F_CONF : 0;
  const chars: FoldedChar[] = [];
  for (const c of compat) {
    const base = stripMarks(c);
    if (base === '') continue;
    const lower = base.toLowerCase();
    const code = lower.charCodeAt(0);
    if (lower.length === 1 && isAsciiLetter(code)) {
      chars.push(letterChar(code, conf, c === 'I' ? bits('il') : undefined));
      continue;
    }
    if (lower.length === 1 && isAsciiDigit(code)) {
      chars.push({ raw: code, skeleton: skeletonOfLetter(LEET[lower]!.charCodeAt(0)), opts: bits(LEET[lower]!), flags: conf | F_LEET });
      continue;
    }
    if (MASKS.has(base)) {
      chars.push({ raw: MASK_SKELETON, skeleton: MASK_SKELETON, opts: 0, flags: conf | F_MASK | F_SYMBOL });
      continue;
    }
    const leet = LEET[base];
    if (leet) {
      chars.push({ raw: base.codePointAt(0)!, skeleton: skeletonOfLetter(leet.charCodeAt(0)), opts: bits(leet), flags: conf | F_LEET | F_SYMBOL });
      continue;
    }
    if (!LETTER_OR_NUMBER.test(base[0] === undefined ? '' : String.fromCodePoint(base.codePointAt(0)!))) continue;
    const map = confusableMap();
    const latin = map.get(base) ?? map.get(lower) ?? map.get(base.toUpperCase());
    if (latin) {
      // A look-alike capital I (Cyrillic І, Greek Ι) may stand for i as well as l.
      const l = latin.charCodeAt(0);
      chars.push(letterChar(l, F_CONF, l === 0x6c ? bits('il') : undefined));
      continue;
    }
    for (const u of lower) {
      const uc = u.codePointAt(0)!;
      chars.push({ raw: uc, skeleton: uc, opts: 0, flags: conf });
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

/** A text folded into compact characters. Arrays may be longer than `length`; only [0, length) is valid. */
export interface Folded {
  length: number;
  raw: Int32Array;
  skeleton: Int32Array;
  opts: Int32Array;
  flags: Uint8Array;
  /** Original UTF-16 start of the code point this character came from. */
  start: Int32Array;
  /** Original UTF-16 end, including trailing combining marks. */
  end: Int32Array;
}

function allocFolded(capacity: number): Folded {
  return {
    length: 0,
    raw: new Int32Array(capacity),
    skeleton: new Int32Array(capacity),
    opts: new Int32Array(capacity),
    flags: new Uint8Array(capacity),
    start: new Int32Array(capacity),
    end: new Int32Array(capacity),
  };
}

function grow(f: Folded, min: number): Folded {
  const g = allocFolded(Math.max(min, f.raw.length * 2));
  g.raw.set(f.raw);
  g.skeleton.set(f.skeleton);
  g.opts.set(f.opts);
  g.flags.set(f.flags);
  g.start.set(f.start);
  g.end.set(f.end);
  g.length = f.length;
  return g;
}

// One scratch buffer reused by every scan: scans are synchronous, and reuse keeps a 256 KB scan from
// allocating six fresh arrays each time.
let scratch = allocFolded(1024);

/**
 * Folds `text` into compact characters. With `reuse`, the result lives in a shared buffer that the
 * next call overwrites; callers that keep the result must pass `reuse = false`.
 */
export function foldForMatch(text: string, reuse = true): Folded {
  let out = reuse ? scratch : allocFolded(text.length + 4);
  if (out.raw.length < text.length + 4) out = grow(out, text.length + 4);
  let n = 0;
  let pending = F_SEP; // the start of the text counts as a separator
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const fold = foldOf(cp);
    switch (fold.cls) {
      case Cls.Compact: {
        const chars = fold.chars;
        if (n + chars.length > out.raw.length) out = grow(out, n + chars.length + 16);
        for (let k = 0; k < chars.length; k++) {
          const c = chars[k]!;
          out.raw[n] = c.raw;
          out.skeleton[n] = c.skeleton;
          out.opts[n] = c.opts;
          out.flags[n] = c.flags | (k === 0 ? pending : 0);
          out.start[n] = i;
          out.end[n] = i + width;
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
        pending |= F_SEP;
        break;
    }
    i += width;
  }
  out.length = n;
  if (reuse) scratch = out;
  return out;
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
