/**
 * A scripted Ollama server for tests, benchmarks and demos: a real `node:http` server on 127.0.0.1
 * that speaks enough of Ollama's wire protocol (NDJSON streaming, final-chunk statistics, Ollama's
 * error bodies) that the official `ollama` client cannot tell it from the real thing. Replies are
 * scripted per ALU agent role, so a pipeline test reads like the conversation it expects.
 *
 * Dependency-free apart from node built-ins and `src/core/agents/roles.ts`, so esbuild can bundle it
 * into a standalone script (`esbuild test/support/scriptedOllama.ts --bundle --platform=node`).
 *
 * @example
 * const ollama = await startScriptedOllama({
 *   script: {
 *     vanilla: 'Paris is the capital of France.',
 *     detect: { touched: [] },                            // objects are sent as JSON content
 *     critic: [fault.http(500, 'out of memory'), { scores: [5] }], // consumed call by call
 *   },
 * });
 * const port = createOllamaPort({ host: ollama.host });
 * // … run the code under test …
 * assert.equal(ollama.chatsOf('detect').length, 1);
 * await ollama.waitForIdle();   // every stream closed, e.g. after an abort
 * await ollama.close();
 *
 * At a glance:
 * - Replies: `'text'` (streamed word by word), `{...}` (JSON content), `reply(content, { firstTokenDelayMs,
 *   chunkDelayMs, chunks, doneReason, toolCalls })`, `toolCalls([{ name, arguments }], text?)` (Agent mode), `fault.http(status, text)`, `fault.errorLine(text)`,
 *   `fault.cut({ destroy })`, `fault.hang({ afterChunks })`,
 *   `fault.redirect(status, location)`, `fault.endlessBody(status)`. A list answers call by call; a function
 *   gets the `RecordedChat`.
 * - Records: `requests` (all), `chats` / `chatsOf(role)` (role, model, messages with `tool_calls` / `tool_name`,
 *   tools, format, options, stream). A tool step has no agent signature, so its role is `vanilla`.
 * - Live counters: `activeRequests`, `openStreams`, `openConnections` (keep-alive included), `clientAborts`.
 * - Control: `setScript`, `scriptRole`, `setModels`, `setFault(endpoint, …)`, `reset`, `stop` / `start`
 *   (same port: "Ollama stopped"), `close`, `waitForIdle`.
 * - Token counts are ceil(chars / 4) of the request's message contents and of the reply (`estimateTokens`).
 * - Speed (opt-in, `speed: { slots: 4, timeScale: 0.05 }`): replies are paced by the speed model in
 *   `speedModel.ts` (load, keep-alive, slots, prompt cache, tokens per second); `timingOf(chat)` says what a
 *   call cost in model time, `/api/ps` lists loaded models. Faults and replies with their own delays are not paced.
 * - Unknown model → 404 `model "x" not found, try pulling it first`; a model without the `completion`
 *   capability → 400; concurrent calls to one role take list entries in arrival order.
 */
import { scriptedEmbedding } from './scriptedEmbeddings';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AgentRole } from '../../src/core/agents/roles';
import { asCandidateCall, callRoleOf, candidateSets, combineCandidateReplies, isWholeEditReply } from './erasedReplies';
import type { ChatMessage } from '../../src/core/llm/port';
import { isParallelismProbe } from '../../src/core/llm/parallelism';
import { parseKeepAlive, SpeedModel, type SpeedEvent, type SpeedProfile, type SpeedRequest, type SpeedTimings } from './speedModel';

// ---------------------------------------------------------------------------------------------
// Script vocabulary

/** Marks replies built by `reply()` / `fault.*` so they are never confused with JSON content. `Symbol.for` so that two bundled copies agree. */
const BRAND: unique symbol = Symbol.for('unlearn.scriptedOllama.reply') as never;

/** Timing of one reply. Real Ollama sends no headers until the model produced its first token, and so does this server. */
export interface ReplyTiming {
  /** Wait before the response headers and first chunk (model load + prompt evaluation). */
  readonly firstTokenDelayMs?: number;
  /** Wait between two streamed chunks. */
  readonly chunkDelayMs?: number;
}

export interface ScriptedReplySpec extends ReplyTiming {
  readonly [BRAND]: 'reply';
  /** Text, or an object sent as its JSON (what a structured-output call gets back). */
  readonly content: string | object;
  /** Exact stream pieces; by default the content is split into word-sized chunks. */
  readonly chunks?: readonly string[];
  /** `done_reason` of the final chunk (default `stop`; Ollama says `length` when num_predict cut it). */
  readonly doneReason?: string;
  /** Override the honest estimates (ceil(chars / 4)). */
  readonly promptEvalCount?: number;
  readonly evalCount?: number;
  /**
   * Tool calls the model makes, after the text: streamed as one chunk of `message.tool_calls` before the
   * final chunk (as Ollama does), or in the single reply of a non-streaming call.
   */
  readonly toolCalls?: readonly ScriptedToolCall[];
}

