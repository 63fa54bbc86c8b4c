/**
 * The LlmPort over the official `ollama` client. The client itself never links a caller's signal to
 * its requests (non-streaming calls get no signal at all, streaming ones only its own controller),
 * so every call here gets its own client whose injected fetch carries the call's signal. Aborting
 * that signal aborts the fetch, which makes undici close the socket: Ollama sees the connection
 * go away and stops generating.
 */
import { Ollama } from 'ollama';
import { LlmError } from './errors';
import { parseOllamaHost } from './hostPolicy';
import type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  LlmPort,
  ModelDetails,
  ModelInfo,
  PullProgress,
  RunningModel,
  ToolCall,
  ToolSpec,
} from './port';
import {
  HttpCall,
  cap,
  causeCode,
  connectionProblem,
  describe,
  isRedirect,
  isStaleConnection,
  readCapped,
  redirectTarget,
  requestUrl,
  type CallContext,
  type Fail,
} from './httpSupport';

export interface OllamaPortOptions {
  /** As the user wrote it (`http://127.0.0.1:11434`, `localhost:11434`); validated by `parseOllamaHost`. */
  readonly host: string;
  /** The transport; tests and the VS Code adapter may inject their own. Default: global fetch. */
  readonly fetch?: typeof fetch;
  /** Used when a chat request does not set its own. Unset: no limit. */
  readonly defaultFirstTokenTimeoutMs?: number;
  readonly defaultTotalTimeoutMs?: number;
  /** Limit for tags, show, version and embed (default 60 s: embed may have to load its model first). Pull has none; cancel it. */
  readonly requestTimeoutMs?: number;
}

/** How Ollama says a model is missing (`model "x" not found, try pulling it first`, `model 'x' not found`). */
const MODEL_NOT_FOUND = /\bmodel\b.*\bnot found\b/i;

/**
 * @throws InvalidHostError when `options.host` is not an http(s) URL (the message says what to fix).
 * @example
 * const llm = createOllamaPort({ host: 'http://127.0.0.1:11434', defaultFirstTokenTimeoutMs: 60_000 });
 * const reply = await llm.chat({ model: 'llama3.2', messages, onToken: (t) => out.write(t), signal, label: 'vanilla' });
 */
