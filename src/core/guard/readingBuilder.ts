/** A reading of a text (a new text mapped back to the original) and the builder that makes one. */

import type { Folded } from './folding';
import type { MatchKind } from './types';

export interface TextReading {
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
  /** Only names of at least this many letters count (short ones read through a transform are noise). */
  readonly minLetters?: number;
  /** Where a run that more text could still extend starts (`text.length` of the original when none). */
  readonly openFrom: number;
}

/** A reading under construction: its text in pieces, and each character's original span in typed arrays. */
export class ReadingBuilder {
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
  append(other: ReadingBuilder): void {
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
  reading(kind: MatchKind, openFrom: number, extra: Partial<TextReading> = {}, textLength = openFrom): TextReading | undefined {
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

let identityTable = new Int32Array(0);

/** 0, 1, 2, … at least `n` long (grown on demand, never written after). */
export function identity(n: number): Int32Array {
  if (identityTable.length < n) {
    identityTable = new Int32Array(Math.max(n, identityTable.length * 2, 1024));
    for (let i = 0; i < identityTable.length; i++) identityTable[i] = i;
  }
  return identityTable;
}
