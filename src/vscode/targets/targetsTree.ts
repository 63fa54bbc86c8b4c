import * as vscode from 'vscode';
import { commonWordTerms, namePartsOf, parseTargets, type ForgetTarget, type TargetProblem } from '../../core/targets';
import {
  exportTargets,
  importProblemsLog,
  namePartsLabel,
  parseImport,
  planImport,
  validateExample,
  validateTerm,
  type TargetEdit,
} from './targetsTreeLogic';
import {
  editTargets,
  pickStore,
  readRaw,
  SECTION,
  targetIdClashes,
  targetStores,
  viewStore,
  writeRaw,
  type TargetStore,
} from '../settings/settings';
import type { UnlearnLog } from '../log';

/** Tree nodes. Items carry their store so an edit goes back to the file it came from. */
export type TargetNode =
  | { readonly type: 'store'; readonly store: TargetStore }
  | { readonly type: 'target'; readonly store: TargetStore; readonly target: ForgetTarget }
  | { readonly type: 'alias'; readonly store: TargetStore; readonly target: ForgetTarget; readonly alias: string }
  | { readonly type: 'description'; readonly store: TargetStore; readonly target: ForgetTarget; readonly description: string }
  | { readonly type: 'example'; readonly store: TargetStore; readonly target: ForgetTarget; readonly example: string }
  | { readonly type: 'nameParts'; readonly store: TargetStore; readonly target: ForgetTarget; readonly parts: readonly string[] }
  | { readonly type: 'problem'; readonly store: TargetStore; readonly problem: TargetProblem; readonly label: string };

export class TargetsTreeProvider implements vscode.TreeDataProvider<TargetNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TargetNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  refresh(): void {
    this.changed.fire(undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }

  getChildren(node?: TargetNode): TargetNode[] {
    if (!node) {
      const stores = targetStores();
      return stores.length === 1 ? this.storeChildren(stores[0]!) : stores.map((store) => ({ type: 'store', store }));
    }
    if (node.type === 'store') return this.storeChildren(node.store);
    if (node.type === 'target') return targetChildren(node.store, node.target);
    return [];
  }

  private storeChildren(store: TargetStore): TargetNode[] {
    const view = viewStore(store);
    const targets: TargetNode[] = view.targets.map((target) => ({ type: 'target', store, target }));
    const problems: TargetNode[] = view.problems.map((problem) => ({
      type: 'problem',
      store,
      problem,
      label: problem.index < 0 ? 'unlearn.targets' : (view.problemLabels.get(problem.index) ?? `Entry [${problem.index}]`),
    }));
    return [...targets, ...problems, ...this.clashNodes(store)];
  }

  /** Multi-root: a target whose id an earlier settings file already uses. It is guarded (under another id); the view says so. */
  private clashNodes(store: TargetStore): TargetNode[] {
    const clashes = targetIdClashes().filter((c) => c.storeKey === store.key);
    if (!clashes.length) return [];
    const sourceIndex = parseTargets(readRaw(store)).sourceIndex;
    const labels = new Map(targetStores().map((s) => [s.key, s.label]));
    return clashes.map((c) => {
      const index = sourceIndex.get(c.id) ?? -1;
      const problem: TargetProblem = {
        index,
        path: `[${index}].id`,
        message: `id "${c.id}" is also used in ${labels.get(c.firstStoreKey) ?? 'another settings file'}; both targets are guarded, but give one of them another id`,
        severity: 'warning',
      };
      return { type: 'problem', store, problem, label: `Entry [${index}]` };
    });
  }

