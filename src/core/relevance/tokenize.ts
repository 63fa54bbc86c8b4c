/**
 * Words for keyword relevance: lower-cased, accents folded, possessives and plurals folded to one form
 * ("Potter's" and "potters" both read "potter"), so a description and a question that inflect a word
 * differently still meet. Deliberately light: a full stemmer would merge "university" with "universe".
 */
const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /[\u0300-\u036f]/g;
const NON_ASCII = /[^\t\n\r\u0020-\u007e]/;

/** Every word of the text, folded (duplicates kept, in order). Words of one letter are dropped. */
export function keywordTokens(text: string): string[] {
  // Accents are folded only when there is anything but ASCII (most texts): NFKD is the slow part.
  const folded = !NON_ASCII.test(text) ? text : text.normalize('NFKD').replace(MARKS, '');
  const words = folded.toLowerCase().match(WORD) ?? [];
  const out: string[] = [];
  for (const w of words) {
    if (w.length < 2) continue;
    out.push(foldPlural(w));
  }
  return out;
}

/** "libraries" → "library", "boxes" → "box", "wizards" → "wizard"; "glass", "status", "analysis" unchanged. */
export function foldPlural(word: string): string {
  const n = word.length;
  if (n <= 3 || /\d/.test(word)) return word;
  if (word.endsWith('ies') && n > 4) return word.slice(0, -3) + 'y';
  if (/(?:ss|sh|ch|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !/(?:ss|us|is|os)$/.test(word)) return word.slice(0, -1);
  return word;
}
