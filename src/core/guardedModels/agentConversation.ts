import { withoutMarkerNames } from '../guard';
import type { ChatMessage, ToolCall } from '../llm';
import { sanitizeUserText } from '../text';
import { textOfParts, toPipelineConversation, type PipelineConversation, type PlainMessage, type PlainPart } from './messages';

/**
 * Agent mode's two views of one conversation. A tool step sends the conversation to the model as it is
 * (tool calls and tool results in the model's own format, so it can go on with its loop); the final text
 * of a turn goes to the pipeline, which needs the user's question, the earlier turns, and everything the
 * tools brought in as evidence.
 */

export interface ToolStepMessages {
  readonly messages: ChatMessage[];
  /** Parts the model cannot be sent (images…), named so the caller can say so. */
  readonly omitted: string[];
}

/**
 * The conversation for a tool step. System messages stay system messages here (they hold the chat
 * client's agent instructions); text is cleaned of controls as the pipeline cleans user text, and an
 * earlier answer's redaction markers lose their names, so a step never hands a removed name back.
 * A user message's tool results come first, each as a `tool` message, because a model expects the
 * results right after the assistant message that made the calls.
 */
export function toToolStepMessages(messages: readonly PlainMessage[]): ToolStepMessages {
  const omitted: string[] = [];
  const toolNames = new Map<string, string>();
  for (const m of messages) for (const p of m.parts) if (p.type === 'toolCall') toolNames.set(p.callId, p.name);
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'assistant') {
      const toolCalls: ToolCall[] = m.parts.flatMap((p) =>
        p.type === 'toolCall' ? [{ id: p.callId, name: p.name, arguments: asArguments(p.input) }] : [],
      );
      const text = clean(textOfParts(m.parts.filter(isContent), omitted), true);
      if (text || toolCalls.length) out.push({ role: 'assistant', content: text, ...(toolCalls.length ? { toolCalls } : {}) });
      continue;
    }
    for (const p of m.parts) {
      if (p.type !== 'toolResult') continue;
      const name = toolNames.get(p.callId);
      out.push({
        role: 'tool',
        content: clean(textOfParts(p.parts, omitted), false) || '(empty)',
        toolCallId: p.callId,
        ...(name ? { toolName: name } : {}),
      });
    }
    const text = clean(textOfParts(m.parts.filter(isContent), omitted), false);
    if (text) out.push({ role: m.role, content: text });
  }
  return { messages: out, omitted };
}

export interface AgentConversation extends PipelineConversation {
  /** Every tool result's text in the conversation, whole: what the matcher and relevance read. */
  readonly evidence: string[];
}

/**
 * The conversation for the pipeline, when the model has written the turn's final text. The question is
 * the last user message the person wrote (text, no tool results): in a tool loop every later user
 * message carries only results. The tool exchange after it is not history (the draft already says what
 * the model made of it) but evidence, read whole.
 */
export function toAgentConversation(messages: readonly PlainMessage[]): AgentConversation {
  let asked = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'user' && !m.parts.some((p) => p.type === 'toolResult') && textOfParts(m.parts.filter(isContent))) {
      asked = i;
      break;
    }
  }
  const base = toPipelineConversation(asked >= 0 ? messages.slice(0, asked + 1) : messages);
  const omitted = [...base.omitted];
  const evidence = messages.flatMap((m) =>
    m.parts.flatMap((p) => {
      if (p.type !== 'toolResult') return [];
      const text = textOfParts(p.parts, omitted);
      return text ? [text] : [];
    }),
  );
  return { ...base, omitted: [...new Set(omitted)], evidence };
}

function isContent(p: PlainPart): boolean {
  return p.type !== 'toolCall' && p.type !== 'toolResult';
}

function clean(text: string, earlierAnswer: boolean): string {
  const cleaned = sanitizeUserText(text);
  return earlierAnswer ? withoutMarkerNames(cleaned) : cleaned;
}

/** VS Code types a call's input as `object`; anything else (a string from a lax caller) is parsed or wrapped. */
function asArguments(input: unknown): Record<string, unknown> {
  if (typeof input === 'string') {
    try {
      const parsed = JSON.parse(input) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // not JSON: passed on as the one argument it is
    }
    return { input };
  }
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
}
