// The parallelism probe and its cache with in-process fakes: a server with a number of slots (requests
// beyond them wait), and a port whose /api/ps and /api/version the test moves (a restart, an upgrade).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LlmError } from '../../../../src/core/llm/errors';
import type { ChatRequest, ChatResponse, LlmPort, RunningModel } from '../../../../src/core/llm/port';
import {
  describeParallelism,
  probeParallelism,
  ServerParallelism,
  type ParallelismProbeOptions,
  type ParallelismRecord,
} from '../../../../src/core/llm/parallelism';

/** A server with `slots` slots: a request streams its first token once it holds one, and holds it `holdMs`. */
class SlotServer implements LlmPort {
  readonly host = 'http://127.0.0.1:11434';
  readonly requests: ChatRequest[] = [];
  running = 0;
  peak = 0;
  private readonly waiting: (() => void)[] = [];
  version_ = '0.12.6';
  loaded: RunningModel[] = [];

  constructor(
    public slots: number,
    private readonly holdMs = 15,
  ) {}

  async chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const signal = request.signal;
    const aborted = () => new LlmError('aborted', 'cancelled', { label: request.label });
    if (this.running >= this.slots) {
      await new Promise<void>((resolve, reject) => {
        const go = () => (signal?.removeEventListener('abort', leave), resolve());
        const leave = () => {
          this.waiting.splice(this.waiting.indexOf(go), 1);
          reject(aborted());
        };
        this.waiting.push(go);
        signal?.addEventListener('abort', leave, { once: true });
      });
    }
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      // Prompt evaluation: a slot's first token comes a moment after it took the request, never in the same instant.
      await new Promise((resolve) => setTimeout(resolve, 1));
      request.onToken?.('1');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, this.holdMs);
        signal?.addEventListener('abort', () => (clearTimeout(timer), reject(aborted())), { once: true });
      });
      return { content: '1 2 3', durationMs: this.holdMs };
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
  async listModels() {
    return [];
  }
  async showModel(model: string) {
    return { name: model };
  }
  async embed(): Promise<number[][]> {
    return [];
  }
  async pull() {}
  async version() {
    return this.version_;
  }
  async runningModels() {
    return this.loaded;
  }
}

const PROBE: ParallelismProbeOptions = { model: 'llama3.2' };

