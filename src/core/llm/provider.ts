/**
 * Which kind of server answers: Ollama's own API, or any server speaking the OpenAI-compatible API
 * (vLLM, SGLang, llama-server, LM Studio). Front ends pick one from a setting or a flag and get one
 * port; nothing falls back from one to the other, so a request never lands on a server nobody chose.
 */
import { parseOllamaHost, parseOpenAIBaseUrl, type OllamaHost } from './hostPolicy';
import { createOllamaPort } from './ollamaAdapter';
import { createOpenAIPort, type OpenAIPortOptions } from './openaiAdapter';
import type { LlmPort } from './port';

export const PROVIDERS = ['ollama', 'openai'] as const;
export type Provider = (typeof PROVIDERS)[number];
export const DEFAULT_PROVIDER: Provider = 'ollama';

export function isProvider(value: unknown): value is Provider {
  return typeof value === 'string' && (PROVIDERS as readonly string[]).includes(value);
}

export interface ConnectOptions {
  readonly provider: Provider;
  /** The Ollama host, or the OpenAI-compatible base URL. */
  readonly host: string;
  /**
   * OpenAI-compatible only: where `/v1/embeddings` goes when another server embeds (vLLM, SGLang and
   * llama-server serve one model per process). Unset: the same base URL. The same key is sent to both.
   */
  readonly embeddingHost?: string;
  /** OpenAI-compatible only (Ollama takes no key). */
  readonly apiKey?: OpenAIPortOptions['apiKey'];
  readonly fetch?: typeof fetch;
  readonly requestTimeoutMs?: number;
}

/**
 * The port for the chosen provider.
 * @throws InvalidHostError when the host or base URL is not an http(s) URL.
 */
export function connectLlm(options: ConnectOptions): LlmPort {
  const { provider, host, apiKey, embeddingHost, ...transport } = options;
  if (provider === 'ollama') return createOllamaPort({ host, ...transport });
  const chat = createOpenAIPort({ baseUrl: host, apiKey, ...transport });
  if (!embeddingHost?.trim()) return chat;
  return withEmbeddingsFrom(chat, createOpenAIPort({ baseUrl: embeddingHost, apiKey, ...transport }));
}

/** `chat`'s port, but `embed` goes to `embeddings` (a second server that holds the embedding model). */
function withEmbeddingsFrom(chat: LlmPort, embeddings: LlmPort): LlmPort {
  return {
    host: chat.host,
    chat: (request) => chat.chat(request),
    listModels: (signal) => chat.listModels(signal),
    showModel: (model, signal) => chat.showModel(model, signal),
    embed: (model, input, signal) => embeddings.embed(model, input, signal),
    pull: (model, onProgress, signal) => chat.pull(model, onProgress, signal),
    version: (signal) => chat.version(signal),
  };
}

/** The provider's parser, for settings validation and the remote-host check. */
export function parseServerAddress(provider: Provider, input: string): OllamaHost {
  return provider === 'openai' ? parseOpenAIBaseUrl(input) : parseOllamaHost(input);
}
