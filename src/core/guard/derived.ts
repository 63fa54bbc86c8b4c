/**
 * Other ways to read a text, each a new text with a map back to the original: markup that renders as one
 * word, multi-character leetspeak, and one-step encodings a reader (or the next model) decodes at once
 * (base64, base32, hex, ROT13, spelling alphabets, Morse, words written backwards). The index folds and
 * scans each reading like the text itself and maps a match back to the whole run it came from, so the
 * marker covers what the reader would decode.
 *
 * Every reading is prefix-stable: reading more of a text never changes how its earlier part reads, except
 * for a run still open at the end (`openFrom`), which a stream holds back.
 */

import { wordRank } from '../text/wordFrequency';
import type { Folded } from './folding';
import { rot13View, wordsBackwardsView } from './views';
import type { MatchKind } from './types';

export interface Reading {
  /** The text as read, to be folded (empty when `folded` is given). */
  readonly text: string;
  /** The reading already folded: a view derived from the text's own folding, in the text's offsets. */
  readonly folded?: Folded;
  /** For each character of `text`, the original span it stands for. */
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly kind: MatchKind;
  readonly encoding?: string;
  /** A match must be spelled plainly in the reading (no further disguise): decoded text is plain text. */
  readonly plainOnly: boolean;
  /** A match covers the whole words it lies in (their letters were moved within them). */
  readonly wholeWords?: boolean;
  /** Only names of two or more words count (a single word backwards is the backwards pass's business). */
  readonly multiWordOnly?: boolean;
  /** Where a run that more text could still extend starts (`text.length` of the original when none). */
  readonly openFrom: number;
}

/** A reading under construction: its text in pieces, and each character's original span in typed arrays. */
class Builder {
  private readonly parts: string[] = [];
  length = 0;
  from: Int32Array;
  to: Int32Array;
  private endsWithSpace = false;

  /** `capacity`: the length the reading is expected to reach (it grows past it when needed). */
  constructor(capacity = 64) {
    this.from = new Int32Array(capacity);
    this.to = new Int32Array(capacity);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.from.length) return;
    const size = Math.max(this.from.length * 2, this.length + extra);
    const from = new Int32Array(size);
    const to = new Int32Array(size);
    from.set(this.from.subarray(0, this.length));
    to.set(this.to.subarray(0, this.length));
    this.from = from;
    this.to = to;
  }

  /** `s`, every character of it standing for the original span `[start, end)`. */
  add(s: string, start: number, end: number): void {
    if (s.length === 0) return;
    this.ensure(s.length);
    this.from.fill(start, this.length, this.length + s.length);
    this.to.fill(end, this.length, this.length + s.length);
    this.parts.push(s);
    this.length += s.length;
    this.endsWithSpace = s.charCodeAt(s.length - 1) === 0x20;
  }

  /** `text[start, end)` as it is, each character standing for itself. */
  copy(text: string, start: number, end: number): void {
    if (end <= start) return;
    const n = end - start;
    this.ensure(n);
    for (let k = 0; k < n; k++) {
      this.from[this.length + k] = start + k;
      this.to[this.length + k] = start + k + 1;
    }
    this.parts.push(text.slice(start, end));
    this.length += n;
    this.endsWithSpace = text.charCodeAt(end - 1) === 0x20;
  }

  /** Another builder's reading, spans as they are. */
  append(other: Builder): void {
    if (other.length === 0) return;
    this.ensure(other.length);
    this.from.set(other.from.subarray(0, other.length), this.length);
    this.to.set(other.to.subarray(0, other.length), this.length);
    this.parts.push(other.text());
    this.length += other.length;
    this.endsWithSpace = other.endsWithSpace;
  }

  text(): string {
    if (this.parts.length > 1) this.parts.splice(0, this.parts.length, this.parts.join(''));
    return this.parts[0] ?? '';
  }

  /** A word break between two runs (mapped to an empty span). */
  gap(at: number): void {
    if (this.length > 0 && !this.endsWithSpace) this.add(' ', at, at);
  }

  /** Undefined when there is nothing to read, unless a run still open at the end must be held back. */
  reading(kind: MatchKind, openFrom: number, extra: Partial<Reading> = {}, textLength = openFrom): Reading | undefined {
    const text = this.text();
    if (!/[A-Za-z]/.test(text) && openFrom >= textLength) return undefined;
    return {
      text,
      from: this.from.subarray(0, this.length),
      to: this.to.subarray(0, this.length),
      kind,
      plainOnly: true,
      openFrom,
      ...extra,
    };
  }
}

