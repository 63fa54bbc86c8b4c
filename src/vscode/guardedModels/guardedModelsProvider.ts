import * as vscode from 'vscode';
import {
  ConversationError,
  describeGuardedModels,
  estimateMessageTokens,
  GUARDED_VENDOR,
  leftOutModels,
  modelsFingerprint,
  runsRemotely,
  supportsTools,
  toPipelineConversation,
  type PlainMessage,
} from '../../core/guardedModels';
import { estimateTokens, isAbort, createOllamaPort, type LlmPort, type ModelDetails } from '../../core/llm';
import { allWithLimit } from '../../core/pipeline';
import type { ForgetTarget } from '../../core/targets';
import { withAbortSignal } from '../cancellation';
import type { TargetSettingsHealth } from '../chat/chatTexts';
import { offerOpenSetting } from '../errors/errorPresenter';
import { describeChatError, describeListingError } from '../errors/errorPresenterLogic';
import { runAgentStep } from './agentStep';
import { answerGuarded, type AnswerNote, type SemanticWiring } from '../chat/guardedAnswer';
import { toChatInformation, toPlainMessage } from './lmMessages';
import type { DeliveredAnswer } from '../chat/answerEvents';
import type { UnlearnLog } from '../log';
import { escapeMarkdown } from '../chat/markdownSanitizer';
import { createParticipantRoute, type ParticipantRoute } from './participantRouting';
import { enabledTargets, readGuardedSettings, readTargetHealth, SECTION, type GuardedSettings } from '../settings/settings';
import { hostSettingOf } from '../settings/settingsLogic';

/**
 * Guarded models: every model installed in the configured Ollama appears in VS Code's model picker as
 * "<name> · Unlearn". Whatever asks one of them — the chat view in any mode that lists it, `@unlearn`,
 * another extension through `vscode.lm` — gets the ALU pipeline's guarded answer, never the plain model's.
 */

/** How often to look for models pulled or deleted outside VS Code, while the window has focus. */
const POLL_MS = 60_000;
/** /api/show calls in flight at once when listing; a server with 40 models should not get 40 at a time. */
const SHOW_CONCURRENCY = 4;

/** The log the provider writes: stages and counts; anything with target text only through `trace`. */
export type GuardedModelsLog = Pick<UnlearnLog, 'info' | 'warn' | 'trace'>;

/** What the provider reads from the outside world; the extension-host tests replace none of it. */
export interface GuardedModelsDeps {
  readonly connect: (host: string) => LlmPort;
  readonly settings: () => GuardedSettings;
  readonly targets: () => readonly ForgetTarget[];
  /** What of `unlearn.targets` is skipped as invalid; an answer says so first. */
  readonly targetHealth: () => TargetSettingsHealth;
  readonly log: GuardedModelsLog;
  /** Told of every finished answer (first-run guidance follows it). */
  readonly onAnswer?: (note: DeliveredAnswer) => void;
  /** Relevance by meaning (the extension's embedding cache), once it is registered. */
  readonly semantic?: () => SemanticWiring | undefined;
}

/** What `activate()` wires to other features: @unlearn's model routing, and a re-list after a pull. */
export interface GuardedModels {
  /** For `@unlearn`: which LLM answers the picked model, sharing the provider's ports. */
  readonly route: ParticipantRoute;
  /** Re-lists the models now rather than at the next poll (the Pull Model command calls it). */
  refresh(reason: string): void;
}

