import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { AUDIT_POLICIES, type AuditPolicy, DEFAULT_EMBEDDING_MODEL } from '../core/relevance';
import type { PipelineEvent } from '../core/pipeline';
import { forTerminal, type CliIo } from './io';

/** Help line for --embedding-model, shared by `ask` and `eval run`. */
export const EMBEDDING_MODEL_HELP = `  --embedding-model M  Ollama embedding model for relevance by meaning (default: $UNLEARN_EMBEDDING_MODEL or ${DEFAULT_EMBEDDING_MODEL}; "none" = names and keywords only)`;

/** Help lines for `ask` (`eval run` words --audit-policy itself: it takes a list). */
export const RELEVANCE_HELP = `${EMBEDDING_MODEL_HELP}
  --audit-policy P   when the agents erase an answer:
                       related (default): a name or name part, or a keyword or meaning score in the sure band,
                         erases with no detection call; a score in the uncertain band asks detection (one short
                         call) first; far from every target: one call, streamed. What is shown is meaning-checked.
                       always: every answer is erased against the closest targets, as ALU publishes it (vanilla,
                         rewrites, critic, maybe composer: 5+ calls; nothing shown before erasure); meaning-checked
                       named: only a spelled name, alias or name part erases; no keywords, meaning or meaning check`;

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
