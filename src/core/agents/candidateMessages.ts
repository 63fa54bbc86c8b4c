/** The request and message layout shared by the j-candidate agents (rewrite, edits). */
import type { ChatMessage } from '../llm';
import type { HandledTarget } from '../targets';
import { NO_MARK, withMarkRule, type DataMark } from './datamark';
import { describeTargets } from './handles';

export interface CandidateInput {
  readonly question: string;
  /** The turns the vanilla agent saw (trimmed to fit like the audit's). */
  readonly history: readonly ChatMessage[];
  readonly targets: readonly HandledTarget[];
  /** 1-based candidate number, and how many there are. */
  readonly candidate: number;
  readonly of: number;
  /** Datamarking of the untrusted text (the pipeline always passes one; one per request, so the j calls share a prefix). */
  readonly mark?: DataMark;
}

/**
 * The system prompt, then one data message: targets, conversation, question, then the agent's own draft
 * fields (`draft`, given the mark so untrusted text is marked like the question), then the candidate's
 * variant line (`variants` cycled when j is larger).
 */
export function buildCandidateMessages(
  input: CandidateInput,
  systemPrompt: string,
  variants: readonly string[],
  draft: (mark: DataMark) => Record<string, unknown>,
): ChatMessage[] {
  const mark = input.mark ?? NO_MARK;
  const data = {
    forget_targets: JSON.parse(describeTargets(input.targets)) as unknown,
    conversation: input.history.map((m) => ({ role: m.role, content: mark.text(m.content) })),
    question: mark.text(input.question),
    ...draft(mark),
  };
  const variant = variants[(input.candidate - 1) % variants.length]!;
  return [
    { role: 'system', content: withMarkRule(systemPrompt, mark) },
    // The variant goes last: everything before it is the same for the j calls, which Ollama's cache reuses.
    { role: 'user', content: `${JSON.stringify(data, null, 1)}\n\nCandidate ${input.candidate} of ${input.of}. ${variant}` },
  ];
}
