/** Reading OpenAI-compatible replies: server-sent events, capped JSON bodies, error messages and Retry-After. */
import { describe } from './httpSupport';

/** The most of a successful non-streaming body (a long answer, or embeddings of many texts). */
const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** The `data:` payloads of a server-sent event stream, one per event (multi-line data joined with newlines). */
export async function* serverSentEvents(response: Response): AsyncGenerator<string> {
  const body = response.body;
  if (!body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
        if (line === '') {
          if (data.length) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        // Comments (": ping") and other fields (event:, id:, retry:) carry nothing the pipeline needs.
      }
      if (done) break;
    }
    // A last event without its blank line still counts (some servers end the body right after [DONE]).
    if (buffer.startsWith('data:')) data.push(buffer.slice(buffer.startsWith('data: ') ? 6 : 5));
    if (data.length) yield data.join('\n');
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

export async function readJson(response: Response): Promise<unknown> {
  const text = await readAll(response, BODY_LIMIT_BYTES);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new StreamProblem(text.length === 0 ? 'cut' : `a body that is not JSON (${describe(error)})`);
  }
}

/** The whole body, failing (rather than cutting it) past `limit` bytes; a body that breaks off is a cut reply. */
async function readAll(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) throw new StreamProblem(`a body larger than ${limit} bytes`);
      text += decoder.decode(value, { stream: true });
    }
    return text + decoder.decode();
  } finally {
    void reader.cancel().catch(() => undefined);
  }
}

/** The message in an OpenAI-style error body (`{"error": {"message": …}}`, vLLM's `{"message": …}`, or a string), else the text itself. */
export function serverMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    const error = parsed.error;
    const message =
      typeof error === 'string'
        ? error
        : typeof (error as { message?: unknown })?.message === 'string'
          ? (error as { message: string }).message
          : typeof parsed.message === 'string'
            ? parsed.message
            : typeof parsed.detail === 'string'
              ? parsed.detail
              : undefined;
    if (message !== undefined) return message.slice(0, 500);
  } catch {
    // not JSON (a proxy's HTML page, or cut at the limit): the text itself
  }
  return text.slice(0, 500);
}

/** Retry-After in seconds (or an HTTP date), else the backoff; never more than `max`. */
export function retryDelay(header: string | null, backoff: number, max: number): number {
  if (header) {
    const secs = Number(header);
    if (Number.isFinite(secs) && secs >= 0) return Math.min(max, secs * 1000);
    const at = Date.parse(header);
    if (Number.isFinite(at)) return Math.min(max, Math.max(0, at - Date.now()));
  }
  return Math.min(max, backoff);
}

/** An HTTP error status with the server's message. */
export class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {
    super(`HTTP ${status}: ${text}`);
  }
}

/** A reply that broke off or could not be read: `cut` when it simply ended early; `server` when it carried an error event. */
export class StreamProblem extends Error {
  constructor(
    readonly detail: string,
    readonly server = false,
  ) {
    super(detail);
  }
}
