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
  // GPU-like pacing (30 tokens/s a slot, 600 prompt tokens/s); model time runs 20× faster than real time.
  const s = await startScriptedOllama({ script: { default: COUNTING }, speed: { slots, timeScale: 0.05, loadSeconds: 2 } });
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
      const before = ollama.speedTime();
      const warm = await probeParallelism(llm, { model: MODEL, numCtx: 8192 });
      // The server's busy time: our own HTTP set-up in between is real time, which the clock would magnify 20×.
      const modelSeconds = ollama.busySeconds(before, ollama.speedTime());
      assert.deepEqual([warm.slots, warm.atLeast], [slots, false]);
      assert.ok(modelSeconds < 0.8, `the probe took ${modelSeconds.toFixed(2)} s of model time`);
      const probeChats = ollama.chats.slice(-8);
      assert.ok(probeChats.every((c) => c.options?.num_predict === 12 && c.options?.num_ctx === 8192));
      // The requests that had no slot were cancelled, not left to run: the server is idle at once.
      await ollama.waitForIdle(500);
    });
  }

  it('is measured again after a restart with more slots, and cached until then', async () => {
    const ollama = await server(1);
    const llm = createOllamaPort({ host: ollama.host });
    const cache = new ServerParallelism();
    const ask = () => cache.resolve(llm, { model: MODEL, keepAlive: '30m' });
    const probes = () => ollama.chats.filter((c) => c.options?.num_predict === 12).length;
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
