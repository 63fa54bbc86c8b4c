import type { ForgetTarget } from '../targets';
import { perMillion } from '../text';
import { keywordTokens } from './tokenize';

/**
 * Keyword relevance: a BM25-style score of each target's words (name parts, aliases, description,
 * examples) against the words of a request. Works with no embedding model at all.
 *
 * Inverse document frequency has two parts, multiplied:
 *  - background rarity, from English word frequencies: with one target a corpus cannot tell that
 *    "Hogwarts" or "Lindqvist" is rare and "school" is not, the frequency list can;
 *  - corpus spread: a word in many targets' texts ("company" in 5,000 client descriptions) says
 *    little about which one a request is about.
 * A word of the target's name or aliases weighs double: a surname alone points at a person.
 */
export interface KeywordHit {
  readonly targetId: string;
  readonly score: number;
  /** The request words that matched, strongest first (at most five): words the user or model wrote. */
  readonly words: readonly string[];
}

export interface KeywordIndex {
  /** Targets scoring at least `minScore` (default: the threshold), best first. */
  search(texts: readonly string[], minScore?: number): KeywordHit[];
  readonly threshold: number;
  readonly targetCount: number;
}

/**
 * Score from which a target counts as related: roughly one rare word of its description ("Hogwarts",
 * about 5.5), a surname of its name (rarer than rank ~5,000 × 2), or two moderately rare words together
 * ("headmaster" + "wizard"). A false positive costs one short detection call, a miss lets facts through,
 * so the bar leans low.
 */
export const KEYWORD_THRESHOLD = 4.5;

/**
 * The sure band: from this score a target is touched with no detection call, and no agent may say
 * otherwise. Twice the threshold: two rare words of the target's text ("Hogwarts" + "Dumbledore"), or a
 * word of its name written in lower case, which a question about something else does not reach by chance.
 */
export const KEYWORD_SURE = 2 * KEYWORD_THRESHOLD;

/** Per million words at which background rarity reaches 0: words this common never count. */
const COMMON_PER_MILLION = 200;
/** Words below this weight are not looked up at all (keeps long postings of ordinary words out of the hot loop). */
const MIN_IDF = 0.4;
const NAME_BOOST = 2;
/** BM25 saturation and (mild) length normalisation: a long description should not drown its rare words. */
const K1 = 1.2;
const B = 0.3;
/** Digits-only tokens (years, amounts) are weak evidence whatever their rarity. */
const NUMBER_IDF_CAP = 2;

/** Background rarity of a folded word: 0 for everyday words, about 5.5 for words outside the 20,000 most frequent. */
export function backgroundIdf(word: string): number {
  const pm = Math.max(perMillion(word), perMillion(word + 's'));
  const idf = Math.max(0, Math.log(COMMON_PER_MILLION / pm));
  return /^\d+$/.test(word) ? Math.min(idf, NUMBER_IDF_CAP) : idf;
}

export function buildKeywordIndex(targets: readonly ForgetTarget[]): KeywordIndex {
  const enabled = targets.filter((t) => t.enabled);
  const n = enabled.length;
  // One pass: per term, the targets that use it and how (term frequency, plus NAME_FLAG when the word is
  // in the name or an alias). BM25's length normalisation needs the average length, known only at the
  // end, so posting weights are computed when the lists are frozen below.
  const termIds = new Map<string, number>();
  const postTargets: number[][] = [];
  const postTf: number[][] = [];
  const lengths = new Float64Array(n);
  const bag = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = enabled[i]!;
    bag.clear();
    for (const text of [t.description ?? '', ...(t.examples ?? [])]) for (const w of keywordTokens(text)) bag.set(w, (bag.get(w) ?? 0) + 1);
    for (const text of [t.name, ...t.aliases]) for (const w of keywordTokens(text)) bag.set(w, (bag.get(w) ?? 1) | NAME_FLAG);
    let len = 0;
    for (const [w, v] of bag) {
      len += v & TF_MASK || 1;
      let id = termIds.get(w);
      if (id === undefined) {
        id = postTargets.length;
        termIds.set(w, id);
        postTargets.push([]);
        postTf.push([]);
      }
      postTargets[id]!.push(i);
      postTf[id]!.push(v);
    }
    lengths[i] = len;
  }
  let avg = 0;
  for (let i = 0; i < n; i++) avg += lengths[i]!;
  avg = n ? avg / n : 1;
  const postings = new Map<string, { targets: Int32Array; weights: Float32Array; idf: number }>();
  const logN = Math.log(1 + n);
  for (const [w, id] of termIds) {
    const ts = postTargets[id]!;
    const spread = n > 1 ? Math.log(1 + n / ts.length) / logN : 1;
    const idf = backgroundIdf(w) * spread;
    if (idf < MIN_IDF) continue;
    const tfs = postTf[id]!;
    const weights = new Float32Array(ts.length);
    for (let k = 0; k < ts.length; k++) {
      const v = tfs[k]!;
      const tf = v & TF_MASK || 1;
      const norm = K1 * (1 - B + (B * lengths[ts[k]!]!) / (avg || 1));
      weights[k] = ((tf * (K1 + 1)) / (tf + norm)) * (v & NAME_FLAG ? NAME_BOOST : 1);
    }
    postings.set(w, { targets: Int32Array.from(ts), weights, idf });
  }
  termIds.clear();
  postTargets.length = 0;
  postTf.length = 0;

  const scores = new Float32Array(n);
  const touched: number[] = [];
  return {
    threshold: KEYWORD_THRESHOLD,
    targetCount: n,
    search(texts, minScore = KEYWORD_THRESHOLD) {
      const terms = new Set<string>();
      for (const text of texts) for (const w of keywordTokens(text)) terms.add(w);
      const matched: { term: string; idf: number; targets: Int32Array; weights: Float32Array }[] = [];
      for (const term of terms) {
        const p = postings.get(term);
        if (p) matched.push({ term, ...p });
      }
      touched.length = 0;
      for (const m of matched) {
        const { targets: ts, weights, idf } = m;
        for (let k = 0; k < ts.length; k++) {
          const i = ts[k]!;
          if (scores[i] === 0) touched.push(i);
          scores[i]! += idf * weights[k]!;
        }
      }
      const hits: { i: number; score: number }[] = [];
      for (const i of touched) {
        if (scores[i]! >= minScore) hits.push({ i, score: scores[i]! });
        scores[i] = 0;
      }
      hits.sort((a, b) => b.score - a.score);
      return hits.map(({ i, score }) => ({ targetId: enabled[i]!.id, score, words: wordsFor(i, matched) }));
    },
  };
}

/** A posting's packed value: the term frequency in the low bits, and whether the word is in the name. */
const NAME_FLAG = 1 << 20;
const TF_MASK = NAME_FLAG - 1;

function wordsFor(i: number, matched: readonly { term: string; idf: number; targets: Int32Array; weights: Float32Array }[]): string[] {
  const found: { term: string; contribution: number }[] = [];
  for (const m of matched) {
    const k = indexOf(m.targets, i);
    if (k >= 0) found.push({ term: m.term, contribution: m.idf * m.weights[k]! });
  }
  return found
    .sort((a, b) => b.contribution - a.contribution)
    .slice(0, 5)
    .map((f) => f.term);
}

/** Postings are in ascending target order: binary search. */
function indexOf(a: Int32Array, v: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = a[mid]!;
    if (x === v) return mid;
    if (x < v) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
