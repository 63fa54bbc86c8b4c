import { parseTargets, termsOf, type TargetEntry } from '../targets';
import { DatasetFormatError } from './datasetFile';
import { parseJsonValues } from './jsonValues';
import { CHOICE_LETTERS } from './multipleChoice';
import { attackQuestions } from './qaAttacks';
import type { EvalDataset, EvalQuestion, Split } from './types';

/**
 * Question files as people have them: benchmark exports in JSON, JSON Lines or several JSON documents
 * one after another, with the field names their authors chose. Two shapes are read:
 *   - free text: a question and an answer (`question`/`answer`, `prompt`/`response`, `input`/`output`,
 *     `query`/`target`, `instruction`/`output`…); an answer may be a list of accepted variants;
 *   - multiple choice, as WMDP and MMLU exports have it: `question`, `choices` (strings) and `answer`,
 *     the index of the correct choice (a letter, or the choice's text, are read too).
 */
export interface QaRecord {
  readonly question: string;
  /** Free text: the accepted answers (the first is the reference). Empty for multiple choice. */
  readonly answers: readonly string[];
  readonly choices?: readonly string[];
  readonly answerIndex?: number;
  readonly paraphrasedQuestion?: string;
  /** The subject the record is about (`subject`, as the world set and MMLU exports have it). */
  readonly subject?: string;
}

const QUESTION_FIELDS = ['question', 'prompt', 'input', 'query', 'instruction', 'problem', 'q'] as const;
const ANSWER_FIELDS = ['answer', 'response', 'output', 'target', 'completion', 'answers', 'label', 'a'] as const;
const CHOICE_FIELDS = ['choices', 'options', 'candidates'] as const;
/** Wrappers some exports put around the record list. */
const LIST_FIELDS = ['data', 'rows', 'records', 'examples', 'questions', 'items'] as const;

/** Every record of a file. Throws `DatasetFormatError` naming the record and the fields it looked for. */
export function parseQaFile(text: string, source: string): QaRecord[] {
  const rows = parseJsonValues(text, source).flatMap((v) => unwrap(v));
  return rows.map((row, i) => readRecord(row, `${source}: record ${i + 1}`));
}

function unwrap(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => unwrap(v));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const f of LIST_FIELDS) if (Array.isArray(o[f]) && !hasAny(o, QUESTION_FIELDS)) return unwrap(o[f]);
    // Hugging Face's datasets-server answers {"rows": [{"row": {...}}]}.
    if (o.row && typeof o.row === 'object' && !hasAny(o, QUESTION_FIELDS)) return [o.row];
  }
  return [value];
}

function hasAny(o: Record<string, unknown>, fields: readonly string[]): boolean {
  return fields.some((f) => o[f] !== undefined);
}

function readRecord(row: unknown, where: string): QaRecord {
  if (!row || typeof row !== 'object' || Array.isArray(row)) throw new DatasetFormatError(`${where} is not an object`);
  const r = row as Record<string, unknown>;
  const qField = QUESTION_FIELDS.find((f) => typeof r[f] === 'string' && (r[f] as string).trim());
  const missing = (what: string) =>
    new DatasetFormatError(
      `${where} has no string "question" and "answer" (${what}; the question is read from ${QUESTION_FIELDS.join('/')}, the answer from ${ANSWER_FIELDS.join('/')}, or "choices" with the index of the correct one in "answer"; fields present: ${Object.keys(r).join(', ') || 'none'})`,
    );
  if (!qField) throw missing('no question text');
  const question = (r[qField] as string).trim();
  const paraphrased = typeof r.paraphrased_question === 'string' && r.paraphrased_question.trim() ? r.paraphrased_question : undefined;
  const subject = typeof r.subject === 'string' && r.subject.trim() ? { subject: r.subject.trim() } : {};

  const cField = CHOICE_FIELDS.find((f) => r[f] !== undefined);
  if (cField) {
    const choices = readChoices(r[cField]);
    if (!choices) throw new DatasetFormatError(`${where}: "${cField}" must be a list of at least 2 strings`);
    const answerIndex = readAnswerIndex(r, choices);
    if (answerIndex === undefined)
      throw new DatasetFormatError(
        `${where}: "answer" must be the index of the correct choice (0 to ${choices.length - 1}), its letter, or its text`,
      );
    return { question, answers: [], choices, answerIndex, ...(paraphrased ? { paraphrasedQuestion: paraphrased } : {}), ...subject };
  }

  const aField = ANSWER_FIELDS.find((f) => r[f] !== undefined && readAnswers(r[f]).length > 0);
  if (!aField) throw missing('no answer');
  return { question, answers: readAnswers(r[aField]), ...(paraphrased ? { paraphrasedQuestion: paraphrased } : {}), ...subject };
}

/** A list of strings, or the `{label: [...], text: [...]}` shape of ARC-style exports. */
function readChoices(value: unknown): string[] | undefined {
  const list = Array.isArray(value)
    ? value
    : value && typeof value === 'object' && Array.isArray((value as { text?: unknown }).text)
      ? (value as { text: unknown[] }).text
      : undefined;
  if (!list || list.length < 2 || list.length > CHOICE_LETTERS.length) return undefined;
  if (!list.every((c) => typeof c === 'string' || typeof c === 'number')) return undefined;
  return list.map((c) => String(c));
}

