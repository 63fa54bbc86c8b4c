import * as vscode from 'vscode';
import { canChat, GUARDED_VENDOR, runsRemotely } from '../../core/guardedModels';
import { isAbort, isLoopbackHost, type ModelDetails } from '../../core/llm';
import type { AnswerEvents, DeliveredAnswer } from '../chat/answerEvents';
import type { UnlearnLog } from '../log';
import { PREVIEW_SCHEME } from '../preview/preview';
import type { OllamaStatus } from './ollamaStatus';
import { readSettings, SECTION, targetStores, viewStore } from '../settings/settings';
import { isInstalled, SETUP_KEYS, type SetupFacts, type SetupKey } from './setupStateLogic';

/**
 * How far a newcomer has got, kept as the context keys of `SETUP_KEYS`, which the walkthrough's
 * `completionEvents` read. VS Code keeps a step done once its key was true, so the keys only need to be
 * right "now".
 */
export interface SetupState {
  /** What is known now; `chatModels` is undefined until Ollama was listed once. */
  facts(): SetupFacts;
  /** The values last given to `setContext`, for tests and for the walkthrough's own commands. */
  keys(): Readonly<Record<SetupKey, boolean>>;
  /** Every installed model name (chat, embedding, cloud), as Ollama lists them; undefined until listed. */
  installedModels(): readonly string[] | undefined;
  /** The last answer @unlearn or a guarded model gave in this window. */
  lastAnswer(): DeliveredAnswer | undefined;
  /** Fires when facts or keys change. */
  readonly onDidChange: vscode.Event<void>;
  /**
   * Runs `open` (opening the walkthrough) with every key false in VS Code, then gives the true ones back.
   * VS Code registers a walkthrough's completion events when its walkthrough service starts, often only
   * when the walkthrough first opens; a key already true then is recorded as seen but never completes
   * its step, and never will in that window. False at registration and true just after, it does.
   */
  reassertKeys(open: () => Thenable<unknown>): Promise<void>;
}

/** How long after opening the walkthrough the keys are given back: its registration runs just after it opens. */
const REASSERT_DELAY_MS = 500;

