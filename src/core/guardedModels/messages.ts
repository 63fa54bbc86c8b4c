import type { ChatMessage } from '../llm';

/**
 * A plain copy of one VS Code chat message (`LanguageModelChatRequestMessage`), made by the adapter so
 * the conversion below runs without the editor.
 */
export interface PlainMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly parts: readonly PlainPart[];
  readonly name?: string;
}

export type PlainPart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'toolCall'; readonly callId: string; readonly name: string; readonly input: unknown }
  | { readonly type: 'toolResult'; readonly callId: string; readonly parts: readonly PlainPart[] }
  /** Binary or typed data (an image, a JSON blob, a cache hint). `text` is set when it decodes as text. */
  | { readonly type: 'data'; readonly mimeType: string; readonly text?: string; readonly bytes: number }
  /** A part this code does not know (a prompt-tsx tree, a future part type): described, never dropped silently. */
  | { readonly type: 'other'; readonly description: string };

/** What the pipeline gets: the question it answers and the turns before it. */
export interface PipelineConversation {
  readonly question: string;
  /** Oldest first, user and assistant only; system text comes first as a labelled user turn. */
  readonly history: ChatMessage[];
  /** Parts that could not be passed on (images…), so the adapter can say so rather than hide it. */
  readonly omitted: string[];
}

/** Mime types that are hints to a model's transport, not content (Copilot's `cache_control`, for one). */
const TRANSPORT_HINTS = new Set(['cache_control', 'stateful_marker']);

/** Caps a tool call's JSON input so one huge argument cannot push the conversation out of the window. */
const MAX_TOOL_INPUT_CHARS = 4000;

export class ConversationError extends Error {
  override readonly name = 'ConversationError';
}

/**
 * Turns the message list VS Code hands a model provider into the pipeline's question and history.
 *
 * - The last user message is the question (its text, tool results and readable attachments).
 * - System messages are not dropped: their text becomes the first history turn, labelled, because the
 *   pipeline reserves the system role for its own agents' instructions.
 * - Tool calls and tool results earlier in the conversation (from another model, or another extension's
 *   loop) become readable text, so the vanilla agent sees what was called and what came back, and the
 *   retrieval and guard scan that text like any other.
 * - Images and other binary data cannot reach a text pipeline; they are named in `omitted`.
 */
export function toPipelineConversation(messages: readonly PlainMessage[]): PipelineConversation {
  const omitted: string[] = [];
  const toolNames = new Map<string, string>();
  for (const m of messages) for (const p of m.parts) if (p.type === 'toolCall') toolNames.set(p.callId, p.name);

  const rendered = messages.map((m) => ({ role: m.role, text: renderParts(m.parts, toolNames, omitted).trim() }));
  let last = -1;
  for (let i = rendered.length - 1; i >= 0; i--) {
    if (rendered[i]!.role === 'user' && rendered[i]!.text) {
      last = i;
      break;
    }
  }
  if (last < 0) throw new ConversationError('The request has no user message with text to answer.');
  // Anything after the last user message (an assistant prefix someone appended) has nothing to answer;
  // keeping it would make the vanilla agent continue a reply instead of answering.
  const system = rendered.filter((m, i) => m.role === 'system' && m.text && i < last).map((m) => m.text);
  const turns = rendered.slice(0, last).filter((m) => m.role !== 'system' && m.text);

  const history: ChatMessage[] = [];
  if (system.length)
    history.push({ role: 'user', content: `Instructions from the chat client (its system message):\n${system.join('\n\n')}` });
  for (const t of turns) {
    // Two user turns in a row (instructions, then the first question) stay separate messages; Ollama's
    // chat templates accept that, and merging would blur who said what.
    history.push({ role: t.role === 'assistant' ? 'assistant' : 'user', content: t.text });
  }
  const trailingSystem = rendered.slice(last + 1).filter((m) => m.role === 'system' && m.text);
  const question = trailingSystem.length
    ? `${rendered[last]!.text}\n\n(Instructions: ${trailingSystem.map((m) => m.text).join(' ')})`
    : rendered[last]!.text;
  return { question, history, omitted };
}

/** The readable text of some parts (a tool result's content), as the pipeline renders them; what cannot be read goes to `omitted`. */
export function textOfParts(parts: readonly PlainPart[], omitted: string[] = []): string {
  return renderParts(parts, new Map(), omitted).trim();
}

/** Adjacent text parts are one text split up (VS Code concatenates them); other parts go on their own line. */
function renderParts(parts: readonly PlainPart[], toolNames: ReadonlyMap<string, string>, omitted: string[]): string {
  let out = '';
  let lastWasText = false;
  const add = (piece: string, isText: boolean) => {
    out += out && !(isText && lastWasText) ? `\n${piece}` : piece;
    lastWasText = isText;
  };
  for (const p of parts) {
    switch (p.type) {
      case 'text':
        if (p.text) add(p.text, true);
        break;
      case 'toolCall':
        add(`[Called tool "${p.name}" (call ${p.callId}) with ${truncate(safeJson(p.input), MAX_TOOL_INPUT_CHARS)}]`, false);
        break;
      case 'toolResult': {
        const body = renderParts(p.parts, toolNames, omitted).trim();
        const name = toolNames.get(p.callId);
        add(`[Result of tool ${name ? `"${name}" ` : ''}(call ${p.callId})]\n${body || '(empty)'}`, false);
        break;
      }
      case 'data':
        if (TRANSPORT_HINTS.has(p.mimeType)) break;
        if (p.text !== undefined) add(p.text, false);
        else {
          const what = `${p.mimeType} attachment (${p.bytes} bytes)`;
          omitted.push(what);
          add(`[An ${what} was attached; this text-only model cannot see it.]`, false);
        }
        break;
      case 'other':
        omitted.push(p.description);
        break;
    }
  }
  return out;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'nothing';
  } catch {
    return String(value);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Mime types whose bytes are text and can be shown to the model as such. */
export function isTextMime(mimeType: string): boolean {
  const base = mimeType.split(';', 1)[0]!.trim().toLowerCase();
  return (
    base.startsWith('text/') || base === 'application/json' || base.endsWith('+json') || base === 'application/xml' || base.endsWith('+xml')
  );
}
