/** One scan of a text for the indexed terms, as a series of passes (as written, masked, backwards, readings…). */

import { F_MASK, F_RLO, F_SEP, F_SYMBOL, F_TURNED, MAX_CHAR_SPAN } from './foldFlags';
import { foldForMatch, type Folded } from './folding';
import type { IndexedTerms } from './indexedTerms';
import { incompleteTail } from './decoding';
import { READINGS, type TextReading } from './readings';
import { implausibleShortDisguise, SHORT_DISGUISE_LOOKAHEAD, SHORT_TERM_LETTERS } from './shortDisguise';
import type { MatchKind } from './types';
import { renderedView, reversedView, upsideDownView, wordsAround } from './views';
import {
  boundaryAt,
  boundaryBefore,
  decidedAfter,
  hasBreak,
  mayBeginWord,
  maskedWordEnd,
  maskedWordStart,
  pluralAt,
  verify,
} from './verify';

/** A match before overlaps are resolved, in original UTF-16 offsets. */
export interface Candidate {
  readonly entry: number;
  readonly start: number;
  readonly end: number;
  readonly kind: MatchKind;
  readonly reversed?: boolean;
  readonly encoding?: string;
}

/**
 * Fewest letters a name needs to be caught written backwards anywhere. Shorter names reversed are
 * ordinary words ("Liam" → "mail", "Tim" → "mit", "Noel" → "Leon"), so they are caught backwards only
 * where a right-to-left override shows them the right way round.
 */
const REVERSED_MIN_LETTERS = 6;

/** Where a match whose last compact character is `last` ends in the original: its span, capped like verify's bound. */
function endOf(f: Folded, last: number): number {
  return Math.min(f.end[last]!, f.start[last]! + MAX_CHAR_SPAN);
}

/**
 * Finds every candidate in a text. One instance per index, reused by every call (scans are synchronous):
 * its fields are the state of the scan in progress, reset by `run`, and the automaton callbacks are bound
 * once here rather than made afresh per text. Each pass is one method and reads the fields it needs.
 *
 * With `live`, the text may continue: the passes stop before a half-written escape or entity and lower
 * `stable`, the offset after which a continuation could still change the result.
 */
export class IndexScan {
  /** The text as given, and the part of it analysed (all of it unless live and it ends mid-escape). */
  private text = '';
  private source = '';
  private live = false;
  /** Where `source` ends in `text`. */
  private tail = 0;
  /** The folding of `source` (a shared buffer), and its length. */
  private folded!: Folded;
  private length = 0;
  private found: Candidate[] = [];
  private stable = 0;
  /** The view the forward or upside-down callback is scanning. */
  private view!: Folded;
  /** The folding reversed, made on the first backwards hit. */
  private reversed: Folded | undefined = undefined;
  /** The reading the readings callback is scanning. */
  private reading: TextReading | undefined = undefined;

  constructor(private readonly terms: IndexedTerms) {}

  run(text: string, live: boolean): { found: Candidate[]; stable: number } {
    const tail = live ? incompleteTail(text) : text.length;
    this.text = text;
    this.source = tail < text.length ? text.slice(0, tail) : text;
    this.live = live;
    this.tail = tail;
    this.folded = foldForMatch(this.source);
    this.length = this.folded.length;
    this.found = [];
    this.stable = tail;
    this.reversed = undefined;

    this.scanForward(this.folded);
    if (this.folded.summary & F_MASK && this.terms.maskBuckets.size > 0) this.scanMasked();
    // The text as rendered, when it has symbols that render differently.
    const rendered = renderedView(this.folded);
    if (rendered) this.scanForward(rendered);
    this.scanBackward();
    if (this.folded.summary & F_TURNED) this.scanUpsideDown();
    if (live && this.length > 0) this.holdReversedStart();
    this.scanReadings();
    this.dropImplausibleShort();
    // Nothing older than holdBack can still change: no match is longer, no decision looks further.
    if (live) this.stable = Math.min(tail, Math.max(this.stable, text.length - this.terms.holdBack));
    const found = this.found;
    // The index outlives the scan (it is cached): let go of the text and what was read from it.
    this.found = [];
    this.text = this.source = '';
    this.reversed = this.reading = undefined;
    return { found, stable: this.stable };
  }

