import { spawnSync } from 'node:child_process';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import AhoCorasick from 'modern-ahocorasick';
import FastAhoCorasick from 'modern-ahocorasick/fast';
import { DataSet, RegExpMatcher, englishRecommendedTransformers, parseRawPattern } from 'obscenity';
import { Automaton, buildTargetIndex, foldForMatch, TermPool } from '../core/guard';
import type { ForgetTarget } from '../core/targets';
import { generateTargets, generateText } from './guardBenchData';
import { evaluateGoals, fmtMs } from './guardBenchReport';
import type { Cell, GuardBenchOptions, GuardBenchReport, Impl } from './guardBenchTypes';

export { generateTargets } from './guardBenchData';
export { formatReport } from './guardBenchReport';
export type { GuardBenchOptions, GuardBenchReport, PromptTokenProbe } from './guardBenchTypes';

/**
 * Leak-guard benchmark: our index against a naive regex alternation and the `obscenity` profanity
 * matcher, on the same generated targets and texts. Also compares our automaton with
 * `modern-ahocorasick` on the same folded input, checks the index build for 100,000 targets in a
 * fresh process whose heap is capped at 300 MB, and (with a probe) prompt tokens as targets grow.
 */

const IMPLS: readonly Impl[] = ['ours', 'regex', 'obscenity'];

const FULL = {
  targets: [1, 10, 100, 1_000, 10_000, 100_000],
  sizes: [1_024, 16_384, 262_144],
  cellMs: 400,
  runBudgetMs: 1_500,
  buildBudgetMs: 6_000,
};
const QUICK = { targets: [1, 10, 100, 1_000, 10_000], sizes: [1_024, 16_384], cellMs: 120, runBudgetMs: 400, buildBudgetMs: 5_000 };

// ---------- generated data ----------
interface Built {
  scan(text: string): number;
}

function termsOfAll(targets: readonly ForgetTarget[]): string[] {
  return targets.flatMap((t) => [t.name, ...t.aliases]);
}

function buildOurs(targets: readonly ForgetTarget[]): Built {
  const index = buildTargetIndex(targets);
  return { scan: (text) => index.find(text).length };
}

/** The naive baseline: one case-insensitive alternation of every name, whole words. */
function buildRegex(targets: readonly ForgetTarget[]): Built {
  const escaped = termsOfAll(targets).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const re = new RegExp(`\\b(?:${escaped.join('|')})\\b`, 'giu');
  re.test(''); // compile now, so the build time includes it
  return {
    scan: (text) => {
      let n = 0;
      re.lastIndex = 0;
      for (const _ of text.matchAll(re)) n++;
      return n;
    },
  };
}

/** obscenity as its README shows: a DataSet of phrases, a RegExpMatcher with the English transformers. */
function buildObscenity(targets: readonly ForgetTarget[]): Built {
  const dataset = new DataSet<{ id: string }>();
  for (const t of targets) {
    dataset.addPhrase((phrase) => {
      let p = phrase.setMetadata({ id: t.id });
      // "|word|" anchors a pattern to word boundaries; obscenity's pattern syntax reserves [ ] ? | \.
      for (const term of [t.name, ...t.aliases]) p = p.addPattern(parseRawPattern(`|${term.toLowerCase().replace(/[[\]?|\\]/g, ' ')}|`));
      return p;
    });
  }
  const matcher = new RegExpMatcher({ ...dataset.build(), ...englishRecommendedTransformers });
  return { scan: (text) => matcher.getAllMatches(text, true).length };
}

const BUILDERS: Record<Impl, (targets: readonly ForgetTarget[]) => Built> = {
  ours: buildOurs,
  regex: buildRegex,
  obscenity: buildObscenity,
};

// ---------- measuring ----------

let gcFn: (() => void) | undefined;
function gc(): void {
  if (!gcFn) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = () => undefined; // heap figures then include garbage; the table says "approx."
    }
  }
  gcFn();
}
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
/** JS heap plus ArrayBuffer backing stores: the index keeps its tables in typed arrays, which live outside `heapUsed`. */
function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeScan(built: Built, text: string, cellMs: number): { ms: number; runs: number; matches: number } {
  // Warm up first (JIT tiers), then take the median of enough runs to fill the cell's time.
  let t = performance.now();
  const matches = built.scan(text);
  let first = performance.now() - t;
  for (let i = 0; i < 20 && first * (i + 1) < cellMs / 4; i++) {
    t = performance.now();
    built.scan(text);
    first = Math.min(first, performance.now() - t);
  }
  const runs = Math.max(3, Math.min(41, Math.ceil(cellMs / Math.max(first, 0.01))));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    built.scan(text);
    times.push(performance.now() - t);
  }
  return { ms: median(times), runs, matches };
}