/** Longest inline HTML tag (or comment) taken out of a word. */
const TAG = /<\/?[A-Za-z][A-Za-z0-9-]{0,15}(?:\s[^<>\n]{0,80})?\/?>|<!--[^]{0,80}?-->/y;
/** A markdown link's middle and the next one's start: `](url)` and `[`. */
const LINK_MIDDLE = /\]\([^()\s]{0,200}\)/y;
/** A line broken with a hyphen: `-`, the line break, the next line's indentation. */
const HYPHEN_BREAK = /-[ \t]*\r?\n[ \t>]*/y;

/**
 * The text as markup renders it: inline HTML tags, markdown link edges (`[Fal](a)[con](b)`) and
 * hyphenated line breaks taken out, so the letters around them join. Undefined when there is none.
 */
export function markupReading(text: string): Reading | undefined {
  if (!/<[A-Za-z/!]|\]\(|-[ \t]*\r?\n/.test(text)) return undefined;
  const b = new Builder(text.length);
  let open = text.length;
  // Runs between markup are copied whole; only `<`, `]`, `-` and `[` need a look.
  const special = /[<\]\-[]/g;
  let kept = 0;
  for (let m = special.exec(text); m; m = special.exec(text)) {
    const i = m.index;
    const c = text.charCodeAt(i);
    let skip = 0;
    if (c === 0x3c) {
      TAG.lastIndex = i;
      skip = TAG.exec(text)?.[0].length ?? 0;
      if (!skip && text.indexOf('>', i) < 0 && text.length - i < 100) open = Math.min(open, i);
    } else if (c === 0x5d) {
      LINK_MIDDLE.lastIndex = i;
      skip = LINK_MIDDLE.exec(text)?.[0].length ?? 0;
      if (!skip && text.indexOf(')', i) < 0 && text.length - i < 210) open = Math.min(open, i);
    } else if (c === 0x2d) {
      HYPHEN_BREAK.lastIndex = i;
      skip = HYPHEN_BREAK.exec(text)?.[0].length ?? 0;
      if (!skip && text.length - i < 3) open = Math.min(open, i);
    } else skip = 1; // `[`: a link's opening bracket renders as nothing
    if (!skip) continue;
    b.copy(text, kept, i);
    kept = i + skip;
    special.lastIndex = kept;
  }
  b.copy(text, kept, text.length);
  return b.reading('markup', open, { plainOnly: false }, text.length);
}

/** Multi-character leetspeak: each sequence stands for one letter. Longest first. */
const MULTI_LEET: readonly [string, string][] = (
  [
    ['|\\/|', 'm'],
    ['/\\/\\', 'm'],
    ['|\\|', 'n'],
    ['/\\/', 'n'],
    ['\\/\\/', 'w'],
    ['\\^/', 'w'],
    ['|_|', 'u'],
    ['(_)', 'u'],
    ['|-|', 'h'],
    [']-[', 'h'],
    ['}{', 'h'],
    ['><', 'x'],
    ['|=', 'f'],
    ['|_', 'l'],
    ['|<', 'k'],
    ['|{', 'k'],
    ['|2', 'r'],
    ['|3', 'b'],
    ['|)', 'd'],
    ['|>', 'p'],
    ['|*', 'p'],
    ['/\\', 'a'],
    ['\\/', 'v'],
    ['()', 'o'],
    ['[]', 'o'],
    ['_|', 'j'],
    ['(', 'c'],
    ['<', 'c'],
  ] as [string, string][]
).sort((x, y) => y[0].length - x[0].length);
const LEET_SYMBOLS = /[|/\\()[\]{}<>^]/;
/** Where a sequence may start. */
const LEET_START = new Set(MULTI_LEET.map(([seq]) => seq.charCodeAt(0)));
/** A token with a sequence of two or more characters in it (one alone, `(` or `<`, is punctuation). */
const MULTI_SEQUENCE = new RegExp(
  MULTI_LEET.filter(([seq]) => seq.length > 1)
    .map(([seq]) => seq.replace(/[|\\/()[\]{}<>^*]/g, '\\$&'))
    .join('|'),
);
/** Longest token (run without spaces) read as multi-character leet: code and ASCII art have longer runs. */
const MAX_LEET_TOKEN = 48;

