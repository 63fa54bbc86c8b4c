import * as vscode from 'vscode';
import type { ForgetTarget } from '../../core/targets';
import { targetSettingsHealth, type TargetSettingsHealth } from '../chat/chatTexts';
import { applyTargetEdit, viewOf, type StoreView, type TargetEdit } from '../targets/targetsTreeLogic';
import { idClashes, mergeStoreTargets, resolveSettings, type UnlearnSettings } from './settingsLogic';

export type { UnlearnSettings };
export const SECTION = 'unlearn';

/**
 * The host, the model, showOriginal and trace come from user settings only (see `resolveSettings`).
 * They are machine-scoped and listed in `restrictedConfigurations`, so VS Code already ignores a
 * workspace value; reading `globalValue` ourselves keeps that true even where a host (or an older VS
 * Code) resolves scopes differently. The numbers are clamped to their schema ranges.
 */
export function readSettings(): UnlearnSettings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return resolveSettings({
    userOnly: (key) => {
      const i = c.inspect<unknown>(key);
      return i?.globalValue ?? i?.defaultValue;
    },
    effective: (key) => c.get<unknown>(key),
  });
}

/** The settings the guarded models and `@unlearn`'s model routing read. */
export interface GuardedSettings extends Pick<
  UnlearnSettings,
  'host' | 'model' | 'candidates' | 'topK' | 'contextLength' | 'embeddingModel' | 'auditPolicy'
> {
  readonly allowSelectedModel: boolean;
}

/**
 * The extension's settings plus `unlearn.allowSelectedModel`, read from user settings only (like the
 * host): a cloned repository must not be able to send its reader's questions to a cloud model.
 */
export function readGuardedSettings(): GuardedSettings {
  const { host, model, candidates, topK, contextLength, embeddingModel, auditPolicy } = readSettings();
  const allow = vscode.workspace.getConfiguration(SECTION).inspect<boolean>('allowSelectedModel');
  return {
    host,
    model,
    candidates,
    topK,
    contextLength,
    embeddingModel,
    auditPolicy,
    allowSelectedModel: (allow?.globalValue ?? allow?.defaultValue) === true,
  };
}

/** Invalid entries and non-list values of `unlearn.targets` in every settings file the targets come from. */
export function readTargetHealth(): TargetSettingsHealth {
  return targetSettingsHealth(targetStores().map(viewStore));
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
    ...folders.map((folder) => ({
      key: `folder:${folder.uri.toString()}`,
      label: folder.name,
      target: vscode.ConfigurationTarget.WorkspaceFolder,
      folder,
    })),
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

/**
 * Enabled, valid targets of every store: what the pipeline guards. Every valid entry of every file is
 * guarded; a target whose id an earlier file already uses keeps guarding under a new id (see
 * `mergeStoreTargets`), and the Forget Targets view flags the clash.
 */
export function enabledTargets(): ForgetTarget[] {
  return mergeStoreTargets(targetStores().map((store) => ({ key: store.key, targets: viewStore(store).targets }))).targets;
}

/** Targets that share an id with a target of an earlier settings file (multi-root), enabled or not. */
export function targetIdClashes(): ReturnType<typeof idClashes> {
  return idClashes(targetStores().map((store) => ({ key: store.key, targets: viewStore(store).targets })));
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
