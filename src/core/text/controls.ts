import { defuseTemplateTokens } from './templateTokens';
/**
 * Removes what could make untrusted text (model output) act on the place it is shown instead of being
 * read: ANSI/VT escape sequences (cursor moves, screen clears, window titles, hyperlinks), every other
 * C0 and C1 control character except tab and newline (a carriage return can overwrite a line in a
 * terminal and starts a new line in markdown), and the Unicode bidi controls that reorder text visually
 * (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), and invisible format characters that carry
 * text no reader sees: Unicode tag characters (U+E0000–U+E007F, "ASCII smuggling"), the supplementary
 * variation selectors, zero-width spaces, word joiners, fillers and every other default-ignorable code point
 * except the zero-width joiner and non-joiner and the variation selectors U+FE00–U+FE0F (emoji sequences
 * and scripts such as Persian need them to render right; the guard reads through them anyway).
 *
 * Pure and streaming: a sequence split across chunks is held back until it can be judged, so the output
 * does not depend on how the text was chunked. Shared by the CLI and the chat sanitizer.
 */

const ESC = 0x1b;
const BEL = 0x07;
/** C1 string terminator. */
const ST = 0x9c;
/** C1 CSI; the C1 string introducers are DCS, SOS, OSC, PM and APC. */
const CSI_C1 = 0x9b;
const STRING_C1 = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** After ESC: `[` opens a CSI; `]`, `P`, `X`, `^` and `_` open a string ended by BEL or ST. */
const CSI_7BIT = 0x5b;
const STRING_7BIT = new Set([0x5d, 0x50, 0x58, 0x5e, 0x5f]);
const BACKSLASH = 0x5c;

/** Longest CSI (parameters and intermediates) and control string waited for; longer ones are broken. */
const MAX_CSI = 64;
const MAX_STRING = 4096;

type Scan = { readonly kind: 'sequence'; readonly end: number } | { readonly kind: 'incomplete' } | { readonly kind: 'malformed' };

const INCOMPLETE: Scan = { kind: 'incomplete' };
const MALFORMED: Scan = { kind: 'malformed' };

/**
 * Every bidi formatting character: the marks (ALM, LRM, RLM) as well as the embedding, override and
 * isolate controls. (The guard's normalizer has its own, narrower check: only the controls whose nesting
 * it tracks.)
 */
export function isBidiFormatChar(code: number): boolean {
  return code === 0x061c || code === 0x200e || code === 0x200f || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
/** Invisible characters kept: the zero-width non-joiner and joiner, and the variation selectors of emoji and CJK. */
const KEEP_INVISIBLE = (code: number): boolean => code === 0x200c || code === 0x200d || (code >= 0xfe00 && code <= 0xfe0f);

/**
 * An invisible format character that carries nothing a reader sees: a default-ignorable code point
 * (tag characters, zero-width space, word joiner, soft hyphen, fillers, supplementary variation selectors…)
 * other than the few that shape visible text (`KEEP_INVISIBLE`). Bidi controls are checked apart.
 */
export function isInvisibleFormat(code: number): boolean {
  if (code < 0xad) return false;
  if (code >= 0xe0000 && code <= 0xe0fff) return true;
  return !KEEP_INVISIBLE(code) && DEFAULT_IGNORABLE.test(String.fromCodePoint(code));
}

/** C0 (but tab and newline), DEL and C1. */
export function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
}

export class ControlStripper {
  private held = '';

  /** The chunk without controls; the start of an escape sequence cut off at its end is kept for later. */
  push(chunk: string): string {
    const text = this.held + chunk;
    this.held = '';
    return this.strip(text, false);
  }

  /** What was held back: an unfinished sequence loses its introducer, the rest is text. */
  end(): string {
    const text = this.held;
    this.held = '';
    return this.strip(text, true);
  }