  getTreeItem(node: TargetNode): vscode.TreeItem {
    switch (node.type) {
      case 'store': {
        const item = new vscode.TreeItem(node.store.label, vscode.TreeItemCollapsibleState.Expanded);
        item.iconPath = new vscode.ThemeIcon(node.store.folder ? 'folder' : 'root-folder');
        item.contextValue = 'store';
        return item;
      }
      case 'target': {
        const t = node.target;
        const item = new vscode.TreeItem(
          t.name,
          targetChildren(node.store, t).length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
        );
        item.id = `${node.store.key}/${t.id}`;
        const examples = t.examples?.length ? `${t.examples.length} ${t.examples.length === 1 ? 'example' : 'examples'}` : '';
        const ordinary = commonWordTerms(t);
        const ordinaryNote = ordinary.length ? `⚠ ordinary word: ${ordinary.join(', ')}` : '';
        item.description = [t.enabled ? '' : 'disabled', ordinaryNote, t.description ?? '', examples].filter(Boolean).join(' · ');
        const tip = new vscode.MarkdownString().appendText(`${t.name}${t.enabled ? '' : ' (disabled)'}`);
        if (ordinary.length)
          tip.appendText(
            `\n\n⚠ ${ordinary.join(', ')}: ${ordinary.length === 1 ? 'an ordinary word' : 'ordinary words'}, so every use in any case is redacted. Add "caseSensitive": true (or a list of these terms) to this entry in unlearn.targets to match only the capitalised proper noun.`,
          );
        if (t.description) tip.appendText(`\n\n${t.description}`);
        if (t.aliases.length) tip.appendText(`\n\nAliases: ${t.aliases.join(', ')}`);
        if (t.examples?.length) tip.appendText(`\n\nSample questions:\n${t.examples.map((e) => `• ${e}`).join('\n')}`);
        item.tooltip = tip;
        item.iconPath = new vscode.ThemeIcon(t.enabled ? 'shield' : 'circle-slash');
        item.contextValue = t.enabled ? 'target.enabled' : 'target.disabled';
        return item;
      }
      case 'alias': {
        const item = new vscode.TreeItem(node.alias, vscode.TreeItemCollapsibleState.None);
        item.id = `${node.store.key}/${node.target.id}/alias/${node.alias}`;
        item.iconPath = new vscode.ThemeIcon('symbol-string');
        item.contextValue = 'alias';
        return item;
      }
      case 'description': {
        // The whole description on a line of its own: a topic target is mostly its description.
        const item = new vscode.TreeItem(node.description, vscode.TreeItemCollapsibleState.None);
        item.id = `${node.store.key}/${node.target.id}/description`;
        item.iconPath = new vscode.ThemeIcon('note');
        item.tooltip = new vscode.MarkdownString().appendText(`Description of ${node.target.name}\n\n${node.description}`);
        item.contextValue = 'description';
        item.command = { command: 'unlearn.targets.editDescription', title: 'Edit Description…', arguments: [node] };
        return item;
      }
      case 'example': {
        const item = new vscode.TreeItem(node.example, vscode.TreeItemCollapsibleState.None);
        item.id = `${node.store.key}/${node.target.id}/example/${node.example}`;
        item.iconPath = new vscode.ThemeIcon('comment-discussion');
        item.tooltip = new vscode.MarkdownString().appendText(
          `Sample question about ${node.target.name}\n\n${node.example}\n\nA question like this reaches the audit even when it never names the target.`,
        );
        item.contextValue = 'example';
        return item;
      }
      case 'nameParts': {
        // Derived, not edited here: the parts bind like the name, and `freeNameParts` frees them.
        const item = new vscode.TreeItem(namePartsLabel(node.parts), vscode.TreeItemCollapsibleState.None);
        item.id = `${node.store.key}/${node.target.id}/nameParts`;
        item.iconPath = new vscode.ThemeIcon('symbol-key');
        item.tooltip = new vscode.MarkdownString().appendText(
          `Distinctive parts of ${node.target.name}: ${node.parts.join(', ')}.\n\nWritten capitalised, each counts as the name: the leak guard redacts it and the request goes to erasure, whatever any agent says. To leave a part free, add "freeNameParts": ["${node.parts[0]}"] (or true for all) to this entry in unlearn.targets.`,
        );
        item.contextValue = 'nameParts';
        return item;
      }
      case 'problem': {
        const p = node.problem;
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = p.message;
        item.tooltip = `unlearn.targets${p.path}: ${p.message}\n\n${p.severity === 'error' ? 'This entry is ignored until it is fixed. Unlearn never rewrites or removes it.' : 'The target is used; this part of it is ignored.'}`;
        item.iconPath = new vscode.ThemeIcon(
          p.severity === 'error' ? 'error' : 'warning',
          new vscode.ThemeColor(p.severity === 'error' ? 'problemsErrorIcon.foreground' : 'problemsWarningIcon.foreground'),
        );
        item.contextValue = 'problem';
        item.command = { command: 'unlearn.targets.openSettings', title: 'Open settings.json', arguments: [node] };
        return item;
      }
    }
  }
}

/** Under a target: its description, its sample questions, its aliases, then its name parts (one row). */
function targetChildren(store: TargetStore, target: ForgetTarget): TargetNode[] {
  const parts = namePartsOf(target);
  return [
    ...(target.description ? [{ type: 'description', store, target, description: target.description } as const] : []),
    ...(target.examples ?? []).map((example) => ({ type: 'example', store, target, example }) as const),
    ...target.aliases.map((alias) => ({ type: 'alias', store, target, alias }) as const),
    ...(parts.length ? [{ type: 'nameParts', store, target, parts } as const] : []),
  ];
}