/** One call in Ollama's wire shape: the tool's name and its arguments as a JSON object. */
export interface ScriptedToolCall {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

export type ScriptedFault = ReplyTiming & { readonly [BRAND]: 'fault' } & (
    | { readonly kind: 'http'; readonly status: number; readonly error: string }
    | { readonly kind: 'error-line'; readonly error: string; readonly content: string; readonly afterChunks?: number }
    | { readonly kind: 'cut'; readonly content: string; readonly afterChunks?: number; readonly destroy: boolean }
    | { readonly kind: 'hang'; readonly content: string; readonly afterChunks?: number }
    | { readonly kind: 'redirect'; readonly status: number; readonly location: string }
    | { readonly kind: 'endless-body'; readonly status: number }
  );

/**
 * One reply: a string (streamed in word-sized chunks), any other object (its JSON is the content),
 * or a `reply(…)` / `fault.…(…)` value. To answer with a JSON *array*, wrap it: `reply([…])`,
 * because a bare array in a script means "one reply per call".
 */
export type ScriptedReply = string | object | ScriptedReplySpec | ScriptedFault;

/** A reply, a list consumed call by call (the last one repeats), or a function of the request. */
export type ReplySource = ScriptedReply | readonly ScriptedReply[] | ((chat: RecordedChat) => ScriptedReply | Promise<ScriptedReply>);

/** Replies per agent role (`default` answers roles without an entry), or one function for every chat. */
export type ChatScript =
  Partial<Record<AgentRole | 'default', ReplySource>> | ((chat: RecordedChat) => ScriptedReply | Promise<ScriptedReply>);

/** A reply with timing or exact chunks. */
export function reply(content: string | object, options: Omit<ScriptedReplySpec, typeof BRAND | 'content'> = {}): ScriptedReplySpec {
  return { ...options, content, [BRAND]: 'reply' };
}

/** A reply that calls tools (`text` beside them is optional, as with real models). */
export function toolCalls(
  calls: readonly ScriptedToolCall[],
  text = '',
  options: Omit<ScriptedReplySpec, typeof BRAND | 'content' | 'toolCalls'> = {},
): ScriptedReplySpec {
  return reply(text, { ...options, toolCalls: calls });
}

interface FaultOptions extends ReplyTiming {
  /** Text streamed before the fault (default: a short partial sentence). */
  readonly content?: string;
  /** How many chunks of `content` go out before the fault (default: all of them; for `hang`, 0 = no headers at all). */
  readonly afterChunks?: number;
}

const PARTIAL = 'The answer starts here but';

/** Ways a call can fail, as Ollama fails. */
export const fault = {
  /** An HTTP error status with Ollama's `{"error": "..."}` body, before any streaming. */
  http(status: number, error: string, timing: ReplyTiming = {}): ScriptedFault {
    return { ...timing, kind: 'http', status, error, [BRAND]: 'fault' };
  },
  /** HTTP 200, some chunks, then a `{"error": "..."}` line and the end of the stream (Ollama's mid-stream failure). Non-streaming calls get a 500. */
  errorLine(error: string, options: FaultOptions = {}): ScriptedFault {
    return { ...options, kind: 'error-line', error, content: options.content ?? PARTIAL, [BRAND]: 'fault' };
  },
  /** Some chunks, then the stream ends without its `done: true` chunk; `destroy: true` resets the socket instead of ending cleanly. */
  cut(options: FaultOptions & { readonly destroy?: boolean } = {}): ScriptedFault {
    return { ...options, kind: 'cut', content: options.content ?? PARTIAL, destroy: options.destroy ?? false, [BRAND]: 'fault' };
  },
  /** Stop answering (after `afterChunks` chunks; default 0: not even headers) until the client goes away or the server stops. */
  hang(options: FaultOptions = {}): ScriptedFault {
    return { ...options, kind: 'hang', content: options.content ?? PARTIAL, afterChunks: options.afterChunks ?? 0, [BRAND]: 'fault' };
  },
  /** A redirect (301, 302, 303, 307, 308) to `location`, as a misconfigured proxy or a hostile server might send. */
  redirect(status: number, location: string, timing: ReplyTiming = {}): ScriptedFault {
    return { ...timing, kind: 'redirect', status, location, [BRAND]: 'fault' };
  },
  /** An HTTP error status whose text body never ends: the server keeps writing until the client goes away. */
  endlessBody(status: number, timing: ReplyTiming = {}): ScriptedFault {
    return { ...timing, kind: 'endless-body', status, [BRAND]: 'fault' };
  },
};

function isSpec(value: unknown): value is ScriptedReplySpec | ScriptedFault {
  return typeof value === 'object' && value !== null && BRAND in value;
}

// ---------------------------------------------------------------------------------------------
// Models

export interface ScriptedModel {
  /** `name:tag`; a name without a tag means `:latest`, as in Ollama. */
  readonly name: string;
  readonly family?: string;
  readonly parameterSize?: string;
  readonly quantization?: string;
  readonly sizeBytes?: number;
  /** Reported as `model_info["<family>.context_length"]` by /api/show. */
  readonly contextLength?: number;
  /** Reported by /api/show; a model without `completion` refuses /api/chat with 400, as Ollama does for embedding models. */
  readonly capabilities?: readonly string[];
  /** Length of /api/embed vectors (default 64). */
  readonly embeddingDims?: number;
  /** Similarities bunched as a real model's are (scriptedEmbeddings.ts; default 0, none). */
  readonly embeddingBunching?: number;
}

const DEFAULT_SCRIPTED_MODEL = 'llama3.2:latest';

/** Ollama resolves `llama3.2` to `llama3.2:latest`. */
function normalizeModelName(name: string): string {
  const slash = name.lastIndexOf('/');
  return name.slice(slash + 1).includes(':') ? name : `${name}:latest`;
}

function completeModel(model: string | ScriptedModel, key: (name: string) => string = normalizeModelName): Required<ScriptedModel> {
  const spec = typeof model === 'string' ? { name: model } : model;
  const name = key(spec.name);
  const embedding = /embed|minilm|bge/i.test(name);
  const family = spec.family ?? (/^([a-z]+)/i.exec(name.split('/').pop() ?? '')?.[1]?.toLowerCase() || 'llama');
  return {
    name,
    family,
    parameterSize: spec.parameterSize ?? (embedding ? '137M' : '3.2B'),
    quantization: spec.quantization ?? (embedding ? 'F16' : 'Q4_K_M'),
    sizeBytes: spec.sizeBytes ?? (embedding ? 274_302_450 : 2_019_393_189),
    contextLength: spec.contextLength ?? (embedding ? 2048 : 131_072),
    capabilities: spec.capabilities ?? (embedding ? ['embedding'] : ['completion', 'tools']),
    embeddingDims: spec.embeddingDims ?? 64,
    embeddingBunching: spec.embeddingBunching ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Records

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** Parsed JSON body (undefined for GET or an unparsable body). */
  readonly body: unknown;
  readonly at: number;
}

/** One message of a recorded chat; tool calls and a tool result's tool name as Ollama received them. */
export interface RecordedMessage {
  readonly role: string;
  readonly content: string;
  readonly tool_calls?: readonly { readonly function: { readonly name: string; readonly arguments: unknown } }[];
  readonly tool_name?: string;
}

export interface RecordedChat {
  /** Which agent sent it, from its task's signature (a structured retry counts as its agent's call). */
  readonly role: AgentRole;
  readonly model: string;
  readonly messages: readonly RecordedMessage[];
  /** The `tools` the request offered (Ollama's `{ type: 'function', function }` entries); absent without tools. */
  readonly tools?: readonly {
    readonly type: string;
    readonly function: { readonly name: string; readonly description?: string; readonly parameters?: unknown };
  }[];
  readonly format?: unknown;
  readonly options?: Record<string, unknown>;
  /** Ollama streams unless the body says `"stream": false`. */
  readonly stream: boolean;
  readonly body: Record<string, unknown>;
  /** The `prompt_eval_count` this server reports for it. */
  readonly promptTokens: number;
}

/** The token estimate behind `prompt_eval_count` and `eval_count`: ceil(characters / 4), the usual rule of thumb for English. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Splits text into word-sized stream chunks that join back to exactly the input. */
export function splitIntoChunks(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}_]+|\s*[^\p{L}\p{N}_\s]|\s+$/gu) ?? [];
}

// ---------------------------------------------------------------------------------------------
// Server

export type ScriptedEndpoint = 'chat' | 'tags' | 'show' | 'embed' | 'pull' | 'version' | 'ps';

export interface ScriptedOllamaOptions extends ReplyTiming {
  /** Installed models (default `llama3.2:latest`). */
  readonly models?: readonly (string | ScriptedModel)[];
  readonly script?: ChatScript;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** What /api/version says. */
  readonly version?: string;
  /** Models /api/pull can fetch; others fail like a missing manifest. Default: any name. */
  readonly registry?: readonly string[];
  /** Progress lines per layer and the wait between them, for /api/pull. */
  readonly pullSteps?: number;
  readonly pullStepDelayMs?: number;
  /**
   * Pace chat replies like a real model (off by default, so tests stay fast): the speed model's profile
   * plus `timeScale`, real seconds per second of model time (e.g. 0.05: a 10 s answer streams in 0.5 s).
   * Timings reported in the final chunk are in model time.
   */
  /** Slots the unpaced server shows the parallelism probe (default 4); with `speed`, the speed model's slots count. */
  readonly probeSlots?: number;
  readonly speed?: Partial<SpeedProfile> & {
    readonly timeScale?: number;
    /**
     * Tokens of a text, for pacing (prompt and reply) and the final chunk's counts. Default ceil(chars / 4);
     * the latency bench gives `estimateBpeTokens` (speedModel.ts), which counts JSON's punctuation as a
     * tokenizer does.
     */
    readonly countTokens?: (text: string) => number;
  };
}

