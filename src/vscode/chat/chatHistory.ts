import type { ChatMessage } from '../../core/llm';

/** A turn of this participant's conversation, reduced to what the pipeline needs. */
export type PlainTurn =
  | { readonly kind: 'request'; readonly prompt: string; readonly command?: string }
  | { readonly kind: 'response'; readonly answer?: string; readonly markdown: readonly string[] };

/**
 * Earlier turns → pipeline history. The guarded answer stored in a response's metadata is preferred
 * over its rendered markdown (which carries escapes, notes and button labels). Slash-command turns are
 * about the extension, not the conversation, and are left out with their responses.
 */
export function toHistory(turns: readonly PlainTurn[]): ChatMessage[] {
  const history: ChatMessage[] = [];
  let skipNextResponse = false;
  for (const turn of turns) {
    if (turn.kind === 'request') {
      skipNextResponse = turn.command !== undefined;
      if (!skipNextResponse && turn.prompt.trim()) history.push({ role: 'user', content: turn.prompt });
      continue;
    }
    if (skipNextResponse) {
      skipNextResponse = false;
      continue;
    }
    const content = turn.answer ?? turn.markdown.join('');
    if (content.trim()) history.push({ role: 'assistant', content });
  }
  return history;
}
