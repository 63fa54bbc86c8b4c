import { TOUCH_REASON, type TouchKind } from '../agents';
import type { ChatMessage } from '../llm';
import type { QueryVectors, RelevanceReport, RequestPart } from '../relevance';
import type { HandledTarget } from '../targets';

// What the request's texts look like to retrieval and relevance, and what relevance's verdict binds.

/** The question's vectors with the answer's sentence vectors added as its `answer` parts. */
export async function withAnswerVectors(asked: Promise<QueryVectors> | undefined, answer: readonly Float32Array[]): Promise<QueryVectors> {
  const first = asked ? await asked : undefined;
  if (!first || 'state' in first) return first ?? { state: { status: 'off' } };
  return { vectors: [...first.vectors, ...answer], parts: [...first.parts, ...answer.map(() => 'answer' as const)] };
}

/**
 * The shortlist's binding evidence as touches erasure must honour: a spelled name, alias or name part
 * is `named`; a keyword or meaning score in the sure band is `described`.
 */
export function bindingTouches(report: RelevanceReport): Map<string, TouchKind> {
  const touches = new Map<string, TouchKind>();
  for (const e of report.shortlist) {
    if (!e.binding) continue;
    touches.set(e.target.id, e.signals.some((sig) => sig.kind === 'name') ? 'named' : 'described');
  }
  return touches;
}

export function reasonLookup(handled: readonly HandledTarget[], touched: ReadonlyMap<string, TouchKind>): (targetId: string) => string {
  const byId = new Map(handled.map((h) => [h.target.id, touched.get(h.handle) ?? 'named']));
  return (id) => `the agents erased it: ${TOUCH_REASON[byId.get(id) ?? 'implied']}`;
}

/**
 * Evidence (tool results) as one query text for meaning: the start of each result (a file's first lines
 * say what it is about), together at most HISTORY_EMBED_CHARS. Keywords and the matcher read it all.
 */
export function evidenceParts(evidence: readonly string[]): { part: RequestPart; text: string }[] {
  if (evidence.length === 0) return [];
  const each = Math.max(500, Math.floor(HISTORY_EMBED_CHARS / evidence.length));
  const text = evidence
    .map((e) => e.slice(0, each))
    .join('\n')
    .slice(0, HISTORY_EMBED_CHARS);
  return text.trim() ? [{ part: 'history', text }] : [];
}

/** Longest text of earlier turns embedded as one query: embedding models read only their first few thousand tokens anyway. */
const HISTORY_EMBED_CHARS = 8000;

/**
 * The history as query texts for meaning: the last two turns on their own (what "it" most likely points
 * to), everything earlier as one text, so a 30-turn conversation costs three query vectors, not thirty.
 * Keywords and the lexical matcher still read every turn in full.
 */
export function historyParts(sent: readonly ChatMessage[]): { part: RequestPart; text: string }[] {
  const recent = sent.slice(-2).map((m) => ({ part: 'history' as const, text: m.content }));
  const earlier = sent
    .slice(0, -2)
    .map((m) => m.content)
    .join('\n')
    .slice(-HISTORY_EMBED_CHARS);
  return earlier ? [{ part: 'history', text: earlier }, ...recent] : recent;
}