/**
 * Each short token that holds a multi-character leet sequence (`|=/-\|_(0|\|`), with every sequence read
 * as its letter; single-character leet and letters stay for the folding. `(` and `<` count as c only in
 * a token with another sequence (a bracket alone is punctuation).
 */
export function multiLeetReading(text: string): Reading | undefined {
  if (!LEET_SYMBOLS.test(text)) return undefined;
  const b = new Builder();
  let open = text.length;
  for (const m of text.matchAll(/\S+/g)) {
    const token = m[0];
    const at = m.index;
    if (token.length > MAX_LEET_TOKEN || !LEET_SYMBOLS.test(token)) continue;
    if (at + token.length === text.length) open = Math.min(open, at);
    if (!MULTI_SEQUENCE.test(token)) continue;
    const out = new Builder(token.length);
    let plain = 0;
    for (let i = 0; i < token.length;) {
      const hit = LEET_START.has(token.charCodeAt(i)) ? MULTI_LEET.find(([seq]) => token.startsWith(seq, i)) : undefined;
      if (!hit) {
        i++;
        continue;
      }
      out.copy(text, at + plain, at + i);
      out.add(hit[1], at + i, at + i + hit[0].length);
      i += hit[0].length;
      plain = i;
    }
    out.copy(text, at + plain, at + token.length);
    b.gap(at);
    b.append(out);
    b.gap(at + token.length);
  }
  return b.reading('leet', open, { plainOnly: false }, text.length);
}

const printable = (byte: number): boolean => byte === 0x0a || byte === 0x09 || (byte >= 0x20 && byte < 0x7f);

/**
 * Bytes decoded from a run, each with the original characters that encode it; only the printable
 * stretch from the run's start counts (text encoded on purpose decodes to text from its first byte).
 */
function addBytes(b: Builder, bytes: readonly number[], spans: readonly [number, number][]): void {
  let n = 0;
  while (n < bytes.length && printable(bytes[n]!)) n++;
  if (n < 3) return;
  b.gap(spans[0]![0]);
  for (let k = 0; k < n; k++) b.add(String.fromCharCode(bytes[k]!), spans[k]![0], spans[k]![1]);
  b.gap(spans[n - 1]![1]);
}

/**
 * A run of bytes written one by one (`run`, a match in the text): every match of `byte` inside it is one
 * byte, `valueOf` its value, standing for the characters that wrote it.
 */
function addByteRun(b: Builder, run: RegExpMatchArray, byte: RegExp, valueOf: (p: RegExpMatchArray) => number): void {
  const bytes: number[] = [];
  const spans: [number, number][] = [];
  for (const p of run[0].matchAll(byte)) {
    bytes.push(valueOf(p));
    spans.push([run.index! + p.index, run.index! + p.index + p[0].length]);
  }
  addBytes(b, bytes, spans);
}

/**
 * The bytes a base64 or base32 run (at offset `at` of the text) packs, `width` bits a character, each
 * with the original characters its bits came from (a byte's bits may start in the previous character).
 */
