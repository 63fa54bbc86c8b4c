import * as vscode from 'vscode';
import { getCachedIndex } from '../../core/guard';
import { isAbort, type LlmPort } from '../../core/llm';
import { explainQuestion } from '../../core/relevance';
import type { ForgetTarget } from '../../core/targets';
import { abortOn } from '../cancellation';
import { toHistory, type PlainTurn } from './chatHistory';
import { answerMetadata, explainText, modelsText, targetsText, type AnswerMetadata, type TargetSettingsHealth } from './chatTexts';
import { describeChatError } from '../errors/errorPresenterLogic';
import { answerGuarded, type SemanticWiring } from './guardedAnswer';
import type { UnlearnLog } from '../log';
import { escapeMarkdown } from './markdownSanitizer';
import { rememberOriginal } from '../preview/originals';
import type { ParticipantRoute } from '../guardedModels/participantRouting';
import { embeddingModelsMarkdown, explainRelevanceMarkdown, isInstalled, type EmbeddingStatus } from '../relevance/relevanceTexts';
import { editTargets, readSettings, readTargetHealth, targetStores, viewStore, type UnlearnSettings } from '../settings/settings';
import { validateTerm } from '../targets/targetsTreeLogic';
import type { DeliveredAnswer } from './answerEvents';

const PARTICIPANT_ID = 'unlearn.chat';

/** Everything the handler reads from outside; tests may replace any of it. */
export interface ParticipantDeps {
  readonly log: UnlearnLog;
  readonly settings: () => UnlearnSettings;
  readonly targets: () => readonly ForgetTarget[];
  /** Which LLM answers (the guarded models' routing: a picked guarded model, else `unlearn.model` on Ollama). */
  readonly route: ParticipantRoute;
  /** For /models: the configured Ollama. */
  readonly ollama: () => LlmPort;
  /** What of `unlearn.targets` is skipped as invalid; an answer says so first. */
  readonly targetHealth: () => TargetSettingsHealth;
  /** Relevance by meaning: the extension's embedding cache and the model's state (absent: names and keywords only). */
  readonly semantic?: SemanticWiring & { status(): EmbeddingStatus };
  /** Told of every finished answer (first-run guidance follows it). */
  readonly onAnswer?: (note: DeliveredAnswer) => void;
}

/** The handler's dependencies as the extension wires them: the VS Code settings and the given features. */
export function defaultParticipantDeps(
  wiring: Pick<ParticipantDeps, 'log' | 'route' | 'ollama' | 'targets' | 'semantic' | 'onAnswer'>,
): ParticipantDeps {
  return { ...wiring, settings: readSettings, targetHealth: readTargetHealth };
}

/**
 * The `@unlearn` handler, as a plain function so tests can call it with a fake stream (the extension
 * also returns it from `activate()` as `chatHandler`).
 */
function createChatHandler(deps: ParticipantDeps): vscode.ChatRequestHandler {
  return async (request, context, stream, token) => {
    const { signal, dispose } = abortOn(token);
    try {
      return await handle({ request, context, stream, token, signal, deps });
    } finally {
      dispose();
    }
  };
}

/** One request to the handler, with what it runs under. */
interface Turn {
  readonly request: vscode.ChatRequest;
  readonly context: vscode.ChatContext;
  readonly stream: vscode.ChatResponseStream;
  readonly token: vscode.CancellationToken;
  readonly signal: AbortSignal;
  readonly deps: ParticipantDeps;
}

async function handle(turn: Turn): Promise<vscode.ChatResult> {
  const { request, context, stream, signal, deps } = turn;
  switch (request.command) {
    case 'forget':
      return forget(request.prompt, stream, deps);
    case 'targets':
      stream.markdown(icons(targetsText(targetStores().map((s) => ({ label: s.label, ...countProblems(viewStore(s)) })))));
      stream.button({ title: 'Show Forget Targets', command: 'unlearn.targets.focus' });
      return { metadata: { command: 'targets' } satisfies AnswerMetadata };
    case 'explain':
      return request.prompt.trim() ? explainAQuestion(request.prompt.trim(), stream, deps, signal) : explainLast(context, stream);
    case 'models':
      return models(stream, deps, signal);
  }
  return answer(turn);
}

