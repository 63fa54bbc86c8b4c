import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  commonPrefixLength,
  estimateBpeTokens,
  parseKeepAlive,
  SpeedModel,
  type SpeedEvent,
  type SpeedProfile,
} from '../../support/speedModel';

/** A profile without load time or prompt cost unless a test asks for them, so each rule shows alone. */
function model(profile: Partial<SpeedProfile> = {}): SpeedModel {
  return new SpeedModel({ loadSeconds: 0, promptTokensPerSecond: 1e12, ...profile });
}

function runToEnd(m: SpeedModel): SpeedEvent[] {
  const events: SpeedEvent[] = [];
  for (let next = m.nextEventAt(); next !== undefined; next = m.nextEventAt()) events.push(...m.advance(next));
  return events;
}

const doneAt = (events: SpeedEvent[], job: number) => events.find((e) => e.kind === 'done' && e.job === job)?.at;
const near = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-6, `${what}: expected ${expected}, got ${actual}`);

const request = (outputTokens: number, extra: Partial<Parameters<SpeedModel['submit']>[0]> = {}) => ({
  model: 'm',
  prompt: 'p',
  promptTokens: 1,
  outputTokens,
  ...extra,
});

describe('speed model: one request', () => {
  test('N tokens at R tokens per second take N/R seconds', () => {
    for (const [n, r] of [
      [300, 30],
      [1, 20],
      [1000, 7.5],
    ] as const) {
      const m = model({ generationTokensPerSecond: r });
      const id = m.submit(request(n));
      near(doneAt(runToEnd(m), id), n / r, `${n} tokens at ${r}/s`);
    }
  });

  test('prompt evaluation adds P/rate before the first token, and the first load adds the load time', () => {
    const m = new SpeedModel({ generationTokensPerSecond: 30, promptTokensPerSecond: 600, loadSeconds: 2 });
    const id = m.submit(request(300, { promptTokens: 1200, milestones: [1, 300] }));
    const events = runToEnd(m);
    near(events.find((e) => e.kind === 'milestone' && e.index === 0)?.at, 2 + 2 + 1 / 30, 'first token');
    near(doneAt(events, id), 2 + 2 + 10, 'done');
    const t = m.timings(id)!;
    near(t.loadSeconds, 2, 'load');
    near(t.promptSeconds, 2, 'prompt');
    near(t.generationSeconds, 10, 'generation');
    assert.equal(t.evaluatedTokens, 1200);
  });

  test('milestones arrive in order at the time their token count is reached', () => {
    const m = model({ generationTokensPerSecond: 10 });
    m.submit(request(30, { milestones: [5, 10, 30] }));
    const at = runToEnd(m)
      .filter((e) => e.kind === 'milestone')
      .map((e) => e.at);
    assert.equal(at.length, 3);
    [0.5, 1, 3].forEach((x, i) => near(at[i], x, `milestone ${i}`));
  });

  test('advancing in many small steps gives the same times as jumping from event to event', () => {
    const a = model({ generationTokensPerSecond: 30, slots: 2 });
    const b = model({ generationTokensPerSecond: 30, slots: 2 });
    for (const m of [a, b]) [100, 40, 70].forEach((n) => m.submit(request(n)));
    const jumped = runToEnd(a);
    const stepped: SpeedEvent[] = [];
    for (let t = 0; t <= 10; t += 0.013) stepped.push(...b.advance(t));
    stepped.push(...b.advance(20));
    assert.equal(stepped.length, jumped.length);
    jumped.forEach((e, i) => near(stepped[i]!.at, e.at, `event ${i}`));
  });
});

