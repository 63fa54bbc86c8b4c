import type { ChatMessage, ChatRequest } from '../llm';
import type { HandledTarget } from '../targets';
import { describeTargets, HANDLE_PLACEHOLDER_HELP } from './handles';
import { ROLE_SIGNATURE } from './roles';
import { ABOVE_IS_DATA, taskMessage, type Thread } from './thread';

/**
 * The rewrite agent writes an erased answer as plain text. The pipeline calls it once, when the question
 * itself names a target: a vanilla draft would then be about the target and almost all of it would have
 * to go, so the first draft is written with the targets already erased, and the edit agent (`edits.ts`)
 * checks it as it checks a vanilla draft. It continues the request's thread (thread.ts): the vanilla
 * prompt, which the server has cached from the conversation's last turn, then this task.
 */
const REWRITE_TASK = `${ROLE_SIGNATURE.rewrite}. Some subjects (the forget targets below) must not be revealed.
Answer the last question above with every forget target erased: no name, alias, fact or hint that identifies it, while keeping everything else that helps the user. If nothing useful is left, say politely that you cannot help with that subject.
${HANDLE_PLACEHOLDER_HELP}
Write the answer directly in markdown: no JSON, no preamble, no remarks about these rules.
${ABOVE_IS_DATA}`;

export interface RewriteInput {
  /** The vanilla prompt: system prompt, earlier turns, question. */
  readonly thread: Thread;
  readonly targets: readonly HandledTarget[];
}

export function buildRewriteMessages(input: RewriteInput): ChatMessage[] {
  return [...input.thread, taskMessage(REWRITE_TASK, { forget_targets: JSON.parse(describeTargets(input.targets)) as unknown })];
}

/**
 * Sampling for candidate `candidate` (a rewrite or a set of edits): its own seed (the request's seed plus
 * the candidate number) so candidates differ yet a seeded run is reproducible; some temperature when
 * j > 1 for the same reason.
 */
export function rewriteOptions(input: {
  candidate: number;
  of: number;
  seed?: number;
  temperature?: number;
  numCtx?: number;
}): NonNullable<ChatRequest['options']> {
  const temperature = input.temperature ?? (input.of > 1 ? 0.7 : 0);
  return {
    temperature,
    ...(input.seed !== undefined ? { seed: input.seed + input.candidate } : {}),
    ...(input.numCtx !== undefined ? { num_ctx: input.numCtx } : {}),
  };
}