describe('parallelism probe', () => {
  for (const slots of [1, 2, 4]) {
    it(`counts ${slots} slot(s): the requests that streamed before the first one finished`, async () => {
      const server = new SlotServer(slots);
      const m = await probeParallelism(server, PROBE);
      assert.equal(m.slots, slots);
      assert.equal(m.atLeast, false);
      assert.equal(server.running, 0, 'no probe request outlives the probe');
    });
  }

  it('says "at least" when every request ran at once', async () => {
    const m = await probeParallelism(new SlotServer(16), { ...PROBE, requests: 8 });
    assert.deepEqual([m.slots, m.atLeast], [8, true]);
  });

  it('asks for a few tokens, with the window and keep-alive of the other calls, and shares no prompt prefix', async () => {
    const server = new SlotServer(4);
    await probeParallelism(server, { ...PROBE, numCtx: 8192, keepAlive: '30m', tokens: 10 });
    assert.equal(server.requests.length, 8);
    for (const r of server.requests) {
      assert.equal(r.options?.num_predict, 10);
      assert.equal(r.options?.num_ctx, 8192);
      assert.equal(r.keepAlive, '30m');
    }
    const texts = server.requests.map((r) => r.messages.map((m) => m.content).join('\n'));
    // Random nonces first: two probe prompts agreeing on their first 3 characters would be a coincidence.
    const sharedStarts = texts.filter((a, i) => texts.some((b, j) => j !== i && a.slice(0, 3) === b.slice(0, 3)));
    assert.ok(sharedStarts.length <= 2, `prompts share their start: ${sharedStarts.join(' | ')}`);
    const again = new SlotServer(4);
    await probeParallelism(again, PROBE);
    for (const a of again.requests) for (const b of texts) assert.notEqual(a.messages[0]!.content.slice(0, 12), b.slice(0, 12));
  });

  it('rejects with the server problem when no request can finish', async () => {
    const down: Pick<LlmPort, 'chat'> = {
      chat: async () => {
        throw new LlmError('unreachable', 'connection refused');
      },
    };
    await assert.rejects(probeParallelism(down, PROBE), (e: unknown) => e instanceof LlmError && e.code === 'unreachable');
  });

  it('stops at once when the caller cancels', async () => {
    const server = new SlotServer(1, 10_000);
    const controller = new AbortController();
    const pending = probeParallelism(server, { ...PROBE, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 20);
    await assert.rejects(pending, /user cancelled/);
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(server.running, 0);
  });
});

describe('server parallelism cache', () => {
  const setup = (slots = 4) => {
    let now = 1_000_000;
    const server = new SlotServer(slots);
    const probes: number[] = [];
    const stored: ParallelismRecord[][] = [];
    const store = { read: () => stored.at(-1) ?? [], write: (r: readonly ParallelismRecord[]) => void stored.push([...r]) };
    const make = () =>
      new ServerParallelism({
        store,
        now: () => now,
        probe: async (llm, options) => {
          probes.push(now);
          // The probe loads the model with the keep-alive the request asks for (30 minutes).
          server.loaded = [{ name: 'llama3.2:latest', expiresAt: new Date(now + 30 * 60_000) }];
          return probeParallelism(llm, options);
        },
      });
    return { server, probes, stored, make, tick: (ms: number) => (now += ms), at: () => now };
  };

  it('measures once, then answers from the cache while the model stays loaded', async () => {
    const { server, probes, make, tick } = setup(4);
    const cache = make();
    const first = await cache.resolve(server, PROBE);
    assert.deepEqual([first.slots, first.source], [4, 'measured']);
    tick(60_000);
    const second = await cache.resolve(server, PROBE);
    assert.deepEqual([second.slots, second.source], [4, 'cached']);
    assert.equal(probes.length, 1);
    assert.match(describeParallelism(cache.known(server.host, 'llama3.2')), /server runs 4 requests at once \(measured\)/);
  });

  it('measures again after a restart: the model gone before its keep-alive ran out', async () => {
    const { server, probes, make, tick } = setup(1);
    const cache = make();
    assert.equal((await cache.resolve(server, PROBE)).slots, 1);
    // `OLLAMA_NUM_PARALLEL=4 ollama serve`: nothing loaded any more, four slots.
    server.loaded = [];
    server.slots = 4;
    tick(10_000);
    const after = await cache.resolve(server, PROBE);
    assert.deepEqual([after.slots, after.source], [4, 'measured']);
    assert.match(after.reason ?? '', /unloaded before its keep-alive ran out/);
    assert.equal(probes.length, 2);
  });

  it('measures again after the keep-alive ran out, after another version, and after the server was unreachable', async () => {
    const { server, probes, make, tick } = setup(2);
    const cache = make();
    await cache.resolve(server, PROBE);
    tick(31 * 60_000);
    // Loaded again by someone, perhaps on a new server: nothing tells, so it is measured.
    server.loaded = [{ name: 'llama3.2:latest', expiresAt: new Date(Date.now() + 3600_000) }];
    assert.match((await cache.resolve(server, PROBE)).reason ?? '', /keep-alive seen last ran out/);
    server.version_ = '0.13.0';
    assert.match((await cache.resolve(server, PROBE)).reason ?? '', /version changed \(0\.12\.6 → 0\.13\.0\)/);
    assert.equal((await cache.resolve(server, PROBE)).source, 'cached');
    cache.serverUnreachable(server.host);
    assert.match((await cache.resolve(server, PROBE)).reason ?? '', /unreachable/);
    assert.equal((await cache.resolve(server, PROBE)).source, 'cached');
    assert.equal(probes.length, 4);
  });

  it('a server whose /api/ps never lists the model is trusted until it is unreachable or changes version', async () => {
    const server = new SlotServer(2);
    let probes = 0;
    const cache = new ServerParallelism({
      probe: async (llm, options) => {
        probes++;
        return probeParallelism(llm, options);
      },
    });
    server.loaded = [{ name: 'another-name:latest', expiresAt: new Date(Date.now() + 60_000) }];
    assert.equal((await cache.resolve(server, PROBE)).source, 'measured');
    assert.equal((await cache.resolve(server, PROBE)).source, 'cached', 'not measured on every request');
    server.version_ = '0.13.0';
    assert.equal((await cache.resolve(server, PROBE)).source, 'measured');
    assert.equal(probes, 2);
  });

  it('keeps measurements in the store for the next process', async () => {
    const { server, probes, stored, make, tick } = setup(4);
    await make().resolve(server, PROBE);
    assert.equal(stored.at(-1)?.[0]?.slots, 4);
    tick(5_000);
    const next = await make().resolve(server, PROBE);
    assert.deepEqual([next.slots, next.source], [4, 'cached']);
    assert.equal(probes.length, 1);
  });

  it('shares one probe between requests that arrive together', async () => {
    const { server, probes, make } = setup(4);
    const cache = make();
    const all = await Promise.all([cache.resolve(server, PROBE), cache.resolve(server, PROBE), cache.resolve(server, PROBE)]);
    assert.deepEqual(
      all.map((r) => r.slots),
      [4, 4, 4],
    );
    assert.equal(probes.length, 1);
  });

  it('a cancel stops only the request that cancelled, not another one waiting for the same probe', async () => {
    const server = new SlotServer(3, 40);
    const cache = new ServerParallelism();
    const first = new AbortController();
    const cancelled = cache.resolve(server, { ...PROBE, signal: first.signal });
    const other = cache.resolve(server, PROBE);
    setTimeout(() => first.abort(new Error('closed the chat')), 10);
    await assert.rejects(cancelled, (e: unknown) => e instanceof LlmError && e.code === 'aborted');
    assert.deepEqual([(await other).slots, (await other).source], [3, 'measured']);
  });

  it('falls back to one slot when the probe fails, and does not keep the fallback', async () => {
    let fail = true;
    const server = new SlotServer(4);
    const cache = new ServerParallelism({
      probe: async (llm, options) => {
        if (fail) throw new LlmError('http', 'HTTP 500: out of memory');
        return probeParallelism(llm, options);
      },
    });
    const r = await cache.resolve(server, PROBE);
    assert.deepEqual([r.slots, r.source], [1, 'fallback']);
    assert.match(r.reason ?? '', /out of memory/);
    assert.equal(cache.known(server.host, 'llama3.2'), undefined);
    fail = false;
    assert.deepEqual((await cache.resolve(server, PROBE)).slots, 4);
  });

  it('describes a setting, a measurement and the lack of one', () => {
    assert.equal(describeParallelism(undefined, 2), '2 requests at once (set in the settings)');
    assert.equal(describeParallelism({ slots: 1, atLeast: false }), 'server runs 1 request at once (measured)');
    assert.equal(describeParallelism({ slots: 8, atLeast: true }), 'server runs at least 8 requests at once (measured)');
    assert.match(describeParallelism(undefined), /not measured yet/);
  });
});
