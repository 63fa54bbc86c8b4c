/**
 * The Forget Targets view against the real settings service: every edit goes through settings.json and
 * back, other keys, comments and malformed entries survive, and hand edits show at once.
 */
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TargetNode } from '../../../src/vscode/targets/targetsTree';
import { api, readSettingsJson, readSettingsText, settingsUri, until, writeSettingsByHand } from './helpers';

const INITIAL = `{
  // kept: a comment the user wrote
  "editor.tabSize": 3,
  "unlearn.targets": [
    { "name": "Project Falcon", "aliases": ["Falcon"], "colour": "red" },
    42,
    { "name": "X" }
  ],
  "files.exclude": { "**/.cache": true }
}
`;

suite('Forget Targets view', function () {
  this.timeout(30_000);
  let original: string;

  const roots = async () => (await api()).targetsTree.getChildren();
  const targetNode = async (name: string) =>
    until(`the tree to show "${name}"`, async () =>
      (await roots()).find((n): n is Extract<TargetNode, { type: 'target' }> => n.type === 'target' && n.target.name === name),
    );
  const names = async () => (await roots()).flatMap((n) => (n.type === 'target' ? [n.target.name] : []));

  /** What every edit must leave alone. */
  async function assertUnrelatedKept(): Promise<unknown[]> {
    const text = await readSettingsText();
    assert.ok(text.includes('// kept: a comment the user wrote'), 'the comment survives');
    const json = await readSettingsJson();
    assert.equal(json['editor.tabSize'], 3);
    assert.deepEqual(json['files.exclude'], { '**/.cache': true });
    const targets = json['unlearn.targets'] as unknown[];
    assert.ok(targets.includes(42), 'the malformed entry 42 survives');
    assert.ok(
      targets.some((t) => JSON.stringify(t) === '{"name":"X"}'),
      'the malformed entry {"name":"X"} survives',
    );
    return targets;
  }

  suiteSetup(async () => {
    original = await readSettingsText();
    await api();
    await writeSettingsByHand(
      INITIAL,
      () => (vscode.workspace.getConfiguration('unlearn').inspect<unknown[]>('targets')?.workspaceValue?.length ?? 0) === 3,
    );
  });

  suiteTeardown(async () => {
    if (original) await vscode.workspace.fs.writeFile(settingsUri(), new TextEncoder().encode(original));
    else await vscode.workspace.fs.delete(settingsUri()).then(undefined, () => undefined);
  });

  test('shows targets with aliases as children and problem items for malformed entries', async () => {
    const falcon = await targetNode('Project Falcon');
    const children = (await api()).targetsTree.getChildren(falcon);
    assert.deepEqual(
      children.map((c) => c.type === 'alias' && c.alias),
      ['Falcon'],
    );
    const problems = (await roots()).filter((n) => n.type === 'problem');
    assert.deepEqual(
      problems.map((p) => p.type === 'problem' && p.problem.index).sort(),
      [0, 1, 2],
      'two errors and the unknown-key warning',
    );
    const item = (await api()).targetsTree.getTreeItem(problems.find((p) => p.type === 'problem' && p.problem.index === 2)!);
    assert.match(String(item.label), /Entry \[2\] "X"/);
    assert.match(String(item.description), /at least 2 characters/);
  });

  test('a surname outside the word list shows as a name part row under its target', async () => {
    await vscode.commands.executeCommand('unlearn.targets.add', 'Ada Lindqvist', 'workspace');
    const ada = await targetNode('Ada Lindqvist');
    const rows = (await api()).targetsTree.getChildren(ada).filter((c) => c.type === 'nameParts');
    assert.equal(rows.length, 1);
    assert.equal(String((await api()).targetsTree.getTreeItem(rows[0]!).label), 'name parts: Ada, Lindqvist');
    await vscode.commands.executeCommand('unlearn.targets.delete', ada, { confirmed: true });
    await until('the target to go', async () => !(await names()).includes('Ada Lindqvist'));
  });

  test('every edit round-trips through settings.json without losing anything else', async () => {
    await vscode.commands.executeCommand('unlearn.targets.add', 'Lisbon Client', 'workspace');
    await targetNode('Lisbon Client');
    assert.deepEqual((await assertUnrelatedKept()).at(-1), { name: 'Lisbon Client' });

    await vscode.commands.executeCommand('unlearn.targets.rename', await targetNode('Lisbon Client'), 'Porto Client');
    await targetNode('Porto Client');
    await vscode.commands.executeCommand('unlearn.targets.addAlias', await targetNode('Porto Client'), 'PC-7');
    await vscode.commands.executeCommand('unlearn.targets.editDescription', await targetNode('Porto Client'), 'our northern customer');
    await vscode.commands.executeCommand('unlearn.targets.disable', await targetNode('Porto Client'));
    await until('the target to show as disabled', async () => (await targetNode('Porto Client')).target.enabled === false);
    assert.deepEqual((await assertUnrelatedKept()).at(-1), {
      name: 'Porto Client',
      aliases: ['PC-7'],
      description: 'our northern customer',
      enabled: false,
    });

    await vscode.commands.executeCommand('unlearn.targets.enable', await targetNode('Porto Client'));
    await until('the target to show as enabled', async () => (await targetNode('Porto Client')).target.enabled);
    // Under a target: its description and sample questions first, then its aliases.
    const alias = (await api()).targetsTree.getChildren(await targetNode('Porto Client')).find((c) => c.type === 'alias')!;
    await vscode.commands.executeCommand('unlearn.targets.removeAlias', alias);
    await until('the alias to go', async () => (await targetNode('Porto Client')).target.aliases.length === 0);
    assert.deepEqual((await assertUnrelatedKept()).at(-1), { name: 'Porto Client', description: 'our northern customer', enabled: true });

    // The unknown key "colour" of an edited entry stays.
    await vscode.commands.executeCommand('unlearn.targets.addAlias', await targetNode('Project Falcon'), 'PF');
    await until('the alias PF', async () => (await targetNode('Project Falcon')).target.aliases.includes('PF'));
    assert.deepEqual((await assertUnrelatedKept())[0], { name: 'Project Falcon', aliases: ['Falcon', 'PF'], colour: 'red' });

    await vscode.commands.executeCommand('unlearn.targets.delete', await targetNode('Porto Client'), { confirmed: true });
    await until('the target to go', async () => !(await names()).includes('Porto Client'));
    assert.equal((await assertUnrelatedKept()).length, 3);
  });

  test('a hand edit of settings.json shows in the tree at once', async () => {
    const text = (await readSettingsText()).replace('42,', '42,\n    { "name": "Added By Hand" },');
    await writeSettingsByHand(
      text,
      () => (vscode.workspace.getConfiguration('unlearn').inspect<unknown[]>('targets')?.workspaceValue?.length ?? 0) === 4,
    );
    await targetNode('Added By Hand');
    // And an edit right after it lands on the right entry.
    await vscode.commands.executeCommand('unlearn.targets.disable', await targetNode('Added By Hand'));
    await until('the hand-added target to be disabled', async () => (await targetNode('Added By Hand')).target.enabled === false);
    const targets = await assertUnrelatedKept();
    assert.deepEqual(targets[2], { name: 'Added By Hand', enabled: false });
  });

  test('an edit that would knock out another target is refused and changes nothing', async () => {
    const before = await readSettingsText();
    await vscode.commands.executeCommand('unlearn.targets.rename', await targetNode('Added By Hand'), 'project falcon');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await readSettingsText(), before);
  });

  test('import adds new valid entries; export writes every entry, malformed ones included', async () => {
    const dir = vscode.Uri.file(await import('node:fs/promises').then((fs) => fs.mkdtemp(path.join(os.tmpdir(), 'unlearn-import-'))));
    const txt = vscode.Uri.joinPath(dir, 'people.txt');
    await vscode.workspace.fs.writeFile(txt, new TextEncoder().encode('# people\nJane Roe\nProject Falcon\n'));
    await vscode.commands.executeCommand('unlearn.targets.import', txt);
    await targetNode('Jane Roe');
    const targets = await assertUnrelatedKept();
    assert.equal(
      targets.filter((t) => JSON.stringify(t).toLowerCase().includes('"project falcon"')).length,
      1,
      'an existing name is not imported twice',
    );

    const out = vscode.Uri.joinPath(dir, 'export.json');
    await vscode.commands.executeCommand('unlearn.targets.export', out);
    const exported = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(out))) as unknown[];
    assert.deepEqual(exported, (await readSettingsJson())['unlearn.targets']);
  });
});
