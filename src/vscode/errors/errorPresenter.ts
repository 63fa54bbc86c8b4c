import * as vscode from 'vscode';
import type { ActionableError } from './errorPresenterLogic';

/**
 * The one place the VS Code layer shows an error as a notification: the message says what to do (see
 * errorPresenterLogic.ts) and its fix buttons run the commands that do it. Chat answers render the same
 * `ActionableError` as markdown and chat buttons instead (chat/participant.ts).
 */
export async function showActionableError(error: ActionableError, severity: 'error' | 'warning' = 'error'): Promise<void> {
  // A notification renders no markdown: the message's backticks read better as quotes.
  const message = `Unlearn: ${error.message.replace(/`/g, '"')}`;
  const titles = error.buttons.map((b) => b.title);
  const choice =
    severity === 'error'
      ? await vscode.window.showErrorMessage(message, ...titles)
      : await vscode.window.showWarningMessage(message, ...titles);
  const fix = error.buttons.find((b) => b.title === choice);
  if (fix) await vscode.commands.executeCommand(fix.command, ...(fix.arguments ?? []));
}

/**
 * A warning offering "Open Setting" (the Settings editor at `setting`) and any `others`; resolves to
 * the other choice picked, if any, for the caller to act on.
 */
export async function offerOpenSetting(message: string, setting: string, ...others: string[]): Promise<string | undefined> {
  const open = 'Open Setting';
  const choice = await vscode.window.showWarningMessage(message, ...others, open);
  if (choice === open) {
    await vscode.commands.executeCommand('workbench.action.openSettings', setting);
    return undefined;
  }
  return choice;
}
