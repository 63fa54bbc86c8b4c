import type { TargetIndex } from '../guard';
import type { LlmPort } from '../llm';
import type { EmbeddingCache } from './embeddingCache';
import { explainRelevance, relevanceOf, type AuditPolicy, type RelevanceExplanation } from './relevance';

/**
 * What relevance would shortlist for a question on its own, without asking the chat model anything:
 * `/explain <question>` answers "would this reach the audit, and why" before the user sends it. The
 * answer is not known here, so a target the answer alone would bring in is not shown; the real request
 * scores the answer too. At most one embedding call (the question), never a chat call.
 */
export async function explainQuestion(input: {
  readonly llm: LlmPort;
  readonly index: TargetIndex;
  readonly question: string;
  readonly policy: AuditPolicy;
  readonly embeddingModel?: string;
  readonly cache?: EmbeddingCache;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}): Promise<RelevanceExplanation> {
  const { llm, index, question, policy, embeddingModel, cache, signal } = input;
  const relevance = relevanceOf(index);
  const queries =
    policy === 'named' || !embeddingModel
      ? { state: { status: 'off' as const, ...(embeddingModel ? { model: embeddingModel } : {}) } }
      : await relevance.embedQueries(llm, embeddingModel, [{ part: 'question', text: question }], {
          ...(cache ? { cache } : {}),
          ...(signal ? { signal } : {}),
          ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
        });
  const report = relevance.assess({
    policy,
    named: index.mentionedTargets(question),
    texts: [question],
    queries,
    ...(embeddingModel ? { model: embeddingModel } : {}),
  });
  return explainRelevance(report);
}
