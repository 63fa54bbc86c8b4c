import * as vscode from 'vscode';
import { GUARDED_VENDOR } from '../../core/guardedModels';
import type { UnlearnLog } from '../log';
import type { OllamaStatus } from './ollamaStatus';
import { readSettings } from '../settings/settings';
import { pullChoices, sameModel } from './setupStateLogic';
import { embeddingModelSetting, type SetupState } from './setupState';

// WALKTHROUGH_ID and SHOWN_KEY are @public for the unit test, which loads this module with the vscode stand-in.
/** The walkthrough's id in package.json (`contributes.walkthroughs`). @public */
export const WALKTHROUGH_ID = 'getStarted';
/** globalState flag: the walkthrough opened once already, on some earlier activation. @public */
export const SHOWN_KEY = 'unlearn.walkthrough.shown';
/** How long the first activation waits for Ollama's first answer before deciding whether to open the chat. */
const FIRST_CHECK_MS = 10_000;

/**
 * "Get started with Unlearn": the commands behind the walkthrough's buttons, "Unlearn: Open
 * Walkthrough", and the first activation that opens it (and, when Ollama is ready, the chat in Ask
 * mode with the guarded model picked).
 */
export function registerWalkthrough(context: vscode.ExtensionContext, server: OllamaStatus, setup: SetupState, log: UnlearnLog): void {
  const walkthroughId = `${context.extension.id}#${WALKTHROUGH_ID}`;
  const open = () => setup.reassertKeys(() => vscode.commands.executeCommand('workbench.action.openWalkthrough', walkthroughId, false));

  context.subscriptions.push(
    vscode.commands.registerCommand('unlearn.openWalkthrough', () => open()),
    vscode.commands.registerCommand('unlearn.walkthrough.checkOllama', () => checkOllama(server, setup)),
    vscode.commands.registerCommand('unlearn.startOllama', () => startOllama(server, setup)),
    vscode.commands.registerCommand('unlearn.walkthrough.pullModels', (names?: readonly string[]) => pullModels(setup, names)),
    vscode.commands.registerCommand('unlearn.walkthrough.addTarget', async (name?: string) => {
      await vscode.commands.executeCommand('unlearn.targets.focus');
      await vscode.commands.executeCommand('unlearn.targets.add', ...(typeof name === 'string' ? [name] : []));
    }),
    vscode.commands.registerCommand('unlearn.openChat', (query?: string) => openChat(log, typeof query === 'string' ? query : '@unlearn ')),
    vscode.commands.registerCommand('unlearn.walkthrough.previewLastAnswer', () => previewLastAnswer(setup)),
  );

  if (!context.globalState.get<boolean>(SHOWN_KEY)) void firstRun(context, setup, log, open);
}

