import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildTargetIndex, type TargetIndex } from '../core/guard';
import { FileEmbeddingCache, relevanceOf, AUDIT_POLICIES, type AuditPolicy } from '../core/relevance';
import { cacheDirOf, embeddingModelOf, parseAuditPolicy, RELEVANCE_HELP, relevanceNoticeText } from './relevanceFlags';
import { isLlmError, type LlmError, createOllamaPort, type LlmPort, DEFAULT_OLLAMA_HOST } from '../core/llm';
import {
  DEFAULT_CONTEXT_LENGTH,
  DEFAULT_MODEL,
  DEFAULT_PIPELINE_OPTIONS,
  parseContextLength,
  runPipeline,
  TOO_LONG,
  type PipelineResult,
} from '../core/pipeline';
import { commonWordTerms, formatProblems, parseTargets, type ForgetTarget } from '../core/targets';
import { HELP_FLAG, parseCommandLine, PIPELINE_FLAGS } from './args';
import { EXIT, forTerminal, terminalText, type CliIo } from './io';
import { isBidiFormatChar, isControl } from '../core/text';

const HELP = `Usage: unlearn ask "question" [options]

Answers through the ALU pipeline: only the final, guarded answer goes to stdout; stage progress and
errors go to stderr.

Options:
  --targets FILE     JSON array of targets, as in the unlearn.targets setting ([{"name": "Project Falcon", "aliases": ["Falcon"]}])
  --model M          Ollama model (default: $UNLEARN_MODEL or ${DEFAULT_MODEL})
  --host URL         Ollama server (default: $OLLAMA_HOST or ${DEFAULT_OLLAMA_HOST})
  --candidates N     erased candidates the rewrite agent writes, one call each (default ${DEFAULT_PIPELINE_OPTIONS.candidates})
  --top-k N          best candidates the composer merges (default ${DEFAULT_PIPELINE_OPTIONS.topK})
  --parallel N       model calls of one request at once: the Ollama server's slots (default ${DEFAULT_PIPELINE_OPTIONS.parallelCalls});
                     1 = one slot: at most 2 candidates, the best shown without composing
  --num-ctx N        Ollama context window in tokens for every call (default ${DEFAULT_CONTEXT_LENGTH}; 0 = Ollama's own default, no trimming)
${RELEVANCE_HELP}
  --cache-dir DIR    where target embeddings are kept between runs (default: $XDG_CACHE_HOME/unlearn/embeddings or ~/.cache/unlearn/embeddings)
  --json             print the whole result as JSON (stages, redactions, timings, token counts) instead
  -q, --quiet        no progress on stderr
  -h, --help`;

/** Dependencies a test may replace; by default the real Ollama adapter. */
export interface AskDeps {
  readonly connect?: (host: string) => LlmPort;
}

export async function askCommand(argv: string[], io: CliIo, deps: AskDeps = {}): Promise<number> {
  const args = parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        targets: { type: 'string' },
        ...PIPELINE_FLAGS,
        'cache-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        ...HELP_FLAG,
      },
    },
    { io, help: HELP, usage: (message) => usage(io, message) },
  );
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (positionals.length !== 1 || !positionals[0]!.trim()) return usage(io, 'give the question as one argument (quote it)');
  const question = positionals[0]!;

  const candidates = positiveInt(values.candidates, DEFAULT_PIPELINE_OPTIONS.candidates, '--candidates');
  const topK = positiveInt(values['top-k'], DEFAULT_PIPELINE_OPTIONS.topK, '--top-k');
  if (typeof candidates === 'string') return usage(io, candidates);
  if (typeof topK === 'string') return usage(io, topK);
  const parallelCalls = positiveInt(values.parallel, DEFAULT_PIPELINE_OPTIONS.parallelCalls ?? 4, '--parallel');
  if (typeof parallelCalls === 'string') return usage(io, parallelCalls);
  const contextLength = parseContextLength(values['num-ctx']);
  if (typeof contextLength === 'string') return usage(io, contextLength);
  const auditPolicy = parseAuditPolicy(values['audit-policy']);
  if (!(AUDIT_POLICIES as readonly string[]).includes(auditPolicy)) return usage(io, auditPolicy);
  const embeddingModel = embeddingModelOf(values['embedding-model'], io.env);

  let targets: ForgetTarget[] = [];
  if (values.targets) {
    const loaded = await loadTargetsFile(resolve(io.cwd, values.targets));
    if ('error' in loaded) return usage(io, loaded.error);
    for (const line of formatProblems(loaded.problems, values.targets)) io.stderr(`unlearn: ${line}\n`);
    targets = loaded.targets;
    const ordinary = targets.filter((t) => t.enabled).flatMap((t) => commonWordTerms(t));
    if (ordinary.length)
      io.stderr(
        `unlearn: warning: ${ordinary.map((t) => `"${forTerminal(t, io.stderrIsTTY)}"`).join(', ')} ${ordinary.length === 1 ? 'is an ordinary word' : 'are ordinary words'}: every use of ${ordinary.length === 1 ? 'it' : 'them'} in any case will be redacted; to match only the capitalised proper noun, add "caseSensitive": true (or a list of the terms) to the target in ${values.targets}\n`,
      );
  }

  const host = values.host ?? io.env.OLLAMA_HOST ?? DEFAULT_OLLAMA_HOST;
  const model = values.model ?? io.env.UNLEARN_MODEL ?? DEFAULT_MODEL;
  let llm: LlmPort;
  try {
    llm = (deps.connect ?? ((h) => createOllamaPort({ host: h })))(host);
  } catch (error) {
    return usage(io, (error as Error).message);
  }

  const progress = !values.quiet && !values.json;
  const answer = terminalText(io.stdoutIsTTY);
  const index = buildTargetIndex(targets);
  const embeddingCache = new FileEmbeddingCache(cacheDirOf(values['cache-dir'], io));
  if (embeddingModel && auditPolicy !== 'named' && index.targets.some((t) => t.enabled)) {
    // Embedded before the question is asked, with progress: a one-shot command would otherwise ask
    // while a large list is still being embedded. Later runs read the cache. A failure is not fatal: the
    // pipeline goes on with names and keywords and says so once.
    await prepareEmbeddings(io, llm, index, embeddingModel, embeddingCache, progress);
  }
  let result: PipelineResult;
  try {
    result = await runPipeline({
      llm,
      index,
      question,
      options: {
        ...DEFAULT_PIPELINE_OPTIONS,
        model,
        candidates,
        topK,
        parallelCalls,
        contextLength,
        auditPolicy: auditPolicy as AuditPolicy,
        embeddingModel,
      },
      embeddingCache,
      signal: io.signal,
      onEvent: (event) => {
        if (event.type === 'relevance-notice') io.stderr(relevanceNoticeText(event, io.stderrIsTTY));
        if (event.type === 'stage-start' && progress) io.stderr(`${event.message}\n`);
        if (event.type === 'answer-chunk' && !values.json) {
          const text = answer.push(event.text);
          if (text) io.stdout(text);
        }
      },
    });
  } catch (error) {
    return reportError(io, error);
  }
  if (values.json) {
    io.stdout(jsonForTerminal(JSON.stringify({ model, host, ...result }, null, 2)) + '\n');
  } else {
    io.stdout(answer.end() + '\n');
    // Core says the question did not fit; the fix on the command line is a flag.
    if (result.answer === TOO_LONG) io.stderr(`unlearn: the context window is ${contextLength} tokens; raise it with --num-ctx N.\n`);
    if (progress && result.outcome !== 'vanilla') {
      const note =
        result.outcome === 'refused'
          ? `refused: ${result.refusalReason}`
          : `${result.redactions.length} redaction(s)${result.guardActed ? ', the guard had to act' : ''}`;
      io.stderr(`unlearn: ${forTerminal(note, io.stderrIsTTY)}\n`);
    }
  }
  return EXIT.ok;
}

