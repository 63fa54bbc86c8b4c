import { FLOOR_PER_MILLION, PER_MILLION_AT_RANK, WORDS_BY_FREQUENCY } from './wordFrequency.generated';

/**
 * How common an English word is, from the SUBTLEX-US counts (see wordFrequency.generated.ts). Two users:
 * relevance weighs a rare word ("Hogwarts", a surname) far above a common one ("school") even when a
 * workspace has a single target, so no corpus of its own could tell; and the targets editor warns when a
 * name or alias is an ordinary word ("Will", "Mark"), which would redact every "will" in every answer.
 */
let ranks: Map<string, number> | undefined;

function table(): Map<string, number> {
  if (!ranks) {
    ranks = new Map();
    let rank = 1;
    for (const word of WORDS_BY_FREQUENCY.split(' ')) ranks.set(word, rank++);
  }
  return ranks;
}

/** 1 for the most frequent word; undefined when the word is not among the listed ones (rare, or not English). */
export function wordRank(word: string): number | undefined {
  return table().get(word.toLowerCase());
}

/** Occurrences per million words, interpolated from the rank (at most FLOOR_PER_MILLION for an unlisted word). */
export function perMillion(word: string): number {
  const rank = wordRank(word);
  if (rank === undefined) return FLOOR_PER_MILLION;
  const at = (rank - 1) / 1000;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, PER_MILLION_AT_RANK.length - 1);
  const a = PER_MILLION_AT_RANK[lo] ?? FLOOR_PER_MILLION;
  const b = PER_MILLION_AT_RANK[hi] ?? FLOOR_PER_MILLION;
  // Log-linear between the sampled ranks: word frequencies fall off like a power law.
  return Math.exp(Math.log(a) + (Math.log(b) - Math.log(a)) * (at - lo));
}

/** The default cut-off for "an ordinary word": the 5,000 most frequent words of spoken English. */
const COMMON_WORD_RANK = 5000;

/** True when `word` (one word, any case) is among the `maxRank` most frequent English words. */
export function isCommonWord(word: string, maxRank = COMMON_WORD_RANK): boolean {
  const rank = wordRank(word);
  return rank !== undefined && rank <= maxRank;
}
