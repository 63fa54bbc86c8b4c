import type { ChatMessage } from '../llm';

export type AgentRole = 'vanilla' | 'detect' | 'rewrite' | 'edit' | 'critic' | 'compose';

/** Each non-vanilla agent's system prompt opens with its signature, so logs and test servers can tell calls apart. */
export const ROLE_SIGNATURE: Record<Exclude<AgentRole, 'vanilla'>, string> = {
  detect: 'You are the detection agent of Unlearn',
  rewrite: 'You are the rewrite agent of Unlearn',
  critic: 'You are the critic agent of Unlearn',
  compose: 'You are the composer agent of Unlearn',
  edit: 'You are the edit agent of Unlearn',
};

/** Which agent sent these messages (a request without an agent signature is the vanilla agent's). */
export function agentRoleOf(messages: readonly Pick<ChatMessage, 'role' | 'content'>[]): AgentRole {
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  for (const [role, signature] of Object.entries(ROLE_SIGNATURE) as [Exclude<AgentRole, 'vanilla'>, string][]) {
    if (system.startsWith(signature)) return role;
  }
  return 'vanilla';
}