describe('speed model: slots', () => {
  test('with one slot, requests queue and run one after another', () => {
    const m = model({ generationTokensPerSecond: 30, slots: 1 });
    const ids = [m.submit(request(300)), m.submit(request(300)), m.submit(request(300))];
    const events = runToEnd(m);
    ids.forEach((id, i) => near(doneAt(events, id), 10 * (i + 1), `request ${i + 1}`));
    near(m.timings(ids[2]!)!.queuedSeconds, 20, 'third waited for two');
  });

  test('n slots generate at R·n^(a−1) each: aggregate R·n^a', () => {
    for (const a of [1, 0.85, 0]) {
      const m = model({ generationTokensPerSecond: 30, slots: 4, sharingExponent: a });
      const ids = [1, 2, 3, 4].map(() => m.submit(request(300)));
      const events = runToEnd(m);
      const perSlot = 30 * Math.pow(4, a - 1);
      for (const id of ids) near(doneAt(events, id), 300 / perSlot, `a=${a}`);
    }
  });

  test('requests beyond the slots wait, and speed rises for those left when one finishes', () => {
    const m = model({ generationTokensPerSecond: 30, slots: 2, sharingExponent: 0 });
    // a = 0: two slots share 30 tok/s. Short (30 tokens) ends at 2 s; long then runs alone at 30/s.
    const short = m.submit(request(30));
    const long = m.submit(request(90));
    const queued = m.submit(request(30));
    const events = runToEnd(m);
    near(doneAt(events, short), 2, 'short');
    // From 2 s: long (60 left) and queued (30) share 15/s each: queued ends at 4 s, long has 30 left, alone: +1 s.
    near(doneAt(events, queued), 4, 'queued');
    near(doneAt(events, long), 5, 'long');
    near(m.timings(queued)!.queuedSeconds, 2, 'queued waited for a slot');
  });

  test('slots evaluating prompts at once split the prompt rate', () => {
    const m = new SpeedModel({ loadSeconds: 0, promptTokensPerSecond: 600, generationTokensPerSecond: 1e9, slots: 2 });
    const a = m.submit(request(1, { prompt: 'aaa', promptTokens: 600 }));
    const b = m.submit(request(1, { prompt: 'bbb', promptTokens: 600 }));
    const events = runToEnd(m);
    near(doneAt(events, a), 2, 'a');
    near(doneAt(events, b), 2, 'b');
  });

  test('a cancelled request frees its slot for the next in the queue', () => {
    const m = model({ generationTokensPerSecond: 10, slots: 1 });
    const first = m.submit(request(100));
    const second = m.submit(request(10));
    m.advance(1);
    m.cancel(first);
    const events = runToEnd(m);
    assert.equal(doneAt(events, first), undefined);
    near(doneAt(events, second), 2, 'second starts at the cancel');
  });
});

