/** Other views of a folded text: as rendered, backwards, upside down, ROT13, and its words backwards. */

import { asciiFolds, bit, isAsciiLetter, MARK, skeletonOfLetter, upsideDownLetter, type FoldedChar } from './codePoints';
import { F_IGN, F_LOWER, F_MARKUP, F_PLAIN_SEP, F_RLO, F_SEP, F_SYMBOL, F_UPPER, GAP_FLAGS } from './foldFlags';
import { allocFolded, copyOf, grow, type Folded } from './folding';

// Scratch buffers for the views, reused like the folding's own (see folding.ts): one per view, since a
// scan holds several views at once.
let scratchRendered = allocFolded(1024);
let scratchReversed = allocFolded(1024);
let scratchUpsideDown = allocFolded(1024);
let scratchRot13 = allocFolded(1024);
let scratchWords = allocFolded(1024);

/** Longest run of markdown delimiters between two letters that still reads as emphasis, not as a separator. */
const MAX_MARKUP_RUN = 3;

/**
 * The text as a markdown or URL renderer shows it, derived from its folding: symbols read as what they
 * are, not as leetspeak or masks. Inside a word, runs of emphasis delimiters (`*`, `__`, `~~`, `` ` ``)
 * disappear (`Fa**lc**on` renders as "Falcon"); elsewhere, and for a single `_` (snake_case) or `+`
 * (a URL's space), a symbol is a separator. Undefined when the text has no symbol, so the view would
 * equal the folding. The result lives in a shared buffer.
 */
export function renderedView(f: Folded): Folded | undefined {
  if (!(f.summary & (F_SYMBOL | F_MARKUP))) return undefined;
  let out = scratchRendered;
  if (out.raw.length < f.length + 4) out = grow(out, f.length + 4);
  let n = 0;
  let summary = 0;
  let gap = 0; // gap flags gathered since the last letter kept
  let markup = 0; // markdown delimiters in that gap
  let separated = false; // a symbol in that gap reads as a separator
  for (let k = 0; k < f.length; k++) {
    const flags = f.flags[k]!;
    gap |= flags & GAP_FLAGS;
    if (flags & F_MARKUP) markup++;
    if (flags & F_SYMBOL) {
      const r = f.raw[k]!;
      const joined = k + 1 < f.length && f.raw[k + 1] === r && !(f.flags[k + 1]! & GAP_FLAGS);
      const afterSame = k > 0 && f.raw[k - 1] === r && !(flags & GAP_FLAGS);
      // `*` is emphasis anywhere in a word; `_` only doubled (a single one joins snake_case words).
      if (r === 0x2a || (r === 0x5f && (joined || afterSame))) markup++;
      else separated = true;
      continue;
    }
    let g = gap & (F_SEP | F_IGN);
    if (separated || gap & F_PLAIN_SEP || n === 0) {
      if (separated || markup > 0) g |= F_SEP;
    } else if (markup > 0) {
      // Only delimiters between two letters: emphasis inside a word, invisible when rendered.
      g = (g & ~F_SEP) | (markup <= MAX_MARKUP_RUN ? F_IGN : F_SEP);
    }
    const own = (flags & ~GAP_FLAGS) | g;
    out.raw[n] = f.raw[k]!;
    out.skeleton[n] = f.skeleton[k]!;
    out.opts[n] = f.opts[k]!;
    out.flags[n] = own;
    out.start[n] = f.start[k]!;
    out.end[n] = f.end[k]!;
    summary |= own;
    n++;
    gap = 0;
    markup = 0;
    separated = false;
  }
  out.length = n;
  out.summary = summary;
  // Emphasis delimiters at the end may still close around more letters; a plain separator may not.
  out.trailing = separated || (gap | f.trailing) & F_PLAIN_SEP ? F_PLAIN_SEP : 0;
  scratchRendered = out;
  return out;
}

