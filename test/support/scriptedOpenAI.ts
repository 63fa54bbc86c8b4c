/**
 * A scripted OpenAI-compatible server (what vLLM, SGLang, llama-server and LM Studio serve) for tests,
 * benchmarks and demos: a real `node:http` server on 127.0.0.1 answering `/v1/chat/completions`
 * (server-sent events with `data:` chunks, a finish reason, a usage chunk and `data: [DONE]`),
 * `/v1/embeddings` and `/v1/models` (with vLLM's `max_model_len`).
 *
 * Everything but the wire format is the scripted Ollama's (scriptedOllama.ts): the same scripts per
 * agent role, the same `reply(…)` and `fault.…(…)` values, the same records, counters and speed model,
 * so a test written for one server runs against the other by swapping the start function.
 *
 * @example
 * const server = await startScriptedOpenAI({ script: { vanilla: 'Paris.' }, apiKey: 'sk-test' });
 * const llm = createOpenAIPort({ baseUrl: server.host, apiKey: 'sk-test' }); // server.host ends in /v1
 *
 * OpenAI-specific behaviour:
 * - `apiKey`: requests without `Authorization: Bearer <apiKey>` get 401, as `vllm serve --api-key` does.
 * - A prompt (plus `max_tokens`) longer than the model's `contextLength` gets vLLM's 400 "maximum context length".
 * - Unknown model → 404 "The model `x` does not exist." (vLLM's wording).
 * - `stream` defaults to false, as in the OpenAI API; `response_format.json_schema.schema` is recorded as `format`.
 * - `rejectResponseFormat: true` answers a request with `response_format` 400, as a server without structured output may.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { callRoleOf } from './erasedReplies';
import type { ChatMessage } from '../../src/core/llm/port';
import {
  embedText,
  estimateTokens,
  ScriptedOllama,
  type ChatWire,
  type Exchange,
  type RecordedChat,
  type ScriptedEndpoint,
  type ScriptedOllamaOptions,
  type ScriptedToolCall,
} from './scriptedOllama';

export { fault, reply, toolCalls } from './scriptedOllama';

export interface ScriptedOpenAIOptions extends ScriptedOllamaOptions {
  /** The key clients must send as a bearer token; unset: no key needed. */
  readonly apiKey?: string;
  /** `owned_by` of every listed model: what the engine calls itself (vLLM says `vllm`). */
  readonly ownedBy?: string;
  /** Refuse `response_format` with a 400, like a server without structured output. */
  readonly rejectResponseFormat?: boolean;
}

/** Start a scripted OpenAI-compatible server on 127.0.0.1. Always `close()` it. */
export async function startScriptedOpenAI(options: ScriptedOpenAIOptions = {}): Promise<ScriptedOpenAI> {
  const server = new ScriptedOpenAI(options);
  await server.start();
  return server;
}

let completionIds = 0;
/** One id per reply, shared by all its chunks, as a real server does. */
const replyIds = new WeakMap<RecordedChat, number>();
const idOf = (chat: RecordedChat) => {
  let id = replyIds.get(chat);
  if (id === undefined) replyIds.set(chat, (id = ++completionIds));
  return `chatcmpl-${id}`;
};

/** The OpenAI wire: SSE chunks, a finish-reason chunk, a usage chunk when asked for, `[DONE]`. */
const OPENAI_WIRE: ChatWire = {
  contentType: 'text/event-stream',
  error: (ex, status, message) => ex.json(status, errorBody(status, message)),
  chunk(ex, chat, text) {
    event(ex, chunkOf(chat, { content: text }, null));
  },
  toolCalls(ex, chat, calls) {
    // As vLLM streams them: the id and name first, the arguments string in two pieces.
    calls.forEach((call, index) => {
      const args = JSON.stringify(call.arguments);
      const half = Math.floor(args.length / 2);
      const id = `call_${idOf(chat).slice(9)}_${index}`;
      event(
        ex,
        chunkOf(
          chat,
          { tool_calls: [{ index, id, type: 'function', function: { name: call.name, arguments: args.slice(0, half) } }] },
          null,
        ),
      );
      event(ex, chunkOf(chat, { tool_calls: [{ index, function: { arguments: args.slice(half) } }] }, null));
    });
  },
  final(ex, chat, stats, calls) {
    event(ex, chunkOf(chat, {}, calls?.length ? 'tool_calls' : finishReason(stats.done_reason)));
    const options = chat.body.stream_options as { include_usage?: unknown } | undefined;
    if (options?.include_usage === true) event(ex, { ...chunkOf(chat, {}, null), choices: [], usage: usage(stats) });
    ex.write('data: [DONE]\n\n');
    ex.end();
  },
  whole(ex, chat, content, stats, calls) {
    const toolCalls = calls?.length ? { tool_calls: openaiToolCalls(chat, calls) } : {};
    ex.json(200, {
      id: idOf(chat),
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: chat.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: calls?.length && !content ? null : content, ...toolCalls },
          finish_reason: calls?.length ? 'tool_calls' : finishReason(stats.done_reason),
        },
      ],
      usage: usage(stats),
    });
  },
  streamError(ex, message) {
    // vLLM reports a failure inside a started stream as an error event, then ends the stream.
    event(ex, errorBody(500, message));
    ex.write('data: [DONE]\n\n');
    ex.end();
  },
};

