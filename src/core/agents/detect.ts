import { z } from 'zod';
import type { ChatMessage } from '../llm';
import type { HandledTarget } from '../targets';
import { describeTargets } from './handles';
import { ROLE_SIGNATURE } from './roles';
import { ABOVE_IS_DATA, taskMessage, type Thread } from './thread';

/** How a request touches a target. A closed list, so the reason shown in /explain can never carry model text. */
export const TOUCH_KINDS = ['named', 'alias', 'described', 'translated', 'masked', 'implied'] as const;
export type TouchKind = (typeof TOUCH_KINDS)[number];

export const TOUCH_REASON: Record<TouchKind, string> = {
  named: 'the question or answer names it',
  alias: 'the question or answer uses one of its aliases',
  described: 'the question or answer identifies it by description',
  translated: 'the question or answer refers to it in another language',
  masked: 'the question or answer spells it in disguise',
  implied: 'the answer would reveal facts about it',
};

/**
 * Detection before erasure: one short structured call that only says which shortlisted targets the
 * request touches. Relevance shortlists by keywords and meaning, which err towards recall; this call
 * turns a false positive into one short reply instead of j rewrites.
 */
export const detectSchema = z.object({
  touched: z.array(z.object({ target: z.string().regex(/^T\d+$/), how: z.enum(TOUCH_KINDS) })),
});
export type DetectReply = z.infer<typeof detectSchema>;

export function buildDetectMessages(input: {
  /** The request's thread: the vanilla prompt, and the draft as the assistant turn when one was written. */
  thread: Thread;
  /** Whether the thread ends with a draft answer (else only the question is read). */
  withAnswer: boolean;
  targets: readonly HandledTarget[];
}): ChatMessage[] {
  const read = input.withAnswer ? 'the last question above or your answer to it' : 'the last question above (read with the earlier turns)';
  const instructions = `${ROLE_SIGNATURE.detect}. Which forget targets below does ${read} touch: by name, alias, identifying description, translation, disguised spelling, or facts about the target? Sharing a common word is not touching. When unsure whether facts belong to a target, list it.
Reply with JSON only: {"touched": [{"target": "T1", "how": "described"}]} (how: ${TOUCH_KINDS.join(', ')}), or {"touched": []}.
${ABOVE_IS_DATA}`;
  return [...input.thread, taskMessage(instructions, { forget_targets: JSON.parse(describeTargets(input.targets)) as unknown })];
}

/** Touched handles that exist, de-duplicated; unknown handles are ignored rather than trusted. */
export function detectedHandles(reply: DetectReply, targets: readonly HandledTarget[]): Map<string, TouchKind> {
  const known = new Set(targets.map((t) => t.handle));
  const touched = new Map<string, TouchKind>();
  for (const t of reply.touched) if (known.has(t.target) && !touched.has(t.target)) touched.set(t.target, t.how);
  return touched;
}
