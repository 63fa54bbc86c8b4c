/**
 * Scripted replies for the erasure agents, shared by the port-level fake and the scripted Ollama. Every
 * agent continues the request's thread (src/core/agents/thread.ts): the vanilla prompt, the draft as an
 * assistant turn, then each agent's task (the last user message, data in a fenced JSON block) and reply.
 * The rewrite agent writes an erased draft when the question names a target; the edit agent replies with
 * the targets it finds touched and j candidate sets of sentences to drop or replace
 * (`src/core/agents/edits.ts`); the critic replies with scores only (`src/core/agents/critic.ts`).
 *
 * Scripts are written per candidate, as if each candidate were its own call: the servers ask an edit
 * script once per candidate (`asCandidateCall`) and combine the replies (`combineCandidateReplies`).
 */
import { agentRoleOf, applyEdits, readEdits, ROLE_SIGNATURE, taskData, type AgentRole } from '../../src/core/agents';
import { splitSentences } from '../../src/core/text';

type Messages = readonly { readonly role?: string; readonly content: string }[];

/** Whether a message is an agent's task: a user message that opens with a role signature. */
export const isTask = (m: { readonly role?: string; readonly content: string }) =>
  m.role === 'user' && Object.values(ROLE_SIGNATURE).some((sig) => m.content.startsWith(sig));

/**
 * The request a structured call's retry ends with (src/core/agents/structured.ts), after the echo of
 * the bad reply or, when the echo would not fit, right after the task.
 */
const RETRY = /^(?:That|Your previous) reply could not be used: /;

/**
 * Where a call's agent task sits: the last message, or the message before a structured retry (the echo
 * of the bad reply and the retry's request). -1 for a call without a task (the vanilla agent's).
 */
function taskIndex(messages: Messages): number {
  const n = messages.length;
  const last = messages[n - 1];
  if (!last) return -1;
  if (isTask(last)) return n - 1;
  if (last.role !== 'user' || !RETRY.test(last.content)) return -1;
  if (n >= 2 && isTask(messages[n - 2]!)) return n - 2;
  if (n >= 3 && messages[n - 2]!.role === 'assistant' && isTask(messages[n - 3]!)) return n - 3;
  return -1;
}

/** A call's agent task (the last user message of its thread), read through a structured retry. */
export function taskOf<M extends { readonly role?: string; readonly content: string }>(messages: readonly M[]): M | undefined {
  const i = taskIndex(messages);
  return i < 0 ? undefined : messages[i];
}

/**
 * Which agent sent a call, as `agentRoleOf` says, but read through a structured retry: a retry's last
 * message is the retry's request, which carries no signature, and is still its agent's call. The test
 * servers route calls by this, so a retried critic call reaches the critic's script.
 */
export function callRoleOf(messages: readonly { readonly role: string; readonly content: string }[]): AgentRole {
  const i = taskIndex(messages);
  // agentRoleOf compares roles as strings; a recorded message's role is any string the wire carried.
  return agentRoleOf((i < 0 ? messages : messages.slice(0, i + 1)) as Parameters<typeof agentRoleOf>[0]);
}

/** How many candidate sets an edit call asks for, or undefined for any other call. */
export function candidateSets(messages: Messages): number | undefined {
  const n = taskData(taskOf(messages))?.candidate_sets;
  return typeof n === 'number' ? n : undefined;
}

/** The call as a per-candidate script reads it: its task ends with "Candidate n of j.". */
export function asCandidateCall<C extends { readonly messages: Messages }>(chat: C, n: number, j: number): C {
  const last = chat.messages.at(-1)!;
  return { ...chat, messages: [...chat.messages.slice(0, -1), { ...last, content: `${last.content}\n\nCandidate ${n} of ${j}.` }] };
}

/** A candidate no draft can take (its sentence does not exist): what an unreadable per-candidate reply becomes. */
const JUNK = { drop: [1_000_000], replace: [] };

