import { sentenceMarker } from '../guard';
import { completeUpTo, splitSentences, type SentenceHit, type SentenceSpan } from '../relevance';

/** A piece that may complete a sentence: a terminator followed by whitespace, or a line break. */
export const SENTENCE_END = /[.!?]["')\]’”*_]*\s|\n/;

/** Judges a batch of sentences (text as shown): for each, the target it is about, or undefined. */
export type SentenceJudge = (sentences: readonly string[]) => Promise<readonly (SentenceHit | undefined)[]>;

/**
 * Releases a growing text sentence by sentence, each only after `judge` has read it. Checks run one
 * batch at a time: the first sentence alone (so the first text appears early), then every sentence
 * completed while the previous batch was judged (so an embedding model is asked a few times per
 * answer, not once per sentence).
 *
 * `replace`: a sentence with a hit is shown as its marker, and the text goes on (the final answer).
 * `stop`: the first sentence with a hit, and everything after it, is never released (an untouched
 * answer streamed before erasure: what was shown touched nothing).
 */
export class SentenceGate {
  private text = '';
  /** Sentences of `text` judged so far, and their verdicts. */
  private readonly judged: SentenceSpan[] = [];
  private readonly hits: (SentenceHit | undefined)[] = [];
  /** How much of `text` is released, and what was emitted for it. */
  private releasedTo = 0;
  private emitted = '';
  private running: Promise<void> | undefined;
  private failure: unknown;
  stopped = false;

  /** Sentences already on the screen (a streamed start of the draft): leading sentences equal to them are not shown twice. */
  private readonly skip: string[];
  private skipping: boolean;

  constructor(
    private readonly judge: SentenceJudge,
    private readonly emit: (text: string) => void,
    private readonly mode: 'replace' | 'stop',
    private readonly nameOf: (targetId: string) => string = (id) => id,
    alreadyShown = '',
  ) {
    this.skip = splitSentences(alreadyShown).map((sp) => alreadyShown.slice(sp.start, sp.end));
    this.skipping = this.skip.length > 0;
  }

  /** Where sentences not yet judged start in `text` (every judged sentence ends before it). */
  private cursor = 0;
  /** Pending length at the last look that found no complete sentence (see push). */
  private lookedAt = 0;

  /** Appends text (already guarded, as it will be shown). */
  push(piece: string): void {
    const before = this.text.at(-1) ?? '';
    this.text += piece;
    // Looking for a complete sentence reads the pending text: done when a piece may have ended one (a
    // terminator then space, a line break), else only once the pending text grew by a quarter, so a
    // megabyte with no sentence end costs linear time, not quadratic.
    const pending = this.text.length - this.cursor;
    if (SENTENCE_END.test(before + piece) || pending >= this.lookedAt + Math.max(256, this.lookedAt >> 2)) this.pump(false);
  }

  /**
   * The text is complete: judges what is left and releases it (or stops). Resolves with the spans
   * and verdicts of every sentence judged. Rejects when a judgement failed (nothing after the failed
   * batch was released).
   */
  async end(): Promise<{ spans: readonly SentenceSpan[]; hits: readonly (SentenceHit | undefined)[]; emitted: string }> {
    for (;;) {
      if (this.running) await this.running;
      if (this.failure) throw this.failure;
      if (this.stopped) break;
      const before = this.judged.length;
      this.pump(true);
      if (!this.running) {
        if (this.judged.length === before) break;
        continue;
      }
    }
    if (!this.stopped && !this.skipping) this.release(this.text.length, true);
    return { spans: [...this.judged], hits: [...this.hits], emitted: this.emitted };
  }

  /** Everything released so far. */
  get shown(): string {
    return this.emitted;
  }

  /** The text received so far. */
  get received(): string {
    return this.text;
  }

  private pump(final: boolean): void {
    if (this.running || this.stopped || this.failure) return;
    // Only the text after the last judged sentence is split: it starts at a sentence boundary.
    const tail = this.text.slice(this.cursor);
    const upTo = final ? tail.length : completeUpTo(tail);
    if (upTo <= 0) {
      this.lookedAt = tail.length;
      return;
    }
    this.lookedAt = 0;
    const next = splitSentences(tail.slice(0, upTo)).map((sp) => ({ start: sp.start + this.cursor, end: sp.end + this.cursor }));
    if (next.length === 0) return;
    const batch = this.judged.length === 0 && !final ? next.slice(0, 1) : next;
    const sentences = batch.map((s) => this.text.slice(s.start, s.end));
    this.running = this.judge(sentences).then(
      (verdicts) => {
        this.running = undefined;
        batch.forEach((span, i) => {
          if (this.stopped) return;
          const hit = verdicts[i];
          if (hit && this.mode === 'stop') {
            this.stopped = true;
            return;
          }
          this.judged.push(span);
          this.hits.push(hit);
          this.cursor = span.end;
          this.releaseSentence(span, hit);
        });
        this.pump(false);
      },
      (error: unknown) => {
        this.running = undefined;
        this.failure = error;
      },
    );
  }

  private releaseSentence(span: SentenceSpan, hit: SentenceHit | undefined): void {
    if (this.skipping) {
      // The text repeats what the user already saw: skipped. Once it differs, what follows comes after
      // the shown part, as a paragraph of its own unless every shown sentence was repeated.
      if (!hit && this.text.slice(span.start, span.end) === this.skip[0]) {
        this.skip.shift();
        this.releasedTo = span.end;
        this.skipping = this.skip.length > 0;
        return;
      }
      this.skipping = false;
      if (this.skip.length > 0) {
        this.out('\n\n');
        this.releasedTo = span.start;
      }
    }
    if (!hit) {
      this.release(span.end, false);
      return;
    }
    const before = this.text.slice(this.releasedTo, span.start);
    const piece = before + sentenceMarker(this.nameOf(hit.targetId));
    this.releasedTo = span.end;
    this.out(piece);
  }

  private release(to: number, final: boolean): void {
    if (to <= this.releasedTo) return;
    // Trailing whitespace waits for the next sentence, except at the very end.
    const piece = this.text.slice(this.releasedTo, to);
    this.releasedTo = to;
    if (piece || final) this.out(piece);
  }

  private out(piece: string): void {
    if (!piece) return;
    this.emitted += piece;
    this.emit(piece);
  }
}
