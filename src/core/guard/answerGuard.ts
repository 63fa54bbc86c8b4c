/** Finalizing an answer: agent placeholders become markers, and the guard masks every name left. */

import { lowerBound } from './lowerBound';
import { guardReason, INNER_PLACEHOLDER, MARKER, openPlaceholderStart, PLACEHOLDER, redactionMarker } from './marker';
import { mergeOverlaps } from './targetIndex';
import type { GuardMatch, Redaction, TargetIndex } from './types';
import type { ForgetTarget, HandledTarget } from '../targets';
import { stripControls } from '../text';

const SPACE = /\s/;

export interface Finalized {
  readonly text: string;
  readonly redactions: Redaction[];
  /** Matches the deterministic guard had to mask (the agents let them through). */
  readonly guardMatches: number;
  /**
   * For each replaced span of the raw text (after control characters were stripped from it), where its
   * marker is in `text`; used to cut safe stream prefixes.
   */
  readonly spans: readonly { rawStart: number; rawEnd: number; outStart: number; outEnd: number }[];
}

/**
 * Turns raw model text into what the user may see. Control characters, escape sequences and bidi
 * controls are stripped first (`stripControls`), so the guard reads exactly the text that is shown and
 * a sequence between two halves of a name cannot hide it. Then agent placeholders become markers naming
 * the target, and the guard masks every name, alias or disguised spelling left anywhere else, including
 * one a placeholder splits (`Fal[redacted:T1]con`): such a match swallows the placeholder.
 */
export function finalizeAnswer(
  raw: string,
  index: TargetIndex,
  handled: readonly HandledTarget[],
  agentReason: (targetId: string) => string,
): Finalized {
  return createAnswerGuard(index, handled, agentReason).finalize(stripControls(raw));
}

/**
 * Whether the guard would mask anything in `raw` beyond the agents' placeholders: the critic's veto.
 * Sees the text exactly as `finalizeAnswer` does (controls stripped, placeholders taken out).
 */
export function guardWouldAct(raw: string, index: TargetIndex, handled: readonly HandledTarget[]): boolean {
  return finalizeAnswer(raw, index, handled, () => '').guardMatches > 0;
}

/** The guard of one answer, for text that is already free of control characters (`stripControls`). */
export interface AnswerGuard {
  /** The complete text. */
  finalize(clean: string): Finalized;
  /**
   * A text that may still continue: its finalization, and `stable`, the offset of `clean` up to which
   * that finalization is final whatever follows (text after it could still become part of a match or a
   * placeholder, or of a name a new marker splits) and shows the same as the text up to `stable` would
   * on its own (so what is shown is safe as it stands, not only once the rest arrives). `stable` never
   * falls inside a replaced span.
   */
  settle(clean: string): { finalized: Finalized; stable: number };
  /** The index's `holdBack`: no match or decision reaches further back than this from where it settles. */
  readonly holdBack: number;
}

export function createAnswerGuard(
  index: TargetIndex,
  handled: readonly HandledTarget[],
  agentReason: (targetId: string) => string,
): AnswerGuard {
  const byHandle = new Map(handled.map((h) => [h.handle.toLowerCase(), h.target]));
  const byName = new Map(handled.map((h) => [h.target.name.toLowerCase(), h.target]));
  const ctx: Context = { index, agentReason, known: (inner) => byHandle.get(inner) ?? byName.get(inner) };
  return {
    holdBack: index.holdBack,
    finalize: (clean) => analyze(clean, ctx, false).finalized,
    settle: (clean) => {
      const { finalized, stable } = analyze(clean, ctx, true);
      // What is shown must also be safe as it stands, before the rest arrives: "Falcon" followed by
      // "noclaF…" is no match in the whole text, but the first six letters shown alone are one. So the
      // cut goes back until the text before it, finalized alone, is exactly what would be shown.
      let cut = stable;
      for (let tries = 0; cut > 0 && tries < MAX_CUT_TRIES; tries++) {
        cut = rawCut(finalized, cut);
        const alone = analyze(clean.slice(0, cut), ctx, false).finalized;
        const differs = firstDifference(alone, finalized, cut);
        if (differs === undefined) return { finalized, stable: cut };
        cut = differs;
      }
      return { finalized, stable: 0 };
    },
  };
}

