// The VS Code glue of `parallelCalls: auto`: the measurement kept in global state across windows, the
// settings that skip it, and the line the status tooltip and /models show.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import {
  measuredSlots,
  parallelismLine,
  registerServerParallelism,
  serverUnreachable,
} from '../../../../src/vscode/settings/serverParallelism';
import { FakeLlm } from '../../../support/fakeLlm';

/** Global state and subscriptions: all `registerServerParallelism` uses of the extension context. */
function context(state = new Map<string, unknown>()) {
  const subscriptions: { dispose(): unknown }[] = [];
  const ctx = {
    subscriptions,
    globalState: {
      get: (key: string) => state.get(key),
      update: async (key: string, value: unknown) => void state.set(key, value),
    },
  } as unknown as vscode.ExtensionContext;
  return { ctx, state, dispose: () => subscriptions.forEach((s) => s.dispose()) };
}

const log = { info: () => undefined, warn: () => undefined };
const auto = { parallelCalls: 'auto' as const, contextLength: 8192 };

class OllamaLike extends FakeLlm {
  async runningModels() {
    return [{ name: 'llama3.2:latest', expiresAt: new Date(Date.now() + 30 * 60_000) }];
  }
}

describe('parallelCalls auto in VS Code', () => {
  test('measures on the first request, shows it, and a new window reads it from global state', async () => {
    const first = context();
    registerServerParallelism(first.ctx, log);
    const llm = new OllamaLike({});
    llm.probeSlots = 2;
    assert.match(parallelismLine(auto, '127.0.0.1:11434', 'llama3.2'), /not measured yet/);
    const progress: string[] = [];
    assert.equal(await measuredSlots(auto, llm, 'llama3.2', new AbortController().signal, log, (m) => progress.push(m)), 2);
    assert.deepEqual(progress, ['Measuring how many requests the server runs at once…']);
    assert.equal(parallelismLine(auto, '127.0.0.1:11434', 'llama3.2'), 'Parallel calls (auto): server runs 2 requests at once (measured)');
    const probes = llm.probes.length;
    first.dispose();

    const second = context(first.state);
    registerServerParallelism(second.ctx, log);
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(parallelismLine(auto, '127.0.0.1:11434', 'llama3.2'), /2 requests at once \(measured\)/, 'shown before any request');
    assert.equal(await measuredSlots(auto, llm, 'llama3.2:latest', new AbortController().signal, log), 2);
    assert.equal(llm.probes.length, probes, 'read from global state, not measured again');
    serverUnreachable('http://127.0.0.1:11434');
    await measuredSlots(auto, llm, 'llama3.2', new AbortController().signal, log);
    assert.equal(llm.probes.length, probes + 8, 'measured again after the server was unreachable');
    second.dispose();
  });

  test('a number, a port that is not Ollama, or no registered cache: nothing is measured', async () => {
    const c = context();
    registerServerParallelism(c.ctx, log);
    const llm = new OllamaLike({});
    assert.equal(
      await measuredSlots({ parallelCalls: 3, contextLength: 0 }, llm, 'llama3.2', new AbortController().signal, log),
      undefined,
    );
    const lm = Object.assign(new OllamaLike({}), { host: 'vscode.lm:copilot' });
    assert.equal(await measuredSlots(auto, lm, 'gpt', new AbortController().signal, log), undefined);
    assert.equal(llm.probes.length + lm.probes.length, 0);
    assert.equal(parallelismLine({ parallelCalls: 3 }, '127.0.0.1', 'm'), 'Model calls at once: 3 requests at once (set in the settings)');
    c.dispose();
    assert.equal(await measuredSlots(auto, llm, 'llama3.2', new AbortController().signal, log), undefined);
  });
});
