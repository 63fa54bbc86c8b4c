import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { getCachedIndex, redactionMarker } from '../../core/guard';
import { takeAgentStep, toAgentConversation, toToolStepMessages, type PlainMessage } from '../../core/guardedModels';
import type { JsonSchema, LlmPort, ToolSpec } from '../../core/llm';
import type { PipelineResult } from '../../core/pipeline';
import type { ForgetTarget } from '../../core/targets';
import type { TargetSettingsHealth } from '../chat/chatTexts';
import { answerGuarded, type AnswerNote, type GuardedAnswerRequest, type SemanticWiring } from '../chat/guardedAnswer';
import type { UnlearnLog } from '../log';
import { escapeMarkdown, MarkdownSanitizer } from '../chat/markdownSanitizer';
import type { GuardedSettings } from '../settings/settings';
import { pipelineOptions } from '../settings/settingsLogic';

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

export async function runAgentStep(request: AgentStepRequest): Promise<AgentStepResult> {
  const { llm, model, settings, log, source } = request;
  const conversation = toToolStepMessages(request.messages);
  const index = getCachedIndex(request.targets);
  const started = performance.now();
  const step = await takeAgentStep({
    llm,
    messages: conversation.messages,
    tools: request.tools.map(toToolSpec),
    required: request.required,
    index,
    options: pipelineOptions(settings, model),
    signal: request.signal,
  });
  if (step.kind === 'final') {
    // The end of the turn: the text is the draft the pipeline checks, with the tools' results as evidence.
    const asked = toAgentConversation(request.messages);
    const guarded: GuardedAnswerRequest = {
      source,
      llm,
      model,
      settings,
      question: asked.question,
      history: asked.history,
      draft: step.draft,
      evidence: asked.evidence,
      targets: request.targets,
      targetHealth: request.targetHealth,
      signal: request.signal,
      log,
      onNote: request.onNote,
      onMarkdown: (md) => request.report(new vscode.LanguageModelTextPart(md)),
      ...(request.semantic ? { semantic: request.semantic } : {}),
    };
    const result = await answerGuarded(guarded);
    return { kind: 'final', result, omitted: [...new Set([...conversation.omitted, ...asked.omitted])] };
  }

  if (step.text.text) {
    if (index.mentionedTargets(...conversation.messages.map((m) => m.content)).length > 0) {
      // The turn has read or been asked about a target, and no agent checks a step: the model's note
      // beside its calls could describe what it read without naming it, so it is held back (the calls
      // still go out, guarded). Said once a turn, not at every step.
      if (!saidBefore(request.messages, HELD_BACK)) request.report(new vscode.LanguageModelTextPart(`${HELD_BACK}\n\n`));
      log.info(`${source}: the text beside a tool call was held back (the conversation names a target)`);
    } else {
      // What the model says beside its calls ("Reading the spec first") is shown like an answer: guarded.
      const sanitizer = new MarkdownSanitizer();
      const md = sanitizer.push(`${step.text.text}\n\n`) + sanitizer.end();
      if (md.trim()) request.report(new vscode.LanguageModelTextPart(md));
    }
  }
  let masked = 0;
  let blocked = 0;
  for (const guarded of step.calls) {
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
  const n = step.calls.length;
  // Counts only: names and arguments are target text.
  log.info(
    `${source}: tool step on ${model}, ${n} ${n === 1 ? 'call' : 'calls'} (${masked} masked, ${blocked} blocked), ${Math.round(performance.now() - started)} ms`,
  );
  log.trace(() => `tool calls: ${JSON.stringify(step.response.toolCalls)}`);
  return { kind: 'tools', calls: n, masked, blocked, omitted: conversation.omitted };
}

/** Stands once a turn for the model's notes beside its tool calls when the conversation names a target. */
const HELD_BACK =
  "_Unlearn holds back the model's notes between tool calls in this turn: it has read about a forget target. The answer follows once checked._";

function saidBefore(messages: readonly PlainMessage[], text: string): boolean {
  return messages.some((m) => m.role === 'assistant' && m.parts.some((p) => p.type === 'text' && p.text.includes(text)));
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
function blockedNote(tool: string, targets: readonly string[], why: string): string {
  const markers = targets.map((t) => `**${escapeMarkdown(redactionMarker(t))}**`).join(', ');
  return `\n\n⚠ Unlearn blocked a call to the tool \`${tool.replace(/`/g, "'")}\`: its arguments would carry ${markers || 'a forget target'} (${escapeMarkdown(why)}). The call was not made.\n\n`;
}
