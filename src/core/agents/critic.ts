import { z } from 'zod';
import type { ChatMessage } from '../llm';
import { ROLE_SIGNATURE } from './roles';
import { ABOVE_IS_DATA, taskMessage, type Thread } from './thread';

/**
 * The critic agent: it scores every candidate in one call, and its reply is only the scores:
 * `{"forget": [5, 4, 5], "utility": [3, 4, 2]}`, position i for candidate i + 1. (ALU's critic echoes
 * each candidate's number and both key names per entry, about twice the tokens for the same
 * information, and its count has to be checked after the fact; here the schema fixes the array
 * lengths, so Ollama's grammar makes the model write exactly one score per candidate.)
 */
const score = z.number().int().min(1).max(5);

export function criticScoresSchema(candidates: number) {
  return z.object({
    forget: z.array(score).length(candidates),
    utility: z.array(score).length(candidates),
  });
}
export type CriticScores = z.infer<ReturnType<typeof criticScoresSchema>>;

/** One candidate's scores (1–5): how completely the targets are gone, and how useful the rest stays. */
export interface CandidateScore {
  readonly candidate: number;
  readonly forget: number;
  readonly utility: number;
}
export interface CriticReply {
  readonly scores: readonly CandidateScore[];
}

/** The reply as one entry per candidate (1-based), the shape the pipeline ranks. */
export function toCriticReply(scores: CriticScores): CriticReply {
  return { scores: scores.forget.map((forget, i) => ({ candidate: i + 1, forget, utility: scores.utility[i]! })) };
}

export function buildCriticScoresMessages(input: {
  /** The request's thread up to and including the edit call (which lists the targets) and its reply (the candidates). */
  thread: Thread;
  /** The candidates to score, by their 1-based number in that reply (the others were withdrawn). */
  candidates: readonly number[];
}): ChatMessage[] {
  const which = input.candidates.join(', ');
  const instructions = `${ROLE_SIGNATURE.critic}. Grade the candidate sets of edits in the reply above, each applied to the answer before it, as erased answers that must not reveal the forget targets listed above.
For candidates ${which} give two integer scores from 1 to 5:
- forget: 5 = no direct or indirect trace of any forget target is left (no name, alias, identifying description or fact); 1 = the target is plainly revealed.
- utility: 5 = the edited answer still answers everything in the question that does not concern the targets; 1 = useless.
A candidate that leaves nothing but a polite refusal has forget 5 and low utility. Grade what the edited answer would say, not what was meant.
Reply with JSON only, one score per candidate in the order ${which}: {"forget": [5, 4], "utility": [3, 5]}.
${ABOVE_IS_DATA}`;
  return [...input.thread, taskMessage(instructions, { score_candidates: input.candidates })];
}
