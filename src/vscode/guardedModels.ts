import * as vscode from 'vscode';
import { getCachedIndex } from '../core/guard';
import {
  ConversationError,
  describeGuardedModels,
  estimateMessageTokens,
  estimateTokens,
  GUARDED_VENDOR,
  isTextMime,
  leftOutModels,
  modelsFingerprint,
  routeParticipantRequest,
  runsRemotely,
  shortModelName,
  toPipelineConversation,
  type GuardedModelInfo,
  type PlainMessage,
  type PlainPart,
  type SelectedModel,
} from '../core/guardedModels';
import { isAbort, isLlmError, LlmError } from '../core/llm/errors';
import { isLoopbackHost } from '../core/llm/hostPolicy';
import { createOllamaPort } from '../core/llm/ollamaAdapter';
import type { ChatRequest, ChatResponse, LlmPort, ModelDetails } from '../core/llm/port';
import { runPipeline, type PipelineResult } from '../core/pipeline';
import type { ForgetTarget } from '../core/targets';
import { brokenTargetsNote, escapeMarkdown, MarkdownSanitizer, targetSettingsHealth, type TargetSettingsHealth } from './chatFormat';
import { noteAnswer } from './answerEvents';
import type { UnlearnLog } from './log';
import { enabledTargets, readSettings, SECTION, targetStores, viewStore } from './settings';
import { pipelineOptions } from './settingsValues';

/**
 * Guarded models: every model installed in the configured Ollama appears in VS Code's model picker as
 * "<name> · Unlearn". Whatever asks one of them — the chat view in any mode that lists it, `@unlearn`,
 * another extension through `vscode.lm` — gets the ALU pipeline's guarded answer, never the plain model's.
 */

/** How often to look for models pulled or deleted outside VS Code, while the window has focus. */
const POLL_MS = 60_000;
/** /api/show calls in flight at once when listing; a server with 40 models should not get 40 at a time. */
const SHOW_CONCURRENCY = 4;

/** What the provider reads from the outside world; the extension-host tests replace none of it. */
export interface GuardedModelsDeps {
  readonly connect: (host: string) => LlmPort;
  readonly settings: () => GuardedSettings;
  readonly targets: () => readonly ForgetTarget[];
  /** What of `unlearn.targets` is skipped as invalid; an answer says so first. */
  readonly targetHealth?: () => TargetSettingsHealth;
  readonly log: (line: string) => void;
}

export interface GuardedSettings {
  readonly host: string;
  readonly model: string;
  readonly candidates: number;
  readonly topK: number;
  readonly contextLength: number;
  readonly allowSelectedModel: boolean;
}

let active: GuardedModelProvider | undefined;