/** `log` is the extension's "Unlearn" log; without it the models get a channel of their own. */
export function registerGuardedModels(
  context: vscode.ExtensionContext,
  log?: Pick<UnlearnLog, 'info' | 'warn' | 'trace'>,
  wiring: Partial<Pick<GuardedModelsDeps, 'onAnswer' | 'semantic' | 'connect'>> = {},
): GuardedModels {
  if (!log) {
    const channel = vscode.window.createOutputChannel('Unlearn: Guarded Models', { log: true });
    context.subscriptions.push(channel);
    log = { info: (line) => channel.info(line), warn: (line) => channel.warn(line), trace: () => undefined };
  }
  const out = log;
  const prefixed: GuardedModelsLog = {
    info: (line) => out.info(`guarded models: ${line}`),
    warn: (line) => out.warn(`guarded models: ${line}`),
    trace: (line) => out.trace(line),
  };
  const { connect = (host: string) => createOllamaPort({ host }), ...rest } = wiring;
  const provider = new GuardedModelProvider({
    connect,
    settings: readGuardedSettings,
    targets: enabledTargets,
    targetHealth: readTargetHealth,
    log: prefixed,
    ...rest,
  });
  context.subscriptions.push(
    provider,
    vscode.lm.registerLanguageModelChatProvider(GUARDED_VENDOR, provider),
    vscode.workspace.onDidChangeConfiguration((e) => {
      for (const key of ['ollamaHost', 'baseUrl', 'provider'])
        if (e.affectsConfiguration(`${SECTION}.${key}`)) provider.refresh(`unlearn.${key} changed`);
    }),
    // A model pulled in a terminal is noticed when the user comes back to the window, or within a minute.
    vscode.window.onDidChangeWindowState((state) => {
      if (state.focused) void provider.checkForChanges();
    }),
    pollWhileFocused(() => provider.checkForChanges()),
  );
  // VS Code resolves a vendor's models lazily; asking once makes them known to the chat view's
  // picker and its default-model lookup (seen necessary in code-server, see docs/e2e-notes).
  vscode.lm.selectChatModels({ vendor: GUARDED_VENDOR }).then(
    (models) => out.info(`guarded models known to VS Code: ${models.map((m) => m.id).join(', ') || 'none'}`),
    (error: unknown) => out.warn(`could not list guarded models: ${describeError(error)}`),
  );
  return {
    route: createParticipantRoute(readGuardedSettings, (host) => provider.portFor(host)),
    refresh: (reason) => provider.refresh(reason),
  };
}

