import { redactMatches } from './redact';
import { mergeOverlaps, type FastTargetIndex } from './fastIndex';
import type { GuardMatch, TargetIndex } from './types';

/**
 * Guards text that arrives in chunks. `push` returns the redacted text that no later chunk can change;
 * `end` returns the rest. The concatenation of everything returned equals redacting the whole text at
 * once, and a name split across chunks is still caught.
 *
 * How: a match depends only on the text from a few characters before it to a few after it, and is at
 * most `maxMatchSpan` long. So every match that starts more than `maxMatchSpan + rightContext`
 * characters before the end of what has arrived is already visible and final. The guard commits text
 * up to that point (moved back to the start of any match that crosses it), keeps a little left context
 * and forgets the rest, so memory and work per chunk stay bounded.
 */
export class StreamGuard {
  private buffer = '';
  /** Absolute offset of `buffer[0]` in the whole text. */
  private bufferStart = 0;
  /** Absolute offset up to which redacted text has been returned. */
  private committed = 0;
  private readonly settle: number;
  private readonly leftContext: number;
  private readonly candidates: (text: string) => GuardMatch[];

  constructor(private readonly index: TargetIndex) {
    const fast = (index as Partial<FastTargetIndex>).kindOfIndex === 'fast' ? (index as FastTargetIndex) : undefined;
    // Another index (the simple reference one) gets its own holdBack as both spans and context.
    this.settle = fast ? fast.maxMatchSpan + fast.rightContext : index.holdBack;
    this.leftContext = fast ? fast.leftContext : index.holdBack;
    this.candidates = fast ? (t) => fast.candidates(t) : (t) => index.find(t);
  }

  /** Characters received but not yet returned. Never more than `index.holdBack` unless matches chain across the cut. */
  get pending(): number {
    return this.bufferStart + this.buffer.length - this.committed;
  }

  push(chunk: string): string {
    if (!chunk) return '';
    this.buffer += chunk;
    const total = this.bufferStart + this.buffer.length;
    let cut = total - this.settle;
    if (cut <= this.committed) return '';
    const found = this.scan();
    // Move the cut back to the start of any match that crosses it; repeat, as that start may lie inside another.
    for (let moved = true; moved; ) {
      moved = false;
      for (const m of found) {
        if (m.start < cut && m.end > cut) {
          cut = m.start;
          moved = true;
        }
      }
    }
    if (cut <= this.committed) return '';
    return this.emit(found.filter((m) => m.end <= cut), cut);
  }

  end(): string {
    const total = this.bufferStart + this.buffer.length;
    if (total <= this.committed) return '';
    const out = this.emit(this.scan(), total);
    this.buffer = '';
    this.bufferStart = total;
    return out;
  }

  /** Candidates (absolute offsets) that start at or after the committed point. */
  private scan(): GuardMatch[] {
    return this.candidates(this.buffer)
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
