import * as vscode from 'vscode';
import type { UnlearnLog } from '../log';

/** Where the OpenAI-compatible server's key lives: VS Code's SecretStorage (the OS keychain), never settings.json. */
const API_KEY_SECRET = 'unlearn.openai.apiKey';

export interface ApiKeyStore {
  /** The stored key, or undefined; read on every request, so a new key applies at once. */
  get(): Promise<string | undefined>;
  /** Fires after the key was set or cleared (from this window or another). */
  readonly onDidChange: vscode.Event<void>;
}

/**
 * "Unlearn: Set API Key…" and "Unlearn: Clear API Key": the key for `unlearn.provider: openai`. A key in
 * settings would sit in plain text in a file people copy, sync and share; SecretStorage keeps it in the
 * keychain. The log records that a key was set or cleared, never the key.
 */
export function registerApiKey(context: vscode.ExtensionContext, log: UnlearnLog, baseUrl: () => string): ApiKeyStore {
  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    changed,
    context.secrets.onDidChange((e) => {
      if (e.key === API_KEY_SECRET) changed.fire();
    }),
    vscode.commands.registerCommand('unlearn.setApiKey', async (given?: unknown) => {
      const url = baseUrl();
      // A caller (a test, a setup script) may pass the key; otherwise it is typed, hidden.
      const key =
        typeof given === 'string'
          ? given
          : await vscode.window.showInputBox({
              title: 'Unlearn: Set API Key',
              prompt: `The API key of the OpenAI-compatible server${url ? ` at ${url}` : ''} (vLLM's --api-key). Kept in VS Code's secret storage, never in settings.`,
              password: true,
              ignoreFocusOut: true,
              validateInput: (v) =>
                !v.trim() ? 'Enter the key, or press Escape' : /\s/.test(v.trim()) ? 'A key has no spaces' : undefined,
            });
      if (key === undefined || !key.trim()) return false;
      await context.secrets.store(API_KEY_SECRET, key.trim());
      log.info('API key set (kept in secret storage)');
      void vscode.window.showInformationMessage('Unlearn: API key saved in secret storage.');
      return true;
    }),
    vscode.commands.registerCommand('unlearn.clearApiKey', async () => {
      await context.secrets.delete(API_KEY_SECRET);
      log.info('API key cleared');
      void vscode.window.showInformationMessage('Unlearn: API key removed.');
    }),
  );
  return { get: () => Promise.resolve(context.secrets.get(API_KEY_SECRET)), onDidChange: changed.event };
}
