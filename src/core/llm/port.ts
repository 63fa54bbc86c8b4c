/** The one interface the pipeline calls. The Ollama adapter implements it; unit tests script it. */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** On an assistant message: the tool calls it made (the text beside them is `content`). */
  readonly toolCalls?: readonly ToolCall[];
  /** On a `tool` message, which call it answers: its id (OpenAI needs it) and the tool's name (Ollama's `tool_name`). */
  readonly toolCallId?: string;
  readonly toolName?: string;
}

/**
 * A tool the model may call, as VS Code (or any caller) declares it: provider-neutral. Each adapter
 * writes it in its own wire format (Ollama and OpenAI both nest it as `{ type: 'function', function }`).
 */
export interface ToolSpec {
  readonly name: string;
  readonly description: string;
  /** A JSON schema of the arguments object; an empty object schema when the tool takes none. */
  readonly parameters: JsonSchema;
}

/** One call the model asked for. `arguments` is the parsed JSON object (an adapter parses OpenAI's string). */
export interface ToolCall {
  /** The server's id for the call when it gives one (OpenAI does, Ollama mostly does not). */
  readonly id?: string;
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

/** A JSON schema passed to Ollama's `format` for structured output. */
export type JsonSchema = Record<string, unknown>;

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  /** Structured output: Ollama constrains the reply to this schema. The caller still validates it. */
  readonly format?: JsonSchema;
  readonly options?: { readonly temperature?: number; readonly seed?: number; readonly num_ctx?: number; readonly num_predict?: number };
  /**
   * How long Ollama keeps the model loaded after this call (its `keep_alive`): seconds, or a duration such
   * as "30m"; negative keeps it loaded, 0 unloads it at once. Unset: the server's default (5 minutes).
   */
  readonly keepAlive?: number | string;
  /** Called with each piece of text as it streams in. Without it the call may use a non-streaming request. */
  readonly onToken?: (text: string) => void;
  /** Aborts the HTTP request; the call then rejects with an `LlmError` of code `aborted`. */
  readonly signal?: AbortSignal;
  /** Fails with code `timeout` if no token has arrived after this long, or the whole reply takes longer than `totalTimeoutMs`. */
  readonly firstTokenTimeoutMs?: number;
  readonly totalTimeoutMs?: number;
  /** A label for logs and errors ("rewrite", "critic"): which agent made the call. */
  readonly label?: string;
  /**
   * Tools the model may call (Agent mode). Only the guarded models' tool steps set it; the agents never
   * do. A port whose server has no tool support ignores it and answers with text.
   */
  readonly tools?: readonly ToolSpec[];
  /**
   * `required`: the reply must call a tool (VS Code's Required tool mode). An adapter whose server can
   * force it does (OpenAI's `tool_choice`); Ollama cannot, so its adapter asks in a last system line.
   */
  readonly toolChoice?: 'auto' | 'required';
}

export interface ChatResponse {
  readonly content: string;
  /** As Ollama reports them (`prompt_eval_count`, `eval_count`); undefined when the server did not say. */
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  readonly durationMs: number;
  /** The tool calls of the reply, in order, once it is complete; absent or empty when it is only text. */
  readonly toolCalls?: readonly ToolCall[];
}

export interface ModelInfo {
  readonly name: string;
  readonly sizeBytes?: number;
  readonly family?: string;
  readonly parameterSize?: string;
  readonly quantization?: string;
}

export interface ModelDetails {
  readonly name: string;
  readonly contextLength?: number;
  readonly capabilities?: readonly string[];
  /**
   * Set when the model is a proxy for a remote service (an Ollama cloud model): /api/show reports where
   * requests really go (`remote_host`, `remote_model`). Absent for a model that runs on the server itself.
   */
  readonly remoteHost?: string;
  readonly remoteModel?: string;
}

export interface PullProgress {
  readonly status: string;
  readonly completed?: number;
  readonly total?: number;
}

export interface LlmPort {
  chat(request: ChatRequest): Promise<ChatResponse>;
  listModels(signal?: AbortSignal): Promise<ModelInfo[]>;
  showModel(model: string, signal?: AbortSignal): Promise<ModelDetails>;
  embed(model: string, input: readonly string[], signal?: AbortSignal): Promise<number[][]>;
  pull(model: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void>;
  version(signal?: AbortSignal): Promise<string>;
  /** The server this port talks to, for messages. */
  readonly host: string;
}
