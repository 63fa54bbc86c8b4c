import * as vscode from 'vscode';
import { checkOllamaHost, DEFAULT_OLLAMA_HOST, isLoopbackHost, createOllamaPort, watchReachability, type LlmPort } from '../../core/llm';
import { offerOpenSetting } from '../errors/errorPresenter';
import type { UnlearnLog } from '../log';
import { embeddingStatusLine, type EmbeddingStatus } from '../relevance/relevanceTexts';
import { readSettings, SECTION } from '../settings/settings';

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
  readonly host: string;
  /** The server's version when up; why not otherwise. */
  readonly detail?: string;
}

const CHECK_MS = 30_000;

/** What the status feature needs from the others, passed in by `activate()`. */
export interface OllamaStatusWiring {
  /** How many forget targets are active, for the status bar. */
  readonly activeTargets: () => number;
  /** The embedding model's state, for the tooltip (relevance by meaning). */
  readonly embedding?: { status(): EmbeddingStatus; readonly onDidChange: vscode.Event<EmbeddingStatus> };
}

export function registerOllamaStatus(context: vscode.ExtensionContext, log: UnlearnLog, wiring: OllamaStatusWiring): OllamaStatus {
  const { activeTargets } = wiring;
  const ports = new Map<string, { raw: LlmPort; watched: LlmPort }>();
  const portsOf = (host = readSettings().host) => {
    let p = ports.get(host);
    if (!p) {
      const raw = createOllamaPort({ host });
      // What the requests see moves the status bar at once: a chat that cannot reach the server turns it
      // to a warning, and the first answer after an outage turns it back (each through a real check,
      // which uses the raw port so that it does not set itself off).
      const watched = watchReachability(raw, (reachable) => {
        // Only the configured host's requests say anything about the server the status bar shows.
        if (host !== readSettings().host) return;
        if (reachable ? state.kind === 'down' : state.kind === 'up' || state.kind === 'unknown') void check();
      });
      p = { raw, watched };
      ports.set(host, p);
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
    const { model, host } = readSettings();
    const n = activeTargets();
    const icon = state.kind === 'up' ? '$(shield)' : state.kind === 'unknown' ? '$(loading~spin)' : '$(warning)';
    item.text = `${icon} ${model} · ${n} ${n === 1 ? 'target' : 'targets'}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown('**Unlearn**\n\n');
    tip.appendText(
      `Ollama at ${host}: ${state.kind === 'up' ? `running${state.detail ? ` (version ${state.detail})` : ''}` : state.kind === 'down' ? `not reachable — ${state.detail ?? ''}` : state.kind === 'invalid' ? (state.detail ?? 'invalid host') : 'checking…'}\n`,
    );
    tip.appendText(
      `Model: ${model}\nActive forget targets: ${n}\n${isLoopbackHost(host) ? '' : 'Warning: the host is not this machine.\n'}`,
    );
    if (wiring.embedding) tip.appendText(`${embeddingStatusLine(wiring.embedding.status())}\n`);
    if (advice) tip.appendMarkdown(`\n${advice.markdown}\n`);
    tip.appendMarkdown(
      '\n[Select Model](command:unlearn.selectModel) · [Pull Model](command:unlearn.pullModel) · [Show Log](command:unlearn.showLog)',
    );
    tip.isTrusted = { enabledCommands: ['unlearn.selectModel', 'unlearn.pullModel', 'unlearn.showLog', ...(advice?.commands ?? [])] };
    item.tooltip = tip;
    item.backgroundColor =
      state.kind === 'up' ? undefined : state.kind === 'unknown' ? undefined : new vscode.ThemeColor('statusBarItem.warningBackground');
    item.show();
  };

  let checking: AbortController | undefined;
  const check = async () => {
    checking?.abort();
    const controller = (checking = new AbortController());
    const { host } = readSettings();
    const valid = checkOllamaHost(host);
    if (!valid.ok) {
      state = { kind: 'invalid', detail: valid.message };
      render();
      checked.fire({ state: 'invalid', host, detail: valid.message });
      return;
    }
    try {
      const version = await portsOf().raw.version(AbortSignal.any([controller.signal, AbortSignal.timeout(5_000)]));
      if (controller.signal.aborted) return;
      if (state.kind !== 'up') log.info(`Ollama at ${host} is up (version ${version})`);
      state = { kind: 'up', detail: version };
    } catch (error) {
      if (controller.signal.aborted) return;
      const detail = error instanceof Error ? error.message : String(error);
      if (state.kind !== 'down') log.warn(`Ollama at ${host} is not reachable: ${detail}`);
      state = { kind: 'down', detail };
    }
    render();
    checked.fire({ state: state.kind as OllamaCheck['state'], host, ...(state.detail ? { detail: state.detail } : {}) });
  };

  const warnIfRemote = () => {
    const { host } = readSettings();
    const valid = checkOllamaHost(host);
    if (!valid.ok) {
      void offerOpenSetting(`Unlearn: ${valid.message}`, `${SECTION}.ollamaHost`);
      return;
    }
    if (isLoopbackHost(valid.host)) return;
    const local = 'Use 127.0.0.1';
    void offerOpenSetting(
      `Unlearn sends questions, conversations and the forget targets that matter to each question to ${valid.host.url}, which is not this machine.`,
      `${SECTION}.ollamaHost`,
      local,
    ).then(async (choice) => {
      if (choice === local)
        await vscode.workspace.getConfiguration(SECTION).update('ollamaHost', DEFAULT_OLLAMA_HOST, vscode.ConfigurationTarget.Global);
    });
  };

  const timer = setInterval(() => void check(), CHECK_MS);
  context.subscriptions.push(
    item,
    checked,
    ...(wiring.embedding ? [wiring.embedding.onDidChange(() => render())] : []),
    { dispose: () => (clearInterval(timer), checking?.abort()) },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.ollamaHost`)) {
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
