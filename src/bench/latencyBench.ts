import { buildTargetIndex } from '../core/guard';
import { connectLlm, ServerParallelism, type ChatMessage, type LlmPort, type Provider } from '../core/llm';
import { DEFAULT_EMBEDDING_MODEL, MemoryEmbeddingCache } from '../core/relevance';
import {
  DEFAULT_CONTEXT_LENGTH,
  DEFAULT_PIPELINE_OPTIONS,
  KEEP_ALIVE,
  runPipeline,
  type PipelineOptions,
  type PipelineResult,
} from '../core/pipeline';
import { CLIENT_SYSTEM_MESSAGE, conversationOf, FACTS, proseOfTokens, targets, type Pool } from './latencyBenchWorld';
import type { BenchReport } from './benchReport';
import { goalsOf } from './latencyBenchReport';
import { startScriptedOllama, type RecordedChat, type ScriptedOllama } from '../../test/support/scriptedOllama';
import { candidateData, candidateNumber, criticCandidates } from '../../test/support/erasedReplies';
import { startScriptedOpenAI } from '../../test/support/scriptedOpenAI';
import { DEFAULT_SPEED_PROFILE, estimateBpeTokens, type SpeedProfile } from '../../test/support/speedModel';

/**
 * Latency of a guarded answer against the plain model, as users run it, in model time: a scripted Ollama
 * paced by the speed model (`test/support/speedModel.ts`: slots, prompt evaluation, generation, a prompt
 * cache that hits only on a true shared prefix) answers the REAL pipeline (`runPipeline`, as the chat and
 * the CLI call it) under three profiles:
 * - GPU with one slot (Ollama's default since 2025), GPU with 4 slots, CPU (an 8B model: 8 tokens/s
 *   generation, 40 tokens/s prompt evaluation, one slot);
 * - `parallelCalls: auto`: the server's slots are measured by the same probe the front ends use
 *   (core/llm/parallelism.ts), once per server; each request then asks the cache, as the front ends do;
 * - every request carries a 2,000-token conversation and the chat client's system message (the plain
 *   model gets both; the pipeline gets the history with it, as a front end passes it);
 * - the embedding model is on (the default), so relevance by meaning runs on every request;
 * - replies are as long as a model would write them, counted by a BPE-like estimate (`estimateBpeTokens`:
 *   words, digits, punctuation), which prices JSON at what a tokenizer makes of it: the answers
 *   `answerTokens` (the vanilla and the rewrite agent), a replacement sentence of an edit as long as the
 *   sentence it replaces, detection, the edit sets and the critic their JSON.
 * Cases: untouched; a target named in the question; named only in the answer; touched by meaning only;
 * a semantic false positive (meaning near a target, detection finds nothing). Each case runs the plain
 * model on the same conversation and question first: totals are compared with its total, first text with
 * its first token (and, for the untouched goal, with its total). Before each system is timed, it answers
 * the conversation's previous question (untimed), as in a chat: the prompt cache then holds the
 * conversation wherever the system lays it out the same way again (the plain model, the vanilla agent),
 * and nowhere else (agents that carry it inside their JSON data). Each case's conversation starts
 * differently, so no case reuses another's; the agents' fixed system prompts are shared prefixes, which a
 * real server reuses too. The model is loaded before anything is timed.
 * Not modelled: /api/embed's own time (answered at once; a few percent on a CPU), and the plain model's
 * and agents' sampling differences (every system gets texts of the same length).
 * Real time runs `timeScale` times model time; our own CPU time between calls is counted as it was, but
 * our time while the server is busy counts as the server's (model) time: a first text that waits for a
 * client-side step (an embedding round trip) is late by that step / timeScale. The clocks (GPU 0.1, CPU
 * 0.02) keep that to a few hundredths of the plain total; a faster clock would inflate first texts.
 */

export type LatencyCase = 'untouched' | 'named-in-question' | 'named-in-answer' | 'meaning-only' | 'semantic-false-positive';
const LATENCY_CASES: readonly LatencyCase[] = [
  'untouched',
  'named-in-question',
  'named-in-answer',
  'meaning-only',
  'semantic-false-positive',
];

export type ProfileName = 'gpu-1-slot' | 'gpu-4-slots' | 'cpu';

export interface BenchProfile {
  readonly name: ProfileName;
  readonly label: string;
  readonly speed: SpeedProfile;
  /** Real seconds per model second for this profile (a CPU's minutes run in seconds). */
  readonly timeScale: number;
}

