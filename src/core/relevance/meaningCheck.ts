import { MEANING_REASON, sentenceMarker, type Redaction } from '../guard';
import type { ForgetTarget } from '../targets';
import { KEYWORD_THRESHOLD } from './keywordIndex';
import { keywordTokens } from './tokenize';
import { isCommonWord } from '../text';
import type { Relevance } from './relevance';
import type { TargetEmbeddings } from './targetEmbeddings';

/**
 * The meaning check on what is shown: deterministic, no chat model involved. Every sentence of a final
 * answer is scored against the request's shortlisted targets with relevance's own two signals
 * (keywords, and meaning when an embedding model is set), each read in the light of the question: a
 * sentence that answers a question about a target counts as about it even when it repeats none of the
 * target's words. A sentence over its target's threshold is replaced by a marker; when most of the
 * answer goes, the caller shows the fixed refusal instead.
 *
 * Why it exists: the detect, rewrite and critic agents are one model judging itself, and a prompt
 * injection (or a careless small model) can make all three wave an answer through. This check is
 * the last word on the way out, and no model reply can switch it off.
 */

/** One sentence of a text: offsets into the text, trailing whitespace excluded. */
export interface SentenceSpan {
  readonly start: number;
  readonly end: number;
}

/** A sentence judged to be about a target. */
export interface SentenceHit {
  readonly targetId: string;
  /** `unreadable`: an encoding was asked for and the sentence holds a long run no word list reads. */
  readonly kind: 'keyword' | 'meaning' | 'unreadable';
  /** The combined score (sentence read with the question) and the threshold it reached. */
  readonly score: number;
  readonly threshold: number;
}

/**
 * How much the question's own evidence lends each sentence: a sentence that answers a question about
 * the target then needs 0.7 of the evidence on its own, and a question alone never makes an unrelated
 * sentence ("Hope this helps!") count. Keywords: the question's score, capped at the threshold, times
 * this (for keywords 0 is no evidence, so 0.7 of the threshold is about one rare word of the target's
 * text). Meaning: this share of the profile's margin, and only when the question is over the row's
 * threshold (see `judge`).
 */
const QUESTION_WEIGHT = 0.3;

/** Share of the answer's sentence characters removed from which the whole answer becomes the refusal. */
export const REFUSE_SHARE = 0.5;

/** Abbreviations whose full stop does not end a sentence ("Dr. Lindqvist" is one sentence). */
const ABBREVIATIONS = new Set([
  'dr',
  'mr',
  'mrs',
  'ms',
  'prof',
  'st',
  'jr',
  'sr',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'no',
  'fig',
  'inc',
  'ltd',
  'co',
]);

// Not text's splitSentences (edit units): that one cuts "Dr. Valtonen" apart and returns no spans, which the gate needs.
/**
 * Sentences of a text: ends at `.`, `!` or `?` followed by whitespace (closing quotes and brackets
 * stay with the sentence), and at every line break (a list item, a heading or a line of code is a unit
 * of its own). A full stop after a known abbreviation or a single capital ("J. Smith") does not end one.
 */
