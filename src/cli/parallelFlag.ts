/**
 * `--parallel auto|N` for the commands that run the pipeline. `auto` (the default) measures how many
 * requests the Ollama server runs at once (core/llm/parallelism.ts) and keeps the measurement in the
 * cache directory, so the next command does not measure again while the server runs on.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeParallelism, ServerParallelism, type LlmPort, type ParallelismRecord, type ParallelismStore } from '../core/llm';
import { KEEP_ALIVE } from '../core/pipeline';
import type { CliIo } from './io';

export const PARALLEL_HELP = `  --parallel auto|N  model calls of one request at once (default auto: measures how many requests the Ollama
                     server runs at once, once per server and model, again after it restarts; see
                     docs/parallelism.md); a request's agents run one after another on one cached conversation`;

/** `auto`, a whole number within [1, max], or the usage message. */
export function parseParallel(value: string | undefined, max: number): number | 'auto' | { error: string } {
  if (value === undefined || value.trim().toLowerCase() === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    return { error: `--parallel must be auto or a whole number from 1 to ${max}, got "${value}"` };
  return n;
}

/** Measurements kept as one JSON file; written whole through a temporary file, so a reader never sees half of it. */
function fileParallelismStore(file: string): ParallelismStore {
  return {
    async read() {
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
        return Array.isArray(parsed) ? (parsed as ParallelismRecord[]) : [];
      } catch {
        return [];
      }
    },
    async write(records) {
      const month = 30 * 86_400_000;
      await mkdir(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(
        temporary,
        JSON.stringify(
          records.filter((r) => Date.now() - r.measuredAt < month),
          null,
          1,
        ) + '\n',
      );
      await rename(temporary, file);
    },
  };
}

/** The file `--parallel auto` keeps its measurements in: beside the embeddings (`cacheDir` is their directory). */
export function parallelismFile(cacheDir: string, explicit: boolean): string {
  return explicit ? join(cacheDir, 'parallelism.json') : join(dirname(cacheDir), 'parallelism.json');
}

/** The slots to run with: the number given, or the measured (or cached) slots for `auto`, said on stderr when measured. */
export async function resolveParallel(
  flag: number | 'auto',
  input: { llm: LlmPort; model: string; contextLength: number; file: string; io: CliIo; progress: boolean },
): Promise<number> {
  if (flag !== 'auto') return flag;
  const { llm, model, io } = input;
  const cache = new ServerParallelism({ store: fileParallelismStore(input.file) });
  const resolved = await cache.resolve(llm, {
    model,
    keepAlive: KEEP_ALIVE,
    signal: io.signal,
    ...(input.contextLength > 0 ? { numCtx: input.contextLength } : {}),
  });
  if (resolved.source === 'fallback')
    io.stderr(`unlearn: could not measure the server's parallelism (${resolved.reason}); one call at a time\n`);
  else if (resolved.source === 'measured' && input.progress)
    io.stderr(`Ollama at ${llm.host}: ${describeParallelism(resolved)} for ${model}\n`);
  return resolved.slots;
}