async function answer(turn: Turn): Promise<vscode.ChatResult> {
  const { request, context, stream, token, signal, deps } = turn;
  const settings = deps.settings();
  const { log } = deps;
  let model = settings.model;
  let host = settings.host;
  const started = performance.now();
  try {
    const route = deps.route(request.model);
    model = route.model;
    host = route.llm.host;
    // Only with showOriginal on: keep the vanilla answer (in memory) for the preview's diff.
    let original: string | undefined;
    const llm = settings.showOriginal ? recordVanilla(route.llm, (text) => (original = text)) : route.llm;
    stream.progress('Starting…');
    let answering = false;
    const result = await answerGuarded({
      source: '@unlearn',
      llm,
      model,
      settings,
      question: request.prompt,
      history: toHistory(context.history.map(toPlainTurn)),
      targets: deps.targets(),
      targetHealth: deps.targetHealth(),
      signal,
      log,
      ...(deps.semantic ? { semantic: deps.semantic } : {}),
      // Our own warnings render VS Code's icon; the skipped-targets line keeps its sign (it is stored in history as is).
      onNote: (note) => stream.markdown(note.kind === 'broken-targets' ? `${note.markdown}\n\n` : icons(`$(warning) ${note.markdown}\n\n`)),
      onMarkdown: (md) => {
        answering = true;
        stream.markdown(md);
      },
      // Once the answer streams, no more progress lines: the chat folds markdown written before a progress
      // line into the collapsed "steps", hiding the answer's first words (the guard's check comes last).
      onProgress: (message) => (answering ? undefined : stream.progress(message)),
    });
    if (route.note) stream.markdown(`\n\n_${escapeMarkdown(route.note)}_`);
    const previewId = original !== undefined && result.outcome !== 'vanilla' ? rememberOriginal(original) : undefined;
    const metadata = { ...answerMetadata(result), ...(previewId ? { previewId } : {}) };
    if (result.redactions.length || previewId) {
      stream.button({
        title: 'Preview Redactions',
        command: 'unlearn.preview.answer',
        arguments: [{ answer: result.answer, redactions: metadata.redactions, relevance: metadata.relevance, previewId }],
      });
    }
    deps.onAnswer?.({ answer: result.answer, redactions: result.redactions, ...(previewId ? { previewId } : {}), via: 'participant' });
    return { metadata };
  } catch (error) {
    if (token.isCancellationRequested || isAbort(error)) {
      log.info(`@unlearn: cancelled after ${Math.round(performance.now() - started)} ms`);
      return { metadata: { errorCode: 'aborted' } satisfies AnswerMetadata };
    }
    return reportError(error, host, model, stream, deps);
  }
}

/** /explain: what the last answer touched and redacted, and why relevance sent it to the agents (or not). */
function explainLast(context: vscode.ChatContext, stream: vscode.ChatResponseStream): vscode.ChatResult {
  const last = lastAnswer(context);
  stream.markdown(explainText(last));
  if (last?.relevance) stream.markdown(`\n\n${explainRelevanceMarkdown(last.relevance, 'answer')}`);
  if (last?.redactions?.length)
    stream.button({
      title: 'Preview Redactions',
      command: 'unlearn.preview.answer',
      arguments: [{ answer: last.answer, redactions: last.redactions, relevance: last.relevance }],
    });
  stream.button({ title: 'Show Forget Targets', command: 'unlearn.targets.focus' });
  return { metadata: { command: 'explain' } satisfies AnswerMetadata };
}

/**
 * `/explain <question>`: which targets the question alone would shortlist, by which signal, with no
 * chat call (one embedding call at most). The question is the user's own text, so nothing here is
 * new to them; target names are the workspace's list.
 */
