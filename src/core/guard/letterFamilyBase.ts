/** Shared pieces of the letter-transform families: letter mapping, unknown-word runs, the run reading. */

import { wordRank } from '../text';
import type { IndexedTerms } from './indexedTerms';
import { ReadingBuilder, type TextReading } from './readingBuilder';

// --- shared ---------------------------------------------------------------------------------------

export const A = 0x61;
export const isAsciiLetterCode = (c: number) => ((c | 0x20) - A) >>> 0 < 26;

/** A name's letters mapped one by one; case kept, anything else as it is. */
export function mapLetters(s: string, f: (x: number) => number): string {
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

export const mod26 = (x: number) => ((x % 26) + 26) % 26;

/**
 * Shortest name a family reads. A shift turns any unknown word into 50 others: a name of five letters or
 * fewer would be met by chance in ordinary text. The other families change the text's shape as well,
 * which chance does not.
 */
export const SHIFT_MIN_LETTERS = 6;
export const SYLLABLE_MIN_LETTERS = 4;
export const POSITIONS_MIN_LETTERS = 4;

/**
 * Words the guard reads through a transform: runs of ASCII letters (with apostrophes and hyphens
 * inside) that no English word list has. A transformed name is such a word; ordinary prose is not, so
 * most of a text is never transformed at all (what keeps 51 shifts cheap, and precise).
 */
const WORD = /[A-Za-z]+(?:['’-][A-Za-z]+)*/g;

/** Longest word a transformed name's word can be. */
export const MAX_WORD = 32;

function unknownWord(w: string): boolean {
  return w.length >= 2 && wordRank(w) === undefined;
}

/**
 * Runs of unknown words (at least `minLetters` letters each) separated by spaces or light punctuation:
 * where a transformed name of one or more words can be. `[start, end)` offsets into the text.
 */
export function unknownRuns(text: string, minLetters = 2): { start: number; end: number }[] {
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
export function openAt(text: string, live: boolean, runs: readonly { start: number; end: number }[]): number {
  const last = runs.at(-1);
  if (!live || !last || last.end < text.length) return text.length;
  const word = /[A-Za-z'’-]*$/.exec(text.slice(last.start, last.end))!;
  return last.end - word[0].length;
}

/** Each unknown-word run decoded through `decode`; words it leaves alone stay out of the reading. */
export function runReading(
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

export type ReadingFn = (text: string, live: boolean, folded: unknown, terms?: IndexedTerms) => TextReading | undefined;
