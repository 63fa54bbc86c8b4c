import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EXIT, type CliIo } from './io';
import { buildProbe, formatReport, runGuardBench } from '../bench/guardBench';
import { startPromptTokenProbe } from '../bench/promptTokenBench';
import { formatRelevanceReport, runRelevanceBench } from '../bench/relevanceBench';

const USAGE = `unlearn bench — leak guard benchmark (our index vs a naive regex and the obscenity matcher) and relevance-stage benchmark

Usage:
  unlearn bench [--quick] [--out FILE]

  --quick      smaller run (up to 10,000 targets, 1 KB and 16 KB texts), about a minute or less
  --out FILE   where to write the JSON results (default bench-results/guard.json)

Prints a table of median time per text, build times, heap, and PASS/FAIL lines for the goals.
Exit code 0 when every measured goal passes, 1 otherwise.`;

export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  let quick = false;
  let out = 'bench-results/guard.json';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--out') {
      const value = argv[++i];
      if (!value) return usage(io, '--out needs a file name');
      out = value;
    } else if (arg === '--build-probe') {
      // Internal: run by the benchmark itself in a child process with a capped heap.
      io.stdout(buildProbe(Number(argv[++i] ?? 100_000)) + '\n');
      return EXIT.ok;
    } else if (arg === '-h' || arg === '--help') {
      io.stdout(USAGE + '\n');
      return EXIT.ok;
    } else return usage(io, `unknown option "${arg}"`);
  }
  const script = process.argv[1];
  io.stderr(`unlearn bench: ${quick ? 'quick' : 'full'} run${quick ? '' : ' (a few minutes)'}…\n`);
  let report;
  const tokens = await startPromptTokenProbe();
  try {
    report = await runGuardBench({
      quick,
      log: (line) => io.stderr(line + '\n'),
      // The capped-heap build probe re-runs this CLI; only possible from the built bundle.
      cliPath: script && /\.c?js$/.test(script) ? script : undefined,
      signal: io.signal,
      promptTokens: tokens.probe,
    });
  } catch (error) {
    if (io.signal.aborted) return EXIT.interrupted;
    throw error;
  } finally {
    await tokens.close();
  }
  let relevance;
  try {
    relevance = await runRelevanceBench({ log: (line) => io.stderr(line + '\n'), signal: io.signal });
  } catch (error) {
    if (io.signal.aborted) return EXIT.interrupted;
    throw error;
  }
  const combined = { ...report, relevance, goals: [...report.goals, ...relevance.goals] };
  io.stdout(formatRelevanceReport(relevance));
  io.stdout(formatReport(combined));
  const file = resolve(io.cwd, out);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(combined, null, 2) + '\n');
  io.stdout(`\nJSON written to ${file}\n`);
  return combined.goals.every((g) => g.pass) ? EXIT.ok : EXIT.failure;
}

function usage(io: CliIo, message: string): number {
  io.stderr(`unlearn bench: ${message}\n\n${USAGE}\n`);
  return EXIT.usage;
}