function unpackBits(
  run: string,
  at: number,
  width: number,
  valueOf: (i: number) => number,
): { bytes: number[]; spans: [number, number][] } {
  const bytes: number[] = [];
  const spans: [number, number][] = [];
  let acc = 0;
  let bitsHeld = 0;
  let charFrom = 0;
  for (let i = 0; i < run.length; i++) {
    acc = ((acc << width) | valueOf(i)) & 0xffffff;
    bitsHeld += width;
    if (bitsHeld >= 8) {
      bitsHeld -= 8;
      bytes.push((acc >> bitsHeld) & 0xff);
      spans.push([at + charFrom, at + i + 1]);
      charFrom = bitsHeld > 0 ? i : i + 1;
    }
  }
  return { bytes, spans };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map<string, number>([...B64].map((c, i) => [c, i]));
B64_VALUE.set('-', 62);
B64_VALUE.set('_', 63);

/** Base64 (and base64url) runs of 8+ characters, decoded from the run's start. */
export function base64Reading(text: string, live = false): Reading | undefined {
  const b = new Builder();
  let open = text.length;
  // Only runs with a capital past their first character, or starting with Q–W, are matched at all (see
  // below): on prose the regex then builds no match for most long words.
  for (const m of text.matchAll(/(?<![A-Za-z0-9+/_-])(?:[A-Za-z0-9+/_-]+[A-Z][A-Za-z0-9+/_-]*|[Q-W][A-Za-z0-9+/_-]{7,})(=*)/g)) {
    if (m[0].length - m[1]!.length < 8) continue;
    // Padding belongs to the run (the marker covers it) but encodes nothing.
    const pad = m[1]!.length;
    const run = m[0].slice(0, m[0].length - pad);
    // Base64 of text mixes cases past its first character, and a capitalised word ("Something") does not;
    // but text that starts with a capital letter always encodes to a run starting with Q–W, which may
    // hold no other capital ("Njavia" is "Tmphdmlh"): such a run is decoded too when its length fits
    // base64 (a multiple of 4, or padded) and it is no English word ("Whatever", "Tomorrow").
    if (!/[a-z0-9]/.test(run)) continue;
    if (!/[A-Z]/.test(run.slice(1)) && !(/^[Q-W]/.test(run) && (run.length % 4 === 0 || pad > 0) && wordRank(run) === undefined)) continue;
    // A run more text could still extend may decode differently once whole: held from its start.
    if (text.length - (m.index + m[0].length) < 4) open = Math.min(open, m.index);
    const { bytes, spans } = unpackBits(run, m.index, 6, (i) => B64_VALUE.get(run[i]!)!);
    if (pad > 0 && spans.length > 0) spans[spans.length - 1]![1] += pad;
    addBytes(b, bytes, spans);
  }
  // Characters at the end that may still grow into a run decode once it is long enough: held too. A
  // tail of letters only is a word (and held as one while it may grow, by the backwards reading), so
  // only one with a digit or symbol in it, or prose would wait on every word before a space.
  const tail = live && /(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]{0,6}[0-9+/_-])[A-Za-z0-9+/_-]{1,7}$/.exec(text);
  if (tail) open = Math.min(open, tail.index);
  return b.reading('encoded', open, { encoding: 'base64' }, text.length);
}

/** Base32 runs (RFC 4648 alphabet, upper case) of 8+ characters. */
export function base32Reading(text: string, live = false): Reading | undefined {
  const b = new Builder();
  let open = text.length;
  for (const m of text.matchAll(/[A-Z2-7]{8,}/g)) {
    const run = m[0];
    // A run more text could still extend may decode differently once whole: held from its start.
    if (text.length - (m.index + m[0].length) < 4) open = Math.min(open, m.index);
    const { bytes, spans } = unpackBits(run, m.index, 5, (i) => {
      const c = run.charCodeAt(i);
      return c >= 0x41 ? c - 0x41 : c - 0x32 + 26;
    });
    addBytes(b, bytes, spans);
  }
  const tail = live && /[A-Z2-7]{1,7}$/.exec(text);
  if (tail) open = Math.min(open, tail.index);
  return b.reading('encoded', open, { encoding: 'base32' }, text.length);
}

/** Hex bytes, written together (`46616c`) or one by one (`46 61 6c`, `\x46\x61`, `0x46,0x61`), 3+ bytes. */
export function hexReading(text: string, live = false): Reading | undefined {
  const b = new Builder();
  let open = text.length;
  // Every byte of text (printable ASCII, tab, line feed) starts with a digit, so words of hex letters
  // ("deface") are never tried, which keeps this pass cheap on prose.
  for (const m of text.matchAll(/(?:(?:\\x|0x|%)?[0-7][0-9A-Fa-f](?:[ ,:]|(?=\\x|0x|%))?){3,}/g)) {
    // An odd digit or a separator after it may still be the start of another byte.
    if (text.length - (m.index + m[0].length) < 4) open = Math.min(open, m.index);
    addByteRun(b, m, /(?:\\x|0x|%)?([0-9A-Fa-f]{2})/g, (p) => parseInt(p[1]!, 16));
  }
  // Hex of text has a digit first in every byte (printable ASCII is 0x20–0x7E), so a word is no tail.
  const tail = live && /(?:(?:\\x|0x|%)?[0-9][0-9A-Fa-f]?(?:[ ,:]|(?=\\x|0x|%))?){1,3}$/.exec(text);
  if (tail) open = Math.min(open, tail.index);
  return b.reading('encoded', open, { encoding: 'hex' }, text.length);
}

