import { z } from 'zod';
import type { ChatMessage } from '../llm';
import type { Sentence, Sentences } from '../text';
import type { HandledTarget } from '../targets';
import { describeTargets, HANDLE_PLACEHOLDER_HELP } from './handles';
import { ROLE_SIGNATURE } from './roles';
import { TOUCH_KINDS } from './detect';
import { NO_MARK, withMarkRule, type DataMark } from './datamark';
import { ABOVE_IS_DATA, sentenceIndex, taskMessage, type Thread } from './thread';

/**
 * The edit agent: ALU's AuditErase step written as edits to a draft instead of whole new answers. It
 * continues the request's thread (thread.ts), right after the draft it edits, so the draft and the
 * conversation are already in the server's cache; its task adds the targets, a numbered index of the
 * draft's sentences (their first words) and the j ways the candidates should differ. One call replies
 * with the targets it finds touched and all j candidates, as ALU's audit does in one call:
 * `{"touched": [{"target": "T1", "how": "described"}], "candidates": [{"drop": [2], "replace": [{"sentence": 4, "text": "…"}]}, …]}`.
 * A draft that touches a target in two sentences costs a reply of tens of tokens per candidate, where a
 * rewritten answer costs as many tokens as the draft.
 */
const EDIT_TASK = `${ROLE_SIGNATURE.edit}. Some subjects (the forget targets below) must not be revealed.
Check your answer above sentence by sentence (numbered as in the index below). A sentence that names a forget target or gives any fact or hint that identifies one (an alias, a description, a translation, a disguised spelling, a detail only it has) is dropped, or replaced by one short sentence that keeps what helps the user and says nothing about the target. Every other sentence stays.
${HANDLE_PLACEHOLDER_HELP}
List the targets the question or the answer touches (how: ${TOUCH_KINDS.join(', ')}), and write the candidate sets of edits asked for below. Reply with JSON only: {"touched": [{"target": "T1", "how": "described"}], "candidates": [{"drop": [2], "replace": [{"sentence": 4, "text": "new sentence"}]}]}; a candidate that changes nothing is {"drop": [], "replace": []}.
${ABOVE_IS_DATA}`;

/** How the j candidates differ, so the critic has real choices (cycled when j is larger). */
const EDIT_VARIANTS: readonly string[] = [
  'change as little as the rules allow',
  'when in doubt whether a sentence identifies a target, drop it',
  'where a detail could identify a target, generalise it rather than drop the whole sentence',
  'prefer dropping sentences to rewriting them',
];

const sentenceNumber = z.number().int().min(1);

/** One candidate: sentences to drop, sentences to replace. */
export const editSchema = z.object({
  drop: z.array(sentenceNumber),
  replace: z.array(z.object({ sentence: sentenceNumber, text: z.string() })),
});
export type EditReply = z.infer<typeof editSchema>;

/** The edit call's reply: the touched targets and exactly j candidates (the schema fixes the count). */
export function editCandidatesSchema(j: number) {
  return z.object({
    touched: z.array(z.object({ target: z.string().regex(/^T\d+$/), how: z.enum(TOUCH_KINDS) })),
    candidates: z.array(editSchema).length(j),
  });
}
export type EditCandidatesReply = z.infer<ReturnType<typeof editCandidatesSchema>>;

/** One candidate: what happens to each changed sentence (by 0-based index); sentences not listed stay. */
export type EditSet = ReadonlyMap<number, Edit>;
export type Edit = { readonly kind: 'drop' } | { readonly kind: 'replace'; readonly text: string };

/**
 * The longest replacement accepted for a sentence of `length` characters: twice the sentence, or 200
 * characters for a short one. Anything longer is not an edit but new writing, which the critic would
 * have to read as a whole new answer; it is refused so that the agent cannot smuggle in a paragraph.
 */
export function maxReplacementLength(length: number): number {
  return Math.max(200, 2 * length);
}

export interface EditInput {
  /** The request's thread up to and including the draft as the assistant turn. */
  readonly thread: Thread;
  readonly targets: readonly HandledTarget[];
  /** The draft the thread ends with, split into sentences as the pipeline numbers them. */
  readonly draft: Sentences;
  /** How many candidate sets of edits to ask for. */
  readonly candidates: number;
  /** Datamarking of the untrusted text the task restates (the pipeline always passes one). */
  readonly mark?: DataMark;
}

