/**
 * Letter-transform families: disguises that change how each letter of a name is written, read by the
 * guard as families rather than one class at a time. Each family is one description (a table of its
 * transforms); the same table gives the encoder (for the property tests and the docs) and the reading
 * the scan uses. A reading maps every character it produces back to the original span, like the other
 * readings (readings.ts), and its matches must spell the name plainly, as whole words.
 *
 * The families:
 *   - shift: every shift of the alphabet and its mirror (Caesar 1–25, Atbash, Atbash then a shift);
 *   - positions: letters written as their alphabet positions, from 1 or from 0, with any separator;
 *   - repeat: each letter doubled or tripled, or a filler (a character, or a short string) between letters;
 *   - syllable: word games that move or insert syllables (Pig Latin, ubbi dubbi and other infix games);
 *   - unicode: blocks that encode Latin letters (Braille, regional indicators, tags, enclosed, squared…);
 *   - layout: one letter per line, per table cell or per list item.
 *
 * Out of scope: encodings of several steps (a shift of base64), translations, and ciphers with a key
 * (Vigenère): the agents judge those by meaning, and an encoding request audits the answer.
 */

import { wordRank } from '../text';
import type { IndexedTerms } from './indexedTerms';
import { ReadingBuilder, type TextReading } from './readingBuilder';

// --- shared ---------------------------------------------------------------------------------------

const A = 0x61;
const isAsciiLetterCode = (c: number) => ((c | 0x20) - A) >>> 0 < 26;

/** A name's letters mapped one by one; case kept, anything else as it is. */
function mapLetters(s: string, f: (x: number) => number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAsciiLetterCode(c)) {
      out += s[i];
      continue;
    }
    const upper = c < A;
    const x = f((c | 0x20) - A);
    out += String.fromCharCode((upper ? 0x41 : A) + x);
  }
  return out;
}

const mod26 = (x: number) => ((x % 26) + 26) % 26;

/**
 * Shortest name a family reads. A shift turns any unknown word into 50 others: a name of five letters or
 * fewer would be met by chance in ordinary text. The other families change the text's shape as well,
 * which chance does not.
 */
const SHIFT_MIN_LETTERS = 6;
const SYLLABLE_MIN_LETTERS = 4;
const POSITIONS_MIN_LETTERS = 4;

/**
 * Words the guard reads through a transform: runs of ASCII letters (with apostrophes and hyphens
 * inside) that no English word list has. A transformed name is such a word; ordinary prose is not, so
 * most of a text is never transformed at all (what keeps 51 shifts cheap, and precise).
 */
