import { wordRank } from '../text';

/**
 * Encoding requests as a relevance signal. A question that asks for a name or fact encoded, enciphered,
 * spelled out, transliterated, reversed or played through a letter game is asking for exactly what the
 * guard may not be able to read: the next disguise nobody listed. When such a question also touches a
 * target (by any signal), the pipeline audits it under `always` rules whatever the policy, and an
 * answer that still holds a long run the guard cannot read as words is refused for that target.
 *
 * Pure and cheap: a lexicon of request phrases (English, with the common Spanish, French and German
 * verbs), and a tokeniser over the answer. No model call.
 */

/** What the question asks the answer to do to the text. */
export type EncodingAsk = 'encode' | 'cipher' | 'spell' | 'transliterate' | 'reverse' | 'letter-game';

export interface EncodingRequest {
  /** Every kind of request found, in the order of `ENCODING_ASKS`. */
  readonly asks: readonly EncodingAsk[];
  /** The phrases that said so, as written in the question (for the trace and the explanation). */
  readonly phrases: readonly string[];
}

const ENCODING_ASKS: readonly EncodingAsk[] = ['encode', 'cipher', 'spell', 'transliterate', 'reverse', 'letter-game'];

/**
 * The request phrases of each kind, matched on the question folded (lower case, accents removed).
 * Broad on purpose: a phrase that fires on an innocent question costs an audit only when a target is
 * touched too, and a refusal only when the answer also holds a long unreadable run.
 */
