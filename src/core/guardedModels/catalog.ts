import type { ModelDetails, ModelInfo } from '../llm';
import { replyTokens } from '../pipeline';

/** The vendor id under which VS Code lists our models (`contributes.languageModelChatProviders`). */
export const GUARDED_VENDOR = 'unlearn';

/** Shown after the model's name in the picker, so nobody mistakes a guarded model for the plain one. */
const GUARDED_SUFFIX = ' · Unlearn';

/** Ollama's own default context window, used when /api/show does not report one. */
export const FALLBACK_CONTEXT_TOKENS = 4096;

/**
 * What VS Code needs to list one model. Structurally the same as `vscode.LanguageModelChatInformation`,
 * kept here so listing can be tested without the editor.
 */
export interface GuardedModelInfo {
  /** The Ollama model name, exactly as `/api/tags` gives it (`llama3.2:latest`); requests use it as is. */
  readonly id: string;
  readonly name: string;
  readonly family: string;
  readonly version: string;
  readonly detail: string;
  readonly tooltip: string;
  readonly maxInputTokens: number;
  readonly maxOutputTokens: number;
  readonly capabilities: { readonly toolCalling: boolean; readonly imageInput: boolean };
}

/** "llama3.2:latest" → "llama3.2 · Unlearn"; other tags stay visible ("qwen2.5:7b · Unlearn"). */
export function guardedModelName(ollamaName: string): string {
  return `${shortModelName(ollamaName)}${GUARDED_SUFFIX}`;
}

/** The name a person types for `ollama run`: `:latest` is implied. */
export function shortModelName(ollamaName: string): string {
  return ollamaName.endsWith(':latest') ? ollamaName.slice(0, -':latest'.length) : ollamaName;
}

/** Two names for the same Ollama model ("llama3.2" and "llama3.2:latest") compare equal. */
export function sameOllamaModel(a: string, b: string): boolean {
  return shortModelName(a.trim()) === shortModelName(b.trim());
}

/**
 * Splits one window into input and output budgets, the pipeline's split (`replyTokens`).
 * VS Code trims the conversation to `maxInputTokens` using our token estimate.
 */
export function tokenBudget(contextLength: number | undefined): { maxInputTokens: number; maxOutputTokens: number } {
  const window =
    contextLength !== undefined && Number.isFinite(contextLength) && contextLength > 0
      ? Math.floor(contextLength)
      : FALLBACK_CONTEXT_TOKENS;
  const maxOutputTokens = replyTokens(window);
  return { maxInputTokens: window - maxOutputTokens, maxOutputTokens };
}

/**
 * Ollama lists embedding models next to chat models; they cannot answer, so they are left out.
 * A model whose capabilities are unknown (an older server) is kept: the request will say if it fails.
 */
export function canChat(details: ModelDetails | undefined): boolean {
  const caps = details?.capabilities;
  if (!caps || caps.length === 0) return true;
  return caps.includes('completion') || !caps.includes('embedding');
}

/**
 * True for an Ollama cloud model: a local name that forwards every request to a remote service
 * (`gpt-oss:120b-cloud`, `glm-4.6:cloud`). Ollama names them with a `cloud` tag or a `-cloud` suffix,
 * and /api/show reports `remote_host` / `remote_model` for them. Such a model is never guarded: the
 * promise is that the conversation and the targets stay with the local server.
 */
export function runsRemotely(model: Pick<ModelInfo, 'name'>, details: ModelDetails | Error | undefined): boolean {
  const name = model.name.trim().toLowerCase();
  if (/(?:[:-])cloud(?::latest)?$/.test(name)) return true;
  const known = details instanceof Error ? undefined : details;
  return !!(known?.remoteHost || known?.remoteModel);
}

/** Why models of the server were not listed, in counts only (no names go to the log). */
export interface LeftOut {
  readonly embeddingOnly: number;
  readonly remote: number;
}

/** Counts what `describeGuardedModels` leaves out of the same input, for the log. */
export function leftOutModels(models: readonly ModelInfo[], details: readonly (ModelDetails | Error | undefined)[]): LeftOut {
  let embeddingOnly = 0;
  let remote = 0;
  models.forEach((model, i) => {
    const d = details[i];
    if (runsRemotely(model, d)) remote++;
    else if (!canChat(d instanceof Error ? undefined : d)) embeddingOnly++;
  });
  return { embeddingOnly, remote };
}

/**
 * The guarded models for what the server has installed. `details[i]` belongs to `models[i]`; an
 * Error there (a failed /api/show) still lists the model, with Ollama's default window.
 *
 * Cloud models (`runsRemotely`) are left out: a guarded model must answer from the configured server.
 *
 * Tool calling is declared when the model itself supports tools (/api/show lists `tools`): then the
 * model is offered in Agent mode, its tool steps pass the leak guard and its final text the pipeline
 * (docs/agent-mode.md). A model without tools, or of an older server that does not say, is Ask-only.
 */
export function describeGuardedModels(
  host: string,
  models: readonly ModelInfo[],
  details: readonly (ModelDetails | Error | undefined)[],
): GuardedModelInfo[] {
  const listed: GuardedModelInfo[] = [];
  models.forEach((model, i) => {
    const d = details[i];
    const known = d instanceof Error ? undefined : d;
    if (runsRemotely(model, d) || !canChat(known)) return;
    const budget = tokenBudget(known?.contextLength);
    const [, tag = 'latest'] = model.name.split(':', 2);
    const facts = [model.parameterSize, model.quantization].filter((s): s is string => !!s);
    const windowNote = known?.contextLength
      ? `${known.contextLength.toLocaleString('en-US')}-token window`
      : `window unknown (${d instanceof Error ? 'could not read model details' : 'not reported'}), assuming ${FALLBACK_CONTEXT_TOKENS}`;
    const toolCalling = supportsTools(known);
    listed.push({
      id: model.name,
      name: guardedModelName(model.name),
      family: model.family ?? shortModelName(model.name).split(':')[0]!,
      version: tag,
      detail: ['guarded', ...facts].join(' · '),
      tooltip:
        `${model.name} on ${host}, behind Unlearn: every answer passes the ALU agents and the leak guard for this ` +
        `workspace's forget targets. ${windowNote}. ` +
        (toolCalling
          ? 'Tool calling (Agent mode): every call is checked by the leak guard before it runs.'
          : 'Text only; the model does not support tool calling.'),
      ...budget,
      capabilities: { toolCalling, imageInput: false },
    });
  });
  return listed.sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether Ollama says the model can call tools (its /api/show `capabilities` include `tools`). */
export function supportsTools(details: ModelDetails | Error | undefined): boolean {
  return !(details instanceof Error) && !!details?.capabilities?.includes('tools');
}

/** A fingerprint of the installed list, to tell a real change (a pull, a delete) from a re-poll. */
export function modelsFingerprint(models: readonly ModelInfo[]): string {
  return models
    .map((m) => `${m.name}\u0000${m.sizeBytes ?? ''}`)
    .sort()
    .join('\u0001');
}
