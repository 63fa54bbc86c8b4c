import { redactMatches } from './redact';
import { mergeOverlaps, type FastTargetIndex } from './fastIndex';
import { advanceBidi, type BidiState } from './normalize';
import type { GuardMatch, TargetIndex } from './types';

/**
 * Guards text that arrives in chunks. `push` returns the redacted text that no later chunk can change;
 * `end` returns the rest. The concatenation of everything returned equals redacting the whole text at
 * once, and a name split across chunks is still caught.
 *
 * How: with the fast index, each push asks the index which part of what has arrived is settled
 * (`settle`): it holds back only text that could still be the start of a match (the last letters when
 * they begin a name, forwards or backwards, or a masked word), a match whose ending is undecided, and a
 * half-written escape sequence or entity. Ordinary prose streams through with almost no delay. The
 * guard commits up to that point (moved back to the start of any match that crosses it), keeps a little
 * left context and forgets the rest, so memory and work per chunk stay bounded. Another index (the
 * simple reference one) holds back a fixed `holdBack` characters instead.
 */
export class StreamGuard {
  private buffer = '';
  /** Absolute offset of `buffer[0]` in the whole text. */
  private bufferStart = 0;
  /** Absolute offset up to which redacted text has been returned. */
  private committed = 0;
  /** Bidi state at `bufferStart` (a right-to-left override opened before it still reverses what follows). */
  private bidi: BidiState = '';
  private readonly fast: FastTargetIndex | undefined;
  private readonly leftContext: number;

  constructor(private readonly index: TargetIndex) {
    this.fast = (index as Partial<FastTargetIndex>).kindOfIndex === 'fast' ? (index as FastTargetIndex) : undefined;
    this.leftContext = this.fast ? this.fast.leftContext : index.holdBack;
  }

  /** Characters received but not yet returned. Never more than `index.holdBack` unless matches chain across the cut. */
  get pending(): number {
    return this.bufferStart + this.buffer.length - this.committed;
  }

  push(chunk: string): string {
    if (!chunk) return '';
    this.buffer += chunk;
    const total = this.bufferStart + this.buffer.length;
    let cut: number;
    let found: GuardMatch[];
    if (this.fast) {
      const { matches, stable } = this.fast.settle(this.buffer, this.bidi);
      cut = this.bufferStart + stable;
      if (cut <= this.committed) return '';
      found = this.absolute(matches);
    } else {
      cut = total - this.index.holdBack;
      if (cut <= this.committed) return '';
      found = this.absolute(this.index.find(this.buffer));
    }
    // Move the cut back to the start of any match that crosses it; repeat, as that start may lie inside another.
    for (let moved = true; moved;) {
      moved = false;
      for (const m of found) {
        if (m.start < cut && m.end > cut) {
          cut = m.start;
          moved = true;
        }
      }
    }
    if (cut <= this.committed) return '';
    return this.emit(
      found.filter((m) => m.end <= cut),
      cut,
    );
  }

  end(): string {
    const total = this.bufferStart + this.buffer.length;
    if (total <= this.committed) return '';
    const found = this.absolute(this.fast ? this.fast.candidates(this.buffer, this.bidi) : this.index.find(this.buffer));
    const out = this.emit(found, total);
    this.buffer = '';
    this.bufferStart = total;
    return out;
  }

  /** Matches in absolute offsets that start at or after the committed point. */
  private absolute(matches: readonly GuardMatch[]): GuardMatch[] {
    return matches
      .map((m) => ({ ...m, start: m.start + this.bufferStart, end: m.end + this.bufferStart }))
      .filter((m) => m.start >= this.committed);
  }

  private emit(matches: GuardMatch[], cut: number): string {
    const from = this.committed - this.bufferStart;
    const slice = this.buffer.slice(from, cut - this.bufferStart);
    const local = mergeOverlaps(matches).map((m) => ({ ...m, start: m.start - this.committed, end: m.end - this.committed }));
    const { text } = redactMatches(slice, local, this.index);
    this.committed = cut;
    const keepFrom = Math.max(this.bufferStart, cut - this.leftContext);
    if (keepFrom > this.bufferStart) this.bidi = advanceBidi(this.bidi, this.buffer, 0, keepFrom - this.bufferStart);
    this.buffer = this.buffer.slice(keepFrom - this.bufferStart);
    this.bufferStart = keepFrom;
    return text;
  }
}

/** Stream guard that hands every safe piece to `onSafeText` as well as returning it. */
export function createStreamGuard(index: TargetIndex, onSafeText?: (text: string) => void): { push(chunk: string): string; end(): string } {
  const guard = new StreamGuard(index);
  const pass = (text: string): string => {
    if (text && onSafeText) onSafeText(text);
    return text;
  };
  return { push: (chunk) => pass(guard.push(chunk)), end: () => pass(guard.end()) };
}

/** Redacts a whole text the way the stream guard does, for callers that have it all at once. */
export function guardText(index: TargetIndex, text: string): string {
  return redactMatches(text, index.find(text), index).text;
}