async function explainAQuestion(
  question: string,
  stream: vscode.ChatResponseStream,
  deps: ParticipantDeps,
  signal: AbortSignal,
): Promise<vscode.ChatResult> {
  const settings = deps.settings();
  stream.progress('Scoring the question against the forget targets…');
  try {
    const explanation = await explainQuestion({
      llm: deps.semantic?.embedder() ?? deps.ollama(),
      index: getCachedIndex(deps.targets()),
      question,
      policy: settings.auditPolicy,
      ...(settings.embeddingModel ? { embeddingModel: settings.embeddingModel } : {}),
      ...(deps.semantic ? { cache: deps.semantic.cache } : {}),
      signal,
    });
    stream.markdown(explainRelevanceMarkdown(explanation, 'question'));
    deps.log.info(`@unlearn: /explain of a question: ${explanation.shortlist.length} of ${explanation.considered} targets shortlisted`);
    return { metadata: { command: 'explain', relevance: explanation } satisfies AnswerMetadata };
  } catch (error) {
    if (isAbort(error)) return { metadata: { command: 'explain', errorCode: 'aborted' } satisfies AnswerMetadata };
    return reportError(error, settings.host, settings.embeddingModel ?? settings.model, stream, deps);
  }
}

async function forget(prompt: string, stream: vscode.ChatResponseStream, deps: ParticipantDeps): Promise<vscode.ChatResult> {
  const name = prompt.trim().replace(/^["'“”]+|["'“”]+$/g, '');
  const problem = validateTerm(name);
  if (!name || problem) {
    stream.markdown(
      name ? `Cannot add "${escapeMarkdown(name)}": it ${problem}.` : 'Usage: `/forget <name>`, for example `/forget Project Falcon`.',
    );
    return { metadata: { command: 'forget', errorCode: 'usage' } satisfies AnswerMetadata };
  }
  // /forget asks nothing more: it uses the first store (the workspace file in a multi-root workspace).
  const store = targetStores()[0]!;
  try {
    await editTargets(store, { kind: 'add', name });
  } catch (error) {
    stream.markdown(`Cannot add "${escapeMarkdown(name)}": ${escapeMarkdown(error instanceof Error ? error.message : String(error))}`);
    return { metadata: { command: 'forget', errorCode: 'refused' } satisfies AnswerMetadata };
  }
  deps.log.info(`@unlearn: /forget added a target to ${store.label}`);
  stream.markdown(
    `Added **${escapeMarkdown(name)}** to the forget targets of ${escapeMarkdown(store.label)}. It applies from the next question; add aliases and a description in the Forget Targets view.`,
  );
  stream.button({ title: 'Show Forget Targets', command: 'unlearn.targets.focus' });
  return { metadata: { command: 'forget' } satisfies AnswerMetadata };
}

async function models(stream: vscode.ChatResponseStream, deps: ParticipantDeps, signal: AbortSignal): Promise<vscode.ChatResult> {
  const settings = deps.settings();
  try {
    const llm = deps.ollama();
    stream.progress(`Asking ${llm.host}…`);
    const installed = await llm.listModels(signal);
    stream.markdown(modelsText(llm.host, installed, settings.model));
    const embedding =
      deps.semantic?.status() ??
      (settings.embeddingModel ? { kind: 'idle' as const, model: settings.embeddingModel } : { kind: 'off' as const });
    stream.markdown(`\n\n${embeddingModelsMarkdown(embedding, installed)}`);
    stream.button({ title: 'Select Model', command: 'unlearn.selectModel' });
    if (embedding.kind !== 'off' && !isInstalled(embedding.model, installed))
      stream.button({ title: `Pull ${embedding.model}`, command: 'unlearn.pullModel', arguments: [embedding.model] });
    return { metadata: { command: 'models' } satisfies AnswerMetadata };
  } catch (error) {
    if (isAbort(error)) return { metadata: { command: 'models', errorCode: 'aborted' } satisfies AnswerMetadata };
    return reportError(error, settings.host, settings.model, stream, deps);
  }
}

function reportError(
  error: unknown,
  host: string,
  model: string,
  stream: vscode.ChatResponseStream,
  deps: ParticipantDeps,
): vscode.ChatResult {
  const described = describeChatError(error, host, model);
  deps.log.error(`@unlearn: ${described.code}: ${described.message}`);
  // The markdown form: the host, model name and server text in it are escaped.
  stream.markdown(icons(`$(error) ${described.markdown}`));
  for (const b of described.buttons) stream.button({ title: b.title, command: b.command, arguments: b.arguments ? [...b.arguments] : [] });
  return { metadata: { errorCode: described.code } satisfies AnswerMetadata };
}

function countProblems(view: ReturnType<typeof viewStore>) {
  return { targets: view.targets, problems: new Set(view.problems.filter((p) => p.severity === 'error').map((p) => p.index)).size };
}

function lastAnswer(context: vscode.ChatContext): AnswerMetadata | undefined {
  for (let i = context.history.length - 1; i >= 0; i--) {
    const turn = context.history[i]!;
    // By shape rather than instanceof, so a test's plain turn objects work like VS Code's classes.
    if ('response' in turn) {
      const meta = turn.result?.metadata as AnswerMetadata | undefined;
      if (meta?.outcome) return meta;
    }
  }
  return undefined;
}

/** Recognised by shape as well, so a test's plain objects work like VS Code's classes. */
function toPlainTurn(turn: vscode.ChatRequestTurn | vscode.ChatResponseTurn): PlainTurn {
  if ('prompt' in turn) return { kind: 'request', prompt: turn.prompt, ...(turn.command ? { command: turn.command } : {}) };
  const meta = turn.result?.metadata as AnswerMetadata | undefined;
  const markdown = turn.response.flatMap((part) => (part instanceof vscode.ChatResponseMarkdownPart ? [part.value.value] : []));
  return { kind: 'response', markdown, ...(meta?.answer !== undefined && !meta.command ? { answer: meta.answer } : {}) };
}

function followupsFor(result: vscode.ChatResult): vscode.ChatFollowup[] {
  const meta = result.metadata as AnswerMetadata | undefined;
  if (!meta) return [];
  if (meta.command === 'forget') return [{ prompt: '', command: 'targets', label: 'List the forget targets' }];
  if (meta.redactions?.length || meta.outcome === 'refused')
    return [{ prompt: '', command: 'explain', label: 'What was redacted, and why?' }];
  if (meta.errorCode === 'unreachable' || meta.errorCode === 'model-missing')
    return [{ prompt: '', command: 'models', label: 'Which models are installed?' }];
  return [];
}

/** The same port, telling `onVanilla` what the vanilla agent answered. */
function recordVanilla(llm: LlmPort, onVanilla: (text: string) => void): LlmPort {
  return {
    host: llm.host,
    chat: async (request) => {
      const response = await llm.chat(request);
      if (request.label === 'vanilla') onVanilla(response.content);
      return response;
    },
    listModels: (signal) => llm.listModels(signal),
    showModel: (model, signal) => llm.showModel(model, signal),
    embed: (model, input, signal) => llm.embed(model, input, signal),
    pull: (model, onProgress, signal) => llm.pull(model, onProgress, signal),
    version: (signal) => llm.version(signal),
  };
}

/** Markdown we wrote ourselves, with `$(icon)` rendered. */
function icons(text: string): vscode.MarkdownString {
  return new vscode.MarkdownString(text, true);
}

export function registerChatParticipant(context: vscode.ExtensionContext, deps: ParticipantDeps): vscode.ChatRequestHandler {
  const handler = createChatHandler(deps);
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, handler);
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'unlearn.svg');
  participant.followupProvider = { provideFollowups: (result) => followupsFor(result) };
  context.subscriptions.push(participant);
  return handler;
}
