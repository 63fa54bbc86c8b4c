import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { getCachedIndex, finalizeAnswer, redactionMarker } from '../core/guard';
import { guardToolCall, toAgentConversation, toToolStepMessages, type PlainMessage } from '../core/guardedModels';
import type { ChatMessage, JsonSchema, LlmPort, ToolSpec } from '../core/llm/port';
import { KEEP_ALIVE, type PipelineResult } from '../core/pipeline';
import type { ForgetTarget } from '../core/targets';
import type { TargetSettingsHealth } from './chatTexts';
import { answerGuarded, type AnswerNote, type GuardedAnswerRequest, type SemanticWiring } from './guardedAnswer';
import type { UnlearnLog } from './log';
import { escapeMarkdown, MarkdownSanitizer } from './markdownSanitizer';
import type { GuardedSettings } from './settings';
import { pipelineOptions } from './settingsValues';

/**
 * One request of an Agent-mode loop to a guarded model. VS Code sends the conversation so far with its
 * tools; the model either calls tools (a step of the loop) or writes the turn's final text.
 *
 * - A tool step costs the model's call and the leak guard, nothing more: the text beside the calls is
 *   guarded like an answer, and each call's arguments pass `guardToolCall` (masked, or blocked with a
 *   line that says which target blocked it) before VS Code sees the call and asks to run it.
 * - The final text goes through the pipeline as the vanilla answer would (`draft`), with every tool
 *   result as evidence: a result that names or is about a target sends the text to the agents.
 *
 * Nothing of the model's text is shown before it is known whether the reply is a step or the end.
 */

export interface AgentStepRequest {
  readonly source: string;
  readonly llm: LlmPort;
  readonly model: string;
  readonly settings: GuardedSettings;
  readonly messages: readonly PlainMessage[];
  readonly tools: readonly vscode.LanguageModelChatTool[];
  readonly required: boolean;
  readonly targets: readonly ForgetTarget[];
  readonly targetHealth: TargetSettingsHealth;
  readonly semantic?: SemanticWiring;
  readonly signal: AbortSignal;
  readonly log: Pick<UnlearnLog, 'info' | 'warn' | 'trace'>;
  readonly onNote: (note: AnswerNote) => void;
  readonly report: (part: vscode.LanguageModelTextPart | vscode.LanguageModelToolCallPart) => void;
}

export type AgentStepResult =
  | { readonly kind: 'tools'; readonly calls: number; readonly masked: number; readonly blocked: number; readonly omitted: string[] }
  | { readonly kind: 'final'; readonly result: PipelineResult; readonly omitted: string[] };

/** Said as a system message when VS Code requires a tool call: Ollama has no way to force one. */
const REQUIRED_NOTE = 'Reply with a call to one of the tools; do not answer in text.';

export async function runAgentStep(request: AgentStepRequest): Promise<AgentStepResult> {
  const { llm, model, settings, log, source } = request;
  const step = toToolStepMessages(request.messages);
  const options = pipelineOptions(settings, model);
  const messages: ChatMessage[] = request.required ? [...step.messages, { role: 'system', content: REQUIRED_NOTE }] : step.messages;
  const started = performance.now();
  const reply = await llm.chat({
    model,
    messages,
    tools: request.tools.map(toToolSpec),
    label: 'agent step',
    signal: request.signal,
    keepAlive: KEEP_ALIVE,
    firstTokenTimeoutMs: options.firstTokenTimeoutMs,
    totalTimeoutMs: options.totalTimeoutMs,
    options: {
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      ...(options.contextLength ? { num_ctx: options.contextLength } : {}),
    },
  });
  const calls = reply.toolCalls ?? [];
  if (calls.length === 0) {
    // The end of the turn: the text is the draft the pipeline checks, with the tools' results as evidence.
    const conversation = toAgentConversation(request.messages);
    const guarded: GuardedAnswerRequest = {
      source,
      llm,
      model,
      settings,
      question: conversation.question,
      history: conversation.history,
      draft: reply.content,
      evidence: conversation.evidence,
      targets: request.targets,
      targetHealth: request.targetHealth,
      signal: request.signal,
      log,
      onNote: request.onNote,
      onMarkdown: (md) => request.report(new vscode.LanguageModelTextPart(md)),
      ...(request.semantic ? { semantic: request.semantic } : {}),
    };
    const result = await answerGuarded(guarded);
    return { kind: 'final', result, omitted: [...new Set([...step.omitted, ...conversation.omitted])] };
  }

  const index = getCachedIndex(request.targets);
  const text = reply.content.trim();
  if (text) {
    // What the model says beside its calls ("Reading the spec first") is shown like an answer: guarded.
    const finalized = finalizeAnswer(text, index, [], () => '');
    const sanitizer = new MarkdownSanitizer();
    const md = sanitizer.push(`${finalized.text}\n\n`) + sanitizer.end();
    if (md.trim()) request.report(new vscode.LanguageModelTextPart(md));
  }
  const schemas = new Map(request.tools.map((t) => [t.name, t.inputSchema as JsonSchema | undefined]));
  let masked = 0;
  let blocked = 0;
  for (const call of calls) {
    const guarded = guardToolCall(call, index, schemas.get(call.name));
    if (guarded.kind === 'blocked') {
      blocked++;
      request.report(new vscode.LanguageModelTextPart(blockedNote(guarded.name, guarded.targets, guarded.why)));
      continue;
    }
    if (guarded.kind === 'masked') masked++;
    // VS Code pairs a result with its call by id; Ollama mostly gives none.
    const callId = guarded.call.id ?? `unlearn-${randomUUID()}`;
    request.report(new vscode.LanguageModelToolCallPart(callId, guarded.call.name, guarded.call.arguments));
  }
  // Counts only: names and arguments are target text.
  log.info(
    `${source}: tool step on ${model}, ${calls.length} ${calls.length === 1 ? 'call' : 'calls'} (${masked} masked, ${blocked} blocked), ${Math.round(performance.now() - started)} ms`,
  );
  log.trace(() => `tool calls: ${JSON.stringify(calls)}`);
  return { kind: 'tools', calls: calls.length, masked, blocked, omitted: step.omitted };
}

function toToolSpec(tool: vscode.LanguageModelChatTool): ToolSpec {
  return {
    name: tool.name,
    description: tool.description,
    parameters: (tool.inputSchema as JsonSchema | undefined) ?? { type: 'object', properties: {} },
  };
}

/**
 * The line that stands in for a blocked call. The markers carry the names as the chat's markers do (the
 * person may see which of their targets acted); sent back as history, they lose the names like any marker.
 */
export function blockedNote(tool: string, targets: readonly string[], why: string): string {
  const markers = targets.map((t) => `**${escapeMarkdown(redactionMarker(t))}**`).join(', ');
  return `\n\n⚠ Unlearn blocked a call to the tool \`${tool.replace(/`/g, "'")}\`: its arguments would carry ${markers || 'a forget target'} (${escapeMarkdown(why)}). The call was not made.\n\n`;
}
