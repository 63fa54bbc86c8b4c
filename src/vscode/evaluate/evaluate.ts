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
} from '../../core/eval';
import { buildTargetIndex } from '../../core/guard';
import { createOllamaPort, type LlmPort } from '../../core/llm';
import { withAbortSignal } from '../cancellation';
import { showActionableError } from '../errors/errorPresenter';
import { describeChatError } from '../errors/errorPresenterLogic';
import { enabledTargets, readSettings } from '../settings/settings';

const EVALUATE_COMMAND = 'unlearn.evaluateTargets';

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
        const step = 100 / dataset.questions.length;
        // The runner keeps answered questions whatever stops it (it reports errors in `stopped`).
        return withAbortSignal(token, (signal) =>
          runEvaluation({
            llm,
            model: settings.model,
            dataset,
            signal,
            pipeline: { candidates: settings.candidates, topK: settings.topK, contextLength: settings.contextLength },
            onProgress: (done, total) => progress.report({ increment: step, message: `${done} of ${total} questions` }),
          }),
        );
      },
    );
  } catch (error) {
    void vscode.window.showErrorMessage(`Unlearn: the evaluation failed: ${describe(error)}`);
    return undefined;
  }

  if (run.stopped?.reason === 'error') {
    const described = describeChatError(run.stopped.error, settings.host, settings.model);
    if (run.records.length === 0) {
      void showActionableError(described);
      return undefined;
    }
    const partial = {
      ...described,
      message: `${described.message} The report covers the ${run.records.length} questions answered before.`,
    };
    void showActionableError(partial, 'warning');
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