/**
 * Every letter shifted by 13. A view of the text's own folding (see `rot13View`): a 16 KB answer is read
 * on every scan, and folding a rotated copy again would cost as much as the folding itself.
 */
export function rot13Reading(text: string, _live: boolean, folded: Folded): Reading | undefined {
  if (!/[A-Za-z]/.test(text)) return undefined;
  const ident = identity(text.length + 1);
  return {
    text: '',
    folded: rot13View(folded, text),
    from: ident.subarray(0, text.length),
    to: ident.subarray(1, text.length + 1),
    kind: 'encoded',
    encoding: 'ROT13',
    plainOnly: true,
    openFrom: text.length,
  };
}

let identityTable = new Int32Array(0);

/** 0, 1, 2, … at least `n` long (grown on demand, never written after). */
function identity(n: number): Int32Array {
  if (identityTable.length < n) {
    identityTable = new Int32Array(Math.max(n, identityTable.length * 2, 1024));
    for (let i = 0; i < identityTable.length; i++) identityTable[i] = i;
  }
  return identityTable;
}

/** A backslash escape as code writes one: `\u0046`, `\u{46}`, `\x46`, octal `\106`, and `\n`, `\t`, `\r`. */
const ESCAPE = /\\(?:u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]{1,6})\}|x([0-9A-Fa-f]{2})|([0-3][0-7]{2})|([ntr]))/y;
/** The start of an escape more text may still complete. */
const ESCAPE_TAIL = /\\(?:u(?:\{[0-9A-Fa-f]{0,6}|[0-9A-Fa-f]{0,3})|x[0-9A-Fa-f]?|[0-3][0-7]?)?$/;

/**
 * The text with backslash escapes decoded, as a string literal in code shows it when run (`"\u0046alcon"`,
 * `"Marta\nQuist"`). A reading, not part of the folding: a Windows path (`C:\Users\rachel`) must still be
 * read as written too.
 */
export function escapeReading(text: string, live = false): Reading | undefined {
  if (text.indexOf('\\') < 0) return undefined;
  const b = new Builder(text.length);
  let open = text.length;
  let kept = 0;
  let decoded = 0;
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i + 1)) {
    if (i < kept) continue;
    ESCAPE.lastIndex = i;
    const m = ESCAPE.exec(text);
    if (!m) continue;
    let cp = m[5] !== undefined ? 0x20 : parseInt(m[1] ?? m[2] ?? m[3] ?? m[4]!, m[4] !== undefined ? 8 : 16);
    let end = i + m[0].length;
    // A surrogate pair written as two escapes is one character.
    if (m[1] !== undefined && cp >= 0xd800 && cp <= 0xdbff) {
      ESCAPE.lastIndex = end;
      const low = ESCAPE.exec(text);
      const lo = low?.[1] !== undefined ? parseInt(low[1], 16) : -1;
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        end += low![0].length;
      }
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) continue;
    b.copy(text, kept, i);
    b.add(String.fromCodePoint(cp), i, end);
    kept = end;
    decoded++;
  }
  if (live) {
    const tail = ESCAPE_TAIL.exec(text);
    if (tail && tail.index >= kept) open = tail.index;
  }
  // Nothing decoded yet, but an escape still being written at the end is held back.
  if (decoded === 0)
    return open < text.length ? new Builder().reading('encoded', open, { encoding: 'escape sequences' }, text.length) : undefined;
  b.copy(text, kept, text.length);
  return b.reading('encoded', open, { encoding: 'escape sequences' }, text.length);
}

/** Bytes written in binary, 8 digits each (`01000110 01100001 …` or run together), 3+ bytes. */
export function binaryReading(text: string, live = false): Reading | undefined {
  if (!/[01]{8}/.test(text)) return undefined;
  const b = new Builder();
  let open = text.length;
  for (const m of text.matchAll(/(?<![0-9])[01]{8}(?:[ ,]?[01]{8}){2,}(?![0-9])/g)) {
    if (text.length - (m.index + m[0].length) < 4) open = Math.min(open, m.index);
    addByteRun(b, m, /[01]{8}/g, (p) => parseInt(p[0], 2));
  }
  // Groups at the end that more digits may still turn into a run.
  const tail = live && /(?<![0-9])(?:[01]{8}[ ,]?){0,2}[01]{0,8}$/.exec(text);
  if (tail && tail[0].length > 0) open = Math.min(open, tail.index);
  return b.reading('encoded', open, { encoding: 'binary' }, text.length);
}