/** Attempts at a cut that shows the same text alone as in context; after that, nothing is shown yet. */
const MAX_CUT_TRIES = 8;

/** `rawOffset`, moved back to the start of a replaced span it falls inside. */
function rawCut(done: Finalized, rawOffset: number): number {
  for (const s of done.spans) {
    if (s.rawStart >= rawOffset) break;
    if (s.rawEnd > rawOffset) return s.rawStart;
  }
  return rawOffset;
}

/**
 * Where `alone` (the text before `cut`, finalized as if complete) first differs from `inContext` before
 * `cut`: the raw start of the first span that is not the same in both. Undefined when they agree.
 */
function firstDifference(alone: Finalized, inContext: Finalized, cut: number): number | undefined {
  const markerOf = (f: Finalized, i: number) => f.text.slice(f.spans[i]!.outStart, f.spans[i]!.outEnd);
  for (let i = 0; ; i++) {
    const a = alone.spans[i];
    const b = inContext.spans[i] && inContext.spans[i]!.rawStart < cut ? inContext.spans[i] : undefined;
    if (!a && !b) return undefined;
    if (!a || !b) return (a ?? b)!.rawStart;
    if (a.rawStart !== b.rawStart || a.rawEnd !== b.rawEnd || markerOf(alone, i) !== markerOf(inContext, i))
      return Math.min(a.rawStart, b.rawStart);
  }
}

interface Context {
  readonly index: TargetIndex;
  readonly agentReason: (targetId: string) => string;
  readonly known: (inner: string) => ForgetTarget | undefined;
}

interface Placeholder {
  readonly start: number;
  readonly end: number;
  /** The target it stands for; unknown placeholders are ordinary text that only the views take out. */
  readonly target: ForgetTarget | undefined;
}

/** A text with spans taken out, and for each of its characters its offset in the text it was made from. */
interface View {
  readonly text: string;
  readonly map: Int32Array;
}

interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly targetId: string;
  readonly targetName: string;
  readonly reason: string;
  readonly by: Redaction['by'];
  readonly kind?: GuardMatch['kind'];
}

interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * How the guard reads a text: as it will be shown, with every marker in it, and several ways, masking
 * every match of any of them (overlapping matches merge into one marker):
 *   - the pieces between the markers, each on its own (a marker is a boundary);
 *   - the text without the markers, so `Fal[redacted:T1]con` reads "Falcon";
 *   - the text without the markers and the whitespace around them, since a marker shows as a block
 *     that reads as a break anyway: `Fal [redacted:T1] con` reads "Falcon" too.
 * "The markers" are the ones it puts in (the agents' placeholders, its own), and also, each as another
 * reading, whatever looks like one: an unknown placeholder (`[redacted:T9]`, shown as written), the
 * innermost of nested ones, and what the chat shows as one (`MARKER`).
 * Its own markers split and join words just as well as the agents' ("Fal Acme Corp con" shows as
 * "Fal [redacted: Acme Corp] con"; "theAcme CorpF*lcon" shows "F*lcon" as a word), so after each round
 * it reads the new text again, until a round finds nothing new.
 * A match covers, in the raw text, everything from its first to its last character, so a placeholder or
 * marker inside it disappears into the new marker.
 *
 * With `live` the text may continue, and `stable` says how much of the result is final whatever follows
 * (see `settleBefore`; `AnswerGuard.settle` then checks that it also reads the same on its own).
 */
