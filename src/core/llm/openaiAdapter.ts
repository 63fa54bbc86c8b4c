/**
 * The LlmPort over the OpenAI-compatible HTTP API that vLLM, SGLang, llama.cpp's llama-server and LM
 * Studio serve (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`). Plain fetch rather than the
 * official `openai` package: the pipeline needs four endpoints, and the package would add about 395 KB
 * (minified) to a 860 KB extension bundle (docs/serving-a-team.md has the measurement). The transport
 * rules are the Ollama adapter's: each call has its own abort controller linked to the caller's signal,
 * redirects are refused, error bodies are read only up to a cap, and failures become typed LlmErrors
 * that say what happened (each front end words the fix).
 */
import { LlmError } from './errors';
import { parseOpenAIBaseUrl } from './hostPolicy';
import { cap, isRedirect, isStaleConnection, readCapped, requestUrl, type CallContext } from './httpSupport';
import { Call, OPENAI_SERVER, redirectError, type Op } from './openaiCall';
import type { ChatRequest, ChatResponse, LlmPort, ModelDetails, ModelInfo } from './port';
import { HttpStatus, StreamProblem, readJson, retryDelay, serverMessage, serverSentEvents } from './openaiBody';
import {
  ToolCallAssembler,
  contextLengthOf,
  fromOpenAIToolCalls,
  toOpenAIMessage,
  toOpenAITool,
  usageOf,
  type CompletionChunk,
  type CompletionReply,
  type ServedModel,
} from './openaiWire';

export interface OpenAIPortOptions {
  /** The API's base URL as the user wrote it (`http://gpu-box:8000/v1`); validated by `parseOpenAIBaseUrl`. */
  readonly baseUrl: string;
  /**
   * The API key, sent as `Authorization: Bearer …`, or a function asked before every request (VS Code
   * keeps the key in SecretStorage, where it can change while the port lives). None: no header.
   */
  readonly apiKey?: string | (() => string | undefined | Promise<string | undefined>);
  /** The transport; tests may inject their own. Default: global fetch. */
  readonly fetch?: typeof fetch;
  readonly defaultFirstTokenTimeoutMs?: number;
  readonly defaultTotalTimeoutMs?: number;
  /** Limit for models and embeddings (default 60 s: the server may still be loading). */
  readonly requestTimeoutMs?: number;
  /** How often a 429 or 503 is retried before it becomes an `overloaded` error (default 3). */
  readonly retries?: number;
  /** The first retry waits this long, each further one twice as long (default 500 ms); a Retry-After header wins, up to `maxRetryDelayMs`. */
  readonly retryBaseMs?: number;
  readonly maxRetryDelayMs?: number;
}

/** The most of an error body that is read (servers answer errors with a line of JSON). */
const ERROR_BODY_LIMIT_BYTES = 16 * 1024;

/** A 400 that blames the structured-output request itself: the server does not know `response_format`/`json_schema`. */
const SCHEMA_REFUSED = /response_format|json_schema|guided|grammar|structured output/i;

/**
 * @throws InvalidHostError when `options.baseUrl` is not an http(s) URL (the message says what to fix).
 * @example
 * const llm = createOpenAIPort({ baseUrl: 'http://127.0.0.1:8000/v1', apiKey: process.env.UNLEARN_API_KEY });
 * const reply = await llm.chat({ model: 'Qwen/Qwen2.5-7B-Instruct', messages, onToken: (t) => out.write(t) });
 */
