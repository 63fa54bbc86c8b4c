import { buildFastIndex } from '../core/guard/fastIndex';
import { createOllamaPort } from '../core/llm/ollamaAdapter';
import { runPipeline } from '../core/pipeline';
import type { TargetIndex } from '../core/guard/types';
import { startScriptedOllama } from '../../test/support/scriptedOllama';
import { generateTargets, type PromptTokenProbe } from './guardBench';

/**
 * Prompt tokens per request as the target list grows, counted by the scripted Ollama server the way
 * Ollama reports them (`prompt_eval_count`, summed over the request's calls by the pipeline). Ours
 * retrieves the targets a request touches; the baseline is ALU's way, every target in every prompt,
 * run through the same pipeline with retrieval replaced by "all targets".
 */
export async function startPromptTokenProbe(): Promise<{ probe: PromptTokenProbe; close: () => Promise<void> }> {
  const ollama = await startScriptedOllama();
  const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 30_000, totalTimeoutMs: 120_000 };
  const probe: PromptTokenProbe = async (count) => {
    const targets = generateTargets(count);
    const name = targets[0]!.name;
    ollama.setScript({
      vanilla: `${name} is a research programme that started in 2019 and is run from the north office.`,
      audit: {
        touched: [{ target: 'T1', how: 'named' }],
        candidates: ['That programme is confidential.', 'I cannot share details about [redacted:T1].', 'I cannot help with that subject.'],
      },
      critic: { scores: [1, 2, 3].map((candidate) => ({ candidate, forget: 5, utility: 3 })) },
      compose: 'I cannot share details about that programme.',
    });
    const llm = createOllamaPort({ host: ollama.host });
    const question = `What do you know about ${name}?`;
    const index = buildFastIndex(targets);
    const everyTarget: TargetIndex = { ...index, mentionedTargets: () => targets.filter((t) => t.enabled) };
    const retrieval = await runPipeline({ llm, index, question, options });
    // The baseline's prompts outgrow any context window as the list grows; contextLength 0 lets them through
    // (no num_ctx, no trimming) so their size can be counted instead of being refused as too long.
    const allTargets = await runPipeline({ llm, index: everyTarget, question, options: { ...options, contextLength: 0 } });
    if (retrieval.outcome !== 'erased' || allTargets.outcome !== 'erased')
      throw new Error(`prompt-token run ended "${retrieval.outcome}"/"${allTargets.outcome}", expected "erased"`);
    return { retrieval: retrieval.promptTokens, allTargets: allTargets.promptTokens };
  };
  return { probe, close: () => ollama.close() };
}
