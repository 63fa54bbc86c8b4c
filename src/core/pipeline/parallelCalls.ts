/**
 * Runs model calls side by side with at most `limit` in flight: Ollama serves as many requests at once as
 * it has slots (`OLLAMA_NUM_PARALLEL`) and queues the rest, and a call queued on the server still counts
 * against its timeouts, so the queue is kept here instead.
 *
 * Each task gets a signal that aborts when the caller's signal does, or (with `allWithLimit`) when another
 * task failed: one failed candidate call then stops its siblings at once, and nothing keeps generating
 * for a request that is already lost. Tasks not started yet are never started. The returned promise
 * settles only after every started task has, so no call outlives it.
 */
export type Task<T> = (signal: AbortSignal) => Promise<T>;

/** Results in task order; rejects with the first failure (or the caller's abort reason) after the others stopped. */
export async function allWithLimit<T>(tasks: readonly Task<T>[], limit: number, signal?: AbortSignal): Promise<T[]> {
  const settled = await run(tasks, limit, signal, true);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (signal?.aborted) throw signal.reason;
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** Every task's outcome in task order; a failure does not stop the others (a caller's abort still does). */
export async function settleWithLimit<T>(
  tasks: readonly Task<T>[],
  limit: number,
  signal?: AbortSignal,
): Promise<PromiseSettledResult<T>[]> {
  return run(tasks, limit, signal, false);
}

async function run<T>(
  tasks: readonly Task<T>[],
  limit: number,
  signal: AbortSignal | undefined,
  failFast: boolean,
): Promise<PromiseSettledResult<T>[]> {
  if (!(Number.isInteger(limit) && limit >= 1)) throw new RangeError(`parallel calls: limit must be a whole number ≥ 1, not ${limit}`);
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', onAbort, { once: true });
  const results: PromiseSettledResult<T>[] = new Array(tasks.length);
  const notStarted: PromiseSettledResult<T> = { status: 'rejected', reason: new Error('not started: the calls were stopped') };
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      if (controller.signal.aborted) {
        results[i] = notStarted;
        continue;
      }
      try {
        results[i] = { status: 'fulfilled', value: await tasks[i]!(controller.signal) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
        if (failFast && !controller.signal.aborted) controller.abort(reason);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return results;
}
