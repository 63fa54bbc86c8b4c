import * as vscode from 'vscode';
import {
  checkOllamaHost,
  connectLlm,
  DEFAULT_OLLAMA_HOST,
  isLoopbackHost,
  parseServerAddress,
  watchReachability,
  type LlmPort,
  type Provider,
} from '../../core/llm';
import { offerOpenSetting } from '../errors/errorPresenter';
import type { UnlearnLog } from '../log';
import { embeddingStatusLine, type EmbeddingStatus } from '../relevance/relevanceTexts';
import { readSettings, SECTION } from '../settings/settings';
import { registerApiKey } from '../settings/apiKey';
import { hostSettingOf } from '../settings/settingsLogic';
import { onDidMeasure, parallelismLine, serverUnreachable } from '../settings/serverParallelism';

/**
 * The Ollama server as the rest of the extension sees it: one port per host, the status bar item, the
 * non-loopback warning and the "open this setting" command that error buttons run. Select Model and Pull
 * Model (modelCommands.ts) work through its port.
 */
export interface OllamaStatus {
  /** The port for the configured host. @throws InvalidHostError when the setting is not a URL. */
  port(): LlmPort;
  /** The port for `host` (the guarded models ask by host); its requests move the status like `port()`'s. */
  portFor(host: string): LlmPort;
  /** Re-checks the server now (after a settings change, a pull…). */
  check(): Promise<void>;
  /** Fires after every check with what it found (first-run guidance follows the server through it). */
  readonly onDidCheck: vscode.Event<OllamaCheck>;
  /** A paragraph (markdown, command links allowed for `commands`) the status bar tooltip adds; undefined removes it. */
  setAdvice(markdown: string | undefined, commands?: readonly string[]): void;
}

export interface OllamaCheck {
  readonly state: 'up' | 'down' | 'invalid';
  readonly provider: Provider;
  readonly host: string;
  /** The server's version when up; why not otherwise. */
  readonly detail?: string;
}

const CHECK_MS = 30_000;

/** How the status bar names an OpenAI-compatible provider. */
const OPENAI_LABEL = 'OpenAI API';

/** What the status feature needs from the others, passed in by `activate()`. */
export interface OllamaStatusWiring {
  /** How many forget targets are active, for the status bar. */
  readonly activeTargets: () => number;
  /** The embedding model's state, for the tooltip (relevance by meaning). */
  readonly embedding?: { status(): EmbeddingStatus; readonly onDidChange: vscode.Event<EmbeddingStatus> };
}