function analyze(clean: string, ctx: Context, live: boolean): { finalized: Finalized; stable: number } {
  const { index } = ctx;
  const limit = live ? openPlaceholderStart(clean) : clean.length;
  const text = limit < clean.length ? clean.slice(0, limit) : clean;
  const placeholders: Placeholder[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    placeholders.push({ start: m.index, end: m.index + m[0].length, target: ctx.known(m[1]!.toLowerCase()) });
  }

  const found: GuardMatch[] = [];
  const rounds: Round[] = [];
  let guarded: Span[] = [];
  let capped: number | undefined;
  for (;;) {
    if (rounds.length > MAX_ROUNDS) {
      // Names nested this deep inside one another are no answer: from the first match that still grew
      // in the last round, and the text before it that could still be part of such a nest, all goes.
      const previous = mergeOverlaps(found.slice(0, rounds[rounds.length - 1]!.foundBefore));
      const grew = guarded.find((g) => !previous.some((p) => p.start === g.start && p.end === g.end)) ?? guarded[0]!;
      capped = settleBefore(index, rounds.slice(1), grew.start);
      const winner = mergeOverlaps(found).find((m) => m.start === grew.start) ?? found[0]!;
      found.push({ ...winner, start: capped, end: text.length });
      break;
    }
    const round = readRound(text, build(text, placeholders, found, ctx), index, live, found);
    rounds.push(round);
    const next = mergeOverlaps(found);
    if (sameSpans(next, guarded)) break;
    guarded = next;
  }

  let stable = capped ?? text.length;
  if (live) {
    // The first round's text has no guard markers, so only a placeholder still to come cuts it.
    const first = rounds[0]!;
    for (const r of first.readings) stable = Math.min(stable, first.rawAt(settleReading(index, first.out.text, r, first.out.text.length)));
    // A match still to come starts at `stable` or after it and puts a marker there; every later round
    // reads that marker (with no match yet, the text as in the first round, with the marker in it).
    // Should the chain of matches that might still form reach far back (text made of masks and symbols),
    // nothing is settled yet: holding back is safe, and a chain followed to its end costs quadratic time.
    stable = settleBefore(index, rounds.length > 1 ? rounds.slice(1) : rounds, stable, text.length - MAX_CHAIN * index.holdBack);
  }
  return { finalized: build(text, placeholders, found, ctx), stable: live ? stable : clean.length };
}

/** How many `holdBack`s back a live text's settling follows a chain of matches that might still form. */
const MAX_CHAIN = 1;

/** Rounds of reading the text again with the guard's new markers in it; deeper nesting is cut off. */
const MAX_ROUNDS = 16;

/** One round: the text as it would be shown after it, and its readings, for settling. */
interface Round {
  readonly out: Finalized;
  /** For a character of `out.text`, where its raw span starts (a marker's, or its own). */
  readonly rawAt: (outOffset: number) => number;
  readonly readings: readonly ShownReading[];
  /** How many matches were found before this round. */
  readonly foundBefore: number;
}

interface ShownReading {
  /** The markers taken out (in the shown text); the pieces between them were read on their own. */
  readonly removed: readonly Span[];
  readonly joined: View;
  readonly eaten: View | undefined;
}

/** Reads `out` (the text as shown) every way, adding what it finds, in raw offsets, to `found`. */
function readRound(text: string, out: Finalized, index: TargetIndex, live: boolean, found: GuardMatch[]): Round {
  const foundBefore = found.length;
  const shown = out.text;
  // For each character shown, the raw span it stands for: its own, or its marker's.
  const lo = new Int32Array(shown.length);
  const hi = new Int32Array(shown.length);
  let o = 0;
  let r = 0;
  for (const s of out.spans) {
    for (; r < s.rawStart; r++, o++) {
      lo[o] = r;
      hi[o] = r + 1;
    }
    for (; o < s.outEnd; o++) {
      lo[o] = s.rawStart;
      hi[o] = s.rawEnd;
    }
    r = s.rawEnd;
  }
  for (; o < shown.length; r++, o++) {
    lo[o] = r;
    hi[o] = r + 1;
  }
  const rawAt = (at: number) => (at < shown.length ? lo[at]! : text.length);
  const scan = (view: View) => {
    for (const m of index.find(view.text)) found.push({ ...m, start: lo[view.map[m.start]!]!, end: hi[view.map[m.end - 1]!]! });
  };

  const ours: Span[] = out.spans.map((s) => ({ start: s.outStart, end: s.outEnd }));
  const variants: Span[][] = [ours];
  for (const pattern of [PLACEHOLDER, INNER_PLACEHOLDER, MARKER]) {
    const spans: Span[] = [];
    for (const m of shown.matchAll(pattern)) spans.push({ start: m.index, end: m.index + m[0].length });
    const variant = unionSpans(ours, spans);
    if (!variants.some((v) => sameSpans(v, variant))) variants.push(variant);
  }
  const readings: ShownReading[] = [];
  for (const removed of variants) {
    let from = 0;
    for (const s of [...removed, { start: shown.length, end: shown.length }]) {
      if (s.start > from) scan(identityView(shown.slice(from, s.start), from));
      from = s.end;
    }
    const spaced = removed.some((s) => SPACE.test(shown[s.start - 1] ?? '') || SPACE.test(shown[s.end] ?? ''));
    const joined = removed.length > 0 ? buildView(shown, removed, false) : identityView(shown, 0);
    if (removed.length > 0) scan(joined);
    // Without whitespace next to a marker this reading is the one above; while the text grows it is still
    // settled, as the whitespace it ends with would go if a marker came next.
    const eaten = spaced || live ? buildView(shown, removed, true) : undefined;
    if (spaced) scan(eaten!);
    readings.push({ removed, joined, eaten });
  }
  return { out, rawAt, readings, foundBefore };
}