/** The Forget Targets view and its commands. */
export function registerTargetsTree(context: vscode.ExtensionContext, log: UnlearnLog): TargetsTreeProvider {
  const provider = new TargetsTreeProvider();
  const view = vscode.window.createTreeView('unlearn.targets', { treeDataProvider: provider, showCollapseAll: true });
  let reportedClashes = 0;
  const updateBadge = () => {
    const count = targetStores().reduce((n, s) => n + viewStore(s).targets.filter((t) => t.enabled).length, 0);
    view.description = count ? `${count} active` : undefined;
    // Counts only: an id is often a name.
    const clashes = targetIdClashes().length;
    if (clashes && clashes !== reportedClashes)
      log.warn(
        `targets: ${clashes} ${clashes === 1 ? 'entry uses an id' : 'entries use ids'} that another settings file already uses; every one is guarded (see the Forget Targets view)`,
      );
    reportedClashes = clashes;
  };
  updateBadge();

  /** Runs an edit; a refusal or failed write becomes a message, never a silent no-op. */
  const edit = async (store: TargetStore, change: TargetEdit) => {
    try {
      await editTargets(store, change);
      log.info(`targets: ${change.kind} in ${store.label}`);
    } catch (error) {
      void vscode.window.showErrorMessage(`Unlearn: ${error instanceof Error ? error.message : String(error)}`);
      provider.refresh();
    }
  };
  const targetOf = (node: TargetNode | undefined) => (node && node.type !== 'store' && node.type !== 'problem' ? node : undefined);
  // The target a command acts on and the text it needs: `given` (tests, other commands) or typed by the user.
  const targetAndText = async (
    node: TargetNode | undefined,
    given: string | undefined,
    box: (t: NonNullable<ReturnType<typeof targetOf>>) => vscode.InputBoxOptions,
  ) => {
    const t = targetOf(node);
    if (!t) return undefined;
    const text = given ?? (await vscode.window.showInputBox(box(t)));
    return text === undefined ? undefined : { t, text };
  };

  context.subscriptions.push(
    provider,
    view,
    // Hand edits in settings.json (or another window) show at once.
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.targets`)) {
        provider.refresh();
        updateBadge();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      provider.refresh();
      updateBadge();
    }),
    vscode.commands.registerCommand('unlearn.targets.add', async (name?: string, storeKey?: string) => {
      const store = targetStores().find((s) => s.key === storeKey) ?? (await pickStore('Add Forget Target'));
      if (!store) return;
      const value =
        typeof name === 'string'
          ? name
          : await vscode.window.showInputBox({
              title: 'Add Forget Target',
              prompt: 'A name @unlearn must never reveal (aliases can be added afterwards)',
              validateInput: validateTerm,
            });
      if (value) await edit(store, { kind: 'add', name: value });
    }),
    // The optional second argument skips the input box (tests, other commands); a person always gets it.
    vscode.commands.registerCommand('unlearn.targets.rename', async (node?: TargetNode, given?: string) => {
      const asked = await targetAndText(node, given, (t) => ({
        title: 'Rename Target',
        value: t.target.name,
        validateInput: validateTerm,
      }));
      if (asked?.text && asked.text !== asked.t.target.name)
        await edit(asked.t.store, { kind: 'rename', id: asked.t.target.id, name: asked.text });
    }),
    vscode.commands.registerCommand('unlearn.targets.addAlias', async (node?: TargetNode, given?: string) => {
      const asked = await targetAndText(node, given, (t) => ({
        title: `Add Alias to ${t.target.name}`,
        prompt: 'Another name, spelling or codename of this target',
        validateInput: validateTerm,
      }));
      if (asked?.text) await edit(asked.t.store, { kind: 'addAlias', id: asked.t.target.id, alias: asked.text });
    }),
    vscode.commands.registerCommand('unlearn.targets.removeAlias', async (node?: TargetNode) => {
      if (node?.type === 'alias') await edit(node.store, { kind: 'removeAlias', id: node.target.id, alias: node.alias });
    }),
    vscode.commands.registerCommand('unlearn.targets.editDescription', async (node?: TargetNode, given?: string) => {
      const asked = await targetAndText(node, given, (t) => ({
        title: `Description of ${t.target.name}`,
        prompt: 'What the target is about, in the words a question would use (places, people, works); empty removes it',
        value: t.target.description ?? '',
      }));
      if (asked) await edit(asked.t.store, { kind: 'setDescription', id: asked.t.target.id, description: asked.text });
    }),
    vscode.commands.registerCommand('unlearn.targets.addExample', async (node?: TargetNode, given?: string) => {
      const asked = await targetAndText(node, given, (t) => ({
        title: `Add Example to ${t.target.name}`,
        prompt: 'A question someone might ask about this target without naming it; it teaches relevance what the target is about',
        placeHolder: 'Who runs the observatory on the hill?',
        validateInput: validateExample,
      }));
      if (asked?.text) await edit(asked.t.store, { kind: 'addExample', id: asked.t.target.id, example: asked.text });
    }),
    vscode.commands.registerCommand('unlearn.targets.removeExample', async (node?: TargetNode) => {
      if (node?.type === 'example') await edit(node.store, { kind: 'removeExample', id: node.target.id, example: node.example });
    }),
    vscode.commands.registerCommand('unlearn.targets.enable', async (node?: TargetNode) => {
      const t = targetOf(node);
      if (t) await edit(t.store, { kind: 'setEnabled', id: t.target.id, enabled: true });
    }),
    vscode.commands.registerCommand('unlearn.targets.disable', async (node?: TargetNode) => {
      const t = targetOf(node);
      if (t) await edit(t.store, { kind: 'setEnabled', id: t.target.id, enabled: false });
    }),
    vscode.commands.registerCommand('unlearn.targets.delete', async (node?: TargetNode, options?: { confirmed?: boolean }) => {
      const t = targetOf(node);
      if (!t) return;
      const remove = 'Delete';
      // `confirmed` lets tests and other commands skip the modal; a person always sees it.
      const answer = options?.confirmed
        ? remove
        : await vscode.window.showWarningMessage(
            `Delete the forget target "${t.target.name}"?`,
            { modal: true, detail: '@unlearn will be free to talk about it again.' },
            remove,
          );
      if (answer === remove) await edit(t.store, { kind: 'delete', id: t.target.id });
    }),
    vscode.commands.registerCommand('unlearn.targets.import', async (file?: vscode.Uri) => {
      const store = await pickStore('Import Forget Targets');
      if (!store) return;
      const uri =
        file ??
        (
          await vscode.window.showOpenDialog({
            title: 'Import Forget Targets',
            canSelectMany: false,
            filters: { 'Targets (JSON or text)': ['json', 'txt', 'jsonc'], 'All files': ['*'] },
          })
        )?.[0];
      if (!uri) return;
      const name = uri.path.split('/').pop() ?? 'file';
      const parsed = parseImport(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)), name);
      if ('error' in parsed) {
        void vscode.window.showErrorMessage(`Unlearn: ${parsed.error}`);
        return;
      }
      const raw = readRaw(store);
      if (raw !== undefined && !Array.isArray(raw)) {
        void vscode.window.showErrorMessage(
          'Unlearn: unlearn.targets is not an array in settings.json; fix it by hand first, Unlearn will not overwrite it.',
        );
        return;
      }
      const plan = planImport(raw, parsed, name);
      if (plan.entries.length) await writeRaw(store, [...((raw as unknown[] | undefined) ?? []), ...plan.entries]);
      log.info(`targets: imported ${plan.entries.length}, ${plan.duplicates.length} already present, ${plan.problems.length} problems`);
      const summary = `Imported ${plan.entries.length} ${plan.entries.length === 1 ? 'target' : 'targets'}${plan.duplicates.length ? `, ${plan.duplicates.length} already present` : ''}.`;
      if (plan.problems.length) {
        const show = 'Show Problems';
        if (
          (await vscode.window.showWarningMessage(
            `${summary} ${plan.problems.length} invalid ${plan.problems.length === 1 ? 'entry was' : 'entries were'} not imported.`,
            show,
          )) === show
        ) {
          const lines = importProblemsLog(plan);
          log.warn(lines.warn);
          log.trace(() => lines.trace);
          log.show();
        }
      } else void vscode.window.showInformationMessage(summary);
    }),
    vscode.commands.registerCommand('unlearn.targets.export', async (file?: vscode.Uri) => {
      const store = await pickStore('Export Forget Targets');
      if (!store) return;
      const uri =
        file ?? (await vscode.window.showSaveDialog({ title: 'Export Forget Targets', filters: { JSON: ['json'] }, saveLabel: 'Export' }));
      if (!uri) return;
      await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(exportTargets(readRaw(store))));
      void vscode.window.showInformationMessage(
        `Exported the forget targets of ${store.label} to ${uri.path.split('/').pop()}. The file holds the targets' names: keep it private.`,
      );
    }),
    vscode.commands.registerCommand('unlearn.targets.openSettings', async (node?: TargetNode) => {
      const store = node?.store ?? targetStores()[0]!;
      if (store.target === vscode.ConfigurationTarget.Global) await vscode.commands.executeCommand('workbench.action.openSettingsJson');
      else if (store.folder) await vscode.commands.executeCommand('workbench.action.openFolderSettingsFile', store.folder.uri);
      else await vscode.commands.executeCommand('workbench.action.openWorkspaceSettingsFile');
    }),
  );
  return provider;
}
