// The real `ollama` client, through our adapter, against the scripted server: every error mapping,
// timeouts and aborts, asserting on what the server saw (open streams, abandoned responses).
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { InvalidHostError } from '../../src/core/llm/hostPolicy';
import { LlmError, type LlmErrorCode } from '../../src/core/llm/errors';
import type { ChatMessage, LlmPort, PullProgress } from '../../src/core/llm/port';
import { ROLE_SIGNATURE } from '../../src/core/agents/roles';
import {
  embedText,
  estimateTokens,
  fault,
  reply,
  startScriptedOllama,
  splitIntoChunks,
  type ScriptedOllama,
} from '../support/scriptedOllama';

const MODEL = 'llama3.2:latest';
const ask = (question: string): ChatMessage[] => [{ role: 'user', content: question }];
/** An agent's call as the pipeline lays it out: the conversation, then its task (opening with its signature) last. */
const asAgent = (role: keyof typeof ROLE_SIGNATURE, question: string): ChatMessage[] => [
  { role: 'user', content: question },
  { role: 'user', content: `${ROLE_SIGNATURE[role]}. Follow the schema.` },
];

/** Awaits a rejection and checks it is an LlmError with this code; returns it for more checks. */
async function rejectsWith(promise: Promise<unknown>, code: LlmErrorCode): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof LlmError, `expected an LlmError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a rejection with code ${code}`);
}

