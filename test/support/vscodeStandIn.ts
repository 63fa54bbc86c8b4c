/**
 * Pieces of a stand-in for the `vscode` module, for unit tests that load an adapter from src/vscode
 * without an extension host: an event emitter, a cancellation token that counts its live listeners, and
 * the hook that makes `require('vscode')` return the test's stub.
 */
import Module from 'node:module';

export type Listener<T> = (value: T) => void;

/** `vscode.EventEmitter`'s shape: `event` subscribes and returns a disposable. */
export class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

/** A cancellation token whose `live` says how many of its listeners were never disposed. */
export class CountingToken {
  private readonly emitter = new EventEmitter<void>();
  live = 0;
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: (l: Listener<void>) => {
      this.live++;
      const sub = this.emitter.event(l);
      let done = false;
      return {
        dispose: () => {
          if (done) return;
          done = true;
          this.live--;
          sub.dispose();
        },
      };
    },
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
}

/**
 * From now on `require('vscode')` in this process returns `stub` (load the module under test through
 * CommonJS, as VS Code loads the bundle). Returns the function that undoes it.
 */
export function provideVscode(stub: object): () => void {
  const internals = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const originalLoad = internals._load;
  internals._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? stub : originalLoad.call(this, request, ...rest);
  };
  return () => {
    internals._load = originalLoad;
  };
}