  private hold(offset: number): void {
    if (offset < this.stable) this.stable = offset;
  }

  /** Pass: automaton hits in `f` (the text as written, or as rendered), checked letter by letter. */
  private scanForward(f: Folded): void {
    this.view = f;
    const state = this.terms.automaton.scan(f.skeleton, f.length, this.onForwardHit);
    // The longest suffix that begins a name, and starts where a word may, may still grow into it.
    if (this.live) {
      const k = this.openPrefixStart(f, state);
      if (k < f.length) this.hold(f.start[k]!);
    }
  }

  private readonly onForwardHit = (pattern: number, end: number): void => {
    const { terms, view: f } = this;
    const start = end - terms.automaton.lengthOf(pattern);
    // A hit at the very end may still become a longer word or take a plural.
    if (this.live && !decidedAfter(f, end, end - start)) this.hold(f.start[start]!);
    for (let k = terms.patternStart[pattern]!; k < terms.patternStart[pattern + 1]!; k++) {
      const entry = terms.patternEntries[k]!;
      const kind = verify(terms.pool, entry, f, start, false);
      if (kind && terms.capitalOk(entry, f, start)) this.found.push({ entry, start: f.start[start]!, end: endOf(f, end - 1), kind });
    }
  };

  /**
   * Pass: masked spellings ("F*lc*n"), looked up by first letter and length from each mask. Each window
   * is tried once, from its first mask: the start goes back only to the previous mask.
   */
  private scanMasked(): void {
    const { terms, folded: f, found } = this;
    const { maxMaskLen, maskBuckets, maskBucketsByLast } = terms;
    // Masks before each position, so a window's mask count is one subtraction.
    const before = new Int32Array(f.length + 1);
    for (let k = 0; k < f.length; k++) before[k + 1] = before[k]! + (f.flags[k]! & F_MASK ? 1 : 0);
    for (let p = 1; p < f.length; p++) {
      if (!(f.flags[p]! & F_MASK)) continue;
      // A masked word starts and ends at a real boundary: another mask is not one, or "get_user_id"
      // would offer a candidate at every underscore (and cost seconds against 100,000 names).
      for (let s = p - 1; s >= 0 && s > p - maxMaskLen; s--) {
        if (f.flags[s]! & F_MASK) break;
        if (f.flags[s]! & F_SYMBOL || !maskedWordStart(f, s)) continue;
        for (let e = p + 1; e <= f.length && e - s <= maxMaskLen; e++) {
          // At most a third masked, and at least one mask (the automaton found the rest).
          const masks = before[e]! - before[s + 1]!;
          if (masks * 3 > maxMaskLen) break;
          if (e - s < 3 || masks * 3 > e - s || !maskedWordEnd(f, e)) continue;
          const key = f.skeleton[s]! * 4096 + (e - s);
          const last = f.skeleton[e - 1]!;
          const bucket = f.flags[e - 1]! & F_MASK || last >= 65536 ? maskBuckets.get(key) : maskBucketsByLast.get(key * 65536 + last);
          if (!bucket) continue;
          for (const entry of bucket) {
            const kind = verify(terms.pool, entry, f, s, true);
            if (kind && terms.capitalOk(entry, f, s)) found.push({ entry, start: f.start[s]!, end: endOf(f, e - 1), kind });
          }
        }
      }
    }
    if (this.live) this.holdOpenMask();
  }

  /**
   * A masked name still open reaches the last letters; it is at most maxMaskLen letters and maxMaskWords
   * words long, so only a mask in that stretch may still be inside one.
   */
  private holdOpenMask(): void {
    const { folded: f, length: len } = this;
    const { maxMaskLen, maxMaskWords } = this.terms;
    let from = len;
    for (let k = len - 1, words = 0; k >= 0 && k >= len - maxMaskLen - 2; k--) {
      from = k;
      if (f.flags[k]! & F_SEP && ++words >= maxMaskWords) break;
    }
    for (let p = Math.max(1, from); p < len; p++) {
      if (f.flags[p]! & F_MASK) {
        this.hold(f.start[Math.max(from, p - maxMaskLen + 1)]!);
        break;
      }
    }
  }