async function prepareEmbeddings(
  io: CliIo,
  llm: LlmPort,
  index: TargetIndex,
  model: string,
  cache: FileEmbeddingCache,
  progress: boolean,
): Promise<void> {
  let shown = 0;
  try {
    await relevanceOf(index).prepare(llm, model, {
      cache,
      onProgress: (p) => {
        // Only a build that embeds something worth waiting for is reported, every 10%.
        if (!progress || p.total - p.cached < 64) return;
        const step = Math.floor((p.done / p.total) * 10);
        if (step > shown || p.done === p.total) {
          shown = step;
          io.stderr(`Embedding targets with ${model}: ${p.done} of ${p.total}${p.cached ? ` (${p.cached} cached)` : ''}\n`);
        }
      },
    });
  } catch {
    // Remembered by the relevance engine; the pipeline reports it once as a relevance notice.
  }
  if (cache.writeError && progress)
    io.stderr(`unlearn: cannot write the embedding cache in ${cache.directory}: ${cache.writeError.message}\n`);
}

export async function loadTargetsFile(path: string): Promise<{ error: string } | ReturnType<typeof parseTargets>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { error: `cannot read targets file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `targets file ${path} is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = parseTargets(json);
  if (parsed.problems.some((p) => p.index === -1)) return { error: formatProblems(parsed.problems, path).join('\n') };
  return parsed;
}

/**
 * JSON.stringify escapes C0 controls but writes DEL, C1 and bidi controls raw; as \\u escapes they parse
 * to the same strings and cannot act on a terminal the JSON is shown in.
 */
function jsonForTerminal(json: string): string {
  return json.replace(/[\u007f-\uffff]/g, (c) => {
    const code = c.charCodeAt(0);
    return isControl(code) || isBidiFormatChar(code) ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  });
}

/** Maps an error to its exit code, with the message that says what to do. */
export function reportError(io: CliIo, error: unknown): number {
  if (isLlmError(error)) {
    const e = error as LlmError;
    io.stderr(`unlearn: ${forTerminal(e.message, io.stderrIsTTY)}\n`);
    // Core names what happened; the fix for the configured host is the CLI's to word.
    if (e.code === 'unreachable' || e.code === 'remote-host' || e.details.suspect === 'host')
      io.stderr(
        `unlearn: check --host (default: $OLLAMA_HOST, else ${DEFAULT_OLLAMA_HOST}): it should be the address Ollama answers on.\n`,
      );
    switch (e.code) {
      case 'unreachable':
        return EXIT.unreachable;
      case 'model-missing':
        return EXIT.modelMissing;
      case 'aborted':
        return EXIT.interrupted;
      default:
        return EXIT.failure;
    }
  }
  io.stderr(`unlearn: ${forTerminal(error instanceof Error ? error.message : String(error), io.stderrIsTTY)}\n`);
  return EXIT.failure;
}

function usage(io: CliIo, message: string): number {
  io.stderr(`unlearn ask: ${message}\n\n${HELP}\n`);
  return EXIT.usage;
}

function positiveInt(value: string | undefined, fallback: number, flag: string): number | string {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 20 ? n : `${flag} must be a whole number from 1 to 20, got "${value}"`;
}