/** The embedding model setting another feature owns; read by name so this works before and after it exists. */
export function embeddingModelSetting(): string | undefined {
  const value = vscode.workspace.getConfiguration(SECTION).get<unknown>('embeddingModel');
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

export function registerSetupState(
  context: vscode.ExtensionContext,
  server: OllamaStatus,
  log: UnlearnLog,
  answers: AnswerEvents,
): SetupState {
  const changed = new vscode.EventEmitter<void>();
  const keys: Record<SetupKey, boolean> = Object.fromEntries(SETUP_KEYS.map((k) => [k, false])) as Record<SetupKey, boolean>;
  let ollama: SetupFacts['ollama'] = 'unknown';
  let chatModels: readonly string[] | undefined;
  let installed: readonly string[] | undefined;
  let otherVendorModels = 0;
  let last: DeliveredAnswer | undefined;
  /** /api/show answers by host and name: a model's capabilities do not change while it is installed. */
  const details = new Map<string, ModelDetails | Error>();
  let listing: AbortController | undefined;

  /** While the walkthrough opens (see reassertKeys), VS Code keeps every key false; the values are sent after. */
  let holding = 0;
  const setKey = (key: SetupKey, value: boolean) => {
    if (keys[key] === value) return false;
    keys[key] = value;
    if (!holding) void vscode.commands.executeCommand('setContext', key, value);
    return true;
  };
  // Every key starts out false in VS Code too; setting them all once makes `when` clauses see a value.
  for (const key of SETUP_KEYS) void vscode.commands.executeCommand('setContext', key, false);

  const updateModelKeys = () => {
    let any = setKey('unlearn.chatModelInstalled', !!chatModels?.length);
    const embedding = embeddingModelSetting();
    any = setKey('unlearn.embeddingModelInstalled', !!embedding && isInstalled(installed, embedding)) || any;
    return any;
  };

  const listModels = async (host: string) => {
    listing?.abort();
    const controller = (listing = new AbortController());
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(10_000)]);
    try {
      const port = server.port();
      const models = await port.listModels(signal);
      const found = await Promise.all(
        models.map(async (m) => {
          const key = `${host}\u0000${m.name}`;
          let d = details.get(key);
          if (!d) {
            d = await port.showModel(m.name, signal).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
            if (!(d instanceof Error)) details.set(key, d);
          }
          return { name: m.name, chat: !runsRemotely(m, d) && canChat(d instanceof Error ? undefined : d) };
        }),
      );
      if (controller.signal.aborted) return;
      installed = found.map((m) => m.name);
      chatModels = found.filter((m) => m.chat).map((m) => m.name);
    } catch (error) {
      if (controller.signal.aborted || isAbort(error)) return;
      // The version check answered but the list did not: say so, and treat the models as unknown.
      log.warn(`setup: could not list the models at ${host}: ${error instanceof Error ? error.message : String(error)}`);
      installed = undefined;
      chatModels = undefined;
    }
    updateModelKeys();
    changed.fire();
  };

  const countOtherVendors = async () => {
    try {
      const all = await vscode.lm.selectChatModels();
      const others = all.filter((m) => m.vendor !== GUARDED_VENDOR).length;
      if (others !== otherVendorModels) {
        otherVendorModels = others;
        changed.fire();
      }
    } catch (error) {
      log.warn(`setup: could not list the chat models of other extensions: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const updateTargets = () => {
    if (
      setKey(
        'unlearn.hasTargets',
        targetStores().some((s) => viewStore(s).targets.length > 0),
      )
    )
      changed.fire();
  };

  context.subscriptions.push(
    changed,
    { dispose: () => listing?.abort() },
    server.onDidCheck((check) => {
      const was = ollama;
      ollama = check.state;
      const keyChanged = setKey('unlearn.ollamaReachable', check.state === 'up');
      if (check.state === 'up') {
        void listModels(check.host);
      } else {
        listing?.abort();
        chatModels = installed = undefined;
        updateModelKeys();
      }
      if (keyChanged || was !== ollama) changed.fire();
    }),
    vscode.lm.onDidChangeChatModels(() => void countOtherVendors()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.targets`)) updateTargets();
      if (e.affectsConfiguration(`${SECTION}.ollamaHost`)) details.clear();
      if (e.affectsConfiguration(`${SECTION}.embeddingModel`) || e.affectsConfiguration(`${SECTION}.model`)) {
        updateModelKeys();
        changed.fire();
      }
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(updateTargets),
    // However the preview opens (the chat's button, the walkthrough's, /explain's), the step is done.
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (doc.uri.scheme === PREVIEW_SCHEME && setKey('unlearn.previewOpened', true)) changed.fire();
    }),
    answers.onDidAnswer((note) => {
      last = note;
      setKey('unlearn.answered', true);
      changed.fire();
    }),
  );
  updateTargets();
  void countOtherVendors();

  return {
    facts: () => {
      const { host, model } = readSettings();
      return {
        ollama,
        host,
        loopback: isLoopbackHost(host),
        model,
        ...(chatModels ? { chatModels } : {}),
        otherVendorModels,
      };
    },
    keys: () => ({ ...keys }),
    installedModels: () => installed,
    lastAnswer: () => last,
    onDidChange: changed.event,
    reassertKeys: async (open) => {
      holding++;
      try {
        await Promise.all(SETUP_KEYS.map((key) => vscode.commands.executeCommand('setContext', key, false)));
        await open();
        await new Promise((resolve) => setTimeout(resolve, REASSERT_DELAY_MS));
      } finally {
        holding--;
        // The values now, not those from before: one may have changed meanwhile.
        if (!holding) await Promise.all(SETUP_KEYS.map((key) => vscode.commands.executeCommand('setContext', key, keys[key])));
      }
    },
  };
}
