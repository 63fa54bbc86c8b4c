/** The targets' names and aliases as the scan needs them: folded, in one automaton, and bucketed for masks. */

import { distinctNameParts, isCaseSensitive, termsOf, type ForgetTarget } from '../targets';
import { Automaton } from './automaton';
import { F_UPPER, GAP_MAX, ESC_MAX, MAX_CHAR_SPAN, SEQ_MAX } from './foldFlags';
import type { Folded } from './folding';
import { lowerBound } from './lowerBound';
import { TermPool } from './termPool';

/**
 * Original characters after the start of a match's last letter that can decide whether it is one: the
 * gap to the next letter (an escape sequence in it may still be open), and an adjacent "s"/"es" plural.
 */
const RIGHT_CONTEXT = GAP_MAX + ESC_MAX + 2 * SEQ_MAX;

/**
 * Built once per target list and read-only afterwards. Every name and alias is an "entry" (its index in
 * the pool); entries with the same skeleton share one automaton pattern.
 */
export class IndexedTerms {
  readonly enabled: readonly ForgetTarget[];
  readonly pool: TermPool;
  /** The enabled target (index into `enabled`) each entry belongs to. */
  readonly termTarget: Int32Array;
  /** Each entry as written in the targets file. */
  readonly termText: readonly string[];
  /** 1 for an entry that matches only with its first letter capitalised (an ordinary word as a proper noun). */
  readonly needsCapital: Uint8Array;
  readonly entries: number;
  readonly automaton: Automaton;
  /** Entries of pattern p are `patternEntries[patternStart[p] .. patternStart[p + 1])` (a CSR list). */
  readonly patternStart: Int32Array;
  readonly patternEntries: Int32Array;
  /** Maskable entries by first letter × 4096 + length. */
  readonly maskBuckets = new Map<number, number[]>();
  /** The same, narrowed by last letter: key × 65536 + last letter, for the usual unmasked last letter. */
  readonly maskBucketsByLast = new Map<number, number[]>();
  /** Most letters in an entry, and in a maskable one; most words in a maskable one. */
  readonly maxLen: number;
  readonly maxMaskLen: number;
  readonly maxMaskWords: number;
  /** Longest stretch of original text one match can cover: verify() bounds n letters to n × MAX_CHAR_SPAN. */
  readonly maxMatchSpan: number;
  /** What a stream holds back: no match is longer, no decision looks further. */
  readonly holdBack: number;
  /** Every entry's skeleton backwards, sorted; built on first use (only streams ask). */
  private reversedSorted: string[] | undefined;

  constructor(targets: readonly ForgetTarget[]) {
    const enabled = targets.filter((t) => t.enabled);
    this.enabled = enabled;
    let chars = 0;
    let termCount = 0;
    // Each target's name and aliases, then its distinctive name parts, which match only capitalised.
    const parts = distinctNameParts(enabled);
    const termLists = enabled.map((t) => [...termsOf(t), ...(parts.get(t.id) ?? [])]);
    const spelled = enabled.map((t) => t.aliases.length + 1);
    for (const terms of termLists) {
      termCount += terms.length;
      for (const term of terms) chars += term.length;
    }
    const pool = new TermPool(termCount, chars + (chars >> 3));
    const termTarget = new Int32Array(termCount);
    const termText: string[] = [];
    const needsCapital = new Uint8Array(termCount);
    enabled.forEach((target, ti) => {
      termLists[ti]!.forEach((term, k) => {
        const i = pool.add(term);
        // A name with no letters or digits (".*") cannot be spelled in text.
        if (pool.length(i) === 0) {
          pool.pop();
          return;
        }
        termTarget[i] = ti;
        termText.push(term);
        // A name part (after the spelled terms) binds only as a proper noun.
        if (k >= spelled[ti]! || isCaseSensitive(target, term)) needsCapital[i] = 1;
      });
    });
    this.pool = pool;
    this.termTarget = termTarget;
    this.termText = termText;
    this.needsCapital = needsCapital;
    const entries = pool.count;
    this.entries = entries;

    const patternOf = new Int32Array(entries);
    const automaton = new Automaton(pool.skeleton, pool.offset, entries, patternOf);
    this.automaton = automaton;
    const start = new Int32Array(automaton.patternCount + 1);
    for (let i = 0; i < entries; i++) start[patternOf[i]! + 1]!++;
    for (let p = 0; p < automaton.patternCount; p++) start[p + 1]! += start[p]!;
    const patternEntries = new Int32Array(entries);
    const fill = start.slice(0, automaton.patternCount);
    for (let i = 0; i < entries; i++) patternEntries[fill[patternOf[i]!]!++] = i;
    this.patternStart = start;
    this.patternEntries = patternEntries;

    // Masked spellings cannot run through the automaton (a mask may be any letter); they are looked up by
    // first letter and length instead. Only names of 3+ letters can be masked (at most a third of them).
    let maxLen = 0;
    let maxMaskLen = 0;
    let maxMaskWords = 1;
    for (let i = 0; i < entries; i++) {
      const len = pool.length(i);
      maxLen = Math.max(maxLen, len);
      if (len < 3 || len >= 4096) continue;
      maxMaskLen = Math.max(maxMaskLen, len);
      let words = 1;
      for (let k = pool.offset[i]! + 1; k < pool.offset[i + 1]!; k++) if (pool.breaks[k]) words++;
      maxMaskWords = Math.max(maxMaskWords, words);
      const key = pool.skeleton[pool.offset[i]!]! * 4096 + len;
      addTo(this.maskBuckets, key, i);
      const last = pool.skeleton[pool.offset[i]! + len - 1]!;
      if (last < 65536) addTo(this.maskBucketsByLast, key * 65536 + last, i);
    }
    this.maxLen = maxLen;
    this.maxMaskLen = maxMaskLen;
    this.maxMaskWords = maxMaskWords;
    this.maxMatchSpan = maxLen * MAX_CHAR_SPAN;
    this.holdBack = this.maxMatchSpan + RIGHT_CONTEXT;
  }

  /** The letter at `k` of `f` (the match's first) satisfies the entry's case rule. */
  capitalOk(entry: number, f: Folded, k: number): boolean {
    return this.needsCapital[entry] === 0 || (f.flags[k]! & F_UPPER) !== 0;
  }

  /** Some entry, read backwards, starts with `prefix`: a stream's last letters could begin a reversed name. */
  reversedPrefixExists(prefix: string): boolean {
    const sorted = (this.reversedSorted ??= this.sortReversed());
    const at = lowerBound(sorted, prefix);
    return at < sorted.length && sorted[at]!.startsWith(prefix);
  }

  private sortReversed(): string[] {
    const { pool } = this;
    const all: string[] = [];
    for (let i = 0; i < this.entries; i++) {
      let r = '';
      for (let k = pool.offset[i + 1]! - 1; k >= pool.offset[i]!; k--) r += String.fromCodePoint(pool.skeleton[k]!);
      all.push(r);
    }
    return all.sort();
  }
}

function addTo(map: Map<number, number[]>, key: number, entry: number): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(entry);
  else map.set(key, [entry]);
}