/**
 * The folding read backwards, for names written in reverse (or shown in reverse by a bidi override).
 * Gap flags move with the gap (the edge of a right-to-left override is a separator); `start` is negated
 * so that differences between neighbours still measure the original distance. Compact character k of the result is character `length - 1 - k` of `f`.
 * Case flags are dropped (camel-case boundaries do not read backwards). The result lives in a shared buffer.
 */
export function reversedView(f: Folded): Folded {
  let out = scratchReversed;
  const len = f.length;
  if (out.raw.length < len + 4) out = grow(out, len + 4);
  for (let k = 0; k < len; k++) {
    const j = len - 1 - k;
    out.raw[k] = f.raw[j]!;
    out.skeleton[k] = f.skeleton[j]!;
    out.opts[k] = f.opts[j]!;
    // Where a right-to-left override starts or ends, the display order breaks: a word boundary.
    const gap = k === 0 ? F_SEP : (f.flags[j + 1]! & GAP_FLAGS) | ((f.flags[j]! ^ f.flags[j + 1]!) & F_RLO ? F_SEP : 0);
    out.flags[k] = (f.flags[j]! & ~(GAP_FLAGS | F_UPPER | F_LOWER)) | gap;
    out.start[k] = -f.start[j]!;
    out.end[k] = out.start[k]! + (f.end[j]! - f.start[j]!);
  }
  out.length = len;
  out.summary = f.summary & ~(F_UPPER | F_LOWER);
  scratchReversed = out;
  return out;
}

/**
 * The text as read when turned upside down: backwards, each letter read as its turned form ("ɐ" a,
 * "ɔ" c, "u" n, "q" b). Built from the backwards view; `text` gives each character's code point. Only
 * worth building when the text has a turned letter (`F_TURNED`). The result lives in a shared buffer.
 */
export function upsideDownView(f: Folded, text: string): Folded {
  const r = reversedView(f);
  let out = scratchUpsideDown;
  if (out.raw.length < r.length + 4) out = grow(out, r.length + 4);
  for (let k = 0; k < r.length; k++) {
    const raw = r.raw[k]!;
    const letter = isAsciiLetter(raw) ? upsideDownLetter(text.codePointAt(-r.start[k]!) ?? raw, raw) : raw;
    out.raw[k] = letter;
    out.skeleton[k] = letter === raw ? r.skeleton[k]! : skeletonOfLetter(letter);
    out.opts[k] = letter === raw ? r.opts[k]! : bit(String.fromCharCode(letter));
    out.flags[k] = r.flags[k]!;
    out.start[k] = r.start[k]!;
    out.end[k] = r.end[k]!;
  }
  out.length = r.length;
  out.summary = r.summary;
  scratchUpsideDown = out;
  return out;
}

/** The letter 13 places on (ROT13) of an ASCII letter code, case kept; other codes as they are. */
function rot13(c: number): number {
  if (c >= 0x61 && c <= 0x7a) return ((c - 0x61 + 13) % 26) + 0x61;
  if (c >= 0x41 && c <= 0x5a) return ((c - 0x41 + 13) % 26) + 0x41;
  return c;
}

/**
 * The folding of the text read through ROT13, derived from its folding rather than folded again: every
 * compact character that an ASCII letter of the text stands for becomes the folding of the letter 13
 * places on; everything else (digits, symbols, other scripts, decoded entities) stays. Positions and gaps
 * are the text's own. The result lives in a shared buffer.
 */
export function rot13View(f: Folded, text: string): Folded {
  const out = (scratchRot13 = copyOf(scratchRot13, f));
  const n = f.length;
  const { raw, skeleton, opts, flags } = out;
  const start = f.start;
  let summary = f.summary;
  for (let k = 0; k < n; k++) {
    const c = text.charCodeAt(start[k]!);
    const r = rot13(c);
    if (r === c) continue;
    const ch = ROT13_FOLDS[r]!;
    raw[k] = ch.raw;
    skeleton[k] = ch.skeleton;
    opts[k] = ch.opts;
    const fl = (flags[k]! & (GAP_FLAGS | F_RLO)) | ch.flags;
    flags[k] = fl;
    summary |= fl;
  }
  out.summary = summary;
  return out;
}

