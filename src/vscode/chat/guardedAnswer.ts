import { runsRemotely } from '../../core/guardedModels';
import { getCachedIndex } from '../../core/guard';
import { isLoopbackHost, type ChatMessage, type LlmPort } from '../../core/llm';
import { runPipeline, TOO_LONG, type PipelineEvent, type PipelineResult } from '../../core/pipeline';
import type { EmbeddingCache, SemanticState } from '../../core/relevance';
import type { ForgetTarget } from '../../core/targets';
import { brokenTargetsNote, progressMessage, type TargetSettingsHealth } from './chatTexts';
import type { UnlearnLog } from '../log';
import { escapeMarkdown, MarkdownSanitizer } from './markdownSanitizer';
import { relevanceNoticeMarkdown } from '../relevance/relevanceTexts';
import { pipelineOptions, type UnlearnSettings } from '../settings/settingsLogic';

/** Said before the answer; each front end renders its warning sign its own way. */
export interface AnswerNote {
  readonly kind: 'remote-host' | 'cloud-model' | 'broken-targets';
  /** Markdown, safe as plain text too; names and hosts in it are escaped. */
  readonly markdown: string;
}

export interface GuardedAnswerRequest {
  /** Who asks, for the log ("@unlearn", a guarded model's name). */
  readonly source: string;
  readonly llm: LlmPort;
  /** The model each pipeline call names. */
  readonly model: string;
  readonly settings: Pick<UnlearnSettings, 'model' | 'candidates' | 'topK' | 'contextLength'> &
    Partial<Pick<UnlearnSettings, 'embeddingModel' | 'auditPolicy'>>;
  /** Relevance by meaning: the on-disk target embeddings and the Ollama that embeds (whichever model answers). */
  readonly semantic?: SemanticWiring;
  readonly question: string;
  readonly history: readonly ChatMessage[];
  /** Agent mode: the turn's final text, already written by the model (no vanilla call is made). */
  readonly draft?: string;
  /** Agent mode: the tool results of the conversation, read whole by the matcher and relevance. */
  readonly evidence?: readonly string[];
  readonly targets: readonly ForgetTarget[];
  readonly targetHealth: TargetSettingsHealth;
  readonly signal: AbortSignal;
  readonly log: Pick<UnlearnLog, 'info' | 'warn' | 'trace'>;
  readonly onNote: (note: AnswerNote) => void;
  /** Sanitized markdown of the answer, as it streams, then any note after it. */
  readonly onMarkdown: (markdown: string) => void;
  readonly onProgress?: (message: string) => void;
}

/** What the guarded-answer path needs from the extension's embedding feature (relevance/semanticIndex.ts). */
export interface SemanticWiring {
  readonly cache: EmbeddingCache;
  /** The configured Ollama: a model picked from another provider cannot embed. */
  readonly embedder: () => LlmPort;
  /** The embedding model could not be used for a request: the user is told once. */
  readonly noticed: (event: Extract<PipelineEvent, { type: 'relevance-notice' }>) => void;
  /** How meaning fared in a request (a model that failed earlier may work again: the status follows). */
  readonly used?: (state: SemanticState) => void;
}

/**
 * The one guarded-answer path, for `@unlearn` and for the guarded models alike: the notes that must come
 * before an answer (a host that is not this machine, an Ollama cloud model, skipped targets), the
 * pipeline with the workspace's targets, its answer through the markdown sanitizer, and a log of stages
 * and counts (the question and the answer only through `trace`). Errors are thrown for the caller to
 * present; nothing of the answer is written before the pipeline has checked it.
 */
