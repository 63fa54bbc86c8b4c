/** Names and aliases folded into one flat pool for the matcher, and term folding for tests and diagnostics. */

import { isAsciiDigit, skeletonOfLetter } from './codePoints';
import { F_SEP, F_SYMBOL } from './foldFlags';
import { foldForMatch } from './folding';

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
function foldTerm(term: string): { raw: Int32Array; skeleton: Int32Array; breaks: Uint8Array } {
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
