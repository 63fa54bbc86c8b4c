import { estimateTokens, MESSAGE_OVERHEAD_TOKENS } from '../llm';
import type { PlainMessage, PlainPart } from './messages';

export { estimateTokens, MESSAGE_OVERHEAD_TOKENS };

/** A VS Code chat message's tokens, as VS Code counts them to decide how much history fits. */
export function estimateMessageTokens(message: PlainMessage): number {
  return MESSAGE_OVERHEAD_TOKENS + message.parts.reduce((n, p) => n + partTokens(p), 0);
}

function partTokens(part: PlainPart): number {
  switch (part.type) {
    case 'text':
      return estimateTokens(part.text);
    case 'toolCall':
      return estimateTokens(part.name) + estimateTokens(JSON.stringify(part.input) ?? '') + 8;
    case 'toolResult':
      return part.parts.reduce((n, p) => n + partTokens(p), 8);
    case 'data':
      // Only text data reaches the model; the rest becomes a one-line note.
      return part.text !== undefined ? estimateTokens(part.text) : 16;
    case 'other':
      return 0;
  }
}
