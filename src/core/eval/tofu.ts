import { DatasetFormatError } from './datasetFile';
import { parseQaFile, qaDataset, type SplitsInput } from './qaFile';
import type { EvalDataset } from './types';

/**
 * Loader for the public TOFU benchmark's question/answer files (forget01/05/10, retain90/95/99 and the
 * perturbed variants). The project ships none of that data; a user who downloaded it points the CLI
 * at the files. Public copies differ (`prompt`/`response` instead of `question`/`answer`, several JSON
 * arrays one after another), so the records are read by the general question-file reader.
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

/** Parses one TOFU file: JSON Lines, a JSON array, concatenated arrays, or an object with a `data` array. */
export function parseTofuFile(text: string, source = 'TOFU file'): TofuRecord[] {
  let records;
  try {
    records = parseQaFile(text, source);
  } catch (error) {
    if (error instanceof DatasetFormatError) throw new TofuFormatError(error.message);
    throw error;
  }
  return records.map((r, i) => {
    if (r.choices || r.answers.length === 0) throw new TofuFormatError(`${source}: record ${i + 1} has no string "question" and "answer"`);
    return {
      question: r.question,
      answer: r.answers[0]!,
      ...(r.paraphrasedQuestion ? { paraphrasedQuestion: r.paraphrasedQuestion } : {}),
    };
  });
}

/**
 * The targets are the forget set's author names (without them the pipeline has nothing to forget); a
 * limit matters here, as retain90 alone has 3,600 questions.
 */
export interface TofuInput extends SplitsInput<TofuRecord> {
  readonly source?: string;
}

export function tofuDataset(input: TofuInput): EvalDataset {
  const records = (rows: readonly TofuRecord[]) =>
    rows.map((r) => ({
      question: r.question,
      answers: [r.answer],
      ...(r.paraphrasedQuestion ? { paraphrasedQuestion: r.paraphrasedQuestion } : {}),
    }));
  return qaDataset({
    forget: records(input.forget),
    retain: records(input.retain ?? []),
    targets: input.targets,
    limit: input.limit,
    source: input.source ?? 'TOFU',
  });
}
