import { isAbort, type ChatMessage } from '../llm';
import {
  KEYWORD_THRESHOLD,
  keywordTokens,
  type AuditPolicy,
  type QueryVectors,
  type Relevance,
  type RequestPart,
  type SentenceHit,
} from '../relevance';
import { ControlStripper } from '../text';
import { SentenceGate, type SentenceJudge } from './sentenceGate';
import type { PipelineInput } from './types';

/** What streaming the vanilla draft (and the meaning check) borrows from the request's run. */
export interface StreamRun {
  readonly input: PipelineInput;
  /** The turns the vanilla agent saw. */
  readonly sent: readonly ChatMessage[];
  readonly policy: AuditPolicy;
  readonly relevance: Relevance;
  /** Query vectors for texts of this request, or undefined when meaning is off. */
  embed(texts: { part: RequestPart; text: string }[]): Promise<QueryVectors> | undefined;
}

/** A vanilla answer being streamed; `end` says what was shown and whether the stream stopped. */
export type UntouchedStream = ReturnType<typeof streamUntouched>;

/**
 * Streams the vanilla answer as it is written, one sentence at a time, each only once the text so
 * far touches nothing: no name (the guard's matcher over everything so far), and under `related`
 * no keyword score (question, history and the answer so far together) or sentence meaning over any
 * target's threshold, and a question that relevance alone shortlists nothing for. The first
 * sentence that fails stops the stream for good; the request then goes on as before (detection,
 * erasure), and what follows the shown start is shown after it. `named` streams through the
 * matcher alone.
 */
export function streamUntouched(run: StreamRun, asked: Promise<QueryVectors> | undefined) {
  const { index, question } = run.input;
  const stripper = new ControlStripper();
  const context = [question, ...run.sent.map((m) => m.content)];
  const vectors: Float32Array[] = [];
  // The matcher reads the last holdBack characters before each sentence with it (no name is longer),
  // and keyword scores add up word by word (a word counts once), so each sentence costs its own length.
  let tail = '';
  const seen = new Set<string>();
  const scores = new Map<string, number>();
  let questionClear: Promise<boolean> | undefined;
  const stop: SentenceHit = { targetId: '', kind: 'keyword', score: 1, threshold: 1 };
  const model = run.input.options.embeddingModel;
  const judge: SentenceJudge = async (sentences) => {
    if (run.policy !== 'named') {
      // The question alone (with its vectors, which are being computed anyway) must reach no target.
      questionClear ??= (async () => {
        const queries: QueryVectors = asked ? await asked : { state: { status: 'off' } };
        const report = run.relevance.assess({ policy: run.policy, named: [], texts: context, queries, ...(model ? { model } : {}) });
        for (const text of context) for (const w of keywordTokens(text)) seen.add(w);
        for (const hit of run.relevance.keywords.search(context, 0)) scores.set(hit.targetId, hit.score);
        return report.shortlist.length === 0;
      })();
      if (!(await questionClear)) return sentences.map(() => stop);
    }
    let own: readonly Float32Array[] | undefined;
    const embedding = model ? run.relevance.embeddingsFor(model) : undefined;
    if (run.policy !== 'named' && embedding) {
      const got = run.embed(sentences.map((text) => ({ part: 'answer' as const, text })));
      const v = got ? await got : undefined;
      if (v && 'vectors' in v && v.vectors.length === sentences.length) own = v.vectors;
    }
    const verdicts: (SentenceHit | undefined)[] = [];
    for (let i = 0; i < sentences.length; i++) {
      const sentence = sentences[i]!;
      const text = tail ? `${tail} ${sentence}` : sentence;
      if (index.mentionedTargets(text).length > 0) return [...verdicts, stop];
      if (run.policy !== 'named') {
        const fresh = [...new Set(keywordTokens(sentence))].filter((w) => !seen.has(w));
        for (const w of fresh) seen.add(w);
        if (fresh.length) {
          for (const hit of run.relevance.keywords.search([fresh.join(' ')], 0)) {
            const total = (scores.get(hit.targetId) ?? 0) + hit.score;
            scores.set(hit.targetId, total);
            if (total >= KEYWORD_THRESHOLD) return [...verdicts, stop];
          }
        }
        if (own && embedding && embedding.search([own[i]!]).length > 0) return [...verdicts, stop];
        if (own) vectors.push(own[i]!);
      }
      tail = text.slice(-index.holdBack);
      verdicts.push(undefined);
    }
    return verdicts;
  };
  const gate = new SentenceGate(judge, (text) => run.input.onEvent?.({ type: 'answer-chunk', text }), 'stop');
  return {
    push: (piece: string) => gate.push(stripper.push(piece)),
    /** Whether any sentence has been shown yet. */
    anythingShown: () => gate.shown !== '',
    /** Shows nothing more, not even a sentence whose check is still running (the draft was stopped). */
    abandon: () => {
      gate.stopped = true;
    },
    end: async () => {
      gate.push(stripper.end());
      try {
        await gate.end();
      } catch (error) {
        // A failed check shows nothing more; the request goes on with what was shown.
        if (isAbort(error) || run.input.signal?.aborted) throw error;
      }
      return { shown: gate.shown, stopped: gate.stopped, vectors };
    },
  };
}
