/**
 * The host setting cannot be taken over by a workspace, and the redaction preview works on real editors.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { startScriptedOllama, type ScriptedOllama } from '../../support/scriptedOllama';
import { candidateData, criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';
import { readSettings } from '../../../src/vscode/settings/settings';
import {
  api,
  chatContext,
  chatRequest,
  EXTENSION_ID,
  readSettingsText,
  RecordingStream,
  settingsUri,
  writeSettingsByHand,
} from './helpers';

suite('Untrusted-workspace restriction on unlearn.ollamaHost', function () {
  this.timeout(30_000);
  let ollama: ScriptedOllama;
  let original: string;
  const config = () => vscode.workspace.getConfiguration('unlearn');

  suiteSetup(async () => {
    ollama = await startScriptedOllama({ models: ['llama3.2'] });
    original = await readSettingsText();
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    // Relevance by meaning has its own suite (relevance.test.ts); here names and keywords only, no embedding model to pull.
    await config().update('embeddingModel', 'none', vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    await config().update('ollamaHost', undefined, vscode.ConfigurationTarget.Global);
    await config().update('embeddingModel', undefined, vscode.ConfigurationTarget.Global);
    if (original) await vscode.workspace.fs.writeFile(settingsUri(), new TextEncoder().encode(original));
    else await vscode.workspace.fs.delete(settingsUri()).then(undefined, () => undefined);
    await ollama?.close();
  });

  test('the contribution makes the host machine-scoped and restricted in untrusted workspaces', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { configuration: { properties: Record<string, { scope?: string; default?: unknown }> } };
      capabilities: { untrustedWorkspaces: { supported: unknown; restrictedConfigurations: string[] } };
    };
    const host = pkg.contributes.configuration.properties['unlearn.ollamaHost']!;
    assert.equal(host.scope, 'machine');
    assert.equal(host.default, 'http://127.0.0.1:11434');
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes('unlearn.ollamaHost'));
    for (const key of ['unlearn.model', 'unlearn.preview.showOriginal']) {
      assert.equal(pkg.contributes.configuration.properties[key]!.scope, 'machine', key);
      assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
    }
  });

  test('VS Code refuses to write the model or showOriginal into workspace settings', async () => {
    await assert.rejects(Promise.resolve(config().update('model', 'gpt-oss:120b-cloud', vscode.ConfigurationTarget.Workspace)));
    await assert.rejects(Promise.resolve(config().update('preview.showOriginal', true, vscode.ConfigurationTarget.Workspace)));
  });

  test('a model, showOriginal or out-of-range numbers written by hand into the workspace settings do not take effect', async () => {
    await writeSettingsByHand(
      '{\n  "unlearn.model": "evil.example/x/m",\n  "unlearn.preview.showOriginal": true,\n  "unlearn.candidates": 100000,\n  "unlearn.topK": "lots",\n  "unlearn.contextLength": 99999999\n}\n',
      () => config().get('candidates') === 100000,
    );
    const s = readSettings();
    assert.equal(s.model, 'llama3.2');
    assert.equal(s.showOriginal, false);
    assert.equal(s.candidates, 10);
    assert.equal(s.topK, 2);
    assert.equal(s.contextLength, 1_048_576);
    ollama.reset();
    const recording = new RecordingStream();
    await (await api()).chatHandler(chatRequest('', 'models'), chatContext(), recording.stream, new vscode.CancellationTokenSource().token);
    assert.match(recording.text, /llama3\.2:latest`[^\n]*\(in use\)/, "the user's model is the one in use");
    assert.doesNotMatch(recording.text, /evil/);
  });

  test('VS Code refuses to write the host into workspace settings', async () => {
    await assert.rejects(Promise.resolve(config().update('ollamaHost', 'http://evil.example:11434', vscode.ConfigurationTarget.Workspace)));
  });

  test("a host written by hand into the workspace settings is ignored: requests go to the user's host", async () => {
    await writeSettingsByHand(
      '{\n  "unlearn.ollamaHost": "http://evil.example:11434",\n  "unlearn.contextLength": 12345\n}\n',
      () => config().get('contextLength') === 12345,
    );
    assert.equal(config().get('ollamaHost'), ollama.host);
    ollama.reset();
    const recording = new RecordingStream();
    await (await api()).chatHandler(chatRequest('', 'models'), chatContext(), recording.stream, new vscode.CancellationTokenSource().token);
    assert.ok(
      ollama.requests.some((r) => r.path === '/api/tags'),
      'the user-configured server was asked',
    );
    assert.match(recording.text, /llama3\.2:latest/);
    assert.doesNotMatch(recording.text, /evil/);
  });
});

suite('Redaction preview', function () {
  this.timeout(30_000);
  const config = () => vscode.workspace.getConfiguration('unlearn');
  const scope = () =>
    vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

  suiteSetup(async () => {
    await api();
    await config().update('targets', [{ name: 'Project Falcon', aliases: ['Falcon'] }], scope());
  });
  suiteTeardown(async () => {
    await config().update('targets', undefined, scope());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('an answer opens as a read-only virtual document with its text', async () => {
    const answer = 'I cannot share details about [redacted: Project Falcon].';
    const redactions = [{ targetId: 't', targetName: 'Project Falcon', start: 29, end: 55, reason: 'names the target', by: 'guard' }];
    const uri = await vscode.commands.executeCommand<vscode.Uri>('unlearn.preview.answer', { answer, redactions });
    assert.equal(uri.scheme, 'unlearn-preview');
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.getText(), answer);
    assert.equal(doc.getText(new vscode.Range(doc.positionAt(29), doc.positionAt(55))), '[redacted: Project Falcon]');
  });

  test('a selection is previewed, then Apply replaces only the matches', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'Ask F-a-l-c-o-n about it.\nKeep this line.', language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, doc.lineAt(0).text.length);
    const count = await vscode.commands.executeCommand<number>('unlearn.preview.selection');
    assert.equal(count, 1);
    assert.equal(doc.getText(), 'Ask F-a-l-c-o-n about it.\nKeep this line.', 'nothing changes before Apply');
    assert.equal(await vscode.commands.executeCommand('unlearn.preview.apply'), true);
    assert.equal(doc.getText(), 'Ask [redacted: Project Falcon] about it.\nKeep this line.');
  });

  test('with agents: the pipeline rewrites the selection, and Apply puts the rewrite in its place', async () => {
    const ollama = await startScriptedOllama({
      models: ['llama3.2'],
      script: {
        vanilla: 'Our drones come from Project Falcon.',
        rewrite: NEUTRAL_DRAFT,
        edit: replaceDraft(['Our drones come from [redacted:T1].', 'Our drones come from a programme.', 'Our drones.']),
        critic: criticScores([1, 2, 3].map(() => ({ forget: 5, utility: 4 }))),
      },
    });
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    // Relevance by meaning has its own suite (relevance.test.ts); here names and keywords only, no embedding model to pull.
    await config().update('embeddingModel', 'none', vscode.ConfigurationTarget.Global);
    try {
      const doc = await vscode.workspace.openTextDocument({ content: 'Our drones come from Project Falcon.', language: 'plaintext' });
      const editor = await vscode.window.showTextDocument(doc);
      editor.selection = new vscode.Selection(0, 0, 0, doc.lineAt(0).text.length);
      assert.equal(await vscode.commands.executeCommand('unlearn.preview.selectionWithAgents'), 'erased');
      // The selection names the target, so no draft is written: the rewrite agent continues a prompt whose
      // question holds the selection.
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['rewrite', 'edit', 'critic'],
      );
      assert.equal(candidateData(ollama.chatsOf('rewrite')[0]!.messages).question.includes('Our drones come from Project Falcon.'), true);
      await vscode.window.showTextDocument(doc);
      assert.equal(await vscode.commands.executeCommand('unlearn.preview.apply'), true);
      assert.equal(doc.getText(), 'Our drones come from [redacted: Project Falcon].');
    } finally {
      await config().update('ollamaHost', undefined, vscode.ConfigurationTarget.Global);
      await config().update('embeddingModel', undefined, vscode.ConfigurationTarget.Global);
      await ollama.close();
    }
  });

  test('Discard leaves the text as it was', async () => {
    const doc = await vscode.workspace.openTextDocument({ content: 'Falcon again', language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(doc);
    editor.selection = new vscode.Selection(0, 0, 0, 12);
    assert.equal(await vscode.commands.executeCommand('unlearn.preview.selection'), 1);
    await vscode.commands.executeCommand('unlearn.preview.discard');
    assert.equal(await vscode.commands.executeCommand('unlearn.preview.apply'), false);
    assert.equal(doc.getText(), 'Falcon again');
  });
});