describe('speed model: prompt cache', () => {
  const system = 'S'.repeat(3000);

  test('a prompt sharing its start with the slot’s last prompt evaluates only the new part', () => {
    const m = new SpeedModel({ loadSeconds: 0, promptTokensPerSecond: 100, generationTokensPerSecond: 1e9 });
    const first = m.submit(request(1, { prompt: system + 'question one', promptTokens: 753 }));
    runToEnd(m);
    const second = m.submit(request(1, { prompt: system + 'another question', promptTokens: 754 }));
    runToEnd(m);
    assert.equal(m.timings(first)!.cachedTokens, 0);
    const t = m.timings(second)!;
    assert.ok(t.cachedTokens >= 740 && t.evaluatedTokens <= 14, `cached ${t.cachedTokens}, evaluated ${t.evaluatedTokens}`);
    assert.ok(t.promptSeconds < 0.15, `prompt took ${t.promptSeconds} s`);
  });

  test('an identical prompt still evaluates one token; a different one evaluates all', () => {
    const m = model();
    m.submit(request(1, { prompt: 'same prompt', promptTokens: 50 }));
    runToEnd(m);
    const again = m.submit(request(1, { prompt: 'same prompt', promptTokens: 50 }));
    runToEnd(m);
    const other = m.submit(request(1, { prompt: 'other prompt', promptTokens: 50 }));
    runToEnd(m);
    assert.equal(m.timings(again)!.evaluatedTokens, 1);
    assert.equal(m.timings(other)!.evaluatedTokens, 50);
  });

  test('only a shared start counts: the same long text after a different first character evaluates in full', () => {
    const m = model();
    m.submit(request(1, { prompt: 'A' + system, promptTokens: 750 }));
    runToEnd(m);
    const shifted = m.submit(request(1, { prompt: 'B' + system, promptTokens: 750 }));
    runToEnd(m);
    assert.equal(m.timings(shifted)!.cachedTokens, 0);
    assert.equal(m.timings(shifted)!.evaluatedTokens, 750);
  });

  test('a request takes the free slot that remembers the longest shared prefix', () => {
    const m = model({ slots: 2 });
    m.submit(request(1, { prompt: 'alpha system', promptTokens: 10 }));
    m.submit(request(1, { prompt: 'beta system', promptTokens: 10 }));
    runToEnd(m);
    const beta = m.submit(request(1, { prompt: 'beta system and more', promptTokens: 20 }));
    runToEnd(m);
    assert.equal(m.timings(beta)!.slot, 1);
    assert.ok(m.timings(beta)!.cachedTokens > 0);
  });

  test('the reply stays in the slot: a follow-up turn that repeats it reuses the cache', () => {
    const m = model();
    m.submit(request(5, { prompt: 'user: hi\n', reply: 'assistant: hello there\n', promptTokens: 3 }));
    runToEnd(m);
    const next = m.submit(request(1, { prompt: 'user: hi\nassistant: hello there\nuser: more\n', promptTokens: 12 }));
    runToEnd(m);
    assert.ok(m.timings(next)!.cachedTokens >= 8);
  });
});

describe('speed model: load and keep-alive', () => {
  test('requests during a load wait for the same load; a loaded model is not loaded again', () => {
    const m = model({ loadSeconds: 3, generationTokensPerSecond: 10, slots: 2, sharingExponent: 1 });
    const a = m.submit(request(10));
    m.advance(1);
    const b = m.submit(request(10));
    const events = runToEnd(m);
    near(doneAt(events, a), 4, 'a');
    near(doneAt(events, b), 4, 'b joined the running load');
    const c = m.submit(request(10));
    near(doneAt(runToEnd(m), c), 5, 'loaded: no second load');
  });

  test('the model unloads after the keep-alive of the last request, counted from when it went idle', () => {
    const m = model({ loadSeconds: 2, generationTokensPerSecond: 10, keepAliveSeconds: 300 });
    m.submit(request(10, { keepAliveSeconds: 5 }));
    runToEnd(m); // done at 3 s: loaded until 8 s
    m.advance(7.9);
    assert.equal(m.isLoaded('m'), true);
    m.advance(8);
    assert.equal(m.isLoaded('m'), false);
    const again = m.submit(request(10));
    const t = m.timings(again)!;
    runToEnd(m);
    near(m.timings(again)!.loadSeconds, 2, 'reloaded');
    assert.equal(t.cachedTokens, 0);
  });

  test('keep_alive 0 unloads at once; a negative keep_alive keeps the model loaded', () => {
    const m = model({ loadSeconds: 1 });
    m.submit(request(1, { keepAliveSeconds: 0 }));
    runToEnd(m);
    assert.equal(m.isLoaded('m'), false);
    m.submit(request(1, { keepAliveSeconds: -1 }));
    runToEnd(m);
    m.advance(1e7);
    assert.equal(m.isLoaded('m'), true);
    assert.deepEqual(m.loadedModels(), [{ model: 'm', expiresAt: Infinity }]);
  });

  test('a request with another context window reloads the model once the running requests finish', () => {
    const m = model({ loadSeconds: 2, generationTokensPerSecond: 10, slots: 2, sharingExponent: 1 });
    const a = m.submit(request(10, { contextLength: 8192 }));
    const same = m.submit(request(10, { contextLength: 8192 }));
    runToEnd(m); // loaded at 2 s, both done at 3 s
    const longer = m.submit(request(10, { contextLength: 4096, prompt: 'p' }));
    const after = m.submit(request(10, { contextLength: 4096 }));
    const events = runToEnd(m);
    near(m.timings(a)!.loadSeconds, 2, 'first load');
    near(m.timings(same)!.loadSeconds, 2, 'same window joins the first load');
    near(m.timings(longer)!.loadSeconds, 2, 'other window: reloaded');
    near(doneAt(events, after), 6, 'runs on the reloaded model');
    assert.equal(m.timings(longer)!.cachedTokens, 0, 'the reload emptied the prompt cache');
  });

  test('a request with another window waits for the running one before the reload', () => {
    const m = model({ loadSeconds: 1, generationTokensPerSecond: 10, slots: 2 });
    const running = m.submit(request(50));
    m.advance(2);
    const other = m.submit(request(10, { contextLength: 2048 }));
    const events = runToEnd(m);
    near(doneAt(events, running), 6, 'the running request finishes undisturbed');
    near(m.timings(other)!.queuedSeconds, 4, 'waited for it');
    near(doneAt(events, other), 8, 'then reload (1 s) and its own 1 s');
  });

  test('each model has its own slots and load', () => {
    const m = model({ loadSeconds: 1, generationTokensPerSecond: 10, slots: 1 });
    const a = m.submit(request(10, { model: 'a' }));
    const b = m.submit(request(10, { model: 'b' }));
    const events = runToEnd(m);
    near(doneAt(events, a), 2, 'a');
    near(doneAt(events, b), 2, 'b');
  });
});

