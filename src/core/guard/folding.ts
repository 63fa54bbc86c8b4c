/** Folds a text into compact characters (foldForMatch) and owns the buffers that hold them. */
import { isExplicitBidiControl, isParagraphEnd, nextBidi, rloOf, type BidiState } from './bidi';
import { asciiFolds, Cls, foldOf, type CodePointFold } from './codePoints';
import { decodeAt, decoded, Dec } from './decoding';
import { F_IGN, F_MARKUP, F_PLAIN_SEP, F_SEP } from './foldFlags';

/**
 * Folding for the leak guard. Every code point of a text becomes zero or more "compact characters":
 * letters and digits after NFKC, accent stripping, lower-casing and confusable mapping, plus the
 * symbols that can stand for letters (leetspeak, masks). Separators (spaces, punctuation) and
 * invisible characters (zero-width characters, control characters, ANSI escape sequences) become flags
 * on the next compact character, so a matcher can see both the letters and how they were split.
 * Encodings that render as one character (HTML entities, percent-encoded UTF-8) are decoded first.
 * Every compact character keeps its UTF-16 span in the original, so a match covers the encoded run.
 */

/** A text folded into compact characters. Arrays may be longer than `length`; only [0, length) is valid. */
export interface Folded {
  length: number;
  raw: Int32Array;
  skeleton: Int32Array;
  opts: Int32Array;
  flags: Uint16Array;
  /** Original UTF-16 start of the code point (or encoded sequence) this character came from. */
  start: Int32Array;
  /** Original UTF-16 end, including trailing combining marks. */
  end: Int32Array;
  /** Every flag that occurs in [0, length), or-ed together. */
  summary: number;
  /**
   * `F_PLAIN_SEP` when a plain separator (space, punctuation) follows the last character: whatever comes
   * next, it starts a new word. 0 when unknown (views other than the folding and its rendering).
   */
  trailing: number;
}

export function allocFolded(capacity: number): Folded {
  return {
    length: 0,
    raw: new Int32Array(capacity),
    skeleton: new Int32Array(capacity),
    opts: new Int32Array(capacity),
    flags: new Uint16Array(capacity),
    start: new Int32Array(capacity),
    end: new Int32Array(capacity),
    summary: 0,
    trailing: 0,
  };
}

export function grow(f: Folded, min: number): Folded {
  const g = allocFolded(Math.max(min, f.raw.length * 2));
  copyInto(g, f, f.raw.length);
  g.summary = f.summary;
  return g;
}

/** Copies the first `n` compact characters of `f` into `out` (large enough), and `f`'s length. */
function copyInto(out: Folded, f: Folded, n: number): void {
  out.raw.set(f.raw.subarray(0, n));
  out.skeleton.set(f.skeleton.subarray(0, n));
  out.opts.set(f.opts.subarray(0, n));
  out.flags.set(f.flags.subarray(0, n));
  out.start.set(f.start.subarray(0, n));
  out.end.set(f.end.subarray(0, n));
  out.length = f.length;
}

/** `scratch`, grown to hold `f`, holding a copy of it: the start of a view that changes some characters. */
export function copyOf(scratch: Folded, f: Folded): Folded {
  const out = scratch.raw.length < f.length + 4 ? allocFolded(Math.max(f.length + 4, scratch.raw.length * 2)) : scratch;
  copyInto(out, f, f.length);
  out.summary = f.summary;
  out.trailing = f.trailing;
  return out;
}

// Scratch buffers reused by every scan: scans are synchronous, and reuse keeps a 256 KB scan from
// allocating fresh arrays each time. One for the text as written (the views keep their own, in views.ts).
let scratch = allocFolded(1024);
/** For the other readings (decoded, markup): each is folded, scanned and dropped in turn. */
let scratchReading = allocFolded(1024);

/**
 * Folds `text` into compact characters. With `reuse`, the result lives in a shared buffer that the
 * next call overwrites; callers that keep the result must pass `reuse = false`. `bidi` is the bidi
 * state before the text (for a text that continues an earlier one).
 */
export function foldForMatch(text: string, reuse: boolean | 'reading' = true, bidi: BidiState = ''): Folded {
  let out = reuse === 'reading' ? scratchReading : reuse ? scratch : allocFolded(text.length + 4);
  if (out.raw.length < text.length + 4) out = grow(out, text.length + 4);
  let n = 0;
  let pending = F_SEP; // the start of the text counts as a separator
  let summary = 0;
  let state = bidi;
  let rlo = rloOf(state);
  const len = text.length;
  for (let i = 0; i < len;) {
    let cp = text.charCodeAt(i);
    let width = 1;
    let fold: CodePointFold;
    if (cp === 0x26 || cp === 0x25 || cp === 0x1b || cp === 0x9b) {
      const d = decodeAt(text, i, cp);
      if (d === Dec.Invisible || d === Dec.Separator) {
        pending |= d === Dec.Invisible ? F_IGN : F_SEP | F_PLAIN_SEP;
        i += decoded.len;
        continue;
      }
      if (d === Dec.Char) {
        cp = decoded.cp;
        width = decoded.len;
      }
    } else if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        width = 2;
      }
    }
    if (cp < 128) fold = asciiFolds[cp]!;
    else {
      if (isExplicitBidiControl(cp) || isParagraphEnd(cp)) {
        state = nextBidi(state, cp);
        rlo = rloOf(state);
      }
      fold = foldOf(cp);
    }
    switch (fold.cls) {
      case Cls.Compact: {
        const chars = fold.chars;
        if (n + chars.length > out.raw.length) out = grow(out, n + chars.length + 16);
        for (let k = 0; k < chars.length; k++) {
          const c = chars[k]!;
          const flags = c.flags | rlo | (k === 0 ? pending : 0);
          out.raw[n] = c.raw;
          out.skeleton[n] = c.skeleton;
          out.opts[n] = c.opts;
          out.flags[n] = flags;
          out.start[n] = i;
          out.end[n] = i + width;
          summary |= flags;
          n++;
        }
        pending = 0;
        break;
      }
      case Cls.Mark:
        // A combining mark belongs to the character before it (stripped for matching, kept in the span).
        if (n > 0 && out.end[n - 1] === i) {
          for (let k = n - 1; k >= 0 && out.start[k] === out.start[n - 1]; k--) out.end[k] = i + width;
        } else pending |= F_IGN;
        break;
      case Cls.Ignorable:
        pending |= F_IGN;
        break;
      case Cls.Separator:
        if (cp < 128 && isParagraphEnd(cp) && state !== '') {
          state = '';
          rlo = 0;
        }
        // ~ and ` are markdown delimiters (strikethrough, code): the rendered view may drop them.
        pending |= width === 1 && (cp === 0x7e || cp === 0x60) ? F_SEP | F_MARKUP : F_SEP | F_PLAIN_SEP;
        break;
    }
    i += width;
  }
  out.length = n;
  out.summary = summary;
  out.trailing = pending & F_PLAIN_SEP;
  if (reuse === 'reading') scratchReading = out;
  else if (reuse) scratch = out;
  return out;
}