/** Start a scripted server on 127.0.0.1. Always `close()` it (e.g. in `after`). */
export async function startScriptedOllama(options: ScriptedOllamaOptions = {}): Promise<ScriptedOllama> {
  const server = new ScriptedOllama(options);
  await server.start();
  return server;
}

export class ScriptedOllama {
  /** Every request, any endpoint, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Every /api/chat request, in arrival order. */
  readonly chats: RecordedChat[] = [];
  /** Responses the client abandoned before they were complete (the server saw the connection close). */
  clientAborts = 0;

  private server: Server | undefined;
  private boundPort: number;
  private readonly sockets = new Set<Socket>();
  private active = 0;
  private streams = 0;
  private readonly idleWaiters = new Set<() => void>();
  protected models = new Map<string, Required<ScriptedModel>>();
  private script: ChatScript;
  private readonly cursors = new Map<string, number>();
  protected readonly faults = new Map<ScriptedEndpoint, ScriptedFault>();
  /** While `stop()` drops connections, closed responses are the server's doing, not client aborts. */
  private stopping = false;
  private pacer: SpeedPacer | undefined;
  private readonly countTokens: (text: string) => number;
  private readonly speedJobs = new WeakMap<RecordedChat, number>();

  constructor(protected readonly options: ScriptedOllamaOptions = {}) {
    this.boundPort = options.port ?? 0;
    this.script = options.script ?? {};
    this.setModels(options.models ?? [DEFAULT_SCRIPTED_MODEL]);
    this.countTokens = options.speed?.countTokens ?? estimateTokens;
    if (options.speed) {
      const { timeScale = 1, countTokens: _count, ...profile } = options.speed;
      this.pacer = new SpeedPacer(new SpeedModel(profile), timeScale);
    }
  }

  /**
   * Stop, then start again as a new `ollama serve` would: no model loaded, empty prompt caches, and with
   * `speed` the profile's changes (e.g. `{ slots: 4 }`, as after raising OLLAMA_NUM_PARALLEL). Model time
   * starts again from 0.
   */
  async restart(speed: Partial<SpeedProfile> = {}): Promise<void> {
    await this.stop();
    if (this.pacer) this.pacer = new SpeedPacer(new SpeedModel({ ...this.pacer.model.profile, ...speed }), this.pacer.timeScale);
    await this.start();
  }

  /** The speed model pacing replies, when `speed` is on (its profile; model time in seconds). */
  get speedModel(): SpeedModel | undefined {
    return this.pacer?.model;
  }

  /** What a paced chat cost in model time (queue, load, cached and evaluated prompt tokens, first token…). */
  timingOf(chat: RecordedChat): SpeedTimings | undefined {
    const id = this.speedJobs.get(chat);
    return id === undefined ? undefined : this.pacer?.model.timings(id);
  }

  /**
   * Real seconds per model second from now on (with `speed`). A benchmark slows the clock while its
   * client must react within a model's few tokens (a parallelism probe), and speeds it up again.
   */
  setTimeScale(timeScale: number): void {
    this.pacer?.setTimeScale(timeScale);
  }

  /** Model time now, in seconds (0 without `speed`). */
  speedTime(): number {
    return this.pacer?.now() ?? 0;
  }

  /**
   * Model seconds between `from` and `to` (model times) during which at least one paced chat was queued or
   * running. A benchmark adds the rest of its wall time unscaled, so that its own CPU time between calls is
   * not magnified by 1/timeScale.
   */
  busySeconds(from: number, to: number): number {
    return this.pacer?.busySeconds(from, to) ?? 0;
  }

  /** `http://127.0.0.1:<port>`, what the client's `host` should be. */
  get host(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    if (!this.boundPort) throw new Error('scripted Ollama: not started yet');
    return this.boundPort;
  }

  get running(): boolean {
    return this.server?.listening ?? false;
  }

  /** TCP connections open right now (idle keep-alive connections included). */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Requests whose response is not finished and whose connection is still open. */
  get activeRequests(): number {
    return this.active;
  }

  /** Streaming responses (chat or pull) that started and are not finished or closed. */
  get openStreams(): number {
    return this.streams;
  }

  /** Replace the chat script; the per-role call counters start again. */
  setScript(script: ChatScript): void {
    this.script = script;
    this.cursors.clear();
  }

  /** Replace the reply of one role (keeps the others). */
  scriptRole(role: AgentRole | 'default', source: ReplySource): void {
    if (typeof this.script === 'function') throw new Error('scripted Ollama: the script is a function; use setScript');
    this.script = { ...this.script, [role]: source };
    this.cursors.delete(role);
  }

  /** Replace the installed models. */
  setModels(models: readonly (string | ScriptedModel)[]): void {
    this.models = new Map(models.map((m) => completeModel(m, (name) => this.modelKey(name))).map((m) => [m.name, m]));
  }

  installedModels(): string[] {
    return [...this.models.keys()];
  }

  /** Make every request to an endpoint fail this way until cleared with `undefined`. (For chat, prefer the script.) */
  setFault(endpoint: ScriptedEndpoint, failure: ScriptedFault | undefined): void {
    if (failure) this.faults.set(endpoint, failure);
    else this.faults.delete(endpoint);
  }

  chatsOf(role: AgentRole): RecordedChat[] {
    return this.chats.filter((c) => c.role === role);
  }

  /** Forget recorded requests and abort counts, and restart the per-role counters. */
  reset(): void {
    this.requests.length = 0;
    this.chats.length = 0;
    this.probes.length = 0;
    this.embedded.length = 0;
    this.clientAborts = 0;
    this.cursors.clear();
  }