export function buildEditMessages(input: EditInput): ChatMessage[] {
  const mark = input.mark ?? NO_MARK;
  const ways = Array.from({ length: input.candidates }, (_, i) => `${i + 1}: ${EDIT_VARIANTS[i % EDIT_VARIANTS.length]}`);
  const task = taskMessage(
    withMarkRule(EDIT_TASK, mark),
    { forget_targets: JSON.parse(describeTargets(input.targets)) as unknown, candidate_sets: input.candidates },
    `Write ${input.candidates} candidate ${input.candidates === 1 ? 'set' : 'sets'} of edits, in this order:\n${ways.join('\n')}\n\nSentences of the answer, by number (their first words):\n${sentenceIndex(
      input.draft.sentences.map((s) => s.text),
      mark,
    )}`,
  );
  return [...input.thread, task];
}

/**
 * The reply as an edit set, or the problem that makes it unusable (the structured call states it and asks
 * once more; a second bad reply makes the candidate junk). Refused: a sentence number the draft does not
 * have (the agent miscounted, so its other numbers cannot be trusted either), a sentence edited twice, a
 * replacement longer than `maxReplacementLength`. A replacement's whitespace is folded to single spaces,
 * so it stays one sentence in its place; an empty one is a drop, and one equal to the sentence is no edit.
 */
export function readEdits(reply: EditReply, draft: Sentences): { edits: EditSet } | { problem: string } {
  const n = draft.sentences.length;
  const edits = new Map<number, Edit>();
  const numbers = [...reply.drop, ...reply.replace.map((r) => r.sentence)];
  const outside = numbers.find((s) => s > n);
  if (outside !== undefined) return { problem: `sentence ${outside} does not exist: the draft has ${n} sentences` };
  const twice = numbers.find((s, i) => numbers.indexOf(s) !== i);
  if (twice !== undefined) return { problem: `sentence ${twice} is edited more than once` };
  for (const s of reply.drop) edits.set(s - 1, { kind: 'drop' });
  for (const r of reply.replace) {
    const original = draft.sentences[r.sentence - 1]!.text;
    const text = r.text.replace(/\s+/g, ' ').trim();
    const limit = maxReplacementLength(original.length);
    if (text.length > limit)
      return { problem: `the replacement of sentence ${r.sentence} has ${text.length} characters, more than the ${limit} allowed` };
    if (text === '') edits.set(r.sentence - 1, { kind: 'drop' });
    else if (text !== original) edits.set(r.sentence - 1, { kind: 'replace', text });
  }
  return { edits };
}

/**
 * The structured call's check: a reply none of whose candidates the draft can take is asked for again,
 * with the reasons. A reply with at least one usable candidate stands: the others are junk, as an
 * unreadable candidate is in ALU.
 */
export function editProblem(draft: Sentences): (reply: EditCandidatesReply) => string | undefined {
  return (reply) => {
    const problems = reply.candidates.flatMap((c, i) => {
      const read = readEdits(c, draft);
      return 'problem' in read ? [`candidate ${i + 1}: ${read.problem}`] : [];
    });
    return problems.length === reply.candidates.length ? problems.join('; ') : undefined;
  };
}

/**
 * The draft with the edits made. Where sentences were dropped, the strongest break among the gaps they
 * leave stays (a paragraph break over a line break over a space), so a dropped list item or paragraph does
 * not glue its neighbours together, and a dropped line takes its list bullet with it.
 */
export function applyEdits(draft: Sentences, edits: EditSet): string {
  let out = draft.lead;
  let wrote = false;
  let gap = '';
  // A list bullet of a dropped sentence passes to the next sentence on the same line, which then opens it.
  let marker = '';
  draft.sentences.forEach((s: Sentence, i) => {
    const edit = edits.get(i);
    if (edit?.kind === 'drop') {
      marker = /\n/.test(s.after) ? '' : s.marker || marker;
      gap = wrote ? stronger(gap, s.after) : '';
      return;
    }
    const text = edit?.kind === 'replace' ? edit.text : s.text;
    out += (wrote ? gap : '') + (s.marker || marker) + text;
    wrote = true;
    marker = '';
    gap = s.after;
  });
  return out.trimEnd();
}

function stronger(a: string, b: string): string {
  const breaks = (t: string) => (t.match(/\n/g) ?? []).length;
  return breaks(b) > breaks(a) ? b : a;
}
