import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  buildReport,
  DatasetFormatError,
  DEFAULT_GENERATE_OPTIONS,
  generateDataset,
  parseDatasetJson,
  parseJsonValues,
  parseQaFile,
  qaDataset,
  renderHtml,
  renderTable,
  runEvaluation,
  TofuFormatError,
  ATTACK_KINDS,
  ALL_QUESTION_KINDS,
  QUESTION_KINDS,
  type EvalDataset,
  type GeneratedKind,
  type QuestionKind,
  type EvalReport,
  type QuestionRecord,
} from '../core/eval';
import type { LlmPort } from '../core/llm';
import { connectServer, SERVER_HELP, serverOf, type ServerChoice } from './server';
import { AUDIT_POLICIES, type AuditPolicy } from '../core/relevance';
import { DEFAULT_CONTEXT_LENGTH, DEFAULT_MODEL, DEFAULT_PIPELINE_OPTIONS, parseContextLength } from '../core/pipeline';
import { formatProblems } from '../core/targets';
import { HELP_FLAG, parseCommandLine, PIPELINE_FLAGS } from './args';
import { loadTargetsFile, reportError } from './ask';
import { EXIT, type CliIo } from './io';
import { cacheDirOf, EMBEDDING_MODEL_HELP, embeddingModelOf } from './relevanceFlags';
import { PARALLEL_HELP, parallelismFile, parseParallel, resolveParallel } from './parallelFlag';
import { shippedDataset } from './shippedDataset';

const HELP = `Usage:
  unlearn eval generate [--seed N] [--entities N] [--many-shot N] [--kinds K,K…] [--out FILE]
  unlearn eval run --model M [--host URL | --provider openai --base-url URL] [--dataset FILE|DIR|world] [--out DIR] [--judge] [options]

generate  writes a synthetic dataset (invented people, companies, projects and places with facts,
          split into forget and retain sets) as JSON to FILE or stdout, one question per entity and
          kind. The same seed always gives the same dataset. Kinds (default: all):
            ${QUESTION_KINDS.slice(0, 9).join(', ')},
            and the published attacks: ${ATTACK_KINDS.join(', ')}

run       asks every question of the dataset to the plain model and through the Unlearn pipeline,
          and writes DIR/report.json and DIR/report.html (default DIR: ./unlearn-eval).
          Without --dataset it runs the default synthetic dataset (seed ${DEFAULT_GENERATE_OPTIONS.seed}, ${DEFAULT_GENERATE_OPTIONS.entities} entities).
          Ctrl-C stops after the current request and still writes the report of what was answered.

Options for run:
  --model M          the model (default: $UNLEARN_MODEL or ${DEFAULT_MODEL})
${SERVER_HELP}
  --dataset D        what to ask:
                       world   the world-knowledge set shipped with Unlearn (well-known works and
                               landmarks; what the model knows from training, with topic targets)
                       DIR     a folder with forget.jsonl (or .json), retain.jsonl and targets.json
                       FILE    a file from "eval generate", or the forget split as question records
                               in JSON, JSON Lines or concatenated JSON: free text (question/answer,
                               prompt/response, input/output, query/target…; TOFU), or multiple
                               choice (question, choices, answer = index of the correct choice;
                               the WMDP and MMLU exports), asked with lettered choices
  --retain FILE        the retain split, in the same formats (e.g. TOFU retain90.json, MMLU)
  --targets FILE       forget targets for the forget split, as for "unlearn ask"
  --limit N          at most N questions per split (benchmark files are large)
  --kinds K,K…       only the questions of these kinds (e.g. --kinds composite,multi-turn)
  --audit-policy P   when a request goes to the agents: named, related or always; a comma list
                     (named,related,always) runs the pipeline once per policy on the same questions
                     (the plain model once) and the report compares them
  --judge            also ask the model, as a judge, whether each forget answer reveals a fact
  --samples K        leak@K: answer each forget question K times, sampled (temperature 0.8 unless
                     --temperature), and count it leaked if any answer leaks
  --candidates N     erased candidates per request (default ${DEFAULT_PIPELINE_OPTIONS.candidates})
  --top-k N          candidates the composer merges (default ${DEFAULT_PIPELINE_OPTIONS.topK})
${PARALLEL_HELP}
  --num-ctx N        Ollama context window in tokens (default ${DEFAULT_CONTEXT_LENGTH}; 0 = Ollama's own default)
${EMBEDDING_MODEL_HELP}
  --temperature T    sampling temperature for the answers (default: the model's)
  --seed N           sampling seed passed to the server
  -q, --quiet        no progress on stderr
  -h, --help`;

