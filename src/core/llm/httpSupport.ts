/** Transport pieces both HTTP adapters (Ollama, OpenAI-compatible) share: reading what failed and how much of a body to read. */

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

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
