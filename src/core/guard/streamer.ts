/** SafeStreamer: emits a growing answer as it arrives, only what later text cannot change, scanning a window. */

import { ControlStripper } from '../text';
import { outOffset, type AnswerGuard, type Finalized } from './answerGuard';
import type { Redaction } from './types';

const SPACE = /\s/;

/**
 * Streams a growing raw text safely. Control characters are stripped as the text arrives (a sequence
 * split across pieces is held until it can be judged); after each piece, only the part of the finalized
 * text that later pieces cannot change is emitted: the guard's `settle` says where that ends (before any
 * unfinished placeholder, and before whatever could still become part of a match in any of the guard's
 * readings, usually a few characters). The concatenation of what it emits equals the final text.
 *
 * Each scan reads a window, not the whole text: from a cut some way behind what is already shown (at
 * least `2 × holdBack` characters back, after whitespace, outside every marker) to the end. Nothing a
 * scan can still change lies before what is shown, and no match or decision reaches further back than
 * the window does, so a stream of any length costs time in proportion to its length. Should a window
 * ever read the shown part differently from what was emitted, that scan reads the whole text instead.
 */
export class SafeStreamer {
  private readonly controls = new ControlStripper();
  /** The text so far, controls stripped. */
  private raw = '';
  private emitted = '';
  /** How much of `raw` the emitted text stands for. */
  private shownRaw = 0;
  private sinceLastScan = 0;
  /** Where the window starts in `raw`, and how much of `emitted` stands for the text before it. */
  private base = 0;
  private outBase = 0;
  /** The last scan's finalization of the window (offsets relative to `base`). */
  private window: Finalized | undefined;
  /** The redactions in `emitted`, in its offsets. */
  private readonly shownRedactions: Redaction[] = [];

  constructor(
    private readonly guard: AnswerGuard,
    private readonly emit: (text: string) => void,
    /** Re-scan after this many new characters (each scan costs about a window's length). */
    private readonly scanEvery = 48,
  ) {}

  push(piece: string): void {
    const clean = this.controls.push(piece);
    this.raw += clean;
    this.sinceLastScan += clean.length;
    // A scan costs about the window's length: a few holdBacks while text settles. When it does not (a long
    // run the guard cannot judge yet holds more than holdBack), scans wait for a quarter of what is held
    // in new text, so the total work stays linear.
    const held = this.pending - this.guard.holdBack;
    if (this.sinceLastScan < Math.max(this.scanEvery, held >> 2)) return;
    this.sinceLastScan = 0;
    this.moveWindow();
    let { finalized, stable } = this.guard.settle(this.raw.slice(this.base));
    if (this.base > 0 && !this.agrees(finalized)) {
      this.base = 0;
      this.outBase = 0;
      ({ finalized, stable } = this.guard.settle(this.raw));
    }
    this.window = finalized;
    if (stable <= this.shownRaw - this.base) return;
    if (this.emitUpTo(finalized, outOffset(finalized, stable), this.outBase)) this.shownRaw = this.base + stable;
  }

  /** Characters received (control characters stripped) whose text is not shown yet. */
  get pending(): number {
    return this.raw.length - this.shownRaw;
  }

  /** Emits the rest and returns the complete finalized text. */
  end(): Finalized {
    this.raw += this.controls.end();
    const done = this.guard.finalize(this.raw);
    this.emitUpTo(done, done.text.length, 0);
    this.shownRaw = this.raw.length;
    return done;
  }

  /** What has been emitted so far, with its markers: the answer as the user saw it if the reply fails now. */
  shown(): Finalized {
    const redactions = [...this.shownRedactions];
    return { text: this.emitted, redactions, guardMatches: redactions.filter((r) => r.by === 'guard').length, spans: [] };
  }

  /**
   * Moves the window's start forward to a cut at least `2 × holdBack` characters behind what is shown:
   * after whitespace (a base64 run or a word is never cut), outside the last scan's markers.
   */
  private moveWindow(): void {
    const behind = 2 * this.guard.holdBack;
    const target = this.shownRaw - behind;
    if (!this.window || target - this.base < behind) return;
    const spans = this.window.spans;
    for (let p = target; p > this.base && p > target - behind; p--) {
      if (!SPACE.test(this.raw[p - 1]!)) continue;
      const at = p - this.base;
      if (spans.some((s) => s.rawStart < at && s.rawEnd > at)) continue;
      this.outBase += outOffset(this.window, at);
      this.base = p;
      return;
    }
  }

  /** The window's finalization shows what is already emitted after the window's start exactly so. */
  private agrees(done: Finalized): boolean {
    const shownHere = this.emitted.length - this.outBase;
    const at = this.shownRaw - this.base;
    if (done.spans.some((s) => s.rawStart < at && s.rawEnd > at)) return false;
    return outOffset(done, at) === shownHere && done.text.startsWith(this.emitted.slice(this.outBase));
  }

  /** Emits `done.text` (which stands for the text from `outBase` of the emitted text on) up to `cut`; false when there was nothing new. */
  private emitUpTo(done: Finalized, cut: number, outBase: number): boolean {
    // The emitted text always reads the same in the latest finalization; if a later scan disagreed (it
    // cannot when `settle` is right), nothing more is emitted, and never unguarded text.
    const before = this.emitted.slice(outBase);
    if (outBase + cut <= this.emitted.length || !done.text.startsWith(before)) return false;
    const from = this.emitted.length;
    const next = done.text.slice(before.length, cut);
    this.emitted += next;
    for (const r of done.redactions) {
      const start = outBase + r.start;
      const end = outBase + r.end;
      if (start >= from && end <= this.emitted.length) this.shownRedactions.push({ ...r, start, end });
    }
    this.emit(next);
    return true;
  }
}