/** Character codes in decimal (`70 97 108 99 111 110`, `fromCharCode(70,97,…)`), 3+ in a row. */
export function decimalReading(text: string, live = false): Reading | undefined {
  // Three numbers in a row somewhere, or no run to read (a stream still looks at its tail below).
  const runs = /\d{2,3}(?:\s*,\s*|\s+)\d{2,3}(?:\s*,\s*|\s+)\d{2,3}/.test(text);
  if (!runs && !live) return undefined;
  const b = new Builder();
  let open = text.length;
  if (runs) {
    for (const m of text.matchAll(/(?<![\d.])\d{2,3}(?:(?:\s*,\s*|\s+)\d{2,3}){2,}(?![\d.])/g)) {
      if (text.length - (m.index + m[0].length) < 4) open = Math.min(open, m.index);
      addByteRun(b, m, /\d+/g, (p) => (Number(p[0]) <= 255 ? Number(p[0]) : 0));
    }
  }
  const tail = live && /(?<![\d.])(?:\d{2,3}(?:\s*,\s*|\s+)){0,2}\d{1,3}[\s,]*$/.exec(text);
  if (tail) open = Math.min(open, tail.index);
  return b.reading('encoded', open, { encoding: 'character codes' }, text.length);
}

/** NATO/ICAO code words and common variants (the older Able–Baker alphabet, spelling variants). */
const SPELLING: Readonly<Record<string, string>> = {
  alfa: 'a',
  alpha: 'a',
  able: 'a',
  bravo: 'b',
  baker: 'b',
  charlie: 'c',
  delta: 'd',
  dog: 'd',
  echo: 'e',
  easy: 'e',
  foxtrot: 'f',
  fox: 'f',
  golf: 'g',
  george: 'g',
  hotel: 'h',
  how: 'h',
  india: 'i',
  item: 'i',
  juliet: 'j',
  juliett: 'j',
  jig: 'j',
  kilo: 'k',
  king: 'k',
  lima: 'l',
  love: 'l',
  mike: 'm',
  november: 'n',
  nan: 'n',
  oscar: 'o',
  oboe: 'o',
  papa: 'p',
  peter: 'p',
  quebec: 'q',
  queen: 'q',
  romeo: 'r',
  roger: 'r',
  sierra: 's',
  sugar: 's',
  tango: 't',
  tare: 't',
  uniform: 'u',
  uncle: 'u',
  victor: 'v',
  whiskey: 'w',
  whisky: 'w',
  william: 'w',
  xray: 'x',
  'x-ray': 'x',
  yankee: 'y',
  yoke: 'y',
  zulu: 'z',
  zebra: 'z',
};

const SPELLING_WORD = new RegExp(
  `(?<![A-Za-z-])(?:${Object.keys(SPELLING)
    .sort((a, b) => b.length - a.length)
    .join('|')})(?![A-Za-z])`,
  'gi',
);

/** Runs of 3+ spelling-alphabet code words ("Foxtrot Alfa Lima…"), each read as its letter. */
export function spellingReading(text: string): Reading | undefined {
  // Only the code words themselves are matched (one regex pass, not a lookup per word): any other word
  // between two of them is a separator that `between` rejects, which ends the run as before.
  return wordRunReading(
    text,
    SPELLING_WORD,
    /^[\s,;.\-/|]*$/,
    (w) => SPELLING[w.toLowerCase()],
    'spelling alphabet',
    /^[\s,;.\-/|]{0,4}[A-Za-z-]{0,8}$/,
  );
}

