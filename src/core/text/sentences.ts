/**
 * Text cut into sentences that join back to exactly the original, so an agent can refer to "sentence 3"
 * and the answer can be rebuilt around what it changed. Markdown keeps its shape: every line break ends a
 * sentence, and a line's list bullet, number, heading hashes or quote mark are kept apart from the
 * sentence (`marker`), so replacing a list item's text keeps it a list item. Lines inside a fenced code
 * block are one sentence each, never cut at a full stop.
 *
 * Cutting too finely is harmless (an abbreviation such as "e.g." may end a "sentence"): the units only
 * need to be small enough to edit. Cutting too coarsely would not be: a sentence that must go would take
 * its neighbours with it.
 */
export interface Sentence {
  /** A line's markdown marker with its spaces ("- ", "2. ", "## ", "> "), or "". */
  readonly marker: string;
  readonly text: string;
  /** The whitespace after it, up to the next sentence (may hold line breaks). */
  readonly after: string;
}

export interface Sentences {
  /** Whitespace before the first sentence. */
  readonly lead: string;
  readonly sentences: readonly Sentence[];
}

const LINE_MARKER = /^(?:[-*+]|\d{1,3}[.)]|#{1,6}|>)[ \t]+/;
const FENCE = /^[ \t]*(?:```|~~~)/;
/**
 * A sentence ends after . ! ? or … (with any closing quotes, brackets or emphasis marks) when whitespace
 * follows and the next word does not start in lower case ("e.g. the" goes on); CJK full stops end one
 * with or without a space.
 */
const SENTENCE_END = /[.!?…]+["'”’)\]*_]*(?=\s+[^\s\p{Ll}])|[。！？]+["'”’)\]*_]*/gu;

export function splitSentences(text: string): Sentences {
  const lead = /^\s*/.exec(text)![0];
  const sentences: { marker: string; text: string; after: string }[] = [];
  let inFence = false;
  let at = lead.length;
  while (at < text.length) {
    const lineEnd = text.indexOf('\n', at);
    const line = lineEnd < 0 ? text.slice(at) : text.slice(at, lineEnd);
    const fence = FENCE.test(line);
    const marker = inFence || fence ? '' : (LINE_MARKER.exec(line)?.[0] ?? '');
    const pieces = inFence || fence ? [line] : cutLine(line.slice(marker.length));
    pieces.forEach((piece, i) => {
      const body = piece.trimEnd();
      sentences.push({ marker: i === 0 ? marker : '', text: body, after: piece.slice(body.length) });
    });
    if (fence) inFence = !inFence;
    if (lineEnd < 0) break;
    // The line break and any blank lines or indentation after it belong to the last sentence of this line.
    const next = /\s*/y;
    next.lastIndex = lineEnd;
    next.exec(text);
    const gap = text.slice(lineEnd, next.lastIndex);
    const last = sentences.at(-1);
    if (last) last.after += gap;
    at = next.lastIndex;
  }
  // A line of only a marker ("- " with nothing after it) leaves an empty sentence: it joins the one before.
  const merged: Sentence[] = [];
  for (const s of sentences) {
    const prev = merged.at(-1);
    if (s.text === '' && prev) merged[merged.length - 1] = { ...prev, after: prev.after + s.marker + s.after };
    else merged.push(s);
  }
  return { lead, sentences: merged };
}

/** A line without its marker, cut after each sentence end; each piece keeps the spaces that follow it. */
function cutLine(line: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (const m of line.matchAll(SENTENCE_END)) {
    let end = m.index + m[0].length;
    while (end < line.length && /\s/.test(line[end]!)) end++;
    if (end >= line.length) break;
    pieces.push(line.slice(start, end));
    start = end;
  }
  pieces.push(line.slice(start));
  return pieces;
}

/** The text the sentences came from (`joinSentences(splitSentences(t)) === t`). */
export function joinSentences(split: Sentences): string {
  return split.lead + split.sentences.map((s) => s.marker + s.text + s.after).join('');
}