const PROFILES: readonly BenchProfile[] = [
  { name: 'gpu-1-slot', label: 'GPU, 1 slot (Ollama default)', speed: { ...DEFAULT_SPEED_PROFILE, slots: 1 }, timeScale: 0.1 },
  { name: 'gpu-4-slots', label: 'GPU, 4 slots', speed: { ...DEFAULT_SPEED_PROFILE, slots: 4 }, timeScale: 0.1 },
  {
    name: 'cpu',
    label: 'CPU, 8B model, 1 slot',
    // A CPU is compute bound: slots would share one rate (sharing exponent near 0); it has one anyway.
    speed: {
      ...DEFAULT_SPEED_PROFILE,
      generationTokensPerSecond: 8,
      promptTokensPerSecond: 40,
      sharingExponent: 0.2,
      slots: 1,
      loadSeconds: 8,
    },
    timeScale: 0.02,
  },
];

export interface LatencyRow {
  readonly profile: ProfileName;
  readonly case: LatencyCase;
  /** Slots the pipeline ran with (`auto`: measured). */
  readonly parallelCalls: number;
  readonly outcome: string;
  /** Model seconds from the request to the last answer text, and to the first answer text shown. */
  readonly totalSeconds: number;
  readonly firstTextSeconds: number;
  /** The plain model on the same conversation and question. */
  readonly plainTotalSeconds: number;
  readonly plainFirstTokenSeconds: number;
  /** total / plain total; first text / plain first token; first text / plain total (the untouched goal). */
  readonly totalRatio: number;
  readonly firstTextRatio: number;
  readonly firstTextOfPlainTotal: number;
  /** Model calls of the request, and the tokens they generated and evaluated (as the server reported them). */
  readonly calls: number;
  readonly generatedTokens: number;
  readonly promptTokens: number;
  /** The agents that ran, in order of the calls. */
  readonly agents: readonly string[];
  readonly note?: string;
}

export interface LatencyGoal {
  readonly profile: ProfileName;
  readonly case: LatencyCase;
  readonly name: string;
  readonly limit: number;
  readonly value: number;
  readonly pass: boolean;
  readonly calls: number;
  readonly generatedTokens: number;
}

export interface ProfileRun {
  readonly name: ProfileName;
  readonly label: string;
  readonly speed: SpeedProfile;
  readonly timeScale: number;
  /** What `auto` measured, and what the measurement cost in model seconds (once per server). */
  readonly measuredSlots: number;
  readonly probeSeconds: number;
}

export interface LatencyReport extends BenchReport<LatencyRow, LatencyGoal> {
  readonly profiles: readonly ProfileRun[];
  readonly historyTokens: number;
  readonly candidates: number;
  readonly topK: number;
  /** The wire the pipeline spoke: Ollama's API or the OpenAI-compatible one. */
  readonly provider: Provider;
}