/** The folding of each ASCII code as one compact character (letters only are looked up). */
const ROT13_FOLDS: readonly FoldedChar[] = asciiFolds.map((f) => f.chars[0] ?? { raw: 0, skeleton: 0, opts: 0, flags: 0 });

const LETTER = /^\p{L}$/u;

/** The code point at `i` of `text` is a letter. */
function letterAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c < 0x80 ? ((c | 0x20) - 0x61) >>> 0 < 26 : otherLetterAt(text, i);
}

function otherLetterAt(text: string, i: number): boolean {
  return LETTER.test(String.fromCodePoint(text.codePointAt(i)!));
}

/**
 * The whole words (runs of letters, with their combining marks) that `[from, to)` of `text` lies in or
 * touches: a match read from words written backwards covers the words it was read from.
 */
export function wordsAround(text: string, from: number, to: number): [number, number] {
  while (
    from > 0 &&
    (letterAt(text, from - 1) ||
      (from > 1 && text.charCodeAt(from - 1) >= 0xdc00 && text.charCodeAt(from - 1) <= 0xdfff && letterAt(text, from - 2)))
  )
    from--;
  while (to < text.length && (letterAt(text, to) || MARK.test(text[to]!))) to++;
  return [from, to];
}

/**
 * The folding of the text with every word (letters written together) turned around in place
 * ("tcejorP noclaF" reads "Project Falcon"), derived from its folding. Letters move; positions and gaps
 * stay the text's own, so the usual word checks apply (`wordsAround` gives what a match covers). With
 * `live`, a last word that more text may still lengthen is left out, and `openFrom` says where it starts
 * (`text.length` when none). The view lives in a shared buffer.
 */
export function wordsBackwardsView(f: Folded, text: string, live: boolean): { view: Folded; openFrom: number } {
  // Letters only move within their word, and gaps stay: the copy's summary holds.
  const out = (scratchWords = copyOf(scratchWords, f));
  let n = f.length;
  const { raw, skeleton, opts, flags, start, end } = f;
  const { raw: toRaw, skeleton: toSkeleton, opts: toOpts, flags: toFlags } = out;
  let openFrom = text.length;
  for (let k = 0; k < n;) {
    if (!letterAt(text, start[k]!)) {
      k++;
      continue;
    }
    // The word: letters whose original characters touch (several compact characters may share one).
    let q = k + 1;
    let shared = false;
    for (; q < n; q++) {
      if (start[q] === start[q - 1]) shared = true;
      else if (start[q] !== end[q - 1] || !letterAt(text, start[q]!)) break;
    }
    if (live && q === n && end[q - 1] === text.length) {
      // It may still grow ("Falc" backwards is "claF", "Falcon" is "noclaF"): held back, left out.
      openFrom = start[k]!;
      out.trailing = flags[k]! & F_PLAIN_SEP;
      n = k;
      break;
    }
    if (!shared) {
      for (let j = q - 1, m = k; j >= k; j--, m++) {
        toRaw[m] = raw[j]!;
        toSkeleton[m] = skeleton[j]!;
        toOpts[m] = opts[j]!;
        toFlags[m] = (flags[j]! & ~GAP_FLAGS) | (flags[m]! & GAP_FLAGS);
      }
    } else {
      // Characters that came from one original character keep their order; those groups are reversed.
      let m = k;
      for (let g = q; g > k;) {
        let h = g - 1;
        while (h > k && start[h - 1] === start[g - 1]) h--;
        for (let j = h; j < g; j++, m++) {
          toRaw[m] = raw[j]!;
          toSkeleton[m] = skeleton[j]!;
          toOpts[m] = opts[j]!;
          toFlags[m] = (flags[j]! & ~GAP_FLAGS) | (flags[m]! & GAP_FLAGS);
        }
        g = h;
      }
    }
    k = q;
  }
  out.length = n;
  return { view: out, openFrom };
}
