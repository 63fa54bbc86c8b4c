import { buildTargetIndex } from '../core/guard';
import { createOllamaPort, type ChatResponse, type LlmPort } from '../core/llm';
import { buildVanillaMessages } from '../core/agents';
import { DEFAULT_CONTEXT_LENGTH, runPipeline, type PipelineOptions, type PipelineResult } from '../core/pipeline';
import { parseTargets } from '../core/targets';
import { startScriptedOllama, type ChatScript, type RecordedChat } from '../../test/support/scriptedOllama';
import { DEFAULT_SPEED_PROFILE, type SpeedProfile } from '../../test/support/speedModel';
import { candidateNumber } from '../../test/support/erasedReplies';
import { runSketch, SKETCH_FLOWS } from './latencySketches';

/**
 * Latency of a guarded answer against the plain model, in model time: a scripted Ollama paced by the speed
 * model (`test/support/speedModel.ts`: 30 tokens/s generation, 600 tokens/s prompt, slots sharing as
 * documented there) answers every agent with a reply as long as a real model would write it:
 * - the plain model and the vanilla agent: an answer of `answerTokens` tokens;
 * - the rewrite agent: one erased answer per call, as long as the vanilla answer;
 * - detection: its JSON of touched targets; the critic: its JSON of scores, as their schemas require;
 * - the composer: an answer as long as a rewrite.
 * The pipeline runs with `parallelCalls` equal to the server's slots, as the setting's description asks.
 * No system gets a shorter text than another. Real time runs `timeScale` times faster than model time;
 * our own CPU time (HTTP, JSON, the guard) is divided by the same factor, so it counts for more than it
 * would on a real model: a pessimistic bias of a few percent at the default scale.
 */

export type LatencyCase = 'plain' | 'untouched' | 'touched' | 'touched-composed' | 'semantic-false-positive';

export interface LatencyRow {
  readonly case: LatencyCase;
  readonly slots: number;
  /** False when the pipeline cannot produce this case yet (see `note`). */
  readonly measured: boolean;
  readonly note?: string;
  /** Model seconds from the request to the last answer text, and to the first answer text shown. */
  readonly totalSeconds: number;
  readonly firstTokenSeconds: number;
  /** Ratios to the plain model's total time in the same run and slot count. */
  readonly totalRatio: number;
  readonly firstTokenRatio: number;
  readonly calls: number;
  readonly outcome?: string;
}

/** A candidate flow for phase 2 (see `latencySketches.ts`), timed on the touched request. */
export interface SketchRow {
  readonly flow: string;
  readonly givesUp: string;
  readonly slots: number;
  readonly totalRatio: number;
  readonly firstTokenRatio: number;
  readonly calls: number;
}

export interface LatencyGoal {
  readonly name: string;
  readonly limit: number;
  readonly value?: number;
  /** Undefined when the case could not be measured (it neither passes nor fails). */
  readonly pass?: boolean;
}

export interface LatencyReport {
  readonly profile: Omit<SpeedProfile, 'slots'>;
  readonly timeScale: number;
  readonly answerTokens: number;
  readonly candidates: number;
  readonly topK: number;
  readonly rows: readonly LatencyRow[];
  readonly goals: readonly LatencyGoal[];
  readonly sketches: readonly SketchRow[];
  readonly realSeconds: number;
}

export interface LatencyBenchOptions {
  /** Real seconds per second of model time (default 0.1). */
  readonly timeScale?: number;
  /** Length of the plain answer in tokens (default 300, the issue's example). */
  readonly answerTokens?: number;
  readonly slots?: readonly number[];
  readonly candidates?: number;
  readonly topK?: number;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
  /** Also time the candidate flows of `latencySketches.ts` (about 25 s more at the default scale). */
  readonly sketches?: boolean;
}

const { targets } = parseTargets([
  { name: 'Project Falcon', aliases: ['Falcon'], description: 'the confidential autonomous drone programme run from the north office' },
  { name: 'Marta Quist', description: 'former chief financial officer' },
]);

