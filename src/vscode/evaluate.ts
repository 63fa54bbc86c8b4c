import * as vscode from 'vscode';
import {
  buildReport,
  generateForTargets,
  maskPlainAnswers,
  renderHtml,
  REPORT_CSP,
  runEvaluation,
  type EvalReport,
  type EvalRun,
} from '../core/eval';
import { buildTargetIndex } from '../core/guard';
import { isLlmError } from '../core/llm/errors';
import { createOllamaPort } from '../core/llm/ollamaAdapter';
import type { LlmPort } from '../core/llm/port';
import { enabledTargets, readSettings } from './settings';

export const EVALUATE_COMMAND = 'unlearn.evaluateTargets';

/**
 * "Unlearn: Evaluate Current Targets": asks the configured model questions about the workspace's own
 * targets (and invented retain questions), plain and through the pipeline, and shows the report in a
 * webview that runs no script and loads nothing (the report's own CSP).
 */
export function registerEvaluate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand(EVALUATE_COMMAND, (options?: EvaluateOptions) => evaluateTargets(options)));
}

/** For scripted callers (tests): skip the modal confirmation. The command resolves to the report shown, if any. */
export interface EvaluateOptions {
  readonly confirmed?: boolean;
}

async function evaluateTargets(options: EvaluateOptions = {}): Promise<EvalReport | undefined> {
  const targets = enabledTargets();
  if (targets.length === 0) {
    const add = 'Add Target';
    if ((await vscode.window.showWarningMessage('Unlearn has no enabled forget targets to evaluate. Add one first.', add)) === add) {
      await vscode.commands.executeCommand('unlearn.targets.add');
    }
    return undefined;
  }
  const settings = readSettings();
  const dataset = generateForTargets(
    targets.map((t) => ({ id: t.id, name: t.name, aliases: [...t.aliases], ...(t.description ? { description: t.description } : {}) })),
    { seed: 1, retainEntities: 2, manyShotTurns: 8 },
  );
  const confirm = 'Run';
  const picked =
    options.confirmed === true
      ? confirm
      : await vscode.window.showInformationMessage(
          `Evaluate ${targets.length} forget ${targets.length === 1 ? 'target' : 'targets'} with ${dataset.questions.length} questions on ${settings.model}? Each question runs twice (plain model and Unlearn); on a local model this takes a while.`,
          { modal: true },
          confirm,
        );
  if (picked !== confirm) return undefined;

  let llm: LlmPort;
  try {
    llm = createOllamaPort({ host: settings.host });
  } catch (error) {
    // An invalid unlearn.ollamaHost: its message says what to fix.
    void vscode.window.showErrorMessage(`Unlearn: ${describe(error)}`);
    return undefined;
  }
  let run: EvalRun;
  try {
    run = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Unlearn: evaluating targets', cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        const subscription = token.onCancellationRequested(() => controller.abort());
        const step = 100 / dataset.questions.length;
        // The runner keeps answered questions whatever stops it (it reports errors in `stopped`).
        return runEvaluation({
          llm,
          model: settings.model,
          dataset,
          signal: controller.signal,
          pipeline: { candidates: settings.candidates, topK: settings.topK, contextLength: settings.contextLength },
          onProgress: (done, total) => progress.report({ increment: step, message: `${done} of ${total} questions` }),
        }).finally(() => subscription.dispose());
      },
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Unlearn: the evaluation failed: ${describe(error)}`);
    return undefined;
  }

  if (run.stopped?.reason === 'error') {
    const error = run.stopped.error;
    const message = isLlmError(error, 'unreachable')
      ? `Cannot reach Ollama at ${settings.host}. Start Ollama ("ollama serve") or change the "unlearn.ollamaHost" setting.`
      : isLlmError(error, 'model-missing')
        ? `The model "${settings.model}" is not installed at ${settings.host}. Run "ollama pull ${settings.model}" or change the "unlearn.model" setting.`
        : `The evaluation stopped: ${describe(error)}`;
    if (run.records.length === 0) {
      void vscode.window.showErrorMessage(message);
      return undefined;
    }
    void vscode.window.showWarningMessage(`${message} The report covers the ${run.records.length} questions answered before.`);
  }
  if (run.records.length === 0) return undefined; // cancelled before the first answer: nothing to show

  const full = buildReport({ model: settings.model, host: settings.host, dataset, run, judge: false });
  // The plain model's answers name the workspace's own targets. The extension never shows removed text
  // unless unlearn.preview.showOriginal is on, so the report shows them redacted by the guard (the
  // metrics were computed from the full answers first). The CLI's report, asked for explicitly, keeps them.
  const report = settings.showOriginal ? full : maskPlainAnswers(full, buildTargetIndex(targets));
  try {
    showReport(report);
  } catch (error) {
    void vscode.window.showErrorMessage(`Unlearn: the evaluation report could not be shown: ${describe(error)}`);
  }
  return report;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function showReport(report: EvalReport): void {
  const panel = vscode.window.createWebviewPanel('unlearn.evalReport', `Unlearn evaluation · ${report.model}`, vscode.ViewColumn.Active, {
    enableScripts: false,
    enableCommandUris: false,
    localResourceRoots: [],
  });
  const html = renderHtml(report);
  // The report carries its own policy; make sure the webview gets exactly that one.
  panel.webview.html = html.includes(REPORT_CSP)
    ? html
    : html.replace('<head>', `<head><meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
}
