/**
 * The Get Started walkthrough inside the real extension host: each step's completion key follows what
 * the user did (Ollama started, a model pulled, a target added, a first answer), driven through the
 * commands the step buttons run, against the scripted Ollama server.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { startScriptedOllama, type ScriptedOllama } from '../../support/scriptedOllama';
import { criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';
import { api, chatContext, chatRequest, RecordingStream, until } from './helpers';

const FALCON_SCRIPT = {
  vanilla: 'Project Falcon builds long-range drones in Lisbon.',
  rewrite: NEUTRAL_DRAFT,
  edit: replaceDraft(['I cannot share details about [redacted:T1].', 'That project is confidential.', 'I cannot help with that.']),
  critic: criticScores([1, 2, 3].map(() => ({ forget: 5, utility: 3 }))),
};
const targetScope = () =>
  vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

suite('Get Started walkthrough: step completion', function () {
  this.timeout(40_000);
  let ollama: ScriptedOllama;
  const config = () => vscode.workspace.getConfiguration('unlearn');
  const keys = async () => (await api()).setup.keys();

  suiteSetup(async () => {
    await api();
    // No model yet: a newcomer's Ollama.
    ollama = await startScriptedOllama({ models: [], pullStepDelayMs: 1 });
    await config().update('model', 'llama3.2', vscode.ConfigurationTarget.Global);
    await config().update('targets', [], targetScope());
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    await config().update('ollamaHost', undefined, vscode.ConfigurationTarget.Global);
    await config().update('model', undefined, vscode.ConfigurationTarget.Global);
    await config().update('targets', undefined, targetScope());
    await ollama?.close();
  });

  test('"Unlearn: Open Walkthrough" opens it without an error', async () => {
    await vscode.commands.executeCommand('unlearn.openWalkthrough');
  });

  test('connect: the reachable key follows the server, and Check Connection re-checks at once', async () => {
    await vscode.commands.executeCommand('unlearn.walkthrough.checkOllama');
    await until('unlearn.ollamaReachable', async () => (await keys())['unlearn.ollamaReachable']);
    assert.equal((await api()).setup.facts().ollama, 'up');

    await ollama.stop();
    await vscode.commands.executeCommand('unlearn.walkthrough.checkOllama');
    await until('unlearn.ollamaReachable to turn false', async () => !(await keys())['unlearn.ollamaReachable']);
    assert.equal((await api()).setup.facts().ollama, 'down');

    await ollama.start();
    await vscode.commands.executeCommand('unlearn.walkthrough.checkOllama');
    await until('unlearn.ollamaReachable again', async () => (await keys())['unlearn.ollamaReachable']);
  });

  test('a chat request that cannot reach the server turns the status down at once, and the next request that reaches it back up', async () => {
    const ask = async () => {
      const recording = new RecordingStream();
      await (
        await api()
      ).chatHandler(chatRequest('Who builds Project Falcon?'), chatContext(), recording.stream, new vscode.CancellationTokenSource().token);
      return recording.text;
    };
    const state = async () => (await api()).setup.facts().ollama;
    await vscode.commands.executeCommand('unlearn.walkthrough.checkOllama');
    await until('the status to be up', async () => ((await state()) === 'up' ? true : undefined));

    await ollama.stop();
    assert.match(await ask(), /Cannot reach Ollama/);
    // Well before the 30 s periodic check: the failed request itself set off a check.
    await until('the status to be down', async () => ((await state()) === 'down' ? true : undefined), 5_000);

    await ollama.start();
    // No chat model is installed yet: Ollama answers "model not found", which still shows it is back.
    const again = await ask();
    assert.doesNotMatch(again, /Cannot reach Ollama/);
    await until(`the status to be up again (${again.slice(0, 200)})`, async () => ((await state()) === 'up' ? true : undefined), 5_000);
  });

  test('pull: no chat model is a problem the setup reports; Pull Models installs one and the key turns true', async () => {
    await until('the empty model list', async () => (await api()).setup.facts().chatModels?.length === 0);
    assert.equal((await keys())['unlearn.chatModelInstalled'], false);

    const pulled = await vscode.commands.executeCommand<string[]>('unlearn.walkthrough.pullModels', ['llama3.2']);
    assert.deepEqual(pulled, ['llama3.2']);
    assert.deepEqual(ollama.installedModels(), ['llama3.2:latest']);
    await until('unlearn.chatModelInstalled', async () => (await keys())['unlearn.chatModelInstalled']);
    assert.deepEqual((await api()).setup.facts().chatModels, ['llama3.2:latest']);
  });

  test('pull: an embedding-only model does not count as a chat model', async () => {
    ollama.setModels(['nomic-embed-text']);
    await vscode.commands.executeCommand('unlearn.walkthrough.checkOllama');
    await until('the embedding model to be listed', async () => (await api()).setup.installedModels()?.includes('nomic-embed-text:latest'));
    assert.deepEqual((await api()).setup.facts().chatModels, []);
    assert.equal((await keys())['unlearn.chatModelInstalled'], false);
    ollama.setModels(['llama3.2', 'nomic-embed-text']);
    await vscode.commands.executeCommand('unlearn.walkthrough.checkOllama');
    await until('unlearn.chatModelInstalled again', async () => (await keys())['unlearn.chatModelInstalled']);
  });

  test('target: the key is false with no target and turns true when the step button adds one', async () => {
    await until('unlearn.hasTargets to be false', async () => !(await keys())['unlearn.hasTargets']);
    await vscode.commands.executeCommand('unlearn.walkthrough.addTarget', 'Project Falcon');
    await until('unlearn.hasTargets', async () => (await keys())['unlearn.hasTargets']);
    // A disabled target still counts as "added": the step is about knowing where targets live.
    await config().update('targets', [{ name: 'Project Falcon', enabled: false }], targetScope());
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await keys())['unlearn.hasTargets'], true);
    await config().update('targets', [{ name: 'Project Falcon' }], targetScope());
  });

  test('ask: the key turns true after the first @unlearn answer; preview: the step button opens that answer', async () => {
    // Earlier suites in this host may have asked already; then only "a new answer is the last one" is checked.
    const before = (await api()).setup.lastAnswer();
    if (!before) {
      assert.equal((await keys())['unlearn.answered'], false);
      assert.equal(
        await vscode.commands.executeCommand('unlearn.walkthrough.previewLastAnswer'),
        undefined,
        'no answer yet: nothing to preview',
      );
    }
    ollama.reset();
    ollama.setScript(FALCON_SCRIPT);
    const recording = new RecordingStream();
    await (
      await api()
    ).chatHandler(chatRequest('Who builds Project Falcon?'), chatContext(), recording.stream, new vscode.CancellationTokenSource().token);
    assert.match(recording.text, /redacted: Project Falcon/);
    await until('unlearn.answered', async () => (await keys())['unlearn.answered']);
    const last = (await api()).setup.lastAnswer();
    assert.notEqual(last, before);
    assert.equal(last?.answer, 'I cannot share details about [redacted: Project Falcon].');
    assert.deepEqual(
      last?.redactions.map((r) => r.targetName),
      ['Project Falcon'],
    );

    const uri = await vscode.commands.executeCommand<vscode.Uri>('unlearn.walkthrough.previewLastAnswer');
    assert.ok(uri, 'the preview opened');
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.getText(), 'I cannot share details about [redacted: Project Falcon].');
    await until('unlearn.previewOpened', async () => (await keys())['unlearn.previewOpened']);
  });

  test('ask: an answer from a guarded model through vscode.lm counts as well', async () => {
    ollama.reset();
    ollama.setScript({ ...FALCON_SCRIPT, vanilla: 'Lisbon is the capital of Portugal.' });
    const model = await until('the guarded model', async () =>
      (await vscode.lm.selectChatModels({ vendor: 'unlearn' })).find((m) => m.id === 'llama3.2:latest'),
    );
    const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('What is the capital of Portugal?')]);
    let text = '';
    for await (const part of response.text) text += part;
    assert.match(text, /Lisbon/);
    await until("the last answer to be the guarded model's", async () => (await api()).setup.lastAnswer()?.via === 'guarded-model');
  });

  test('Ask @unlearn opens the chat without an error, with guarded models listed', async () => {
    await vscode.commands.executeCommand('unlearn.openChat');
  });
});
