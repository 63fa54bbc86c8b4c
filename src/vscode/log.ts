import * as vscode from 'vscode';
import { readSettings } from './settings/settings';

/**
 * The "Unlearn" log. Stages, counts and timings always; anything that may carry forgotten content
 * (questions, answers, target names) only through `trace`, which writes nothing unless the user turned
 * on `unlearn.trace`. Keeping the two apart in the API makes a leak a visible choice at the call site.
 */
export interface UnlearnLog {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Written only when `unlearn.trace` is on. */
  trace(line: () => string): void;
  show(): void;
}

export function createLog(context: vscode.ExtensionContext): UnlearnLog {
  const channel = vscode.window.createOutputChannel('Unlearn', { log: true });
  context.subscriptions.push(
    channel,
    vscode.commands.registerCommand('unlearn.showLog', () => channel.show()),
  );
  return {
    info: (line) => channel.info(line),
    warn: (line) => channel.warn(line),
    error: (line) => channel.error(line),
    trace: (line) => {
      if (readSettings().trace) channel.info(`[trace] ${line()}`);
    },
    show: () => channel.show(),
  };
}