export function splitSentences(text: string): SentenceSpan[] {
  const spans: SentenceSpan[] = [];
  let start = skipSpace(text, 0);
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    let end = -1;
    if (c === '\n') end = i;
    else if ((c === '.' || c === '!' || c === '?') && i + 1 < text.length) {
      let j = i + 1;
      while (j < text.length && /["')\]’”*_]/.test(text[j]!)) j++;
      if (j < text.length && /\s/.test(text[j]!) && !(c === '.' && abbreviationBefore(text, start, i))) end = j;
    }
    if (end < 0) continue;
    const trimmed = trimEnd(text, start, end);
    if (trimmed > start) spans.push({ start, end: trimmed });
    start = skipSpace(text, end);
    i = start - 1;
  }
  const trimmed = trimEnd(text, start, text.length);
  if (trimmed > start) spans.push({ start, end: trimmed });
  return spans;
}

/** Where a sentence that may still grow is complete: the end of the last sentence followed by its break, or -1. */
export function completeUpTo(text: string): number {
  const spans = splitSentences(text);
  if (spans.length === 0) return -1;
  const last = spans[spans.length - 1]!;
  // The last span is complete only when something (a break, the next sentence's start) follows it.
  if (last.end < text.length && /\s/.test(text[last.end]!) && endsSentence(text, last)) return last.end;
  return spans.length > 1 ? spans[spans.length - 2]!.end : -1;
}

function endsSentence(text: string, span: SentenceSpan): boolean {
  // splitSentences ended it at a break or a terminator followed by space, unless it is the text's tail.
  const after = text.slice(span.end);
  return /^\s*\n/.test(after) || /[.!?]["')\]’”*_]*$/.test(text.slice(span.start, span.end));
}

function abbreviationBefore(text: string, start: number, dot: number): boolean {
  let k = dot;
  while (k > start && /[\p{L}.]/u.test(text[k - 1]!)) k--;
  const word = text.slice(k, dot).toLowerCase();
  return ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word);
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

function trimEnd(text: string, start: number, end: number): number {
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return end;
}

/** What the question (and the turns just before it) score for each target, computed once per request. */
export interface QuestionScores {
  readonly keyword: ReadonlyMap<string, number>;
  /** Per target row: the question's best similarity (absent without meaning). */
  readonly meaning?: ReadonlyMap<number, number>;
}

/**
 * Scores sentences against a fixed set of targets (the request's shortlist). Built per request: the
 * question's scores are computed once; each batch of sentences costs one keyword pass per sentence
 * and a few dot products per sentence and target.
 */
export class MeaningCheck {
  private readonly ids: ReadonlySet<string>;
  private readonly question: QuestionScores;
  private readonly questionWords: ReadonlySet<string>;

  constructor(
    private readonly relevance: Relevance,
    private readonly targets: readonly ForgetTarget[],
    /** The question (and recent turns): what each answer sentence is read with. */
    questionTexts: readonly string[],
    /** The built embedding index and the question texts' vectors, when meaning is available. */
    private readonly embeddings?: { index: TargetEmbeddings; questionVectors: readonly Float32Array[] },
    /**
     * Targets the detect agent cleared in the uncertain band (no binding evidence, detection said no):
     * the question's meaning score lends them nothing, and a sentence's meaning alone must reach the
     * sure band (keywords read them as any other target). Read at judge time, since a streamed answer
     * is judged before detection has run.
     */
    private readonly cleared: (targetId: string) => boolean = () => false,
  ) {
    this.ids = new Set(targets.map((t) => t.id));
    this.questionWords = new Set(questionTexts.flatMap((t) => keywordTokens(t)));
    const keyword = new Map<string, number>();
    for (const hit of relevance.keywords.search(questionTexts, 0)) if (this.ids.has(hit.targetId)) keyword.set(hit.targetId, hit.score);
    let meaning: Map<number, number> | undefined;
    if (embeddings) {
      meaning = new Map();
      for (const t of targets) {
        // A target with no description and no examples is its name alone: the guard reads names, and
        // a sentence that shares a common word of the name ("that project") is not about it.
        if (!t.description && !t.examples?.length) continue;
        const rows = embeddings.index.rowsOf(t.id);
        if (!rows) continue;
        for (let r = rows[0]; r < rows[1]; r++) {
          let best = -1;
          for (const v of embeddings.questionVectors) best = Math.max(best, embeddings.index.similarity(v, r));
          meaning.set(r, best);
        }
      }
    }
    this.question = { keyword, ...(meaning ? { meaning } : {}) };
  }

  /** The targets checked. */
  get size(): number {
    return this.targets.length;
  }

  /** Whether sentence vectors are read (an embedding index and the question's vectors were given). */
  get usesMeaning(): boolean {
    return this.embeddings !== undefined;
  }

  /**
   * For each sentence, the target it is most over the threshold for, or undefined. `vectors` (one per
   * sentence, same order) when meaning is available; without them the keyword signal alone decides.
   */
  judge(sentences: readonly string[], vectors?: readonly (Float32Array | undefined)[]): (SentenceHit | undefined)[] {
    return sentences.map((sentence, i) => {
      let best: SentenceHit | undefined;
      let bestExcess = 0;
      const consider = (hit: SentenceHit) => {
        const excess = hit.score / hit.threshold;
        if (excess >= 1 && excess > bestExcess) {
          best = hit;
          bestExcess = excess;
        }
      };
      // Words the question itself used count half: repeating what the user said ("How big is the port
      // of Rotterdam?" → "Rotterdam has…") reveals less than a word the user never wrote.
      // Common English words ("that project") never make a sentence about a target on their own, even
      // when the target's name holds one; the guard reads names, this check reads facts.
      const words = keywordTokens(sentence).filter((w) => !isCommonWord(w));
      const own = new Map<string, number>();
      if (words.length)
        for (const hit of this.relevance.keywords.search([words.join(' ')], 0))
          if (this.ids.has(hit.targetId)) own.set(hit.targetId, hit.score / 2);
      const fresh = words.filter((w) => !this.questionWords.has(w)).join(' ');
      if (fresh)
        for (const hit of this.relevance.keywords.search([fresh], 0))
          if (own.has(hit.targetId)) own.set(hit.targetId, own.get(hit.targetId)! + hit.score / 2);
      for (const [id, score] of own) {
        // The question lends at most 0.3 of a threshold: on its own it cannot carry a sentence over.
        const lent = QUESTION_WEIGHT * Math.min(this.question.keyword.get(id) ?? 0, KEYWORD_THRESHOLD);
        consider({ targetId: id, kind: 'keyword', score: score + lent, threshold: KEYWORD_THRESHOLD });
      }
      const v = vectors?.[i];
      if (v && this.embeddings && this.question.meaning) {
        const { index } = this.embeddings;
        for (const t of this.targets) {
          const rows = index.rowsOf(t.id);
          if (!rows || !this.question.meaning.has(rows[0])) continue;
          const cleared = this.cleared(t.id);
          for (let r = rows[0]; r < rows[1]; r++) {
            const s = index.similarity(v, r);
            const q = this.question.meaning.get(r) ?? -1;
            const threshold = index.rowThreshold[r]!;
            // Read with the question only when the question itself is over this row's threshold (and
            // detection did not clear the target): then the question lends QUESTION_WEIGHT of the
            // margin, so the sentence must stand 0.7 of a margin above the row's unrelated level on its
            // own. The unit is the margin, not the similarity: a similarity of 0 is not "no evidence".
            // A row's threshold is its unrelated level (what everyday texts score, well above 0 on real
            // models) plus the margin, so a share of the threshold itself would lend more than the
            // margin and carry sentences that sit at the unrelated level ("Hope this helps!").
            // Otherwise the sentence alone must reach the sure band, with nothing lent: a single
            // sentence's vector is noisy, and the everyday answers near a target (a question about a
            // neighbouring subject) would otherwise lose sentences (the precision bench). Per row, not
            // per target: a question near one facet of a target (one sample question) says nothing of
            // a sentence near another, and lending across rows removed more everyday sentences there.
            const about = !cleared && q >= threshold;
            const needed = about ? threshold : threshold + index.sureMargin;
            const combined = about ? s + QUESTION_WEIGHT * index.profile.margin : s;
            consider({ targetId: t.id, kind: 'meaning', score: combined, threshold: needed });
          }
        }
      }
      return best;
    });
  }
}

/** The text with every judged sentence replaced by its marker, and the redactions moved to match. */
export interface Checked {
  readonly text: string;
  readonly redactions: Redaction[];
  /** Sentences removed, and the share of the sentence characters they held. */
  readonly removed: number;
  readonly removedShare: number;
}

/**
 * Replaces the sentences that have a hit by `sentenceMarker`, keeps the rest as written, and moves the
 * existing redactions (markers inside a removed sentence go with it).
 */
export function applySentenceHits(
  text: string,
  redactions: readonly Redaction[],
  spans: readonly SentenceSpan[],
  hits: readonly (SentenceHit | undefined)[],
  nameOf: (targetId: string) => string,
): Checked {
  let out = '';
  let at = 0;
  let shift = 0;
  const moved: Redaction[] = [];
  let removed = 0;
  let removedChars = 0;
  let totalChars = 0;
  let r = 0;
  const sorted = [...redactions].sort((a, b) => a.start - b.start);
  spans.forEach((span, i) => {
    totalChars += span.end - span.start;
    const hit = hits[i];
    if (!hit) return;
    // Redactions before this sentence keep their place (shifted by what earlier removals changed).
    while (r < sorted.length && sorted[r]!.end <= span.start) moved.push(shiftBy(sorted[r++]!, shift));
    while (r < sorted.length && sorted[r]!.start < span.end) r++;
    const name = nameOf(hit.targetId);
    const marker = sentenceMarker(name);
    out += text.slice(at, span.start);
    const start = out.length;
    out += marker;
    moved.push({ targetId: hit.targetId, targetName: name, start, end: out.length, reason: MEANING_REASON[hit.kind], by: 'meaning' });
    shift += marker.length - (span.end - span.start);
    at = span.end;
    removed++;
    removedChars += span.end - span.start;
  });
  while (r < sorted.length) moved.push(shiftBy(sorted[r++]!, shift));
  out += text.slice(at);
  return { text: out, redactions: moved, removed, removedShare: totalChars ? removedChars / totalChars : 0 };
}

function shiftBy(r: Redaction, shift: number): Redaction {
  return shift === 0 ? r : { ...r, start: r.start + shift, end: r.end + shift };
}
