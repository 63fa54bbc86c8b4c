import type { ForgetTarget } from '../targets/target';

/**
 * Agents never see target ids; each retrieved target gets a short handle (T1, T2, …) in the prompt, and
 * erased text marks removals as `[redacted:T1]`, which the pipeline turns into the visible marker.
 */
export interface HandledTarget {
  readonly handle: string;
  readonly target: ForgetTarget;
}

export function assignHandles(targets: readonly ForgetTarget[]): HandledTarget[] {
  return targets.map((target, i) => ({ handle: `T${i + 1}`, target }));
}

/** The targets block of an agent prompt, as JSON so names with quotes or newlines cannot break it. */
export function describeTargets(handled: readonly HandledTarget[]): string {
  return JSON.stringify(
    handled.map(({ handle, target }) => ({
      handle,
      name: target.name,
      ...(target.aliases.length ? { aliases: target.aliases } : {}),
      ...(target.description ? { description: target.description } : {}),
      // A few sample questions show the agents what "about this target" means; more would only grow the prompt.
      ...(target.examples?.length ? { examples: target.examples.slice(0, 3) } : {}),
    })),
    null,
    1,
  );
}

export const HANDLE_PLACEHOLDER_HELP =
  "Where you removed something, you may write the placeholder [redacted:T1] (with the target's handle) if the sentence needs it; never write the name.";