export function createOllamaPort(options: OllamaPortOptions): LlmPort {
  const host = parseOllamaHost(options.host).url;
  const baseFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const requestTimeoutMs = options.requestTimeoutMs ?? 60_000;

  const clientFor = (call: Call) => new Ollama({ host, fetch: linkedFetch(baseFetch, call) });

  /** Runs a short request-response call with its own timeout and maps whatever fails. */
  async function simple<T>(
    what: Omit<CallContext<Op>, 'host'>,
    signal: AbortSignal | undefined,
    run: (client: Ollama) => Promise<T>,
  ): Promise<T> {
    const call = new Call({ ...what, host }, signal, undefined, requestTimeoutMs);
    try {
      return await run(clientFor(call));
    } catch (error) {
      throw call.toLlmError(error);
    } finally {
      call.finish();
    }
  }

  return {
    host,

    async chat(request: ChatRequest): Promise<ChatResponse> {
      const started = performance.now();
      const firstTokenMs = request.firstTokenTimeoutMs ?? options.defaultFirstTokenTimeoutMs;
      const totalMs = request.totalTimeoutMs ?? options.defaultTotalTimeoutMs;
      const call = new Call({ op: 'chat', host, model: request.model, label: request.label }, request.signal, firstTokenMs, totalMs);
      const body = {
        model: request.model,
        messages: [
          ...request.messages.map(toOllamaMessage),
          ...(request.toolChoice === 'required' && request.tools?.length ? [{ role: 'system', content: REQUIRED_TOOL_NOTE }] : []),
        ],
        ...(request.tools?.length ? { tools: request.tools.map(toOllamaTool) } : {}),
        ...(request.format ? { format: request.format } : {}),
        ...(request.options ? { options: { ...request.options } } : {}),
        ...(request.keepAlive !== undefined ? { keep_alive: request.keepAlive } : {}),
      };
      try {
        // A first-token limit can only be checked on a stream: a non-streaming reply arrives all at once.
        if (!request.onToken && firstTokenMs === undefined) {
          const reply = await clientFor(call).chat({ ...body, stream: false });
          call.firstToken();
          const toolCalls = fromOllamaToolCalls(reply.message?.tool_calls);
          return {
            content: reply.message?.content ?? '',
            promptTokens: reply.prompt_eval_count,
            completionTokens: reply.eval_count,
            durationMs: Math.round(performance.now() - started),
            ...(toolCalls.length ? { toolCalls } : {}),
          };
        }
        const stream = await clientFor(call).chat({ ...body, stream: true });
        let content = '';
        let promptTokens: number | undefined;
        let completionTokens: number | undefined;
        // Ollama sends each tool call whole, in a chunk of its own, before the final one.
        const toolCalls: ToolCall[] = [];
        for await (const part of stream) {
          call.firstToken();
          const text = part.message?.content ?? '';
          if (text) {
            content += text;
            call.callback(() => request.onToken?.(text));
          }
          toolCalls.push(...fromOllamaToolCalls(part.message?.tool_calls));
          if (part.done) {
            promptTokens = part.prompt_eval_count;
            completionTokens = part.eval_count;
          }
        }
        return {
          content,
          promptTokens,
          completionTokens,
          durationMs: Math.round(performance.now() - started),
          ...(toolCalls.length ? { toolCalls } : {}),
        };
      } catch (error) {
        throw call.toLlmError(error);
      } finally {
        call.finish();
      }
    },

    listModels(signal) {
      return simple({ op: 'list models' }, signal, async (client) => {
        const { models } = await client.list();
        return models.map((m): ModelInfo => ({
          name: m.name,
          sizeBytes: m.size,
          family: m.details?.family || undefined,
          parameterSize: m.details?.parameter_size || undefined,
          quantization: m.details?.quantization_level || undefined,
        }));
      });
    },

    showModel(model, signal) {
      return simple({ op: 'show model', model }, signal, async (client): Promise<ModelDetails> => {
        const shown = await client.show({ model });
        // Typed as a Map by the client, but it is the parsed JSON object.
        const info = (shown.model_info ?? {}) as unknown as Record<string, unknown>;
        const key = Object.keys(info).find((k) => k.endsWith('.context_length'));
        const contextLength = key !== undefined && typeof info[key] === 'number' ? (info[key] as number) : undefined;
        // Newer servers add these for cloud models; the client's type does not know them yet.
        const { remote_host: remoteHost, remote_model: remoteModel } = shown as unknown as {
          remote_host?: unknown;
          remote_model?: unknown;
        };
        return {
          name: model,
          contextLength,
          capabilities: Array.isArray(shown.capabilities) ? shown.capabilities : undefined,
          ...(typeof remoteHost === 'string' && remoteHost ? { remoteHost } : {}),
          ...(typeof remoteModel === 'string' && remoteModel ? { remoteModel } : {}),
        };
      });
    },

    embed(model, input, signal) {
      return simple({ op: 'embed', model }, signal, async (client) => {
        const reply = await client.embed({ model, input: [...input] });
        if (!Array.isArray(reply.embeddings) || reply.embeddings.length !== input.length) {
          throw new LlmError(
            'malformed',
            `Ollama at ${host} returned ${reply.embeddings?.length ?? 0} embeddings for ${input.length} inputs with ${model}.`,
            { host, model },
          );
        }
        return reply.embeddings;
      });
    },

    async pull(model, onProgress: (p: PullProgress) => void, signal) {
      const call = new Call({ op: 'pull', host, model }, signal, undefined, undefined);
      try {
        const stream = await clientFor(call).pull({ model, stream: true });
        for await (const part of stream) {
          // Lines without a layer ("pulling manifest", "success") carry no sizes; a layer at 0 bytes keeps its 0.
          const num = (n: unknown) => (typeof n === 'number' ? n : undefined);
          call.callback(() => onProgress({ status: part.status, completed: num(part.completed), total: num(part.total) }));
        }
      } catch (error) {
        throw call.toLlmError(error);
      } finally {
        call.finish();
      }
    },

    version(signal) {
      return simple({ op: 'version' }, signal, async (client) => (await client.version()).version);
    },

    runningModels(signal) {
      return simple({ op: 'running models' }, signal, async (client) => {
        const { models } = await client.ps();
        return models.map((m): RunningModel => {
          // Typed as a Date by the client, but it is the JSON string; a far-future date means "never".
          const at = new Date(String(m.expires_at ?? ''));
          return { name: m.name, ...(Number.isNaN(at.getTime()) ? {} : { expiresAt: at }) };
        });
      });
    },
  };
}

