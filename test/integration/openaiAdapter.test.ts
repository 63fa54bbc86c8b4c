// The OpenAI-compatible adapter against the scripted OpenAI-compatible server: streaming over SSE,
// structured replies, embeddings, model listing, the key, retries and every error mapping.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAIPort } from '../../src/core/llm/openaiAdapter';
import { InvalidHostError, parseOpenAIBaseUrl } from '../../src/core/llm/hostPolicy';
import { LlmError, type LlmErrorCode } from '../../src/core/llm/errors';
import type { ChatMessage, LlmPort } from '../../src/core/llm/port';
import { ROLE_SIGNATURE } from '../../src/core/agents/roles';
import { embedText } from '../support/scriptedOllama';
import { fault, reply, startScriptedOpenAI, toolCalls, type ScriptedOpenAI } from '../support/scriptedOpenAI';

const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const EMBED = 'BAAI/bge-small-en-v1.5';
const KEY = 'sk-test-not-a-real-key';
const ask = (question: string): ChatMessage[] => [{ role: 'user', content: question }];
const asAgent = (role: keyof typeof ROLE_SIGNATURE, question: string): ChatMessage[] => [
  { role: 'system', content: `${ROLE_SIGNATURE[role]}. Follow the schema.` },
  { role: 'user', content: question },
];

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

