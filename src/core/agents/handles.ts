import type { HandledTarget } from '../targets';

// The handles themselves (assignHandles, HandledTarget) are the targets layer's: the guard reads them back too.

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
