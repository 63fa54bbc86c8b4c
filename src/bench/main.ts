import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EXIT, type CliIo } from '../cli/io';
import { isProvider, PROVIDERS, type Provider } from '../core/llm';
import { runCli } from '../cli/process';
import { buildProbe, formatReport, runGuardBench } from './guardBench';
import { startPromptTokenProbe } from './promptTokenBench';
import { formatRelevanceReport, runRelevanceBench } from './relevanceBench';
import { runLatencyBench, type LatencyReport } from './latencyBench';
import { formatLatencyReport } from './latencyBenchReport';
import { formatPrecisionReport, runPrecisionBench } from './precisionBench';
import { formatAgentReport, runAgentBench, type AgentReport } from './agentBench';
import { formatMeaningReport, runMeaningBench } from './meaningBench';

/*
 * The benchmark's own entry point, bundled by esbuild as dist/bench.js apart from the CLI: its reference
 * matchers (modern-ahocorasick, obscenity) and the scripted Ollama are dev dependencies and stay out of
 * dist/cli.js. `npm run bench` runs it; `unlearn bench` loads it when it lies next to the CLI.
 */

const USAGE = `unlearn bench — leak guard benchmark (our index vs a naive regex and the obscenity matcher), relevance stage and pipeline latency

Usage:
  unlearn bench [--quick] [--out FILE] [--latency-only | --no-latency | --precision-only] [--show-text] [--provider P]

  --quick         smaller guard run (up to 10,000 targets, 1 KB and 16 KB texts), about a minute or less
  --out FILE      where to write the guard's JSON results (default bench-results/guard.json); the latency
                  results go to latency.json in the same folder
  --latency-only  only the latency section, Agent mode included (about 2 minutes)
  --no-latency    only the guard sections
  --precision-only  only the precision section: false non-exact matches per MB of the markdown and
                  JavaScript under ./node_modules, 20 targets with short aliases (about 15 s)
  --show-text     with the precision section, print each false match and the text around it
  --provider P    ollama (default) or openai: the wire the latency section's scripted server speaks, and so
                  the adapter it times (the bench never calls a real server: --host and --base-url do not apply)

Prints a table of median time per text, build times, heap, a latency table (total time and time to first
token as ratios to the plain model, through a scripted Ollama with a speed model), and PASS/FAIL lines for
the goals, then the cost of a five-step Agent-mode turn through a guarded model. Exit code 0 when every measured goal passes, 1 otherwise.`;

export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  let quick = false;
  let guard = true;
  let latency = true;
  let precision = true;
  let showText = false;
  let provider: Provider = 'ollama';
  let out = 'bench-results/guard.json';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--latency-only') {
      guard = false;
      precision = false;
    } else if (arg === '--precision-only') {
      guard = false;
      latency = false;
    } else if (arg === '--show-text') showText = true;
    else if (arg === '--no-latency') latency = false;
    else if (arg === '--provider') {
      const value = argv[++i];
      if (!isProvider(value)) return usage(io, `--provider must be one of ${PROVIDERS.join(', ')}, got "${value ?? ''}"`);
      provider = value;
    } else if (arg === '--out') {
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
  if (!guard && !latency && !precision) return usage(io, '--latency-only and --no-latency exclude each other');
  let passed = true;
  if (precision) {
    const report = runPrecisionBench({ root: io.cwd, log: (line) => io.stderr(line + '\n'), showText });
    io.stdout(formatPrecisionReport(report));
    const file = resolve(io.cwd, dirname(out), 'precision.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    passed &&= report.goals.every((g) => g.pass);
    // The meaning check's precision and cost (docs/no-single-vote.md): a second or two, offline.
    const meaning = await runMeaningBench({ root: io.cwd, log: (line) => io.stderr(line + '\n') });
    io.stdout(formatMeaningReport(meaning));
    passed &&= meaning.goals.every((g) => g.pass);
  }
  if (guard) {
    const result = await guardSection(quick, out, io);
    if (result === EXIT.interrupted) return result;
    passed &&= result === EXIT.ok;
  }
  if (latency) {
    let report: LatencyReport;
    try {
      report = await runLatencyBench({ log: (line) => io.stderr(line + '\n'), signal: io.signal, provider });
    } catch (error) {
      if (io.signal.aborted) return EXIT.interrupted;
      throw error;
    }
    io.stdout(formatLatencyReport(report));
    const file = resolve(io.cwd, dirname(out), 'latency.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    io.stdout(`\nJSON written to ${file}\n`);
    // A goal the pipeline cannot be measured on yet (pass undefined) neither passes nor fails.
    passed &&= report.goals.every((g) => g.pass !== false);
    let agent: AgentReport;
    try {
      agent = await runAgentBench({ log: (line) => io.stderr(line + '\n'), signal: io.signal });
    } catch (error) {
      if (io.signal.aborted) return EXIT.interrupted;
      throw error;
    }
    io.stdout(formatAgentReport(agent));
    const agentFile = resolve(io.cwd, dirname(out), 'agent.json');
    writeFileSync(agentFile, JSON.stringify(agent, null, 2) + '\n');
    io.stdout(`JSON written to ${agentFile}\n`);
    passed &&= agent.goals.every((g) => g.pass);
  }
  return passed ? EXIT.ok : EXIT.failure;
}

async function guardSection(quick: boolean, out: string, io: CliIo): Promise<number> {
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

if (require.main === module) runCli((argv, io) => benchCommand(argv, io), 'unlearn bench');
