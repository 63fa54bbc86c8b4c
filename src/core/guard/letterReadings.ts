/** Readings that stand letters or words for others: ROT13, spelling alphabets, Morse, words backwards. */

import type { Folded } from './folding';
import { identity, ReadingBuilder, type TextReading } from './readingBuilder';
import { rot13View, wordsBackwardsView } from './views';

/**
 * Every letter shifted by 13. A view of the text's own folding (see `rot13View`): a 16 KB answer is read
 * on every scan, and folding a rotated copy again would cost as much as the folding itself.
 */
export function rot13Reading(text: string, _live: boolean, folded: Folded): TextReading | undefined {
  if (!/[A-Za-z]/.test(text)) return undefined;
  const ident = identity(text.length + 1);
  return {
    text: '',
    folded: rot13View(folded, text),
    from: ident.subarray(0, text.length),
    to: ident.subarray(1, text.length + 1),
    kind: 'encoded',
    encoding: 'ROT13',
    plainOnly: true,
    openFrom: text.length,
  };
}

/** NATO/ICAO code words and common variants (the older Able–Baker alphabet, spelling variants). */
const SPELLING: Readonly<Record<string, string>> = {
  alfa: 'a',
  alpha: 'a',
  able: 'a',
  bravo: 'b',
  baker: 'b',
  charlie: 'c',
  delta: 'd',
  dog: 'd',
  echo: 'e',
  easy: 'e',
  foxtrot: 'f',
  fox: 'f',
  golf: 'g',
  george: 'g',
  hotel: 'h',
  how: 'h',
  india: 'i',
  item: 'i',
  juliet: 'j',
  juliett: 'j',
  jig: 'j',
  kilo: 'k',
  king: 'k',
  lima: 'l',
  love: 'l',
  mike: 'm',
  november: 'n',
  nan: 'n',
  oscar: 'o',
  oboe: 'o',
  papa: 'p',
  peter: 'p',
  quebec: 'q',
  queen: 'q',
  romeo: 'r',
  roger: 'r',
  sierra: 's',
  sugar: 's',
  tango: 't',
  tare: 't',
  uniform: 'u',
  uncle: 'u',
  victor: 'v',
  whiskey: 'w',
  whisky: 'w',
  william: 'w',
  xray: 'x',
  'x-ray': 'x',
  yankee: 'y',
  yoke: 'y',
  zulu: 'z',
  zebra: 'z',
};

const SPELLING_WORD = new RegExp(
  `(?<![A-Za-z-])(?:${Object.keys(SPELLING)
    .sort((a, b) => b.length - a.length)
    .join('|')})(?![A-Za-z])`,
  'gi',
);

/** Runs of 3+ spelling-alphabet code words ("Foxtrot Alfa Lima…"), each read as its letter. */
export function spellingReading(text: string): TextReading | undefined {
  // Only the code words themselves are matched (one regex pass, not a lookup per word): any other word
  // between two of them is a separator that `between` rejects, which ends the run as before.
  return wordRunReading(
    text,
    SPELLING_WORD,
    /^[\s,;.\-/|]*$/,
    (w) => SPELLING[w.toLowerCase()],
    'spelling alphabet',
    /^[\s,;.\-/|]{0,4}[A-Za-z-]{0,8}$/,
  );
}

const MORSE: Readonly<Record<string, string>> = {
  '.-': 'a',
  '-...': 'b',
  '-.-.': 'c',
  '-..': 'd',
  '.': 'e',
  '..-.': 'f',
  '--.': 'g',
  '....': 'h',
  '..': 'i',
  '.---': 'j',
  '-.-': 'k',
  '.-..': 'l',
  '--': 'm',
  '-.': 'n',
  '---': 'o',
  '.--.': 'p',
  '--.-': 'q',
  '.-.': 'r',
  '...': 's',
  '-': 't',
  '..-': 'u',
  '...-': 'v',
  '.--': 'w',
  '-..-': 'x',
  '-.--': 'y',
  '--..': 'z',
};

/** Runs of 3+ Morse letters separated by spaces (`/` or `|` between words). */
export function morseReading(text: string): TextReading | undefined {
  // A Morse sign at the very end may begin a run: the run is then held back (`wordRunReading`).
  if (!/[.\-·•−–_][ ]?[.\-·•−–_]/.test(text) && !/(?:^|[\s/|])[.\-·•−–_]{1,5} ?$/.test(text)) return undefined;
  return wordRunReading(
    text,
    // A sign glued to a word or number is punctuation ("here.", "x-ray", "3.5"), not a Morse letter.
    /(?<![\p{L}\p{N}])[.\-·•−–_]{1,5}(?![\p{L}\p{N}])/gu,
    /^[ ]$|^ ?[/|] ?$|^ {2,3}$/,
    (w) => MORSE[w.replace(/[·•]/g, '.').replace(/[−–_]/g, '-')],
    'Morse',
    /^[ /|]{0,4}[.\-·•−–_]{0,5}$/,
  );
}

/**
 * Runs of 3+ code words, each read as its letter, where only `between` may separate two of them. A
 * separator with a slash, bar or more than one space marks a word break (kept as a space).
 */
function wordRunReading(
  text: string,
  word: RegExp,
  between: RegExp,
  letterOf: (w: string) => string | undefined,
  encoding: string,
  openTail: RegExp,
): TextReading | undefined {
  const b = new ReadingBuilder();
  let run: { letter: string; start: number; end: number; breakBefore: boolean }[] = [];
  let open = text.length;
  const flush = () => {
    if (run.length >= 3) {
      b.gap(run[0]!.start);
      for (const r of run) {
        if (r.breakBefore) b.add(' ', r.start, r.start);
        b.add(r.letter, r.start, r.end);
      }
      b.gap(run[run.length - 1]!.end);
    }
    run = [];
  };
  let lastEnd = -1;
  for (const m of text.matchAll(word)) {
    const letter = letterOf(m[0]);
    const sep = lastEnd >= 0 ? text.slice(lastEnd, m.index) : '';
    if (!letter || (run.length > 0 && !between.test(sep))) flush();
    if (letter) run.push({ letter, start: m.index, end: m.index + m[0].length, breakBefore: run.length > 0 && /[/|]| {2}/.test(sep) });
    lastEnd = m.index + m[0].length;
  }
  // The run stays open while what follows its last word may still become a separator and another code
  // word ("… November, Fo" may go on "xtrot"): it then reads as one longer word, not as the name.
  if (run.length > 0 && (text.length - lastEnd < 4 || openTail.test(text.slice(lastEnd)))) open = run[0]!.start;
  flush();
  return b.reading('encoded', open, { encoding }, text.length);
}

/**
 * Every word written backwards in place ("tcejorP noclaF"): names of two or more words only. A view of the
 * text's own folding (see `wordsBackwardsView`); a match covers the whole words it was read from.
 */
export function wordsBackwardsReading(text: string, live: boolean, folded: Folded): TextReading | undefined {
  if (!/[A-Za-z]/.test(text)) return undefined;
  const { view, openFrom } = wordsBackwardsView(folded, text, live);
  const ident = identity(text.length + 1);
  return {
    text: '',
    folded: view,
    from: ident.subarray(0, text.length),
    to: ident.subarray(1, text.length + 1),
    wholeWords: true,
    kind: 'encoded',
    encoding: 'each word written backwards',
    plainOnly: true,
    multiWordOnly: true,
    openFrom,
  };
}
