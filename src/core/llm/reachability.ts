import { isLlmError } from './errors';
import type { LlmPort } from './port';

/**
 * The same port, telling `onReach(reachable)` after every call whether the server answered: `false` when
 * a call failed because the server could not be reached, `true` when it answered at all (an HTTP error or
 * a missing model is still an answer). Cancelled calls and other failures say nothing. Lets a status
 * display follow what the requests see instead of waiting for its next periodic check.
 */
export function watchReachability(port: LlmPort, onReach: (reachable: boolean) => void): LlmPort {
  const observe = async <T>(call: Promise<T>): Promise<T> => {
    try {
      const result = await call;
      onReach(true);
      return result;
    } catch (error) {
      if (isLlmError(error, 'unreachable')) onReach(false);
      else if (isLlmError(error, 'http') || isLlmError(error, 'model-missing')) onReach(true);
      throw error;
    }
  };
  return {
    host: port.host,
    chat: (request) => observe(port.chat(request)),
    listModels: (signal) => observe(port.listModels(signal)),
    showModel: (model, signal) => observe(port.showModel(model, signal)),
    embed: (model, input, signal) => observe(port.embed(model, input, signal)),
    pull: (model, onProgress, signal) => observe(port.pull(model, onProgress, signal)),
    version: (signal) => observe(port.version(signal)),
    ...(port.runningModels ? { runningModels: (signal?: AbortSignal) => observe(port.runningModels!(signal)) } : {}),
  };
}