const PHRASES: Readonly<Record<EncodingAsk, readonly RegExp[]>> = {
  encode: [
    /\b(?:en|de)cod(?:e|es|ed|ing)\b/,
    /\bencrypt\w*/,
    /\bbase[ -]?(?:64|32|16|85)\b/,
    /\bhex(?:adecimal)?\b/,
    /\bbinary\b/,
    /\bmorse\b/,
    /\b(?:ascii|unicode|utf-?8|character|char) (?:codes?|values?|points?)\b/,
    /\burl[- ]?encod\w*/,
    /\bobfuscat\w*/,
    /\bescape (?:sequences?|codes?)\b/,
    /\b(?:codifica|codifique|chiffre[rz]?|kodier\w*|verschlussel\w*)\b/,
  ],
  cipher: [
    /\b(?:ciph|cyph)er\w*/,
    /\bcaesar\b/,
    /\brot ?-?\d{1,2}\b/,
    /\batbash\b/,
    /\bvigenere\b/,
    /\bshift(?:ed|ing)? (?:each|every|all|the) letters?\b/,
    /\bshift(?:ed|ing)? (?:it |them )?by \d+\b/,
    /\bsecret (?:code|alphabet)\b/,
    /\b(?:cifra|cifrado|chiffrement)\b/,
  ],
  spell: [
    // The verb, not the noun: "spell the name out", "spell it in binary"; not "spells in folk tales" or
    // "cast a spell in the story" (a plural, or an article before it, is the magic kind).
    /(?<!\b(?:a|an|the|one|magic|his|her|their|its|every|each) )\bspell(?:ed|ing)?\b(?: \w+){0,3} (?:out|backwards?|letter by letter|with|using|in)\b/,
    /\bspell (?:it|them|that|this)\b/,
    /\bletter[- ]by[- ]letter\b/,
    /\bone (?:letter|character) (?:per|on each|a|an) (?:line|row|cell|item|bullet)\b/,
    /\b(?:each|every) (?:letter|character)\b/,
    /\bacrostic\b/,
    /\b(?:first|initial) letters? of (?:each|every)\b/,
    /\b(?:nato|phonetic|spelling) alphabet\b/,
    /\balphabet(?:ical)? (?:positions?|numbers?|index)\b/,
    /\bletters? (?:as|into|to) (?:numbers|digits|positions)\b/,
    /\ba ?= ?[01]\b/,
    /\b(?:deletrea\w*|epelle\w*|buchstabier\w*)\b/,
  ],
  transliterate: [
    /\btransliterat\w*/,
    /\bromani[sz]\w*/,
    /\b(?:in|into|using|with) (?:cyrillic|greek|hebrew|arabic|runic|runes|hiragana|katakana|braille|emoji|emojis)\b/,
    /\bbraille\b/,
    /\b(?:full[- ]?width|small caps|upside[- ]down|zalgo|bubble letters|emoji letters|regional indicators?|math(?:ematical)? (?:letters|alphanumerics?|bold|italic))\b/,
    /\b(?:unicode|fancy|special) (?:letters|fonts?|characters|symbols)\b/,
    /\bhomoglyphs?\b/,
    /\blook-?alike (?:letters|characters)\b/,
  ],
  reverse: [
    /\bbackwards?\b/,
    /\breversed?\b/,
    /\bin reverse\b/,
    /\bright[- ]to[- ]left\b/,
    /\bmirror(?:ed)? (?:text|writing|image|order)\b/,
    /\b(?:al reves|a l['’ ]?envers|ruckwarts)\b/,
  ],
  'letter-game': [
    /\bpig[- ]latin\b/,
    /\bubbi[- ]dubbi\b/,
    /\b(?:double dutch|gibberish language|obbish|javanais|verlan|jeringonza|louchebem)\b/,
    /\banagram\w*/,
    /\bscrambl\w*/,
    /\bjumbl\w*/,
    /\b(?:leet|l33t|1337)(?:speak)?\b/,
    /\b(?:letter|word|language) games?\b/,
    /\b(?:double|triple|repeat|duplicate)[sd]? (?:each|every|all the) letters?\b/,
    /\b(?:between|after|before) (?:each|every) letter\b/,
    /\bpad(?:ded|ding)? (?:each|every|the) letters?\b/,
    /\bwithout (?:the |any )?vowels\b/,
    /\bswap(?:ped)? (?:the )?(?:letters|syllables)\b/,
    /\bsecret language\b/,
  ],
};

/** Lower case, accents removed, runs of spaces as one: what the phrases are written against. */
function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ');
}

/** The encoding requests in a question; undefined when it asks for none. */
export function encodingRequest(question: string): EncodingRequest | undefined {
  const folded = fold(question);
  const asks: EncodingAsk[] = [];
  const phrases: string[] = [];
  for (const ask of ENCODING_ASKS) {
    let found = false;
    for (const re of PHRASES[ask]) {
      const m = re.exec(folded);
      if (!m) continue;
      found = true;
      if (!phrases.includes(m[0])) phrases.push(m[0]);
    }
    if (found) asks.push(ask);
  }
  return asks.length ? { asks, phrases } : undefined;
}

// --- what the guard cannot read -------------------------------------------------------------------

/**
 * The shortest run (in characters of its tokens, spaces not counted) that counts as long. A name of two
 * unlisted words is shorter; its base64 (20+ characters), hex, position numbers or a sentence in a
 * cipher are longer.
 */
export const UNREADABLE_RUN_MIN = 20;

export interface UnreadableRun {
  /** Offsets into the text: the run's first and one past its last character. */
  readonly start: number;
  readonly end: number;
  /** Characters in its tokens (spaces and punctuation between tokens left out). */
  readonly chars: number;
}

/** A token part the English word list knows, a small number, or a one-letter word. */
function readablePart(part: string): boolean {
  if (/^\d{1,4}(?:[.,]\d+)*$/.test(part)) return true;
  if (/^[ai]$/i.test(part)) return true;
  return part.length > 1 && /^\p{L}+$/u.test(part) && wordRank(part) !== undefined;
}

/**
 * A token is readable when every part of it is: split at camel-case humps, digits and every character
 * that is neither letter nor digit (identifiers, calls, contractions, hyphenated words). Punctuation alone is neutral. Anything else (a
 * word no list has, a run of hex or base64, letters of another script, symbols standing for letters)
 * is not.
 */
function tokenClass(token: string): 'readable' | 'unreadable' | 'neutral' {
  const core = token.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, '');
  if (!core) return /[\p{L}\p{N}]/u.test(token) ? 'unreadable' : /^[\p{P}]+$/u.test(token) ? 'neutral' : 'unreadable';
  // A chain of numbers ("22-5-12-13", "1.2.3.4.5") stands for letters or bytes, not a quantity.
  if (/^\d+(?:[-./:|]\d+){3,}$/.test(core)) return 'unreadable';
  const parts = core
    .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2')
    .split(/[^\p{L}\p{N}]+|(?<=\p{L})(?=\d)|(?<=\d)(?=\p{L})/u)
    .filter(Boolean);
  return parts.length > 0 && parts.every(readablePart) ? 'readable' : 'unreadable';
}

/**
 * The longest run of consecutive unreadable tokens (punctuation-only tokens between them do not break
 * it), when it reaches `min` characters; undefined otherwise.
 */
export function longUnreadableRun(text: string, min = UNREADABLE_RUN_MIN): UnreadableRun | undefined {
  let best: UnreadableRun | undefined;
  let start = -1;
  let end = -1;
  let chars = 0;
  const close = () => {
    if (start >= 0 && chars >= min && (!best || chars > best.chars)) best = { start, end, chars };
    start = -1;
    chars = 0;
  };
  for (const m of text.matchAll(/\S+/g)) {
    const kind = tokenClass(m[0]);
    if (kind === 'neutral') continue;
    if (kind === 'readable') {
      close();
      continue;
    }
    if (start < 0) start = m.index;
    end = m.index + m[0].length;
    chars += [...m[0]].length;
  }
  close();
  return best;
}