  private strip(text: string, final: boolean): string {
    let out = '';
    let kept = 0;
    let i = 0;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code >= 0xad && !isControl(code) && !isBidiFormatChar(code)) {
        const cp = text.codePointAt(i)!;
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 === text.length && !final) {
          // The first half of a pair: it may be a tag character.
          out += text.slice(kept, i);
          this.held = text.slice(i);
          return out;
        }
        const width = cp > 0xffff ? 2 : 1;
        if (isInvisibleFormat(cp)) {
          out += text.slice(kept, i);
          i += width;
          kept = i;
        } else i += width;
        continue;
      }
      if (!isControl(code) && !isBidiFormatChar(code)) {
        i++;
        continue;
      }
      out += text.slice(kept, i);
      const scan = code === ESC || code === CSI_C1 || STRING_C1.has(code) ? scanSequence(text, i) : MALFORMED;
      if (scan.kind === 'incomplete' && !final) {
        this.held = text.slice(i);
        return out;
      }
      // A malformed or unfinished sequence: only its introducer goes, what follows is ordinary text.
      i = scan.kind === 'sequence' ? scan.end : i + 1;
      kept = i;
    }
    return out + text.slice(kept);
  }
}

/** `text` without controls, all at once. */
export function stripControls(text: string): string {
  const s = new ControlStripper();
  return s.push(text) + s.end();
}

/**
 * What the user typed (a prompt, an earlier turn, a tool result), cleaned before any model reads it: the
 * same controls, escape sequences, bidi controls and invisible characters `stripControls` takes out of
 * model text (a prompt injection can ride on characters the user never saw, such as tag characters pasted
 * with a snippet), and chat-template control tokens written as text defused (`defuseTemplateTokens`).
 */
export function sanitizeUserText(text: string): string {
  return defuseTemplateTokens(stripControls(text));
}

function scanSequence(s: string, start: number): Scan {
  const code = s.charCodeAt(start);
  if (code === CSI_C1) return scanCsi(s, start, start + 1);
  if (code !== ESC) return scanString(s, start, start + 1);
  if (start + 1 >= s.length) return INCOMPLETE;
  const next = s.charCodeAt(start + 1);
  if (next === CSI_7BIT) return scanCsi(s, start, start + 2);
  if (STRING_7BIT.has(next)) return scanString(s, start, start + 2);
  // ESC, intermediates (0x20–0x2F), one final byte (0x30–0x7E): charset selection, reset, save cursor…
  let j = start + 1;
  while (j < s.length && j - start <= MAX_CSI && inRange(s.charCodeAt(j), 0x20, 0x2f)) j++;
  if (j - start > MAX_CSI) return MALFORMED;
  if (j >= s.length) return INCOMPLETE;
  return inRange(s.charCodeAt(j), 0x30, 0x7e) ? { kind: 'sequence', end: j + 1 } : MALFORMED;
}

/** Parameters (0x30–0x3F), intermediates (0x20–0x2F), a final byte (0x40–0x7E). */
function scanCsi(s: string, start: number, from: number): Scan {
  let j = from;
  while (j < s.length && j - start <= MAX_CSI && inRange(s.charCodeAt(j), 0x30, 0x3f)) j++;
  while (j < s.length && j - start <= MAX_CSI && inRange(s.charCodeAt(j), 0x20, 0x2f)) j++;
  if (j - start > MAX_CSI) return MALFORMED;
  if (j >= s.length) return INCOMPLETE;
  return inRange(s.charCodeAt(j), 0x40, 0x7e) ? { kind: 'sequence', end: j + 1 } : MALFORMED;
}

/** OSC, DCS, SOS, PM, APC: anything up to BEL, ESC \ or ST. */
function scanString(s: string, start: number, from: number): Scan {
  for (let j = from; j < s.length; j++) {
    if (j - start > MAX_STRING) return MALFORMED;
    const c = s.charCodeAt(j);
    if (c === BEL || c === ST) return { kind: 'sequence', end: j + 1 };
    if (c === ESC) {
      if (j + 1 >= s.length) return INCOMPLETE;
      return s.charCodeAt(j + 1) === BACKSLASH ? { kind: 'sequence', end: j + 2 } : MALFORMED;
    }
  }
  return INCOMPLETE;
}

function inRange(code: number, low: number, high: number): boolean {
  return code >= low && code <= high;
}
