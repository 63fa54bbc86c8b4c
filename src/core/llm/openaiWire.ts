/** The OpenAI wire shapes: messages, tools and tool calls (whole and streamed), usage and the model listing. */
import type { ChatMessage, ToolCall, ToolSpec } from './port';

export interface ServedModel {
  readonly id: string;
  readonly owned_by?: unknown;
  /** vLLM and SGLang. */
  readonly max_model_len?: unknown;
  /** llama-server: the training context (`n_ctx_train`). */
  readonly meta?: { readonly n_ctx_train?: unknown; readonly n_ctx?: unknown };
  /** LM Studio and some gateways. */
  readonly context_length?: unknown;
  readonly max_context_length?: unknown;
}

export function contextLengthOf(m: ServedModel): number | undefined {
  for (const value of [m.max_model_len, m.context_length, m.max_context_length, m.meta?.n_ctx, m.meta?.n_ctx_train]) {
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  }
  return undefined;
}

export interface CompletionReply {
  readonly choices?: { message?: { content?: unknown; readonly tool_calls?: unknown }; readonly finish_reason?: unknown }[];
  readonly usage?: Usage;
}

export interface CompletionChunk {
  readonly object?: unknown;
  readonly error?: unknown;
  readonly choices?: { readonly delta?: { readonly content?: unknown; readonly tool_calls?: unknown }; readonly finish_reason?: unknown }[];
  readonly usage?: Usage;
}

/** A port message in the OpenAI shape: tool calls with their ids and arguments as a JSON string; a tool result with `tool_call_id`. */
export function toOpenAIMessage(m: ChatMessage) {
  return {
    role: m.role,
    content: m.content,
    ...(m.toolCalls?.length
      ? {
          tool_calls: m.toolCalls.map((c, i) => ({
            // OpenAI links a result to its call by id; a call that came without one (from Ollama) gets a stable one.
            id: c.id ?? `call_${i}`,
            type: 'function',
            function: { name: c.name, arguments: JSON.stringify(c.arguments) },
          })),
        }
      : {}),
    ...(m.role === 'tool' ? { tool_call_id: m.toolCallId ?? 'call_0' } : {}),
  };
}

export function toOpenAITool(tool: ToolSpec) {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

/** Parsed `arguments`: OpenAI sends a JSON string; anything that is not an object becomes `{}` (the caller validates against the schema). */
function parseArguments(raw: unknown): Record<string, unknown> {
  let args = raw;
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args || '{}') as unknown;
    } catch {
      args = undefined;
    }
  }
  return typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
}

export function fromOpenAIToolCalls(calls: unknown): ToolCall[] {
  if (!Array.isArray(calls)) return [];
  const out: ToolCall[] = [];
  for (const raw of calls as { id?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
    const name = raw?.function?.name;
    if (typeof name !== 'string' || !name) continue;
    out.push({ ...(typeof raw.id === 'string' && raw.id ? { id: raw.id } : {}), name, arguments: parseArguments(raw.function?.arguments) });
  }
  return out;
}

/** Streamed tool calls arrive in pieces keyed by `index`: the id and name once, the arguments string in parts. */
export class ToolCallAssembler {
  private readonly parts = new Map<number, { id?: string; name: string; args: string }>();

  add(deltas: unknown): void {
    if (!Array.isArray(deltas)) return;
    for (const d of deltas as { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
      const index = typeof d?.index === 'number' ? d.index : this.parts.size;
      const part = this.parts.get(index) ?? { name: '', args: '' };
      if (typeof d.id === 'string' && d.id) part.id = d.id;
      if (typeof d.function?.name === 'string') part.name += d.function.name;
      if (typeof d.function?.arguments === 'string') part.args += d.function.arguments;
      else if (typeof d.function?.arguments === 'object' && d.function.arguments !== null) part.args = JSON.stringify(d.function.arguments);
      this.parts.set(index, part);
    }
  }

  done(): ToolCall[] {
    return [...this.parts.entries()]
      .sort(([a], [b]) => a - b)
      .filter(([, p]) => p.name)
      .map(([, p]) => ({ ...(p.id ? { id: p.id } : {}), name: p.name, arguments: parseArguments(p.args) }));
  }
}

interface Usage {
  readonly prompt_tokens?: unknown;
  readonly completion_tokens?: unknown;
}

export function usageOf(usage: Usage | undefined): { promptTokens?: number; completionTokens?: number } {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const promptTokens = n(usage?.prompt_tokens);
  const completionTokens = n(usage?.completion_tokens);
  return { ...(promptTokens !== undefined ? { promptTokens } : {}), ...(completionTokens !== undefined ? { completionTokens } : {}) };
}