  /** Resolves when no request is in flight (e.g. after an abort reached the server). Rejects after `timeoutMs`. */
  waitForIdle(timeoutMs = 2000): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters.delete(done);
        reject(new Error(`scripted Ollama: ${this.active} request(s) still open after ${timeoutMs} ms (${this.streams} stream(s))`));
      }, timeoutMs);
      this.idleWaiters.add(done);
    });
  }

  /** Listen (again) on 127.0.0.1: the first time on `options.port` or a free port, after `stop()` on the same port. */
  async start(): Promise<void> {
    if (this.running) return;
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stop listening and drop every connection, like a killed `ollama serve`. The port stays reserved for `start()`. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    // Let a client in this same process read the FIN before its next request, so that request
    // meets a closed port (ECONNREFUSED, as after a real `ollama serve` exit) rather than a stale pooled socket.
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.stopping = false;
  }

  /** Same as `stop()`; reads better in `after(() => ollama.close())`. */
  close(): Promise<void> {
    return this.stop();
  }

  // -------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.active++;
    const exchange = new Exchange(
      res,
      () => {
        this.active--;
        if (this.active === 0) for (const wake of [...this.idleWaiters]) wake();
      },
      () => {
        if (!this.stopping) this.clientAborts++;
      },
      (delta) => (this.streams += delta),
    );
    try {
      const raw = await readBody(req);
      const path = (req.url ?? '/').split('?')[0]!;
      const method = req.method ?? 'GET';
      let body: unknown;
      let badJson: string | undefined;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch (error) {
          badJson = (error as Error).message;
        }
      }
      this.requests.push({ method, path, body, at: Date.now() });
      if (badJson !== undefined) return exchange.json(400, { error: badJson });
      await this.route(method, path, (body ?? {}) as Record<string, unknown>, exchange, req.headers);
    } catch (error) {
      if (!exchange.closed && !res.headersSent) exchange.json(500, { error: `scripted Ollama: ${(error as Error).message}` });
      else exchange.destroy();
    }
  }

  /** How chat replies and errors are written: Ollama's NDJSON here; scriptedOpenAI.ts has server-sent events. */
  protected readonly wire: ChatWire = OLLAMA_WIRE;

  /** The key the installed models are kept under: Ollama adds `:latest` to a name without a tag. */
  protected modelKey(name: string): string {
    return normalizeModelName(name);
  }

  /** Answers one request; `_headers` is for subclasses (Ollama takes no key, the OpenAI-compatible server reads it). */
  protected async route(
    method: string,
    path: string,
    body: Record<string, unknown>,
    ex: Exchange,
    _headers: IncomingHttpHeaders,
  ): Promise<void> {
    const route = `${method} ${path}`;
    if (route === 'GET /' || route === 'HEAD /') return ex.text(200, 'Ollama is running');
    const endpoint = ROUTES[route];
    if (!endpoint) return ex.text(404, '404 page not found');
    const failure = this.faults.get(endpoint);
    if (failure && endpoint !== 'pull') return this.failPlain(failure, ex);
    switch (endpoint) {
      case 'version':
        return ex.json(200, { version: this.options.version ?? '0.12.6' });
      case 'tags':
        return ex.json(200, { models: [...this.models.values()].map(tagsEntry) });
      case 'show':
        return this.show(body, ex);
      case 'embed':
        return this.embed(body, ex);
      case 'pull':
        return this.pull(body, ex, failure);
      case 'chat':
        return this.chat(body, ex);
      case 'ps':
        return this.ps(ex);
    }
  }

  /** A fault on a non-streaming endpoint. */
  protected async failPlain(failure: ScriptedFault, ex: Exchange): Promise<void> {
    if (!(await ex.sleep(failure.firstTokenDelayMs))) return;
    if (failure.kind === 'http') return this.wire.error(ex, failure.status, failure.error);
    if (failure.kind === 'error-line') return this.wire.error(ex, 500, failure.error);
    if (failure.kind === 'hang') return ex.hang();
    if (failure.kind === 'redirect') return ex.redirect(failure.status, failure.location);
    if (failure.kind === 'endless-body') return ex.endless(failure.status);
    return ex.cutPlain();
  }

  private show(body: Record<string, unknown>, ex: Exchange): void {
    const name = String(body.model ?? body.name ?? '');
    if (!name) return ex.json(400, { error: 'model is required' });
    const model = this.models.get(normalizeModelName(name));
    if (!model) return ex.json(404, { error: `model '${name}' not found` });
    const details = modelDetails(model);
    return ex.json(200, {
      license: 'Scripted test model; no weights.',
      modelfile: `# Modelfile generated by scripted Ollama\nFROM ${model.name}\n`,
      parameters: 'stop "<|eot_id|>"',
      template: '{{ .Prompt }}',
      details,
      model_info: {
        'general.architecture': model.family,
        'general.basename': model.name.split(':')[0],
        'general.parameter_count': 3_212_749_888,
        [`${model.family}.context_length`]: model.contextLength,
        [`${model.family}.embedding_length`]: model.embeddingDims,
      },
      capabilities: model.capabilities,
      modified_at: MODIFIED_AT,
    });
  }

  /**
   * The parallelism probe's requests (`src/core/llm/parallelism.ts`), kept out of `chats` and out of the
   * script: they are not agent calls, and a front end sends them before its first request. Unpaced, the
   * server answers them as if it had `probeSlots` slots; paced, the speed model's slots answer.
   */
  readonly probes: RecordedChat[] = [];
  private probeRunning = 0;
  private readonly probeQueue: (() => void)[] = [];

  private async unpacedProbe(chat: RecordedChat, content: string, ex: Exchange): Promise<void> {
    if (this.probeRunning >= (this.options.probeSlots ?? 4)) {
      await new Promise<void>((resolve) => {
        const go = () => resolve();
        this.probeQueue.push(go);
        ex.onClose(() => {
          const at = this.probeQueue.indexOf(go);
          if (at >= 0) this.probeQueue.splice(at, 1);
          resolve();
        });
      });
      if (ex.closed) return;
    }
    this.probeRunning++;
    try {
      const limit = typeof chat.options?.num_predict === 'number' ? chat.options.num_predict : undefined;
      const chunks = splitIntoChunks(content).slice(0, limit);
      const started = process.hrtime.bigint();
      // Prompt evaluation: a freed slot's next request streams a moment after the last one ended, never with it.
      if (!(await ex.sleep(5))) return;
      if (chat.stream) {
        ex.startStream();
        ex.line({
          model: chat.model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content: chunks[0] },
          done: false,
        });
      }
      // Long enough that every request sent with this one reaches the server before it ends.
      if (!(await ex.sleep(25))) return;
      const text = chunks.join('');
      const stats = finalStats(reply(text, { doneReason: 'length' }), chat.promptTokens, text, started, started);
      if (!chat.stream)
        return ex.json(200, {
          model: chat.model,
          created_at: new Date().toISOString(),
          message: { role: 'assistant', content: text },
          ...stats,
        });
      ex.line({
        model: chat.model,
        created_at: new Date().toISOString(),
        message: { role: 'assistant', content: chunks.slice(1).join('') },
        done: false,
      });
      ex.line({ model: chat.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, ...stats });
      ex.end();
    } finally {
      this.probeRunning--;
      this.probeQueue.shift()?.();
    }
  }

  /** Every text /api/embed embedded, in order (to see what was cached and what was embedded again). */
  readonly embedded: string[] = [];
  /** Replaces the vector of each text (a wrong size, or NaN, which JSON sends as null), until cleared with undefined. */
  embedOverride: ((text: string, dims: number) => readonly (number | null)[]) | undefined;
  /** Wait this long before answering /api/embed (a slow model); the client going away ends the wait. */
  embedDelayMs = 0;

  protected async embed(body: Record<string, unknown>, ex: Exchange): Promise<void> {
    const name = String(body.model ?? '');
    if (!name) return ex.json(400, { error: 'model is required' });
    const model = this.models.get(normalizeModelName(name));
    if (!model) return ex.json(404, { error: `model "${name}" not found, try pulling it first` });
    const input = body.input;
    const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input.map(String) : [];
    if (texts.length === 0 && input !== undefined) return ex.json(400, { error: 'invalid input type' });
    if (this.embedDelayMs > 0 && !(await ex.sleep(this.embedDelayMs))) return;
    const started = process.hrtime.bigint();
    this.embedded.push(...texts);
    const override = this.embedOverride;
    const embeddings = texts.map((t) =>
      override ? override(t, model.embeddingDims) : embedText(t, model.embeddingDims, model.embeddingBunching),
    );
    return ex.json(200, {
      model: name,
      embeddings,
      total_duration: Number(process.hrtime.bigint() - started) + 1_000_000,
      load_duration: 1_000_000,
      prompt_eval_count: texts.reduce((n, t) => n + estimateTokens(t), 0),
    });
  }

  private async pull(body: Record<string, unknown>, ex: Exchange, failure: ScriptedFault | undefined): Promise<void> {
    const name = String(body.model ?? body.name ?? '');
    if (!name) return ex.json(400, { error: 'model is required' });
    if (failure?.kind === 'http') {
      if (!(await ex.sleep(failure.firstTokenDelayMs))) return;
      return ex.json(failure.status, { error: failure.error });
    }
    if (failure?.kind === 'redirect' || failure?.kind === 'endless-body') return this.failPlain(failure, ex);
    const full = normalizeModelName(name);
    const known = this.options.registry === undefined || this.options.registry.map(normalizeModelName).includes(full);
    const spec = completeModel(name);
    const digest = `sha256:${hashHex(full).padEnd(64, '0')}`;
    const steps = Math.max(1, this.options.pullSteps ?? 4);
    const lines: object[] = [{ status: 'pulling manifest' }];
    if (known) {
      for (let i = 1; i <= steps; i++) {
        lines.push({
          status: `pulling ${digest.slice(7, 19)}`,
          digest,
          total: spec.sizeBytes,
          completed: Math.round((spec.sizeBytes * i) / steps),
        });
      }
      lines.push({ status: 'verifying sha256 digest' }, { status: 'writing manifest' }, { status: 'success' });
    } else {
      lines.push({ error: 'pull model manifest: file does not exist' });
    }
    if (body.stream === false) {
      const last = lines[lines.length - 1]!;
      if (!(await ex.sleep((this.options.pullStepDelayMs ?? 5) * lines.length))) return;
      if ('error' in last) return ex.json(500, last);
      this.models.set(full, spec);
      return ex.json(200, { status: 'success' });
    }
    const stop = failure?.afterChunks ?? lines.length;
    ex.startStream();
    for (let i = 0; i < lines.length; i++) {
      if (failure && i === stop) return this.streamFault(failure, ex);
      if (!(await ex.sleep(i === 0 ? failure?.firstTokenDelayMs : (this.options.pullStepDelayMs ?? 5)))) return;
      ex.line(lines[i]!);
    }
    if (failure) return this.streamFault(failure, ex);
    if (known) this.models.set(full, spec);
    ex.end();
  }

  private async chat(body: Record<string, unknown>, ex: Exchange): Promise<void> {
    const name = typeof body.model === 'string' ? body.model : '';
    if (!name) return ex.json(400, { error: 'model is required' });
    const messages = Array.isArray(body.messages)
      ? (body.messages as { role?: unknown; content?: unknown; tool_calls?: unknown; tool_name?: unknown }[]).map((m): RecordedMessage => ({
          role: String(m.role ?? ''),
          content: String(m.content ?? ''),
          ...(Array.isArray(m.tool_calls) ? { tool_calls: m.tool_calls as RecordedMessage['tool_calls'] } : {}),
          ...(typeof m.tool_name === 'string' ? { tool_name: m.tool_name } : {}),
        }))
      : [];
    // Tool definitions and earlier tool calls are part of the prompt a real server evaluates.
    const promptTokens = estimateTokens(
      messages.map((m) => m.content + (m.tool_calls ? JSON.stringify(m.tool_calls) : '')).join('') +
        (Array.isArray(body.tools) ? JSON.stringify(body.tools) : ''),
    );
    const chat: RecordedChat = {
      role: callRoleOf(messages as ChatMessage[]),
      model: name,
      // A model reads through the datamarking; scripts and assertions see the prompt as a model
      // reads it. The marked prompt as sent stays in `body.messages`.
      messages: readableMessages(messages),
      ...(Array.isArray(body.tools) ? { tools: body.tools as RecordedChat['tools'] } : {}),
      format: body.format,
      options: body.options as Record<string, unknown> | undefined,
      stream: body.stream !== false,
      body,
      promptTokens,
    };
    const probe = isParallelismProbe(messages);
    (probe ? this.probes : this.chats).push(chat);
    const model = this.models.get(normalizeModelName(name));
    if (!model) return ex.json(404, { error: `model "${name}" not found, try pulling it first` });
    if (!model.capabilities.includes('completion')) return ex.json(400, { error: `"${name}" does not support chat` });
    if (probe && !this.faults.has('chat')) {
      const counting = Array.from({ length: 50 }, (_, i) => String(i + 1)).join(' ');
      if (this.pacer) return this.pacedChat(chat, model.name, reply(counting), counting, splitIntoChunks(counting), ex);
      return this.unpacedProbe(chat, counting, ex);
    }

    return this.answerChat(chat, model, ex);
  }

  /** Answers a recorded chat with its scripted reply or fault, in this server's wire format. */
  protected async answerChat(chat: RecordedChat, model: Required<ScriptedModel>, ex: Exchange): Promise<void> {
    const wire = this.wire;
    const { promptTokens } = chat;
    const chosen = this.faults.get('chat') ?? (await this.nextReply(chat));
    if (chosen === undefined) return wire.error(ex, 500, `scripted Ollama: no reply scripted for the ${chat.role} agent`);
    const started = process.hrtime.bigint();
    const timing = {
      firstTokenDelayMs: chosen.firstTokenDelayMs ?? this.options.firstTokenDelayMs,
      chunkDelayMs: chosen.chunkDelayMs ?? this.options.chunkDelayMs,
    };

    if (chosen[BRAND] === 'fault' && chosen.kind === 'http') {
      if (!(await ex.sleep(timing.firstTokenDelayMs))) return;
      return wire.error(ex, chosen.status, chosen.error);
    }
    if (chosen[BRAND] === 'fault' && (chosen.kind === 'redirect' || chosen.kind === 'endless-body')) return this.failPlain(chosen, ex);
    const content =
      chosen[BRAND] === 'reply' ? (typeof chosen.content === 'string' ? chosen.content : JSON.stringify(chosen.content)) : chosen.content;
    const chunks = chosen[BRAND] === 'reply' && chosen.chunks ? [...chosen.chunks] : splitIntoChunks(content);
    if (this.pacer && chosen[BRAND] === 'reply' && chosen.firstTokenDelayMs === undefined && chosen.chunkDelayMs === undefined)
      return this.pacedChat(chat, model.name, chosen, content, chunks, ex);

    if (!chat.stream) {
      if (!(await ex.sleep((timing.firstTokenDelayMs ?? 0) + (timing.chunkDelayMs ?? 0) * Math.max(0, chunks.length - 1)))) return;
      if (chosen[BRAND] === 'fault') {
        if (chosen.kind === 'error-line') return wire.error(ex, 500, chosen.error);
        if (chosen.kind === 'hang') return ex.hang();
        return ex.cutPlain();
      }
      return wire.whole(ex, chat, content, finalStats(chosen, promptTokens, content, started, started), callsOf(chosen));
    }

    const stopAt = chosen[BRAND] === 'fault' ? Math.min(chosen.afterChunks ?? chunks.length, chunks.length) : chunks.length;
    if (!(await ex.sleep(timing.firstTokenDelayMs))) return;
    if (chosen[BRAND] === 'fault' && chosen.kind === 'hang' && stopAt === 0) return ex.hang();
    ex.startStream(wire.contentType);
    const firstChunkAt = process.hrtime.bigint();
    for (let i = 0; i < stopAt; i++) {
      if (i > 0 && !(await ex.sleep(timing.chunkDelayMs))) return;
      wire.chunk(ex, chat, chunks[i]!);
    }
    if (chosen[BRAND] === 'fault') return this.streamFault(chosen, ex);
    if (chosen.toolCalls?.length) {
      if (stopAt > 0 && !(await ex.sleep(timing.chunkDelayMs))) return;
      wire.toolCalls(ex, chat, chosen.toolCalls);
    }
    if (!(await ex.sleep(timing.chunkDelayMs))) return;
    wire.final(ex, chat, finalStats(chosen, promptTokens, content, started, firstChunkAt), chosen.toolCalls);
  }

  /** A reply paced by the speed model: headers and chunks go out when the model would have produced them. */
  private pacedChat(
    chat: RecordedChat,
    model: string,
    spec: ScriptedReplySpec,
    content: string,
    chunks: string[],
    ex: Exchange,
  ): Promise<void> {
    const pacer = this.pacer!;
    // A tool call is generated like text: its JSON counts as output tokens.
    let outputTokens = spec.evalCount ?? Math.max(1, this.countTokens(content + toolCallsText(spec)));
    let doneReason = spec.doneReason;
    // `num_predict` ends the reply after that many tokens, as Ollama does (done_reason "length").
    const limit = chat.options?.num_predict;
    if (typeof limit === 'number' && limit > 0 && outputTokens > limit) {
      const keepChars = (content.length * Math.floor(limit)) / outputTokens;
      const kept: string[] = [];
      let length = 0;
      for (const chunk of chunks) {
        if (kept.length > 0 && length + chunk.length > keepChars) break;
        kept.push(chunk);
        length += chunk.length;
      }
      chunks = kept;
      content = kept.join('');
      outputTokens = Math.floor(limit);
      doneReason = 'length';
    }
    // Chunk i is out when the tokens up to its end are generated (at least one token for the first).
    const milestones: number[] = [];
    let chars = 0;
    for (const chunk of chunks) {
      chars += chunk.length;
      const at = (outputTokens * chars) / Math.max(1, content.length);
      milestones.push(Math.min(outputTokens, Math.max(milestones.at(-1) ?? 1, at)));
    }
    if (milestones.length === 0) milestones.push(outputTokens);
    const request: SpeedRequest = {
      model,
      prompt: renderPrompt(chat.messages),
      promptTokens:
        spec.promptEvalCount ?? (this.countTokens === estimateTokens ? chat.promptTokens : promptTokensOf(chat.messages, this.countTokens)),
      reply: renderPrompt([{ role: 'assistant', content }]),
      outputTokens,
      keepAliveSeconds: parseKeepAlive(chat.body.keep_alive),
      contextLength: typeof chat.options?.num_ctx === 'number' ? chat.options.num_ctx : undefined,
      milestones,
    };
    const wire = this.wire;
    return new Promise<void>((resolve) => {
      const id = pacer.submit(request, (event: SpeedEvent) => {
        if (event.kind === 'milestone') {
          if (!chat.stream) return;
          if (event.index === 0) ex.startStream(wire.contentType);
          if (chunks.length > 0) wire.chunk(ex, chat, chunks[event.index]!);
          return;
        }
        const t = pacer.model.timings(id)!;
        const ns = (seconds: number) => Math.round(seconds * 1e9);
        const stats: FinalStats = {
          done: true,
          done_reason: doneReason || 'stop',
          total_duration: ns((t.doneAt ?? event.at) - t.submittedAt),
          load_duration: ns(t.loadSeconds),
          // Like Ollama: only the tokens evaluated, not those reused from the slot's cache.
          prompt_eval_count: t.evaluatedTokens,
          prompt_eval_duration: ns(t.promptSeconds),
          eval_count: outputTokens,
          eval_duration: ns(t.generationSeconds),
        };
        if (chat.stream) {
          if (spec.toolCalls?.length) wire.toolCalls(ex, chat, spec.toolCalls);
          wire.final(ex, chat, stats, spec.toolCalls);
        } else wire.whole(ex, chat, content, stats, spec.toolCalls);
        resolve();
      });
      this.speedJobs.set(chat, id);
      // The client went away: Ollama stops generating and frees the slot.
      ex.onClose(() => {
        pacer.cancel(id);
        resolve();
      });
    });
  }

  /** Ollama's list of loaded models (`ollama ps`); with no speed model every installed model counts as loaded. */
  private ps(ex: Exchange): void {
    const loaded = this.pacer ? this.pacer.loaded() : [...this.models.keys()].map((model) => ({ model, expiresAt: Infinity }));
    const models = loaded.flatMap(({ model, expiresAt }) => {
      const spec = this.models.get(model);
      if (!spec) return [];
      const expires = Number.isFinite(expiresAt)
        ? new Date(Date.now() + (expiresAt - this.speedTime()) * 1000 * (this.pacer?.timeScale ?? 1))
        : new Date(Date.UTC(2318, 0, 1));
      return [{ ...tagsEntry(spec), size_vram: spec.sizeBytes, expires_at: expires.toISOString() }];
    });
    ex.json(200, { models });
  }

  private async streamFault(failure: ScriptedFault, ex: Exchange): Promise<void> {
    if (!(await ex.sleep(failure.chunkDelayMs))) return;
    switch (failure.kind) {
      case 'error-line':
      case 'http':
        return this.wire.streamError(ex, failure.error);
      case 'cut':
        return failure.destroy ? ex.destroy() : ex.end();
      case 'hang':
        return ex.hang();
    }
  }

  /**
   * The reply for a chat. An edit call asks for j candidates at once; a script written per candidate is
   * asked once per candidate, as if each were its own call, and its replies are combined (a fault for
   * any candidate is the call's fault; the first reply's timing is the call's).
   */
  private async nextReply(chat: RecordedChat): Promise<ScriptedReplySpec | ScriptedFault | undefined> {
    const j = chat.role === 'edit' ? candidateSets(chat.messages) : undefined;
    if (j === undefined) return this.pickReply(chat);
    const first = await this.pickReply(asCandidateCall(chat, 1, j));
    if (first === undefined || first[BRAND] === 'fault' || isWholeEditReply(first.content)) return first;
    const replies: (ScriptedReplySpec | ScriptedFault | undefined)[] = [first];
    for (let n = 2; n <= j; n++) replies.push(await this.pickReply(asCandidateCall(chat, n, j)));
    const failed = replies.find((r) => r === undefined || r[BRAND] === 'fault');
    if (failed !== undefined || replies.some((r) => r === undefined)) return failed;
    const { content: _content, ...timing } = first;
    return { ...timing, content: combineCandidateReplies(replies.map((r) => (r as ScriptedReplySpec).content)) };
  }

  private async pickReply(chat: RecordedChat): Promise<ScriptedReplySpec | ScriptedFault | undefined> {
    const script = this.script;
    let source: ReplySource | undefined;
    let key: string = chat.role;
    if (typeof script === 'function') source = script;
    else {
      source = script[chat.role];
      if (source === undefined) {
        source = script.default;
        key = 'default';
      }
    }
    if (source === undefined) return undefined;
    let picked: ScriptedReply;
    if (typeof source === 'function') picked = await source(chat);
    else if (Array.isArray(source)) {
      const n = this.cursors.get(key) ?? 0;
      this.cursors.set(key, n + 1);
      if (source.length === 0) return undefined;
      picked = source[Math.min(n, source.length - 1)] as ScriptedReply;
    } else picked = source as ScriptedReply;
    return isSpec(picked) ? picked : reply(picked);
  }
}

