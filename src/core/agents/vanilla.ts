import type { ChatMessage } from '../llm';

/** The vanilla agent answers as the plain model would; its answer is never shown unchecked. */
export const VANILLA_SYSTEM_PROMPT = "You are a helpful assistant. Answer the user's question clearly and accurately.";

export function buildVanillaMessages(question: string, history: readonly ChatMessage[]): ChatMessage[] {
  return [
    { role: 'system', content: VANILLA_SYSTEM_PROMPT },
    ...history.filter((m) => m.role !== 'system'),
    { role: 'user', content: question },
  ];
}
