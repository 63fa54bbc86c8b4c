/**
 * Which server a command talks to, from `--provider`, `--host`, `--base-url` and the environment. Each
 * provider has its own address flag and neither borrows the other's default: `--provider openai`
 * without a base URL is a usage error, never a silent fall back to a local Ollama.
 */
import { connectLlm, DEFAULT_OLLAMA_HOST, DEFAULT_PROVIDER, isProvider, PROVIDERS, type LlmPort, type Provider } from '../core/llm';
import type { CliIo } from './io';

export interface ServerChoice {
  readonly provider: Provider;
  /** The Ollama host, or the OpenAI-compatible base URL, as given. */
  readonly host: string;
  /** From $UNLEARN_API_KEY (OpenAI-compatible only); never from a flag, which would land in shell history and `ps`. */
  readonly apiKey?: string;
  /** OpenAI-compatible only: the server that embeds, when it is not the one at `host`. */
  readonly embeddingHost?: string;
}

/** Help lines shared by `ask`, `eval run` and the bench. */
export const SERVER_HELP = `  --provider P       ollama (default: $UNLEARN_PROVIDER or ollama) or openai: any OpenAI-compatible server
                     (vLLM, SGLang, llama-server, LM Studio); its API key comes from $UNLEARN_API_KEY
  --host URL         Ollama server (default: $OLLAMA_HOST or ${DEFAULT_OLLAMA_HOST})
  --base-url URL     OpenAI-compatible API, such as http://gpu-box:8000/v1 (default: $UNLEARN_BASE_URL); required with --provider openai
  --embedding-base-url URL  with --provider openai, the server for /v1/embeddings when another one holds the
                     embedding model (default: $UNLEARN_EMBEDDING_BASE_URL, else --base-url)`;

export function serverOf(
  values: { provider?: string; host?: string; 'base-url'?: string; 'embedding-base-url'?: string },
  env: CliIo['env'],
): ServerChoice | string {
  const provider = values.provider ?? (env.UNLEARN_PROVIDER?.trim() || DEFAULT_PROVIDER);
  if (!isProvider(provider)) return `--provider must be one of ${PROVIDERS.join(', ')}, got "${provider}"`;
  if (provider === 'ollama') {
    if (values['base-url'] !== undefined) return '--base-url is for --provider openai; an Ollama server is given with --host';
    if (values['embedding-base-url'] !== undefined) return '--embedding-base-url is for --provider openai; Ollama embeds at --host';
    return { provider, host: values.host ?? env.OLLAMA_HOST ?? DEFAULT_OLLAMA_HOST };
  }
  if (values.host !== undefined) return '--host is the Ollama server; with --provider openai give the API with --base-url URL';
  const host = values['base-url'] ?? env.UNLEARN_BASE_URL?.trim();
  if (!host) return '--provider openai needs --base-url URL (or $UNLEARN_BASE_URL), such as http://127.0.0.1:8000/v1';
  const apiKey = env.UNLEARN_API_KEY?.trim();
  const embeddingHost = values['embedding-base-url'] ?? env.UNLEARN_EMBEDDING_BASE_URL?.trim();
  return { provider, host, ...(apiKey ? { apiKey } : {}), ...(embeddingHost ? { embeddingHost } : {}) };
}

/** The port for the choice. @throws InvalidHostError when the address is not an http(s) URL. */
export function connectServer(server: ServerChoice): LlmPort {
  return connectLlm(server);
}

/** What to check when the server is the suspect, worded for the command line. */
export function serverFix(server: Pick<ServerChoice, 'provider'>): string {
  return server.provider === 'openai'
    ? 'check --base-url (default: $UNLEARN_BASE_URL): it should be the OpenAI-compatible API, usually ending in /v1.'
    : `check --host (default: $OLLAMA_HOST, else ${DEFAULT_OLLAMA_HOST}): it should be the address Ollama answers on.`;
}

/** The fix for error codes only an OpenAI-compatible server gives, or undefined. */
export function openaiFix(code: string, server: Pick<ServerChoice, 'provider'>): string | undefined {
  if (server.provider !== 'openai') return undefined;
  switch (code) {
    case 'auth':
      return 'set the API key in $UNLEARN_API_KEY (the server was started with it, e.g. `vllm serve … --api-key`).';
    case 'overloaded':
      return 'the server is busy: lower --parallel to its concurrency, or try again later.';
    case 'context-length':
      return "lower --num-ctx to the server's context length (vLLM's --max-model-len) so long conversations are trimmed first.";
    case 'model-missing':
      return 'give --model one of the names the server lists at /v1/models.';
    default:
      return undefined;
  }
}