/** The statistics of a finished reply, as Ollama's final chunk has them (durations in nanoseconds). */
export interface FinalStats {
  readonly done: true;
  readonly done_reason: string;
  readonly total_duration: number;
  readonly load_duration: number;
  readonly prompt_eval_count: number;
  readonly prompt_eval_duration: number;
  readonly eval_count: number;
  readonly eval_duration: number;
}

/**
 * How one server kind writes a chat reply: everything else (scripts, faults, pacing, records) is shared,
 * so the scripted OpenAI-compatible server answers the agents exactly as this one does.
 */
export interface ChatWire {
  /** Content type of a streamed reply. */
  readonly contentType: string;
  /** An error status with the server's error body, before anything was streamed. */
  error(ex: Exchange, status: number, message: string): void;
  /** One streamed piece of the answer. */
  chunk(ex: Exchange, chat: RecordedChat, text: string): void;
  /** The tool calls of a streamed reply (Agent mode), after its text. */
  toolCalls(ex: Exchange, chat: RecordedChat, calls: readonly ScriptedToolCall[]): void;
  /** The end of a stream: its statistics and whatever closes it (`calls`: the reply made tool calls). */
  final(ex: Exchange, chat: RecordedChat, stats: FinalStats, calls?: readonly ScriptedToolCall[]): void;
  /** A whole reply to a non-streaming request, with its tool calls if any. */
  whole(ex: Exchange, chat: RecordedChat, content: string, stats: FinalStats, calls?: readonly ScriptedToolCall[]): void;
  /** An error reported inside a stream that already started, then the end of the stream. */
  streamError(ex: Exchange, message: string): void;
}