/**
 * The raw offset before which the rounds' readings are final when a new marker (a match still to come)
 * may appear at raw offset `upTo` or later. Each time a reading says less is final, a match may start
 * there too, so they are asked again from there. A `[redacted:` not yet closed before it could also
 * still close over the new marker into something shown as one.
 */
function settleBefore(index: TargetIndex, rounds: readonly Round[], upTo: number, giveUpBelow = -1): number {
  let stable = upTo;
  for (let moved = true; moved;) {
    if (stable < giveUpBelow) return 0;
    moved = false;
    for (const round of rounds) {
      const at = outOffset(round.out, stable);
      let s = round.rawAt(openPlaceholderStart(round.out.text, at));
      for (const r of round.readings) s = Math.min(s, round.rawAt(settleReading(index, round.out.text, r, at)));
      if (s < stable) {
        stable = s;
        moved = true;
      }
    }
  }
  return stable;
}

/** The offset of `shown` before which a reading is final when a marker may appear at `upTo` or later. */
function settleReading(index: TargetIndex, shown: string, r: ShownReading, upTo: number): number {
  let stable = Math.min(settleView(index, r.joined, upTo, false), r.eaten ? settleView(index, r.eaten, upTo, true) : upTo);
  // The piece `upTo` falls in; one that ends before it is closed by the marker after it.
  let from = 0;
  for (const s of r.removed) {
    if (s.start >= upTo) break;
    from = s.end;
  }
  if (from <= upTo) {
    // Only its last `2 × holdBack` characters can matter (see `settleView`).
    if (upTo - from > 2 * index.holdBack) from = upTo - 2 * index.holdBack;
    stable = Math.min(stable, settleView(index, identityView(shown.slice(from, upTo), from), upTo, false));
  }
  return stable;
}

function sameSpans(a: readonly Span[], b: readonly Span[]): boolean {
  return a.length === b.length && a.every((s, i) => s.start === b[i]!.start && s.end === b[i]!.end);
}

/**
 * For a view of a text that may continue, the offset in the text before which the view's matches are
 * final: the index's `stableEnd` of the view's characters before `upTo` (or all but `holdBack` of them,
 * whichever is more). Something taken out at `upTo` or later (a marker still to come) makes what follows
 * it come right after those characters, so they are judged as a text that may go on with anything; with
 * `eatSpace` the whitespace they end with would go too, so they are judged without it.
 * Only the last `2 × holdBack` characters are read: nothing older can change.
 */
function settleView(index: TargetIndex, view: View, upTo: number, eatSpace: boolean): number {
  const below = lowerBound(view.map, upTo);
  let n = below;
  if (eatSpace) while (n > 0 && SPACE.test(view.text[n - 1]!)) n--;
  const from = Math.max(0, n - 2 * index.holdBack);
  const window = view.text.slice(from, n);
  const s = Math.min(n, Math.max(n - index.holdBack, from + (index.stableEnd?.(window) ?? 0), 0));
  // Whitespace after final text is final too: a match after it starts after it (no match starts with one).
  return s < n ? view.map[s]! : upTo;
}

function identityView(text: string, offset: number): View {
  const map = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) map[i] = offset + i;
  return { text, map };
}

/** Sorted, disjoint spans covering both lists. */
function unionSpans(a: readonly Span[], b: readonly Span[]): Span[] {
  const all = [...a, ...b].sort((x, y) => x.start - y.start);
  const out: Span[] = [];
  for (const s of all) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, s.end) };
    else out.push({ start: s.start, end: s.end });
  }
  return out;
}

