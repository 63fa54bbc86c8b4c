/**
 * Shared by the extension-host suites: the running extension's API, the workspace settings file, and
 * polling (VS Code notices a hand edit of settings.json through a file watcher, not synchronously).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { UnlearnApi } from '../../../src/vscode/extension';

export const EXTENSION_ID = 'unlearn-dev.unlearn';

export async function api(): Promise<UnlearnApi> {
  const extension = vscode.extensions.getExtension<UnlearnApi>(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not loaded (is extensionDevelopmentPath the repository root?)`);
  return extension.activate();
}

export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first folder's .vscode/settings.json. These suites need a folder: they say so instead of skipping. */
export function settingsUri(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'these tests need a workspace folder: open one (runTest.ts and the code-server runner both do)');
  return vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json');
}

export async function readSettingsText(): Promise<string> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(settingsUri()));
  } catch {
    return '';
  }
}

/** settings.json is JSON with comments; ours only uses whole-line `//` comments. */
export async function readSettingsJson(): Promise<Record<string, unknown>> {
  const text = await readSettingsText();
  return text.trim() ? (JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as Record<string, unknown>) : {};
}

/** Writes settings.json by hand, as a person would, and waits until VS Code has read it. */
export async function writeSettingsByHand(text: string, settled: () => boolean): Promise<void> {
  await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(settingsUri(), '..'));
  await vscode.workspace.fs.writeFile(settingsUri(), new TextEncoder().encode(text));
  await until('VS Code to read the hand-edited settings.json', settled);
}

/** A ChatResponseStream that records what the handler wrote. */
export class RecordingStream {
  readonly progress: string[] = [];
  readonly markdown: string[] = [];
  readonly buttons: vscode.Command[] = [];
  readonly stream = {
    progress: (value: string) => void this.progress.push(value),
    markdown: (value: string | vscode.MarkdownString) => void this.markdown.push(typeof value === 'string' ? value : value.value),
    button: (command: vscode.Command) => void this.buttons.push(command),
    anchor: () => undefined,
    reference: () => undefined,
    filetree: () => undefined,
    push: () => undefined,
  } as unknown as vscode.ChatResponseStream;

  get text(): string {
    return this.markdown.join('');
  }
}

export function chatRequest(prompt: string, command?: string, model?: Partial<vscode.LanguageModelChat>): vscode.ChatRequest {
  return { prompt, command, references: [], toolReferences: [], toolInvocationToken: undefined, model } as unknown as vscode.ChatRequest;
}

export function chatContext(history: unknown[] = []): vscode.ChatContext {
  return { history } as unknown as vscode.ChatContext;
}
