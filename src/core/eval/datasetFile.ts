import { ALL_QUESTION_KINDS, type EvalDataset } from './types';

export class DatasetFormatError extends Error {}

/** Checks a file written by `unlearn eval generate` (or by hand in the same format). */
export function parseDatasetJson(value: unknown, source = 'dataset'): EvalDataset {
  const d = value as Partial<EvalDataset> | null;
  if (!d || typeof d !== 'object' || d.format !== 'unlearn-eval/1')
    throw new DatasetFormatError(`${source}: not an unlearn-eval/1 dataset (no "format": "unlearn-eval/1")`);
  if (!Array.isArray(d.questions) || !Array.isArray(d.targets))
    throw new DatasetFormatError(`${source}: "questions" and "targets" must be arrays`);
  d.questions.forEach((q, i) => {
    const where = `${source}: questions[${i}]`;
    if (typeof q?.question !== 'string' || !q.question.trim()) throw new DatasetFormatError(`${where} has no question text`);
    if (!ALL_QUESTION_KINDS.includes(q.kind))
      throw new DatasetFormatError(`${where} has unknown kind "${String(q.kind)}" (one of ${ALL_QUESTION_KINDS.join(', ')})`);
    if (q.split !== 'forget' && q.split !== 'retain') throw new DatasetFormatError(`${where} must have split "forget" or "retain"`);
    if (!Array.isArray(q.expected) || (q.expected as unknown[]).some((e) => typeof e !== 'string'))
      throw new DatasetFormatError(`${where}: "expected" must be an array of strings`);
    if (q.choices !== undefined) {
      const choices = q.choices as unknown[];
      if (!Array.isArray(choices) || choices.length < 2 || choices.some((c) => typeof c !== 'string'))
        throw new DatasetFormatError(`${where}: "choices" must be an array of at least 2 strings`);
      if (!Number.isInteger(q.answerIndex) || q.answerIndex! < 0 || q.answerIndex! >= choices.length)
        throw new DatasetFormatError(`${where}: "answerIndex" must be the index of the correct choice (0 to ${choices.length - 1})`);
    }
    if (
      q.history !== undefined &&
      (!Array.isArray(q.history) ||
        (q.history as { role?: unknown; content?: unknown }[]).some(
          (m) => !m || (m.role !== 'user' && m.role !== 'assistant') || typeof m.content !== 'string',
        ))
    ) {
      throw new DatasetFormatError(`${where}: "history" must be user/assistant messages`);
    }
    for (const field of ['turns', 'retainExpected'] as const) {
      const list = q[field] as unknown;
      if (list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || !t.trim())))
        throw new DatasetFormatError(`${where}: "${field}" must be an array of non-empty strings`);
    }
  });
  return { entities: [], ...d } as EvalDataset;
}
