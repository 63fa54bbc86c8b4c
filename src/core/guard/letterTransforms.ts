/** The letter-transform families' tables and encoders (and the decoders their readings use). */

import { A, isAsciiLetterCode, mapLetters, mod26 } from './letterFamilyBase';

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
export function decodeShift(t: ShiftTransform, s: string): string {
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
export const NUMBER_RUN = /(?<![\d.,])\d{1,2}(?:[^\d\n]{1,3}\d{1,2}){2,}(?![\d])/g;

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
export function collapseRepeats(w: string, times: number): string | undefined {
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
export function dropFiller(t: string): string | undefined {
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

export const SYLLABLE_TRANSFORMS: readonly SyllableTransform[] = [
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

export function syllableName(t: SyllableTransform): string {
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
export function dropInfix(w: string, infix: string, where: 'before-vowels' | 'after-consonants'): string | undefined {
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
export function fromPigLatin(w: string, vowelSuffix: string): string | undefined {
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

export const UNICODE_BLOCKS: readonly UnicodeBlock[] = [
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
export const LAYOUT_LINE =
  /^[ \t]*(?:[-*+•>]|\d{1,3}[.)]|\|)?[ \t]*(?:\*\*|__|\*|_|`)?[ \t]*(\p{L})[ \t]*(?:\*\*|__|\*|_|`)?[ \t]*\|?[ \t]*$/u;
/** A line between words: empty, or decoration only. */
export const LAYOUT_BREAK = /^[ \t]*(?:[-*+•>|/]|\|[ \t]*\|)?[ \t]*$/;
/** A table row of one letter per cell: `| V | e | l |`. */
export const TABLE_ROW = /^[ \t]*\|(?:[ \t]*\p{L}?[ \t]*\|){3,}[ \t]*$/u;

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
