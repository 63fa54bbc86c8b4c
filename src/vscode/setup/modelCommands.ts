import * as vscode from 'vscode';
import { runsRemotely } from '../../core/guardedModels';
import { isAbort, type LlmPort } from '../../core/llm';
import { abortOn } from '../cancellation';
import { offerOpenSetting, showActionableError } from '../errors/errorPresenter';
import { describeChatError } from '../errors/errorPresenterLogic';
import type { UnlearnLog } from '../log';
import { readSettings, SECTION } from '../settings/settings';
import { pullProgressText } from './modelCommandsLogic';
import type { OllamaStatus } from './ollamaStatus';

/** What the model commands need from the others, passed in by `activate()`. */
export interface ModelCommandsWiring {
  /** The status feature: its port (so requests move the status bar) and its check (re-run after a pull). */
  readonly ollama: Pick<OllamaStatus, 'port' | 'check'>;
  /** Called after a pull changed the installed models (the guarded models re-list). */
  readonly onModelsChanged: (reason: string) => void;
}

/** Select Model (the status bar item's command) and Pull Model (also run by the walkthrough and setup advice). */
export function registerModelCommands(context: vscode.ExtensionContext, log: UnlearnLog, wiring: ModelCommandsWiring): void {
  const port = () => wiring.ollama.port();
  context.subscriptions.push(
    vscode.commands.registerCommand('unlearn.selectModel', () => selectModel(port, log)),
    vscode.commands.registerCommand('unlearn.pullModel', async (name?: string) => {
      const pulled = await pullModel(port, log, typeof name === 'string' ? name : undefined, wiring.onModelsChanged);
      void wiring.ollama.check();
      return pulled;
    }),
  );
}

async function selectModel(port: () => LlmPort, log: UnlearnLog): Promise<void> {
  const { model, host } = readSettings();
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { name?: string }>();
  pick.title = `Unlearn: Select Model (${host})`;
  pick.busy = true;
  pick.placeholder = 'Reading the installed models…';
  // One hide listener for the whole pick: hiding while the list loads aborts the request, and hiding
  // afterwards answers "nothing chosen". The pick (and with it every listener) is disposed on every path.
  const controller = new AbortController();
  let settle: ((item: (vscode.QuickPickItem & { name?: string }) | undefined) => void) | undefined;
  const chosenPromise = new Promise<(vscode.QuickPickItem & { name?: string }) | undefined>((resolve) => (settle = resolve));
  pick.onDidHide(() => {
    controller.abort();
    settle?.(undefined);
  });
  pick.onDidAccept(() => settle?.(pick.selectedItems[0]));
  let chosen: (vscode.QuickPickItem & { name?: string }) | undefined;
  try {
    pick.show();
    try {
      const models = await port().listModels(controller.signal);
      pick.items = [
        ...models.map((m) => ({
          label: m.name,
          name: m.name,
          description: [m.parameterSize, m.quantization, m.name === model || m.name === `${model}:latest` ? '(in use)' : '']
            .filter(Boolean)
            .join(' '),
          detail: runsRemotely(m, undefined)
            ? '$(warning) Ollama cloud model: runs on a remote service, not on this machine'
            : m.sizeBytes
              ? `${(m.sizeBytes / 1e9).toFixed(1)} GB`
              : undefined,
        })),
        { label: '$(cloud-download) Pull a model…', alwaysShow: true },
      ];
      pick.placeholder = models.length ? 'The model @unlearn uses when no guarded model is picked' : 'No models installed yet';
    } catch (error) {
      pick.hide();
      if (isAbort(error)) return;
      const d = describeChatError(error, host, model);
      log.warn(`Select Model: ${d.message}`);
      await showActionableError(d, 'warning');
      return;
    } finally {
      pick.busy = false;
    }
    chosen = await chosenPromise;
  } finally {
    pick.dispose();
  }
  if (!chosen) return;
  if (!chosen.name) {
    await vscode.commands.executeCommand('unlearn.pullModel');
    return;
  }
  if (runsRemotely({ name: chosen.name }, undefined)) {
    const use = 'Use It Anyway';
    const answer = await vscode.window.showWarningMessage(
      `${chosen.name} is an Ollama cloud model: Ollama forwards every request to a remote service, so @unlearn's questions, conversations and the forget targets that matter to each question would leave this machine.`,
      { modal: true },
      use,
    );
    if (answer !== use) return;
  }
  await vscode.workspace.getConfiguration(SECTION).update('model', chosen.name, vscode.ConfigurationTarget.Global);
  log.info(`model set to ${chosen.name}`);
}

async function pullModel(
  port: () => LlmPort,
  log: UnlearnLog,
  given: string | undefined,
  onModelsChanged: (reason: string) => void,
): Promise<boolean> {
  const { host } = readSettings();
  const name =
    given ??
    (
      await vscode.window.showInputBox({
        title: 'Unlearn: Pull Model',
        prompt: `Model to download into Ollama at ${host}`,
        placeHolder: 'llama3.2',
        validateInput: (v) => (/^[\w.:/-]+$/.test(v.trim()) ? undefined : 'A model name such as llama3.2 or qwen2.5:7b'),
      })
    )?.trim();
  if (!name) return false;
  log.info(`pulling ${name} into ${host}`);
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Pulling ${name}`, cancellable: true },
      async (progress, token) => {
        const { signal, dispose } = abortOn(token);
        let last = 0;
        try {
          await port().pull(
            name,
            (p) => {
              const { message, percent } = pullProgressText(p);
              // Ollama reports each layer from 0 % again; the bar follows the layer being downloaded.
              if (percent !== undefined && percent < last) last = 0;
              const increment = percent !== undefined && percent > last ? percent - last : undefined;
              if (increment !== undefined) last = percent!;
              progress.report({ message, ...(increment !== undefined ? { increment } : {}) });
            },
            signal,
          );
        } finally {
          dispose();
        }
      },
    );
  } catch (error) {
    if (isAbort(error)) {
      log.info(`pull of ${name} cancelled`);
      void vscode.window.showInformationMessage(`Pull of ${name} cancelled.`);
      return false;
    }
    const d = describeChatError(error, host, name);
    log.error(`pull of ${name} failed: ${d.message}`);
    void offerOpenSetting(
      `Unlearn: could not pull ${name}: ${error instanceof Error ? error.message : String(error)}`,
      `${SECTION}.ollamaHost`,
    );
    return false;
  }
  log.info(`pulled ${name}`);
  onModelsChanged('models changed');
  if (runsRemotely({ name }, undefined)) {
    // Not offered as @unlearn's model, and not listed as guarded: its answers come from a remote service.
    void vscode.window.showWarningMessage(
      `${name} is ready, but it is an Ollama cloud model: Ollama forwards its requests to a remote service, so Unlearn does not list it as a guarded model.`,
    );
    return true;
  }
  if (name === readSettings().embeddingModel) {
    // An embedding model cannot answer questions: it is not offered as the chat model.
    void vscode.window.showInformationMessage(`${name} is ready: relevance by meaning is on.`);
    return true;
  }
  const use = 'Use It';
  // Not awaited: the command is done when the model is; the offer stays in the notification centre.
  void vscode.window
    .showInformationMessage(`${name} is ready.`, use)
    .then((choice) =>
      choice === use ? vscode.workspace.getConfiguration(SECTION).update('model', name, vscode.ConfigurationTarget.Global) : undefined,
    );
  return true;
}
