/**
 * Scripted replies for the erasure agents, shared by the port-level fake and the scripted Ollama: the
 * rewrite agent writes an erased draft when the question names a target, the edit agent replies with the
 * sentences of a draft to drop or replace (`src/core/agents/edits.ts`; its prompt ends "Candidate n of
 * j."), and the critic replies with scores only (`src/core/agents/critic.ts`).
 */

type Messages = readonly { readonly content: string }[];

/** The candidate a rewrite or edit call asks for, 1-based, read from its prompt's last line. */
export function candidateNumber(messages: Messages): number {
  const m = /Candidate (\d+) of \d+\./.exec(messages.at(-1)?.content ?? '');
  if (!m) throw new Error('erasedReplies: not a candidate prompt (no "Candidate n of j." line)');
  return Number(m[1]);
}

/** The data of a rewrite or edit prompt: the JSON before its "Candidate n of j." line. */
export function candidateData(messages: Messages): {
  forget_targets: { handle: string; name: string; aliases?: string[] }[];
  conversation: { role: string; content: string }[];
  question: string;
  draft_sentences?: { sentence: number; text: string }[];
} {
  const content = messages.at(-1)?.content ?? '';
  const end = content.lastIndexOf('\n\nCandidate ');
  return JSON.parse(end < 0 ? content : content.slice(0, end));
}

/** The numbered draft an edit call carries, sentence 1 first. */
export function draftOf(messages: Messages): string[] {
  return (candidateData(messages).draft_sentences ?? []).map((s) => s.text);
}

/** A reply source for the rewrite agent: call for candidate n answers `texts[n - 1]` (the last repeats). */
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

/** The texts a critic call scores, in candidate order. */
export function criticCandidates(messages: Messages): string[] {
  const data = JSON.parse(messages.at(-1)?.content ?? '{}') as { candidates?: { text: string }[] };
  return (data.candidates ?? []).map((c) => c.text);
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
