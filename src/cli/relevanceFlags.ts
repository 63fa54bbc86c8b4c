import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { AUDIT_POLICIES, type AuditPolicy, DEFAULT_EMBEDDING_MODEL } from '../core/relevance';
import type { PipelineEvent } from '../core/pipeline';
import { forTerminal, type CliIo } from './io';

/** Help line for --embedding-model, shared by `ask` and `eval run`. */
export const EMBEDDING_MODEL_HELP = `  --embedding-model M  Ollama embedding model for relevance by meaning (default: $UNLEARN_EMBEDDING_MODEL or ${DEFAULT_EMBEDDING_MODEL}; "none" = names and keywords only)`;

/** Help lines for `ask` (`eval run` words --audit-policy itself: it takes a list). */
export const RELEVANCE_HELP = `${EMBEDDING_MODEL_HELP}
  --audit-policy P   when the agents audit an answer: related (default: a name, keyword or meaning points at a target), always (every answer, as ALU), named (only spelled names)`;

export function parseAuditPolicy(value: string | undefined): AuditPolicy | string {
  if (value === undefined) return 'related';
  return (AUDIT_POLICIES as readonly string[]).includes(value)
    ? (value as AuditPolicy)
    : `--audit-policy must be one of ${AUDIT_POLICIES.join(', ')}, got "${value}"`;
}

/** The embedding model, or undefined for none ("none" or an empty value). */
export function embeddingModelOf(value: string | undefined, env: CliIo['env']): string | undefined {
  const chosen = (value ?? env.UNLEARN_EMBEDDING_MODEL ?? DEFAULT_EMBEDDING_MODEL).trim();
  return chosen && chosen.toLowerCase() !== 'none' ? chosen : undefined;
}

/** Where target embeddings are cached: --cache-dir, else $XDG_CACHE_HOME/unlearn, else ~/.cache/unlearn. */
export function cacheDirOf(value: string | undefined, io: CliIo): string {
  if (value) return resolve(io.cwd, value);
  const base = io.env.XDG_CACHE_HOME || join(io.env.HOME || homedir(), '.cache');
  return join(base, 'unlearn', 'embeddings');
}

/** The pipeline's relevance notice for a terminal: what happened, and what to do about it here. */
export function relevanceNoticeText(event: Extract<PipelineEvent, { type: 'relevance-notice' }>, isTTY: boolean | undefined): string {
  const fix = event.pull
    ? ` Run \`ollama pull ${event.pull}\`, or pass --embedding-model none.`
    : ' Pass --embedding-model none to stop trying, or another model with --embedding-model.';
  return `unlearn: ${forTerminal(event.message, isTTY)}${event.message.includes('ollama pull') ? '' : fix}\n`;
}
