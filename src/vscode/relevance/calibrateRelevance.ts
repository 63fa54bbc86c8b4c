import * as vscode from 'vscode';
import { getCachedIndex } from '../../core/guard';
import type { LlmPort } from '../../core/llm';
import {
  calibrate,
  calibrationHtml,
  calibrationSummary,
  fittedThresholds,
  loadCalibrationSet,
  relevanceOf,
  saveCalibration,
  withUserTargets,
  type CalibrationResult,
} from '../../core/relevance';
import type { ForgetTarget } from '../../core/targets';
import { withAbortSignal } from '../cancellation';
import { showActionableError } from '../errors/errorPresenter';
import { describeChatError } from '../errors/errorPresenterLogic';
import type { UnlearnLog } from '../log';
import { readSettings, SECTION } from '../settings/settings';
import type { SemanticIndex } from './semanticIndex';

const CALIBRATE_COMMAND = 'unlearn.calibrateRelevance';

/** For scripted callers (tests): the command resolves to what it measured, and shows no report panel when asked. */
export interface CalibrateOptions {
  readonly showReport?: boolean;
}

/** What the command resolves to: the rates before and after, and the fit it stored. */
export interface CalibrateOutcome {
  readonly model: string;
  readonly questions: number;
  readonly before: { readonly recall: number; readonly falseRate: number };
  readonly after: { readonly recall: number; readonly falseRate: number };
  readonly summary: string;
  readonly reportPath: string;
}

/**
 * "Unlearn: Calibrate Relevance": embeds the shipped question set and the workspace's targets (their
 * sample questions join the positives) with the configured embedding model, fits its thresholds, stores
 * them beside the extension's embedding cache, rebuilds the index with them, and shows the report.
 */
export function registerCalibrateRelevance(
  context: vscode.ExtensionContext,
  log: UnlearnLog,
  wiring: { readonly semantic: SemanticIndex; readonly ollama: () => LlmPort; readonly targets: () => readonly ForgetTarget[] },
): void {
  const run = async (options: CalibrateOptions = {}): Promise<CalibrateOutcome | undefined> => {
    const settings = readSettings();
    const model = settings.embeddingModel;
    if (!model) {
      const open = 'Open Setting';
      if (
        (await vscode.window.showWarningMessage('Unlearn: set an embedding model first; calibration measures that model.', open)) === open
      )
        await vscode.commands.executeCommand('unlearn.openSetting', `${SECTION}.embeddingModel`);
      return undefined;
    }
    let set;
    try {
      set = await loadCalibrationSet(vscode.Uri.joinPath(context.extensionUri, 'datasets', 'relevance').fsPath);
    } catch (error) {
      void vscode.window.showErrorMessage(`Unlearn: the calibration question set is missing from the extension: ${describe(error)}`);
      return undefined;
    }
    const targets = wiring.targets();
    let result: CalibrationResult;
    try {
      const llm = wiring.ollama();
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Unlearn: calibrating relevance with ${model}`, cancellable: true },
        (progress, token) =>
          withAbortSignal(token, (signal) => {
            let shown = 0;
            return calibrate({
              llm,
              model,
              set: withUserTargets(set, targets),
              cache: wiring.semantic.cache,
              signal,
              onProgress: (p) => {
                const percent = p.total ? (100 * p.done) / p.total : 100;
                progress.report({ message: `embedding ${p.done} of ${p.total} texts`, increment: percent - shown });
                shown = percent;
              },
            });
          }),
      );
    } catch (error) {
      if (error instanceof Error && /calibration set/.test(error.message)) {
        void vscode.window.showErrorMessage(`Unlearn: ${error.message}`);
        return undefined;
      }
      if ((error as { code?: string }).code === 'aborted') return undefined;
      void showActionableError(describeChatError(error, settings.host, model));
      return undefined;
    }

    try {
      await saveCalibration(wiring.semantic.cache, result);
    } catch (error) {
      void vscode.window.showErrorMessage(`Unlearn: the fitted thresholds could not be stored: ${describe(error)}`);
      return undefined;
    }
    // The built index still holds the old thresholds: rebuild it (from the cache) with the new ones.
    relevanceOf(getCachedIndex(targets)).reload(model);
    await wiring.semantic.rebuild();

    const folder = vscode.Uri.joinPath(context.globalStorageUri, 'calibration');
    const html = calibrationHtml(result, { maskUserText: !settings.showOriginal });
    const reportUri = vscode.Uri.joinPath(folder, 'calibration.html');
    try {
      await vscode.workspace.fs.createDirectory(folder);
      await vscode.workspace.fs.writeFile(reportUri, Buffer.from(html));
      // The JSON holds numbers and the shipped set's questions only, never the workspace's targets' text.
      const { missed, falseHits, ...numbers } = result;
      void missed;
      void falseHits;
      await vscode.workspace.fs.writeFile(
        vscode.Uri.joinPath(folder, 'calibration.json'),
        Buffer.from(JSON.stringify({ fitted: fittedThresholds(result), ...numbers }, null, 2)),
      );
    } catch (error) {
      log.warn(`calibration: cannot write the report in ${folder.fsPath}: ${describe(error)}`);
    }
    const summary = calibrationSummary(fittedThresholds(result));
    log.info(
      `calibration: ${model} on ${result.questions} questions: recall ${result.before.together.recall.toFixed(3)} → ${result.after.together.recall.toFixed(3)}, false ${result.before.together.falseRate.toFixed(3)} → ${result.after.together.falseRate.toFixed(3)}`,
    );
    if (options.showReport !== false) showReport(model, html);
    const pct = (v: number) => `${Math.round(v * 1000) / 10}%`;
    void vscode.window.showInformationMessage(
      `Unlearn: ${model} ${summary} (before: recall ${pct(result.before.together.recall)}, false ${pct(result.before.together.falseRate)}).${result.goalReached ? '' : ' The recall goal was not reachable with this model; see the report.'}`,
    );
    return {
      model,
      questions: result.questions,
      before: result.before.together,
      after: result.after.together,
      summary,
      reportPath: reportUri.fsPath,
    };
  };
  context.subscriptions.push(vscode.commands.registerCommand(CALIBRATE_COMMAND, (options?: CalibrateOptions) => run(options)));
}

function showReport(model: string, html: string): void {
  const panel = vscode.window.createWebviewPanel('unlearn.calibrationReport', `Unlearn calibration · ${model}`, vscode.ViewColumn.Active, {
    enableScripts: false,
    enableCommandUris: false,
    localResourceRoots: [],
  });
  panel.webview.html = html;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