function readAnswerIndex(r: Record<string, unknown>, choices: readonly string[]): number | undefined {
  const raw = r.answer ?? r.answerKey ?? r.label ?? r.target;
  let index: number | undefined;
  if (typeof raw === 'number') index = raw;
  else if (typeof raw === 'string') {
    const s = raw.trim();
    // The choice's own text first: with choices like ["x", "y", "z"], "y" is the text, not the letter Y.
    const byText = choices.findIndex((c) => c.trim().toLowerCase() === s.toLowerCase());
    if (/^\d+$/.test(s)) index = Number(s);
    else if (byText >= 0) index = byText;
    else if (/^[A-Za-z]$/.test(s)) index = CHOICE_LETTERS.indexOf(s.toUpperCase());
  }
  return index !== undefined && Number.isInteger(index) && index >= 0 && index < choices.length ? index : undefined;
}

/** A string, a list of strings, or the `{text: [...]}` / `{value, aliases}` shapes of SQuAD and TriviaQA. */
function readAnswers(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() ? [value.trim()] : [];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap((v) => readAnswers(v));
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return [...readAnswers(o.value ?? o.text ?? o.answer), ...readAnswers(o.aliases)];
  }
  return [];
}

/** A question source's forget and retain records, with the targets they are scored against. */
export interface SplitsInput<R> {
  readonly forget: readonly R[];
  readonly retain?: readonly R[];
  /** Forget targets; a forget answer that names one leaks. */
  readonly targets?: readonly TargetEntry[];
  /** At most this many records from each split. */
  readonly limit?: number;
}

export interface QaInput extends SplitsInput<QaRecord> {
  /**
   * Also ask the published attacks (`ATTACK_KINDS`), built from the free-text forget records of each
   * subject that has at least three, with this seed. Records without a subject get none.
   */
  readonly attackSeed?: number;
  readonly source: string;
}

/**
 * Short answers (a name, a year, a place: up to four words) are also facts the disguise-aware matcher
 * looks for; every answer's first variant is the reference scored by ROUGE-L recall, as TOFU scores
 * its sentence-long answers.
 */
const SHORT_ANSWER_WORDS = 4;

function isShortAnswer(answer: string): boolean {
  return answer.split(/\s+/).filter(Boolean).length <= SHORT_ANSWER_WORDS;
}

/** The questions of a forget file and a retain file, with the targets the forget one is about. */
export function qaDataset(input: QaInput): EvalDataset {
  const targets = parseTargets(input.targets ?? []).targets;
  const names = targets.flatMap((t) => termsOf(t));
  const questions: EvalQuestion[] = [];
  const add = (records: readonly QaRecord[], split: Split) => {
    const rows = input.limit !== undefined ? records.slice(0, input.limit) : records;
    rows.forEach((r, i) => {
      const id = `${split}-${i + 1}`;
      if (r.choices) {
        questions.push({
          id,
          kind: 'multiple-choice',
          split,
          question: r.question,
          expected: [],
          choices: r.choices,
          answerIndex: r.answerIndex,
        });
        return;
      }
      const short = r.answers.filter(isShortAnswer);
      const reference = r.answers[0];
      // Forget: the facts and the target names leak, unless the question already says them.
      const expected = (q: string) =>
        split === 'forget' ? unique([...short, ...names]).filter((n) => !q.toLowerCase().includes(n.toLowerCase())) : short;
      const base = { split, ...(reference ? { referenceAnswer: reference } : {}) };
      questions.push({ ...base, id, kind: 'direct', question: r.question, expected: expected(r.question) });
      if (r.paraphrasedQuestion)
        questions.push({
          ...base,
          id: `${id}-paraphrased`,
          kind: 'paraphrased',
          question: r.paraphrasedQuestion,
          expected: expected(r.paraphrasedQuestion),
        });
    });
  };
  add(input.forget, 'forget');
  add(input.retain ?? [], 'retain');
  if (input.attackSeed !== undefined) {
    const cut = (records: readonly QaRecord[]) => (input.limit !== undefined ? records.slice(0, input.limit) : records);
    questions.push(
      ...attackQuestions({
        forget: cut(input.forget),
        retain: cut(input.retain ?? []),
        subjectNames: new Map(targets.map((t) => [t.id, t.name])),
        seed: input.attackSeed,
        expected: (answers, q) =>
          unique([...answers.filter(isShortAnswer), ...names]).filter((n) => !q.toLowerCase().includes(n.toLowerCase())),
      }),
    );
  }
  return {
    format: 'unlearn-eval/1',
    source: input.source,
    entities: [],
    targets: targets.map((t) => ({
      id: t.id,
      name: t.name,
      aliases: [...t.aliases],
      ...(t.description ? { description: t.description } : {}),
      ...(t.examples?.length ? { examples: [...t.examples] } : {}),
    })),
    questions,
  };
}

function unique(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = v.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