/** `log` is the extension's "Unlearn" log; without it (an older activate()) the models get a channel of their own. */
export function registerGuardedModels(context: vscode.ExtensionContext, log?: Pick<UnlearnLog, 'info' | 'warn'>): void {
  if (!log) {
    const channel = vscode.window.createOutputChannel('Unlearn: Guarded Models', { log: true });
    context.subscriptions.push(channel);
    log = channel;
  }
  const out = log;
  const provider = new GuardedModelProvider(defaultDeps((line) => out.info(`guarded models: ${line}`)));
  active = provider;
  context.subscriptions.push(
    provider,
    vscode.lm.registerLanguageModelChatProvider(GUARDED_VENDOR, provider),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.ollamaHost`)) provider.refresh('unlearn.ollamaHost changed');
    }),
    // A model pulled in a terminal is noticed when the user comes back to the window, or within a minute.
    vscode.window.onDidChangeWindowState((state) => {
      if (state.focused) void provider.checkForChanges();
    }),
    pollWhileFocused(() => provider.checkForChanges()),
    { dispose: () => (active === provider ? (active = undefined) : undefined) },
  );
  // VS Code resolves a vendor's models lazily; asking once makes them known to the chat view's
  // picker and its default-model lookup (seen necessary in code-server, see docs/e2e-notes).
  vscode.lm.selectChatModels({ vendor: GUARDED_VENDOR }).then(
    (models) => out.info(`guarded models known to VS Code: ${models.map((m) => m.id).join(', ') || 'none'}`),
    (error: unknown) => out.warn(`could not list guarded models: ${describeError(error)}`),
  );
}

/**
 * For the Pull Model command (and anything else that changes the installed models): re-list them now
 * rather than at the next poll.
 */
export function notifyGuardedModelsChanged(): void {
  active?.refresh('models changed');
}

// --- the provider --------------------------------------------------------------------------------

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
    this.deps.log(`re-listing guarded models: ${reason}`);
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
    const { signal, dispose } = abortOn(token);
    try {
      const port = this.portFor(host);
      const models = await port.listModels(signal);
      this.lastSeen = modelsFingerprint(models);
      const details = await mapLimited(models, SHOW_CONCURRENCY, async (m) => {
        const key = `${host}\u0000${m.name}`;
        const cached = this.details.get(key);
        if (cached) return cached;
        try {
          const d = await port.showModel(m.name, signal);
          this.details.set(key, d);
          return d;
        } catch (error) {
          if (isAbort(error)) throw error;
          this.deps.log(`could not read details of ${m.name} from ${host}: ${describeError(error)}`);
          return error instanceof Error ? error : new Error(String(error));
        }
      });
      const listed = describeGuardedModels(host, models, details);
      const { embeddingOnly, remote } = leftOutModels(models, details);
      const notes = [
        ...(embeddingOnly ? [`${embeddingOnly} embedding-only`] : []),
        ...(remote ? [`${remote} cloud ${remote === 1 ? 'model' : 'models'} that would send the conversation to a remote service`] : []),
      ];
      this.deps.log(
        `listing ${listed.length} guarded ${listed.length === 1 ? 'model' : 'models'} from ${host}${notes.length ? ` (left out: ${notes.join('; ')})` : ''}`,
      );
      return listed.map(toChatInformation);
    } catch (error) {
      if (token.isCancellationRequested) return [];
      this.lastSeen = `error: ${describeError(error)}`;
      const message = listingErrorMessage(error, host);
      // The picker has no place for an error; the log always gets it, and a person who asked (not a
      // silent background resolve) gets a message with the fix.
      this.deps.log(message);
      if (!options.silent) void offerSettingFix(message, 'unlearn.ollamaHost');
      return [];
    } finally {
      dispose();
    }
  }

  async provideLanguageModelChatResponse(
    model: vscode.LanguageModelChatInformation,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    if (options.toolMode === vscode.LanguageModelChatToolMode.Required && options.tools?.length) {
      throw new Error(
        `${model.name} cannot call tools: its answers pass through Unlearn's agents, which only write text. Pick a model with tool calling for this request.`,
      );
    }
    let conversation;
    try {
      conversation = toPipelineConversation(messages.map(toPlainMessage));
    } catch (error) {
      if (error instanceof ConversationError) throw new Error(`${model.name}: ${error.message}`);
      throw error;
    }
    const settings = this.deps.settings();
    // A cloud model is never listed, but a request can name one from an older listing.
    if (runsRemotely({ name: model.id }, this.details.get(`${settings.host}\u0000${model.id}`))) {
      throw new Error(
        `${model.name} is an Ollama cloud model: it would send the conversation to a remote service, so Unlearn does not guard it. Pick a model that runs at ${settings.host}.`,
      );
    }
    // Whoever asked (the chat view in any mode) renders the answer as markdown: the model's text goes
    // through the same sanitizer as @unlearn's; a host that is not this machine and a broken targets
    // setting are said before the answer.
    if (!isLoopbackHost(settings.host)) progress.report(new vscode.LanguageModelTextPart(`${remoteHostNote(settings.host)}\n\n`));
    const broken = brokenTargetsNote((this.deps.targetHealth ?? readTargetHealth)());
    if (broken) progress.report(new vscode.LanguageModelTextPart(`${broken}\n\n`));
    const sanitizer = new MarkdownSanitizer();
    await this.run({ ...settings, model: model.id }, conversation.question, conversation.history, token, (text) => {
      const md = sanitizer.push(text);
      if (md) progress.report(new vscode.LanguageModelTextPart(md));
    });
    const rest = sanitizer.end();
    if (rest) progress.report(new vscode.LanguageModelTextPart(rest));
    if (conversation.omitted.length) {
      progress.report(
        new vscode.LanguageModelTextPart(`\n\n_(Not passed to the local model: ${escapeMarkdown(conversation.omitted.join('; '))}.)_`),
      );
    }
  }

  async provideTokenCount(
    _model: vscode.LanguageModelChatInformation,
    text: string | vscode.LanguageModelChatRequestMessage,
    _token: vscode.CancellationToken,
  ): Promise<number> {
    return typeof text === 'string' ? estimateTokens(text) : estimateMessageTokens(toPlainMessage(text));
  }

  /** Runs the pipeline on one Ollama model with the workspace's enabled targets; shared with `@unlearn`. */
  async run(
    settings: Pick<GuardedSettings, 'host' | 'model' | 'candidates' | 'topK' | 'contextLength'>,
    question: string,
    history: PipelineHistory,
    token: vscode.CancellationToken,
    onText: (text: string) => void,
    llm: LlmPort = this.portFor(settings.host),
  ): Promise<PipelineResult> {
    const { signal, dispose } = abortOn(token);
    const targets = this.deps.targets();
    const options = pipelineOptions(settings);
    try {
      const result = await runPipeline({
        llm,
        index: getCachedIndex(targets),
        question,
        history,
        options,
        signal,
        onEvent: (event) => {
          if (event.type === 'answer-chunk') onText(event.text);
          else if (event.type === 'stage-end') this.deps.log(`${settings.model}: ${event.stage} took ${Math.round(event.ms)} ms`);
        },
      });
      // Counts and outcome only: the log must not carry forgotten content.
      this.deps.log(
        `${settings.model}: ${result.outcome}, ${result.calls} model calls, ${result.redactions.length} redactions, ${Math.round(result.totalMs)} ms`,
      );
      noteAnswer({ answer: result.answer, redactions: result.redactions, via: 'guarded-model' });
      return result;
    } catch (error) {
      if (token.isCancellationRequested || isAbort(error)) throw new vscode.CancellationError();
      throw new Error(requestErrorMessage(error, llm.host, settings.model));
    } finally {
      dispose();
    }
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

type PipelineHistory = Parameters<typeof runPipeline>[0]['history'];

// --- @unlearn with any selected model ---------------------------------------------------------------

/** What `@unlearn` should run the pipeline with for this request. */
export interface ParticipantModel {
  readonly llm: LlmPort;
  /** The model name the pipeline passes on each call (an Ollama name, or the selected model's id). */
  readonly model: string;
  /** A line to show the user when their pick was not used (a remote model, not allowed). */
  readonly note?: string;
}

/**
 * For the `@unlearn` handler: which LLM answers. A guarded model → that Ollama model. Any other
 * (Copilot, a cloud model) → the configured Ollama model, with a note, unless
 * `unlearn.allowSelectedModel` is on; then the selected model itself, through `vscode.lm`.
 * Call it with `request.model`.
 */
export function participantModel(selected: vscode.LanguageModelChat | undefined): ParticipantModel {
  const settings = guardedSettings();
  const route = routeParticipantRequest(selected ? toSelected(selected) : undefined, settings);
  if (route.kind === 'selected') return { llm: selectedModelPort(selected!), model: selected!.id };
  const llm = active?.portFor(settings.host) ?? createOllamaPort({ host: settings.host });
  return { llm, model: route.model, ...(route.note ? { note: route.note } : {}) };
}

function toSelected(model: vscode.LanguageModelChat): SelectedModel {
  return { vendor: model.vendor, id: model.id, name: model.name };
}

/**
 * An LlmPort over a model from `vscode.lm` (used only when the user allowed it). The stable API has no
 * system role and no structured output, so instructions go first as a user message and a JSON schema is
 * stated in words; the pipeline validates every structured reply anyway and refuses on junk.
 */
export function selectedModelPort(model: vscode.LanguageModelChat): LlmPort {
  const unsupported = (what: string) => () =>
    Promise.reject(new LlmError('http', `${what} is not available for ${model.name} (a model from VS Code, not Ollama).`));
  return {
    host: `vscode.lm:${model.vendor}`,
    async chat(request: ChatRequest): Promise<ChatResponse> {
      const started = performance.now();
      const messages = request.messages.map((m) =>
        m.role === 'assistant'
          ? vscode.LanguageModelChatMessage.Assistant(m.content)
          : vscode.LanguageModelChatMessage.User(m.role === 'system' ? `Instructions:\n${m.content}` : m.content),
      );
      if (request.format) {
        messages.push(
          vscode.LanguageModelChatMessage.User(
            `Reply with one JSON value only, no prose and no code fence, matching this JSON schema:\n${JSON.stringify(request.format)}`,
          ),
        );
      }
      const cts = new vscode.CancellationTokenSource();
      const cancel = () => cts.cancel();
      request.signal?.addEventListener('abort', cancel, { once: true });
      const timer = request.totalTimeoutMs ? setTimeout(cancel, request.totalTimeoutMs) : undefined;
      let content = '';
      try {
        if (request.signal?.aborted) throw new LlmError('aborted', 'The request was cancelled.', { label: request.label });
        const response = await model.sendRequest(
          messages,
          { justification: 'Unlearn runs its agents on the model you selected, as you allowed in unlearn.allowSelectedModel.' },
          cts.token,
        );
        for await (const piece of response.text) {
          content += piece;
          request.onToken?.(piece);
        }
      } catch (error) {
        if (request.signal?.aborted) throw new LlmError('aborted', 'The request was cancelled.', { label: request.label, cause: error });
        if (cts.token.isCancellationRequested)
          throw new LlmError('timeout', `${model.name} took longer than ${request.totalTimeoutMs} ms.`, {
            label: request.label,
            model: model.id,
          });
        if (isLlmError(error)) throw error;
        throw new LlmError('http', `${model.name} failed: ${describeError(error)}`, {
          label: request.label,
          model: model.id,
          cause: error,
        });
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', cancel);
        cts.dispose();
      }
      return { content, durationMs: performance.now() - started };
    },
    listModels: () => Promise.resolve([{ name: model.id }]),
    showModel: () => Promise.resolve({ name: model.id, contextLength: model.maxInputTokens }),
    embed: unsupported('Embedding'),
    pull: unsupported('Pulling'),
    version: () => Promise.resolve(model.version),
  };
}

// --- VS Code ↔ plain values --------------------------------------------------------------------------

function toChatInformation(info: GuardedModelInfo): vscode.LanguageModelChatInformation {
  return { ...info, capabilities: { ...info.capabilities } };
}

/** VS Code sends system messages with role 3 (the proposed `System` member); the stable enum has 1 and 2. */
const SYSTEM_ROLE = 3;

export function toPlainMessage(message: vscode.LanguageModelChatRequestMessage): PlainMessage {
  const role =
    message.role === vscode.LanguageModelChatMessageRole.Assistant
      ? 'assistant'
      : (message.role as number) === SYSTEM_ROLE
        ? 'system'
        : 'user';
  return { role, parts: message.content.map(toPlainPart), ...(message.name ? { name: message.name } : {}) };
}

function toPlainPart(part: unknown): PlainPart {
  if (part instanceof vscode.LanguageModelTextPart) return { type: 'text', text: part.value };
  if (part instanceof vscode.LanguageModelToolCallPart)
    return { type: 'toolCall', callId: part.callId, name: part.name, input: part.input };
  if (part instanceof vscode.LanguageModelToolResultPart)
    return { type: 'toolResult', callId: part.callId, parts: part.content.map(toPlainPart) };
  if (part instanceof vscode.LanguageModelPromptTsxPart) return { type: 'other', description: 'a prompt-tsx part' };
  // Parts from newer or proposed APIs (LanguageModelDataPart, …) are recognised by shape.
  if (typeof part === 'object' && part !== null) {
    const p = part as {
      value?: unknown;
      mimeType?: unknown;
      data?: unknown;
      callId?: unknown;
      name?: unknown;
      input?: unknown;
      content?: unknown;
    };
    if (typeof p.mimeType === 'string' && p.data instanceof Uint8Array) {
      return {
        type: 'data',
        mimeType: p.mimeType,
        bytes: p.data.byteLength,
        ...(isTextMime(p.mimeType) ? { text: new TextDecoder().decode(p.data) } : {}),
      };
    }
    if (typeof p.value === 'string') return { type: 'text', text: p.value };
    if (typeof p.callId === 'string' && typeof p.name === 'string')
      return { type: 'toolCall', callId: p.callId, name: p.name, input: p.input };
    if (typeof p.callId === 'string' && Array.isArray(p.content))
      return { type: 'toolResult', callId: p.callId, parts: p.content.map(toPlainPart) };
    return { type: 'other', description: `a ${part.constructor?.name ?? 'message'} part` };
  }
  return typeof part === 'string' ? { type: 'text', text: part } : { type: 'other', description: `a ${typeof part} part` };
}

// --- settings and targets: the extension's own reader and store -------------------------------------

function defaultDeps(log: (line: string) => void): GuardedModelsDeps {
  return {
    connect: (host) => createOllamaPort({ host }),
    settings: guardedSettings,
    targets: enabledTargets,
    targetHealth: readTargetHealth,
    log,
  };
}

/** Invalid entries and non-list values of `unlearn.targets` in every settings file the targets come from; shared with `@unlearn`. */
export function readTargetHealth(): TargetSettingsHealth {
  return targetSettingsHealth(targetStores().map(viewStore));
}

/**
 * The extension's settings plus `unlearn.allowSelectedModel`, read from user settings only (like the
 * host): a cloned repository must not be able to send its reader's questions to a cloud model.
 */
function guardedSettings(): GuardedSettings {
  const { host, model, candidates, topK, contextLength } = readSettings();
  const allow = vscode.workspace.getConfiguration(SECTION).inspect<boolean>('allowSelectedModel');
  return { host, model, candidates, topK, contextLength, allowSelectedModel: (allow?.globalValue ?? allow?.defaultValue) === true };
}

/** Said before every answer when `unlearn.ollamaHost` is not this machine, as `@unlearn` says it. */
export function remoteHostNote(host: string): string {
  return `⚠ Sending this conversation to **${escapeMarkdown(host)}**, which is not this machine (\`unlearn.ollamaHost\`).`;
}

// --- errors a person can act on -------------------------------------------------------------------

function listingErrorMessage(error: unknown, host: string): string {
  if (isLlmError(error, 'unreachable'))
    return `Unlearn cannot reach Ollama at ${host} to list guarded models. Start Ollama ("ollama serve") or change the "unlearn.ollamaHost" setting.`;
  if (isLlmError(error, 'remote-host')) return `Unlearn will not list models from ${host}: ${error.message}`;
  return `Unlearn could not list the models at ${host}: ${describeError(error)}`;
}

function requestErrorMessage(error: unknown, host: string, model: string): string {
  if (isLlmError(error, 'unreachable'))
    return `Cannot reach Ollama at ${host}. Start Ollama ("ollama serve") or change the "unlearn.ollamaHost" setting.`;
  if (isLlmError(error, 'model-missing'))
    return `The model "${shortModelName(model)}" is not installed at ${host}. Run "ollama pull ${shortModelName(model)}", or pick another model.`;
  if (isLlmError(error, 'remote-host'))
    return `Unlearn refused to send this request: ${error.message} Check the "unlearn.ollamaHost" setting.`;
  return `Unlearn could not answer: ${describeError(error)}`;
}

async function offerSettingFix(message: string, setting: string): Promise<void> {
  const open = 'Open Setting';
  if ((await vscode.window.showWarningMessage(message, open)) === open)
    await vscode.commands.executeCommand('workbench.action.openSettings', setting);
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// --- small helpers ---------------------------------------------------------------------------------

/**
 * An AbortSignal that follows the token, so every model call of the request stops on cancel. `dispose`
 * removes the listener when the request is over: a token can outlive it (VS Code reuses some).
 */
function abortOn(token: vscode.CancellationToken): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  if (token.isCancellationRequested) {
    controller.abort();
    return { signal: controller.signal, dispose: () => undefined };
  }
  const subscription = token.onCancellationRequested(() => controller.abort());
  return { signal: controller.signal, dispose: () => subscription.dispose() };
}

function pollWhileFocused(check: () => Promise<void>): vscode.Disposable {
  const timer = setInterval(() => {
    if (vscode.window.state.focused) void check();
  }, POLL_MS);
  return { dispose: () => clearInterval(timer) };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
