import type { GuardMatch, Redaction, TargetIndex } from './types';

/** The marker that stands in the answer where a target was removed. */
export function redactionMarker(targetName: string): string {
  return `[redacted: ${targetName}]`;
}

const KIND_REASON: Record<GuardMatch['kind'], string> = {
  exact: 'names the target',
  confusable: 'names the target with look-alike letters from another script',
  leet: 'names the target with digits or symbols for letters',
  spaced: 'names the target with its letters split apart',
  masked: 'names the target with some letters masked',
};

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
    const marker = redactionMarker(name);
    const start = out.length;
    out += marker;
    const alias = target && m.term !== target.name ? ` (alias "${m.term}")` : '';
    const backwards = m.reversed ? ', written backwards' : '';
    redactions.push({
      targetId: m.targetId,
      targetName: name,
      start,
      end: out.length,
      reason: `${KIND_REASON[m.kind]}${backwards}${alias}`,
      by: 'guard',
      kind: m.kind,
    });
    cursor = m.end;
  }
  out += text.slice(cursor);
  return { text: out, redactions };
}
