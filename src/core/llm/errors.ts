/** Why a model call failed, so each adapter (chat, CLI, tree) can offer the right fix. */
export type LlmErrorCode =
  | 'unreachable' // connection refused, DNS failure, host down
  | 'model-missing' // 404 from the server for the model
  | 'http' // any other HTTP error status
  | 'stream' // an error line mid-stream, or a stream cut without its final chunk
  | 'timeout' // first token or whole reply too slow
  | 'aborted' // the user cancelled
  | 'malformed' // a reply that is not what the agent asked for (bad JSON, wrong schema)
  | 'remote-host' // refused to send to a host that is not the configured one or not allowed (a redirect, too)
  | 'auth' // 401/403 from an OpenAI-compatible server: the API key is missing or refused
  | 'overloaded' // 429/503 that did not clear after the retries
  | 'context-length' // the server refused a prompt longer than the model's context window
  | 'unsupported'; // the server has no such operation (an OpenAI-compatible server does not pull models)

export class LlmError extends Error {
  override readonly name = 'LlmError';
  constructor(
    readonly code: LlmErrorCode,
    message: string,
    readonly details: {
      readonly host?: string;
      readonly model?: string;
      readonly status?: number;
      readonly label?: string;
      readonly cause?: unknown;
      /**
       * What the person should check: 'host' when the configured Ollama address is the likely culprit
       * (nothing answers there, or something that is not Ollama does). Core says what happened; each
       * front end names its own fix (a setting in VS Code, a flag in the CLI).
       */
      readonly suspect?: 'host';
    } = {},
  ) {
    super(message);
  }
}

export function isLlmError(error: unknown, code?: LlmErrorCode): error is LlmError {
  return error instanceof LlmError && (code === undefined || error.code === code);
}

export function isAbort(error: unknown): boolean {
  return isLlmError(error, 'aborted') || (error instanceof Error && error.name === 'AbortError');
}