export interface LatencyBenchOptions {
  /** Profiles to run (default all three). */
  readonly profiles?: readonly ProfileName[];
  readonly cases?: readonly LatencyCase[];
  /** Length of an answer in tokens (default 300). */
  readonly answerTokens?: number;
  /** Length of the conversation before the question (default 2,000 tokens). */
  readonly historyTokens?: number;
  /** Multiplies every profile's time scale (below 1: faster runs, coarser timing). */
  readonly timeScaleFactor?: number;
  /** The wire the pipeline speaks: Ollama's API (default) or the OpenAI-compatible one, each to its scripted server. */
  readonly provider?: Provider;
  readonly log?: (line: string) => void;
  /** Log each model call of a timed request: its queue wait, cached and evaluated prompt tokens, generation time. */
  readonly traceCalls?: boolean;
  readonly signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// The workspace, the conversation and the replies

interface CaseSpec {
  readonly question: string;
  /** The pool of the model's answer to the question (what the plain model and the vanilla agent write). */
  readonly answer: Pool;
  /** The outcome the pipeline must reach, else the bench measured another case than it names. */
  readonly outcome: PipelineResult['outcome'];
}

const CASES: Record<LatencyCase, CaseSpec> = {
  untouched: { question: 'How long should a sourdough loaf proof before baking?', answer: 'untouched', outcome: 'vanilla' },
  'named-in-question': { question: 'What is Project Falcon working on this year?', answer: 'named', outcome: 'erased' },
  // Names nothing and describes nothing: only the answer names the target.
  'named-in-answer': { question: 'Which internal projects shipped an update last spring?', answer: 'named', outcome: 'erased' },
  // Shares no content word with the target's name, description or examples: only the meaning leads there.
  'meaning-only': {
    question: 'Which school of sorcery do the pupils in that series attend, and who is their evil enemy?',
    answer: 'meaning',
    outcome: 'erased',
  },
  // Near the same target in meaning, about something else: detection finds nothing and the answer stands.
  'semantic-false-positive': {
    question: 'What do apprentices learn about charms in classic folk tales, and who is their usual enemy?',
    answer: 'folk',
    outcome: 'vanilla',
  },
};

/**
 * Replies of the lengths a model would write for each agent (see the module comment). The critic rates the
 * candidates alike (every rewrite did its job), so the best is shown as written; `disagree` gives each its
 * own utility, so the composer merges the top k.
 */
function benchScript(answerTokens: number, critic: { disagree: boolean }, earlier: ReadonlyMap<string, string>) {
  const answerFor = (question: string) => {
    const spec = Object.values(CASES).find((c) => c.question === question);
    // A question of the conversation so far gets the answer the conversation holds (the previous turn).
    return spec ? proseOfTokens(answerTokens, spec.answer) : (earlier.get(question) ?? 'Hello.');
  };
  return (chat: RecordedChat): string | object => {
    const last = chat.messages.at(-1)?.content ?? '';
    // (A string: roles other pipelines add, such as erasure by edits, are not in every branch's AgentRole.)
    switch (chat.role as string) {
      case 'edit': {
        // Erasure as edits: the draft comes numbered by sentence; a sentence that states a fact of a target is
        // dropped (odd candidates) or replaced by a neutral sentence of about its length (even ones).
        const data = candidateData(chat.messages);
        const facts = data.forget_targets.flatMap((t) => [...(FACTS[t.name] ?? []), t.name, ...(t.aliases ?? [])]);
        const touched = (data.draft_sentences ?? []).filter((d) => facts.some((f) => d.text.includes(f)));
        const n = candidateNumber(chat.messages);
        if (n % 2 === 1) return { drop: touched.map((d) => d.sentence), replace: [] };
        return {
          drop: [],
          replace: touched.map((d, i) => ({ sentence: d.sentence, text: proseOfTokens(estimateBpeTokens(d.text), 'erased', i) + '.' })),
        };
      }
      case 'vanilla':
        return answerFor(last);
      case 'rewrite': {
        // One erased answer, as long as an answer. For the composer's note row (the critic tells candidates
        // apart), a rewrite that slipped: it still states the target's facts, so the edit sets differ.
        const pool: Pool = critic.disagree ? 'named' : 'erased';
        return proseOfTokens(answerTokens, pool);
      }
      case 'critic': {
        const n = criticCandidates(chat.messages).length || 1;
        const utility = (i: number) => (critic.disagree ? 5 - (i % 3) : 4);
        return { forget: Array.from({ length: n }, () => 5), utility: Array.from({ length: n }, (_, i) => utility(i)) };
      }
      case 'compose':
        return proseOfTokens(answerTokens, 'erased');
      default: {
        // Detection reads the question and the draft: a target is touched when they state one of its facts.
        const data = candidateData(chat.messages);
        const text = `${data.question} ${(data.draft_sentences ?? []).map((d) => d.text).join(' ')}`;
        const touched = data.forget_targets.filter((t) => (FACTS[t.name] ?? [t.name]).some((f) => text.includes(f)));
        return { touched: touched.map((t) => ({ target: t.handle, how: 'described' })) };
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Timing

interface Timed {
  readonly totalSeconds: number;
  readonly firstSeconds: number;
  readonly result?: PipelineResult;
}

/** Model seconds between two clock readings: the server's busy time, plus the rest of the wall time as it was. */
function clock(ollama: ScriptedOllama, timeScale: number) {
  type Mark = { real: number; model: number };
  const mark = (): Mark => ({ real: performance.now(), model: ollama.speedTime() });
  const span = (from: Mark, to: Mark) => {
    const busy = ollama.busySeconds(from.model, to.model);
    return busy + Math.max(0, (to.real - from.real) / 1000 - busy * timeScale);
  };
  return { mark, span };
}

export async function runLatencyBench(options: LatencyBenchOptions = {}): Promise<LatencyReport> {
  const answerTokens = options.answerTokens ?? 300;
  const historyTokens = options.historyTokens ?? 2000;
  const log = options.log ?? (() => undefined);
  const began = performance.now();
  const rows: LatencyRow[] = [];
  const runs: ProfileRun[] = [];
  const index = buildTargetIndex(targets);
  const model = 'llama3.2';
  const cases = options.cases ?? LATENCY_CASES;

  for (const profile of PROFILES.filter((p) => (options.profiles ?? PROFILES.map((x) => x.name)).includes(p.name))) {
    const timeScale = profile.timeScale * (options.timeScaleFactor ?? 1);
    const critic = { disagree: false };
    const earlier = new Map<string, string>();
    const provider = options.provider ?? 'ollama';
    const serverOptions = {
      // An OpenAI-compatible server lists models by the exact name clients send; Ollama adds ':latest'.
      models:
        provider === 'openai'
          ? [model, { name: DEFAULT_EMBEDDING_MODEL, embeddingDims: 768 }]
          : ['llama3.2:latest', { name: `${DEFAULT_EMBEDDING_MODEL}:latest`, embeddingDims: 768 }],
      script: benchScript(answerTokens, critic, earlier),
      speed: { ...profile.speed, timeScale, countTokens: estimateBpeTokens },
    };
    const ollama: ScriptedOllama =
      provider === 'openai' ? await startScriptedOpenAI(serverOptions) : await startScriptedOllama(serverOptions);
    try {
      const llm = connectLlm({ provider, host: ollama.host });
      const { mark, span } = clock(ollama, timeScale);
      const pipelineOptions: PipelineOptions = {
        ...DEFAULT_PIPELINE_OPTIONS,
        model,
        embeddingModel: DEFAULT_EMBEDDING_MODEL,
        auditPolicy: 'related',
        firstTokenTimeoutMs: 3_600_000,
        totalTimeoutMs: 7_200_000,
      };
      const window = { num_ctx: DEFAULT_CONTEXT_LENGTH };
      // Target embeddings are built once, as the extension builds them in the background at start.
      const embeddingCache = new MemoryEmbeddingCache();
      // The model is loaded before anything is timed: load time is not latency here.
      await llm.chat({ model, messages: [{ role: 'user', content: 'Say hello.' }], options: window, keepAlive: KEEP_ALIVE });
      // `auto`, as the front ends resolve it: measured once per server (its cost reported apart) …
      const parallelism = new ServerParallelism();
      // The probe's tiny generations last a few real milliseconds at the bench's clock, less than our own
      // client may take to send eight requests on a busy machine; on a real server they last 0.1–1 s, far
      // more. So the clock runs at real speed while it measures (what it costs is in model time anyway).
      ollama.setTimeScale(1);
      const measured = await parallelism.resolve(llm, {
        model,
        numCtx: DEFAULT_CONTEXT_LENGTH,
        keepAlive: KEEP_ALIVE,
        signal: options.signal,
      });
      // The probe's cost on the server: from its first request to the second that finished, which is all
      // it waits for (the rest end when our client reacts).
      const probeTimings = ollama.probes.flatMap((c) => ollama.timingOf(c) ?? []);
      const finished = probeTimings.flatMap((t) => t.doneAt ?? []).sort((a, b) => a - b);
      const probeSeconds = finished[Math.min(1, finished.length - 1)]! - Math.min(...probeTimings.map((t) => t.submittedAt));
      ollama.setTimeScale(timeScale);
      runs.push({ name: profile.name, label: profile.label, speed: profile.speed, timeScale, measuredSlots: measured.slots, probeSeconds });
      log(`latency: ${profile.label}: the server runs ${measured.slots} request(s) at once (measured in ${probeSeconds.toFixed(2)} s)`);

      const timePlain = async (messages: ChatMessage[]): Promise<Timed> => {
        const start = mark();
        let first: ReturnType<typeof mark> | undefined;
        const response = await llm.chat({
          model,
          messages,
          options: window,
          keepAlive: KEEP_ALIVE,
          onToken: () => (first ??= mark()),
          signal: options.signal,
        });
        if (!response.content) throw new Error('latency bench: the plain model answered nothing');
        const end = mark();
        return { totalSeconds: span(start, end), firstSeconds: span(start, first ?? end) };
      };
      const timePipeline = async (question: string, history: ChatMessage[], port: LlmPort): Promise<Timed & { slots: number }> => {
        const start = mark();
        let first: ReturnType<typeof mark> | undefined;
        // … and asked again by every request (a cached answer: one /api/ps and one /api/version call).
        const { slots } = await parallelism.resolve(port, {
          model,
          numCtx: DEFAULT_CONTEXT_LENGTH,
          keepAlive: KEEP_ALIVE,
          signal: options.signal,
        });
        const result = await runPipeline({
          llm: port,
          index,
          question,
          history,
          options: { ...pipelineOptions, parallelCalls: slots },
          embeddingCache,
          signal: options.signal,
          onEvent: (e) => {
            if (e.type === 'answer-chunk' && e.text) first ??= mark();
          },
        });
        const end = mark();
        return { totalSeconds: span(start, end), firstSeconds: span(start, first ?? end), result, slots };
      };

      const system: ChatMessage = { role: 'system', content: CLIENT_SYSTEM_MESSAGE };
      const runCase = async (c: LatencyCase, seed: number, note?: string) => {
        const spec = CASES[c];
        const history = conversationOf(historyTokens, seed);
        // The previous turn ran through the same system just before (untimed), as in a chat: its prompt and
        // answer are in a slot's cache, so the new request's prompt shares a true prefix with them where the
        // system lays the conversation out the same way (the plain model and the vanilla agent do; agents
        // that carry it as JSON data do not).
        const before = history.slice(0, -2);
        const previous = history.at(-2)!.content;
        earlier.set(previous, history.at(-1)!.content);
        await llm.chat({
          model,
          messages: [system, ...before, { role: 'user', content: previous }],
          options: window,
          keepAlive: KEEP_ALIVE,
        });
        const plain = await timePlain([
          { role: 'system', content: CLIENT_SYSTEM_MESSAGE },
          ...history,
          { role: 'user', content: spec.question },
        ]);
        await runPipeline({
          llm,
          index,
          question: previous,
          history: [system, ...before],
          options: { ...pipelineOptions, parallelCalls: measured.slots },
          embeddingCache,
          signal: options.signal,
        });
        const chatsBefore = ollama.chats.length;
        const t = await timePipeline(spec.question, [{ role: 'system', content: CLIENT_SYSTEM_MESSAGE }, ...history], llm);
        const r = t.result!;
        if (r.outcome !== spec.outcome)
          throw new Error(
            `latency bench: ${profile.name} ${c} ended "${r.outcome}" (${r.refusalReason ?? ''}), expected "${spec.outcome}"`,
          );
        const row: LatencyRow = {
          profile: profile.name,
          case: c,
          parallelCalls: t.slots,
          outcome: r.outcome,
          totalSeconds: t.totalSeconds,
          firstTextSeconds: t.firstSeconds,
          plainTotalSeconds: plain.totalSeconds,
          plainFirstTokenSeconds: plain.firstSeconds,
          totalRatio: t.totalSeconds / plain.totalSeconds,
          firstTextRatio: t.firstSeconds / plain.firstSeconds,
          firstTextOfPlainTotal: t.firstSeconds / plain.totalSeconds,
          calls: r.calls,
          generatedTokens: r.completionTokens,
          promptTokens: r.promptTokens,
          agents: ollama.chats.slice(chatsBefore).map((x) => x.role),
          ...(note ? { note } : {}),
        };
        rows.push(row);
        if (options.traceCalls)
          for (const chat of ollama.chats.slice(chatsBefore)) {
            const t = ollama.timingOf(chat);
            if (t)
              log(
                `  ${chat.role.padEnd(8)} queued ${t.queuedSeconds.toFixed(2)} s, prompt ${t.evaluatedTokens} evaluated + ${t.cachedTokens} cached (${t.promptSeconds.toFixed(2)} s), generated in ${t.generationSeconds.toFixed(2)} s, slot ${t.slot ?? '-'}`,
              );
          }
        log(
          `latency: ${profile.name} ${c}: ${row.totalRatio.toFixed(2)}× plain, first text ${row.firstTextOfPlainTotal.toFixed(2)}× plain total, ${row.calls} calls`,
        );
      };
      for (const [i, c] of cases.entries()) await runCase(c, i);
      // Not a goal: the same named request when the critic tells the top candidates apart (the composer runs with k > 1).
      if (cases.includes('named-in-question') && measured.slots > 1) {
        critic.disagree = true;
        await runCase('named-in-question', cases.length, 'critic tells candidates apart: the composer merges the top k');
        critic.disagree = false;
      }
    } finally {
      await ollama.close();
    }
  }

  return {
    profiles: runs,
    answerTokens,
    historyTokens,
    candidates: DEFAULT_PIPELINE_OPTIONS.candidates,
    topK: DEFAULT_PIPELINE_OPTIONS.topK,
    rows,
    goals: goalsOf(rows),
    realSeconds: (performance.now() - began) / 1000,
    provider: options.provider ?? 'ollama',
  };
}