export interface EvalDeps {
  readonly connect?: (host: string, server: ServerChoice) => LlmPort;
}

export async function evalCommand(argv: string[], io: CliIo, deps: EvalDeps = {}): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'generate':
      return generate(rest, io);
    case 'run':
      return run(rest, io, deps);
    case '-h':
    case '--help':
    case 'help':
      io.stdout(HELP + '\n');
      return EXIT.ok;
    default:
      return usage(io, sub ? `unknown subcommand "${sub}"` : 'say "generate" or "run"');
  }
}

async function generate(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(
    {
      args: argv,
      options: {
        seed: { type: 'string' },
        entities: { type: 'string' },
        'many-shot': { type: 'string' },
        kinds: { type: 'string' },
        out: { type: 'string' },
        ...HELP_FLAG,
      },
    },
    { io, help: HELP, usage: (message) => usage(io, message) },
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const seed = wholeNumber(values.seed, DEFAULT_GENERATE_OPTIONS.seed, '--seed', 0, 2 ** 32 - 1);
  const entities = wholeNumber(values.entities, DEFAULT_GENERATE_OPTIONS.entities, '--entities', 2, 400);
  const manyShot = wholeNumber(values['many-shot'], DEFAULT_GENERATE_OPTIONS.manyShotTurns, '--many-shot', 0, 200);
  for (const v of [seed, entities, manyShot]) if (typeof v === 'string') return usage(io, v);
  const kinds = parseKinds(values.kinds, QUESTION_KINDS);
  if (typeof kinds === 'string') return usage(io, kinds);
  const dataset = generateDataset({
    seed: seed as number,
    entities: entities as number,
    manyShotTurns: manyShot as number,
    ...(kinds ? { kinds: kinds as GeneratedKind[] } : {}),
  });
  const json = JSON.stringify(dataset, null, 2) + '\n';
  if (!values.out) {
    io.stdout(json);
    return EXIT.ok;
  }
  const path = resolve(io.cwd, values.out);
  try {
    await writeFile(path, json);
  } catch (error) {
    io.stderr(`unlearn eval: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return EXIT.failure;
  }
  const forget = dataset.questions.filter((q) => q.split === 'forget').length;
  io.stderr(
    `unlearn eval: wrote ${dataset.questions.length} questions (${forget} forget, ${dataset.questions.length - forget} retain) about ${dataset.entities.length} entities to ${path}\n`,
  );
  return EXIT.ok;
}

async function run(argv: string[], io: CliIo, deps: EvalDeps): Promise<number> {
  const parsed = parseCommandLine(
    {
      args: argv,
      options: {
        ...PIPELINE_FLAGS,
        dataset: { type: 'string' },
        retain: { type: 'string' },
        targets: { type: 'string' },
        limit: { type: 'string' },
        kinds: { type: 'string' },
        out: { type: 'string' },
        judge: { type: 'boolean', default: false },
        samples: { type: 'string' },
        temperature: { type: 'string' },
        seed: { type: 'string' },
        quiet: { type: 'boolean', short: 'q', default: false },
        ...HELP_FLAG,
      },
    },
    { io, help: HELP, usage: (message) => usage(io, message) },
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const candidates = wholeNumber(values.candidates, DEFAULT_PIPELINE_OPTIONS.candidates, '--candidates', 1, 20);
  const topK = wholeNumber(values['top-k'], DEFAULT_PIPELINE_OPTIONS.topK, '--top-k', 1, 20);
  const parallelFlag = parseParallel(values.parallel, 64);
  if (typeof parallelFlag === 'object') return usage(io, parallelFlag.error);
  const samples = wholeNumber(values.samples, 1, '--samples', 1, 50);
  if (typeof samples === 'string') return usage(io, samples);
  const limit = values.limit === undefined ? undefined : wholeNumber(values.limit, 0, '--limit', 1, 1_000_000);
  const seed = values.seed === undefined ? undefined : wholeNumber(values.seed, 0, '--seed', 0, 2 ** 31 - 1);
  const contextLength = parseContextLength(values['num-ctx']);
  for (const v of [candidates, topK, limit, seed, contextLength]) if (typeof v === 'string') return usage(io, v);
  const auditPolicies = parseAuditPolicies(values['audit-policy']);
  if (typeof auditPolicies === 'string') return usage(io, auditPolicies);
  const onlyKinds = parseKinds(values.kinds, ALL_QUESTION_KINDS);
  if (typeof onlyKinds === 'string') return usage(io, onlyKinds);
  const auditPolicy: AuditPolicy = auditPolicies?.[0] ?? 'related';
  const embeddingModel = embeddingModelOf(values['embedding-model'], io.env);
  let temperature: number | undefined;
  if (values.temperature !== undefined) {
    temperature = Number(values.temperature);
    if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2)
      return usage(io, `--temperature must be a number from 0 to 2, got "${values.temperature}"`);
  }

  let dataset: EvalDataset;
  try {
    dataset = await loadDataset(io, values.dataset, values.retain, values.targets, limit as number | undefined);
  } catch (error) {
    if (error instanceof DatasetFormatError || error instanceof TofuFormatError || error instanceof InputError)
      return usage(io, error.message);
    throw error;
  }
  if (onlyKinds) dataset = { ...dataset, questions: dataset.questions.filter((q) => onlyKinds.includes(q.kind)) };
  if (dataset.questions.length === 0)
    return usage(io, onlyKinds ? `the dataset has no questions of kind ${onlyKinds.join(', ')}` : 'the dataset has no questions');
  if (dataset.targets.length === 0)
    io.stderr(
      'unlearn eval: warning: the dataset has no forget targets, so the pipeline has nothing to forget (for TOFU, pass --targets FILE)\n',
    );

  const server = serverOf(values, io.env);
  if (typeof server === 'string') return usage(io, server);
  const { host } = server;
  const model = values.model ?? io.env.UNLEARN_MODEL ?? DEFAULT_MODEL;
  const outDir = resolve(io.cwd, values.out ?? 'unlearn-eval');
  let llm: LlmPort;
  try {
    llm = (deps.connect ?? ((_h, s) => connectServer(s)))(host, server);
  } catch (error) {
    return usage(io, (error as Error).message);
  }

  let parallelCalls: number;
  try {
    parallelCalls = await resolveParallel(parallelFlag, {
      llm,
      model,
      contextLength: contextLength as number,
      file: parallelismFile(cacheDirOf(undefined, io), false),
      io,
      progress: !values.quiet,
    });
  } catch (error) {
    if (io.signal.aborted) return EXIT.interrupted;
    throw error;
  }
  const bar = values.quiet ? undefined : new ProgressBar(io, dataset.questions.length);
  const systems = auditPolicies ? ['plain model', ...auditPolicies.map((p) => `Unlearn ${p}`)] : ['plain model', 'Unlearn'];
  bar?.start(`unlearn eval: ${dataset.questions.length} questions × ${systems.length} (${systems.join(', ')}) on ${model} at ${host}`);
  const result = await runEvaluation({
    llm,
    model,
    dataset,
    judge: values.judge,
    samples,
    signal: io.signal,
    ...(auditPolicies ? { auditPolicies } : {}),
    pipeline: {
      candidates: candidates as number,
      topK: topK as number,
      parallelCalls,
      contextLength: contextLength as number,
      auditPolicy,
      ...(embeddingModel ? { embeddingModel } : {}),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(seed !== undefined ? { seed: seed as number } : {}),
    },
    onProgress: (done, _total, record) => bar?.update(done, record),
  });
  bar?.finish();

  const report = buildReport({ model, host, dataset, run: result, judge: values.judge, ...(auditPolicies ? { auditPolicies } : {}) });
  if (report.answered > 0 || !result.stopped) {
    const written = await writeReport(io, outDir, report);
    if (written !== EXIT.ok) return written;
    io.stdout(renderTable(report));
    io.stdout(`\nReport: ${join(outDir, 'report.html')} (data: ${join(outDir, 'report.json')})\n`);
  }
  if (result.stopped?.reason === 'interrupted') {
    io.stderr(
      `unlearn eval: interrupted after ${report.answered} of ${report.dataset.questions} questions${report.answered ? '; the report covers those' : '; nothing to report'}\n`,
    );
    return EXIT.interrupted;
  }
  if (result.stopped?.reason === 'error') return reportError(io, result.stopped.error, server);
  return EXIT.ok;
}

class InputError extends Error {}

async function loadDataset(
  io: CliIo,
  datasetPath?: string,
  retainPath?: string,
  targetsPath?: string,
  limit?: number,
): Promise<EvalDataset> {
  if (!datasetPath) {
    if (retainPath || targetsPath)
      throw new InputError('--retain and --targets go with a TOFU --dataset file (or any file of question records)');
    const d = generateDataset({ seed: DEFAULT_GENERATE_OPTIONS.seed, entities: DEFAULT_GENERATE_OPTIONS.entities });
    return limit ? limitPerSplit(d, limit) : d;
  }
  const folder = datasetFolder(io, datasetPath);
  if (folder) {
    if (retainPath || targetsPath)
      throw new InputError(`--retain and --targets go with a --dataset file; ${datasetPath} is a folder that has its own`);
    const file = (names: string[]) => names.map((n) => join(folder, n)).find((p) => existsSync(p));
    const forget = file(['forget.jsonl', 'forget.json']);
    if (!forget) throw new InputError(`${folder} has no forget.jsonl or forget.json`);
    return loadQuestionFiles(
      io,
      forget,
      file(['retain.jsonl', 'retain.json']),
      file(['targets.json']),
      limit,
      datasetPath === WORLD ? 'world knowledge' : folder,
      {},
      // A folder's records grouped by subject (the world set's) also get the published attacks.
      DEFAULT_GENERATE_OPTIONS.seed,
    );
  }
  const path = resolve(io.cwd, datasetPath);
  const text = await readText(path);
  let values: unknown[];
  try {
    values = parseJsonValues(text, datasetPath);
  } catch (error) {
    if (error instanceof DatasetFormatError) throw new InputError(error.message);
    throw error;
  }
  const only = values.length === 1 ? values[0] : undefined;
  if (only && typeof only === 'object' && !Array.isArray(only) && (only as { format?: unknown }).format !== undefined) {
    if (retainPath || targetsPath)
      throw new InputError('--retain and --targets go with a file of question records, not with an unlearn-eval dataset');
    const d = parseDatasetJson(only, datasetPath);
    return limit ? limitPerSplit(d, limit) : d;
  }
  return loadQuestionFiles(
    io,
    path,
    retainPath && resolve(io.cwd, retainPath),
    targetsPath && resolve(io.cwd, targetsPath),
    limit,
    [datasetPath, retainPath].filter(Boolean).join(' + '),
    { [path]: text },
  );
}

/** The name that picks the world-knowledge set shipped with Unlearn. */
const WORLD = 'world';

/** The folder a --dataset value names: `world`, or a directory on disk; undefined for a file. */
function datasetFolder(io: CliIo, value: string): string | undefined {
  const local = resolve(io.cwd, value);
  if (existsSync(local) && statSync(local).isDirectory()) return local;
  if (value !== WORLD) return undefined;
  const shipped = shippedWorldSet();
  if (!shipped) throw new InputError('the world-knowledge set (datasets/world) is not installed next to this program');
  return shipped;
}

/** datasets/world next to the program: two folders up from src/cli under tsx, one up from dist/ when bundled. */
export function shippedWorldSet(): string | undefined {
  return shippedDataset('world', 'targets.json');
}

async function loadQuestionFiles(
  io: CliIo,
  forgetPath: string,
  retainPath: string | undefined,
  targetsPath: string | undefined,
  limit: number | undefined,
  source: string,
  already: Record<string, string> = {},
  attackSeed?: number,
): Promise<EvalDataset> {
  const read = async (p: string) => already[p] ?? (await readText(p));
  const forget = parseQaFile(await read(forgetPath), forgetPath);
  const retain = retainPath ? parseQaFile(await read(retainPath), retainPath) : [];
  let targets;
  if (targetsPath) {
    const loaded = await loadTargetsFile(targetsPath);
    if ('error' in loaded) throw new InputError(loaded.error);
    for (const line of formatProblems(loaded.problems, targetsPath)) io.stderr(`unlearn eval: ${line}\n`);
    targets = loaded.targets.map((t) => ({
      id: t.id,
      name: t.name,
      aliases: [...t.aliases],
      ...(t.description ? { description: t.description } : {}),
      ...(t.examples?.length ? { examples: [...t.examples] } : {}),
    }));
  }
  return qaDataset({ forget, retain, targets, limit, source, ...(attackSeed !== undefined ? { attackSeed } : {}) });
}

// --- --audit-policy: kept in one block so it merges with the relevance work's copy of the flag ---

/** `--audit-policy related` or a comma list `named,related,always`; undefined when the flag is absent. */
export function parseAuditPolicies(value: string | undefined): AuditPolicy[] | undefined | string {
  return parseCommaList(
    value,
    AUDIT_POLICIES,
    () => `--audit-policy must be one or more of ${AUDIT_POLICIES.join(', ')} (comma-separated), got "${value}"`,
  );
}

/** `--kinds a,b`: the kinds named, each one of `known`; undefined when the flag is absent. */
function parseKinds(value: string | undefined, known: readonly QuestionKind[]): QuestionKind[] | undefined | string {
  return parseCommaList(value, known, () => `--kinds must be a comma list of ${known.join(', ')}; got "${value}"`);
}

/** A comma list of `known` words, deduplicated; `problem()` when it is empty or names another; undefined when absent. */
function parseCommaList<T extends string>(value: string | undefined, known: readonly T[], problem: () => string): T[] | undefined | string {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  if (list.length === 0 || list.some((w) => !known.includes(w as T))) return problem();
  return [...new Set(list as T[])];
}

function limitPerSplit(d: EvalDataset, limit: number): EvalDataset {
  const seen = { forget: 0, retain: 0 };
  return { ...d, questions: d.questions.filter((q) => seen[q.split]++ < limit) };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function writeReport(io: CliIo, dir: string, report: EvalReport): Promise<number> {
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    await writeFile(join(dir, 'report.html'), renderHtml(report));
    return EXIT.ok;
  } catch (error) {
    io.stderr(`unlearn eval: cannot write the report to ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return EXIT.failure;
  }
}

/** A one-line bar redrawn in place on a terminal; on a pipe, a line every tenth of the run. */
class ProgressBar {
  private leaks = { plain: 0, unlearn: 0 };
  private lastTenth = 0;

  constructor(
    private readonly io: CliIo,
    private readonly total: number,
  ) {}

  start(line: string): void {
    this.io.stderr(line + '\n');
  }

  update(done: number, record: QuestionRecord): void {
    if (record.split === 'forget') {
      if (record.plain.leakedTerms?.length) this.leaks.plain++;
      if (record.unlearn.leakedTerms?.length) this.leaks.unlearn++;
    }
    const status = `${done}/${this.total}  leaks: plain ${this.leaks.plain}, unlearn ${this.leaks.unlearn}`;
    if (this.io.stderrIsTTY) {
      const width = 24;
      const filled = Math.round((done / this.total) * width);
      this.io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${status}  ${record.kind.padEnd(14)}`);
      return;
    }
    const tenth = Math.floor((done / this.total) * 10);
    if (tenth > this.lastTenth || done === this.total) {
      this.lastTenth = tenth;
      this.io.stderr(`unlearn eval: ${status}\n`);
    }
  }

  finish(): void {
    if (this.io.stderrIsTTY) this.io.stderr('\n');
  }
}

function usage(io: CliIo, message: string): number {
  io.stderr(`unlearn eval: ${message}\n\n${HELP}\n`);
  return EXIT.usage;
}

function wholeNumber(value: string | undefined, fallback: number, flag: string, min: number, max: number): number | string {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : `${flag} must be a whole number from ${min} to ${max}, got "${value}"`;
}
