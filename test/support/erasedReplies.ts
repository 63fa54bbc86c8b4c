/**
 * Scripted replies for the erasure agents, shared by the port-level fake and the scripted Ollama: the
 * rewrite agent writes one candidate per call (its prompt ends "Candidate n of j."), and the critic
 * replies with scores only (`src/core/agents/critic.ts`).
 */

/** The candidate a rewrite call asks for, 1-based, read from its prompt's last line. */
export function candidateNumber(messages: readonly { readonly content: string }[]): number {
  const m = /Candidate (\d+) of \d+\./.exec(messages.at(-1)?.content ?? '');
  if (!m) throw new Error('erasedReplies: not a rewrite prompt (no "Candidate n of j." line)');
  return Number(m[1]);
}

/** A reply source for the rewrite agent: call for candidate n answers `texts[n - 1]` (the last repeats). */
export function rewrites(texts: readonly string[]): (call: { readonly messages: readonly { readonly content: string }[] }) => string {
  return (call) => texts[Math.min(candidateNumber(call.messages), texts.length) - 1]!;
}

/** The scores-only critic's reply for per-candidate scores, in candidate order. */
export function criticScores(scores: readonly { readonly forget: number; readonly utility: number }[]): {
  forget: number[];
  utility: number[];
} {
  return { forget: scores.map((s) => s.forget), utility: scores.map((s) => s.utility) };
}
