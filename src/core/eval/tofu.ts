import { parseTargets, termsOf, type TargetEntry } from '../targets';
import type { EvalDataset, EvalQuestion, Split } from './types';

/**
 * Loader for the public TOFU benchmark's question/answer files (forget01/05/10, retain90/95/99 and the
 * perturbed variants): JSON Lines or a JSON array of objects with `question` and `answer`, optionally
 * `paraphrased_question`. The project ships none of that data; a user who downloaded it points the CLI
 * at the files.
 *
 * TOFU's authors are fictitious and only a model fine-tuned on TOFU knows them, so these questions
 * carry no notes: the answer is scored against the reference by ROUGE-L recall, as TOFU does, and a
 * forget answer also leaks when it names a forget target.
 */
export interface TofuRecord {
  readonly question: string;
  readonly answer: string;
  readonly paraphrasedQuestion?: string;
}

export class TofuFormatError extends Error {}

/** Parses one TOFU file: JSON Lines, a JSON array, or an object with a `data` array (as some exports have). */
export function parseTofuFile(text: string, source = 'TOFU file'): TofuRecord[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  let rows: unknown[];
  if (trimmed.startsWith('[')) {
    rows = asArray(parseJson(trimmed, source), source);
  } else if (trimmed.startsWith('{') && !trimmed.includes('\n')) {
    const one = parseJson(trimmed, source) as { data?: unknown };
    rows = Array.isArray(one.data) ? one.data : [one];
  } else {
    try {
      const whole = JSON.parse(trimmed) as { data?: unknown };
      rows = Array.isArray(whole.data) ? whole.data : [whole];
    } catch {
      rows = trimmed
        .split(/\r?\n/)
        .filter((l) => l.trim())
        .map((line, i) => parseJson(line, `${source} line ${i + 1}`));
    }
  }
  return rows.map((row, i) => {
    const r = row as Record<string, unknown>;
    if (typeof r?.question !== 'string' || typeof r.answer !== 'string')
      throw new TofuFormatError(`${source}: record ${i + 1} has no string "question" and "answer"`);
    const paraphrased = typeof r.paraphrased_question === 'string' ? r.paraphrased_question : undefined;
    return { question: r.question, answer: r.answer, ...(paraphrased ? { paraphrasedQuestion: paraphrased } : {}) };
  });
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TofuFormatError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}

function asArray(value: unknown, source: string): unknown[] {
  if (!Array.isArray(value)) throw new TofuFormatError(`${source}: expected an array of records`);
  return value;
}

export interface TofuInput {
  readonly forget: readonly TofuRecord[];
  readonly retain?: readonly TofuRecord[];
  /** Forget targets (the forget set's author names); without them the pipeline has nothing to forget. */
  readonly targets?: readonly TargetEntry[];
  /** At most this many questions from each split (retain90 alone has 3,600). */
  readonly limit?: number;
  readonly source?: string;
}

export function tofuDataset(input: TofuInput): EvalDataset {
  const targets = parseTargets(input.targets ?? []).targets;
  const names = targets.flatMap((t) => termsOf(t));
  const questions: EvalQuestion[] = [];
  const add = (records: readonly TofuRecord[], split: Split) => {
    const rows = input.limit !== undefined ? records.slice(0, input.limit) : records;
    rows.forEach((r, i) => {
      const base = { split, referenceAnswer: r.answer };
      const expected = (q: string) => (split === 'forget' ? names.filter((n) => !q.toLowerCase().includes(n.toLowerCase())) : []);
      questions.push({ ...base, id: `${split}-${i + 1}`, kind: 'direct', question: r.question, expected: expected(r.question) });
      if (r.paraphrasedQuestion)
        questions.push({
          ...base,
          id: `${split}-${i + 1}-paraphrased`,
          kind: 'paraphrased',
          question: r.paraphrasedQuestion,
          expected: expected(r.paraphrasedQuestion),
        });
    });
  };
  add(input.forget, 'forget');
  add(input.retain ?? [], 'retain');
  return {
    format: 'unlearn-eval/1',
    source: input.source ?? 'TOFU',
    entities: [],
    targets: targets.map((t) => ({
      id: t.id,
      name: t.name,
      aliases: [...t.aliases],
      ...(t.description ? { description: t.description } : {}),
    })),
    questions,
  };
}