/** Known placeholders become the agents' markers, the guard's matches its own; a match swallows any placeholder inside it. */
function build(text: string, placeholders: readonly Placeholder[], found: GuardMatch[], ctx: Context): Finalized {
  const { index } = ctx;
  const replacements: Replacement[] = [];
  const known = placeholders.filter((p) => p.target);
  let k = 0;
  for (const merged of mergeOverlaps(found)) {
    let { start, end } = merged;
    // A view's match starts and ends outside every placeholder; should one still cut into it, it goes too.
    for (const p of known) {
      if (p.start < end && p.end > start) {
        start = Math.min(start, p.start);
        end = Math.max(end, p.end);
      }
    }
    const target = index.byId(merged.targetId);
    const split = placeholders.some((p) => p.start >= start && p.end <= end);
    replacements.push({
      start,
      end,
      targetId: merged.targetId,
      targetName: target?.name ?? merged.term,
      reason: `the guard found it: ${guardReason(merged, target?.name)}${split ? ', split by a placeholder' : ''}`,
      by: 'guard',
      kind: merged.kind,
    });
  }
  replacements.sort((a, b) => a.start - b.start);
  // Widening cannot make two of them overlap either; if it did, they would become one.
  const guarded: Replacement[] = [];
  for (const r of replacements) {
    const last = guarded[guarded.length - 1];
    if (last && r.start < last.end) guarded[guarded.length - 1] = { ...last, end: Math.max(last.end, r.end) };
    else guarded.push(r);
  }
  replacements.length = 0;
  replacements.push(...guarded);
  for (const p of known) {
    while (k < guarded.length && guarded[k]!.end <= p.start) k++;
    if (k < guarded.length && guarded[k]!.start < p.end) continue; // swallowed by the guard's marker
    replacements.push({
      start: p.start,
      end: p.end,
      targetId: p.target!.id,
      targetName: p.target!.name,
      reason: ctx.agentReason(p.target!.id),
      by: 'agents',
    });
  }
  replacements.sort((a, b) => a.start - b.start);

  let out = '';
  let cursor = 0;
  const redactions: Redaction[] = [];
  const spans: Finalized['spans'][number][] = [];
  for (const r of replacements) {
    if (r.start < cursor) continue; // cannot happen: merged matches and placeholders do not overlap
    out += text.slice(cursor, r.start);
    const outStart = out.length;
    out += redactionMarker(r.targetName);
    redactions.push({
      targetId: r.targetId,
      targetName: r.targetName,
      start: outStart,
      end: out.length,
      reason: r.reason,
      by: r.by,
      ...(r.kind ? { kind: r.kind } : {}),
    });
    spans.push({ rawStart: r.start, rawEnd: r.end, outStart, outEnd: out.length });
    cursor = r.end;
  }
  out += text.slice(cursor);
  return { text: out, redactions, guardMatches: redactions.filter((r) => r.by === 'guard').length, spans };
}

/**
 * The text without the removed spans and, with `eatSpace`, without the whitespace around each of them.
 */
function buildView(text: string, removed: readonly Span[], eatSpace: boolean): View {
  const map = new Int32Array(text.length);
  let out = '';
  let n = 0;
  const segment = (from: number, to: number, afterPlaceholder: boolean, beforePlaceholder: boolean) => {
    if (eatSpace) {
      if (afterPlaceholder) while (from < to && SPACE.test(text[from]!)) from++;
      if (beforePlaceholder) while (to > from && SPACE.test(text[to - 1]!)) to--;
    }
    if (to <= from) return;
    out += text.slice(from, to);
    for (let i = from; i < to; i++) map[n++] = i;
  };
  let cursor = 0;
  for (const r of removed) {
    segment(cursor, r.start, cursor > 0, true);
    cursor = r.end;
  }
  segment(cursor, text.length, cursor > 0, false);
  return { text: out, map: map.subarray(0, n) };
}

/** Where raw offset `rawOffset` lands in the finalized text; inside a replaced span, at the span's start. */
export function outOffset(done: Finalized, rawOffset: number): number {
  let shift = 0;
  for (const s of done.spans) {
    if (s.rawEnd <= rawOffset) shift = s.outEnd - s.rawEnd;
    else if (s.rawStart < rawOffset) return s.outStart;
    else break;
  }
  return rawOffset + shift;
}
