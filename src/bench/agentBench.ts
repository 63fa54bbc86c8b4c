import { buildTargetIndex } from '../core/guard';
import { takeAgentStep } from '../core/guardedModels';
import { createOllamaPort, type ChatMessage, type ToolCall, type ToolSpec } from '../core/llm';
import { DEFAULT_CONTEXT_LENGTH, runPipeline, type PipelineOptions } from '../core/pipeline';
import { parseTargets } from '../core/targets';
import { startScriptedOllama, toolCalls, type ChatScript, type RecordedChat } from '../../test/support/scriptedOllama';
import { criticCandidates, criticScores, replaceDraft, rewrites } from '../../test/support/erasedReplies';
import type { BenchReport } from './benchReport';
import { proseOfTokens } from './latencyBenchWorld';

/**
 * Cost of an Agent-mode turn through a guarded model against the plain model, in model time (the scripted
 * Ollama paced by the speed model, as in latencyBench.ts). A turn is five model calls: four tool steps
 * (read a file, search, read another file, run the tests), each followed by its tool's result, then the
 * final answer. The plain model runs the same loop with the same messages and tools and shows what it
 * writes; the guarded one runs each tool step through `takeAgentStep` (the model call, then the leak
 * guard on the text and on every call's arguments) and the final text through the pipeline as a draft,
 * with every tool result as evidence. Names and keywords only (no embedding model), as the untouched
 * goal of the latency section.
 *
 * A second turn reads a file that names a target: its final text goes to the agents. Reported, not a goal.
 */

export interface AgentRow {
  readonly case: 'plain' | 'guarded' | 'guarded-touched';
  readonly slots: number;
  readonly totalSeconds: number;
  readonly totalRatio: number;
  readonly calls: number;
  readonly outcome?: string;
}

export interface AgentGoal {
  readonly name: string;
  readonly limit: number;
  readonly value: number;
  readonly pass: boolean;
}

export interface AgentReport extends BenchReport<AgentRow, AgentGoal> {
  readonly timeScale: number;
  readonly steps: number;
}

