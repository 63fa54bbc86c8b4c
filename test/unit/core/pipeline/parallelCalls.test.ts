import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allWithLimit, settleWithLimit, type Task } from '../../../../src/core/pipeline/parallelCalls';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** Tasks that record how many run at once. */
function tracked(count: number, ms: number, fail?: number) {
  const state = { running: 0, peak: 0, started: [] as number[], aborted: [] as number[] };
  const tasks: Task<number>[] = Array.from({ length: count }, (_, i) => async (signal) => {
    state.started.push(i);
    state.running++;
    state.peak = Math.max(state.peak, state.running);
    try {
      await sleep(i === fail ? ms / 4 : ms, signal);
      if (i === fail) throw new Error(`task ${i} failed`);
      return i * 10;
    } catch (error) {
      if (signal.aborted && i !== fail) state.aborted.push(i);
      throw error;
    } finally {
      state.running--;
    }
  });
  return { tasks, state };
}

describe('parallel calls with a limit', () => {
  test('runs every task with at most `limit` in flight and returns results in task order', async () => {
    for (const limit of [1, 2, 4, 10]) {
      const { tasks, state } = tracked(5, 15);
      assert.deepEqual(await allWithLimit(tasks, limit), [0, 10, 20, 30, 40]);
      assert.equal(state.peak, Math.min(limit, 5));
    }
  });

  test('the limit makes them run side by side: four 40 ms tasks at limit 4 take about 40 ms, not 160', async () => {
    const { tasks } = tracked(4, 40);
    const started = performance.now();
    await allWithLimit(tasks, 4);
    assert.ok(performance.now() - started < 130);
  });

  test('one failure aborts the running siblings, starts no more, and rejects with that failure', async () => {
    const { tasks, state } = tracked(6, 200, 1);
    await assert.rejects(allWithLimit(tasks, 2), /task 1 failed/);
    assert.deepEqual(state.aborted, [0]);
    assert.deepEqual(state.started.sort(), [0, 1]);
    assert.equal(state.running, 0, 'nothing still running when the promise settles');
  });

  test("the caller's abort stops every task and rejects with its reason", async () => {
    const { tasks, state } = tracked(3, 500);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user cancelled')), 20);
    await assert.rejects(allWithLimit(tasks, 3, controller.signal), /user cancelled/);
    assert.deepEqual(state.aborted.sort(), [0, 1, 2]);
    assert.equal(state.running, 0);
  });

  test('an already aborted signal starts nothing', async () => {
    const { tasks, state } = tracked(3, 10);
    await assert.rejects(allWithLimit(tasks, 2, AbortSignal.abort(new Error('gone'))), /gone/);
    assert.equal(state.started.length, 0);
  });

  test('settleWithLimit lets the others finish after a failure', async () => {
    const { tasks } = tracked(4, 20, 2);
    const settled = await settleWithLimit(tasks, 2);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
  });

  test('rejects a limit that is not a whole number ≥ 1', async () => {
    await assert.rejects(allWithLimit([], 0), RangeError);
    await assert.rejects(allWithLimit([], 1.5), RangeError);
    assert.deepEqual(await allWithLimit([], 3), []);
  });
});