export async function answerGuarded(request: GuardedAnswerRequest): Promise<PipelineResult> {
  const { source, llm, model, log } = request;
  const host = llm.host;
  if (!isLoopbackHost(host) && !host.startsWith('vscode.lm:')) request.onNote({ kind: 'remote-host', markdown: remoteHostNote(host) });
  if (runsRemotely({ name: model }, undefined)) {
    request.onNote({
      kind: 'cloud-model',
      markdown: `**${escapeMarkdown(model)}** is an Ollama cloud model: Ollama forwards this conversation, and the targets it touches, to a remote service.`,
    });
  }
  // Never answer as if every target were guarded when some are skipped.
  const broken = brokenTargetsNote(request.targetHealth);
  if (broken) {
    request.onNote({ kind: 'broken-targets', markdown: broken });
    log.warn(`${source}: ${broken.replace(/^⚠ /, '').replace(/`/g, '')}`);
  }
  const sanitizer = new MarkdownSanitizer();
  log.info(
    `${source}: request on ${model} at ${host}, ${request.targets.length} active targets, ${request.history.length} earlier messages` +
      (request.draft !== undefined ? `, the final text of an agent turn with ${request.evidence?.length ?? 0} tool results` : ''),
  );
  log.trace(() => `question: ${request.question}`);
  let notice: Extract<PipelineEvent, { type: 'relevance-notice' }> | undefined;
  const { semantic } = request;
  const result = await runPipeline({
    llm: semantic ? embeddingsFrom(llm, semantic.embedder) : llm,
    index: getCachedIndex(request.targets),
    question: request.question,
    history: [...request.history],
    ...(request.draft !== undefined ? { draft: request.draft } : {}),
    ...(request.evidence?.length ? { evidence: request.evidence } : {}),
    options: pipelineOptions(request.settings, model),
    ...(semantic ? { embeddingCache: semantic.cache } : {}),
    signal: request.signal,
    onEvent: (event) => {
      if (event.type === 'relevance-notice') {
        // No target text in it: the model and what went wrong.
        notice = event;
        log.warn(`${source}: ${event.message}`);
        semantic?.noticed(event);
      }
      const progress = progressMessage(event);
      if (progress) request.onProgress?.(progress);
      if (event.type === 'stage-end') log.info(`${source}: ${event.stage} ${Math.round(event.ms)} ms`);
      if (event.type === 'answer-chunk') {
        const md = sanitizer.push(event.text);
        if (md) request.onMarkdown(md);
      }
    },
  });
  if (result.relevance) semantic?.used?.(result.relevance.semantic);
  const rest = sanitizer.end();
  if (rest) request.onMarkdown(rest);
  // After the answer, never before it: the answer was checked without meaning, by names and keywords.
  if (notice) request.onMarkdown(relevanceNoticeMarkdown(notice));
  // Counts and outcome only: the log must not carry forgotten content.
  log.info(
    `${source}: ${result.outcome}, ${result.calls} model calls, ${result.redactions.length} redactions, guard acted: ${result.guardActed}, ${Math.round(result.totalMs)} ms`,
  );
  log.trace(() => `answer: ${result.answer}`);
  // Core says the question did not fit; in VS Code the fix is a setting.
  if (result.answer === TOO_LONG) {
    request.onMarkdown(
      `\n\n_The context window is ${request.settings.contextLength} tokens: raise the \`unlearn.contextLength\` setting to fit a longer question._`,
    );
  }
  return result;
}

/** The same port, with embeddings from the configured Ollama (a model of another provider has none). */
function embeddingsFrom(llm: LlmPort, embedder: () => LlmPort): LlmPort {
  return {
    host: llm.host,
    chat: (request) => llm.chat(request),
    listModels: (signal) => llm.listModels(signal),
    showModel: (name, signal) => llm.showModel(name, signal),
    embed: (name, input, signal) => embedder().embed(name, input, signal),
    pull: (name, onProgress, signal) => llm.pull(name, onProgress, signal),
    version: (signal) => llm.version(signal),
  };
}

/** Said before every answer when the model's host is not this machine. */
function remoteHostNote(host: string): string {
  return `Sending this conversation to **${escapeMarkdown(host)}**, which is not this machine (\`unlearn.ollamaHost\`).`;
}
