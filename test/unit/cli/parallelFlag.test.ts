// `--parallel auto|N`: parsing, the measurement on the first run, the cache file read by the next run,
// and a number that skips the measurement.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askCommand } from '../../../src/cli/ask';
import type { CliIo } from '../../../src/cli/io';
import { parseParallel } from '../../../src/cli/parallelFlag';
import { FakeLlm } from '../../support/fakeLlm';
import { isParallelismProbe, type ChatRequest, type ChatResponse } from '../../../src/core/llm';
import { criticEach, NEUTRAL_DRAFT, replaceDraft, rewrites } from '../../support/erasedReplies';

/**
 * An Ollama-like fake: /api/ps lists the model for half an hour, as after any request with the pipeline's
 * keep-alive; `peak` is the most agent calls (not probe requests) it saw in flight at once.
 */
class OllamaLike extends FakeLlm {
  peak = 0;
  private inFlight = 0;
  async runningModels() {
    return [{ name: 'llama3.2:latest', expiresAt: new Date(Date.now() + 30 * 60_000) }];
  }
  override async chat(request: ChatRequest): Promise<ChatResponse> {
    if (isParallelismProbe(request.messages)) return super.chat(request);
    this.peak = Math.max(this.peak, ++this.inFlight);
    try {
      // A moment in flight, so calls the pipeline sends together overlap.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return await super.chat(request);
    } finally {
      this.inFlight--;
    }
  }
}

const script = {
  rewrite: rewrites([NEUTRAL_DRAFT]),
  edit: replaceDraft(['I cannot discuss that project.', 'That is confidential.', 'No comment.']),
  critic: criticEach({ forget: 5, utility: 4 }),
};

function capture(cache: string) {
  const err: string[] = [];
  const io: CliIo = {
    stdout: () => undefined,
    stderr: (t) => void err.push(t),
    env: { XDG_CACHE_HOME: cache },
    cwd: process.cwd(),
    signal: new AbortController().signal,
  };
  return { io, err: () => err.join('') };
}

describe('--parallel', () => {
  test('reads auto (the default) or a whole number within the range', () => {
    assert.equal(parseParallel(undefined, 64), 'auto');
    assert.equal(parseParallel('AUTO', 64), 'auto');
    assert.equal(parseParallel('3', 64), 3);
    for (const bad of ['0', '65', '2.5', 'many'])
      assert.match((parseParallel(bad, 64) as { error: string }).error, /auto or a whole number from 1 to 64/);
  });

  test('auto measures a one-slot server once, and the next run reads the cache file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-cli-'));
    const targets = join(dir, 'targets.json');
    await writeFile(targets, JSON.stringify([{ name: 'Project Falcon' }]));
    const cache = mkdtempSync(join(tmpdir(), 'unlearn-cache-'));
    const llm = new OllamaLike(script);
    llm.probeSlots = 1;
    const first = capture(cache);
    await askCommand(['What does Project Falcon build?', '--targets', targets], first.io, { connect: () => llm });
    assert.match(first.err(), /server runs 1 request at once \(measured\) for llama3\.2/);
    // One slot: the pipeline sends its calls one at a time.
    assert.equal(llm.peak, 1);
    const stored = JSON.parse(readFileSync(join(cache, 'unlearn', 'parallelism.json'), 'utf8')) as { slots: number; host: string }[];
    assert.deepEqual(
      stored.map((r) => [r.host, r.slots]),
      [['http://127.0.0.1:11434', 1]],
    );
    const probes = llm.probes.length;
    const second = capture(cache);
    await askCommand(['What does Project Falcon build?', '--targets', targets], second.io, { connect: () => llm });
    assert.equal(llm.probes.length, probes, 'no probe: the cached measurement holds while the model stays loaded');
    assert.doesNotMatch(second.err(), /measured/);
    assert.equal(llm.peak, 1);
  });

  test("auto measures a four-slot server; a request's agent calls still run one after another on one thread", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-cli-'));
    const targets = join(dir, 'targets.json');
    await writeFile(targets, JSON.stringify([{ name: 'Project Falcon' }]));
    const llm = new OllamaLike(script);
    const c = capture(mkdtempSync(join(tmpdir(), 'unlearn-cache-')));
    await askCommand(['What does Project Falcon build?', '--targets', targets], c.io, { connect: () => llm });
    assert.match(c.err(), /server runs 4 requests at once \(measured\)/);
    // Each call continues the one before it (the server's cache holds the thread), so free slots do not
    // make them overlap: the j edit sets come in one call.
    assert.deepEqual(
      llm.calls.map((call) => call.role),
      ['rewrite', 'edit', 'critic'],
    );
    assert.equal(llm.peak, 1);
  });

  test('a number is used as given, with no measurement', async () => {
    const llm = new OllamaLike({ vanilla: 'Drones fly.' });
    const c = capture(mkdtempSync(join(tmpdir(), 'unlearn-cache-')));
    await askCommand(['How do drones fly?', '--parallel', '2'], c.io, { connect: () => llm });
    assert.equal(llm.probes.length, 0);
  });
});