const MORSE: Readonly<Record<string, string>> = {
  '.-': 'a',
  '-...': 'b',
  '-.-.': 'c',
  '-..': 'd',
  '.': 'e',
  '..-.': 'f',
  '--.': 'g',
  '....': 'h',
  '..': 'i',
  '.---': 'j',
  '-.-': 'k',
  '.-..': 'l',
  '--': 'm',
  '-.': 'n',
  '---': 'o',
  '.--.': 'p',
  '--.-': 'q',
  '.-.': 'r',
  '...': 's',
  '-': 't',
  '..-': 'u',
  '...-': 'v',
  '.--': 'w',
  '-..-': 'x',
  '-.--': 'y',
  '--..': 'z',
};

/** Runs of 3+ Morse letters separated by spaces (`/` or `|` between words). */
export function morseReading(text: string): Reading | undefined {
  // A Morse sign at the very end may begin a run: the run is then held back (`wordRunReading`).
  if (!/[.\-·•−–_][ ]?[.\-·•−–_]/.test(text) && !/(?:^|[\s/|])[.\-·•−–_]{1,5} ?$/.test(text)) return undefined;
  return wordRunReading(
    text,
    // A sign glued to a word or number is punctuation ("here.", "x-ray", "3.5"), not a Morse letter.
    /(?<![\p{L}\p{N}])[.\-·•−–_]{1,5}(?![\p{L}\p{N}])/gu,
    /^[ ]$|^ ?[/|] ?$|^ {2,3}$/,
    (w) => MORSE[w.replace(/[·•]/g, '.').replace(/[−–_]/g, '-')],
    'Morse',
    /^[ /|]{0,4}[.\-·•−–_]{0,5}$/,
  );
}

/**
 * Runs of 3+ code words, each read as its letter, where only `between` may separate two of them. A
 * separator with a slash, bar or more than one space marks a word break (kept as a space).
 */
function wordRunReading(
  text: string,
  word: RegExp,
  between: RegExp,
  letterOf: (w: string) => string | undefined,
  encoding: string,
  openTail: RegExp,
): Reading | undefined {
  const b = new Builder();
  let run: { letter: string; start: number; end: number; breakBefore: boolean }[] = [];
  let open = text.length;
  const flush = () => {
    if (run.length >= 3) {
      b.gap(run[0]!.start);
      for (const r of run) {
        if (r.breakBefore) b.add(' ', r.start, r.start);
        b.add(r.letter, r.start, r.end);
      }
      b.gap(run[run.length - 1]!.end);
    }
    run = [];
  };
  let lastEnd = -1;
  for (const m of text.matchAll(word)) {
    const letter = letterOf(m[0]);
    const sep = lastEnd >= 0 ? text.slice(lastEnd, m.index) : '';
    if (!letter || (run.length > 0 && !between.test(sep))) flush();
    if (letter) run.push({ letter, start: m.index, end: m.index + m[0].length, breakBefore: run.length > 0 && /[/|]| {2}/.test(sep) });
    lastEnd = m.index + m[0].length;
  }
  // The run stays open while what follows its last word may still become a separator and another code
  // word ("… November, Fo" may go on "xtrot"): it then reads as one longer word, not as the name.
  if (run.length > 0 && (text.length - lastEnd < 4 || openTail.test(text.slice(lastEnd)))) open = run[0]!.start;
  flush();
  return b.reading('encoded', open, { encoding }, text.length);
}

/**
 * Every word written backwards in place ("tcejorP noclaF"): names of two or more words only. A view of the
 * text's own folding (see `wordsBackwardsView`); a match covers the whole words it was read from.
 */
export function wordsBackwardsReading(text: string, live: boolean, folded: Folded): Reading | undefined {
  if (!/[A-Za-z]/.test(text)) return undefined;
  const { view, openFrom } = wordsBackwardsView(folded, text, live);
  const ident = identity(text.length + 1);
  return {
    text: '',
    folded: view,
    from: ident.subarray(0, text.length),
    to: ident.subarray(1, text.length + 1),
    wholeWords: true,
    kind: 'encoded',
    encoding: 'each word written backwards',
    plainOnly: true,
    multiWordOnly: true,
    openFrom,
  };
}

/** Every reading, in a fixed order; `live` when the text may continue. */
export const READINGS: readonly ((text: string, live: boolean, folded: Folded) => Reading | undefined)[] = [
  markupReading,
  multiLeetReading,
  base64Reading,
  base32Reading,
  hexReading,
  escapeReading,
  binaryReading,
  decimalReading,
  rot13Reading,
  spellingReading,
  morseReading,
  wordsBackwardsReading,
];