const QUESTIONS = {
  plain: 'How do delivery drones find their way in a city?',
  untouched: 'How do delivery drones find their way in a city?',
  touched: 'What is Project Falcon working on, and how do its drones find their way?',
  // Names no target, but its meaning is a target's description: for a semantic relevance stage.
  semantic: 'What is the confidential autonomous drone programme at the north office working on?',
};

/** Further sentence pools, so candidates the critic tells apart also read differently (see `candidatesAgree`). */
const OTHER_POOLS: readonly (readonly string[])[] = [
  [
    'Most routes are planned before take-off and checked again against live airspace notices.',
    'Rooftop landing pads shorten the last leg and keep parcels away from busy pavements.',
    'Battery swaps at depots let one aircraft fly many short missions in a single afternoon.',
    'Noise rules push the flight paths above rivers, railways and wide roads wherever possible.',
  ],
  [
    'Customers usually receive a text message when the parcel is lowered on a tether.',
    'Insurance and certification costs still decide where a service can start operating.',
    'Night flights need extra lights and a second operator, so most services stop at dusk.',
    'Local councils often ask for a trial period before granting a permanent corridor.',
  ],
];

/**
 * Plain English prose of about `tokens` tokens (ceil(chars / 4)), optionally naming something in its
 * first sentence; `pool` 1 or 2 draws on other sentences (a differently worded answer).
 */
export function proseOfTokens(tokens: number, subject?: string, pool = 0): string {
  const base = [
    'Delivery drones combine satellite positioning with visual odometry to keep track of where they are.',
    'Between buildings the satellite signal weakens, so the onboard camera and inertial sensors take over.',
    'A precomputed map of no-fly zones and landing pads keeps the route inside permitted corridors.',
    'Obstacle avoidance runs on the drone itself and reacts within a few milliseconds to birds or cranes.',
    'Operators watch several drones at once and step in only when the autonomy asks for help.',
    'Weather limits remain the main constraint: strong gusts and icing ground the fleet for safety.',
  ];
  const sentences = pool > 0 ? OTHER_POOLS[(pool - 1) % OTHER_POOLS.length]! : base;
  let text = subject ? `${subject} builds on a well-known approach. ` : '';
  for (let i = 0; text.length < tokens * 4; i++) text += sentences[i % sentences.length] + ' ';
  return text.slice(0, tokens * 4).trimEnd();
}

/**
 * Replies of the lengths a model would write for each agent (see the module comment). The critic rates
 * the top candidates alike (the usual case when every rewrite did its job), so the best is shown as
 * written; `disagree` gives every candidate its own utility, so the composer has to merge them.
 */
function benchScript(answerTokens: number, candidates: number, critic: { disagree: boolean }): ChatScript {
  const plainAnswer = proseOfTokens(answerTokens);
  const touchedAnswer = proseOfTokens(answerTokens, 'Project Falcon');
  const rewrite = (i: number) =>
    proseOfTokens(answerTokens, i === 0 ? 'That programme' : `[redacted:T1] (${i + 1})`, critic.disagree ? i % 3 : 0);
  return (chat: RecordedChat) => {
    switch (chat.role) {
      case 'vanilla':
        return /Falcon/.test(chat.messages.at(-1)?.content ?? '') ? touchedAnswer : plainAnswer;
      case 'critic': {
        // One score per candidate the request carries, in the critic's two arrays (critic.ts).
        const n = (JSON.parse(chat.messages[1]?.content ?? '{}') as { candidates?: unknown[] }).candidates?.length ?? candidates;
        const utility = (i: number) => (critic.disagree ? 5 - (i % 5) : 5 - (i % 2));
        return { forget: Array.from({ length: n }, () => 5), utility: Array.from({ length: n }, (_, i) => utility(i)) };
      }
      case 'rewrite':
        // The pipeline's prompts end "Candidate n of j."; a sketch's single rewrite has no such line.
        return rewrite(/Candidate \d+ of/.test(chat.messages.at(-1)?.content ?? '') ? candidateNumber(chat.messages) - 1 : 0);
      case 'edit': {
        // Erasure as edits: one short edit set per call, the first sentence rewritten; when the critic is to
        // tell candidates apart, each also drops a different sentence, so the merge has work to do.
        const n = candidateNumber(chat.messages);
        return {
          drop: critic.disagree && n > 1 ? [n] : [],
          replace: [{ sentence: 1, text: `A programme builds on a well-known approach (${n}).` }],
        };
      }
      case 'compose':
        return rewrite(0);
      default: {
        // Detection reads the question and the draft (not the target list, which names Falcon): the semantic
        // question only describes the programme and the draft does not touch it, a false positive.
        const data = JSON.parse(chat.messages[1]?.content ?? '{}') as { question?: string; draft_answer?: string };
        const touched = /Falcon/.test(`${data.question ?? ''} ${data.draft_answer ?? ''}`);
        return { touched: touched ? [{ target: 'T1', how: 'named' }] : [] };
      }
    }
  };
}