const OLLAMA_WIRE: ChatWire = {
  contentType: 'application/x-ndjson',
  error: (ex, status, message) => ex.json(status, { error: message }),
  chunk: (ex, chat, text) =>
    ex.line({ model: chat.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: text }, done: false }),
  toolCalls: (ex, chat, calls) =>
    ex.line({
      model: chat.model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '', ...ollamaToolCalls(calls) },
      done: false,
    }),
  final(ex, chat, stats) {
    ex.line({ model: chat.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, ...stats });
    ex.end();
  },
  whole: (ex, chat, content, stats, calls) =>
    ex.json(200, {
      model: chat.model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content, ...ollamaToolCalls(calls ?? []) },
      ...stats,
    }),
  streamError(ex, message) {
    ex.line({ error: message });
    ex.end();
  },
};

const ROUTES: Record<string, ScriptedEndpoint> = {
  'POST /api/chat': 'chat',
  'GET /api/tags': 'tags',
  'POST /api/show': 'show',
  'POST /api/embed': 'embed',
  'POST /api/pull': 'pull',
  'GET /api/version': 'version',
  'GET /api/ps': 'ps',
  'HEAD /api/version': 'version',
};

const MODIFIED_AT = '2026-01-15T10:00:00.000000000Z';

function modelDetails(model: Required<ScriptedModel>) {
  return {
    parent_model: '',
    format: 'gguf',
    family: model.family,
    families: [model.family],
    parameter_size: model.parameterSize,
    quantization_level: model.quantization,
  };
}

