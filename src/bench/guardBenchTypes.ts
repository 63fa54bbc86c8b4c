/** The shapes of the leak-guard benchmark: its options, one measured cell and the whole report. */

export interface GuardBenchOptions {
  readonly quick: boolean;
  /** Writes progress lines (the table comes at the end). */
  readonly log: (line: string) => void;
  /** Path of the built benchmark (dist/bench.js), to run the capped-heap build probe in a child process; omitted = skipped. */
  readonly cliPath?: string;
  /** Measures prompt tokens through the scripted Ollama server; omitted = reported as not run. */
  readonly promptTokens?: PromptTokenProbe;
  readonly signal?: AbortSignal;
}

/**
 * Hook for the prompt-token part of the benchmark: runs one request through `runPipeline` against
 * the scripted Ollama server with `targetCount` targets and returns the prompt tokens Ollama
 * reported, with ours (retrieval) and with every target pasted into the prompt.
 */
export type PromptTokenProbe = (targetCount: number) => Promise<{ retrieval: number; allTargets: number }>;

export type Impl = 'ours' | 'regex' | 'obscenity';

export interface Cell {
  readonly impl: Impl;
  readonly targets: number;
  readonly textBytes?: number;
  /** Median ms per text (scan) or ms to build; undefined when skipped. */
  readonly ms?: number;
  readonly runs?: number;
  readonly matches?: number;
  readonly skipped?: string;
}

export interface GuardBenchReport {
  readonly machine: { node: string; cpus: number; platform: string };
  readonly quick: boolean;
  readonly targetCounts: number[];
  readonly textSizes: number[];
  readonly build: Cell[];
  readonly scan: Cell[];
  readonly heap: { targets: number; retainedMb: number; afterBuildMb: number }[];
  readonly coldBuild?: {
    targets: number;
    ms: number;
    allMs?: number[];
    heapLimitMb: number;
    retainedMb: number;
    afterBuildMb: number;
    committedMb: number;
    ok: boolean;
    error?: string;
  };
  readonly automaton: {
    targets: number;
    textBytes: number;
    impl: string;
    buildMs: number;
    scanMs: number;
    matches: number;
    skipped?: string;
  }[];
  readonly promptTokens?: { targets: number; retrieval: number; allTargets: number }[];
  readonly goals: { goal: string; pass: boolean; detail: string }[];
  readonly peakHeapMb: number;
  readonly totalSeconds: number;
}
