import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LlmPort } from '../core/llm';
import { connectServer, SERVER_HELP, serverOf, type ServerChoice } from './server';
import {
  calibrate,
  calibrationHtml,
  loadCalibrationSet,
  DEFAULT_RECALL_GOAL,
  FileEmbeddingCache,
  fittedThresholds,
  saveCalibration,
  withUserTargets,
  type CalibrationMeasure,
  type CalibrationSet,
  type CalibrationResult,
} from '../core/relevance';
import { formatProblems, type ForgetTarget } from '../core/targets';
import { loadTargetsFile, reportError } from './ask';
import { HELP_FLAG, parseCommandLine } from './args';
import { EXIT, type CliIo } from './io';
import { cacheDirOf, embeddingModelOf, EMBEDDING_MODEL_HELP } from './relevanceFlags';
import { shippedDataset } from './shippedDataset';

const HELP = `Usage: unlearn calibrate [options]

Measures relevance with your embedding model on a labelled question set (questions about known
subjects that share no word with them, and questions about nothing), fits that model's thresholds
(floor, margin, relative cut-off, outlier slack, sure band) to reach the recall goal at the fewest false
shortlists, and stores them beside the embedding cache: the next \`unlearn ask\` with the same model and
cache uses them. Writes calibration.json and calibration.html (score histograms and the thresholds).

Options:
${EMBEDDING_MODEL_HELP}
${SERVER_HELP}
  --targets FILE     your targets (as for \`unlearn ask\`): they join the set, their examples as positives
  --dataset DIR      the question set: a folder with targets.json and questions.jsonl (default: the shipped datasets/relevance)
  --recall-goal R    share of positives that must reach the audit, 0 to 1 (default ${DEFAULT_RECALL_GOAL})
  --out DIR          where calibration.json and calibration.html go (default: ./unlearn-calibration)
  --cache-dir DIR    the embedding cache, where the fit is stored (default: $XDG_CACHE_HOME/unlearn/embeddings or ~/.cache/unlearn/embeddings)
  --dry-run          measure and fit, but do not store the fit
  -q, --quiet        no progress on stderr
  -h, --help`;

export interface CalibrateDeps {
  readonly connect?: (host: string, server: ServerChoice) => LlmPort;
}