function tagsEntry(model: Required<ScriptedModel>) {
  return {
    name: model.name,
    model: model.name,
    modified_at: MODIFIED_AT,
    size: model.sizeBytes,
    digest: hashHex(model.name).padEnd(64, '0'),
    details: modelDetails(model),
  };
}

/** The fields of Ollama's final chunk; durations in nanoseconds, as Ollama reports them. */
/** Tool calls as Ollama's `message.tool_calls` (spread into a message; nothing without calls). */
function ollamaToolCalls(calls: readonly ScriptedToolCall[]): { tool_calls?: object[] } {
  return calls.length ? { tool_calls: calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) } : {};
}

/** A reply's tool calls, or none (a fault makes none). */
function callsOf(spec: ScriptedReplySpec | ScriptedFault): readonly ScriptedToolCall[] | undefined {
  return spec[BRAND] === 'reply' ? spec.toolCalls : undefined;
}

/** A reply's tool calls as Ollama's `message.tool_calls` (spread into a message; nothing without calls). */
function wireToolCalls(spec: ScriptedReplySpec | ScriptedFault): { tool_calls?: object[] } {
  return ollamaToolCalls(callsOf(spec) ?? []);
}

function toolCallsText(spec: ScriptedReplySpec | ScriptedFault): string {
  return spec[BRAND] === 'reply' && spec.toolCalls?.length ? JSON.stringify(wireToolCalls(spec).tool_calls) : '';
}

function finalStats(
  spec: ScriptedReplySpec | ScriptedFault,
  promptTokens: number,
  content: string,
  started: bigint,
  firstChunkAt: bigint,
): FinalStats {
  const now = process.hrtime.bigint();
  const prompt = spec[BRAND] === 'reply' && spec.promptEvalCount !== undefined ? spec.promptEvalCount : promptTokens;
  const evalCount =
    spec[BRAND] === 'reply' && spec.evalCount !== undefined ? spec.evalCount : Math.max(1, estimateTokens(content + toolCallsText(spec)));
  const promptDuration = Number(firstChunkAt - started);
  return {
    done: true,
    done_reason: (spec[BRAND] === 'reply' && spec.doneReason) || 'stop',
    total_duration: Number(now - started) + 1_000_000,
    load_duration: 1_000_000,
    prompt_eval_count: prompt,
    prompt_eval_duration: Math.max(promptDuration, prompt * 100_000),
    eval_count: evalCount,
    eval_duration: Math.max(Number(now - firstChunkAt), evalCount * 1_000_000),
  };
}

/** FNV-1a: a stable, dependency-free hash for digests and embedding buckets. */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hashHex(text: string): string {
  return [0x811c9dc5, 0x12345678, 0x9e3779b9, 0x7f4a7c15].map((seed) => fnv1a(text, seed).toString(16).padStart(8, '0')).join('');
}