describe('OpenAI-compatible adapter against the scripted server', { timeout: 20_000 }, () => {
  let server: ScriptedOpenAI;
  let llm: LlmPort;

  before(async () => {
    server = await startScriptedOpenAI({
      models: [{ name: MODEL, contextLength: 4096 }, EMBED],
      apiKey: KEY,
    });
    llm = createOpenAIPort({ baseUrl: server.host, apiKey: KEY, retryBaseMs: 10 });
  });
  after(() => server.close());
  beforeEach(() => {
    server.reset();
    server.setScript({});
    server.authorizations.length = 0;
    server.setFault('chat', undefined);
    server.setFault('embed', undefined);
  });

  describe('chat', () => {
    it('streams tokens over SSE, joins them to the whole answer and reads the usage chunk', async () => {
      const answer = 'Paris is the capital of France, on the Seine.';
      server.setScript({ vanilla: answer });
      const tokens: string[] = [];
      const reply = await llm.chat({ model: MODEL, messages: ask('Capital of France?'), onToken: (t) => tokens.push(t) });
      assert.equal(reply.content, answer);
      assert.ok(tokens.length > 5, `only ${tokens.length} chunks`);
      assert.equal(tokens.join(''), answer);
      assert.equal(reply.completionTokens, Math.ceil(answer.length / 4));
      assert.ok(reply.promptTokens! > 0);
      const body = server.chats[0]!.body;
      assert.equal(body.stream, true);
      assert.deepEqual(body.stream_options, { include_usage: true });
      assert.equal(server.authorizations[0], `Bearer ${KEY}`);
    });

    it('sends temperature, seed and max_tokens at the top level, never Ollama options', async () => {
      server.setScript({ default: 'ok' });
      await llm.chat({
        model: MODEL,
        messages: ask('hi'),
        options: { temperature: 0.2, seed: 7, num_ctx: 8192, num_predict: 64 },
        keepAlive: '30m',
      });
      const body = server.chats[0]!.body;
      assert.equal(body.temperature, 0.2);
      assert.equal(body.seed, 7);
      assert.equal(body.max_tokens, 64);
      assert.equal(body.options, undefined);
      assert.equal(body.keep_alive, undefined);
      assert.equal(body.stream, false, 'no callback and no first-token limit: one plain request');
    });

    it('asks for structured output with a json_schema response_format', async () => {
      const schema = { type: 'object', properties: { scores: { type: 'array' } }, required: ['scores'] };
      server.setScript({ critic: { scores: [5, 4] } });
      const reply = await llm.chat({ model: MODEL, messages: asAgent('critic', 'Score these.'), format: schema });
      assert.deepEqual(JSON.parse(reply.content), { scores: [5, 4] });
      const format = server.chats[0]!.body.response_format as { type: string; json_schema: { schema: unknown } };
      assert.equal(format.type, 'json_schema');
      assert.deepEqual(format.json_schema.schema, schema);
    });

    it('a server that refuses response_format gets the call again without it, and later calls skip it', async () => {
      const plain = await startScriptedOpenAI({ models: [MODEL], rejectResponseFormat: true, script: { critic: { scores: [3] } } });
      try {
        const port = createOpenAIPort({ baseUrl: plain.host });
        const schema = { type: 'object' };
        const first = await port.chat({ model: MODEL, messages: asAgent('critic', 'Score.'), format: schema });
        assert.deepEqual(JSON.parse(first.content), { scores: [3] });
        assert.equal(plain.chats.length, 2);
        assert.ok(plain.chats[0]!.body.response_format);
        assert.equal(plain.chats[1]!.body.response_format, undefined);
        await port.chat({ model: MODEL, messages: asAgent('critic', 'Again.'), format: schema });
        assert.equal(plain.chats.length, 3, 'the refused field was sent again');
      } finally {
        await plain.close();
      }
    });

    it('tool calls (Agent mode): tools and tool_choice go out in the OpenAI shape; streamed and whole calls come back parsed', async () => {
      const tools = [
        { name: 'readFile', description: 'Reads a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
      ];
      const call = { name: 'readFile', arguments: { path: 'src/a.ts', lines: [1, 2] } };
      server.setScript({ default: toolCalls([call], 'Let me look.') });
      const messages: ChatMessage[] = [
        { role: 'user', content: 'What is in a.ts?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_7', name: 'readFile', arguments: { path: 'b.ts' } }] },
        { role: 'tool', content: 'export {}', toolCallId: 'call_7', toolName: 'readFile' },
      ];
      const streamed: string[] = [];
      const viaStream = await llm.chat({ model: MODEL, messages, tools, toolChoice: 'required', onToken: (t) => streamed.push(t) });
      assert.equal(viaStream.content, 'Let me look.');
      assert.deepEqual(
        viaStream.toolCalls?.map((c) => ({ name: c.name, arguments: c.arguments })),
        [call],
      );
      assert.match(viaStream.toolCalls![0]!.id ?? '', /^call_/);
      const body = server.chats[0]!.body as {
        tools: { type: string; function: { name: string } }[];
        tool_choice: string;
        messages: Record<string, unknown>[];
      };
      assert.deepEqual(
        body.tools.map((t) => [t.type, t.function.name]),
        [['function', 'readFile']],
      );
      assert.equal(body.tool_choice, 'required');
      assert.deepEqual(body.messages[1]!.tool_calls, [
        { id: 'call_7', type: 'function', function: { name: 'readFile', arguments: '{"path":"b.ts"}' } },
      ]);
      assert.equal(body.messages[2]!.tool_call_id, 'call_7');
      const whole = await llm.chat({ model: MODEL, messages: messages.slice(0, 1), tools });
      assert.deepEqual(
        whole.toolCalls?.map((c) => c.arguments),
        [call.arguments],
      );
      assert.equal(server.chats[1]!.body.stream, false);
    });

    it('no key → auth error that names the status; the key never appears in the message', async () => {
      const keyless = createOpenAIPort({ baseUrl: server.host });
      const error = await rejectsWith(keyless.chat({ model: MODEL, messages: ask('hi') }), 'auth');
      assert.match(error.message, /refused the API key \(HTTP 401/);
      assert.equal(server.authorizations[0], undefined);
      const wrong = createOpenAIPort({ baseUrl: server.host, apiKey: 'sk-wrong-key-123' });
      const again = await rejectsWith(wrong.chat({ model: MODEL, messages: ask('hi') }), 'auth');
      assert.ok(!again.message.includes('sk-wrong-key-123'));
    });

    it('the key may come from a function asked on every request (VS Code SecretStorage)', async () => {
      let key: string | undefined = undefined;
      server.setScript({ default: 'ok' });
      const port = createOpenAIPort({ baseUrl: server.host, apiKey: async () => key });
      await rejectsWith(port.chat({ model: MODEL, messages: ask('hi') }), 'auth');
      key = KEY;
      assert.equal((await port.chat({ model: MODEL, messages: ask('hi') })).content, 'ok');
    });

    it('unknown model → model-missing with the server’s words', async () => {
      const error = await rejectsWith(llm.chat({ model: 'llama-9000', messages: ask('hi') }), 'model-missing');
      assert.match(error.message, /The model "llama-9000" is not served by the OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+\/v1/);
    });

    it('429 is retried with backoff and then answers', async () => {
      server.setScript({ default: [fault.http(429, 'Too many requests'), fault.http(429, 'Too many requests'), 'fine now'] });
      const reply = await llm.chat({ model: MODEL, messages: ask('hi'), onToken: () => undefined });
      assert.equal(reply.content, 'fine now');
      assert.equal(server.chats.length, 3);
    });

    it('503 that does not clear → overloaded after the retries, saying how many', async () => {
      server.setScript({ default: fault.http(503, 'Service Unavailable') });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('hi') }), 'overloaded');
      assert.match(error.message, /is overloaded \(HTTP 503: Service Unavailable\), and still was after 3 retries/);
      assert.equal(server.chats.length, 4);
    });

    it('a prompt longer than the context window → context-length', async () => {
      const long = 'word '.repeat(4000);
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask(long), label: 'vanilla' }), 'context-length');
      assert.match(
        error.message,
        /The vanilla call's prompt does not fit Qwen\/Qwen2\.5-7B-Instruct's context window.*maximum context length is 4096/,
      );
    });

    it('an error event mid-stream → stream error with the server text; the partial text was streamed but the call fails', async () => {
      server.setScript({ default: fault.errorLine('CUDA error: out of memory', { content: 'Half an answer here', afterChunks: 2 }) });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('hi'), onToken: () => undefined }), 'stream');
      assert.match(error.message, /reported an error during the chat call.*CUDA error: out of memory/);
    });

    it('a stream that ends without [DONE] → stream error "cut off"', async () => {
      server.setScript({ default: fault.cut({ content: 'Half an answer here', afterChunks: 2 }) });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('hi'), onToken: () => undefined }), 'stream');
      assert.match(error.message, /was cut off: the stream ended before its end \(\[DONE\]\)/);
    });

    it('a reset socket mid-stream → stream error "cut off"', async () => {
      server.setScript({ default: fault.cut({ content: 'Half an answer here', afterChunks: 2, destroy: true }) });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('hi'), onToken: () => undefined }), 'stream');
      assert.match(error.message, /cut off/);
    });

    it('first-token timeout and cancel close the request on the server', async () => {
      server.setScript({ default: reply('slow', { firstTokenDelayMs: 3000 }) });
      const timedOut = await rejectsWith(llm.chat({ model: MODEL, messages: ask('hi'), firstTokenTimeoutMs: 200 }), 'timeout');
      assert.match(timedOut.message, /no first token within 200 ms/);
      await server.waitForIdle();
      assert.equal(server.clientAborts, 1);
      server.setScript({ default: fault.hang() });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await rejectsWith(llm.chat({ model: MODEL, messages: ask('hi'), signal: controller.signal }), 'aborted');
      await server.waitForIdle();
      assert.equal(server.clientAborts, 2);
    });

    it('a redirect is refused and never followed', async () => {
      server.setScript({ default: fault.redirect(307, 'http://127.0.0.2:9/v1/chat/completions') });
      const error = await rejectsWith(llm.chat({ model: MODEL, messages: ask('hi') }), 'remote-host');
      assert.match(error.message, /redirected the chat call \(HTTP 307\) to http:\/\/127\.0\.0\.2:9/);
    });

    it('nothing listening → unreachable, the host the suspect', async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const { port } = probe.address() as AddressInfo;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const dead = createOpenAIPort({ baseUrl: `http://127.0.0.1:${port}/v1` });
      const error = await rejectsWith(dead.chat({ model: MODEL, messages: ask('hi') }), 'unreachable');
      assert.match(error.message, /Cannot reach the OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+\/v1\. Is it running\?/);
      assert.equal(error.details.suspect, 'host');
    });

    it('a base URL without /v1 still reaches the API; a wrong path → http 404 with the host as suspect', async () => {
      server.setScript({ default: 'ok' });
      const bare = createOpenAIPort({ baseUrl: server.host.replace(/\/v1$/, ''), apiKey: KEY });
      assert.equal((await bare.chat({ model: MODEL, messages: ask('hi') })).content, 'ok');
      const wrong = createOpenAIPort({ baseUrl: `${server.host}/api`, apiKey: KEY });
      const error = await rejectsWith(wrong.chat({ model: MODEL, messages: ask('hi') }), 'http');
      assert.match(error.message, /Not an OpenAI-compatible API .* HTTP 404 on \/v1\/api\/chat\/completions/);
      assert.equal(error.details.suspect, 'host');
    });
  });

  describe('models, embeddings, pull', () => {
    it('lists the served models with the engine name and shows the context length (max_model_len)', async () => {
      const models = await llm.listModels();
      assert.deepEqual(
        models.map((m) => m.name),
        [MODEL, EMBED],
      );
      assert.equal(models[0]!.family, 'vllm');
      assert.equal((await llm.showModel(MODEL)).contextLength, 4096);
      assert.equal(await llm.version(), 'vllm');
      await rejectsWith(llm.showModel('gone'), 'model-missing');
    });

    it('embeds through /v1/embeddings, in input order', async () => {
      const vectors = await llm.embed(EMBED, ['alpha', 'beta']);
      assert.deepEqual(vectors, [embedText('alpha', 64), embedText('beta', 64)]);
      assert.deepEqual(server.embedded, ['alpha', 'beta']);
      assert.equal(server.requests.at(-1)!.path, '/v1/embeddings');
    });

    it('embedding failures are typed: unknown model, 500, fewer vectors than inputs', async () => {
      await rejectsWith(llm.embed('no-such-embedder', ['a']), 'model-missing');
      server.setFault('embed', fault.http(500, 'out of memory'));
      const e500 = await rejectsWith(llm.embed(EMBED, ['a']), 'http');
      assert.match(e500.message, /answered HTTP 500 to the embed call.*out of memory/);
      server.setFault('embed', undefined);
      server.embedOverride = () => [];
      try {
        // An empty vector per text still counts as a vector: the pipeline checks sizes itself.
        assert.equal((await llm.embed(EMBED, ['a'])).length, 1);
      } finally {
        server.embedOverride = undefined;
      }
    });

    it('pull is refused with a message that says where models come from', async () => {
      const error = await rejectsWith(
        llm.pull(MODEL, () => undefined),
        'unsupported',
      );
      assert.match(error.message, /does not download models.*vllm serve/);
    });
  });
});

describe('OpenAI-compatible base URLs', () => {
  it('adds /v1 to a bare address, keeps a given path, uses the scheme’s port', () => {
    assert.equal(parseOpenAIBaseUrl('gpu-box:8000').url, 'http://gpu-box:8000/v1');
    assert.equal(parseOpenAIBaseUrl('http://gpu-box:8000/v1/').url, 'http://gpu-box:8000/v1');
    assert.equal(parseOpenAIBaseUrl('https://llm.example.com/openai/v1').url, 'https://llm.example.com:443/openai/v1');
    assert.equal(parseOpenAIBaseUrl('http://llm.internal').url, 'http://llm.internal:80/v1');
  });

  it('refuses credentials in the URL without repeating them', () => {
    assert.throws(
      () => parseOpenAIBaseUrl('http://user:hunter2@gpu-box:8000/v1'),
      (e: unknown) => e instanceof InvalidHostError && /base URL .*contains credentials/.test(e.message) && !e.message.includes('hunter2'),
    );
  });
});
