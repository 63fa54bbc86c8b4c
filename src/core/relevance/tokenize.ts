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

/**
 * Function words: what a sentence is built with, not what it is about. Used to compare what two texts
 * are about (the calibration set's rule that a question shares no content word with its target).
 */
const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but nor of to in on at by for with from as into onto upon over under about above below after before ' +
    'between through during without within against among around off out up down than then so if else when where why how ' +
    'what which who whom whose whichever whatever is are was were be been being am do does did done doing have has had having ' +
    'i me my mine myself you your yours yourself he him his himself she her hers herself it its itself we us our ours ' +
    'they them their theirs themselves this that these those there here can could would should will shall may might must ' +
    'not no yes very just also too only even still ever never again once both each every any some all most more many much ' +
    'few such own same other another one ones get got gets let lets make made say said go goes went way thing things ' +
    'please tell know like want need use used using really well now while because though although whether'
  )
    .split(' ')
    // Folded as keywordTokens folds them ("does" reads "doe"), so a token is looked up as it comes.
    .flatMap((w) => [w, foldPlural(w)]),
);

/**
 * What a text is about, word by word: keyword tokens (plurals folded) without stop words, each cut to a
 * light stem ("sailing", "sailed" and "sail" meet; "-ing", "-ed", "-er", "-ly" come off words long enough
 * to keep a root). Stricter than keyword matching on purpose: a rule "shares no content word" built on it
 * errs towards calling two words the same.
 */
export function contentStems(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of keywordTokens(text)) {
    if (STOP_WORDS.has(w)) continue;
    out.add(lightStem(w));
  }
  return out;
}

function lightStem(word: string): string {
  if (word.length <= 4 || /\d/.test(word)) return word;
  for (const suffix of ['ingly', 'edly', 'ing', 'ed', 'ers', 'er', 'ly', 'ies', 'es', 'e', 's']) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      const root = word.slice(0, -suffix.length);
      // "running" → "runn" → "run": a doubled final consonant left by the suffix goes too.
      return /([b-df-hj-np-tv-z])\1$/.test(root) ? root.slice(0, -1) : root;
    }
  }
  return word;
}
