import * as vscode from 'vscode';
import { DEFAULT_OLLAMA_HOST } from '../core/llm/hostPolicy';
import { DEFAULT_CONTEXT_LENGTH, MAX_CONTEXT_LENGTH } from '../core/pipeline/contextWindow';
import { DEFAULT_PIPELINE_OPTIONS } from '../core/pipeline/types';
import type { ForgetTarget } from '../core/targets';
import { applyTargetEdit, viewOf, type StoreView, type TargetEdit } from './targetsEdit';

export const SECTION = 'unlearn';
export const DEFAULT_MODEL = 'llama3.2';

export interface UnlearnSettings {
  readonly host: string;
  readonly model: string;
  readonly candidates: number;
  readonly topK: number;
  /** Ollama's context window for every pipeline call (`num_ctx`); 0 = Ollama's own default. */
  readonly contextLength: number;
  readonly showOriginal: boolean;
  readonly trace: boolean;
}

/**
 * The host and trace come from user settings only. `unlearn.ollamaHost` is machine-scoped and listed
 * in `restrictedConfigurations`, so VS Code already ignores a workspace value; reading `globalValue`
 * ourselves keeps that true even where a host (or an older VS Code) resolves scopes differently: a
 * cloned repository must never be able to send the user's questions and targets to its own server.
 */
export function readSettings(): UnlearnSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  const userOnly = <T>(key: string): T | undefined => {
    const i = c.inspect<T>(key);
    return i?.globalValue ?? i?.defaultValue;
  };
  const candidates = positive(c.get<number>('candidates'), DEFAULT_PIPELINE_OPTIONS.candidates);
  return {
    host: userOnly<string>('ollamaHost')?.trim() || DEFAULT_OLLAMA_HOST,
    model: c.get<string>('model')?.trim() || DEFAULT_MODEL,
    candidates,
    topK: Math.min(positive(c.get<number>('topK'), DEFAULT_PIPELINE_OPTIONS.topK), candidates),
    contextLength: contextLength(c.get<number>('contextLength')),
    showOriginal: c.get<boolean>('preview.showOriginal') === true,
    trace: userOnly<boolean>('trace') === true,
  };
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;
}

/** A whole number of tokens, 0 meaning Ollama's own default; anything else falls back to the default. */
function contextLength(value: number | undefined): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_CONTEXT_LENGTH ? value : DEFAULT_CONTEXT_LENGTH;
}

// --- where targets live ---------------------------------------------------------------------------

/** One settings file that can hold `unlearn.targets`: the workspace's, a folder's, or (no workspace) the user's. */
export interface TargetStore {
  readonly key: string;
  readonly label: string;
  readonly target: vscode.ConfigurationTarget;
  readonly folder?: vscode.WorkspaceFolder;
}

/**
 * Single folder → its workspace settings. Multi-root → the .code-workspace file and each folder.
 * No folder open → user settings, so the view still works in an empty window.
 */
export function targetStores(): TargetStore[] {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (!folders.length) return [{ key: 'user', label: 'User settings', target: vscode.ConfigurationTarget.Global }];
  if (!vscode.workspace.workspaceFile) return [{ key: 'workspace', label: folders[0]!.name, target: vscode.ConfigurationTarget.Workspace }];
  return [
    { key: 'workspace', label: 'Workspace', target: vscode.ConfigurationTarget.Workspace },
    ...folders.map((folder) => ({ key: `folder:${folder.uri.toString()}`, label: folder.name, target: vscode.ConfigurationTarget.WorkspaceFolder, folder })),
  ];
}

/** The raw value exactly as that file holds it (malformed entries included), not merged with other scopes. */
export function readRaw(store: TargetStore): unknown {
  const inspected = vscode.workspace.getConfiguration(SECTION, store.folder?.uri).inspect<unknown>('targets');
  if (store.target === vscode.ConfigurationTarget.Global) return inspected?.globalValue;
  if (store.target === vscode.ConfigurationTarget.WorkspaceFolder) return inspected?.workspaceFolderValue;
  return inspected?.workspaceValue;
}

export function viewStore(store: TargetStore): StoreView {
  return viewOf(readRaw(store));
}

/**
 * Applies one edit and writes the whole array back to the same file. VS Code edits settings.json in
 * place (comments and every other key stay); the array itself is the raw one with only the edited entry
 * changed, so malformed entries survive.
 * @throws Error with a message for the user when the edit is refused or the write fails.
 */
export async function editTargets(store: TargetStore, edit: TargetEdit): Promise<void> {
  const result = applyTargetEdit(readRaw(store), edit);
  if (!result.ok) throw new Error(result.message);
  await writeRaw(store, result.value);
}

export async function writeRaw(store: TargetStore, value: unknown[]): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION, store.folder?.uri).update('targets', value, store.target);
}

/** Enabled, valid targets of every store, first one wins on a shared id: what the pipeline guards. */
export function enabledTargets(): ForgetTarget[] {
  const byId = new Map<string, ForgetTarget>();
  for (const store of targetStores()) for (const t of viewStore(store).targets) if (t.enabled && !byId.has(t.id)) byId.set(t.id, t);
  return [...byId.values()];
}

/** A multi-root workspace asks which file gets the new target; otherwise the one store. */
export async function pickStore(title: string): Promise<TargetStore | undefined> {
  const stores = targetStores();
  if (stores.length === 1) return stores[0];
  const picked = await vscode.window.showQuickPick(
    stores.map((store) => ({ label: store.label, description: store.folder ? 'folder settings' : 'workspace file (all folders)', store })),
    { title, placeHolder: 'Where should the targets be stored?' },
  );
  return picked?.store;
}