  /** Pass: the text backwards (reversed names; short ones only where a bidi override shows them so). */
  private scanBackward(): void {
    this.terms.automaton.scanBackward(this.folded.skeleton, this.length, this.onBackwardHit);
  }

  // The backwards views run from the text's last compact character to its first: a hit at
  // [viewStart, viewEnd) of the view covers [len - viewEnd, len - 1 - viewStart] of the folding.
  private readonly onBackwardHit = (pattern: number, viewEnd: number): void => {
    const { terms, folded: f, length: len } = this;
    const letters = terms.automaton.lengthOf(pattern);
    const viewStart = viewEnd - letters;
    // Backwards, what follows the name in the text is what precedes it here: decided once a character follows.
    if (this.live && viewStart === 0) this.hold(f.start[len - viewEnd]!);
    const reversed = (this.reversed ??= reversedView(f));
    for (let c = terms.patternStart[pattern]!; c < terms.patternStart[pattern + 1]!; c++) {
      const entry = terms.patternEntries[c]!;
      const kind = verify(terms.pool, entry, reversed, viewStart, false);
      // The reversed view drops case; the name's first letter is at the end of the span in the text.
      if (!kind || !terms.capitalOk(entry, f, len - 1 - viewStart)) continue;
      if (letters < REVERSED_MIN_LETTERS) {
        let shown = true;
        for (let j = viewStart; j < viewEnd && shown; j++) shown = (reversed.flags[j]! & F_RLO) !== 0;
        if (!shown) continue;
      }
      this.found.push({ entry, start: f.start[len - viewEnd]!, end: endOf(f, len - 1 - viewStart), kind, reversed: true });
    }
  };

  /**
   * Pass: upside-down text ("uoɔlɐɟ"), backwards with letters turned. A match needs a turned letter in
   * it, or it would be ordinary text read backwards with n, u, b, q, d and p swapped.
   */
  private scanUpsideDown(): void {
    const turned = upsideDownView(this.folded, this.text);
    this.view = turned;
    this.terms.automaton.scan(turned.skeleton, this.length, this.onUpsideDownHit);
  }

  private readonly onUpsideDownHit = (pattern: number, viewEnd: number): void => {
    const { terms, folded: f, length: len, view: turned } = this;
    const letters = terms.automaton.lengthOf(pattern);
    const viewStart = viewEnd - letters;
    if (this.live && viewStart === 0) this.hold(f.start[len - viewEnd]!);
    let anyTurned = false;
    for (let j = viewStart; j < viewEnd && !anyTurned; j++) anyTurned = (turned.flags[j]! & F_TURNED) !== 0;
    if (!anyTurned || letters < 3) return;
    for (let c = terms.patternStart[pattern]!; c < terms.patternStart[pattern + 1]!; c++) {
      const entry = terms.patternEntries[c]!;
      // Turned letters have no case to tell a proper noun by: a case-sensitive term is not read so.
      if (terms.needsCapital[entry] === 0 && verify(terms.pool, entry, turned, viewStart, false))
        this.found.push({ entry, start: f.start[len - viewEnd]!, end: endOf(f, len - 1 - viewStart), kind: 'confusable', reversed: true });
    }
  };

  /** Pass (streams only): the last letters may begin a name written backwards. */
  private holdReversedStart(): void {
    const { folded: f, length: len, terms } = this;
    const from = Math.max(0, len - terms.maxLen);
    if (f.start[from]! >= this.stable) return;
    for (let s = from; s < len; s++) {
      // A name backwards starts (in the text) where a word may start, like any other match.
      if (!mayBeginWord(f, s)) continue;
      let prefix = '';
      for (let j = s; j < len; j++) prefix += String.fromCodePoint(f.skeleton[j]!);
      if (terms.reversedPrefixExists(prefix)) {
        this.hold(f.start[s]!);
        return;
      }
    }
  }