/** What /api/embed answers: see scriptedEmbeddings.ts (near for related texts, far for unrelated ones). */
export const embedText = scriptedEmbedding;

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** One response, with the bookkeeping every endpoint needs: delays that end early when the client leaves, stream counting. */
export class Exchange {
  closed = false;
  private streaming = false;
  private deliberate = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly res: ServerResponse,
    onDone: () => void,
    onClientAbort: () => void,
    private readonly countStream: (delta: number) => void,
  ) {
    res.on('close', () => {
      this.closed = true;
      if (!res.writableFinished && !this.deliberate) onClientAbort();
      if (this.streaming) {
        this.streaming = false;
        countStream(-1);
      }
      for (const wake of this.waiters) wake();
      onDone();
    });
  }

  /** Resolves true after `ms`, or false as soon as the connection is gone. */
  sleep(ms: number | undefined): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (!ms) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(!this.closed);
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  json(status: number, body: unknown): void {
    if (this.closed) return;
    const text = JSON.stringify(body);
    this.res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    this.res.end(text);
  }

  text(status: number, body: string): void {
    if (this.closed) return;
    this.res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    this.res.end(body);
  }

  startStream(contentType = 'application/x-ndjson'): void {
    if (this.closed) return;
    this.res.writeHead(200, { 'Content-Type': contentType });
    this.res.flushHeaders();
    this.streaming = true;
    this.countStream(1);
  }

  line(value: object): void {
    this.write(JSON.stringify(value) + '\n');
  }

  write(text: string): void {
    if (!this.closed) this.res.write(text);
  }

  end(): void {
    if (!this.closed) this.res.end();
  }

  /** Resets the connection: the client sees a socket error, not a clean end. */
  destroy(): void {
    this.deliberate = true;
    this.res.destroy();
  }

  /** A redirect with no body. */
  redirect(status: number, location: string): void {
    if (this.closed) return;
    this.res.writeHead(status, { Location: location, 'Content-Length': 0 });
    this.res.end();
  }

  /** An error status and a text body written 64 KiB at a time for as long as the client reads it. */
  async endless(status: number): Promise<void> {
    if (this.closed) return;
    this.res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    const chunk = 'upstream failure '.repeat(4096).slice(0, 65_536);
    while (!this.closed) {
      if (!this.res.write(chunk)) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            this.waiters.delete(wake);
            this.res.off('drain', wake);
            resolve();
          };
          this.res.once('drain', wake);
          this.waiters.add(wake);
        });
      }
    }
  }

  /** Headers and half a JSON body, then a reset. */
  cutPlain(): void {
    if (this.closed) return;
    this.res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
    this.res.write('{"model":"');
    setTimeout(() => this.destroy(), 5);
  }

  /** Runs `fn` once if the connection closes before the response is complete. */
  onClose(fn: () => void): void {
    if (this.closed) return fn();
    const wake = () => {
      this.waiters.delete(wake);
      if (!this.res.writableFinished) fn();
    };
    this.waiters.add(wake);
  }

  /** Never answer; returns when the client or `stop()` closes the connection. */
  hang(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.waiters.add(resolve);
    });
  }
}

/** Prompt tokens as a tokenizer would count them: each message's text plus its template's role markers. */
function promptTokensOf(messages: readonly { role: string; content: string }[], count: (text: string) => number): number {
  return messages.reduce((n, m) => n + count(m.content) + 4, 0);
}

/**
 * Messages with the pipeline's datamarking taken out (see src/core/agents/datamark.ts): in every agent
 * task of the thread (the rule sits in the task that uses the marker), the marker back to spaces and the
 * rule itself dropped. Kept here (not imported) so this file stays free of the product's modules apart
 * from roles.ts.
 */
export function readableMessages<M extends { role: string; content: string }>(messages: readonly M[]): M[] {
  return messages.map((m) => {
    const rule = /\nUntrusted text quoted here[^\n]*has its spaces replaced by "(.)"[^\n]*/u.exec(m.content);
    if (!rule) return m;
    const marker = rule[1]!;
    return { ...m, content: m.content.replace(rule[0], '').split(`${marker}\n`).join('\n').split(marker).join(' ') };
  });
}

/** The prompt text the speed model's prompt cache compares: each message as a template would lay it out. */
function renderPrompt(messages: readonly { role: string; content: string }[]): string {
  return messages.map((m) => `<|${m.role}|>\n${m.content}\n`).join('');
}

/**
 * Drives the speed model with the real clock: model time = real time / timeScale. Each timer fires at the
 * next event the model predicts; the model is advanced to the clock's reading, so a late timer only delays
 * chunks, it never makes the simulation drift.
 */
class SpeedPacer {
  /** Model time `anchorModel` was real time `anchorReal`; the clock runs at `timeScale` from there. */
  private anchorReal = performance.now();
  private anchorModel = 0;
  private readonly listeners = new Map<number, (event: SpeedEvent) => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Model-time intervals with at least one request queued or running; `busyFrom` while one is open. */
  private readonly busy: [number, number][] = [];
  private busyFrom: number | undefined;

  constructor(
    readonly model: SpeedModel,
    public timeScale: number,
  ) {
    if (!(timeScale > 0)) throw new Error('scripted Ollama: speed.timeScale must be positive');
  }

  now(): number {
    return this.anchorModel + (performance.now() - this.anchorReal) / 1000 / this.timeScale;
  }

  /** Runs the clock at another speed from now on; model time goes on from where it is. */
  setTimeScale(timeScale: number): void {
    if (!(timeScale > 0)) throw new Error('scripted Ollama: speed.timeScale must be positive');
    this.tick();
    this.anchorModel = this.now();
    this.anchorReal = performance.now();
    this.timeScale = timeScale;
    this.schedule();
  }

  submit(request: SpeedRequest, listener: (event: SpeedEvent) => void): number {
    this.tick();
    const id = this.model.submit(request);
    if (this.listeners.size === 0) this.busyFrom = this.model.time;
    this.listeners.set(id, listener);
    this.schedule();
    return id;
  }

  cancel(id: number): void {
    if (!this.listeners.has(id)) return;
    this.tick();
    this.model.cancel(id);
    this.release(id, this.model.time);
    this.schedule();
  }

  loaded(): { model: string; expiresAt: number }[] {
    this.tick();
    return this.model.loadedModels();
  }

  private tick(): void {
    for (const event of this.model.advance(this.now())) {
      const listener = this.listeners.get(event.job);
      if (event.kind === 'done') this.release(event.job, event.at);
      listener?.(event);
    }
  }

  busySeconds(from: number, to: number): number {
    const open: [number, number][] = this.busyFrom !== undefined ? [[this.busyFrom, this.now()]] : [];
    let sum = 0;
    for (const [a, b] of [...this.busy, ...open]) sum += Math.max(0, Math.min(b, to) - Math.max(a, from));
    return sum;
  }

  private release(id: number, at: number): void {
    if (!this.listeners.delete(id) || this.listeners.size > 0 || this.busyFrom === undefined) return;
    this.busy.push([this.busyFrom, at]);
    this.busyFrom = undefined;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    const next = this.model.nextEventAt();
    if (next === undefined) return;
    const ms = Math.max(0, (next - this.now()) * this.timeScale * 1000);
    this.timer = setTimeout(() => {
      this.tick();
      this.schedule();
    }, ms);
  }
}
