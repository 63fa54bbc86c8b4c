import { finalizeAnswer, type Finalized, type TargetIndex } from '../guard';
import type { ChatMessage, ChatResponse, JsonSchema, LlmPort, ToolSpec } from '../llm';
import { KEEP_ALIVE, type PipelineOptions } from '../pipeline';
import { guardToolCall, type GuardedToolCall } from './toolCalls';

/**
 * One step of an Agent-mode loop, without the editor: the model gets the conversation and the tools;
 * a reply with tool calls is a tool step (its text and each call's arguments pass the leak guard, and no
 * agent runs: that is the step's whole cost beyond the model's own call); a reply without calls is the
 * turn's final text, returned unshown for the pipeline to check (`PipelineInput.draft`).
 */

export interface AgentStepInput {
  readonly llm: LlmPort;
  /** The conversation in the model's own format (`toToolStepMessages`). */
  readonly messages: readonly ChatMessage[];
  readonly tools: readonly ToolSpec[];
  /** VS Code's Required tool mode (`ChatRequest.toolChoice`). */
  readonly required?: boolean;
  readonly index: TargetIndex;
  readonly options: Pick<PipelineOptions, 'model' | 'firstTokenTimeoutMs' | 'totalTimeoutMs' | 'temperature' | 'contextLength'>;
  readonly signal?: AbortSignal;
}

export type AgentStep =
  | {
      readonly kind: 'tools';
      /** The text beside the calls, guarded like an answer (markers name the target, as in the chat). */
      readonly text: Finalized;
      readonly calls: readonly GuardedToolCall[];
      readonly response: ChatResponse;
    }
  | { readonly kind: 'final'; readonly draft: string; readonly response: ChatResponse };

export async function takeAgentStep(input: AgentStepInput): Promise<AgentStep> {
  const { llm, options } = input;
  const response = await llm.chat({
    model: options.model,
    messages: input.messages,
    tools: input.tools,
    ...(input.required ? { toolChoice: 'required' as const } : {}),
    label: 'agent step',
    ...(input.signal ? { signal: input.signal } : {}),
    keepAlive: KEEP_ALIVE,
    firstTokenTimeoutMs: options.firstTokenTimeoutMs,
    totalTimeoutMs: options.totalTimeoutMs,
    options: {
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      // The pipeline's window on every call: another num_ctx would make Ollama reload the model.
      ...(options.contextLength ? { num_ctx: options.contextLength } : {}),
    },
  });
  const calls = response.toolCalls ?? [];
  if (calls.length === 0) return { kind: 'final', draft: response.content, response };
  const schemas = new Map(input.tools.map((t) => [t.name, t.parameters as JsonSchema | undefined]));
  return {
    kind: 'tools',
    text: finalizeAnswer(response.content.trim(), input.index, [], () => ''),
    calls: calls.map((call) => guardToolCall(call, input.index, schemas.get(call.name))),
    response,
  };
}
