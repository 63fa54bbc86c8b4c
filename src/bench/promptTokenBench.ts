import { buildTargetIndex, type TargetIndex } from '../core/guard';
import { createOllamaPort } from '../core/llm';
import { runPipeline } from '../core/pipeline';
import { criticScores, replaceDraft, rewrites } from '../../test/support/erasedReplies';
import { startScriptedOllama } from '../../test/support/scriptedOllama';
import type { PromptTokenProbe } from './guardBench';
import { topicTargets } from './relevanceBench';

/**
 * Prompt tokens per request as the target list grows, counted by the scripted Ollama server the way
 * Ollama reports them (`prompt_eval_count`, summed over the request's calls by the pipeline). Ours: a
 * question that never names its target, found by keywords and meaning (embeddings from the scripted
 * server), shortlisted (at most SHORTLIST_SIZE targets), detected, then erased. The baseline is ALU's
 * way, every target in every prompt, run through the same pipeline with the matcher replaced by "all
 * targets".
 */
export async function startPromptTokenProbe(): Promise<{ probe: PromptTokenProbe; close: () => Promise<void> }> {
  const ollama = await startScriptedOllama({ models: ['llama3.2:latest', { name: 'embeddinggemma:latest', embeddingDims: 768 }] });
  const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 30_000, totalTimeoutMs: 120_000 };
  const probe: PromptTokenProbe = async (count) => {
    const targets = topicTargets(count);
    const last = targets[0]!.name.split(' ').at(-1)!;
    ollama.setScript({
      vanilla: `The ${last}mere works are a research programme that started in 2019 and is run from the north office.`,
      detect: { touched: [{ target: 'T1', how: 'described' }] },
      rewrite: rewrites([
        'I would rather not go into that.',
        'I cannot share details about [redacted:T1].',
        'I cannot help with that subject.',
      ]),
      edit: replaceDraft([
        'I would rather not go into that.',
        'I cannot share details about [redacted:T1].',
        'I cannot help with that subject.',
      ]),
      critic: criticScores([1, 2, 3].map(() => ({ forget: 5, utility: 3 }))),
    });
    const llm = createOllamaPort({ host: ollama.host });
    const question = `Who runs the ${last}mere works these days?`;
    const index = buildTargetIndex(targets);
    const everyTarget: TargetIndex = { ...index, mentionedTargets: () => targets.filter((t) => t.enabled) };
    const retrieval = await runPipeline({
      llm,
      index,
      question,
      options: { ...options, auditPolicy: 'related', embeddingModel: 'embeddinggemma' },
    });
    // The baseline's prompts outgrow any context window as the list grows; contextLength 0 lets them through
    // (no num_ctx, no trimming) so their size can be counted instead of being refused as too long.
    const allTargets = await runPipeline({
      llm,
      index: everyTarget,
      question,
      options: { ...options, auditPolicy: 'named', contextLength: 0 },
    });
    if (retrieval.outcome !== 'erased' || allTargets.outcome !== 'erased')
      throw new Error(`prompt-token run ended "${retrieval.outcome}"/"${allTargets.outcome}", expected "erased"`);
    if (retrieval.relevance?.semantic.status !== 'ok')
      throw new Error(`prompt-token run: meaning not used (${retrieval.relevance?.semantic.problem})`);
    return { retrieval: retrieval.promptTokens, allTargets: allTargets.promptTokens };
  };
  return { probe, close: () => ollama.close() };
}
