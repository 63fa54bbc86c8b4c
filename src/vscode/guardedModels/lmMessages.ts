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