export function registerOllamaStatus(context: vscode.ExtensionContext, log: UnlearnLog, wiring: OllamaStatusWiring): OllamaStatus {
  const { activeTargets } = wiring;
  const apiKey = registerApiKey(context, log, () => (readSettings().provider === 'openai' ? readSettings().host : ''));
  const ports = new Map<string, { raw: LlmPort; watched: LlmPort }>();
  const portsOf = (host = readSettings().host) => {
    // One port per provider and address: the same URL means another server under the other provider.
    const { provider, embeddingHost } = readSettings();
    const key = `${provider} ${host} ${embeddingHost ?? ''}`;
    let p = ports.get(key);
    if (!p) {
      // The key is read from secret storage on every request (a new one applies at once); Ollama takes none.
      const raw = connectLlm({ provider, host, ...(provider === 'openai' ? { apiKey: () => apiKey.get(), embeddingHost } : {}) });
      // What the requests see moves the status bar at once: a chat that cannot reach the server turns it
      // to a warning, and the first answer after an outage turns it back (each through a real check,
      // which uses the raw port so that it does not set itself off).
      const watched = watchReachability(raw, (reachable) => {
        // Only the configured host's requests say anything about the server the status bar shows.
        if (host !== readSettings().host) return;
        if (reachable ? state.kind === 'down' : state.kind === 'up' || state.kind === 'unknown') void check();
      });
      p = { raw, watched };
      ports.set(key, p);
    }
    return p;
  };
  /** The port every feature uses. */
  const port = () => portsOf().watched;

  const item = vscode.window.createStatusBarItem('unlearn.status', vscode.StatusBarAlignment.Right, 100);
  item.name = 'Unlearn';
  item.command = 'unlearn.selectModel';
  let state: { kind: 'unknown' | 'up' | 'down' | 'invalid'; detail?: string } = { kind: 'unknown' };
  let advice: { markdown: string; commands: readonly string[] } | undefined;
  const checked = new vscode.EventEmitter<OllamaCheck>();
  const render = () => {
    const settings = readSettings();
    const { model, host, provider } = settings;
    const n = activeTargets();
    const icon = state.kind === 'up' ? '$(shield)' : state.kind === 'unknown' ? '$(loading~spin)' : '$(warning)';
    // Ollama is the default and goes unnamed; another provider is named, so the bar says where questions go.
    item.text = `${icon} ${model}${provider === 'openai' ? ` · ${OPENAI_LABEL}` : ''} · ${n} ${n === 1 ? 'target' : 'targets'}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown('**Unlearn**\n\n');
    const running =
      provider === 'openai'
        ? `running${state.detail && state.detail !== 'OpenAI-compatible' ? ` (${state.detail})` : ''}`
        : `running${state.detail ? ` (version ${state.detail})` : ''}`;
    tip.appendText(
      `${provider === 'openai' ? 'OpenAI-compatible server' : 'Ollama'} at ${host || '(no base URL set)'}: ${state.kind === 'up' ? running : state.kind === 'down' ? `not reachable — ${state.detail ?? ''}` : state.kind === 'invalid' ? (state.detail ?? 'invalid host') : 'checking…'}\n`,
    );
    tip.appendText(
      `Model: ${model}\nActive forget targets: ${n}\n${isLoopbackHost(host) ? '' : 'Warning: the host is not this machine.\n'}`,
    );
    if (wiring.embedding) tip.appendText(`${embeddingStatusLine(wiring.embedding.status())}\n`);
    tip.appendText(`${parallelismLine(settings, host, model)}\n`);
    if (advice) tip.appendMarkdown(`\n${advice.markdown}\n`);
    // An OpenAI-compatible server loads its models itself: instead of Pull, the key.
    const second = provider === 'openai' ? '[Set API Key…](command:unlearn.setApiKey)' : '[Pull Model](command:unlearn.pullModel)';
    tip.appendMarkdown(`\n[Select Model](command:unlearn.selectModel) · ${second} · [Show Log](command:unlearn.showLog)`);
    tip.isTrusted = {
      enabledCommands: ['unlearn.selectModel', 'unlearn.pullModel', 'unlearn.setApiKey', 'unlearn.showLog', ...(advice?.commands ?? [])],
    };
    item.tooltip = tip;
    item.backgroundColor =
      state.kind === 'up' ? undefined : state.kind === 'unknown' ? undefined : new vscode.ThemeColor('statusBarItem.warningBackground');
    item.show();
  };

  let checking: AbortController | undefined;
  const check = async () => {
    checking?.abort();
    const controller = (checking = new AbortController());
    const { host, provider } = readSettings();
    const valid = checkOllamaHost(host, (h) => parseServerAddress(provider, h));
    if (!valid.ok) {
      state = { kind: 'invalid', detail: valid.message };
      render();
      checked.fire({ state: 'invalid', provider, host, detail: valid.message });
      return;
    }
    const server = provider === 'openai' ? 'The OpenAI-compatible server' : 'Ollama';
    try {
      const version = await portsOf().raw.version(AbortSignal.any([controller.signal, AbortSignal.timeout(5_000)]));
      if (controller.signal.aborted) return;
      if (state.kind !== 'up') log.info(`${server} at ${host} is up (${provider === 'openai' ? version : `version ${version}`})`);
      state = { kind: 'up', detail: version };
    } catch (error) {
      if (controller.signal.aborted) return;
      const detail = error instanceof Error ? error.message : String(error);
      if (state.kind !== 'down') log.warn(`${server} at ${host} is not reachable: ${detail}`);
      // A restart changes OLLAMA_NUM_PARALLEL: the next request measures the server again.
      serverUnreachable(host);
      state = { kind: 'down', detail };
    }
    render();
    checked.fire({ state: state.kind as OllamaCheck['state'], provider, host, ...(state.detail ? { detail: state.detail } : {}) });
  };

  const warnIfRemote = () => {
    const { host, provider, embeddingHost } = readSettings();
    // The embedding server reads every target's text and each question: it gets the same warning.
    if (embeddingHost) {
      const embedding = checkOllamaHost(embeddingHost, (h) => parseServerAddress(provider, h));
      if (!embedding.ok) void offerOpenSetting(`Unlearn: unlearn.embeddingBaseUrl: ${embedding.message}`, `${SECTION}.embeddingBaseUrl`);
      else if (!isLoopbackHost(embedding.host))
        void offerOpenSetting(
          `Unlearn sends the forget targets and each question to ${embedding.host.url} for embedding, which is not this machine.`,
          `${SECTION}.embeddingBaseUrl`,
        );
    }
    const setting = hostSettingOf(provider);
    const valid = checkOllamaHost(host, (h) => parseServerAddress(provider, h));
    if (!valid.ok) {
      void offerOpenSetting(`Unlearn: ${valid.message}`, setting);
      return;
    }
    if (isLoopbackHost(valid.host)) return;
    // Going back to the local Ollama is a choice the user makes for Ollama only; a team server has no local twin.
    const local = provider === 'ollama' ? ['Use 127.0.0.1'] : [];
    void offerOpenSetting(
      `Unlearn sends questions, conversations and the forget targets that matter to each question to ${valid.host.url}, which is not this machine.`,
      setting,
      ...local,
    ).then(async (choice) => {
      if (choice === undefined || choice !== local[0]) return;
      await vscode.workspace.getConfiguration(SECTION).update('ollamaHost', DEFAULT_OLLAMA_HOST, vscode.ConfigurationTarget.Global);
    });
  };

  const timer = setInterval(() => void check(), CHECK_MS);
  context.subscriptions.push(
    item,
    checked,
    ...(wiring.embedding ? [wiring.embedding.onDidChange(() => render())] : []),
    onDidMeasure(() => render()),
    { dispose: () => (clearInterval(timer), checking?.abort()) },
    apiKey.onDidChange(() => void check()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (
        e.affectsConfiguration(`${SECTION}.ollamaHost`) ||
        e.affectsConfiguration(`${SECTION}.baseUrl`) ||
        e.affectsConfiguration(`${SECTION}.embeddingBaseUrl`) ||
        e.affectsConfiguration(`${SECTION}.provider`)
      ) {
        warnIfRemote();
        void check();
      }
      if (e.affectsConfiguration(SECTION)) render();
    }),
    vscode.commands.registerCommand('unlearn.openSetting', (key?: string) =>
      vscode.commands.executeCommand('workbench.action.openSettings', typeof key === 'string' ? key : SECTION),
    ),
  );
  render();
  warnIfRemote();
  void check();
  const setAdvice = (markdown: string | undefined, commands: readonly string[] = []) => {
    advice = markdown ? { markdown, commands } : undefined;
    render();
  };
  return { port, portFor: (host) => portsOf(host).watched, check, onDidCheck: checked.event, setAdvice };
}
