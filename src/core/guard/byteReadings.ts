/** Readings of bytes and character codes: base64, base32, hex, backslash escapes, binary, decimal codes. */

import { wordRank } from '../text';
import { ReadingBuilder, type TextReading } from './readingBuilder';

const printable = (byte: number): boolean => byte === 0x0a || byte === 0x09 || (byte >= 0x20 && byte < 0x7f);

/**
 * Bytes decoded from a run, each with the original characters that encode it; only the printable
 * stretch from the run's start counts (text encoded on purpose decodes to text from its first byte).
 */
function addBytes(b: ReadingBuilder, bytes: readonly number[], spans: readonly [number, number][]): void {
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
function addByteRun(b: ReadingBuilder, run: RegExpMatchArray, byte: RegExp, valueOf: (p: RegExpMatchArray) => number): void {
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
export function base64Reading(text: string, live = false): TextReading | undefined {
  const b = new ReadingBuilder();
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
export function base32Reading(text: string, live = false): TextReading | undefined {
  const b = new ReadingBuilder();
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
export function hexReading(text: string, live = false): TextReading | undefined {
  const b = new ReadingBuilder();
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

/** A backslash escape as code writes one: `\u0046`, `\u{46}`, `\x46`, octal `\106`, and `\n`, `\t`, `\r`. */
const ESCAPE = /\\(?:u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]{1,6})\}|x([0-9A-Fa-f]{2})|([0-3][0-7]{2})|([ntr]))/y;
/** The start of an escape more text may still complete. */
const ESCAPE_TAIL = /\\(?:u(?:\{[0-9A-Fa-f]{0,6}|[0-9A-Fa-f]{0,3})|x[0-9A-Fa-f]?|[0-3][0-7]?)?$/;

/**
 * The text with backslash escapes decoded, as a string literal in code shows it when run (`"\u0046alcon"`,
 * `"Marta\nQuist"`). A reading, not part of the folding: a Windows path (`C:\Users\rachel`) must still be
 * read as written too.
 */
export function escapeReading(text: string, live = false): TextReading | undefined {
  if (text.indexOf('\\') < 0) return undefined;
  const b = new ReadingBuilder(text.length);
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
    return open < text.length ? new ReadingBuilder().reading('encoded', open, { encoding: 'escape sequences' }, text.length) : undefined;
  b.copy(text, kept, text.length);
  return b.reading('encoded', open, { encoding: 'escape sequences' }, text.length);
}

/** Bytes written in binary, 8 digits each (`01000110 01100001 …` or run together), 3+ bytes. */
export function binaryReading(text: string, live = false): TextReading | undefined {
  if (!/[01]{8}/.test(text)) return undefined;
  const b = new ReadingBuilder();
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
export function decimalReading(text: string, live = false): TextReading | undefined {
  // Three numbers in a row somewhere, or no run to read (a stream still looks at its tail below).
  const runs = /\d{2,3}(?:\s*,\s*|\s+)\d{2,3}(?:\s*,\s*|\s+)\d{2,3}/.test(text);
  if (!runs && !live) return undefined;
  const b = new ReadingBuilder();
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
