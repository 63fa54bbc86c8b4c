// The speed model behind the scripted server, seen through the real client and our adapter: pacing in
// real (scaled) time, slots, keep_alive, the prompt cache, and a cancelled call freeing its slot.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { LlmError } from '../../src/core/llm/errors';
import type { ChatMessage } from '../../src/core/llm/port';
import { reply, startScriptedOllama, type ScriptedOllama } from '../support/scriptedOllama';
import { estimateBpeTokens } from '../support/speedModel';

const MODEL = 'llama3.2';
/** 300 tokens at ceil(chars / 4). */
const ANSWER = 'word '.repeat(240).trim();
const ask = (question: string, system = 'You are a helpful assistant.'): ChatMessage[] => [
  { role: 'system', content: system },
  { role: 'user', content: question },
];

const servers: ScriptedOllama[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function server(speed: NonNullable<Parameters<typeof startScriptedOllama>[0]>['speed']): Promise<ScriptedOllama> {
  const s = await startScriptedOllama({ script: { default: ANSWER }, speed });
  servers.push(s);
  return s;
}

describe('scripted Ollama with a speed model', () => {
  it('streams a 300-token answer at 30 tokens/s in 10 s of model time, scaled to real time', async () => {
    // timeScale 0.02: 10 s of model time is 200 ms of real time.
    const ollama = await server({ timeScale: 0.02, loadSeconds: 0, promptTokensPerSecond: 1e6 });
    const llm = createOllamaPort({ host: ollama.host });
    await llm.chat({ model: MODEL, messages: ask('warm up the connection') });
    const started = performance.now();
    let firstAt: number | undefined;
    const r = await llm.chat({ model: MODEL, messages: ask('Tell me a story.'), onToken: () => (firstAt ??= performance.now()) });
    const ms = performance.now() - started;
    assert.equal(r.content, ANSWER);
    assert.equal(r.completionTokens, 300);
    assert.ok(ms >= 195 && ms < 3000, `took ${ms.toFixed(0)} ms of real time`);
    assert.ok(firstAt !== undefined && firstAt - started < ms / 2, 'the first token came early, not with the last');
    const t = ollama.timingOf(ollama.chats[1]!)!;
    assert.ok(Math.abs(t.firstTokenAt! - t.submittedAt - 1 / 30) < 1e-3, 'first token after one token of model time');
    assert.ok(Math.abs(t.generationSeconds - 10) < 1e-6, `generation took ${t.generationSeconds} s of model time`);
  });

  it('one slot runs parallel calls one after another; four slots run them together, each a little slower', async () => {
    const timeOf = async (slots: number) => {
      const ollama = await server({ timeScale: 0.02, slots, loadSeconds: 0, promptTokensPerSecond: 1e6 });
      ollama.setScript({ default: (chat) => (chat.messages.at(-1)!.content === 'warm up' ? 'ok' : ANSWER) });
      const llm = createOllamaPort({ host: ollama.host });
      // Four pooled connections first, so the four timed calls arrive together.
      await Promise.all([1, 2, 3, 4].map(() => llm.chat({ model: MODEL, messages: ask('warm up'), onToken: () => undefined })));
      ollama.reset();
      await Promise.all([1, 2, 3, 4].map((i) => llm.chat({ model: MODEL, messages: ask(`question ${i}`), onToken: () => undefined })));
      const timings = ollama.chats.map((c) => ollama.timingOf(c)!);
      // From the first arrival to the last answer; the four arrive a few real milliseconds apart.
      return Math.max(...timings.map((t) => t.doneAt!)) - Math.min(...timings.map((t) => t.submittedAt));
    };
    const one = await timeOf(1);
    const four = await timeOf(4);
    assert.ok(one >= 40 - 1e-6 && one < 41, `one slot: ${one} s`);
    // Default sharing exponent 0.85: each of four slots at 30·4^-0.15 tok/s, 12.3 s for all four when they
    // arrive together (the exact arithmetic is the speed model's unit test; here arrivals may spread a little).
    const together = 300 / (30 * Math.pow(4, -0.15));
    assert.ok(four >= together - 1e-6 && four < together + 3, `four slots: ${four} s`);
  });

  it('num_predict ends a reply after that many tokens, with done_reason "length", in the time of those tokens', async () => {
    const ollama = await server({ timeScale: 0.02, loadSeconds: 0, promptTokensPerSecond: 1e6 });
    const llm = createOllamaPort({ host: ollama.host });
    const r = await llm.chat({ model: MODEL, messages: ask('Tell me a story.'), options: { num_predict: 30 }, onToken: () => undefined });
    assert.equal(r.completionTokens, 30);
    assert.ok(ANSWER.startsWith(r.content) && r.content.length < ANSWER.length / 5, `got ${r.content.length} characters`);
    const t = ollama.timingOf(ollama.chats[0]!)!;
    assert.ok(Math.abs(t.generationSeconds - 1) < 1e-6, `30 tokens at 30 tok/s took ${t.generationSeconds} s`);
  });

  it('restart() unloads everything and can change the slots; setTimeScale() changes the clock, not model time', async () => {
    const ollama = await server({ timeScale: 0.02, slots: 1, loadSeconds: 2, promptTokensPerSecond: 1e6 });
    const llm = createOllamaPort({ host: ollama.host });
    await llm.chat({ model: MODEL, messages: ask('one'), keepAlive: -1 });
    await ollama.restart({ slots: 3 });
    assert.equal(ollama.speedModel!.profile.slots, 3);
    assert.equal(ollama.speedModel!.isLoaded('llama3.2:latest'), false, 'a new server has nothing loaded');
    await llm.chat({ model: MODEL, messages: ask('two'), keepAlive: -1 });
    assert.equal(Math.round(ollama.timingOf(ollama.chats[1]!)!.loadSeconds * 1e6) / 1e6, 2, 'loaded again after the restart');
    const before = ollama.speedTime();
    ollama.setTimeScale(1);
    assert.ok(ollama.speedTime() - before < 0.5, 'model time goes on from where it was');
    const started = performance.now();
    await llm.chat({ model: MODEL, messages: ask('three'), options: { num_predict: 3 } });
    // 3 tokens at 30 tok/s: 0.1 s of model time is now 100 ms of real time, not 2 ms.
    assert.ok(performance.now() - started >= 95, `took ${performance.now() - started} ms`);
  });

  it('counts tokens with the given estimate: a JSON reply costs what a tokenizer makes of it', async () => {
    const critic = { forget: [5, 5, 5], utility: [4, 3, 5] };
    const ollama = await startScriptedOllama({
      script: { default: critic },
      speed: { timeScale: 0.02, loadSeconds: 0, promptTokensPerSecond: 1e6, countTokens: estimateBpeTokens },
    });
    servers.push(ollama);
    const r = await createOllamaPort({ host: ollama.host }).chat({ model: MODEL, messages: ask('Score them.') });
    assert.equal(r.completionTokens, 20, 'characters / 4 would say 9');
    assert.equal(r.promptTokens, estimateBpeTokens('You are a helpful assistant.') + estimateBpeTokens('Score them.') + 8);
  });

  it('loads the model on the first call and again after keep_alive ran out, as the request asked', async () => {
    const ollama = await server({ timeScale: 0.001, loadSeconds: 5, promptTokensPerSecond: 1e6 });
    const llm = createOllamaPort({ host: ollama.host });
    await llm.chat({ model: MODEL, messages: ask('one'), keepAlive: '30m' });
    await llm.chat({ model: MODEL, messages: ask('two'), keepAlive: 0 });
    await llm.chat({ model: MODEL, messages: ask('three') });
    // Model time is a float sum of clock steps: compare to the microsecond.
    const loads = ollama.chats.map((c) => Math.round(ollama.timingOf(c)!.loadSeconds * 1e6) / 1e6);
    assert.deepEqual(loads, [5, 0, 5]);
    const ps = (await (await fetch(`${ollama.host}/api/ps`)).json()) as { models: { name: string }[] };
    assert.deepEqual(
      ps.models.map((m) => m.name),
      ['llama3.2:latest'],
    );
  });

  it('reuses the prompt cache: a call with the same system prompt evaluates only its new part', async () => {
    const ollama = await server({ timeScale: 0.001, loadSeconds: 0 });
    const llm = createOllamaPort({ host: ollama.host });
    const system = 'You are an agent with long instructions. '.repeat(60);
    const first = await llm.chat({ model: MODEL, messages: ask('first question', system) });
    const second = await llm.chat({ model: MODEL, messages: ask('second question', system) });
    assert.ok(first.promptTokens! > 600, `first evaluated ${first.promptTokens}`);
    assert.ok(second.promptTokens! < 20, `second evaluated ${second.promptTokens}`);
    assert.ok(ollama.timingOf(ollama.chats[1]!)!.cachedTokens > 600);
  });

  it('a cancelled call frees its slot: the queued call starts at once', async () => {
    const ollama = await server({ timeScale: 0.01, loadSeconds: 0, promptTokensPerSecond: 1e6 });
    const llm = createOllamaPort({ host: ollama.host });
    const controller = new AbortController();
    let streamed = 0;
    const first = llm.chat({ model: MODEL, messages: ask('long one'), signal: controller.signal, onToken: () => void streamed++ });
    while (streamed === 0) await new Promise((r) => setTimeout(r, 1));
    const second = llm.chat({ model: MODEL, messages: ask('next one'), onToken: () => undefined });
    while (ollama.chats.length < 2) await new Promise((r) => setTimeout(r, 1));
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await assert.rejects(first, (e) => e instanceof LlmError && e.code === 'aborted');
    await second;
    const t = ollama.timingOf(ollama.chats[1]!)!;
    // Started when the first was cancelled (about 2 s of model time later), not after the first's 10 s.
    assert.ok(t.queuedSeconds > 1 && t.queuedSeconds < 8, `queued ${t.queuedSeconds} s`);
    assert.ok(ollama.timingOf(ollama.chats[0]!)!.doneAt === undefined, 'the first never finished');
  });

  it('leaves replies with their own delays and faults unpaced', async () => {
    const ollama = await server({ timeScale: 1, loadSeconds: 60 });
    ollama.setScript({ default: reply('quick', { firstTokenDelayMs: 1 }) });
    const llm = createOllamaPort({ host: ollama.host });
    const started = performance.now();
    assert.equal((await llm.chat({ model: MODEL, messages: ask('hi') })).content, 'quick');
    assert.ok(performance.now() - started < 1000);
  });
});

describe('busy time of a paced server', () => {
  it('counts model seconds with a call queued or running, not the gaps between calls', async () => {
    const ollama = await server({ timeScale: 0.01, loadSeconds: 0, promptTokensPerSecond: 1e6 });
    const llm = createOllamaPort({ host: ollama.host });
    const from = ollama.speedTime();
    await llm.chat({ model: MODEL, messages: ask('one') });
    await new Promise((r) => setTimeout(r, 50)); // 5 s of model time with nothing running
    await llm.chat({ model: MODEL, messages: ask('two') });
    const to = ollama.speedTime();
    const busy = ollama.busySeconds(from, to);
    assert.ok(busy >= 20 - 1e-6 && busy < 20.5, `busy ${busy} s`);
    assert.ok(to - from > busy + 4, 'the gap is not busy time');
  });
});
