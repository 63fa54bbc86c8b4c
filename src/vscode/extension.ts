import type * as vscode from 'vscode';
import { registerGuardedModels } from './guardedModels';

// activate() reads like a table of contents: one register…(context) per feature, each pushing its
// disposables onto context.subscriptions.
export function activate(context: vscode.ExtensionContext): void {
  // features are registered here
  registerGuardedModels(context);
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions
}