describe('keep_alive values as Ollama reads them', () => {
  test('numbers are seconds, strings are Go durations, junk is undefined', () => {
    assert.equal(parseKeepAlive(30), 30);
    assert.equal(parseKeepAlive('30'), 30);
    assert.equal(parseKeepAlive('5m'), 300);
    assert.equal(parseKeepAlive('1h30m'), 5400);
    assert.equal(parseKeepAlive('500ms'), 0.5);
    assert.equal(parseKeepAlive('-1'), -1);
    assert.equal(parseKeepAlive('-1m'), -60);
    assert.equal(parseKeepAlive('soon'), undefined);
    assert.equal(parseKeepAlive(undefined), undefined);
  });

  test('commonPrefixLength counts shared leading characters', () => {
    assert.equal(commonPrefixLength('abcdef', 'abcxyz'), 3);
    assert.equal(commonPrefixLength('', 'abc'), 0);
    assert.equal(commonPrefixLength('abc', 'abc'), 3);
  });
});

describe('BPE-like token estimate', () => {
  test('prose comes to about 1.3 tokens a word: close to characters / 4.5', () => {
    const prose =
      'Delivery drones combine satellite positioning with visual odometry to keep track of where they are. Between buildings the signal weakens, so the camera takes over.';
    const words = prose.split(' ').length;
    const n = estimateBpeTokens(prose);
    assert.ok(n >= words && n <= words * 1.5, `${n} tokens for ${words} words`);
    assert.ok(Math.abs(n - prose.length / 4.5) < prose.length / 4.5 / 4, `${n} vs ${prose.length / 4.5}`);
  });

  test('JSON counts its quotes, brackets and one-digit numbers: about twice characters / 4', () => {
    const critic = JSON.stringify({ forget: [5, 5, 5], utility: [4, 3, 5] });
    assert.equal(estimateBpeTokens(critic), 20);
    assert.ok(estimateBpeTokens(critic) >= 2 * Math.ceil(critic.length / 4));
    assert.equal(estimateBpeTokens('{"touched":[]}'), 5);
  });

  test('digits go in runs of three, a long word in pieces, whitespace runs as one', () => {
    assert.equal(estimateBpeTokens('1234567'), 3);
    assert.equal(estimateBpeTokens('cat'), 1);
    assert.equal(estimateBpeTokens('internationalisation'), 4);
    assert.equal(estimateBpeTokens('a\n\n    b'), 3);
    assert.equal(estimateBpeTokens(''), 0);
  });
});
