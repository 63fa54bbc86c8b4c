/**
 * Unlearn: Calibrate Relevance in the real extension host: the shipped question set and the workspace's
 * target embedded through the scripted Ollama with progress, the fit stored beside the extension's
 * embedding cache, the index rebuilt with it, and the status and /explain saying so.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { startScriptedOllama, type ScriptedOllama } from '../../support/scriptedOllama';
import { api, chatContext, chatRequest, RecordingStream, until } from './helpers';

// A target no other suite uses: its index (and the fit it was built with) stays this suite's own.
const MINE = {
  name: 'Harbourlight Initiative',
  description: 'An internal research programme building a tidal energy prototype for the port authority.',
  examples: ['When will the tidal prototype be tested at the harbour?'],
};
const GUARDED = { vendor: 'unlearn', id: 'llama3.2:latest', name: 'llama3.2 · Unlearn' };

const targetScope = () =>
  vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;

interface Outcome {
  model: string;
  questions: number;
  before: { recall: number; falseRate: number };
  after: { recall: number; falseRate: number };
  summary: string;
  reportPath: string;
}

suite('calibrate relevance', function () {
  this.timeout(120_000);
  let ollama: ScriptedOllama;
  let embeddingsDir: string | undefined;
  const config = () => vscode.workspace.getConfiguration('unlearn');

  suiteSetup(async () => {
    ollama = await startScriptedOllama({ models: ['llama3.2', { name: 'embeddinggemma', embeddingDims: 768 }] });
    await config().update('ollamaHost', ollama.host, vscode.ConfigurationTarget.Global);
    await config().update('model', 'llama3.2', vscode.ConfigurationTarget.Global);
    await config().update('embeddingModel', 'embeddinggemma', vscode.ConfigurationTarget.Global);
    await config().update('targets', [MINE], targetScope());
  });

  suiteTeardown(async () => {
    // The fit must not follow the later suites: they expect the shipped thresholds.
    if (embeddingsDir)
      for (const f of fs.readdirSync(embeddingsDir)) if (f.endsWith('.calibration.json')) fs.rmSync(path.join(embeddingsDir, f));
    for (const key of ['ollamaHost', 'model', 'embeddingModel']) await config().update(key, undefined, vscode.ConfigurationTarget.Global);
    await config().update('targets', undefined, targetScope());
    await ollama?.close();
  });

  test('the command measures, fits and stores; the rebuilt index, the status line and /explain use the fit', async () => {
    await until('the target embeddings', async () => ((await api()).semantic.status().kind === 'ready' ? true : undefined), 30_000);
    const status = (await api()).semantic.status();
    assert.ok(status.kind === 'ready' && !status.fitted, 'not calibrated before');

    const outcome = (await vscode.commands.executeCommand('unlearn.calibrateRelevance', { showReport: false })) as Outcome | undefined;
    assert.ok(outcome, 'the command resolved to its measurements');
    assert.equal(outcome.model, 'embeddinggemma');
    // The shipped 444 questions and the target's one sample question.
    assert.equal(outcome.questions, 445);
    assert.match(outcome.summary, /^calibrated on 445 questions, recall \d+(\.\d)?%, false \d+(\.\d)?%$/);
    assert.ok(outcome.after.recall - outcome.after.falseRate >= outcome.before.recall - outcome.before.falseRate);
    assert.ok(fs.existsSync(outcome.reportPath));
    const html = fs.readFileSync(outcome.reportPath, 'utf8');
    assert.match(html, /<svg /);
    // The user's own target is masked in the report (showOriginal is off).
    assert.ok(!html.includes(MINE.examples[0]!), 'no sample question of the workspace in the report');
    embeddingsDir = path.join(path.dirname(path.dirname(outcome.reportPath)), 'embeddings');
    assert.ok(fs.readdirSync(embeddingsDir).some((f) => f.endsWith('.calibration.json')));

    const fitted = await until('the index rebuilt with the fit', async () => {
      const s = (await api()).semantic.status();
      return s.kind === 'ready' && s.fitted ? s.fitted : undefined;
    });
    assert.equal(fitted.questions, 445);

    const recording = new RecordingStream();
    await (
      await api()
    ).chatHandler(
      chatRequest('How do I boil an egg?', 'explain', GUARDED as unknown as vscode.LanguageModelChat),
      chatContext(),
      recording.stream,
      new vscode.CancellationTokenSource().token,
    );
    assert.match(recording.text, /Thresholds calibrated on 445 questions, recall \d/);
  });
});