/** Builds the 100,000-target index in a fresh process with the heap capped; prints one JSON line. */
export function buildProbe(count: number): string {
  const targets = generateTargets(count);
  gc();
  const base = heapBytes();
  const t = performance.now();
  const index = buildTargetIndex(targets);
  const ms = performance.now() - t;
  const afterBuild = heapBytes() - base;
  gc();
  // V8's committed heap does not shrink right after a collection, so it bounds the peak during the build
  // (whole process: node itself and the generated target list included).
  const committed = getHeapStatistics().total_heap_size + process.memoryUsage().arrayBuffers;
  gc();
  const retained = heapBytes() - base;
  if (index.find(targets[0]!.name).length !== 1) throw new Error('probe index does not find its first target');
  return JSON.stringify({ ms, retainedMb: mb(retained), afterBuildMb: mb(afterBuild), committedMb: mb(committed) });
}

// ---------- the run ----------

export async function runGuardBench(options: GuardBenchOptions): Promise<GuardBenchReport> {
  const plan = options.quick ? QUICK : FULL;
  const started = performance.now();
  const { log } = options;
  let peakHeap = 0;
  const notePeak = () => {
    peakHeap = Math.max(peakHeap, heapBytes());
  };
  const checkAbort = () => {
    if (options.signal?.aborted) throw new Error('benchmark interrupted');
  };
  const allTargets = generateTargets(plan.targets[plan.targets.length - 1]!);
  const texts = new Map(plan.sizes.map((size) => [size, generateText(size, allTargets)]));
  const build: Cell[] = [];
  const scan: Cell[] = [];
  const heap: GuardBenchReport['heap'] = [];
  // Per implementation: the last measured times, to predict the next cell and skip it when over budget.
  const lastBuild = new Map<Impl, { n: number; ms: number }>();
  const lastScan = new Map<string, { n: number; ms: number }>();

  for (const n of plan.targets) {
    const targets = allTargets.slice(0, n);
    for (const impl of IMPLS) {
      checkAbort();
      await new Promise((r) => setImmediate(r)); // lets Ctrl-C through between cells
      const prev = lastBuild.get(impl);
      const predicted = prev ? (prev.ms * n) / prev.n : 0;
      if (impl !== 'ours' && predicted > plan.buildBudgetMs && n !== 10_000) {
        build.push({ impl, targets: n, skipped: `budget (~${Math.round(predicted / 1000)} s predicted)` });
        for (const size of plan.sizes) scan.push({ impl, targets: n, textBytes: size, skipped: 'budget (not built)' });
        continue;
      }
      gc();
      const base = heapBytes();
      const t = performance.now();
      const built = BUILDERS[impl](targets);
      const buildMs = performance.now() - t;
      notePeak();
      if (impl === 'ours') {
        const afterBuild = heapBytes() - base;
        gc();
        heap.push({ targets: n, retainedMb: mb(heapBytes() - base), afterBuildMb: mb(afterBuild) });
      }
      lastBuild.set(impl, { n, ms: Math.max(buildMs, 0.01) });
      build.push({ impl, targets: n, ms: buildMs });
      log(`  built ${impl} for ${n} targets in ${fmtMs(buildMs)}`);
      for (const size of plan.sizes) {
        checkAbort();
        // Predict from the same size at fewer targets, and from the smaller text at these targets.
        const last = lastScan.get(`${impl}:${size}`);
        const prevSize = plan.sizes[plan.sizes.indexOf(size) - 1];
        const smaller = prevSize === undefined ? undefined : lastScan.get(`${impl}:${prevSize}`);
        const guess = Math.max(
          last ? (last.ms * n) / last.n : 0,
          smaller && prevSize && smaller.n === n ? (smaller.ms * size) / prevSize : 0,
        );
        // The goal cell (10,000 targets, 16 KB) is always measured, with at least three runs.
        const goalCell = n === 10_000 && size === 16_384 && guess < 30_000;
        if (impl !== 'ours' && guess > plan.runBudgetMs && !goalCell) {
          scan.push({ impl, targets: n, textBytes: size, skipped: `budget (~${fmtMs(guess)} per text predicted)` });
          continue;
        }
        const r = timeScan(built, texts.get(size)!, plan.cellMs);
        notePeak();
        lastScan.set(`${impl}:${size}`, { n, ms: Math.max(r.ms, 0.001) });
        scan.push({ impl, targets: n, textBytes: size, ms: r.ms, runs: r.runs, matches: r.matches });
      }
    }
  }

  // Our automaton against modern-ahocorasick, on identical folded patterns and folded text.
  const automaton: GuardBenchReport['automaton'] = [];
  const acCounts = options.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  for (const n of acCounts) {
    checkAbort();
    const terms = termsOfAll(allTargets.slice(0, n));
    const pool = new TermPool(terms.length, terms.length * 20);
    for (const t of terms) if (pool.length(pool.add(t)) === 0) pool.pop();
    const patternStrings = [
      ...new Set(
        Array.from({ length: pool.count }, (_, i) => String.fromCodePoint(...pool.skeleton.subarray(pool.offset[i], pool.offset[i + 1]))),
      ),
    ];
    for (const size of [16_384, ...(options.quick ? [] : [262_144])]) {
      const folded = foldForMatch(texts.get(size) ?? generateText(size, allTargets), false);
      const foldedCodes = folded.skeleton.slice(0, folded.length);
      let foldedString = '';
      for (let i = 0; i < foldedCodes.length; i += 8192) foldedString += String.fromCodePoint(...foldedCodes.subarray(i, i + 8192));
      const contenders: [string, () => { count: () => number }][] = [
        [
          'ours (typed-array automaton)',
          () => {
            const a = new Automaton(pool.skeleton, pool.offset, pool.count, new Int32Array(pool.count));
            return {
              count: () => {
                let c = 0;
                a.scan(foldedCodes, foldedCodes.length, () => c++);
                return c;
              },
            };
          },
        ],
        [
          'modern-ahocorasick',
          () => {
            const m = new AhoCorasick(patternStrings);
            return { count: () => m.count(foldedString) };
          },
        ],
        [
          'modern-ahocorasick/fast',
          () => {
            const m = new FastAhoCorasick(patternStrings);
            return { count: () => m.count(foldedString) };
          },
        ],
      ];
      for (const [label, make] of contenders) {
        // Predict from the smaller text and skip if too slow. A tighter budget than the main table: the
        // double-array backend grew faster than linearly with the text here (minutes for 256 KB).
        const smaller = automaton.find((a) => a.impl === label && a.targets === n && a.textBytes < size);
        if (smaller && (smaller.skipped || (smaller.scanMs * size) / smaller.textBytes > plan.runBudgetMs / 5)) {
          automaton.push({ targets: n, textBytes: size, impl: label, buildMs: NaN, scanMs: NaN, matches: 0, skipped: 'budget' });
          continue;
        }
        const t = performance.now();
        const m = make();
        const buildMs = performance.now() - t;
        const r = timeScan({ scan: () => m.count() }, '', plan.cellMs);
        notePeak();
        automaton.push({ targets: n, textBytes: size, impl: label, buildMs, scanMs: r.ms, matches: r.matches });
      }
      log(`  automata compared at ${n} targets, ${size / 1024} KB`);
    }
  }

  // Cold build of 100,000 targets in a fresh process capped at 300 MB of heap.
  let coldBuild: GuardBenchReport['coldBuild'];
  const coldCount = 100_000;
  if (options.cliPath) {
    checkAbort();
    const heapLimitMb = 300;
    // Three fresh processes; the median is reported, as other work on the machine can slow any one run.
    const probes: { ms: number; retainedMb: number; afterBuildMb: number; committedMb: number }[] = [];
    let error: string | undefined;
    for (let i = 0; i < 3 && !error; i++) {
      const child = spawnSync(
        process.execPath,
        [`--max-old-space-size=${heapLimitMb}`, options.cliPath, '--build-probe', String(coldCount)],
        { encoding: 'utf8', timeout: 60_000 },
      );
      const line = child.stdout?.trim().split('\n').pop() ?? '';
      try {
        if (child.status !== 0) throw new Error((child.stderr || `exit ${child.status}`).trim().split('\n').slice(-3).join(' '));
        probes.push(JSON.parse(line) as { ms: number; retainedMb: number; afterBuildMb: number; committedMb: number });
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    if (error || probes.length === 0)
      coldBuild = { targets: coldCount, heapLimitMb, ok: false, ms: NaN, retainedMb: NaN, afterBuildMb: NaN, committedMb: NaN, error };
    else {
      probes.sort((a, b) => a.ms - b.ms);
      const mid = probes[probes.length >> 1]!;
      coldBuild = {
        targets: coldCount,
        heapLimitMb,
        ok: true,
        ms: mid.ms,
        allMs: probes.map((p) => Math.round(p.ms)),
        retainedMb: mid.retainedMb,
        afterBuildMb: Math.max(...probes.map((p) => p.afterBuildMb)),
        committedMb: Math.max(...probes.map((p) => p.committedMb)),
      };
    }
    log(`  cold build probe: ${coldBuild.ok ? fmtMs(coldBuild.ms) : coldBuild.error}`);
  }

  // Prompt tokens per request as targets grow (needs the scripted Ollama server; see PromptTokenProbe).
  let promptTokens: GuardBenchReport['promptTokens'];
  if (options.promptTokens) {
    promptTokens = [];
    for (const n of [10, 100, 1_000, 10_000]) {
      checkAbort();
      promptTokens.push({ targets: n, ...(await options.promptTokens(n)) });
    }
  }

  const goals = evaluateGoals({ build, scan, heap, coldBuild, promptTokens, quick: options.quick });
  return {
    machine: { node: process.version, cpus: (await import('node:os')).cpus().length, platform: process.platform },
    quick: options.quick,
    targetCounts: plan.targets,
    textSizes: plan.sizes,
    build,
    scan,
    heap,
    coldBuild,
    automaton,
    promptTokens,
    goals,
    peakHeapMb: mb(peakHeap),
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
