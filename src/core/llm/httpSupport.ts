/** Transport pieces both HTTP adapters (Ollama, OpenAI-compatible) share: reading what failed and how much of a body to read. */
import { LlmError, type LlmErrorCode } from './errors';

export function requestUrl(input: Parameters<typeof fetch>[0]): URL | undefined {
  try {
    return new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  } catch {
    return undefined;
  }
}

/**
 * A redirect that was not followed (`manual`: the 3xx itself, or a browser-style opaque one), or one a
 * custom fetch followed anyway (`redirected`): either way the reply is not the configured host's.
 */
export function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || response.redirected || (response.status >= 300 && response.status < 400);
}

/** The body as text, reading at most `limit` bytes and cancelling the rest. */
export async function readCapped(response: Response, limit: number): Promise<string> {
  const body = response.body;
  if (!body) return '';
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = limit - size;
      const part = value.byteLength > room ? value.subarray(0, room) : value;
      parts.push(part);
      size += part.byteLength;
    }
  } catch {
    // a body that fails half-way: keep what arrived
  } finally {
    void reader.cancel().catch(() => undefined);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  // A cut inside a multi-byte character decodes to U+FFFD at the end, which is harmless.
  return new TextDecoder().decode(bytes);
}

/** A connection reset or closed under a request that had no reply yet (not a refused connection). */
export function isStaleConnection(error: unknown): boolean {
  const code = causeCode(error);
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET';
}

export function causeCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // AggregateError from happy-eyeballs: look at the first attempt.
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) e = { cause: errors[0] };
  }
  return undefined;
}

export function connectionProblem(error: unknown): 'refused' | 'dns' | 'other' {
  const code = causeCode(error);
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'dns';
  return 'other';
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = causeCode(error);
  const inner = (error as { cause?: unknown }).cause;
  const innerMessage = inner instanceof Error && inner.message !== error.message ? `: ${inner.message}` : '';
  return `${error.message}${innerMessage}${code && !`${error.message}${innerMessage}`.includes(code) ? ` (${code})` : ''}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

export function cap(text: string): string {
  return text[0]!.toUpperCase() + text.slice(1);
}

/** What a port call is about, for its error messages. */
export interface CallContext<Op extends string = string> {
  readonly op: Op;
  readonly host: string;
  readonly model?: string;
  readonly label?: string;
}

/** Builds the LlmError for a failed call (the call's host, model and label are already in it). */
export type Fail = (code: LlmErrorCode, message: string, status?: number, suspect?: 'host') => LlmError;

/**
 * One port call: its abort controller, timers, and what is known when it fails. Cancels, timeouts and
 * the caller's own callback errors read the same for every server; each adapter words the rest.
 */
export abstract class HttpCall<Op extends string> {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private timedOut: 'first-token' | 'total' | undefined;
  private firstTimer: ReturnType<typeof setTimeout> | undefined;
  private totalTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onUserAbort = () => this.controller.abort(this.user?.reason);
  private callbackFailure: { error: unknown } | undefined;
  /** True once the server answered with headers: later failures are about the reply, not the connection. */
  responded = false;
  /** The path of the last request sent (`/api/chat`), for messages about the answer to it. */
  path: string | undefined;

  constructor(
    readonly context: CallContext<Op>,
    private readonly user: AbortSignal | undefined,
    private readonly firstTokenMs: number | undefined,
    private readonly totalMs: number | undefined,
  ) {
    if (user?.aborted) this.controller.abort(user.reason);
    else user?.addEventListener('abort', this.onUserAbort, { once: true });
    if (firstTokenMs !== undefined && firstTokenMs > 0) this.firstTimer = setTimeout(() => this.timeout('first-token'), firstTokenMs);
    if (totalMs !== undefined && totalMs > 0) this.totalTimer = setTimeout(() => this.timeout('total'), totalMs);
  }

  /** Why a first token may be slow on this kind of server, the start of the first-token timeout's advice. */
  protected abstract readonly slowFirstToken: string;

  /** The adapter's wording for everything that is not a cancel, a timeout or an LlmError already. */
  protected abstract failure(error: unknown, fail: Fail): LlmError;

  firstToken(): void {
    clearTimeout(this.firstTimer);
  }

  /** Calls a caller's callback; its exception is the caller's own and must come back unchanged. */
  callback(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.callbackFailure = { error };
      throw error;
    }
  }

  /** Clears the timers and, if the reply was not read to its end, aborts so the socket is closed. */
  finish(): void {
    clearTimeout(this.firstTimer);
    clearTimeout(this.totalTimer);
    this.user?.removeEventListener('abort', this.onUserAbort);
    if (!this.controller.signal.aborted) this.controller.abort(new Error('call finished'));
  }

  private timeout(which: 'first-token' | 'total'): void {
    if (this.controller.signal.aborted) return;
    this.timedOut = which;
    this.controller.abort(new Error(`${which} timeout`));
  }

  /** "the chat call", or the caller's label ("the critic call"). */
  who(): string {
    const { label, op } = this.context;
    return label ? `the ${label} call` : `the ${op} call`;
  }

  toLlmError(error: unknown): unknown {
    if (this.callbackFailure && error === this.callbackFailure.error) return error;
    const { host, model, label } = this.context;
    const Who = cap(this.who());
    const details = { host, model, label, cause: error };
    const fail: Fail = (code, message, status, suspect) =>
      new LlmError(code, message, { ...details, ...(status === undefined ? {} : { status }), ...(suspect ? { suspect } : {}) });

    if (this.user?.aborted) return fail('aborted', `${Who} was cancelled.`);
    if (this.timedOut === 'first-token')
      return fail(
        'timeout',
        `${Who} to ${model} got no first token within ${seconds(this.firstTokenMs!)}. ${this.slowFirstToken}; try again, or raise the first-token timeout.`,
      );
    if (this.timedOut === 'total')
      return fail('timeout', `${Who}${model ? ` to ${model}` : ''} took longer than ${seconds(this.totalMs!)} and was stopped.`);
    if (error instanceof LlmError) return error;
    return this.failure(error, fail);
  }
}

/** Where a redirect pointed, told safely: only the origin (a Location may carry credentials or tokens in its path or query). */
export function redirectTarget(response: Response, from: URL | undefined, host: string): string | undefined {
  const location = response.redirected ? response.url : response.headers.get('location');
  if (!location) return undefined;
  try {
    const to = new URL(location, from ?? host);
    return to.origin === new URL(host).origin ? `another path on the same host (${to.pathname})` : to.origin;
  } catch {
    return undefined;
  }
}
