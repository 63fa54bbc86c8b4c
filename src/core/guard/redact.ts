import { matchReason, redactionMarker } from './marker';
import type { GuardMatch, Redaction, TargetIndex } from './types';

/** Replaces each match by a marker and reports where every marker ended up in the new text. */
export function redactMatches(
  text: string,
  matches: readonly GuardMatch[],
  index: Pick<TargetIndex, 'byId'>,
): { text: string; redactions: Redaction[] } {
  let out = '';
  let cursor = 0;
  const redactions: Redaction[] = [];
  for (const m of matches) {
    if (m.start < cursor) continue;
    const target = index.byId(m.targetId);
    const name = target?.name ?? m.term;
    out += text.slice(cursor, m.start);
    const start = out.length;
    out += redactionMarker(name);
    redactions.push({
      targetId: m.targetId,
      targetName: name,
      start,
      end: out.length,
      reason: matchReason(m, target?.name),
      by: 'guard',
      kind: m.kind,
    });
    cursor = m.end;
  }
  out += text.slice(cursor);
  return { text: out, redactions };
}

/**
 * A whole text with every match of the index replaced by its marker, as written (no control characters
 * stripped): the selection rewrite and the tests' one-shot redaction. Answers go through the answer guard.
 */
export function guardText(index: TargetIndex, text: string): string {
  return redactMatches(text, index.find(text), index).text;
}