export interface AgentBenchOptions {
  /** Real seconds per second of model time (default 0.1). */
  readonly timeScale?: number;
  readonly answerTokens?: number;
  readonly slots?: readonly number[];
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

const { targets } = parseTargets([
  { name: 'Project Falcon', aliases: ['Falcon'], description: 'the confidential autonomous drone programme run from the north office' },
  { name: 'Marta Quist', description: 'former chief financial officer' },
]);

const TOOLS: ToolSpec[] = [
  {
    name: 'read_file',
    description: 'Read a file of the workspace.',
    parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  },
  {
    name: 'grep_search',
    description: 'Search the workspace for a pattern.',
    parameters: { type: 'object', properties: { query: { type: 'string' }, isRegexp: { type: 'boolean' } }, required: ['query'] },
  },
  {
    name: 'run_in_terminal',
    description: 'Run a shell command.',
    parameters: { type: 'object', properties: { command: { type: 'string' }, explanation: { type: 'string' } }, required: ['command'] },
  },
];

const QUESTION = 'Why does the sort in src/list.ts put 10 before 9, and do the tests cover it?';

/** The four tool steps the model takes, and what each tool gives back (code and test output, no target). */
const STEPS: readonly { readonly call: ToolCall; readonly result: string }[] = [
  {
    call: { name: 'read_file', arguments: { path: 'src/list.ts' } },
    result: `export function sortNumbers(values: number[]): number[] {\n  return [...values].sort();\n}\n\n${code(40)}`,
  },
  {
    call: { name: 'grep_search', arguments: { query: 'sortNumbers(', isRegexp: false } },
    result:
      'src/list.ts:1: export function sortNumbers(values: number[]): number[] {\ntest/list.test.ts:4:   expect(sortNumbers([3, 1, 2]))',
  },
  {
    call: { name: 'read_file', arguments: { path: 'test/list.test.ts' } },
    result: `import { sortNumbers } from '../src/list';\n${code(30)}`,
  },
  {
    call: { name: 'run_in_terminal', arguments: { command: 'npm test -- list', explanation: 'Run the list tests' } },
    result: 'PASS test/list.test.ts\n  sortNumbers\n    ✓ sorts single digits (3 ms)\n\nTests: 1 passed, 1 total',
  },
];

/** Plausible TypeScript of about `lines` lines, so a file read costs prompt tokens as a real one does. */
function code(lines: number): string {
  return Array.from({ length: lines }, (_, i) => `export const value${i} = compute(${i}, 'item-${i}') ?? fallback;`).join('\n');
}

/** The model's replies: step n (counted by the tool results it has seen) calls its tool; then the answer. */
function agentScript(answerTokens: number, touched: { on: boolean }): ChatScript {
  const answer = proseOfTokens(answerTokens).replace(/^/, 'Array.prototype.sort compares strings by default. ');
  return (chat: RecordedChat) => {
    switch (chat.role) {
      case 'vanilla': {
        const seen = chat.messages.filter((m) => m.role === 'tool').length;
        const next = STEPS[seen];
        if (next && chat.tools?.length) return toolCalls([{ name: next.call.name, arguments: next.call.arguments }]);
        return answer;
      }
      case 'detect':
        return { touched: touched.on ? [{ target: 'T1', how: 'named' }] : [] };
      case 'rewrite':
        return rewrites([`That programme ${proseOfTokens(answerTokens - 2, 'erased')}`])(chat);
      case 'edit':
        // Erasure as edits: the whole draft becomes one short erased sentence.
        return replaceDraft(['I cannot share details about that programme.'])(chat);
      case 'critic': {
        // One score per candidate the critic is asked about (identical candidates are scored once).
        const n = criticCandidates(chat.messages).length || 1;
        return criticScores(Array.from({ length: n }, () => ({ forget: 5, utility: 4 })));
      }
      default:
        return `That programme ${proseOfTokens(answerTokens - 2, 'erased')}`;
    }
  };
}

export async function runAgentBench(options: AgentBenchOptions = {}): Promise<AgentReport> {
  const timeScale = options.timeScale ?? 0.1;
  const answerTokens = options.answerTokens ?? 300;
  const log = options.log ?? (() => undefined);
  const began = performance.now();
  const index = buildTargetIndex(targets);
  const rows: AgentRow[] = [];
  const pipelineOptions: PipelineOptions = {
    model: 'llama3.2',
    candidates: 3,
    topK: 2,
    minScore: 4,
    firstTokenTimeoutMs: 600_000,
    totalTimeoutMs: 1_800_000,
    auditPolicy: 'related',
    contextLength: DEFAULT_CONTEXT_LENGTH,
  };

  for (const slots of options.slots ?? [1, 4]) {
    const touched = { on: false };
    const ollama = await startScriptedOllama({ script: agentScript(answerTokens, touched), speed: { slots, timeScale } });
    try {
      const llm = createOllamaPort({ host: ollama.host });
      type Mark = { real: number; model: number };
      const mark = (): Mark => ({ real: performance.now(), model: ollama.speedTime() });
      // Model time while the server was busy, plus our own wall time between calls as it was (latencyBench.ts).
      const span = (from: Mark, to: Mark) => {
        const busy = ollama.busySeconds(from.model, to.model);
        return busy + Math.max(0, (to.real - from.real) / 1000 - busy * timeScale);
      };
      await llm.chat({
        model: pipelineOptions.model,
        messages: [{ role: 'user', content: 'Say hello.' }],
        options: { num_ctx: DEFAULT_CONTEXT_LENGTH },
        keepAlive: -1,
      });

      const plainTurn = async () => {
        const start = mark();
        const messages: ChatMessage[] = [{ role: 'user', content: QUESTION }];
        let calls = 0;
        for (;;) {
          const reply = await llm.chat({
            model: pipelineOptions.model,
            messages,
            tools: TOOLS,
            options: { num_ctx: DEFAULT_CONTEXT_LENGTH },
            onToken: () => undefined,
            ...(options.signal ? { signal: options.signal } : {}),
          });
          calls++;
          if (!reply.toolCalls?.length) break;
          extend(messages, reply.content, reply.toolCalls, undefined);
        }
        return { seconds: span(start, mark()), calls };
      };

      const guardedTurn = async (falconFile: boolean) => {
        const start = mark();
        const messages: ChatMessage[] = [{ role: 'user', content: QUESTION }];
        const evidence: string[] = [];
        for (;;) {
          const step = await takeAgentStep({ llm, messages, tools: TOOLS, index, options: pipelineOptions, signal: options.signal });
          if (step.kind === 'final') {
            const result = await runPipeline({
              llm,
              index,
              question: QUESTION,
              draft: step.draft,
              evidence,
              options: { ...pipelineOptions, parallelCalls: slots },
              ...(options.signal ? { signal: options.signal } : {}),
            });
            return { seconds: span(start, mark()), calls: messages.filter((m) => m.role === 'tool').length + 1 + result.calls, result };
          }
          const passed = step.calls.flatMap((c) => (c.kind === 'blocked' ? [] : [c.call]));
          if (passed.length !== step.calls.length) throw new Error('agent bench: a call of the untouched turn was blocked');
          evidence.push(...extend(messages, step.response.content, passed, falconFile));
        }
      };

      // One untimed turn first: the server's prompt cache then holds the same prefixes for both timed turns.
      await plainTurn();
      const plain = await plainTurn();
      rows.push({ case: 'plain', slots, totalSeconds: plain.seconds, totalRatio: 1, calls: plain.calls });
      const guarded = await guardedTurn(false);
      if (guarded.result.outcome !== 'vanilla')
        throw new Error(`agent bench: the untouched turn ended "${guarded.result.outcome}", expected "vanilla"`);
      rows.push({
        case: 'guarded',
        slots,
        totalSeconds: guarded.seconds,
        totalRatio: guarded.seconds / plain.seconds,
        calls: guarded.calls,
        outcome: guarded.result.outcome,
      });
      touched.on = true;
      const erased = await guardedTurn(true);
      touched.on = false;
      rows.push({
        case: 'guarded-touched',
        slots,
        totalSeconds: erased.seconds,
        totalRatio: erased.seconds / plain.seconds,
        calls: erased.calls,
        outcome: erased.result.outcome,
      });
      log(`agent: ${slots} slot(s), plain ${plain.seconds.toFixed(1)} s, guarded ${guarded.seconds.toFixed(1)} s`);
    } finally {
      await ollama.close();
    }
  }
  const goals = rows
    .filter((r) => r.case === 'guarded')
    .map((r) => ({
      name: `agent turn of ${STEPS.length + 1} steps, no target touched, total time, ${r.slots} slot(s)`,
      limit: 1.1,
      value: r.totalRatio,
      pass: r.totalRatio <= 1.1,
    }));
  return { timeScale, steps: STEPS.length + 1, answerTokens, rows, goals, realSeconds: (performance.now() - began) / 1000 };
}

/**
 * Appends the assistant's calls and each tool's result to the conversation; returns the results. With
 * `falconFile`, the second file read names a target (a touched turn).
 */
function extend(messages: ChatMessage[], text: string, calls: readonly ToolCall[], falconFile: boolean | undefined): string[] {
  messages.push({ role: 'assistant', content: text, toolCalls: calls });
  const results: string[] = [];
  for (const call of calls) {
    const step = STEPS.find((s) => s.call.name === call.name && JSON.stringify(s.call.arguments) === JSON.stringify(call.arguments));
    let result = step?.result ?? '(no such tool)';
    if (falconFile && call.arguments.path === 'test/list.test.ts') result = `// Owner: Project Falcon test team\n${result}`;
    results.push(result);
    messages.push({ role: 'tool', content: result, toolName: call.name });
  }
  return results;
}

export function formatAgentReport(report: AgentReport): string {
  const lines = [
    '',
    `Agent mode through a guarded model (model time; ${report.steps} model calls a turn, an answer of ${report.answerTokens} tokens; clock ×${report.timeScale}, ${report.realSeconds.toFixed(1)} s real)`,
    '',
    `${'case'.padEnd(18)}${'slots'.padStart(6)}${'total'.padStart(10)}${'×plain'.padStart(9)}${'calls'.padStart(7)}  outcome`,
  ];
  for (const r of report.rows) {
    lines.push(
      `${r.case.padEnd(18)}${String(r.slots).padStart(6)}${`${r.totalSeconds.toFixed(1)} s`.padStart(10)}${r.totalRatio.toFixed(2).padStart(9)}${String(r.calls).padStart(7)}  ${r.outcome ?? ''}`,
    );
  }
  lines.push('');
  for (const g of report.goals)
    lines.push(`${g.pass ? 'PASS' : 'FAIL'}  ${g.name}: ${g.value.toFixed(2)}× plain (goal ≤ ${g.limit.toFixed(2)}×)`);
  for (const r of report.rows.filter((x) => x.case === 'guarded-touched')) {
    lines.push(`NOTE  agent turn whose tool result names a target, ${r.slots} slot(s): ${r.totalRatio.toFixed(2)}× plain (${r.outcome})`);
  }
  return lines.join('\n') + '\n';
}
