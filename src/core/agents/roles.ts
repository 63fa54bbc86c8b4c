import type { ChatMessage } from '../llm';

export type AgentRole = 'vanilla' | 'detect' | 'rewrite' | 'edit' | 'critic' | 'compose';

/** Each non-vanilla agent's task opens with its signature, so logs and test servers can tell calls apart. */
export const ROLE_SIGNATURE: Record<Exclude<AgentRole, 'vanilla'>, string> = {
  detect: 'You are the detection agent of Unlearn',
  rewrite: 'You are the rewrite agent of Unlearn',
  critic: 'You are the critic agent of Unlearn',
  compose: 'You are the composer agent of Unlearn',
  edit: 'You are the edit agent of Unlearn',
};

/** How a structured call's retry opens (structured.ts). */
const RETRY = /^(?:That|Your previous) reply could not be used: /;

/**
 * Which agent sent these messages, for test servers and logs: an agent's task is the last user message
 * and opens with its signature (a system prompt that opens with one counts too). A request without
 * either is the vanilla agent's. The pipeline itself labels its calls and never asks this.
 */
export function agentRoleOf(messages: readonly Pick<ChatMessage, 'role' | 'content'>[]): AgentRole {
  // A structured call's retry (structured.ts) ends with the problem restated, after the bad reply or
  // not: it is still the call of the task before it.
  let end = messages.length;
  if (messages[end - 1]?.role === 'user' && RETRY.test(messages[end - 1]!.content)) end -= messages[end - 2]?.role === 'assistant' ? 2 : 1;
  const last = messages[end - 1];
  const texts = [last?.role === 'user' ? last.content : '', messages.find((m) => m.role === 'system')?.content ?? ''];
  for (const text of texts)
    for (const [role, signature] of Object.entries(ROLE_SIGNATURE) as [Exclude<AgentRole, 'vanilla'>, string][]) {
      if (text.startsWith(signature)) return role;
    }
  return 'vanilla';
}