const WORD = /[A-Za-z]+(?:['’-][A-Za-z]+)*/g;

/** Longest word a transformed name's word can be. */
const MAX_WORD = 32;

function unknownWord(w: string): boolean {
  return w.length >= 2 && wordRank(w) === undefined;
}

/**
 * Runs of unknown words (at least `minLetters` letters each) separated by spaces or light punctuation:
 * where a transformed name of one or more words can be. `[start, end)` offsets into the text.
 */
function unknownRuns(text: string, minLetters = 2): { start: number; end: number }[] {
  // Several readings ask for the same text's runs in one scan: the last answer is kept.
  if (runsCache?.text !== text) runsCache = { text, byMin: new Map() };
  const cached = runsCache.byMin.get(minLetters);
  if (cached) return cached;
  const runs: { start: number; end: number }[] = [];
  let cur: { start: number; end: number } | undefined;
  for (const m of text.matchAll(WORD)) {
    const w = m[0];
    const at = m.index;
    // A word longer than any name's word is no name's (and would make a long text cost 50 times over).
    const unknown = w.length >= minLetters && w.length <= MAX_WORD && unknownWord(w);
    if (unknown && cur && /^[ \t,.;:'"()-]{1,3}$/.test(text.slice(cur.end, at))) cur.end = at + w.length;
    else if (unknown) {
      if (cur) runs.push(cur);
      cur = { start: at, end: at + w.length };
    } else if (cur) {
      runs.push(cur);
      cur = undefined;
    }
  }
  if (cur) runs.push(cur);
  runsCache.byMin.set(minLetters, runs);
  return runs;
}

let runsCache: { text: string; byMin: Map<number, { start: number; end: number }[]> } | undefined;

/**
 * Where a stream must wait: the last word of the last run, when the text may continue and that word
 * ends the text (more letters would change how it reads). Earlier words are complete; whether they
 * begin a name is the scan's to hold (it holds any reading's tail that may begin one).
 */
function openAt(text: string, live: boolean, runs: readonly { start: number; end: number }[]): number {
  const last = runs.at(-1);
  if (!live || !last || last.end < text.length) return text.length;
  const word = /[A-Za-z'’-]*$/.exec(text.slice(last.start, last.end))!;
  return last.end - word[0].length;
}

// --- the shift family -----------------------------------------------------------------------------

/** One transform of the alphabet: x → (mirror ? 25 − x : x) + shift. */
export interface ShiftTransform {
  readonly mirror: boolean;
  readonly shift: number;
}

/**
 * Every shift of the alphabet and of its mirror, but the identity (the plain text) and ROT13 (read by
 * its own view, rot13Reading): 24 Caesar shifts, Atbash (mirror, shift 0) and 25 shifts of Atbash.
 */
export const SHIFT_TRANSFORMS: readonly ShiftTransform[] = [false, true].flatMap((mirror) =>
  Array.from({ length: 26 }, (_, shift) => ({ mirror, shift })).filter((t) => t.mirror || (t.shift !== 0 && t.shift !== 13)),
);

function shiftName(t: ShiftTransform): string {
  if (!t.mirror) return `Caesar shift ${t.shift}`;
  return t.shift === 0 ? 'Atbash' : `Atbash and shift ${t.shift}`;
}

function encodeShift(t: ShiftTransform, s: string): string {
  return mapLetters(s, (x) => mod26((t.mirror ? 25 - x : x) + t.shift));
}

/** The inverse: y → y − shift, mirrored back. */
function decodeShift(t: ShiftTransform, s: string): string {
  return mapLetters(s, (y) => (t.mirror ? mod26(25 - (y - t.shift)) : mod26(y - t.shift)));
}

// --- the positions family -------------------------------------------------------------------------

/** Letters as their place in the alphabet, counted from `base` (1: a = 1; 0: a = 0). */
export interface PositionTransform {
  readonly base: 0 | 1;
  /** Between two letters of a word, and between words. */
  readonly separator: string;
  readonly wordBreak: string;
}

const POSITION_TRANSFORMS: readonly PositionTransform[] = ([1, 0] as const).flatMap((base) =>
  (
    [
      ['-', ' '],
      [' ', ' / '],
      [', ', '; '],
      ['.', ' '],
      [' ', '  '],
    ] as const
  ).map(([separator, wordBreak]) => ({ base, separator, wordBreak })),
);

function encodePositions(t: PositionTransform, s: string): string {
  return s
    .split(/\s+/)
    .map((w) =>
      [...w.toLowerCase()]
        .filter((c) => isAsciiLetterCode(c.charCodeAt(0)))
        .map((c) => String(c.charCodeAt(0) - A + t.base))
        .join(t.separator),
    )
    .join(t.wordBreak);
}

/** Runs of 3+ numbers (up to 2 digits, with a leading 0 allowed) separated by non-digits. */
const NUMBER_RUN = /(?<![\d.,])\d{1,2}(?:[^\d\n]{1,3}\d{1,2}){2,}(?![\d])/g;

// --- the repeat family ----------------------------------------------------------------------------

/** Each letter written `times` times, or a filler between letters. */
export type RepeatTransform = { readonly kind: 'repeat'; readonly times: 2 | 3 } | { readonly kind: 'filler'; readonly filler: string };

const REPEAT_TRANSFORMS: readonly RepeatTransform[] = [
  { kind: 'repeat', times: 2 },
  { kind: 'repeat', times: 3 },
  ...['.', '_', '~', '+', '|', '/', '*', '·', 'x', 'z', 'q', '..', '-_-', '♥', '★'].map((filler) => ({ kind: 'filler' as const, filler })),
];

function encodeRepeat(t: RepeatTransform, s: string): string {
  return s
    .split(/\s+/)
    .map((w) => (t.kind === 'repeat' ? [...w].map((c) => c.repeat(t.times)).join('') : [...w].join(t.filler)))
    .join(' ');
}

/** A word whose letters come in equal groups of `times`: the group's first letter each. */
function collapseRepeats(w: string, times: number): string | undefined {
  if (w.length < times * 3 || w.length % times) return undefined;
  let out = '';
  for (let i = 0; i < w.length; i += times) {
    const c = w[i]!.toLowerCase();
    for (let j = 1; j < times; j++) if (w[i + j]!.toLowerCase() !== c) return undefined;
    out += w[i];
  }
  return out;
}

/**
 * A token whose letters stand at every (f + 1)-th place with the same filler of f characters between
 * them ("V.e.l.m", "VxExLxM", "V-_-e-_-l"): the letters. At least three letters.
 */
function dropFiller(t: string): string | undefined {
  const chars = [...t];
  for (let f = 1; f <= 3; f++) {
    const step = f + 1;
    if ((chars.length - 1) % step || chars.length < 2 * step + 1) continue;
    const filler = chars.slice(1, step).join('');
    // A filler of several characters is punctuation or symbols; one letter between letters is a filler too.
    if (f > 1 && /\p{L}/u.test(filler)) continue;
    let ok = true;
    let out = '';
    for (let i = 0; i < chars.length && ok; i += step) {
      if (!/\p{L}/u.test(chars[i]!)) ok = false;
      out += chars[i];
      if (i + step < chars.length && chars.slice(i + 1, i + step).join('') !== filler) ok = false;
    }
    // A filler of letters must differ from the letters around it, or "aaaaa" would read as "aaa".
    if (ok && !/\s/.test(filler)) return out;
  }
  return undefined;
}

// --- the syllable family --------------------------------------------------------------------------

const VOWEL = /[aeiouy]/i;
const isVowel = (c: string | undefined) => c !== undefined && /^[aeiou]$/i.test(c);

/** A syllable inserted before each vowel group (ubbi dubbi and its kin) or after each consonant. */
export type SyllableTransform =
  | { readonly kind: 'infix'; readonly name: string; readonly infix: string; readonly where: 'before-vowels' | 'after-consonants' }
  | { readonly kind: 'pig-latin'; readonly vowelSuffix: 'way' | 'yay' | 'hay' | 'ay' };

const SYLLABLE_TRANSFORMS: readonly SyllableTransform[] = [
  { kind: 'infix', name: 'ubbi dubbi', infix: 'ub', where: 'before-vowels' },
  { kind: 'infix', name: 'obbish', infix: 'ob', where: 'before-vowels' },
  { kind: 'infix', name: 'gibberish', infix: 'idig', where: 'before-vowels' },
  { kind: 'infix', name: 'javanais', infix: 'av', where: 'before-vowels' },
  { kind: 'infix', name: 'aigy paigy', infix: 'aig', where: 'before-vowels' },
  { kind: 'infix', name: 'opish', infix: 'op', where: 'after-consonants' },
  { kind: 'pig-latin', vowelSuffix: 'way' },
  { kind: 'pig-latin', vowelSuffix: 'yay' },
  { kind: 'pig-latin', vowelSuffix: 'ay' },
];

function syllableName(t: SyllableTransform): string {
  return t.kind === 'infix' ? t.name : `Pig Latin (vowel-initial words + "${t.vowelSuffix}")`;
}

/** English onsets Pig Latin moves, longest first: what is read back from a word's end. */
const ONSETS = [
  'sch',
  'scr',
  'shr',
  'spl',
  'spr',
  'squ',
  'str',
  'thr',
  'chr',
  'phr',
  'bl',
  'br',
  'ch',
  'cl',
  'cr',
  'dr',
  'dw',
  'fl',
  'fr',
  'gl',
  'gr',
  'gn',
  'kl',
  'kn',
  'kr',
  'ph',
  'pl',
  'pr',
  'qu',
  'sc',
  'sh',
  'sk',
  'sl',
  'sm',
  'sn',
  'sp',
  'st',
  'sw',
  'th',
  'tr',
  'tw',
  'wh',
  'wr',
  'zh',
  ...'bcdfghjklmnpqrstvwxz'.split(''),
];

function pigLatinWord(w: string, vowelSuffix: string): string {
  const m = /^(qu|[^aeiouy]+|y(?=[^aeiouy]))?(.*)$/i.exec(w)!;
  const onset = m[1] ?? '';
  if (!onset) return w + vowelSuffix;
  const rest = m[2]!;
  // Keep the capital where the reader expects it: on the word's new first letter.
  const capital = /^[A-Z]/.test(w);
  const body = rest + onset.toLowerCase() + 'ay';
  return capital ? body.charAt(0).toUpperCase() + body.slice(1) : body;
}

function encodeSyllable(t: SyllableTransform, s: string): string {
  return s
    .split(/\s+/)
    .map((w) => {
      if (t.kind === 'pig-latin') return pigLatinWord(w, t.vowelSuffix);
      if (t.where === 'before-vowels') return w.replace(/[aeiou]+/gi, (v) => t.infix + v);
      return w.replace(/[^aeiou\W\d]/gi, (c) => c + t.infix);
    })
    .join(' ');
}

/** The infix game read back: the infix removed where the game put it; undefined when it is not there. */
function dropInfix(w: string, infix: string, where: 'before-vowels' | 'after-consonants'): string | undefined {
  const lower = w.toLowerCase();
  let out = '';
  let removed = 0;
  let groups = 0;
  for (let i = 0; i < w.length;) {
    if (where === 'before-vowels') {
      if (lower.startsWith(infix, i) && isVowel(w[i + infix.length]) && !isVowel(out.at(-1))) {
        i += infix.length;
        removed++;
        groups++;
        while (isVowel(w[i])) out += w[i++];
        continue;
      }
      if (isVowel(w[i]) && !isVowel(out.at(-1))) groups++;
      out += w[i++];
    } else {
      const c = w[i]!;
      out += c;
      i++;
      if (/[a-z]/i.test(c) && !isVowel(c)) {
        groups++;
        if (!lower.startsWith(infix, i)) return undefined;
        i += infix.length;
        removed++;
      }
    }
  }
  // Every vowel group (or consonant) must have had its infix: otherwise this is an ordinary word.
  return removed >= 1 && removed === groups ? out : undefined;
}

/** Pig Latin read back: "Elmoravay" → "Velmora", "Istquay" → "Quist", "Elmoway" → "Elmo". */
function fromPigLatin(w: string, vowelSuffix: string): string | undefined {
  const lower = w.toLowerCase();
  if (!lower.endsWith('ay') || lower.length < 4) return undefined;
  const capital = /^[A-Z]/.test(w);
  const cased = (s: string) => (capital ? s.charAt(0).toUpperCase() + s.slice(1) : s);
  if (vowelSuffix !== 'ay' && lower.endsWith(vowelSuffix) && isVowel(lower[0])) return cased(lower.slice(0, -vowelSuffix.length));
  const core = lower.slice(0, -2);
  if (!VOWEL.test(core[0]!)) return undefined;
  // The moved consonants: the longest English onset at the end of the word.
  for (const onset of ONSETS) if (core.length > onset.length && core.endsWith(onset)) return cased(onset + core.slice(0, -onset.length));
  return cased(core);
}

// --- the unicode family ---------------------------------------------------------------------------

/** A block that writes the Latin letters a–z: its code points in letter order (or a letter table). */
export interface UnicodeBlock {
  readonly name: string;
  /** The 26 code points for a…z. */
  readonly letters: readonly number[];
}

const run26 = (first: number) => Array.from({ length: 26 }, (_, i) => first + i);

/** English Braille, grade 1: a–z as their cells. */
const BRAILLE = '⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚⠅⠇⠍⠝⠕⠏⠟⠗⠎⠞⠥⠧⠺⠭⠽⠵';

const UNICODE_BLOCKS: readonly UnicodeBlock[] = [
  { name: 'Braille', letters: [...BRAILLE].map((c) => c.codePointAt(0)!) },
  { name: 'regional indicators', letters: run26(0x1f1e6) },
  { name: 'tags (invisible)', letters: run26(0xe0061) },
  { name: 'fullwidth', letters: run26(0xff41) },
  { name: 'circled', letters: run26(0x24d0) },
  { name: 'parenthesized', letters: run26(0x249c) },
  { name: 'squared', letters: run26(0x1f130) },
  { name: 'negative circled', letters: run26(0x1f150) },
  { name: 'negative squared', letters: run26(0x1f170) },
  { name: 'mathematical bold', letters: run26(0x1d41a) },
  { name: 'mathematical script bold', letters: run26(0x1d4ea) },
  { name: 'mathematical fraktur bold', letters: run26(0x1d586) },
  { name: 'mathematical double-struck', letters: [...'𝕒𝕓𝕔𝕕𝕖𝕗𝕘𝕙𝕚𝕛𝕜𝕝𝕞𝕟𝕠𝕡𝕢𝕣𝕤𝕥𝕦𝕧𝕨𝕩𝕪𝕫'].map((c) => c.codePointAt(0)!) },
  { name: 'mathematical monospace', letters: run26(0x1d68a) },
  { name: 'small capitals', letters: [...'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡxʏᴢ'].map((c) => c.codePointAt(0)!) },
];

function encodeUnicode(block: UnicodeBlock, s: string): string {
  let out = '';
  for (const c of s) {
    const x = (c.toLowerCase().charCodeAt(0) | 0) - A;
    out += c.length === 1 && x >= 0 && x < 26 ? String.fromCodePoint(block.letters[x]!) : c;
  }
  return out;
}

// --- the layout family ----------------------------------------------------------------------------

/** How one letter sits on its line: a plain line, a list item, a numbered item, a table cell, a quote. */
export interface LayoutTransform {
  readonly name: string;
  readonly line: (letter: string, i: number) => string;
  /** What stands between two words (a blank line, an empty cell…). */
  readonly wordBreak: string;
}

const LAYOUT_TRANSFORMS: readonly LayoutTransform[] = [
  { name: 'one per line', line: (c) => c, wordBreak: '' },
  { name: 'list items', line: (c) => `- ${c}`, wordBreak: '-' },
  { name: 'starred list items', line: (c) => `* ${c}`, wordBreak: '' },
  { name: 'numbered items', line: (c, i) => `${i + 1}. ${c}`, wordBreak: '' },
  { name: 'table cells', line: (c) => `| ${c} |`, wordBreak: '|   |' },
  { name: 'quoted lines', line: (c) => `> ${c}`, wordBreak: '>' },
  { name: 'code lines', line: (c) => `\`${c}\``, wordBreak: '' },
  { name: 'bold lines', line: (c) => `**${c}**`, wordBreak: '' },
];

function encodeLayout(t: LayoutTransform, s: string): string {
  let i = 0;
  return s
    .split(/\s+/)
    .map((w) => [...w].map((c) => t.line(c, i++)).join('\n'))
    .join(`\n${t.wordBreak}\n`);
}

/** One line's letter: the line is one letter in some decoration (list marker, cell, quote, emphasis). */
const LAYOUT_LINE = /^[ \t]*(?:[-*+•>]|\d{1,3}[.)]|\|)?[ \t]*(?:\*\*|__|\*|_|`)?[ \t]*(\p{L})[ \t]*(?:\*\*|__|\*|_|`)?[ \t]*\|?[ \t]*$/u;
/** A line between words: empty, or decoration only. */
const LAYOUT_BREAK = /^[ \t]*(?:[-*+•>|/]|\|[ \t]*\|)?[ \t]*$/;
/** A table row of one letter per cell: `| V | e | l |`. */
const TABLE_ROW = /^[ \t]*\|(?:[ \t]*\p{L}?[ \t]*\|){3,}[ \t]*$/u;

// --- the readings ---------------------------------------------------------------------------------

/** Each unknown-word run decoded through `decode`; words it leaves alone stay out of the reading. */
function runReading(
  text: string,
  live: boolean,
  runs: readonly { start: number; end: number }[],
  decodeWord: (w: string) => string | undefined,
  encoding: string,
  minLetters: number,
): TextReading | undefined {
  const b = new ReadingBuilder();
  for (const run of runs) {
    let any = false;
    const out = new ReadingBuilder();
    for (const m of text.slice(run.start, run.end).matchAll(WORD)) {
      const at = run.start + m.index;
      const decoded = decodeWord(m[0]);
      if (decoded === undefined) {
        out.gap(at);
        continue;
      }
      any = true;
      out.gap(at);
      // Same length: letter for letter; otherwise the decoded word stands for the whole word.
      if (decoded.length === m[0].length) for (let k = 0; k < decoded.length; k++) out.add(decoded[k]!, at + k, at + k + 1);
      else out.add(decoded, at, at + m[0].length);
    }
    if (!any) continue;
    b.gap(run.start);
    b.append(out);
    b.gap(run.end);
  }
  return b.reading('encoded', openAt(text, live, runs), { encoding, minLetters }, text.length);
}

/**
 * A word's shape up to a shift: the differences between its first five letters (mod 26), and its length
 * when shorter. Every shift of a word has the same shape, and its mirror the negated one, so one lookup
 * says which shifts of an unknown word could give a word of some name, and with which first letter.
 */
const SHAPE_LETTERS = 5;

function shapeOf(w: string, mirror: boolean): string {
  const n = Math.min(w.length, SHAPE_LETTERS);
  let key = w.length < SHAPE_LETTERS ? `${w.length}:` : '+';
  for (let i = 1; i < n; i++) {
    const d = ((w.charCodeAt(i) | 0x20) - (w.charCodeAt(i - 1) | 0x20)) * (mirror ? -1 : 1);
    key += String.fromCharCode(A + mod26(d));
  }
  return key;
}

/** Per index: each shape of a name's words, with the first letters (0–25) of the words of that shape. */
const shapesByTerms = new WeakMap<IndexedTerms, Map<string, number[]>>();

function nameShapes(terms: IndexedTerms): Map<string, number[]> {
  let shapes = shapesByTerms.get(terms);
  if (shapes) return shapes;
  shapes = new Map();
  for (const term of terms.termText)
    for (const w of term.match(/[A-Za-z]+/g) ?? []) {
      const key = shapeOf(w, false);
      const first = (w.charCodeAt(0) | 0x20) - A;
      const list = shapes.get(key);
      if (!list) shapes.set(key, [first]);
      else if (!list.includes(first)) list.push(first);
    }
  shapesByTerms.set(terms, shapes);
  return shapes;
}

/**
 * The transforms under which some word of the run decodes to the start of a name's word: for each word,
 * its shape (or mirrored shape) looked up among the names' words, and the shift that maps a name word's
 * first letter to the word's. Without the index (a caller outside the scan), every transform.
 */
function candidateTransforms(w: string, shapes: Map<string, number[]> | undefined): readonly ShiftTransform[] {
  if (!shapes) return SHIFT_TRANSFORMS;
  const out: ShiftTransform[] = [];
  const y = (w.charCodeAt(0) | 0x20) - A;
  for (const mirror of [false, true]) {
    for (const x of shapes.get(shapeOf(w, mirror)) ?? []) {
      // Encoding maps x to y: y = (mirror ? 25 - x : x) + shift.
      const shift = mod26(y - (mirror ? 25 - x : x));
      const t = SHIFT_TRANSFORMS.find((s) => s.mirror === mirror && s.shift === shift);
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

/** Most words a name is read across: a window of this many words is decoded from where one may start. */
const SHIFT_WINDOW_WORDS = 6;

/**
 * Alphabet shifts and their mirrors over the text's unknown words. Where a word of a run could be the
 * first word of a name under some transform (see `candidateTransforms`), the window of words from it
 * is decoded with that transform, a word break around each window: most words have no candidate at
 * all, so 50 transforms cost about one pass over the unknown words, however long a run is.
 */
function shiftReading(): ReadingFn {
  return (text, live, _folded, terms) => {
    if (!/[A-Za-z]{3}/.test(text)) return undefined;
    const runs = unknownRuns(text, 2);
    if (!runs.length) return undefined;
    const shapes = terms ? nameShapes(terms) : undefined;
    const b = new ReadingBuilder();
    for (const run of runs) {
      const words = [...text.slice(run.start, run.end).matchAll(/[A-Za-z]+/g)].map((m) => ({ at: run.start + m.index, w: m[0] }));
      words.forEach((first, i) => {
        const window = words.slice(i, i + SHIFT_WINDOW_WORDS);
        for (const t of candidateTransforms(first.w, shapes)) {
          b.gap(first.at);
          for (const { at, w } of window) {
            b.gap(at);
            const decoded = decodeShift(t, w);
            for (let k = 0; k < decoded.length; k++) b.add(decoded[k]!, at + k, at + k + 1);
          }
          b.gap(window.at(-1)!.at + window.at(-1)!.w.length);
        }
      });
    }
    return b.reading(
      'encoded',
      openAt(text, live, runs),
      { encoding: 'alphabet shift or mirror', minLetters: SHIFT_MIN_LETTERS },
      text.length,
    );
  };
}

function positionsReading(base: 0 | 1): ReadingFn {
  return (text, live) => {
    if (!/\d/.test(text)) return undefined;
    const b = new ReadingBuilder();
    let open = text.length;
    for (const m of text.matchAll(NUMBER_RUN)) {
      const nums = [...m[0].matchAll(/\d{1,2}/g)];
      if (nums.some((n) => Number(n[0]) < base || Number(n[0]) > 25 + base)) continue;
      // The most common separator joins letters; any other one breaks words.
      const seps = nums.slice(1).map((n, i) => m[0].slice(nums[i]!.index + nums[i]![0].length, n.index));
      const counts = new Map<string, number>();
      for (const s of seps) counts.set(s, (counts.get(s) ?? 0) + 1);
      const common = [...counts].sort((x, y) => y[1] - x[1])[0]![0];
      b.gap(m.index);
      nums.forEach((n, i) => {
        if (i > 0 && seps[i - 1] !== common) b.gap(m.index + n.index);
        b.add(String.fromCharCode(A + Number(n[0]) - base), m.index + n.index, m.index + n.index + n[0].length);
      });
      b.gap(m.index + m[0].length);
      // A number at the very end may still get another digit: it waits.
      if (live && m.index + m[0].length === text.length) open = Math.min(open, m.index + nums.at(-1)!.index);
    }
    // One or two numbers at the end may begin a run (it needs three): they wait.
    const tail = live ? /(?<![\d.,])\d{1,2}(?:[^\d\n\p{L}]{1,3}\d{1,2}){0,1}[^\d\n\p{L}]{0,3}$/u.exec(text) : null;
    if (tail) open = Math.min(open, tail.index);
    return b.reading('encoded', open, { encoding: `alphabet positions from ${base}`, minLetters: POSITIONS_MIN_LETTERS }, text.length);
  };
}

function repeatReading(): ReadingFn {
  return (text, live) => {
    const b = new ReadingBuilder();
    let open = text.length;
    let any = false;
    // Only tokens that hold a doubled letter thrice, or a filler repeated between letters, are looked at.
    const candidates = new Set<number>();
    // One hint per token: after a hint the search goes on past the token's end (linear on long tokens).
    const hint = new RegExp(REPEAT_HINT.source, 'giu');
    for (let m = hint.exec(text); m; m = hint.exec(text)) {
      let start = m.index;
      while (start > 0 && !/\s/.test(text[start - 1]!)) start--;
      candidates.add(start);
      let end = m.index + m[0].length;
      while (end < text.length && !/\s/.test(text[end]!)) end++;
      hint.lastIndex = end;
    }
    for (const m of candidates.size ? text.matchAll(/\S+/g) : []) {
      if (!candidates.has(m.index)) continue;
      const token = m[0];
      if (token.length < 5 || token.length > 4 * MAX_WORD) continue;
      const letters = /^[A-Za-z]+$/.test(token);
      // Cheap first looks: a doubled first letter, a letter filler (same 2nd and 4th), or a non-letter inside.
      const c0 = token.charCodeAt(0) | 0x20;
      const decoded = letters
        ? ((c0 === (token.charCodeAt(1) | 0x20) ? (collapseRepeats(token, 2) ?? collapseRepeats(token, 3)) : undefined) ??
          (token[1] === token[3] ? dropFiller(token) : undefined))
        : /\p{L}[^\p{L}\s]+\p{L}/u.test(token)
          ? dropFiller(token)
          : undefined;
      if (decoded === undefined || (letters && wordRank(token) !== undefined)) continue;
      any = true;
      b.gap(m.index);
      b.add(decoded, m.index, m.index + token.length);
      b.gap(m.index + token.length);
    }
    // A last token that may still grow into a repeated or padded word waits.
    const last = live ? /\S+$/.exec(text) : null;
    if (last && mayRepeat(last[0])) open = last.index;
    return any || open < text.length ? b.reading('encoded', open, { encoding: 'letters repeated or padded' }, text.length) : undefined;
  };
}

/** Somewhere in a repeated or padded word: three doubled or two tripled letters running, or a filler that repeats. */
const REPEAT_HINT =
  /([A-Za-z])\1([A-Za-z])\2([A-Za-z])\3|([A-Za-z])\4\4([A-Za-z])\5\5|\p{L}([^\p{L}\s]{1,3})\p{L}\6\p{L}|\p{L}(\p{L})\p{L}\7\p{L}\7\p{L}/giu;

/** The start of a repeated or padded word: letter pairs or triples so far, or letters with one filler between. */
function mayRepeat(t: string): boolean {
  if (t.length < 2 || t.length > 4 * MAX_WORD) return false;
  if (/^(?:([A-Za-z])\1)+[A-Za-z]?$/i.test(t) || /^(?:([A-Za-z])\1\1)+[A-Za-z]{0,2}$/i.test(t)) return true;
  const chars = [...t];
  for (let f = 1; f <= 3; f++) {
    const filler = chars.slice(1, 1 + f);
    if (filler.length < f || (f > 1 && filler.some((c) => /\p{L}/u.test(c)))) continue;
    if (chars.every((c, i) => (i % (f + 1) === 0 ? /\p{L}/u.test(c) : c === filler[(i % (f + 1)) - 1]))) return true;
  }
  return false;
}

function syllableReading(t: SyllableTransform): ReadingFn {
  const name = syllableName(t);
  return (text, live) => {
    if (t.kind === 'infix' ? !text.toLowerCase().includes(t.infix) : !/ay\b/i.test(text)) return undefined;
    // The shift reading's runs (cached for this text): a decoder rejects what is too short on its own.
    const runs = unknownRuns(text, 2);
    if (!runs.length) return undefined;
    const decode = t.kind === 'infix' ? (w: string) => dropInfix(w, t.infix, t.where) : (w: string) => fromPigLatin(w, t.vowelSuffix);
    return runReading(text, live, runs, decode, name, SYLLABLE_MIN_LETTERS);
  };
}

/** Every block's code point → its letter. */
let unicodeLetters: Map<number, string> | undefined;
function unicodeMap(): Map<number, string> {
  if (unicodeLetters) return unicodeLetters;
  unicodeLetters = new Map();
  for (const block of UNICODE_BLOCKS) block.letters.forEach((cp, i) => unicodeLetters!.set(cp, String.fromCharCode(A + i)));
  return unicodeLetters;
}

/** Runs of block characters (words of them separated by spaces). */
let blockRun: RegExp | undefined;
function blockRunRegex(): RegExp {
  if (blockRun) return blockRun;
  const cls = [...unicodeMap().keys()].map((cp) => `\\u{${cp.toString(16)}}`).join('');
  blockRun = new RegExp(`[${cls}]+(?:[ \\t]+[${cls}]+)*`, 'gu');
  return blockRun;
}

function unicodeReading(): ReadingFn {
  return (text, live) => {
    // Every block lies outside ASCII and Latin-1: a text without such a character is not read.
    if (!/[^\t-\u00ff]/.test(text)) return undefined;
    const map = unicodeMap();
    const b = new ReadingBuilder();
    let open = text.length;
    for (const m of text.matchAll(blockRunRegex())) {
      if ([...m[0]].filter((c) => map.has(c.codePointAt(0)!)).length < 3) continue;
      b.gap(m.index);
      let i = m.index;
      for (const c of m[0]) {
        const letter = map.get(c.codePointAt(0)!);
        if (letter) b.add(letter, i, i + c.length);
        else b.gap(i);
        i += c.length;
      }
      b.gap(i);
    }
    // A run at the end (fewer than three characters is no run yet) waits, and so does half a surrogate pair.
    if (live) {
      const runs = [...text.matchAll(blockRunRegex())];
      const last = runs.at(-1);
      if (last && /^[ \t]*[\ud800-\udbff]?$/.test(text.slice(last.index + last[0].length))) open = last.index;
      else if (/[\ud800-\udbff]$/.test(text)) open = text.length - 1;
    }
    return b.reading('encoded', open, { encoding: 'Unicode letter block', minLetters: 3 }, text.length);
  };
}

function layoutReading(): ReadingFn {
  return (text, live) => {
    if (!/\n/.test(text)) return undefined;
    const b = new ReadingBuilder();
    let open = text.length;
    let run: { letter: string; start: number; end: number; breakBefore: boolean }[] = [];
    let pendingBreak = false;
    const flush = () => {
      if (run.length >= 3) {
        b.gap(run[0]!.start);
        for (const r of run) {
          if (r.breakBefore) b.gap(r.start);
          b.add(r.letter, r.start, r.end);
        }
        b.gap(run.at(-1)!.end);
      }
      run = [];
      pendingBreak = false;
    };
    let at = 0;
    const lines = text.split('\n');
    // While the text may continue, its last line is unfinished: it is not read yet, and does not end a run.
    const partial = live && !text.endsWith('\n') ? lines.pop()! : undefined;
    for (const line of lines) {
      const start = at;
      at += line.length + 1;
      const row = TABLE_ROW.test(line) ? line : undefined;
      if (row) {
        // One letter per cell across a row: an empty cell breaks words.
        flush();
        let pos = start;
        const cells = line.split('|');
        cells.forEach((cell, ci) => {
          if (ci > 0 && ci < cells.length - 1) {
            const letter = /\p{L}/u.exec(cell);
            if (letter) run.push({ letter: letter[0], start: pos + letter.index, end: pos + letter.index + 1, breakBefore: pendingBreak });
            else if (run.length) pendingBreak = true;
            if (letter) pendingBreak = false;
          }
          pos += cell.length + 1;
        });
        flush();
        continue;
      }
      const m = LAYOUT_LINE.exec(line);
      if (m) {
        const offset = line.search(/\p{L}/u);
        run.push({ letter: m[1]!, start: start + offset, end: start + offset + m[1]!.length, breakBefore: pendingBreak });
        pendingBreak = false;
        continue;
      }
      if (LAYOUT_BREAK.test(line) && run.length && !pendingBreak) {
        pendingBreak = true;
        continue;
      }
      flush();
    }
    // An unfinished last line may become one more letter line: a run of fewer than three lines waits
    // whole (it is no run yet); a short unfinished line waits too, since it may begin one.
    if (partial !== undefined) {
      const lineStart = text.length - partial.length;
      if (run.length && run.length < 3) open = run[0]!.start;
      else if (partial.length <= 8) open = lineStart;
    }
    flush();
    return b.reading('encoded', open, { encoding: 'one letter per line', minLetters: 3 }, text.length);
  };
}

export type ReadingFn = (text: string, live: boolean, folded: unknown, terms?: IndexedTerms) => TextReading | undefined;

/** Every family's readings, in a fixed order. */
export const FAMILY_READINGS: readonly ReadingFn[] = [
  shiftReading(),
  positionsReading(1),
  positionsReading(0),
  repeatReading(),
  ...SYLLABLE_TRANSFORMS.map(syllableReading),
  unicodeReading(),
  layoutReading(),
];

/** The families as the docs and the property tests list them: a name and an encoder per transform. */
export interface FamilyTransform {
  readonly name: string;
  readonly encode: (name: string) => string;
}

export const LETTER_FAMILIES: Readonly<Record<string, readonly FamilyTransform[]>> = {
  shift: SHIFT_TRANSFORMS.map((t) => ({ name: shiftName(t), encode: (s: string) => encodeShift(t, s) })),
  positions: POSITION_TRANSFORMS.map((t) => ({
    name: `positions from ${t.base}, "${t.separator}" between letters`,
    encode: (s: string) => encodePositions(t, s),
  })),
  repeat: REPEAT_TRANSFORMS.map((t) => ({
    name: t.kind === 'repeat' ? `each letter ${t.times} times` : `"${t.filler}" between letters`,
    encode: (s: string) => encodeRepeat(t, s),
  })),
  syllable: SYLLABLE_TRANSFORMS.map((t) => ({ name: syllableName(t), encode: (s: string) => encodeSyllable(t, s) })),
  unicode: UNICODE_BLOCKS.map((b) => ({ name: b.name, encode: (s: string) => encodeUnicode(b, s) })),
  layout: LAYOUT_TRANSFORMS.map((t) => ({ name: t.name, encode: (s: string) => encodeLayout(t, s) })),
};