/** @public for its unit test, which loads this module with the vscode stand-in (knip cannot follow that). */
export class GuardedModelProvider implements vscode.LanguageModelChatProvider<vscode.LanguageModelChatInformation>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private readonly ports = new Map<string, LlmPort>();
  /** /api/show answers by host and model, so re-listing (VS Code does it often) costs one /api/tags. */
  private readonly details = new Map<string, ModelDetails>();
  /** What the last look at /api/tags saw: a fingerprint, or the error text. */
  private lastSeen: string | undefined;

  constructor(private readonly deps: GuardedModelsDeps) {}

  dispose(): void {
    this.changed.dispose();
  }

  /** Tells VS Code to ask for the list again; `seen` is what the caller already knows the server holds. */
  refresh(reason: string, seen?: string): void {
    this.deps.log.info(`re-listing guarded models: ${reason}`);
    this.lastSeen = seen;
    this.details.clear();
    this.changed.fire();
  }

  /** Fires the change event only when the installed list really changed (or the server came or went). */
  async checkForChanges(): Promise<void> {
    const { host } = this.deps.settings();
    let seen: string;
    try {
      seen = modelsFingerprint(await this.portFor(host).listModels(AbortSignal.timeout(10_000)));
    } catch (error) {
      seen = `error: ${describeError(error)}`;
    }
    if (this.lastSeen !== undefined && seen !== this.lastSeen) {
      this.refresh(seen.startsWith('error: ') ? `Ollama at ${host} stopped answering` : `the models installed at ${host} changed`, seen);
      return;
    }
    this.lastSeen = seen;
  }

  async provideLanguageModelChatInformation(
    options: vscode.PrepareLanguageModelChatModelOptions,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelChatInformation[]> {
    const { host } = this.deps.settings();
    return withAbortSignal(token, (signal) => this.listModels(host, signal, options.silent, token));
  }

  private async listModels(
    host: string,
    signal: AbortSignal,
    silent: boolean,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelChatInformation[]> {
    try {
      const port = this.portFor(host);
      const models = await port.listModels(signal);
      this.lastSeen = modelsFingerprint(models);
      const details = await allWithLimit(
        models.map((m) => async (callSignal: AbortSignal) => {
          const key = `${host}\u0000${m.name}`;
          const cached = this.details.get(key);
          if (cached) return cached;
          try {
            const d = await port.showModel(m.name, callSignal);
            this.details.set(key, d);
            return d;
          } catch (error) {
            if (isAbort(error)) throw error;
            this.deps.log.info(`could not read details of ${m.name} from ${host}: ${describeError(error)}`);
            return error instanceof Error ? error : new Error(String(error));
          }
        }),
        SHOW_CONCURRENCY,
        signal,
      );
      const listed = describeGuardedModels(host, models, details);
      const { embeddingOnly, remote } = leftOutModels(models, details);
      const notes = [
        ...(embeddingOnly ? [`${embeddingOnly} embedding-only`] : []),
        ...(remote ? [`${remote} cloud ${remote === 1 ? 'model' : 'models'} that would send the conversation to a remote service`] : []),
      ];
      this.deps.log.info(
        `listing ${listed.length} guarded ${listed.length === 1 ? 'model' : 'models'} from ${host}${notes.length ? ` (left out: ${notes.join('; ')})` : ''}`,
      );
      return listed.map(toChatInformation);
    } catch (error) {
      if (token.isCancellationRequested) return [];
      this.lastSeen = `error: ${describeError(error)}`;
      const { provider = 'ollama' } = this.deps.settings();
      const { message } = describeListingError(error, host, provider);
      // The picker has no place for an error; the log always gets it, and a person who asked (not a
      // silent background resolve) gets a message with the fix.
      this.deps.log.info(message);
      if (!silent) void offerOpenSetting(message, hostSettingOf(provider));
      return [];
    }
  }

  async provideLanguageModelChatResponse(
    model: vscode.LanguageModelChatInformation,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const settings = this.deps.settings();
    // A cloud model is never listed, but a request can name one from an older listing.
    if (runsRemotely({ name: model.id }, this.details.get(`${settings.host}\u0000${model.id}`))) {
      throw new Error(
        `${model.name} is an Ollama cloud model: it would send the conversation to a remote service, so Unlearn does not guard it. Pick a model that runs at ${settings.host}.`,
      );
    }
    const plain = messages.map(toPlainMessage);
    const tools = options.tools ?? [];
    const required = options.toolMode === vscode.LanguageModelChatToolMode.Required;
    const say = (text: string) => progress.report(new vscode.LanguageModelTextPart(text));
    const llm = this.portFor(settings.host);
    if (tools.length > 0) {
      const canCall = await withAbortSignal(token, (signal) => this.canCallTools(settings.host, model.id, signal));
      if (canCall) return this.agentStep(model, plain, tools, required, settings, llm, progress, token);
      if (required) {
        throw new Error(
          `${model.name} cannot call tools: Ollama does not list tool support for ${model.id}. Pick a model with tool calling for this request.`,
        );
      }
      // Tools offered but optional, to a model without them: answered in text, as in Ask mode.
    }
    let conversation;
    try {
      conversation = toPipelineConversation(plain);
    } catch (error) {
      if (error instanceof ConversationError) throw new Error(`${model.name}: ${error.message}`);
      throw error;
    }
    // Whoever asked (the chat view in any mode) renders the answer as markdown: the same guarded-answer
    // path as @unlearn's, with its notes said before the answer.
    try {
      const result = await withAbortSignal(token, (signal) =>
        answerGuarded({
          source: model.id,
          llm,
          model: model.id,
          settings,
          question: conversation.question,
          history: conversation.history,
          ...this.guardWiring(signal, say),
          onMarkdown: say,
        }),
      );
      this.deps.onAnswer?.({ answer: result.answer, redactions: result.redactions, via: 'guarded-model' });
    } catch (error) {
      if (token.isCancellationRequested || isAbort(error)) throw new vscode.CancellationError();
      throw new Error(describeChatError(error, llm.host, model.id, settings.provider).message);
    }
    if (conversation.omitted.length) {
      say(`\n\n_(Not passed to the local model: ${escapeMarkdown(conversation.omitted.join('; '))}.)_`);
    }
  }

  /** What every guarded run gets from the workspace: its targets and their health, the log, semantic matching, and where notes go. */
  private guardWiring(signal: AbortSignal, say: (text: string) => void) {
    return {
      targets: this.deps.targets(),
      targetHealth: this.deps.targetHealth(),
      signal,
      log: this.deps.log,
      ...withSemantic(this.deps.semantic?.()),
      onNote: (note: AnswerNote) => say(`${note.kind === 'broken-targets' ? '' : '⚠ '}${note.markdown}\n\n`),
    };
  }

  /** Whether the model can call tools, from the listing's /api/show answer (asked now when not cached). */
  private async canCallTools(host: string, model: string, signal: AbortSignal): Promise<boolean> {
    const key = `${host}\u0000${model}`;
    let details = this.details.get(key);
    if (!details) {
      try {
        details = await this.portFor(host).showModel(model, signal);
        this.details.set(key, details);
      } catch (error) {
        if (isAbort(error)) throw error;
        // Unknown: answered in text, which is always guarded.
        this.deps.log.info(`could not read details of ${model} from ${host}: ${describeError(error)}`);
        return false;
      }
    }
    return supportsTools(details);
  }

  /** A request of an Agent-mode loop (agentStep.ts): a guarded tool step, or the turn's final text. */
  private async agentStep(
    model: vscode.LanguageModelChatInformation,
    plain: PlainMessage[],
    tools: readonly vscode.LanguageModelChatTool[],
    required: boolean,
    settings: GuardedSettings,
    llm: LlmPort,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const say = (text: string) => progress.report(new vscode.LanguageModelTextPart(text));
    let outcome;
    try {
      outcome = await withAbortSignal(token, (signal) =>
        runAgentStep({
          source: model.id,
          llm,
          model: model.id,
          settings,
          messages: plain,
          tools,
          required,
          ...this.guardWiring(signal, say),
          report: (part) => progress.report(part),
        }),
      );
    } catch (error) {
      if (token.isCancellationRequested || isAbort(error)) throw new vscode.CancellationError();
      if (error instanceof ConversationError) throw new Error(`${model.name}: ${error.message}`);
      throw new Error(describeChatError(error, llm.host, model.id).message);
    }
    if (outcome.kind === 'final') {
      this.deps.onAnswer?.({ answer: outcome.result.answer, redactions: outcome.result.redactions, via: 'guarded-model' });
      if (outcome.omitted.length) say(`\n\n_(Not passed to the local model: ${escapeMarkdown(outcome.omitted.join('; '))}.)_`);
    }
  }

  async provideTokenCount(
    _model: vscode.LanguageModelChatInformation,
    text: string | vscode.LanguageModelChatRequestMessage,
    _token: vscode.CancellationToken,
  ): Promise<number> {
    return typeof text === 'string' ? estimateTokens(text) : estimateMessageTokens(toPlainMessage(text));
  }

  /** One port per host, so its connection reuse and any per-host state are shared by every request. */
  portFor(host: string): LlmPort {
    let port = this.ports.get(host);
    if (!port) {
      port = this.deps.connect(host);
      this.ports.set(host, port);
    }
    return port;
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pollWhileFocused(check: () => Promise<void>): vscode.Disposable {
  const timer = setInterval(() => {
    if (vscode.window.state.focused) void check();
  }, POLL_MS);
  return { dispose: () => clearInterval(timer) };
}

function withSemantic(semantic: SemanticWiring | undefined): { semantic?: SemanticWiring } {
  return semantic ? { semantic } : {};
}
