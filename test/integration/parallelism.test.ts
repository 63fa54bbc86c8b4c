// The parallelism probe against the scripted Ollama paced by the speed model (slots, load, prompt cache),
// through the real client: one slot, four slots, and a restart with more slots that is measured again.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { probeParallelism, ServerParallelism } from '../../src/core/llm/parallelism';
import { startScriptedOllama, type ScriptedOllama } from '../support/scriptedOllama';

const MODEL = 'llama3.2';
const COUNTING = Array.from({ length: 50 }, (_, i) => String(i + 1)).join(' ');
const servers: ScriptedOllama[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function server(slots: number): Promise<ScriptedOllama> {
  // GPU-like pacing (30 tokens/s a slot, 600 prompt tokens/s) at half real time: a probe request's 10 tokens
  // last 170 ms, longer than a busy test machine takes to send eight requests.
  const s = await startScriptedOllama({ script: { default: COUNTING }, speed: { slots, timeScale: 0.5, loadSeconds: 0.5 } });
  servers.push(s);
  return s;
}

describe('parallelism probe against the scripted Ollama', () => {
  for (const slots of [1, 4]) {
    it(`measures ${slots} slot(s) in well under a second of model time once the model is loaded`, async () => {
      const ollama = await server(slots);
      const llm = createOllamaPort({ host: ollama.host });
      // Cold: the probe also waits for the load; the count is the same.
      assert.equal((await probeParallelism(llm, { model: MODEL, numCtx: 8192 })).slots, slots);
      await ollama.waitForIdle();
      const warm = await probeParallelism(llm, { model: MODEL, numCtx: 8192 });
      // From the first probe request to the second one that finished: all the probe waits for. (Later ones
      // end when our client reacts, real time that a loaded test machine stretches.)
      const timings = ollama.probes.slice(-8).flatMap((c) => ollama.timingOf(c) ?? []);
      const finished = timings.flatMap((t) => t.doneAt ?? []).sort((a, b) => a - b);
      const modelSeconds = finished[Math.min(1, finished.length - 1)]! - Math.min(...timings.map((t) => t.submittedAt));
      assert.ok(modelSeconds >= 0.3, 'it waited for at least one tiny generation');
      assert.deepEqual([warm.slots, warm.atLeast], [slots, false]);
      assert.ok(modelSeconds < 1, `the probe took ${modelSeconds.toFixed(2)} s of model time`);
      const probeChats = ollama.probes.slice(-8);
      assert.equal(ollama.chats.length, 0, 'probe requests are not agent calls');
      assert.ok(probeChats.every((c) => c.options?.num_predict === 10 && c.options?.num_ctx === 8192));
      // The requests that had no slot were cancelled, not left to run: the server is idle at once.
      await ollama.waitForIdle(500);
    });
  }

  it('answers the probe as a server with 4 slots when unpaced (what front ends see in tests)', async () => {
    const ollama = await startScriptedOllama({ script: { vanilla: 'only for agents' } });
    servers.push(ollama);
    const m = await probeParallelism(createOllamaPort({ host: ollama.host }), { model: MODEL });
    assert.deepEqual([m.slots, ollama.probes.length, ollama.chats.length], [4, 8, 0]);
  });

  it('is measured again after a restart with more slots, and cached until then', async () => {
    const ollama = await server(1);
    const llm = createOllamaPort({ host: ollama.host });
    const cache = new ServerParallelism();
    const ask = () => cache.resolve(llm, { model: MODEL, keepAlive: '30m' });
    const probes = () => ollama.probes.length;
    const first = await ask();
    assert.deepEqual([first.slots, first.source], [1, 'measured']);
    const seen = probes();
    assert.deepEqual([(await ask()).source, probes()], ['cached', seen], 'a cached measurement sends no probe');
    await ollama.restart({ slots: 4 });
    const again = await ask();
    assert.deepEqual([again.slots, again.source], [4, 'measured']);
    assert.match(again.reason ?? '', /unloaded before its keep-alive ran out/);
    assert.equal((await ask()).source, 'cached');
  });
});
