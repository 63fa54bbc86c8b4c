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
import { ReadingBuilder } from './readingBuilder';
import {
  A,
  MAX_WORD,
  POSITIONS_MIN_LETTERS,
  SHIFT_MIN_LETTERS,
  SYLLABLE_MIN_LETTERS,
  mod26,
  openAt,
  runReading,
  unknownRuns,
  type ReadingFn,
} from './letterFamilyBase';
import {
  LAYOUT_BREAK,
  LAYOUT_LINE,
  NUMBER_RUN,
  SHIFT_TRANSFORMS,
  SYLLABLE_TRANSFORMS,
  TABLE_ROW,
  UNICODE_BLOCKS,
  collapseRepeats,
  decodeShift,
  dropFiller,
  dropInfix,
  fromPigLatin,
  syllableName,
  type ShiftTransform,
  type SyllableTransform,
} from './letterTransforms';

// The tables and encoders live in letterTransforms.ts; the tests and docs import them from here.
export { LETTER_FAMILIES, SHIFT_TRANSFORMS, type FamilyTransform } from './letterTransforms';

// --- the readings ---------------------------------------------------------------------------------

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