interface Timed {
  readonly totalSeconds: number;
  readonly firstTokenSeconds: number;
  readonly calls: number;
  readonly result?: PipelineResult;
}

export async function runLatencyBench(options: LatencyBenchOptions = {}): Promise<LatencyReport> {
  const timeScale = options.timeScale ?? 0.1;
  const answerTokens = options.answerTokens ?? 300;
  const j = options.candidates ?? 3;
  const k = Math.min(options.topK ?? 2, j);
  const log = options.log ?? (() => undefined);
  const began = performance.now();
  const rows: LatencyRow[] = [];
  const sketches: SketchRow[] = [];
  const index = buildTargetIndex(targets);
  const pipelineOptions: PipelineOptions = {
    model: 'llama3.2',
    candidates: j,
    topK: k,
    minScore: 4,
    firstTokenTimeoutMs: 600_000,
    totalTimeoutMs: 1_800_000,
    auditPolicy: 'related',
  };

  for (const slots of options.slots ?? [1, 4]) {
    const critic = { disagree: false };
    const ollama = await startScriptedOllama({ script: benchScript(answerTokens, j, critic), speed: { slots, timeScale } });
    try {
      const llm = createOllamaPort({ host: ollama.host });
      /**
       * Model seconds from a start to an end (both { real ms, model s }): the time the server was busy, in model
       * time, plus the rest of the wall time as it was, since our own CPU time between calls would be
       * magnified 1/timeScale times if it were converted like the model's.
       */
      type Mark = { real: number; model: number };
      const mark = (): Mark => ({ real: performance.now(), model: ollama.speedTime() });
      const span = (from: Mark, to: Mark) => {
        const busy = ollama.busySeconds(from.model, to.model);
        return busy + Math.max(0, (to.real - from.real) / 1000 - busy * timeScale);
      };
      // The model is loaded and the connection open before anything is timed: load time is not latency here.
      // Every call uses the pipeline's context window: another num_ctx would make Ollama reload the model.
      const windowOption = { num_ctx: DEFAULT_CONTEXT_LENGTH };
      await llm.chat({
        model: pipelineOptions.model,
        messages: buildVanillaMessages('Say hello.', []),
        options: windowOption,
        keepAlive: -1,
      });

      const timePlain = async (): Promise<Timed> => {
        const start = mark();
        let first: Mark | undefined;
        const response: ChatResponse = await llm.chat({
          model: pipelineOptions.model,
          messages: buildVanillaMessages(QUESTIONS.plain, []),
          options: windowOption,
          onToken: () => (first ??= mark()),
          signal: options.signal,
        });
        if (!response.content) throw new Error('latency bench: the plain model answered nothing');
        const end = mark();
        return { totalSeconds: span(start, end), firstTokenSeconds: span(start, first ?? end), calls: 1 };
      };
      const timePipeline = async (question: string, llmPort: LlmPort = llm): Promise<Timed> => {
        const start = mark();
        let first: Mark | undefined;
        const result = await runPipeline({
          llm: llmPort,
          index,
          question,
          options: { ...pipelineOptions, parallelCalls: slots },
          signal: options.signal,
          onEvent: (e) => {
            if (e.type === 'answer-chunk' && e.text) first ??= mark();
          },
        });
        const end = mark();
        return { totalSeconds: span(start, end), firstTokenSeconds: span(start, first ?? end), calls: result.calls, result };
      };

      const plain = await timePlain();
      const row = (c: LatencyCase, t: Timed, extra: Partial<LatencyRow> = {}): LatencyRow => ({
        case: c,
        slots,
        measured: true,
        totalSeconds: t.totalSeconds,
        firstTokenSeconds: t.firstTokenSeconds,
        totalRatio: t.totalSeconds / plain.totalSeconds,
        firstTokenRatio: t.firstTokenSeconds / plain.totalSeconds,
        calls: t.calls,
        ...(t.result ? { outcome: t.result.outcome } : {}),
        ...extra,
      });
      rows.push(row('plain', plain));
      log(`latency: ${slots} slot(s), plain ${plain.totalSeconds.toFixed(1)} s`);

      const untouched = await timePipeline(QUESTIONS.untouched);
      if (untouched.result?.outcome !== 'vanilla')
        throw new Error(`latency bench: the untouched request ended "${untouched.result?.outcome}", expected "vanilla"`);
      rows.push(row('untouched', untouched));

      const touched = await timePipeline(QUESTIONS.touched);
      if (touched.result?.outcome !== 'erased')
        throw new Error(`latency bench: the touched request ended "${touched.result?.outcome}" (${touched.result?.refusalReason ?? ''})`);
      rows.push(row('touched', touched));
      log(`latency: ${slots} slot(s), touched ${touched.totalSeconds.toFixed(1)} s`);

      // The same request when the critic tells the top candidates apart: the composer merges them.
      critic.disagree = true;
      const composed = await timePipeline(QUESTIONS.touched);
      critic.disagree = false;
      if (composed.result?.outcome !== 'erased')
        throw new Error(
          `latency bench: the composed touched request ended "${composed.result?.outcome}" (${composed.result?.refusalReason ?? ''})`,
        );
      const composerRan = composed.result.stages.some((s) => s.stage === 'compose');
      rows.push(
        row('touched-composed', composed, {
          note: composerRan
            ? 'the composer merges the top k (ALU), a full answer more'
            : 'one slot: k = 1, the best candidate shown, no composer',
        }),
      );

      // A semantic false positive only exists once a relevance stage sends a question that names no target to
      // the audit and the audit finds nothing; until then the pipeline answers it as untouched, which is not
      // this case, so it is reported as not measured rather than as a flattering number.
      const agentCalls = () => ollama.chats.filter((c) => c.role !== 'vanilla').length;
      const agentsBefore = agentCalls();
      const semantic = await timePipeline(QUESTIONS.semantic);
      const audited = agentCalls() > agentsBefore;
      rows.push(
        audited
          ? row('semantic-false-positive', semantic)
          : row('semantic-false-positive', semantic, {
              measured: false,
              note: 'no agent call: the pipeline has no semantic relevance stage yet',
            }),
      );

      for (const flow of options.sketches ? SKETCH_FLOWS : []) {
        const start = mark();
        const t = await runSketch(flow, {
          mark,
          llm,
          model: pipelineOptions.model,
          index,
          question: QUESTIONS.touched,
          numCtx: DEFAULT_CONTEXT_LENGTH,
          parallel: slots,
          signal: options.signal,
        });
        sketches.push({
          flow: flow.name,
          givesUp: flow.givesUp,
          slots,
          totalRatio: span(start, t.end) / plain.totalSeconds,
          firstTokenRatio: span(start, t.first) / plain.totalSeconds,
          calls: t.calls,
        });
      }
    } finally {
      await ollama.close();
    }
  }

  const find = (c: LatencyCase, slots: number) => rows.find((r) => r.case === c && r.slots === slots);
  const goal = (name: string, limit: number, r: LatencyRow | undefined, value: (r: LatencyRow) => number): LatencyGoal[] => {
    if (!r) return [];
    if (!r.measured) return [{ name, limit }];
    const v = value(r);
    return [{ name, limit, value: v, pass: v <= limit }];
  };
  const slotsRun = options.slots ?? [1, 4];
  const goals: LatencyGoal[] = [
    ...slotsRun.flatMap((s) => goal(`untouched request, total time, ${s} slot(s)`, 1.05, find('untouched', s), (r) => r.totalRatio)),
    ...goal('touched request, total time, 4 slots', 2.0, find('touched', 4), (r) => r.totalRatio),
    ...goal('touched request, total time, 1 slot', 3.0, find('touched', 1), (r) => r.totalRatio),
    ...goal('touched request, first token vs plain total, 4 slots', 2.0, find('touched', 4), (r) => r.firstTokenRatio),
    ...slotsRun.flatMap((s) =>
      goal(`semantic false positive, total time, ${s} slot(s)`, 1.25, find('semantic-false-positive', s), (r) => r.totalRatio),
    ),
  ];
  const { slots: _slots, ...profile } = DEFAULT_SPEED_PROFILE;
  return {
    profile,
    timeScale,
    answerTokens,
    candidates: j,
    topK: k,
    rows,
    goals,
    sketches,
    realSeconds: (performance.now() - began) / 1000,
  };
}

