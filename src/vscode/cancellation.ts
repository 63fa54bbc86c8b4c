import type * as vscode from 'vscode';

/**
 * An AbortSignal that follows a VS Code cancellation token, so every model call of a request stops on
 * cancel (the ollama-vscode habit: link the token to the controller the calls use). `dispose` removes the
 * listener when the work is over: a token can outlive it (VS Code reuses some).
 */
export function abortOn(token: vscode.CancellationToken): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (token.isCancellationRequested) {
    controller.abort();
    return { signal: controller.signal, dispose: () => undefined };
  }
  const listener = token.onCancellationRequested(() => controller.abort());
  return { signal: controller.signal, dispose: () => listener.dispose() };
}

/** Runs `work` with a signal that follows `token`, and unlinks them when it settles. */
export async function withAbortSignal<T>(token: vscode.CancellationToken, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { signal, dispose } = abortOn(token);
  try {
    return await work(signal);
  } finally {
    dispose();
  }
}