/** Ollama has no `tool_choice`: a required call is asked for in words, last, where a model heeds it most. */
const REQUIRED_TOOL_NOTE = 'Reply with a call to one of the tools; do not answer in text.';

/** A port message in Ollama's shape: tool calls as `tool_calls`, a tool result as role `tool` with `tool_name`. */
function toOllamaMessage(m: ChatMessage) {
  return {
    role: m.role,
    content: m.content,
    ...(m.toolCalls?.length ? { tool_calls: m.toolCalls.map((c) => ({ function: { name: c.name, arguments: { ...c.arguments } } })) } : {}),
    ...(m.role === 'tool' && m.toolName ? { tool_name: m.toolName } : {}),
  };
}

function toOllamaTool(tool: ToolSpec) {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

/**
 * The calls of one reply chunk. Ollama gives `arguments` as an object; a model that wrote a JSON string
 * there (seen with some templates) is parsed, and anything that is not an object becomes `{}`: the
 * caller validates arguments against the tool's schema anyway.
 */
function fromOllamaToolCalls(calls: unknown): ToolCall[] {
  if (!Array.isArray(calls)) return [];
  const out: ToolCall[] = [];
  for (const raw of calls as { id?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
    const name = raw?.function?.name;
    if (typeof name !== 'string' || !name) continue;
    let args = raw.function?.arguments;
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args) as unknown;
      } catch {
        args = undefined;
      }
    }
    const isObject = typeof args === 'object' && args !== null && !Array.isArray(args);
    out.push({
      ...(typeof raw.id === 'string' && raw.id ? { id: raw.id } : {}),
      name,
      arguments: isObject ? (args as Record<string, unknown>) : {},
    });
  }
  return out;
}

type Op = 'chat' | 'list models' | 'show model' | 'embed' | 'pull' | 'version' | 'running models';

/** An Ollama call: the shared lifecycle with Ollama's wording for failed requests. */
class Call extends HttpCall<Op> {
  protected readonly slowFirstToken = 'The model may still be loading or the machine is busy';

  protected failure(error: unknown, fail: Fail): LlmError {
    const { host, model, op } = this.context;
    const who = this.who();
    const Who = cap(who);

    const status = responseStatus(error);
    if (status !== undefined) {
      const serverText = (error as Error).message;
      if (status === 404) {
        // Ollama's own 404s name the model: `model "x" not found, try pulling it first` (chat, embed),
        // `model 'x' not found` (show). Any other 404 comes from something that is not Ollama's API: a
        // proxy, a web server, or a host with a path prefix Ollama does not have.
        if (model && (op === 'chat' || op === 'show model' || op === 'embed') && MODEL_NOT_FOUND.test(serverText)) {
          return fail(
            'model-missing',
            `The model "${model}" is not installed in Ollama at ${host}. Pull it with \`ollama pull ${model}\`, or choose another model. (Ollama said: ${serverText})`,
            status,
          );
        }
        return fail(
          'http',
          `Not an Ollama API at ${host}: ${who} got HTTP 404 on ${this.path ?? 'its path'} (${serverText}). The host should be the address Ollama answers on, such as http://127.0.0.1:11434, with a path only behind a proxy that serves Ollama under that path.`,
          status,
          'host',
        );
      }
      return fail('http', `Ollama at ${host} answered HTTP ${status} to ${who}${model ? ` (${model})` : ''}: ${serverText}`, status);
    }

    if (!this.responded) {
      const reason = connectionProblem(error);
      if (reason === 'refused') {
        // `localhost` may resolve to ::1 while Ollama listens on 127.0.0.1 only (its default).
        const hint = /^https?:\/\/localhost[:/]/i.test(host) ? ' If Ollama is running, try http://127.0.0.1 instead of localhost.' : '';
        return fail(
          'unreachable',
          `Cannot reach Ollama at ${host}. Is it running? Start it with \`ollama serve\`.${hint}`,
          undefined,
          'host',
        );
      }
      if (reason === 'dns')
        return fail('unreachable', `Cannot reach Ollama at ${host}: the host name does not resolve.`, undefined, 'host');
      return fail(
        'unreachable',
        `Cannot reach Ollama at ${host} (${describe(error)}). Is it running? Start it with \`ollama serve\`.`,
        undefined,
        'host',
      );
    }

    if (isCutOff(error)) {
      return fail(
        'stream',
        `${Who}'s reply from Ollama at ${host} was cut off: the stream ended before its final chunk. Ollama may have stopped or crashed; try again.`,
      );
    }
    return fail('stream', `Ollama at ${host} reported an error during ${who}${model ? ` (${model})` : ''}: ${describe(error)}`);
  }
}