export function formatLatencyReport(report: LatencyReport): string {
  const p = report.profile;
  const lines = [
    '',
    `Latency of a guarded answer (model time; ${p.generationTokensPerSecond} tok/s generation, ${p.promptTokensPerSecond} tok/s prompt, ` +
      `slots share as aggregate R·n^${p.sharingExponent}; answers of ${report.answerTokens} tokens, j=${report.candidates}, k=${report.topK}; ` +
      `clock ×${report.timeScale}, ${report.realSeconds.toFixed(1)} s real)`,
    '',
    `${'case'.padEnd(26)}${'slots'.padStart(6)}${'total'.padStart(10)}${'×plain'.padStart(9)}${'1st token'.padStart(11)}${'×plain'.padStart(9)}${'calls'.padStart(7)}`,
  ];
  for (const r of report.rows) {
    const cells = r.measured
      ? `${`${r.totalSeconds.toFixed(1)} s`.padStart(10)}${r.totalRatio.toFixed(2).padStart(9)}${`${r.firstTokenSeconds.toFixed(1)} s`.padStart(11)}${r.firstTokenRatio.toFixed(2).padStart(9)}${String(r.calls).padStart(7)}`
      : `  not measured: ${r.note ?? ''}`;
    lines.push(`${r.case.padEnd(26)}${String(r.slots).padStart(6)}${cells}`);
  }
  lines.push('', '(first-token ratios are to the plain model’s total time, as the goal states)', '');
  for (const g of report.goals) {
    if (g.pass === undefined) lines.push(`SKIP  ${g.name} ≤ ${g.limit.toFixed(2)}× plain: not measurable with this pipeline yet`);
    else lines.push(`${g.pass ? 'PASS' : 'FAIL'}  ${g.name}: ${g.value!.toFixed(2)}× plain (goal ≤ ${g.limit.toFixed(2)}×)`);
  }
  for (const r of report.rows.filter((x) => x.case === 'touched-composed' && x.measured)) {
    // Not a goal of its own: the touched goal is met when the top candidates agree; this is what ALU's merge costs.
    lines.push(
      `NOTE  touched request whose top candidates differ, ${r.slots} slot(s): ${r.totalRatio.toFixed(2)}× plain, first token ${r.firstTokenRatio.toFixed(2)}× (${r.note ?? ''})`,
    );
  }
  if (report.sketches.length > 0) {
    lines.push(
      '',
      'Candidate flows for the touched request (phase-2 sketches from the building blocks; parallel calls = slots):',
      '',
      `${'flow'.padEnd(54)}${'slots'.padStart(6)}${'total×'.padStart(8)}${'1st×'.padStart(7)}${'calls'.padStart(7)}  gives up`,
    );
    for (const r of report.sketches) {
      lines.push(
        `${r.flow.padEnd(54)}${String(r.slots).padStart(6)}${r.totalRatio.toFixed(2).padStart(8)}${r.firstTokenRatio.toFixed(2).padStart(7)}${String(r.calls).padStart(7)}  ${r.givesUp}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