/**
 * The edit call's reply from per-candidate replies (objects or JSON text): every candidate's edits in
 * order, and the union of the touched lists they carry. An unreadable one is a junk candidate.
 */
export function combineCandidateReplies(replies: readonly unknown[]): { touched: unknown[]; candidates: unknown[] } {
  const touched: unknown[] = [];
  const candidates = replies.map((r) => {
    let v: unknown = r;
    if (typeof r === 'string') {
      try {
        v = JSON.parse(r);
      } catch {
        return JUNK;
      }
    }
    const o = v as { drop?: unknown; replace?: unknown; touched?: unknown };
    if (!o || typeof o !== 'object' || !Array.isArray(o.drop) || !Array.isArray(o.replace)) return JUNK;
    if (Array.isArray(o.touched)) touched.push(...o.touched);
    return { drop: o.drop, replace: o.replace };
  });
  return { touched, candidates };
}

/** Whether a reply is already a whole edit reply (it has `candidates`), not one candidate's. */
export function isWholeEditReply(reply: unknown): boolean {
  return !!reply && typeof reply === 'object' && Array.isArray((reply as { candidates?: unknown }).candidates);
}

/** The candidate a per-candidate edit script answers, 1-based (1 for a call that asks for one answer, as the rewrite). */
export function candidateNumber(messages: Messages): number {
  const m = /Candidate (\d+) of \d+\.$/.exec(messages.at(-1)?.content ?? '');
  return m ? Number(m[1]) : 1;
}

/** The thread before an agent's task: the conversation the agent reads (all of a call without a task). */
export function threadOf<M extends { readonly role?: string; readonly content: string }>(messages: readonly M[]): readonly M[] {
  const i = taskIndex(messages);
  return i < 0 ? messages : messages.slice(0, i);
}

/** The draft an edit call edits (the assistant turn before its task), or undefined. */
function draftText(messages: Messages): string | undefined {
  const thread = threadOf(messages);
  const last = thread.at(-1);
  return last?.role === 'assistant' ? last.content : undefined;
}

/** What an agent call carries, read back from its thread and task. */
export function candidateData(messages: Messages): {
  forget_targets: { handle: string; name: string; aliases?: string[] }[];
  conversation: { role: string; content: string }[];
  question: string;
  draft_sentences?: { sentence: number; text: string }[];
} {
  const data = (taskData(taskOf(messages)) ?? {}) as { forget_targets?: { handle: string; name: string; aliases?: string[] }[] };
  const thread = threadOf(messages).filter((m) => m.role !== 'system' && !isTask(m));
  const questionAt = thread.map((m) => m.role).lastIndexOf('user');
  const draft = draftText(messages);
  return {
    forget_targets: data.forget_targets ?? [],
    conversation: thread.slice(0, Math.max(0, questionAt)).map((m) => ({ role: m.role ?? '', content: m.content })),
    question: thread[questionAt]?.content ?? '',
    ...(draft !== undefined ? { draft_sentences: splitSentences(draft).sentences.map((x, i) => ({ sentence: i + 1, text: x.text })) } : {}),
  };
}

/** The numbered draft an edit call edits, sentence 1 first. */
export function draftOf(messages: Messages): string[] {
  return (candidateData(messages).draft_sentences ?? []).map((s) => s.text);
}

/** A reply source for the rewrite agent (called once per request): it answers `texts[0]`. */
export function rewrites(texts: readonly string[]): (call: { readonly messages: Messages }) => string {
  return (call) => texts[Math.min(candidateNumber(call.messages), texts.length) - 1]!;
}

/** What the edit agent replies: sentence numbers to drop, and sentences to replace with new text. */
export interface EditReplyShape {
  drop: number[];
  replace: { sentence: number; text: string }[];
}

/** An edit reply (missing lists are empty). */
export function editReply(edits: { drop?: number[]; replace?: { sentence: number; text: string }[] } = {}): EditReplyShape {
  return { drop: edits.drop ?? [], replace: edits.replace ?? [] };
}

