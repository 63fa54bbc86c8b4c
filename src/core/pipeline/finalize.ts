import { redactionMarker } from '../guard/redact';
import type { GuardMatch, Redaction, TargetIndex } from '../guard/types';
import type { HandledTarget } from '../agents/handles';

/** Placeholders the agents write (`[redacted:T1]`), or a marker they copied (`[redacted: Project Falcon]`). */
const PLACEHOLDER = /\[redacted:\s*([^\]\n]{1,200}?)\s*\]/gi;

export interface Finalized {
  readonly text: string;
  readonly redactions: Redaction[];
  /** Matches the deterministic guard had to mask (the agents let them through). */
  readonly guardMatches: number;
  /** For each replaced span of the raw text, where its marker is in `text`; used to cut safe stream prefixes. */
  readonly spans: readonly { rawStart: number; rawEnd: number; outStart: number; outEnd: number }[];
}

interface Replacement {
  readonly start: number;
  readonly end: number;
  readonly targetId: string;
  readonly targetName: string;
  readonly reason: string;
  readonly by: Redaction['by'];
  readonly kind?: GuardMatch['kind'];
}

/**
 * Turns raw model text into what the user may see: agent placeholders become markers naming the target,
 * and the guard masks every name, alias or disguised spelling left anywhere else.
 */
export function finalizeAnswer(
  raw: string,
  index: TargetIndex,
  handled: readonly HandledTarget[],
  agentReason: (targetId: string) => string,
): Finalized {
  const byHandle = new Map(handled.map((h) => [h.handle.toLowerCase(), h.target]));
  const byName = new Map(handled.map((h) => [h.target.name.toLowerCase(), h.target]));
  const replacements: Replacement[] = [];
  let plainStart = 0;
  const scanPlain = (from: number, to: number) => {
    if (to <= from) return;
    for (const m of index.find(raw.slice(from, to))) {
      const target = index.byId(m.targetId);
      replacements.push({
        start: from + m.start,
        end: from + m.end,
        targetId: m.targetId,
        targetName: target?.name ?? m.term,
        reason: `the guard found it: ${guardReason(m, target?.name)}`,
        by: 'guard',
        kind: m.kind,
      });
    }
  };
  for (const placeholder of raw.matchAll(PLACEHOLDER)) {
    const inner = placeholder[1]!.toLowerCase();
    const target = byHandle.get(inner) ?? byName.get(inner);
    if (!target) continue; // an unknown placeholder is ordinary text, and the guard scans it like any other
    scanPlain(plainStart, placeholder.index);
    replacements.push({
      start: placeholder.index,
      end: placeholder.index + placeholder[0].length,
      targetId: target.id,
      targetName: target.name,
      reason: agentReason(target.id),
      by: 'agents',
    });
    plainStart = placeholder.index + placeholder[0].length;
  }
  scanPlain(plainStart, raw.length);
  replacements.sort((a, b) => a.start - b.start);

  let text = '';
  let cursor = 0;
  const redactions: Redaction[] = [];
  const spans: Finalized['spans'][number][] = [];
  for (const r of replacements) {
    text += raw.slice(cursor, r.start);
    const outStart = text.length;
    text += redactionMarker(r.targetName);
    redactions.push({ targetId: r.targetId, targetName: r.targetName, start: outStart, end: text.length, reason: r.reason, by: r.by, ...(r.kind ? { kind: r.kind } : {}) });
    spans.push({ rawStart: r.start, rawEnd: r.end, outStart, outEnd: text.length });
    cursor = r.end;
  }
  text += raw.slice(cursor);
  return { text, redactions, guardMatches: replacements.filter((r) => r.by === 'guard').length, spans };
}

function guardReason(m: GuardMatch, name: string | undefined): string {
  const alias = name !== undefined && m.term !== name ? ` alias "${m.term}"` : ' name';
  switch (m.kind) {
    case 'exact':
      return `its${alias} appeared in the text`;
    case 'confusable':
      return `its${alias} appeared with look-alike letters`;
    case 'leet':
      return `its${alias} appeared with digits or symbols for letters`;
    case 'spaced':
      return `its${alias} appeared with its letters split apart`;
    case 'masked':
      return `its${alias} appeared with letters masked`;
  }
}

/**
 * Streams a growing raw text safely: after each piece, emits only the part of the finalized text that
 * later pieces cannot change (everything before the last `holdBack` raw characters and before any
 * unfinished placeholder). The concatenation of what it emits equals the final text.
 */
export class SafeStreamer {
  private raw = '';
  private emitted = '';
  private sinceLastScan = 0;
  private latest: Finalized | undefined;

  constructor(
    private readonly finalize: (raw: string) => Finalized,
    private readonly holdBack: number,
    private readonly emit: (text: string) => void,
    /** Re-scan after this many new characters; keeps the cost of streaming linear-ish in practice. */
    private readonly scanEvery = 48,
  ) {}

  push(piece: string): void {
    this.raw += piece;
    this.sinceLastScan += piece.length;
    // Each scan re-finalizes the whole text, so scans wait for a fixed fraction of new text as well:
    // the total work stays linear (a 1 MB reply rescans ~17 MB, not ~10 GB at every 48 characters).
    if (this.sinceLastScan < Math.max(this.scanEvery, this.raw.length >> 4)) return;
    this.sinceLastScan = 0;
    const safeRaw = this.safeRawEnd();
    if (safeRaw <= 0) return;
    const done = this.finalize(this.raw);
    this.emitUpTo(done, outOffset(done, safeRaw));
  }

  /** Emits the rest and returns the complete finalized text. */
  end(): Finalized {
    const done = this.finalize(this.raw);
    this.emitUpTo(done, done.text.length);
    return done;
  }

  /** What has been emitted so far, with its markers: the answer as the user saw it if the reply fails now. */
  shown(): Finalized {
    const redactions = (this.latest?.redactions ?? []).filter((r) => r.end <= this.emitted.length);
    return { text: this.emitted, redactions, guardMatches: redactions.filter((r) => r.by === 'guard').length, spans: [] };
  }

  private emitUpTo(done: Finalized, cut: number): void {
    // The emitted text is always a prefix of the latest finalization; if a later scan disagreed (it
    // cannot when holdBack is right), nothing more is emitted until the end, and never unguarded text.
    if (cut <= this.emitted.length || !done.text.startsWith(this.emitted)) return;
    const next = done.text.slice(this.emitted.length, cut);
    this.emitted += next;
    this.latest = done;
    this.emit(next);
  }

  private safeRawEnd(): number {
    let end = this.raw.length - this.holdBack;
    const open = this.raw.lastIndexOf('[');
    if (open >= 0 && open < end && !this.raw.includes(']', open)) end = open;
    return end;
  }
}

function outOffset(done: Finalized, rawOffset: number): number {
  let shift = 0;
  for (const s of done.spans) {
    if (s.rawEnd <= rawOffset) shift = s.outEnd - s.rawEnd;
    else if (s.rawStart < rawOffset) return s.outStart;
    else break;
  }
  return rawOffset + shift;
}