describe('Ollama adapter against the scripted server', { timeout: 20_000 }, () => {
  let ollama: ScriptedOllama;
  let llm: LlmPort;

  before(async () => {
    ollama = await startScriptedOllama({ models: [MODEL, 'nomic-embed-text'], registry: ['qwen3:0.6b'], pullStepDelayMs: 1 });
    llm = createOllamaPort({ host: ollama.host });
  });
  after(() => ollama.close());
  beforeEach(() => {
    ollama.reset();
    ollama.setScript({});
  });

  describe('chat', () => {
    it('streams tokens in several chunks and reports honest token counts', async () => {
      const answer = 'Paris is the capital of France, on the Seine.';
      ollama.setScript({ vanilla: answer });
      const tokens: string[] = [];
      const messages = ask('What is the capital of France?');
      const result = await llm.chat({ model: MODEL, messages, onToken: (t) => tokens.push(t), label: 'vanilla' });
      assert.equal(result.content, answer);
      assert.equal(tokens.join(''), answer);
      assert.deepEqual(tokens, splitIntoChunks(answer));
      assert.ok(tokens.length > 5);
      assert.equal(result.promptTokens, estimateTokens(messages[0]!.content));
      assert.equal(result.completionTokens, estimateTokens(answer));
      assert.ok(result.durationMs >= 0);
      const [chat] = ollama.chats;
      assert.equal(chat?.stream, true);
      assert.equal(chat?.role, 'vanilla');
      assert.equal(chat?.model, MODEL);
      assert.deepEqual(chat?.messages, messages);
    });

    it('sends the request options, num_ctx included, in the body Ollama reads', async () => {
      ollama.setScript({ default: 'ok' });
      await llm.chat({ model: MODEL, messages: ask('x'), options: { temperature: 0, num_ctx: 8192 } });
      await llm.chat({ model: MODEL, messages: ask('y'), options: { num_ctx: 4096 }, onToken: () => {} });
      assert.deepEqual(
        ollama.chats.map((c) => c.body.options),
        [{ temperature: 0, num_ctx: 8192 }, { num_ctx: 4096 }],
      );
      assert.deepEqual(
        ollama.chats.map((c) => c.stream),
        [false, true],
      );
    });

    it('uses a non-streaming request when nobody listens for tokens and no first-token limit is set', async () => {
      ollama.setScript({ default: 'A plain reply.' });
      const result = await llm.chat({ model: 'llama3.2', messages: ask('hi there') });
      assert.equal(result.content, 'A plain reply.');
      assert.equal(result.promptTokens, estimateTokens('hi there'));
      assert.equal(result.completionTokens, estimateTokens('A plain reply.'));
      assert.equal(ollama.chats[0]?.stream, false);
    });

    it('streams when a first-token limit is set, even without onToken, so the limit can be checked', async () => {
      ollama.setScript({ default: 'Streamed anyway.' });
      const result = await llm.chat({ model: MODEL, messages: ask('x'), firstTokenTimeoutMs: 5000 });
      assert.equal(result.content, 'Streamed anyway.');
      assert.equal(ollama.chats[0]?.stream, true);
    });

    it('passes format and options through and returns structured replies as JSON text', async () => {
      const schema = { type: 'object', properties: { scores: { type: 'array', items: { type: 'integer' } } }, required: ['scores'] };
      ollama.setScript({ critic: { scores: [5, 3, 4] } });
      const result = await llm.chat({
        model: MODEL,
        messages: asAgent('critic', 'Rate these.'),
        format: schema,
        options: { temperature: 0, seed: 7, num_ctx: 8192 },
        label: 'critic',
      });
      assert.deepEqual(JSON.parse(result.content), { scores: [5, 3, 4] });
      const [chat] = ollama.chats;
      assert.equal(chat?.role, 'critic');
      assert.deepEqual(chat?.format, schema);
      assert.deepEqual(chat?.options, { temperature: 0, seed: 7, num_ctx: 8192 });
    });

    it('routes replies by agent role and consumes lists call by call', async () => {
      ollama.setScript({
        vanilla: 'plain',
        detect: [{ touched: ['x'] }, { touched: [] }],
        compose: reply('composed', { chunks: ['com', 'posed'] }),
      });
      const detect1 = await llm.chat({ model: MODEL, messages: asAgent('detect', 'q') });
      const detect2 = await llm.chat({ model: MODEL, messages: asAgent('detect', 'q') });
      const detect3 = await llm.chat({ model: MODEL, messages: asAgent('detect', 'q') });
      const tokens: string[] = [];
      const composed = await llm.chat({ model: MODEL, messages: asAgent('compose', 'q'), onToken: (t) => tokens.push(t) });
      const vanilla = await llm.chat({ model: MODEL, messages: ask('q') });
      assert.deepEqual([detect1.content, detect2.content, detect3.content], ['{"touched":["x"]}', '{"touched":[]}', '{"touched":[]}']);
      assert.deepEqual(tokens, ['com', 'posed']);
      assert.equal(composed.content, 'composed');
      assert.equal(vanilla.content, 'plain');
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['detect', 'detect', 'detect', 'compose', 'vanilla'],
      );
      assert.equal(ollama.chatsOf('detect').length, 3);
    });

    it('scripts replies with a function of the request', async () => {
      ollama.setScript((chat) => `echo: ${chat.messages.at(-1)?.content}`);
      assert.equal((await llm.chat({ model: MODEL, messages: ask('ping') })).content, 'echo: ping');
    });
  });

  describe('errors a person can act on', () => {
    it('unknown model → model-missing naming the model and the pull command', async () => {
      const error = await rejectsWith(llm.chat({ model: 'mistral-nemo', messages: ask('hi'), label: 'vanilla' }), 'model-missing');
      assert.match(error.message, /"mistral-nemo"/);
      assert.match(error.message, /`ollama pull mistral-nemo`/);
      assert.equal(error.details.status, 404);
      assert.equal(error.details.model, 'mistral-nemo');
      assert.equal(error.details.label, 'vanilla');
      assert.equal(error.details.host, ollama.host);
      // Streaming calls fail the same way: the 404 comes before the stream.
      await rejectsWith(llm.chat({ model: 'mistral-nemo', messages: ask('hi'), onToken: () => {} }), 'model-missing');
    });

    it('other HTTP status → http with the status and the server text', async () => {
      ollama.setScript({ rewrite: fault.http(500, 'llama runner process has terminated: out of memory') });
      const error = await rejectsWith(
        llm.chat({ model: MODEL, messages: asAgent('rewrite', 'q'), onToken: () => {}, label: 'rewrite' }),
        'http',
      );
      assert.equal(error.details.status, 500);
      assert.equal(error.details.label, 'rewrite');
      assert.match(error.message, /HTTP 500/);
      assert.match(error.message, /out of memory/);
      assert.match(error.message, /the rewrite call/);
    });

    it('a 400 from an embedding-only model is an http error, not a missing model', async () => {
      const error = await rejectsWith(llm.chat({ model: 'nomic-embed-text', messages: ask('hi') }), 'http');
      assert.equal(error.details.status, 400);
      assert.match(error.message, /does not support chat/);
    });

    it('an error line mid-stream → stream with the server text, after the tokens that did arrive', async () => {
      ollama.setScript({
        vanilla: fault.errorLine('an error was encountered while running the model: CUDA error', { content: 'Half an', afterChunks: 2 }),
      });
      const tokens: string[] = [];
      const error = await rejectsWith(
        llm.chat({ model: MODEL, messages: ask('q'), onToken: (t) => tokens.push(t), label: 'vanilla' }),
        'stream',
      );
      assert.deepEqual(tokens, ['Half', ' an']);
      assert.match(error.message, /CUDA error/);
      assert.equal(error.details.label, 'vanilla');
      await ollama.waitForIdle();
    });

    it('a stream that ends without its final chunk → stream, "cut off"', async () => {
      ollama.setScript({ vanilla: fault.cut() });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('q'), onToken: () => {}, label: 'vanilla' }), 'stream');
      assert.match(error.message, /cut off/);
      assert.match(error.message, /vanilla/);
    });

    it('a connection reset mid-stream → stream, "cut off"', async () => {
      ollama.setScript({ vanilla: fault.cut({ destroy: true, afterChunks: 1 }) });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('q'), onToken: () => {} }), 'stream');
      assert.match(error.message, /cut off/);
    });

    it('a non-streaming reply cut half-way → stream, "cut off"', async () => {
      ollama.setScript({ vanilla: fault.cut() });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('q') }), 'stream');
      assert.match(error.message, /cut off/);
    });

    it('a non-streaming failure during generation → http 500 with the text, as Ollama answers it', async () => {
      ollama.setScript({ vanilla: fault.errorLine('model runner crashed') });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('q') }), 'http');
      assert.equal(error.details.status, 500);
      assert.match(error.message, /model runner crashed/);
    });

    it('an unscripted role is a loud 500, so a test that forgot a reply fails clearly', async () => {
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: asAgent('compose', 'q') }), 'http');
      assert.match(error.message, /no reply scripted for the compose agent/);
    });

    it('a non-JSON error body (a proxy page) keeps its text and is not printed by the client', async () => {
      const logged: unknown[] = [];
      const original = console.log;
      console.log = (...args: unknown[]) => logged.push(args);
      try {
        const proxied = createOllamaPort({
          host: ollama.host,
          fetch: async () =>
            new Response('<html>502 Bad Gateway</html>', {
              status: 502,
              statusText: 'Bad Gateway',
              headers: { 'content-type': 'text/html' },
            }),
        });
        const error = await rejectsWith(proxied.version(), 'http');
        assert.equal(error.details.status, 502);
        assert.match(error.message, /502 Bad Gateway/);
      } finally {
        console.log = original;
      }
      assert.deepEqual(logged, []);
    });

    it('a redirect to another host is refused (remote-host) and nothing reaches that host', async () => {
      const other = await startScriptedOllama({ models: [MODEL], script: { default: 'the other host answered' } });
      try {
        // 307 and 308 tell fetch to re-send the same POST body (the question) to the Location.
        ollama.setScript({ vanilla: fault.redirect(307, `${other.host}/api/chat`) });
        const question = 'secret question about Project Falcon';
        const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask(question), label: 'vanilla' }), 'remote-host');
        assert.match(error.message, new RegExp(`Ollama at ${ollama.host} redirected the vanilla call \\(HTTP 307\\) to ${other.host}`));
        assert.match(error.message, /does not follow redirects/);
        // The host is the thing to fix; core marks it, each front end names its own setting or flag.
        assert.equal(error.details.suspect, 'host');
        assert.doesNotMatch(error.message, /unlearn\.ollamaHost|--host/);
        assert.equal(error.details.status, 307);
        assert.equal(error.details.host, ollama.host);

        // Streaming calls and the other endpoints are refused the same way.
        ollama.setScript({ vanilla: fault.redirect(308, `${other.host}/api/chat`) });
        await rejectsWith(llm.chat({ model: MODEL, messages: ask(question), onToken: () => {} }), 'remote-host');
        ollama.setFault('tags', fault.redirect(302, `${other.host}/api/tags`));
        await rejectsWith(llm.listModels(), 'remote-host');
        ollama.setFault('embed', fault.redirect(308, `${other.host}/api/embed`));
        await rejectsWith(llm.embed('nomic-embed-text', [question]), 'remote-host');

        assert.deepEqual(other.requests, [], 'the other host received no request');
        assert.equal(ollama.chats.length, 2);
      } finally {
        ollama.setFault('tags', undefined);
        ollama.setFault('embed', undefined);
        await other.close();
      }
    });

    it('a redirect to another path of the same host is refused too, naming only the path', async () => {
      ollama.setScript({ vanilla: fault.redirect(308, '/v2/api/chat?token=abc') });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('q'), label: 'vanilla' }), 'remote-host');
      assert.match(error.message, /another path on the same host \(\/v2\/api\/chat\)/);
      assert.doesNotMatch(error.message, /token=abc/, 'a query string in the Location is not repeated');
      assert.equal(ollama.chats.length, 1, 'not re-sent to the new path');
    });

    it('an endless error body is read only up to a limit; the connection is closed and the text kept', async () => {
      ollama.setFault('version', fault.endlessBody(502));
      ollama.setScript({ vanilla: fault.endlessBody(500) });
      try {
        const started = Date.now();
        const error = await rejectsWith(llm.version(), 'http');
        assert.equal(error.details.status, 502);
        assert.match(error.message, /HTTP 502/);
        assert.match(error.message, /upstream failure/);
        assert.ok(error.message.length < 1000, `message of ${error.message.length} characters`);
        const chatError = await rejectsWith(llm.chat({ model: MODEL, messages: ask('q'), onToken: () => {} }), 'http');
        assert.equal(chatError.details.status, 500);
        assert.ok(Date.now() - started < 5000);
        // The server only stops writing when the client goes away.
        await ollama.waitForIdle();
        assert.equal(ollama.clientAborts, 2);
      } finally {
        ollama.setFault('version', undefined);
      }
    });

    it('a 404 that is not Ollama\'s "model not found" → not an Ollama API, naming the host and the path', async () => {
      // A host with a path prefix Ollama does not have: the server answers every path with a plain 404.
      const prefixed = createOllamaPort({ host: `${ollama.host}/ollama` });
      const error = await rejectsWith(prefixed.chat({ model: MODEL, messages: ask('q'), label: 'vanilla' }), 'http');
      assert.equal(error.details.status, 404);
      assert.match(
        error.message,
        new RegExp(`^Not an Ollama API at ${ollama.host}/ollama: the vanilla call got HTTP 404 on /ollama/api/chat`),
      );
      assert.match(error.message, /404 page not found/);
      assert.doesNotMatch(error.message, /ollama pull|not installed/);
      await rejectsWith(prefixed.showModel(MODEL), 'http');
      await rejectsWith(prefixed.version(), 'http');
      // A proxy's own 404 for an installed model's chat is not a missing model either.
      ollama.setScript({ vanilla: fault.http(404, '<html><body>Not Found</body></html>') });
      const proxied = await rejectsWith(llm.chat({ model: MODEL, messages: ask('q') }), 'http');
      assert.match(proxied.message, /^Not an Ollama API at .* 404 on \/api\/chat/);
    });

    it('a DNS failure → unreachable, saying the name does not resolve (injected fetch: no real lookup)', async () => {
      const dnsFailure = async () => {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND gpu-box'), { code: 'ENOTFOUND' }) });
      };
      const remote = createOllamaPort({ host: 'http://gpu-box:11434', fetch: dnsFailure });
      const error = await rejectsWith(remote.chat({ model: MODEL, messages: ask('q'), label: 'vanilla' }), 'unreachable');
      assert.match(error.message, /http:\/\/gpu-box:11434/);
      assert.match(error.message, /does not resolve/);
      assert.equal(error.details.suspect, 'host');
      assert.doesNotMatch(error.message, /unlearn\.ollamaHost|--host/);
      assert.equal(error.details.label, 'vanilla');
    });

    it('refused on localhost hints at 127.0.0.1 (Ollama listens on IPv4 only by default)', async () => {
      const refused = async () => {
        const attempt = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
        throw new TypeError('fetch failed', { cause: new AggregateError([attempt('::1:11434'), attempt('127.0.0.1:11434')]) });
      };
      const error = await rejectsWith(createOllamaPort({ host: 'localhost', fetch: refused }).version(), 'unreachable');
      assert.match(error.message, /^Cannot reach Ollama at http:\/\/localhost:11434\. Is it running\?/);
      assert.match(error.message, /try http:\/\/127\.0\.0\.1 instead of localhost/);
    });

    it('an invalid host is refused when the port is created', () => {
      assert.throws(() => createOllamaPort({ host: 'ftp://127.0.0.1:11434' }), InvalidHostError);
      assert.throws(() => createOllamaPort({ host: 'http://me:pw@127.0.0.1:11434' }), InvalidHostError);
    });

    it('an exception from onToken comes back unchanged, and the stream is closed', async () => {
      // The server would keep this stream open forever: only the client closing it ends the request.
      ollama.setScript({ vanilla: fault.hang({ content: 'one two three', afterChunks: 2 }) });
      const mine = new Error('consumer broke');
      await assert.rejects(
        llm.chat({
          model: MODEL,
          messages: ask('q'),
          onToken: () => {
            throw mine;
          },
        }),
        (e) => e === mine,
      );
      await ollama.waitForIdle();
      assert.equal(ollama.openStreams, 0);
    });
  });

  describe('timeouts and aborts close the connection', () => {
    it('first-token timeout while the model "loads" → timeout, and the server sees the request go away', async () => {
      ollama.setScript({ vanilla: reply('late', { firstTokenDelayMs: 10_000 }) });
      const started = Date.now();
      const error = await rejectsWith(
        llm.chat({ model: MODEL, messages: ask('q'), firstTokenTimeoutMs: 150, label: 'vanilla' }),
        'timeout',
      );
      assert.ok(Date.now() - started < 3000, 'fails at the limit, not when the reply comes');
      assert.match(error.message, /no first token within 150 ms/);
      assert.equal(error.details.label, 'vanilla');
      await ollama.waitForIdle();
      assert.equal(ollama.clientAborts, 1);
    });

    it('the first-token limit stops counting once tokens flow', async () => {
      // The whole reply takes ~5 × 150 ms, well past the 400 ms first-token limit.
      ollama.setScript({ vanilla: reply('a b c d e f', { firstTokenDelayMs: 10, chunkDelayMs: 150 }) });
      const result = await llm.chat({ model: MODEL, messages: ask('q'), onToken: () => {}, firstTokenTimeoutMs: 400 });
      assert.equal(result.content, 'a b c d e f');
    });

    it('a port-wide default first-token limit applies when the request sets none', async () => {
      const strict = createOllamaPort({ host: ollama.host, defaultFirstTokenTimeoutMs: 100 });
      ollama.setScript({ vanilla: fault.hang() });
      await rejectsWith(strict.chat({ model: MODEL, messages: ask('q') }), 'timeout');
      await ollama.waitForIdle();
    });

    it('total timeout on a slow stream → timeout, stream closed server-side', async () => {
      ollama.setScript({ vanilla: reply('one two three four five six seven eight nine ten', { chunkDelayMs: 150 }) });
      const tokens: string[] = [];
      const error = await rejectsWith(
        llm.chat({ model: MODEL, messages: ask('q'), onToken: (t) => tokens.push(t), firstTokenTimeoutMs: 2000, totalTimeoutMs: 500 }),
        'timeout',
      );
      assert.match(error.message, /longer than 500 ms/);
      assert.ok(tokens.length > 0 && tokens.length < 10, `got ${tokens.length} tokens before the limit`);
      await ollama.waitForIdle();
      assert.equal(ollama.openStreams, 0);
      assert.equal(ollama.clientAborts, 1);
    });

    it('total timeout on a non-streaming call', async () => {
      ollama.setScript({ vanilla: fault.hang() });
      await rejectsWith(llm.chat({ model: MODEL, messages: ask('q'), totalTimeoutMs: 150 }), 'timeout');
      await ollama.waitForIdle();
    });

    it('user abort mid-stream → aborted, and the server-side stream is closed', async () => {
      ollama.setScript({ vanilla: fault.hang({ content: 'first second third', afterChunks: 2 }) });
      const controller = new AbortController();
      const tokens: string[] = [];
      let streamsWhileOpen = -1;
      const pending = llm.chat({
        model: MODEL,
        messages: ask('q'),
        signal: controller.signal,
        label: 'compose',
        onToken: (t) => {
          tokens.push(t);
          if (tokens.length === 2) {
            streamsWhileOpen = ollama.openStreams;
            controller.abort();
          }
        },
      });
      const error = await rejectsWith(pending, 'aborted');
      assert.equal(error.details.label, 'compose');
      assert.equal(streamsWhileOpen, 1);
      await ollama.waitForIdle();
      assert.equal(ollama.openStreams, 0);
      assert.equal(ollama.activeRequests, 0);
      assert.equal(ollama.clientAborts, 1);
    });

    it('user abort before the first token of a non-streaming call closes the request too', async () => {
      ollama.setScript({ vanilla: fault.hang() });
      const controller = new AbortController();
      const pending = llm.chat({ model: MODEL, messages: ask('q'), signal: controller.signal });
      await waitUntil(() => ollama.activeRequests === 1);
      controller.abort();
      await rejectsWith(pending, 'aborted');
      await ollama.waitForIdle();
      assert.equal(ollama.clientAborts, 1);
    });

    it('an already aborted signal fails at once', async () => {
      ollama.setScript({ vanilla: 'never' });
      await rejectsWith(llm.chat({ model: MODEL, messages: ask('q'), signal: AbortSignal.abort() }), 'aborted');
      await rejectsWith(llm.listModels(AbortSignal.abort()), 'aborted');
    });
  });

  describe('models', () => {
    it('lists installed models from /api/tags', async () => {
      const models = await llm.listModels();
      assert.deepEqual(
        models.map((m) => m.name),
        ['llama3.2:latest', 'nomic-embed-text:latest'],
      );
      assert.deepEqual(models[0], {
        name: 'llama3.2:latest',
        sizeBytes: 2_019_393_189,
        family: 'llama',
        parameterSize: '3.2B',
        quantization: 'Q4_K_M',
      });
    });

    it('shows context length (from <family>.context_length) and capabilities', async () => {
      assert.deepEqual(await llm.showModel('llama3.2'), {
        name: 'llama3.2',
        contextLength: 131_072,
        capabilities: ['completion', 'tools'],
      });
      const custom = await startScriptedOllama({
        models: [{ name: 'qwen3:8b', family: 'qwen3', contextLength: 40_960, capabilities: ['completion', 'thinking'] }],
      });
      try {
        assert.deepEqual(await createOllamaPort({ host: custom.host }).showModel('qwen3:8b'), {
          name: 'qwen3:8b',
          contextLength: 40_960,
          capabilities: ['completion', 'thinking'],
        });
      } finally {
        await custom.close();
      }
    });

    it('show of an unknown model → model-missing with the pull command', async () => {
      const error = await rejectsWith(llm.showModel('phi4'), 'model-missing');
      assert.match(error.message, /`ollama pull phi4`/);
    });

    it('embeds deterministically, one unit vector per input', async () => {
      const inputs = ['the quick brown fox', 'The quick brown fox!', 'an unrelated sentence about taxes'];
      const vectors = await llm.embed('nomic-embed-text', inputs);
      assert.equal(vectors.length, 3);
      assert.deepEqual(vectors[0], embedText(inputs[0]!, 64));
      assert.deepEqual(vectors[0], vectors[1], 'same words, same vector');
      for (const v of vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-9);
      const cosine = (a: number[], b: number[]) => a.reduce((n, x, i) => n + x * b[i]!, 0);
      assert.ok(cosine(vectors[0]!, vectors[2]!) < 0.9);
      await rejectsWith(llm.embed('all-minilm', ['x']), 'model-missing');
    });

    it('reports the server version', async () => {
      assert.equal(await llm.version(), '0.12.6');
    });

    it('an endpoint fault maps like any other HTTP error', async () => {
      ollama.setFault('tags', fault.http(503, 'server busy, please try again.  maximum pending requests exceeded'));
      try {
        const error = await rejectsWith(llm.listModels(), 'http');
        assert.equal(error.details.status, 503);
        assert.match(error.message, /server busy/);
      } finally {
        ollama.setFault('tags', undefined);
      }
    });

    it('pulls with streamed progress, then the model is installed', async () => {
      const progress: PullProgress[] = [];
      await llm.pull('qwen3:0.6b', (p) => progress.push(p));
      assert.equal(progress[0]?.status, 'pulling manifest');
      assert.equal(progress.at(-1)?.status, 'success');
      const layers = progress.filter((p) => p.total !== undefined);
      assert.ok(layers.length >= 2);
      assert.ok(layers.every((p, i) => i === 0 || p.completed! >= layers[i - 1]!.completed!));
      assert.equal(layers.at(-1)?.completed, layers.at(-1)?.total);
      assert.ok((await llm.listModels()).some((m) => m.name === 'qwen3:0.6b'));
      ollama.setModels([MODEL, 'nomic-embed-text']);
    });

    it('a pull can be cancelled mid-way; the server sees it and nothing is installed', async () => {
      const slow = await startScriptedOllama({ pullStepDelayMs: 80, pullSteps: 20 });
      try {
        const controller = new AbortController();
        const progress: PullProgress[] = [];
        const pending = createOllamaPort({ host: slow.host }).pull(
          'qwen3:0.6b',
          (p) => {
            progress.push(p);
            if (progress.length === 3) controller.abort();
          },
          controller.signal,
        );
        await rejectsWith(pending, 'aborted');
        await slow.waitForIdle();
        assert.equal(slow.openStreams, 0);
        assert.equal(slow.clientAborts, 1);
        assert.deepEqual(slow.installedModels(), [MODEL]);
      } finally {
        await slow.close();
      }
    });

    it('pulling a name the registry does not have → stream error with the server text', async () => {
      const error = await rejectsWith(
        llm.pull('no-such-model', () => {}),
        'stream',
      );
      assert.match(error.message, /file does not exist/);
    });
  });

  describe('scripted server wire format (what the real client relies on)', () => {
    it("streams NDJSON with Ollama's final-chunk fields", async () => {
      ollama.setScript({ vanilla: 'Hello world' });
      const response = await fetch(`${ollama.host}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model: 'llama3.2', messages: ask('hey') }),
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
      const lines = (await response.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        lines.slice(0, -1).map((l) => (l.message as { content: string }).content),
        ['Hello', ' world'],
      );
      for (const line of lines.slice(0, -1)) assert.deepEqual(Object.keys(line), ['model', 'created_at', 'message', 'done']);
      const final = lines.at(-1)!;
      assert.deepEqual(Object.keys(final).sort(), [
        'created_at',
        'done',
        'done_reason',
        'eval_count',
        'eval_duration',
        'load_duration',
        'message',
        'model',
        'prompt_eval_count',
        'prompt_eval_duration',
        'total_duration',
      ]);
      assert.equal(final.done, true);
      assert.equal(final.done_reason, 'stop');
      assert.equal(final.model, 'llama3.2', 'echoes the name as requested');
      assert.equal(final.prompt_eval_count, 1);
      assert.equal(final.eval_count, 3);
      assert.ok(typeof final.created_at === 'string' && !Number.isNaN(Date.parse(final.created_at)));
      for (const key of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration'])
        assert.ok(Number.isInteger(final[key]) && (final[key] as number) > 0, key);
    });

    it("answers non-streaming calls with one JSON object, and errors with Ollama's bodies", async () => {
      ollama.setScript({ vanilla: 'Hi' });
      const ok = await fetch(`${ollama.host}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model: MODEL, messages: ask('x'), stream: false }),
      });
      assert.match(ok.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await ok.json()) as Record<string, unknown>;
      assert.deepEqual(body.message, { role: 'assistant', content: 'Hi' });
      assert.equal(body.done, true);
      const missing = await fetch(`${ollama.host}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'x', messages: [] }) });
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: 'model "x" not found, try pulling it first' });
      const bad = await fetch(`${ollama.host}/api/chat`, { method: 'POST', body: '{nope' });
      assert.equal(bad.status, 400);
      assert.equal(await (await fetch(`${ollama.host}/`)).text(), 'Ollama is running');
      assert.equal((await fetch(`${ollama.host}/api/nothing`)).status, 404);
    });
  });

  describe('Ollama stopped', () => {
    it('connection refused → unreachable naming the host; works again after a restart on the same port', async () => {
      const server = await startScriptedOllama();
      try {
        const port = createOllamaPort({ host: server.host });
        assert.equal(await port.version(), '0.12.6');
        const hostBefore = server.host;
        await server.stop();
        const error = await rejectsWith(port.chat({ model: MODEL, messages: ask('q'), label: 'vanilla' }), 'unreachable');
        assert.equal(error.message, `Cannot reach Ollama at ${hostBefore}. Is it running? Start it with \`ollama serve\`.`);
        // Core names no front end's fix; it marks the host as the thing to check, and each front end words that.
        assert.equal(error.details.suspect, 'host');
        assert.equal(error.details.label, 'vanilla');
        await rejectsWith(port.listModels(), 'unreachable');
        await server.start();
        assert.equal(server.host, hostBefore);
        assert.equal(await port.version(), '0.12.6');
      } finally {
        await server.close();
      }
    });

    it('a connection reset before any reply (a keep-alive socket the server just closed) is retried once; a second reset is an error', async () => {
      // A bare HTTP server: Ollama's /api/version answer, after resetting the first `resets` requests' sockets.
      const serve = async (resets: number) => {
        let seen = 0;
        const server = createServer((req, res) => {
          seen++;
          if (seen <= resets) return void req.socket.destroy();
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: '0.12.6' }));
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as AddressInfo;
        return {
          host: `http://127.0.0.1:${port}`,
          seen: () => seen,
          close: () => new Promise<void>((resolve) => server.close(() => resolve())),
        };
      };
      const once = await serve(1);
      try {
        assert.equal(await createOllamaPort({ host: once.host }).version(), '0.12.6');
        assert.equal(once.seen(), 2);
      } finally {
        await once.close();
      }
      const always = await serve(Infinity);
      try {
        await rejectsWith(createOllamaPort({ host: always.host }).version(), 'unreachable');
        assert.equal(always.seen(), 2, 'one retry, not a loop');
      } finally {
        await always.close();
      }
    });

    it('stopping mid-stream drops the connection: the caller gets a stream error, not a hang', async () => {
      const server = await startScriptedOllama({ script: { vanilla: fault.hang({ afterChunks: 1 }) } });
      try {
        const port = createOllamaPort({ host: server.host });
        const pending = port.chat({ model: MODEL, messages: ask('q'), onToken: () => void server.stop() });
        const error = await rejectsWith(pending, 'stream');
        assert.match(error.message, /cut off/);
      } finally {
        await server.close();
      }
    });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
