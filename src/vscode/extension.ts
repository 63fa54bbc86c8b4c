import type * as vscode from 'vscode';

// activate() reads like a table of contents: one register…(context) per feature, each pushing its
// disposables onto context.subscriptions.
export function activate(_context: vscode.ExtensionContext): void {
  // features are registered here
}

export function deactivate(): void {
  // everything is disposed through context.subscriptions
}