/** A reply source for the edit agent: call for candidate n answers `sets[n - 1]` (the last repeats). */
export function edits(
  sets: readonly { drop?: number[]; replace?: { sentence: number; text: string }[] }[],
): (call: { readonly messages: Messages }) => EditReplyShape {
  return (call) => editReply(sets[Math.min(candidateNumber(call.messages), sets.length) - 1]!);
}

/**
 * An edit agent that does its job on names: it drops every draft sentence that spells a forget target of
 * its prompt (name or alias, any case), and nothing else.
 */
export function dropNamed(call: { readonly messages: Messages }): EditReplyShape {
  const data = candidateData(call.messages);
  const terms = data.forget_targets.flatMap((t) => [t.name, ...(t.aliases ?? [])]).map((t) => t.toLowerCase());
  const drop = draftOf(call.messages).flatMap((s, i) => (terms.some((t) => s.toLowerCase().includes(t)) ? [i + 1] : []));
  return editReply({ drop });
}

/** The scores-only critic's reply for per-candidate scores, in candidate order. */
export function criticScores(scores: readonly { readonly forget: number; readonly utility: number }[]): {
  forget: number[];
  utility: number[];
} {
  return { forget: scores.map((s) => s.forget), utility: scores.map((s) => s.utility) };
}

/**
 * The texts a critic call scores, in the order it scores them: the candidates of the edit reply before
 * its task (by `score_candidates`), each applied to the draft before that.
 */
export function criticCandidates(messages: Messages): string[] {
  // The critic's thread ends: …, the draft, the edit task, the edit reply, then its own task.
  const at = taskIndex(messages);
  if (at < 3) return [];
  const numbers = (taskData(messages[at])?.score_candidates ?? []) as number[];
  const draft = messages[at - 3]!.content;
  let reply: { candidates?: { drop: number[]; replace: { sentence: number; text: string }[] }[] } = {};
  try {
    reply = JSON.parse(messages[at - 1]!.content) as typeof reply;
  } catch {
    // An unreadable edit reply leaves nothing to read back.
  }
  const sentences = splitSentences(draft);
  return numbers.map((n) => {
    const read = readEdits(reply.candidates?.[n - 1] ?? { drop: [], replace: [] }, sentences);
    return 'edits' in read ? applyEdits(sentences, read.edits) : '';
  });
}

/**
 * A critic that scores however many candidates it is sent: `score` for each text (1-based candidate number
 * as the second argument), or the same scores for all.
 */
export function criticEach(
  score:
    | { readonly forget: number; readonly utility: number }
    | ((text: string, candidate: number) => { readonly forget: number; readonly utility: number }),
): (call: { readonly messages: Messages }) => { forget: number[]; utility: number[] } {
  return (call) => criticScores(criticCandidates(call.messages).map((t, i) => (typeof score === 'function' ? score(t, i + 1) : score)));
}

/**
 * An edit agent whose candidate n turns the whole draft into `texts[n - 1]` (the last repeats): its first
 * sentence replaced, every other one dropped. For tests about what happens around erasure, where the
 * erased answer only needs to be a known text.
 */
export function replaceDraft(texts: readonly string[]): (call: { readonly messages: Messages }) => EditReplyShape {
  return (call) => {
    const text = texts[Math.min(candidateNumber(call.messages), texts.length) - 1]!;
    const drop = draftOf(call.messages).flatMap((_, i) => (i > 0 ? [i + 1] : []));
    return editReply({ drop, replace: [{ sentence: 1, text }] });
  };
}

/**
 * A rewrite agent's draft for tests whose edit agent replaces the whole draft (`replaceDraft`): it differs
 * from every candidate text, so each candidate is a real edit.
 */
export const NEUTRAL_DRAFT = 'Here is an answer written with the forget targets left out.';
