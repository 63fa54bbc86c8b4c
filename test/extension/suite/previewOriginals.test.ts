/**
 * The model's own answer in the redaction preview: shown in a diff only while unlearn.preview.showOriginal
 * is on, and gone from every preview document (an open tab included) as soon as it is turned off.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { startScriptedOllama, type ScriptedOllama } from '../../support/scriptedOllama';
import { criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';
import { api, chatContext, chatRequest, RecordingStream, until } from './helpers';

const GUARDED = { vendor: 'unlearn', id: 'llama3.2:latest', name: 'llama3.2 · Unlearn' };
const VANILLA = 'Project Falcon builds long-range drones in Lisbon.';
const SCRIPT = {
  vanilla: VANILLA,
  rewrite: NEUTRAL_DRAFT,
  edit: replaceDraft(['I cannot share details about [redacted:T1].', 'That project is confidential.', 'I cannot help with that.']),
  critic: criticScores([1, 2, 3].map(() => ({ forget: 5, utility: 3 }))),
};
const targetScope = () =>
  vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

interface PreviewArgs {
  answer: string;
  redactions: unknown[];
  previewId?: string;
}

suite('Preview: the original answer', function () {
  this.timeout(30_000);
  let ollama: ScriptedOllama;
  const config = () => vscode.workspace.getConfiguration('unlearn');

  /** Asks @unlearn and returns what its Preview Redactions button would pass. */
  async function askForPreview(): Promise<PreviewArgs> {
    const recording = new RecordingStream();
    await (
      await api()
    ).chatHandler(
      // Names no target, so a draft (the model's own answer, kept for the diff) is written.
      chatRequest('What is the drone project building?', undefined, GUARDED as vscode.LanguageModelChat),
      chatContext(),
      recording.stream,
      new vscode.CancellationTokenSource().token,
    );
    const button = recording.buttons.find((b) => b.command === 'unlearn.preview.answer');
    assert.ok(button, 'a Preview Redactions button');
    return button.arguments![0] as PreviewArgs;
  }

  const openText = (uri: vscode.Uri) => vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.getText();

  suiteSetup(async () => {
    await api();
    ollama = await startScriptedOllama({ models: ['llama3.2'], script: SCRIPT });
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    // Relevance by meaning has its own suite (relevance.test.ts); here names and keywords only, no embedding model to pull.
    await config().update('embeddingModel', 'none', vscode.ConfigurationTarget.Global);
    await config().update('model', 'llama3.2', vscode.ConfigurationTarget.Global);
    await config().update('targets', [{ name: 'Project Falcon', aliases: ['Falcon'] }], targetScope());
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await config().update('preview.showOriginal', undefined, vscode.ConfigurationTarget.Global);
    await config().update('ollamaHost', undefined, vscode.ConfigurationTarget.Global);
    await config().update('embeddingModel', undefined, vscode.ConfigurationTarget.Global);
    await config().update('model', undefined, vscode.ConfigurationTarget.Global);
    await config().update('targets', undefined, targetScope());
    await ollama?.close();
  });

  test('turning showOriginal off empties an open "Original answer" tab, and reopening it does not bring the text back', async () => {
    await config().update('preview.showOriginal', true, vscode.ConfigurationTarget.Global);
    const args = await askForPreview();
    assert.ok(args.previewId, 'the original was kept');
    const uri = await vscode.commands.executeCommand<vscode.Uri>('unlearn.preview.answer', { ...args, compare: true });
    const left = uri.with({ path: uri.path.replace('/Redacted answer', '/Original answer') });
    assert.equal(await until('the diff to open the original', () => openText(left)), VANILLA);

    await config().update('preview.showOriginal', false, vscode.ConfigurationTarget.Global);
    await until('the open original to be emptied', () => openText(left)?.includes('no longer available'));
    assert.doesNotMatch((await vscode.workspace.openTextDocument(left)).getText(), /drones|Lisbon/);
    // The unlearned answer stays.
    assert.equal((await vscode.workspace.openTextDocument(uri)).getText(), args.answer);

    // Kept originals went too: turning the setting back on does not restore this one.
    await config().update('preview.showOriginal', true, vscode.ConfigurationTarget.Global);
    const again = await vscode.commands.executeCommand<vscode.Uri>('unlearn.preview.answer', { ...args, compare: true });
    const leftAgain = again.with({ path: again.path.replace('/Redacted answer', '/Original answer') });
    assert.doesNotMatch((await vscode.workspace.openTextDocument(leftAgain)).getText(), /drones|Lisbon/);
  });

  test('a diff asked for after showOriginal was turned off does not open', async () => {
    await config().update('preview.showOriginal', true, vscode.ConfigurationTarget.Global);
    const args = await askForPreview();
    await config().update('preview.showOriginal', false, vscode.ConfigurationTarget.Global);
    const uri = await vscode.commands.executeCommand<vscode.Uri>('unlearn.preview.answer', { ...args, compare: true });
    const left = uri.with({ path: uri.path.replace('/Redacted answer', '/Original answer') });
    assert.equal(openText(left), undefined);
    assert.doesNotMatch((await vscode.workspace.openTextDocument(left)).getText(), /drones|Lisbon/);
  });
});
