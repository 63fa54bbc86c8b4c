/**
 * VS Code's language-model values ↔ the plain values core works on (core/guardedModels), recognised by
 * shape where a part comes from a newer or proposed API.
 */
import * as vscode from 'vscode';
import { isTextMime, type GuardedModelInfo, type PlainMessage, type PlainPart } from '../../core/guardedModels';

export function toChatInformation(info: GuardedModelInfo): vscode.LanguageModelChatInformation {
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
  if (part instanceof vscode.LanguageModelPromptTsxPart) {
    // Tools of other extensions (Copilot's file and terminal tools among them) return prompt-tsx trees;
    // their text is what the model should read, and what the guard and relevance must read too.
    const text = textOfPromptTree(part.value);
    return text ? { type: 'text', text } : { type: 'other', description: 'a prompt-tsx part' };
  }
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

/** How deep a prompt-tsx tree is read; a deeper one is cut there rather than risk the stack. */
const MAX_TREE_DEPTH = 64;

/**
 * The text of a prompt-tsx JSON tree (`renderElementJSON`): its text nodes' `text`, in document order.
 * Read by shape, since the format is the library's; a tree with no text gives ''.
 */
function textOfPromptTree(value: unknown): string {
  const out: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > MAX_TREE_DEPTH || typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      for (const child of node) walk(child, depth + 1);
      return;
    }
    const record = node as Record<string, unknown>;
    if (typeof record.text === 'string') out.push(record.text);
    for (const [key, child] of Object.entries(record)) if (key !== 'text' && typeof child === 'object') walk(child, depth + 1);
  };
  walk(value, 0);
  return out.join('');
}
