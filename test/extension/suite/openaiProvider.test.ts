/**
 * `unlearn.provider: openai` inside the real extension host: the key set through "Unlearn: Set API
 * Key…" (SecretStorage), `@unlearn` answering through the scripted OpenAI-compatible server, /models
 * naming the provider, and a refused key worded for the fix.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../../support/scriptedOpenAI';
import { api, chatContext, chatRequest, RecordingStream } from './helpers';

const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const KEY = 'sk-extension-host-test';
const GUARDED = { vendor: 'unlearn', id: MODEL, name: `${MODEL} · Unlearn` };
const TARGETS = [{ name: 'Project Falcon', aliases: ['Falcon'] }];
const targetScope = () =>
  vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

suite('unlearn.provider: openai', function () {
  this.timeout(30_000);
  let server: ScriptedOpenAI;
  const config = () => vscode.workspace.getConfiguration('unlearn');

  async function ask(prompt: string, command?: string) {
    const recording = new RecordingStream();
    const handler = (await api()).chatHandler;
    const result = await handler(
      chatRequest(prompt, command, GUARDED as unknown as vscode.LanguageModelChat),
      chatContext(),
      recording.stream,
      new vscode.CancellationTokenSource().token,
    );
    return { recording, result: (result ?? {}) as vscode.ChatResult };
  }

  suiteSetup(async () => {
    server = await startScriptedOpenAI({ models: [MODEL], apiKey: KEY });
    await api();
    await config().update('provider', 'openai', vscode.ConfigurationTarget.Global);
    await config().update('baseUrl', server.host, vscode.ConfigurationTarget.Global);
    // A fixed number: `auto` would first probe the new server with eight tiny calls of its own.
    await config().update('parallelCalls', 4, vscode.ConfigurationTarget.Global);
    await config().update('model', MODEL, vscode.ConfigurationTarget.Global);
    await config().update('embeddingModel', 'none', vscode.ConfigurationTarget.Global);
    await config().update('targets', TARGETS, targetScope());
    assert.equal(await vscode.commands.executeCommand('unlearn.setApiKey', KEY), true);
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('unlearn.clearApiKey');
    for (const key of ['provider', 'baseUrl', 'parallelCalls', 'model', 'embeddingModel'])
      await config().update(key, undefined, vscode.ConfigurationTarget.Global);
    await config().update('targets', undefined, targetScope());
    await server?.close();
  });

  setup(() => {
    server.reset();
    server.authorizations.length = 0;
    server.setScript({
      rewrite: NEUTRAL_DRAFT,
      // Edit set 1 spells the name and is vetoed; the critic scores sets 2 and 3 and 2 is the answer.
      edit: replaceDraft([
        'Project Falcon is confidential; drones in general use GPS.',
        '[redacted:T1] is confidential; drones in general use GPS.',
        'I cannot help with that.',
      ]),
      critic: criticScores([5, 4].map((utility) => ({ forget: 5, utility }))),
    });
  });

  test('@unlearn answers through the OpenAI-compatible server with the stored key; the named target is masked', async () => {
    const { recording, result } = await ask('What is Project Falcon building?');
    const meta = result.metadata as { outcome?: string; answer?: string; errorCode?: string };
    assert.equal(meta.errorCode, undefined, recording.text);
    assert.equal(meta.answer, '[redacted: Project Falcon] is confidential; drones in general use GPS.');
    assert.deepEqual(
      server.chats.map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    // Besides the agents' calls, the status check and the guarded models list /v1/models in the background.
    assert.ok(
      server.requests.every((r) => r.path === '/v1/chat/completions' || r.path === '/v1/models'),
      server.requests.map((r) => r.path).join(', '),
    );
    assert.ok(server.authorizations.every((a) => a === `Bearer ${KEY}`));
  });

  test('/models says the OpenAI-compatible server serves the models, with its engine', async () => {
    const { recording } = await ask('', 'models');
    assert.match(recording.text, /Models served by the OpenAI-compatible server \(vllm\) at /);
    assert.match(recording.text, /Qwen\/Qwen2\.5-7B-Instruct` \*\*\(in use\)\*\*/);
  });

  test('without the key the answer is an error that offers Set API Key, and nothing of the model is shown', async () => {
    await vscode.commands.executeCommand('unlearn.clearApiKey');
    try {
      const { recording, result } = await ask('What is Project Falcon building?');
      assert.equal((result.metadata as { errorCode?: string }).errorCode, 'auth');
      assert.match(recording.text, /refused the API key/);
      assert.ok(recording.buttons.some((b) => b.command === 'unlearn.setApiKey'));
      assert.ok(!/confidential/.test(recording.text));
    } finally {
      await vscode.commands.executeCommand('unlearn.setApiKey', KEY);
    }
  });
});
