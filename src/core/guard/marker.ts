import type { GuardMatch, MatchKind } from './types';

/**
 * The one place that knows what a redaction looks like in an answer: the visible marker, the patterns
 * that recognise it (and the agents' placeholders), and the words that say why a span was redacted.
 * Everything that writes, reads or renders a marker takes it from here.
 */

const SPACE = /\s/;

/** The marker that stands in the answer where a target was removed. */
export function redactionMarker(targetName: string): string {
  return `[redacted: ${targetName}]`;
}

/**
 * The marker that stands where the meaning check removed a whole sentence about a target. It names the
 * target as `redactionMarker` does (the user may see which target was kept out, never its facts), in the
 * same bracket form, so the chat renders it as a marker and a later turn's history drops the name.
 */
export function sentenceMarker(targetName: string): string {
  return `[redacted: about ${targetName}]`;
}

/** Why the meaning check removed a sentence, by the signal that found it (never the removed text). */
export const MEANING_REASON = {
  keyword: "a sentence about the target: its words score over the target's keyword threshold, read with the question",
  meaning: "a sentence about the target: its meaning is over the target's threshold, read with the question",
  unreadable: 'the question asked for an encoding and touched the target; this sentence holds a long run the guard cannot read as words',
} as const;

/** Longest text between a placeholder's brackets, after `redacted:` and its leading whitespace. */
const PLACEHOLDER_INNER_MAX = 200;

/** Placeholders the agents write (`[redacted:T1]`), or a marker they copied (`[redacted: Project Falcon]`). */
export const PLACEHOLDER = /\[redacted:\s*([^\]\n]{1,200}?)\s*\]/gi;
/**
 * The same without a bracket inside: in `[redacted:Ac [redacted: X] me Corp` the chat shows only the
 * inner one as a marker, so the guard reads the text with that one taken out as well.
 */
export const INNER_PLACEHOLDER = /\[redacted:\s*([^[\]\n]{1,200}?)\s*\]/gi;
/** How every placeholder starts (compared lower-case). */
const PLACEHOLDER_HEAD = '[redacted:';
/** What the chat renders as a marker, with the target's name as group 1 (exactly `redactionMarker`'s shape). */
export const MARKER = /\[redacted: ([^\]\n]{1,200})\]/g;

/** A marker without the name: what an earlier answer's markers become when that answer is sent back as history. */
export const ANONYMOUS_MARKER = '[redacted]';

/**
 * `text` with every marker's name taken out. An earlier answer's `[redacted: Project Falcon]` in the
 * conversation history would name the target to the model, and count as a spelled name in every later
 * turn, so every follow-up would go through the agents.
 */
export function withoutMarkerNames(text: string): string {
  return text.includes('[redacted: ') ? text.replace(MARKER, ANONYMOUS_MARKER) : text;
}

/** Why a span was redacted, by how the name was spelled (the first clause of a guard redaction's reason). */
const KIND_REASON: Readonly<Record<MatchKind, string>> = {
  exact: 'names the target',
  confusable: 'names the target with look-alike letters from another script',
  leet: 'names the target with digits or symbols for letters',
  spaced: 'names the target with its letters split apart',
  masked: 'names the target with some letters masked',
  markup: 'names the target split by markup that renders as one word',
  encoded: 'names the target in an encoding a reader decodes',
};

/** The same in the words of the answer's "why" line: "its alias "x" appeared with look-alike letters". */
const KIND_APPEARED: Readonly<Record<MatchKind, string>> = {
  exact: 'appeared in the text',
  confusable: 'appeared with look-alike letters',
  leet: 'appeared with digits or symbols for letters',
  spaced: 'appeared with its letters split apart',
  masked: 'appeared with letters masked',
  markup: 'appeared split by markup',
  encoded: 'appeared encoded',
};

/** The reason `redactMatches` gives: how it was spelled, whether backwards, and which alias. */
export function matchReason(m: GuardMatch, targetName: string | undefined): string {
  const alias = targetName !== undefined && m.term !== targetName ? ` (alias "${m.term}")` : '';
  const backwards = m.reversed ? ', written backwards' : '';
  const via = m.encoding ? ` (${m.encoding})` : '';
  return `${KIND_REASON[m.kind]}${via}${backwards}${alias}`;
}

/** The reason the answer guard gives for one of its own markers. */
export function guardReason(m: GuardMatch, targetName: string | undefined): string {
  const alias = targetName !== undefined && m.term !== targetName ? ` alias "${m.term}"` : ' name';
  return `its${alias} ${KIND_APPEARED[m.kind]}${m.encoding ? ` (${m.encoding})` : ''}`;
}

/**
 * Where a placeholder may have begun that the text before `end` has not finished: the first `[` after the
 * last `]` that can still grow into one (`PLACEHOLDER`). `end` if there is none.
 */
export function openPlaceholderStart(text: string, end = text.length): number {
  for (let p = text.indexOf('[', text.lastIndexOf(']', end - 1) + 1); p >= 0 && p < end; p = text.indexOf('[', p + 1)) {
    if (couldBecomePlaceholder(text, p, end)) return p;
  }
  return end;
}

/** `text` from `p` to `end` (no `]` in it) is the start of a placeholder. */
function couldBecomePlaceholder(text: string, p: number, end: number): boolean {
  let i = p;
  for (let k = 0; k < PLACEHOLDER_HEAD.length; k++, i++) {
    if (i >= end) return true;
    if (text[i]!.toLowerCase() !== PLACEHOLDER_HEAD[k]) return false;
  }
  while (i < end && SPACE.test(text[i]!)) i++;
  // The inner text (no line break, at most 200 characters) ends at the last non-space; only spaces may follow.
  let lineBreak = false;
  for (let j = i; j < end; j++) {
    const c = text[j]!;
    if (c === '\n') lineBreak = true;
    else if (!SPACE.test(c) && (lineBreak || j - i >= PLACEHOLDER_INNER_MAX)) return false;
  }
  return true;
}