export async function calibrateCommand(argv: string[], io: CliIo, deps: CalibrateDeps = {}): Promise<number> {
  const args = parseCommandLine(
    {
      args: argv,
      allowPositionals: false,
      options: {
        'embedding-model': { type: 'string' },
        provider: { type: 'string' },
        host: { type: 'string' },
        'base-url': { type: 'string' },
        'embedding-base-url': { type: 'string' },
        targets: { type: 'string' },
        dataset: { type: 'string' },
        'recall-goal': { type: 'string' },
        out: { type: 'string' },
        'cache-dir': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        ...HELP_FLAG,
      },
    },
    { io, help: HELP, usage: (message) => usage(io, message) },
  );
  if (typeof args === 'number') return args;
  const { values } = args;
  const model = embeddingModelOf(values['embedding-model'], io.env);
  if (!model) return usage(io, 'calibration needs an embedding model (--embedding-model M)');
  const recallGoal = values['recall-goal'] === undefined ? DEFAULT_RECALL_GOAL : Number(values['recall-goal']);
  if (!(recallGoal > 0 && recallGoal <= 1))
    return usage(io, `--recall-goal must be a number above 0 and at most 1, got "${values['recall-goal']}"`);

  const folder = values.dataset ? resolve(io.cwd, values.dataset) : shippedRelevanceSet();
  if (!folder) return usage(io, 'the shipped question set (datasets/relevance) is not installed next to this program; pass --dataset DIR');
  let set: CalibrationSet;
  try {
    set = await loadCalibrationSet(folder);
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  let user: ForgetTarget[] = [];
  if (values.targets) {
    const loaded = await loadTargetsFile(resolve(io.cwd, values.targets));
    if ('error' in loaded) return usage(io, loaded.error);
    for (const line of formatProblems(loaded.problems, values.targets)) io.stderr(`unlearn: ${line}\n`);
    user = loaded.targets;
  }

  const server = serverOf(values, io.env);
  if (typeof server === 'string') return usage(io, server);
  let llm: LlmPort;
  try {
    llm = (deps.connect ?? ((_h, s) => connectServer(s)))(server.host, server);
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  const cache = new FileEmbeddingCache(cacheDirOf(values['cache-dir'], io));
  const progress = !values.quiet;
  let shown = -1;
  let result: CalibrationResult;
  try {
    result = await calibrate({
      llm,
      model,
      set: withUserTargets(set, user),
      cache,
      recallGoal,
      signal: io.signal,
      onProgress: (p) => {
        if (!progress || p.total === 0) return;
        const step = Math.floor((p.done / p.total) * 4);
        if (step > shown) {
          shown = step;
          io.stderr(`Embedding ${p.total} texts with ${model}: ${p.done} done${p.cached ? ` (${p.cached} cached)` : ''}\n`);
        }
      },
    });
  } catch (error) {
    if (error instanceof Error && !('code' in error) && /calibration set/.test(error.message)) return usage(io, error.message);
    return reportError(io, error);
  }

  const out = resolve(io.cwd, values.out ?? 'unlearn-calibration');
  await mkdir(out, { recursive: true });
  const jsonPath = join(out, 'calibration.json');
  const htmlPath = join(out, 'calibration.html');
  await writeFile(jsonPath, JSON.stringify({ fitted: fittedThresholds(result), ...result }, null, 2) + '\n');
  await writeFile(htmlPath, calibrationHtml(result));

  io.stdout(summaryText(result));
  if (values['dry-run']) io.stdout(`Not stored (--dry-run).\n`);
  else {
    try {
      await saveCalibration(cache, result);
      io.stdout(`Stored for ${model} in ${cache.directory}: the next \`unlearn ask\` with this model and cache uses these thresholds.\n`);
    } catch (error) {
      io.stderr(`unlearn: cannot store the fit in ${cache.directory}: ${(error as Error).message}\n`);
      return EXIT.failure;
    }
  }
  io.stdout(`Report: ${htmlPath}\nData:   ${jsonPath}\n`);
  return EXIT.ok;
}

/** The before/after table the command prints. */
function summaryText(r: CalibrationResult): string {
  const pct = (v: number) => `${(Math.round(v * 1000) / 10).toFixed(1)}%`.padStart(6);
  const line = (label: string, m: CalibrationMeasure) =>
    `  ${label.padEnd(9)} ${(['keyword', 'meaning', 'together', 'sure'] as const)
      .map((k) => `${pct(m[k].recall)} ${pct(m[k].falseRate)}`)
      .join('   ')}\n`;
  const t = (m: CalibrationMeasure) =>
    `floor ${m.thresholds.floor}, margin ${m.thresholds.margin}, relative ${m.thresholds.relativeToBest}, outlier slack ${m.thresholds.outlierSlack}, sure +${m.thresholds.sure}`;
  return (
    `Calibrated ${r.model} (${r.family}, ${r.dims} dims) on ${r.questions} questions: ${r.positives} about ${r.subjects} subjects` +
    `${r.fromExamples ? ` (${r.fromExamples} from your targets' examples)` : ''}, ${r.negatives} about none.\n` +
    `                 keyword          meaning          together       sure band\n` +
    `            recall  false    recall  false    recall  false    recall  false\n` +
    line('before', r.before) +
    line('after', r.after) +
    `  before: ${t(r.before)}\n  after:  ${t(r.after)}\n` +
    (r.goalReached
      ? `Recall goal ${Math.round(r.recallGoal * 100)}% reached.\n`
      : `Recall goal ${Math.round(r.recallGoal * 100)}% not reachable with this model: fitted for the best recall minus false rate.\n`)
  );
}

/** datasets/relevance next to the program: two folders up from src/cli under tsx, one up from dist/ when bundled. */
function shippedRelevanceSet(): string | undefined {
  return shippedDataset('relevance', 'questions.jsonl');
}

function usage(io: CliIo, message: string): number {
  io.stderr(`unlearn calibrate: ${message}\n\n${HELP}\n`);
  return EXIT.usage;
}
