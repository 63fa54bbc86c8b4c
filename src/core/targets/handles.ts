import type { ForgetTarget } from './target';

/**
 * Agents never see target ids; each retrieved target gets a short handle (T1, T2, …) in the prompt, and
 * erased text marks removals as `[redacted:T1]`, which the pipeline turns into the visible marker. The
 * handles live here, below both the agents that write them and the guard that reads them back.
 */
export interface HandledTarget {
  readonly handle: string;
  readonly target: ForgetTarget;
}

export function assignHandles(targets: readonly ForgetTarget[]): HandledTarget[] {
  return targets.map((target, i) => ({ handle: `T${i + 1}`, target }));
}