async function firstRun(context: vscode.ExtensionContext, setup: SetupState, log: UnlearnLog, open: () => Thenable<unknown>) {
  // Set first: a window reloaded or a second window opened meanwhile must not open it again.
  await context.globalState.update(SHOWN_KEY, true);
  try {
    await open();
    log.info('first activation: opened the Get Started walkthrough');
  } catch (error) {
    log.warn(`first activation: could not open the walkthrough: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The chat is only worth opening when it can answer: wait for the first server check and model list.
  const ready = await new Promise<boolean>((resolve) => {
    const decide = () => {
      const f = setup.facts();
      if (f.ollama === 'down' || f.ollama === 'invalid' || (f.ollama === 'up' && f.chatModels !== undefined)) {
        finish(f.ollama === 'up' && !!f.chatModels?.length);
      }
    };
    const timer = setTimeout(() => finish(false), FIRST_CHECK_MS);
    const listener = setup.onDidChange(decide);
    const finish = (value: boolean) => {
      clearTimeout(timer);
      listener.dispose();
      resolve(value);
    };
    decide();
  });
  if (ready) await openChat(log, undefined);
}

/** Re-checks the server and says what it found, with the next thing to do. */
async function checkOllama(server: OllamaStatus, setup: SetupState): Promise<boolean> {
  await server.check();
  const f = setup.facts();
  if (f.ollama === 'up') {
    void vscode.window.showInformationMessage(`Unlearn: Ollama answers at ${f.host}.`);
    return true;
  }
  const fix = f.ollama === 'invalid' || !f.loopback ? 'Open Setting' : 'Start Ollama';
  // Not awaited: the command answers "not reachable" now; the buttons stay in the notification centre.
  void vscode.window
    .showWarningMessage(
      f.ollama === 'invalid'
        ? `Unlearn: unlearn.ollamaHost is not a valid URL (${f.host}).`
        : `Unlearn: Ollama is not answering at ${f.host}. ${f.loopback ? 'Start it with "ollama serve".' : 'Start it on that machine or change unlearn.ollamaHost.'}`,
      fix,
    )
    .then((choice) =>
      choice === 'Start Ollama'
        ? vscode.commands.executeCommand('unlearn.startOllama')
        : choice === 'Open Setting'
          ? vscode.commands.executeCommand('unlearn.openSetting', 'unlearn.ollamaHost')
          : undefined,
    );
  return false;
}

/**
 * `ollama serve` in a terminal of its own, where its output (and a "command not found") can be read.
 * Only for a host on this machine; then the server is re-checked until it answers or a minute passes.
 */
async function startOllama(server: OllamaStatus, setup: SetupState): Promise<void> {
  const f = setup.facts();
  if (!f.loopback) {
    const choice = await vscode.window.showWarningMessage(
      `Unlearn: Ollama is configured at ${f.host}, which is not this machine: start it there.`,
      'Open Setting',
    );
    if (choice) await vscode.commands.executeCommand('unlearn.openSetting', 'unlearn.ollamaHost');
    return;
  }
  const existing = vscode.window.terminals.find((t) => t.name === 'Ollama' && t.exitStatus === undefined);
  const terminal = existing ?? vscode.window.createTerminal({ name: 'Ollama', env: hostEnv(f.host) });
  terminal.show(true);
  if (!existing) terminal.sendText('ollama serve');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2_000));
    await server.check();
    if (setup.facts().ollama === 'up') return;
  }
  void vscode.window
    .showWarningMessage(
      `Unlearn: Ollama still does not answer at ${f.host}. Is it installed? See the "Ollama" terminal, or get it from ollama.com/download.`,
      'Open Walkthrough',
    )
    .then((choice) => (choice ? vscode.commands.executeCommand('unlearn.openWalkthrough') : undefined));
}

/** OLLAMA_HOST for `ollama serve`, so it listens where unlearn.ollamaHost points (a non-default port). */
function hostEnv(host: string): Record<string, string> {
  try {
    const url = new URL(host);
    return { OLLAMA_HOST: url.host };
  } catch {
    return {};
  }
}

type PullItem = vscode.QuickPickItem & { readonly name?: string };

/**
 * The Pull step: a pick of the models the settings name (the chat model, and the embedding model when
 * `unlearn.embeddingModel` exists), the missing ones ticked, plus "another model…". Each is pulled with
 * the Pull Model command and its progress notification. `names` skips the pick (tests, other commands).
 */
async function pullModels(setup: SetupState, names?: readonly string[]): Promise<readonly string[]> {
  const { model } = readSettings();
  let chosen = names?.filter((n) => typeof n === 'string' && n.trim());
  if (!chosen) {
    const embeddingModel = embeddingModelSetting();
    const choices = pullChoices({ model, ...(embeddingModel ? { embeddingModel } : {}) }, setup.installedModels());
    const items: PullItem[] = [
      ...choices.map((c) => ({
        label: c.name,
        name: c.name,
        description: c.role,
        ...(c.installed ? { detail: '$(check) already installed' } : {}),
        picked: !c.installed,
      })),
      { label: '$(edit) Another model…', description: 'type a name from ollama.com/library' },
    ];
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Unlearn: Pull Models',
      placeHolder: 'Models to download into Ollama (the settings name them; change them with Select Model or in settings)',
      canPickMany: true,
    });
    if (!picked?.length) return [];
    chosen = picked.flatMap((p) => (p.name ? [p.name] : []));
    if (picked.some((p) => !p.name)) {
      // The Pull Model command's own input box asks for the name.
      await vscode.commands.executeCommand('unlearn.pullModel');
    }
  }
  const pulled: string[] = [];
  for (const name of chosen) {
    if (await vscode.commands.executeCommand<boolean>('unlearn.pullModel', name)) pulled.push(name);
  }
  return pulled;
}

/**
 * The chat in Ask mode with `query` typed but not sent, and the guarded model of `unlearn.model`
 * picked when VS Code lists it (another guarded model when not). Ask mode: `@unlearn` is a participant,
 * and Agent mode lists only the guarded models whose Ollama model supports tools.
 */
async function openChat(log: UnlearnLog, query: string | undefined): Promise<void> {
  const base = { mode: 'ask', ...(query ? { query, isPartialQuery: true } : {}) };
  let guarded: vscode.LanguageModelChat[] = [];
  try {
    guarded = await vscode.lm.selectChatModels({ vendor: GUARDED_VENDOR });
  } catch (error) {
    log.warn(`open chat: could not list the guarded models: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { model } = readSettings();
  const pick = guarded.find((m) => sameModel(m.id, model)) ?? guarded[0];
  if (pick) {
    try {
      await vscode.commands.executeCommand('workbench.action.chat.open', {
        ...base,
        modelSelector: { vendor: GUARDED_VENDOR, id: pick.id },
      });
      return;
    } catch (error) {
      // An older VS Code without `modelSelector`, or the model went away meanwhile: open it without.
      log.warn(`open chat: could not pick ${pick.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  await vscode.commands.executeCommand('workbench.action.chat.open', base);
}

/** The preview of the last answer given in this window, or where to get one. */
async function previewLastAnswer(setup: SetupState): Promise<unknown> {
  const last = setup.lastAnswer();
  if (!last) {
    const ask = 'Ask @unlearn';
    void vscode.window
      .showInformationMessage(
        'Unlearn: no answer yet in this window. Ask @unlearn (or a guarded model) something about a forget target first.',
        ask,
      )
      .then((choice) => (choice === ask ? vscode.commands.executeCommand('unlearn.openChat') : undefined));
    return undefined;
  }
  const uri = await vscode.commands.executeCommand('unlearn.preview.answer', {
    answer: last.answer,
    redactions: last.redactions,
    ...(last.previewId ? { previewId: last.previewId } : {}),
  });
  if (!last.redactions.length)
    void vscode.window.showInformationMessage(
      'Unlearn: the last answer touched no forget target, so nothing in it is marked. Ask about one of your targets to see a redaction.',
    );
  return uri;
}