/** The most of an error body that is read; the rest is never downloaded (Ollama's own error bodies are a line). */
const ERROR_BODY_LIMIT_BYTES = 16 * 1024;

/**
 * The client's fetch for one call: the call's signal joins the client's own, redirects are refused,
 * and error bodies become JSON.
 */
function linkedFetch(base: typeof fetch, call: Call): typeof fetch {
  return async (input, init) => {
    const signal = init?.signal ? AbortSignal.any([call.signal, init.signal]) : call.signal;
    const url = requestUrl(input);
    call.path = url?.pathname;
    // fetch would follow a 307/308 with the same body, the question and the targets, to wherever the
    // Location header points. Never follow one: every request goes to the configured host or nowhere.
    const send = () => base(input, { ...init, signal, redirect: 'manual' });
    let response: Response;
    try {
      response = await send();
    } catch (error) {
      // A pooled keep-alive connection the server had just closed fails before any reply: the request
      // never got an answer, so one retry on a fresh connection is safe (the body is a string, resent as is).
      if (signal.aborted || !isStaleConnection(error) || (init?.body !== undefined && typeof init.body !== 'string')) throw error;
      response = await send();
    }
    call.responded = true;
    if (isRedirect(response)) {
      void response.body?.cancel().catch(() => undefined);
      throw redirectError(call, response, url);
    }
    if (response.ok) return response;
    // The client console.logs while reading non-JSON error bodies (a proxy's HTML 502, say), which
    // would land in the CLI's stdout; hand it a JSON body with the same text instead.
    const text = (await readCapped(response, ERROR_BODY_LIMIT_BYTES)).trim();
    let error: string | undefined;
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string') error = parsed.error.slice(0, 500);
    } catch {
      // not JSON (or cut at the limit): use the text itself
    }
    error ??= text.slice(0, 500) || `${response.status} ${response.statusText}`.trim();
    return new Response(JSON.stringify({ error }), {
      status: response.status,
      statusText: response.statusText,
      headers: { 'content-type': 'application/json' },
    });
  };
}

function redirectError(call: Call, response: Response, from: URL | undefined): LlmError {
  const { host, model, label } = call.context;
  const target = redirectTarget(response, from, host);
  const status = response.status >= 300 && response.status < 400 ? ` (HTTP ${response.status})` : '';
  const where = target ? ` to ${target}` : '';
  const sent = response.redirected
    ? 'The request was already re-sent there by the transport; its reply was discarded.'
    : 'Nothing was sent there.';
  return new LlmError(
    'remote-host',
    `Ollama at ${host} redirected ${call.who()}${status}${where}, and Unlearn does not follow redirects: requests go only to the configured host. ${sent} The host should be the address Ollama itself answers on.`,
    { host, model, label, suspect: 'host', ...(status ? { status: response.status } : {}) },
  );
}

function responseStatus(error: unknown): number | undefined {
  if (error instanceof Error && error.name === 'ResponseError') {
    const status = (error as Error & { status_code?: unknown }).status_code;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

/** A stream that ended without `done`, a reset socket mid-body, or a half-received JSON body. */
function isCutOff(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.message.startsWith('Did not receive done or success response in stream')) return true;
  if (error instanceof SyntaxError) return true;
  // undici: "terminated" with a socket error as cause.
  return error instanceof TypeError || causeCode(error) !== undefined;
}