function openaiToolCalls(chat: RecordedChat, calls: readonly ScriptedToolCall[]) {
  return calls.map((call, index) => ({
    id: `call_${idOf(chat).slice(9)}_${index}`,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
}

function event(ex: Exchange, value: object): void {
  ex.write(`data: ${JSON.stringify(value)}\n\n`);
}

function chunkOf(chat: RecordedChat, delta: object, finish: string | null) {
  return {
    id: idOf(chat),
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: chat.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

function finishReason(doneReason: string): string {
  return doneReason === 'length' ? 'length' : 'stop';
}

function usage(stats: { prompt_eval_count: number; eval_count: number }) {
  return {
    prompt_tokens: stats.prompt_eval_count,
    completion_tokens: stats.eval_count,
    total_tokens: stats.prompt_eval_count + stats.eval_count,
  };
}

/** vLLM's error body (OpenAI's shape with a numeric code). */
function errorBody(status: number, message: string) {
  const type =
    status === 404 ? 'NotFoundError' : status === 401 ? 'AuthenticationError' : status < 500 ? 'BadRequestError' : 'InternalServerError';
  return { error: { message, type, param: null, code: status } };
}

const ROUTES: Record<string, ScriptedEndpoint> = {
  'POST /v1/chat/completions': 'chat',
  'GET /v1/models': 'tags',
  'POST /v1/embeddings': 'embed',
};

export class ScriptedOpenAI extends ScriptedOllama {
  /** The Authorization header of every request, in arrival order (undefined when none was sent). */
  readonly authorizations: (string | undefined)[] = [];
  protected override readonly wire = OPENAI_WIRE;

  constructor(private readonly openaiOptions: ScriptedOpenAIOptions = {}) {
    super(openaiOptions);
  }

  /** The base URL clients are given: `http://127.0.0.1:<port>/v1`. */
  override get host(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  /** OpenAI-compatible servers serve the names they were started with, as written. */
  protected override modelKey(name: string): string {
    return name;
  }

  protected override async route(
    method: string,
    path: string,
    body: Record<string, unknown>,
    ex: Exchange,
    headers: IncomingHttpHeaders,
  ): Promise<void> {
    this.authorizations.push(headers.authorization);
    const key = this.openaiOptions.apiKey;
    if (key !== undefined && headers.authorization !== `Bearer ${key}`) return ex.json(401, { error: 'Unauthorized' });
    const endpoint = ROUTES[`${method} ${path}`];
    if (!endpoint) return ex.json(404, { detail: 'Not Found' });
    const failure = this.faults.get(endpoint);
    if (failure) return this.failPlain(failure, ex);
    switch (endpoint) {
      case 'tags':
        return ex.json(200, {
          object: 'list',
          data: [...this.models.values()].map((m) => ({
            id: m.name,
            object: 'model',
            created: 1_767_225_600,
            owned_by: this.openaiOptions.ownedBy ?? 'vllm',
            root: m.name,
            parent: null,
            max_model_len: m.contextLength,
          })),
        });
      case 'embed':
        return this.embeddings(body, ex);
      default:
        return this.completion(body, ex);
    }
  }

  private async embeddings(body: Record<string, unknown>, ex: Exchange): Promise<void> {
    const name = String(body.model ?? '');
    const model = this.models.get(name);
    if (!model) return this.wire.error(ex, 404, `The model \`${name}\` does not exist.`);
    const input = body.input;
    const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map(String) : [];
    if (texts.length === 0) return this.wire.error(ex, 400, 'input must be a string or a list of strings');
    if (this.embedDelayMs > 0 && !(await ex.sleep(this.embedDelayMs))) return;
    this.embedded.push(...texts);
    const override = this.embedOverride;
    const tokens = texts.reduce((n, t) => n + estimateTokens(t), 0);
    return ex.json(200, {
      object: 'list',
      model: name,
      data: texts.map((t, index) => ({
        object: 'embedding',
        index,
        embedding: override ? override(t, model.embeddingDims) : embedText(t, model.embeddingDims),
      })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  private completion(body: Record<string, unknown>, ex: Exchange): Promise<void> | void {
    const name = typeof body.model === 'string' ? body.model : '';
    if (!name) return this.wire.error(ex, 400, 'model is required');
    const messages = Array.isArray(body.messages)
      ? (body.messages as { role?: unknown; content?: unknown }[]).map((m) => ({
          role: String(m.role ?? ''),
          content: String(m.content ?? ''),
        }))
      : [];
    const responseFormat = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
    const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : undefined;
    const options: Record<string, unknown> = {};
    if (body.temperature !== undefined) options.temperature = body.temperature;
    if (body.seed !== undefined) options.seed = body.seed;
    if (maxTokens !== undefined) options.num_predict = maxTokens;
    const chat: RecordedChat = {
      role: callRoleOf(messages as ChatMessage[]),
      model: name,
      messages,
      format: responseFormat?.json_schema?.schema,
      options,
      stream: body.stream === true,
      body,
      promptTokens: estimateTokens(messages.map((m) => m.content).join('')),
    };
    this.chats.push(chat);
    if (responseFormat !== undefined && this.openaiOptions.rejectResponseFormat)
      return this.wire.error(ex, 400, "Unknown field 'response_format': structured output is not supported by this server");
    const model = this.models.get(name);
    if (!model) return this.wire.error(ex, 404, `The model \`${name}\` does not exist.`);
    if (!model.capabilities.includes('completion'))
      return this.wire.error(ex, 400, `The model \`${name}\` does not support chat completions.`);
    const wanted = chat.promptTokens + (maxTokens ?? 0);
    if (wanted > model.contextLength)
      return this.wire.error(
        ex,
        400,
        `This model's maximum context length is ${model.contextLength} tokens. However, you requested ${wanted} tokens (${chat.promptTokens} in the messages, ${maxTokens ?? 0} in the completion). Please reduce the length of the messages or completion.`,
      );
    return this.answerChat(chat, model, ex);
  }
}
