import { assignHandles, type HandledTarget } from '../core/targets';
import {
  buildComposerMessages,
  buildCriticScoresMessages,
  buildRewriteMessages,
  buildVanillaMessages,
  callStructured,
  criticScoresSchema,
  rewriteOptions,
  toCriticReply,
} from '../core/agents';
import type { LlmPort } from '../core/llm';
import { finalizeAnswer, type TargetIndex } from '../core/guard';
import { allWithLimit } from '../core/pipeline';

/**
 * Candidate flows for a touched request, built from the phase-1 building blocks and timed against the
 * same paced server as the pipeline: measurements for choosing what phase 2 wires into the pipeline,
 * not a second pipeline. Each ends with the guard over the text shown; none has the pipeline's refusal
 * paths (the bench's critic always passes), which do not change the time of the success path.
 */
export interface SketchFlow {
  readonly name: string;
  /** What it gives up from ALU as published, if anything. */
  readonly givesUp: string;
  /** Write a vanilla draft first (needed when only the answer, not the question, touches a target). */
  readonly vanilla: boolean;
  /** Candidates written by parallel single-candidate calls. */
  readonly candidates: number;
  /** 1: the best candidate is shown (through the guard) with no composer call; more: the composer merges the top k. */
  readonly topK: number;
}

export const SKETCH_FLOWS: readonly SketchFlow[] = [
  { name: 'vanilla, j∥ rewrites, scores critic, composer k=2', givesUp: 'nothing', vanilla: true, candidates: 3, topK: 2 },
  { name: 'vanilla, j∥ rewrites, scores critic, best (k=1)', givesUp: 'the composer merge (k=1)', vanilla: true, candidates: 3, topK: 1 },
  {
    name: 'no vanilla, j∥ rewrites, scores critic, composer k=2',
    givesUp: 'the draft (question names a target)',
    vanilla: false,
    candidates: 3,
    topK: 2,
  },
  {
    name: 'no vanilla, j∥ rewrites, scores critic, best (k=1)',
    givesUp: 'the draft and the merge',
    vanilla: false,
    candidates: 3,
    topK: 1,
  },
  {
    name: 'no vanilla, j=2∥ rewrites, scores critic, best (k=1)',
    givesUp: 'the draft, the merge, j 3→2',
    vanilla: false,
    candidates: 2,
    topK: 1,
  },
];

export interface SketchTiming<M> {
  /** The caller's clock readings when the first answer text was ready and at the end. */
  readonly first: M;
  readonly end: M;
  readonly calls: number;
}

export async function runSketch<M>(
  flow: SketchFlow,
  input: {
    mark: () => M;
    llm: LlmPort;
    model: string;
    index: TargetIndex;
    question: string;
    /** Ollama's num_ctx for every call, as the pipeline sends it (another value would reload the model). */
    numCtx: number;
    parallel: number;
    signal?: AbortSignal;
  },
): Promise<SketchTiming<M>> {
  const { llm, model, index, question, signal, mark, numCtx } = input;
  let firstAt: M | undefined;
  let calls = 0;
  const handled: HandledTarget[] = assignHandles(index.mentionedTargets(question));
  let draft: string | undefined;
  if (flow.vanilla) {
    const messages = buildVanillaMessages(question, []);
    draft = (await llm.chat({ model, messages, options: { num_ctx: numCtx }, signal, onToken: () => undefined, label: 'vanilla' })).content;
    calls++;
  }
  const j = flow.candidates;
  const candidates = await allWithLimit(
    Array.from({ length: j }, (_, i) => async (callSignal: AbortSignal) => {
      const r = await llm.chat({
        model,
        messages: buildRewriteMessages({ question, history: [], targets: handled, draft, candidate: i + 1, of: j }),
        options: rewriteOptions({ candidate: i + 1, of: j, numCtx }),
        signal: callSignal,
        onToken: () => undefined,
        label: 'rewrite',
      });
      return r.content;
    }),
    input.parallel,
    signal,
  );
  calls += j;
  const critic = await callStructured(
    llm,
    { label: 'critic', schema: criticScoresSchema(j), messages: buildCriticScoresMessages({ question, candidates, targets: handled }) },
    { model, signal, numCtx },
  );
  calls += critic.responses.length;
  const ranked = toCriticReply(critic.value)
    .scores.map((s) => ({ text: candidates[s.candidate - 1]!, forget: s.forget, utility: s.utility }))
    .sort((a, b) => b.forget - a.forget || b.utility - a.utility);
  let shown: string;
  if (flow.topK === 1) {
    shown = ranked[0]!.text;
    firstAt = mark();
  } else {
    const composed = await llm.chat({
      model,
      messages: buildComposerMessages({ question, best: ranked.slice(0, flow.topK).map((c) => c.text) }),
      options: { num_ctx: numCtx },
      signal,
      onToken: () => (firstAt ??= mark()),
      label: 'compose',
    });
    calls++;
    shown = composed.content;
  }
  finalizeAnswer(shown, index, handled, () => 'the agents erased it');
  const end = mark();
  return { first: firstAt ?? end, end, calls };
}
