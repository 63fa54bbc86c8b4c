/** An OpenAI-compatible port call: its retries, and how its failures are worded as LlmErrors. */
import { LlmError } from './errors';
import { HttpCall, cap, causeCode, connectionProblem, describe, redirectTarget, type Fail } from './httpSupport';
import { HttpStatus, StreamProblem } from './openaiBody';

/** What the error messages call a server of this kind. */
export const OPENAI_SERVER = 'the OpenAI-compatible server';

/** How servers say the model does not exist: vLLM "The model `x` does not exist.", OpenAI `model_not_found`, others "model not found". */
const MODEL_NOT_FOUND = /model.*(does not exist|not[ _]found|no such|unknown)|model_not_found/i;
/** How servers say the prompt is too long: vLLM "maximum context length is …", llama-server "exceeds the available context size", OpenAI `context_length_exceeded`. */
const CONTEXT_TOO_LONG =
  /context[ _]length|context size|context window|maximum context|too many tokens|n_ctx|prompt is too long|input.*too long/i;

export type Op = 'chat' | 'list models' | 'show model' | 'embed' | 'pull' | 'version';

/** An OpenAI-compatible call: the shared lifecycle, plus waits between retries and how many there were. */
export class Call extends HttpCall<Op> {
  /** How many 429/503 answers were retried. */
  retried = 0;
  protected readonly slowFirstToken = 'The server may be busy or still loading';

  /** Waits between retries; a cancel or a timeout ends the wait with an abort error. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.signal.aborted) return reject(this.signal.reason);
      const done = () => {
        clearTimeout(timer);
        this.signal.removeEventListener('abort', stop);
      };
      const stop = () => {
        done();
        reject(this.signal.reason);
      };
      const timer = setTimeout(() => {
        done();
        resolve();
      }, ms);
      this.signal.addEventListener('abort', stop, { once: true });
    });
  }

  protected failure(error: unknown, fail: Fail): LlmError {
    const { host, model, op } = this.context;
    const Who = cap(this.who());
    const server = `${OPENAI_SERVER} at ${host}`;

    if (error instanceof HttpStatus) {
      const { status, text } = error;
      if (status === 401 || status === 403) return fail('auth', `${cap(server)} refused the API key (HTTP ${status}: ${text}).`, status);
      if (status === 404 && model && (op === 'chat' || op === 'embed' || op === 'show model') && MODEL_NOT_FOUND.test(text))
        return fail('model-missing', `The model "${model}" is not served by ${server}. (The server said: ${text})`, status);
      if (status === 404)
        return fail(
          'http',
          `Not an OpenAI-compatible API at ${host}: ${this.who()} got HTTP 404 on ${this.path ?? 'its path'} (${text}). The base URL usually ends in /v1, such as http://gpu-box:8000/v1.`,
          status,
          'host',
        );
      if (status === 429 || status === 503)
        return fail(
          'overloaded',
          `${cap(server)} is overloaded (HTTP ${status}: ${text})${this.retried ? `, and still was after ${this.retried} ${this.retried === 1 ? 'retry' : 'retries'}` : ''}.`,
          status,
        );
      if ((status === 400 || status === 413 || status === 422) && CONTEXT_TOO_LONG.test(text))
        return fail(
          'context-length',
          `${Who}'s prompt does not fit ${model ? `${model}'s` : "the model's"} context window at ${host} (${text}).`,
          status,
        );
      return fail('http', `${cap(server)} answered HTTP ${status} to ${this.who()}${model ? ` (${model})` : ''}: ${text}`, status);
    }

    if (!this.responded) {
      const reason = connectionProblem(error);
      if (reason === 'dns') return fail('unreachable', `Cannot reach ${server}: the host name does not resolve.`, undefined, 'host');
      const hint = reason === 'refused' ? '' : ` (${describe(error)})`;
      return fail('unreachable', `Cannot reach ${server}${hint}. Is it running?`, undefined, 'host');
    }

    if (error instanceof StreamProblem) {
      if (error.detail === 'cut')
        return fail(
          'stream',
          `${Who}'s reply from ${server} was cut off: the stream ended before its end ([DONE]). The server may have stopped or crashed; try again.`,
        );
      if (error.server)
        return fail('stream', `${cap(server)} reported an error during ${this.who()}${model ? ` (${model})` : ''}: ${error.detail}`);
      return fail('stream', `${cap(server)} sent ${error.detail} to ${this.who()}.`);
    }
    // undici "terminated" (a reset socket mid-body) and the like.
    if (error instanceof TypeError || causeCode(error) !== undefined)
      return fail('stream', `${Who}'s reply from ${server} was cut off: the connection broke mid-answer (${describe(error)}). Try again.`);
    return fail('stream', `${cap(server)} failed during ${this.who()}: ${describe(error)}`);
  }
}

export function redirectError(call: Call, response: Response, from: URL | undefined): LlmError {
  const { host, model, label } = call.context;
  const target = redirectTarget(response, from, host);
  const status = response.status >= 300 && response.status < 400 ? ` (HTTP ${response.status})` : '';
  return new LlmError(
    'remote-host',
    `${cap(OPENAI_SERVER)} at ${host} redirected ${call.who()}${status}${target ? ` to ${target}` : ''}, and Unlearn does not follow redirects: requests go only to the configured server. Nothing was sent there.`,
    { host, model, label, suspect: 'host', ...(status ? { status: response.status } : {}) },
  );
}