  /**
   * Pass: other readings of the text (markup taken out, multi-character leet, one-step encodings). Each
   * is folded and scanned on its own; a match maps back to the original characters it was read from.
   */
  private scanReadings(): void {
    for (const read of READINGS) {
      const r = read(this.source, this.live, this.folded, this.terms);
      if (!r) continue;
      if (this.live) this.hold(r.openFrom);
      // Its own scratch buffers: the folding of the text itself stays intact for the next reading.
      const f = r.folded ?? foldForMatch(r.text, 'reading');
      this.reading = r;
      this.view = f;
      const state = this.terms.automaton.scan(f.skeleton, f.length, this.onReadingHit);
      if (this.live) {
        // The reading's last letters may begin a name: hold every original character they came from.
        for (let k = this.openPrefixStart(f, state, r.plainOnly); k < f.length; k++) {
          for (let i = f.start[k]!; i < f.end[k]!; i++) this.hold(r.from[i]!);
        }
      }
    }
  }

  private readonly onReadingHit = (pattern: number, end: number): void => {
    const { terms, view: f } = this;
    const r = this.reading!;
    const start = end - terms.automaton.lengthOf(pattern);
    // The reading's characters may map back out of order (words backwards): the span covers them all.
    let from = r.from[f.start[start]!]!;
    let to = r.to[f.end[end - 1]! - 1]!;
    for (let i = f.start[start]!, last = Math.min(f.end[end - 1]!, i + terms.maxMatchSpan); i < last; i++) {
      if (r.from[i]! < from) from = r.from[i]!;
      if (r.to[i]! > to) to = r.to[i]!;
    }
    if (r.wholeWords) [from, to] = wordsAround(this.source, from, to);
    if (this.live && !decidedAfter(f, end, end - start)) this.hold(from);
    // Decoded text is read as plain words: a name glued to other letters in it is no mention.
    const wholeWord = boundaryBefore(f, start, false) && (boundaryAt(f, end, false) || pluralAt(f, end));
    // A decoded match spans more text than its letters; beyond the longest match a stream could miss it.
    if (to - from > terms.maxMatchSpan) return;
    for (let k = terms.patternStart[pattern]!; k < terms.patternStart[pattern + 1]!; k++) {
      const entry = terms.patternEntries[k]!;
      if (r.multiWordOnly && !hasBreak(terms.pool, entry)) continue;
      if (r.minLetters && terms.pool.length(entry) < r.minLetters) continue;
      const kind = verify(terms.pool, entry, f, start, false);
      if (!kind || (r.plainOnly && (kind !== 'exact' || !wholeWord)) || !terms.capitalOk(entry, f, start)) continue;
      this.found.push({ entry, start: from, end: to, kind: r.kind, ...(r.encoding ? { encoding: r.encoding } : {}) });
    }
  };

  /**
   * Pass: short names disguised; drop the readings that sit in code, escapes or foreign words. What
   * decides that may follow the match, so a stream holds such a match until those characters are there.
   */
  private dropImplausibleShort(): void {
    const { found, terms } = this;
    let kept = 0;
    for (const c of found) {
      if (terms.pool.length(c.entry) <= SHORT_TERM_LETTERS && !c.reversed && c.kind !== 'exact' && c.kind !== 'encoded') {
        if (this.live && c.end + SHORT_DISGUISE_LOOKAHEAD > this.tail) this.hold(c.start);
        if (implausibleShortDisguise(this.text, c.start, c.end, c.kind)) continue;
      }
      found[kept++] = c;
    }
    found.length = kept;
  }

  /**
   * Where the longest suffix of `f` that may still grow into a match starts (`f.length` when none): a
   * suffix the automaton's end `state` says begins a name, at a place where a word may begin (a match
   * starts at a word boundary, so "Ordinar" is no start of "Nara" however many names begin with "nar").
   * With `wholeWords` (decoded readings), only where a word starts without glue.
   */
  private openPrefixStart(f: Folded, state: number, wholeWords = false): number {
    for (const depth of this.terms.automaton.prefixDepths(state)) {
      if (depth >= 255) return Math.max(0, f.length - this.terms.maxLen);
      const k = f.length - depth;
      if (wholeWords ? boundaryBefore(f, k, false) : mayBeginWord(f, k)) return k;
    }
    return f.length;
  }
}
