import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTargets } from '../targets';
import { parseCalibrationQuestions, type CalibrationSet } from './calibrate';

/**
 * Reads a calibration set folder: `targets.json` (targets in the unlearn.targets format) and
 * `questions.jsonl`. Throws an Error whose message names the file and what is wrong.
 */
export async function loadCalibrationSet(folder: string): Promise<CalibrationSet> {
  const read = async (name: string) => {
    try {
      return await readFile(join(folder, name), 'utf8');
    } catch {
      throw new Error(`${folder} has no ${name}`);
    }
  };
  let rawTargets: unknown;
  try {
    rawTargets = JSON.parse(await read('targets.json'));
  } catch (error) {
    throw new Error(`${join(folder, 'targets.json')}: ${(error as Error).message}`);
  }
  const { questions, problems } = parseCalibrationQuestions(await read('questions.jsonl'));
  if (problems.length) throw new Error(`${join(folder, 'questions.jsonl')}: ${problems.slice(0, 3).join('; ')}`);
  return { targets: parseTargets(rawTargets).targets, questions };
}
