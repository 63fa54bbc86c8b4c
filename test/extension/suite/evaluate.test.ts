/**
 * "Unlearn: Evaluate Current Targets" in the extension host: questions about the workspace's own targets
 * go to the configured (scripted) Ollama, plain and through the pipeline, and the report opens.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EvalReport } from '../../../src/core/eval';
import { startScriptedOllama, type RecordedChat, type ScriptedOllama, type ScriptedReply } from '../../support/scriptedOllama';
import { criticEach, replaceDraft, rewrites } from '../../support/erasedReplies';
import { api, until } from './helpers';

suite('Evaluate Current Targets', function () {
  this.timeout(120_000);
  let ollama: ScriptedOllama;
  const config = () => vscode.workspace.getConfiguration('unlearn');
  const scope = () =>
    vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

  // The plain model leaks the target in every answer; the agents erase it.
  const ERASED = ['I cannot share that.', 'That is not something I can discuss.', 'Let us talk about something else.'];
  const script = (chat: RecordedChat): ScriptedReply => {
    switch (chat.role) {
      case 'vanilla':
        return 'That is Project Falcon, run out of Lisbon.';
      case 'detect':
        return { touched: [] };
      case 'rewrite':
        return rewrites(ERASED)(chat);
      case 'edit':
        return replaceDraft(ERASED)(chat);
      case 'critic':
        return criticEach({ forget: 5, utility: 4 })(chat);
      default:
        throw new Error(`no script for the ${chat.role} agent`);
    }
  };

  suiteSetup(async () => {
    await api();
    ollama = await startScriptedOllama({ models: ['llama3.2'], script });
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    await config().update(
      'targets',
      [{ name: 'Project Falcon', aliases: ['Falcon'], description: 'A drone programme run out of Lisbon.' }],
      scope(),
    );
  });

  suiteTeardown(async () => {
    await config().update('targets', undefined, scope());
    await config().update('ollamaHost', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await ollama?.close();
  });

  test('every forget question leaks from the plain model and none through Unlearn; the report opens in a webview', async () => {
    const report = await vscode.commands.executeCommand<EvalReport | undefined>('unlearn.evaluateTargets', { confirmed: true });
    assert.ok(report, 'the command returned no report');
    assert.equal(report.complete, true);
    assert.equal(report.host, ollama.host);
    const all = report.metrics.find((m) => m.kind === 'all')!;
    assert.ok(all.plain.forget.n > 0, 'there were forget questions');
    assert.equal(all.plain.forget.leaked, all.plain.forget.n, 'the scripted plain model names the target in every answer');
    assert.equal(all.unlearn.forget.leaked, 0, 'nothing leaks through the pipeline');
    // Every question reached the server, plain and through the pipeline's agents.
    assert.ok(
      ollama.chatsOf('rewrite').length >= all.unlearn.forget.n,
      `the rewrite agent ran ${ollama.chatsOf('rewrite').length} times for ${all.unlearn.forget.n} forget questions; unlearn refused/errors: ${JSON.stringify(all.unlearn)}`,
    );
    // Nothing leaks because the agents erased, not because a broken agent call refused every answer.
    for (const q of report.questions.filter((x) => x.split === 'forget')) assert.equal(q.unlearn.outcome, 'erased', q.id);
    const tab = await until('the report tab', () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((t) => t.label.startsWith('Unlearn evaluation') && t.input instanceof vscode.TabInputWebview),
    );
    assert.equal(tab.label, 'Unlearn evaluation · llama3.2');
    // unlearn.preview.showOriginal is off: the report shows the plain model's answers with the target
    // redacted by the guard (the leak numbers above were computed from the full answers).
    assert.equal(report.plainAnswersMasked, true);
    for (const q of report.questions) {
      assert.equal(q.plain.answer, 'That is [redacted: Project Falcon], run out of Lisbon.', q.id);
    }
  });

  test('with unlearn.preview.showOriginal on, the report shows the plain answers whole', async () => {
    await config().update('preview.showOriginal', true, vscode.ConfigurationTarget.Global);
    try {
      const report = await vscode.commands.executeCommand<EvalReport | undefined>('unlearn.evaluateTargets', { confirmed: true });
      assert.ok(report, 'the command returned no report');
      assert.equal(report.plainAnswersMasked, undefined);
      assert.ok(
        report.questions.length > 0 && report.questions.every((q) => q.plain.answer === 'That is Project Falcon, run out of Lisbon.'),
      );
    } finally {
      await config().update('preview.showOriginal', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });

  test('an invalid host: a clear error message, no report, and the command does not fail', async () => {
    await config().update('ollamaHost', 'ftp://127.0.0.1:11434', vscode.ConfigurationTarget.Global);
    const shown: string[] = [];
    const window = vscode.window as { showErrorMessage: (message: string, ...rest: unknown[]) => Thenable<unknown> };
    const original = window.showErrorMessage;
    window.showErrorMessage = (message: string) => {
      shown.push(message);
      return Promise.resolve(undefined);
    };
    try {
      const report = await vscode.commands.executeCommand<EvalReport | undefined>('unlearn.evaluateTargets', { confirmed: true });
      assert.equal(report, undefined);
      assert.equal(shown.length, 1, `messages: ${JSON.stringify(shown)}`);
      assert.match(shown[0]!, /^Unlearn: .*ftp:\/\/127\.0\.0\.1:11434/);
    } finally {
      window.showErrorMessage = original;
      await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    }
  });

  test('Ollama down: the command reports the host and opens no report', async () => {
    await config().update('ollamaHost', 'http://127.0.0.1:9', vscode.ConfigurationTarget.Global);
    try {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const report = await vscode.commands.executeCommand<EvalReport | undefined>('unlearn.evaluateTargets', { confirmed: true });
      assert.equal(report, undefined);
      assert.equal(
        vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.label.startsWith('Unlearn evaluation')),
        false,
      );
    } finally {
      await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    }
  });
});
