/**
 * Other ways to read a text, each a new text with a map back to the original: markup that renders as one
 * word, multi-character leetspeak, and one-step encodings a reader (or the next model) decodes at once
 * (base64, base32, hex, ROT13, spelling alphabets, Morse, words written backwards). The index folds and
 * scans each reading like the text itself and maps a match back to the whole run it came from, so the
 * marker covers what the reader would decode.
 *
 * Every reading is prefix-stable: reading more of a text never changes how its earlier part reads, except
 * for a run still open at the end (`openFrom`), which a stream holds back.
 */

import { base32Reading, base64Reading, binaryReading, decimalReading, escapeReading, hexReading } from './byteReadings';
import type { Folded } from './folding';
import type { IndexedTerms } from './indexedTerms';
import { FAMILY_READINGS } from './letterFamilies';
import { morseReading, rot13Reading, spellingReading, wordsBackwardsReading } from './letterReadings';
import { ReadingBuilder, type TextReading } from './readingBuilder';

export type { TextReading } from './readingBuilder';

/** Longest inline HTML tag (or comment) taken out of a word. */
const TAG = /<\/?[A-Za-z][A-Za-z0-9-]{0,15}(?:\s[^<>\n]{0,80})?\/?>|<!--[^]{0,80}?-->/y;
/** A markdown link's middle and the next one's start: `](url)` and `[`. */
const LINK_MIDDLE = /\]\([^()\s]{0,200}\)/y;
/** A line broken with a hyphen: `-`, the line break, the next line's indentation. */
const HYPHEN_BREAK = /-[ \t]*\r?\n[ \t>]*/y;

/**
 * The text as markup renders it: inline HTML tags, markdown link edges (`[Fal](a)[con](b)`) and
 * hyphenated line breaks taken out, so the letters around them join. Undefined when there is none.
 */
function markupReading(text: string): TextReading | undefined {
  if (!/<[A-Za-z/!]|\]\(|-[ \t]*\r?\n/.test(text)) return undefined;
  const b = new ReadingBuilder(text.length);
  let open = text.length;
  // Runs between markup are copied whole; only `<`, `]`, `-` and `[` need a look.
  const special = /[<\]\-[]/g;
  let kept = 0;
  for (let m = special.exec(text); m; m = special.exec(text)) {
    const i = m.index;
    const c = text.charCodeAt(i);
    let skip = 0;
    if (c === 0x3c) {
      TAG.lastIndex = i;
      skip = TAG.exec(text)?.[0].length ?? 0;
      if (!skip && text.indexOf('>', i) < 0 && text.length - i < 100) open = Math.min(open, i);
    } else if (c === 0x5d) {
      LINK_MIDDLE.lastIndex = i;
      skip = LINK_MIDDLE.exec(text)?.[0].length ?? 0;
      if (!skip && text.indexOf(')', i) < 0 && text.length - i < 210) open = Math.min(open, i);
    } else if (c === 0x2d) {
      HYPHEN_BREAK.lastIndex = i;
      skip = HYPHEN_BREAK.exec(text)?.[0].length ?? 0;
      if (!skip && text.length - i < 3) open = Math.min(open, i);
    } else skip = 1; // `[`: a link's opening bracket renders as nothing
    if (!skip) continue;
    b.copy(text, kept, i);
    kept = i + skip;
    special.lastIndex = kept;
  }
  b.copy(text, kept, text.length);
  return b.reading('markup', open, { plainOnly: false }, text.length);
}

/** Multi-character leetspeak: each sequence stands for one letter. Longest first. */
const MULTI_LEET: readonly [string, string][] = (
  [
    ['|\\/|', 'm'],
    ['/\\/\\', 'm'],
    ['|\\|', 'n'],
    ['/\\/', 'n'],
    ['\\/\\/', 'w'],
    ['\\^/', 'w'],
    ['|_|', 'u'],
    ['(_)', 'u'],
    ['|-|', 'h'],
    [']-[', 'h'],
    ['}{', 'h'],
    ['><', 'x'],
    ['|=', 'f'],
    ['|_', 'l'],
    ['|<', 'k'],
    ['|{', 'k'],
    ['|2', 'r'],
    ['|3', 'b'],
    ['|)', 'd'],
    ['|>', 'p'],
    ['|*', 'p'],
    ['/\\', 'a'],
    ['\\/', 'v'],
    ['()', 'o'],
    ['[]', 'o'],
    ['_|', 'j'],
    ['(', 'c'],
    ['<', 'c'],
  ] as [string, string][]
).sort((x, y) => y[0].length - x[0].length);
const LEET_SYMBOLS = /[|/\\()[\]{}<>^]/;
/** Where a sequence may start. */
const LEET_START = new Set(MULTI_LEET.map(([seq]) => seq.charCodeAt(0)));
/** A token with a sequence of two or more characters in it (one alone, `(` or `<`, is punctuation). */
const MULTI_SEQUENCE = new RegExp(
  MULTI_LEET.filter(([seq]) => seq.length > 1)
    .map(([seq]) => seq.replace(/[|\\/()[\]{}<>^*]/g, '\\$&'))
    .join('|'),
);
/** Longest token (run without spaces) read as multi-character leet: code and ASCII art have longer runs. */
const MAX_LEET_TOKEN = 48;

/**
 * Each short token that holds a multi-character leet sequence (`|=/-\|_(0|\|`), with every sequence read
 * as its letter; single-character leet and letters stay for the folding. `(` and `<` count as c only in
 * a token with another sequence (a bracket alone is punctuation).
 */
function multiLeetReading(text: string): TextReading | undefined {
  if (!LEET_SYMBOLS.test(text)) return undefined;
  const b = new ReadingBuilder();
  let open = text.length;
  for (const m of text.matchAll(/\S+/g)) {
    const token = m[0];
    const at = m.index;
    if (token.length > MAX_LEET_TOKEN || !LEET_SYMBOLS.test(token)) continue;
    if (at + token.length === text.length) open = Math.min(open, at);
    if (!MULTI_SEQUENCE.test(token)) continue;
    const out = new ReadingBuilder(token.length);
    let plain = 0;
    for (let i = 0; i < token.length;) {
      const hit = LEET_START.has(token.charCodeAt(i)) ? MULTI_LEET.find(([seq]) => token.startsWith(seq, i)) : undefined;
      if (!hit) {
        i++;
        continue;
      }
      out.copy(text, at + plain, at + i);
      out.add(hit[1], at + i, at + i + hit[0].length);
      i += hit[0].length;
      plain = i;
    }
    out.copy(text, at + plain, at + token.length);
    b.gap(at);
    b.append(out);
    b.gap(at + token.length);
  }
  return b.reading('leet', open, { plainOnly: false }, text.length);
}

/** Every reading, in a fixed order; `live` when the text may continue. */
export const READINGS: readonly ((text: string, live: boolean, folded: Folded, terms: IndexedTerms) => TextReading | undefined)[] = [
  markupReading,
  multiLeetReading,
  base64Reading,
  base32Reading,
  hexReading,
  escapeReading,
  binaryReading,
  decimalReading,
  rot13Reading,
  spellingReading,
  morseReading,
  wordsBackwardsReading,
  // The letter-transform families (letterFamilies.ts): shifts and mirrors, positions, repeats, syllable
  // games, Unicode letter blocks, one letter per line.
  ...FAMILY_READINGS,
];