export function createOpenAIPort(options: OpenAIPortOptions): LlmPort {
  const base = parseOpenAIBaseUrl(options.baseUrl).url;
  const baseFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const retries = Math.max(0, options.retries ?? 3);
  const retryBaseMs = options.retryBaseMs ?? 500;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
  /** Models whose server refused `response_format`: their structured calls go without it (the caller validates). */
  const noSchema = new Set<string>();

  async function headers(): Promise<Record<string, string>> {
    const key = typeof options.apiKey === 'function' ? await options.apiKey() : options.apiKey;
    return { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
  }

  /**
   * Sends one request on the call's signal, refusing redirects, retrying 429 and 503 with backoff; an
   * error status becomes a thrown HttpStatus with the server's message.
   */
  async function send(call: Call, path: string, body: unknown): Promise<Response> {
    const url = `${base}${path}`;
    call.path = new URL(url).pathname;
    for (let attempt = 0; ; attempt++) {
      const init: RequestInit = {
        method: body === undefined ? 'GET' : 'POST',
        headers: await headers(),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: call.signal,
        // fetch would follow a 307/308 with the same body (the question, the targets, the key) to wherever
        // Location points. Every request goes to the configured server or nowhere.
        redirect: 'manual',
      };
      let response: Response;
      try {
        response = await baseFetch(url, init);
      } catch (error) {
        // A pooled keep-alive connection the server had just closed: the request never got an answer, so one retry is safe.
        if (call.signal.aborted || !isStaleConnection(error)) throw error;
        response = await baseFetch(url, init);
      }
      call.responded = true;
      if (isRedirect(response)) {
        void response.body?.cancel().catch(() => undefined);
        throw redirectError(call, response, requestUrl(url));
      }
      if (response.ok) return response;
      const text = (await readCapped(response, ERROR_BODY_LIMIT_BYTES)).trim();
      const status = new HttpStatus(response.status, serverMessage(text) || `${response.status} ${response.statusText}`.trim());
      if ((response.status === 429 || response.status === 503) && attempt < retries) {
        const wait = retryDelay(response.headers.get('retry-after'), retryBaseMs * 2 ** attempt, maxRetryDelayMs);
        call.retried = attempt + 1;
        await call.sleep(wait);
        continue;
      }
      throw status;
    }
  }

  async function simple<T>(
    what: Omit<CallContext<Op>, 'host'>,
    signal: AbortSignal | undefined,
    run: (call: Call) => Promise<T>,
  ): Promise<T> {
    const call = new Call({ ...what, host: base }, signal, undefined, requestTimeoutMs);
    try {
      return await run(call);
    } catch (error) {
      throw call.toLlmError(error);
    } finally {
      call.finish();
    }
  }

  async function listed(call: Call): Promise<ServedModel[]> {
    const reply = await readJson(await send(call, '/models', undefined));
    const data = (reply as { data?: unknown })?.data;
    if (!Array.isArray(data))
      throw new LlmError('malformed', `${cap(OPENAI_SERVER)} at ${base} answered /models without a list of models.`, { host: base });
    return data.filter((m): m is ServedModel => typeof (m as ServedModel)?.id === 'string');
  }

  return {
    host: base,

    async chat(request: ChatRequest): Promise<ChatResponse> {
      const started = performance.now();
      const firstTokenMs = request.firstTokenTimeoutMs ?? options.defaultFirstTokenTimeoutMs;
      const totalMs = request.totalTimeoutMs ?? options.defaultTotalTimeoutMs;
      const call = new Call({ op: 'chat', host: base, model: request.model, label: request.label }, request.signal, firstTokenMs, totalMs);
      // A first-token limit can only be checked on a stream: a non-streaming reply arrives all at once.
      const stream = request.onToken !== undefined || firstTokenMs !== undefined;
      const { temperature, seed, num_predict: maxTokens } = request.options ?? {};
      const body = (withSchema: boolean) => ({
        model: request.model,
        messages: request.messages.map(toOpenAIMessage),
        ...(request.tools?.length
          ? { tools: request.tools.map(toOpenAITool), ...(request.toolChoice ? { tool_choice: request.toolChoice } : {}) }
          : {}),
        ...(withSchema && request.format
          ? { response_format: { type: 'json_schema', json_schema: { name: 'reply', schema: request.format, strict: true } } }
          : {}),
        ...(temperature !== undefined ? { temperature } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(maxTokens !== undefined && maxTokens > 0 ? { max_tokens: maxTokens } : {}),
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
      });
      try {
        let response: Response;
        const schema = request.format !== undefined && !noSchema.has(request.model);
        try {
          response = await send(call, '/chat/completions', body(schema));
        } catch (error) {
          // A server without structured output refuses the field; the agents parse and validate every
          // reply anyway, so the call goes again without it (and later calls to this model skip it).
          if (!schema || !(error instanceof HttpStatus) || error.status !== 400 || !SCHEMA_REFUSED.test(error.text)) throw error;
          noSchema.add(request.model);
          response = await send(call, '/chat/completions', body(false));
        }
        if (!stream) {
          const reply = (await readJson(response)) as CompletionReply;
          call.firstToken();
          const choice = reply?.choices?.[0];
          // A reply that only calls tools may carry `content: null`.
          if (choice?.message && choice.message.content === null && Array.isArray(choice.message.tool_calls)) choice.message.content = '';
          if (!choice || typeof choice.message?.content !== 'string')
            throw new LlmError('malformed', `${cap(OPENAI_SERVER)} at ${base} answered ${call.who()} without a message.`, {
              host: base,
              model: request.model,
              label: request.label,
            });
          const toolCalls = fromOpenAIToolCalls(choice.message.tool_calls);
          return {
            content: choice.message.content,
            ...(toolCalls.length ? { toolCalls } : {}),
            ...usageOf(reply.usage),
            durationMs: Math.round(performance.now() - started),
          };
        }
        let content = '';
        const calls = new ToolCallAssembler();
        let usage: ReturnType<typeof usageOf> = {};
        let finished = false;
        for await (const event of serverSentEvents(response)) {
          if (event === '[DONE]') {
            finished = true;
            break;
          }
          let part: CompletionChunk;
          try {
            part = JSON.parse(event) as CompletionChunk;
          } catch {
            throw new StreamProblem(`an event that is not JSON (${event.slice(0, 80)})`);
          }
          if (part.error !== undefined || part.object === 'error') throw new StreamProblem(serverMessage(JSON.stringify(part)), true);
          call.firstToken();
          const choice = part.choices?.[0];
          const text = choice?.delta?.content;
          if (typeof text === 'string' && text) {
            content += text;
            call.callback(() => request.onToken?.(text));
          }
          calls.add(choice?.delta?.tool_calls);
          if (choice?.finish_reason) finished = true;
          if (part.usage) usage = usageOf(part.usage);
        }
        // Without [DONE] and without a finish reason the server stopped mid-answer: what arrived is not the whole reply.
        if (!finished) throw new StreamProblem('cut');
        const toolCalls = calls.done();
        return { content, ...(toolCalls.length ? { toolCalls } : {}), ...usage, durationMs: Math.round(performance.now() - started) };
      } catch (error) {
        throw call.toLlmError(error);
      } finally {
        call.finish();
      }
    },

    listModels(signal) {
      return simple({ op: 'list models' }, signal, async (call) =>
        (await listed(call)).map((m): ModelInfo => ({ name: m.id, ...(typeof m.owned_by === 'string' ? { family: m.owned_by } : {}) })),
      );
    },

    showModel(model, signal) {
      return simple({ op: 'show model', model }, signal, async (call): Promise<ModelDetails> => {
        const found = (await listed(call)).find((m) => m.id === model);
        if (!found) throw new HttpStatus(404, `The model \`${model}\` does not exist.`);
        const contextLength = contextLengthOf(found);
        return { name: model, ...(contextLength !== undefined ? { contextLength } : {}) };
      });
    },

    embed(model, input, signal) {
      return simple({ op: 'embed', model }, signal, async (call) => {
        const reply = (await readJson(await send(call, '/embeddings', { model, input: [...input], encoding_format: 'float' }))) as {
          data?: { index?: unknown; embedding?: unknown }[];
        };
        const data = Array.isArray(reply?.data) ? reply.data : [];
        // Servers answer in input order with an index each; sort by it to be sure.
        const vectors = [...data]
          .sort((a, b) => (typeof a.index === 'number' && typeof b.index === 'number' ? a.index - b.index : 0))
          .map((d) => d.embedding);
        if (vectors.length !== input.length || !vectors.every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'))) {
          throw new LlmError(
            'malformed',
            `${cap(OPENAI_SERVER)} at ${base} returned ${vectors.length} embeddings for ${input.length} inputs with ${model}.`,
            { host: base, model },
          );
        }
        return vectors as number[][];
      });
    },

    pull(model) {
      return Promise.reject(
        new LlmError(
          'unsupported',
          `${cap(OPENAI_SERVER)} at ${base} does not download models: "${model}" has to be loaded where the server runs (vLLM: \`vllm serve ${model}\`).`,
          { host: base, model },
        ),
      );
    },

    /** The engine's name where the listing says who serves the models (vllm, sglang, llamacpp), else a generic one. */
    version(signal) {
      return simple({ op: 'version' }, signal, async (call) => {
        const owner = (await listed(call)).map((m) => m.owned_by).find((o): o is string => typeof o === 'string' && o.length > 0);
        return owner && /^[\w.-]{1,40}$/.test(owner) ? owner : 'OpenAI-compatible';
      });
    },
  };
}
