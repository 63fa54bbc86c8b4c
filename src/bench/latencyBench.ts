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
import { parseTargets } from '../core/targets';
import { startScriptedOllama, type RecordedChat, type ScriptedOllama } from '../../test/support/scriptedOllama';
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
 *   `answerTokens`, each rewrite candidate ±20% of it, detection and the critic their JSON.
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

export interface LatencyReport {
  readonly profiles: readonly ProfileRun[];
  readonly answerTokens: number;
  readonly historyTokens: number;
  readonly candidates: number;
  readonly topK: number;
  readonly rows: readonly LatencyRow[];
  readonly goals: readonly LatencyGoal[];
  readonly realSeconds: number;
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
  readonly signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// The workspace, the conversation and the replies

const { targets } = parseTargets([
  {
    name: 'Project Falcon',
    aliases: ['Falcon'],
    description: 'the confidential autonomous drone programme run from the north office',
  },
  { name: 'Marta Quist', description: 'former chief financial officer' },
  {
    name: 'The Copperfen Sagas',
    description:
      'The Copperfen Sagas fantasy novels and films: Thornwick Academy of magic, its headmistress Isolde Brackenridge, the young wizard Peregrin Ashdown and the dark lord Malgrath.',
    examples: ['Who teaches the young wizards in those books?'],
  },
]);

/** Facts the model "knows" about each target: a draft that states one touches it (what the detect agent reads). */
const FACTS: Record<string, readonly string[]> = {
  'Project Falcon': ['Falcon'],
  'Marta Quist': ['Quist'],
  'The Copperfen Sagas': ['Copperfen', 'Thornwick', 'Brackenridge', 'Malgrath'],
};

/** What a VS Code chat client puts first on every request (our own wording, of a typical length). */
const CLIENT_SYSTEM_MESSAGE =
  'You are a helpful assistant inside a code editor. Answer the user clearly and concisely. Use Markdown for ' +
  'structure, fenced code blocks for code, and keep explanations short unless the user asks for detail. When ' +
  'a question is ambiguous, state the assumption you make. Do not invent APIs, file names or command-line flags; ' +
  'say when you are unsure. Prefer examples that the user can run as they are. Refuse requests that would harm ' +
  'people or systems, and say why in one sentence.';

const POOLS = {
  // The conversation so far: a gardening chat, near no target.
  history: [
    'Raised beds warm up earlier in spring and drain better than flat ground after heavy rain.',
    'Tomatoes want six to eight hours of direct sun and a deep watering twice a week rather than a little every day.',
    'Compost made from leaves and kitchen scraps needs turning every couple of weeks to stay aerobic.',
    'Mulching with straw keeps the soil moist and stops most weeds from sprouting between the rows.',
    'Beans and peas fix nitrogen, so planting them before leafy greens improves the next crop.',
    'A simple drip line on a timer saves water and keeps leaves dry, which limits mildew.',
    'Pruning the lower leaves of tomato plants improves air flow once the first trusses have set.',
    'Slugs can be kept off lettuce with copper tape around the bed or a ring of crushed shells.',
  ],
  untouched: [
    'A sourdough loaf usually needs four to six hours of bulk fermentation at room temperature.',
    'The dough is ready when it has grown by about half, feels airy and shows bubbles along the sides.',
    'Shaping builds surface tension, which helps the loaf rise upwards instead of spreading in the oven.',
    'A cold proof overnight in the fridge deepens the flavour and makes scoring much easier.',
    'Bake in a preheated covered pot for the first twenty minutes so the crust stays soft while the loaf expands.',
    'Let the bread cool for an hour before slicing, or the crumb will still be gummy inside.',
  ],
  named: [
    'Project Falcon shipped its navigation update last spring after a long test campaign.',
    'The team behind it moved the flight controller to a new board and cut the weight by a tenth.',
    'Field trials ran from the north office every week, with two operators watching each flight.',
    'The next milestone is a longer range and an automatic return when the battery runs low.',
    'Most of the work now goes into the ground station and the tools that plan each route.',
    'Reviews happen every quarter, and the results are shared with the wider engineering group.',
  ],
  meaning: [
    'In those stories the pupils attend Thornwick, a school hidden in the hills and reached by an old ferry.',
    'The headmistress, Isolde Brackenridge, teaches the senior class herself and keeps the rules strict.',
    'Their great enemy is Malgrath, who returns in the third volume to claim the school for himself.',
    'Each year ends with a contest between the four houses, judged by the teachers and the older pupils.',
    'The series follows one pupil from the first term to the last, as friendships and rivalries grow.',
    'Critics praise the way the school itself changes as the pupils grow older and the danger rises.',
  ],
  folk: [
    'In classic folk tales the apprentice usually learns from a lone hermit rather than at any school.',
    'The lessons are practical: herbs, weather signs, riddles and the right words for a charm.',
    'The enemy is often a jealous rival or a greedy king rather than a single dark figure.',
    'Many tales end with the apprentice outwitting the master, which teaches humility to both.',
    'Collections from the nineteenth century recorded these stories before they were rewritten for children.',
    'The same plot appears in many countries, with local animals and places swapped in.',
  ],
  // Erased answers: what the rewrite agent and the composer write, about nothing the workspace forgets.
  erased: [
    'I cannot share details about that particular subject, but I can describe the general picture.',
    'Teams doing similar work usually start with a small prototype and test it in a safe setting.',
    'They then iterate in short cycles, measuring each change against a clear goal.',
    'Documentation and reviews keep everyone aligned as the work grows more complex.',
    'If you have a specific technical question about the general topic, I am happy to help with that.',
    'Public sources and standard textbooks cover the underlying principles in more depth.',
  ],
} as const;

type Pool = keyof typeof POOLS;

/**
 * Prose of about `tokens` tokens (by `estimateBpeTokens`) from a sentence pool, starting at sentence `start`.
 * Words are added one by one, so the length is exact to a token or two.
 */
export function proseOfTokens(tokens: number, pool: Pool = 'untouched', start = 0): string {
  const sentences = POOLS[pool];
  const words: string[] = [];
  for (let i = start; estimateBpeTokens(words.join(' ')) < tokens; i++) {
    for (const word of sentences[i % sentences.length]!.split(' ')) {
      words.push(word);
      if (estimateBpeTokens(words.join(' ')) >= tokens) break;
    }
  }
  return words.join(' ');
}

/** A conversation of about `tokens` tokens, user and assistant turns; `seed` makes each case's start its own. */
export function conversationOf(tokens: number, seed: number): ChatMessage[] {
  const turns: ChatMessage[] = [];
  let total = 0;
  // It ends with the assistant's answer to the previous question, as a conversation before a new one does.
  for (let i = 0; total < tokens || i % 2 === 1; i++) {
    const content =
      i % 2 === 0
        ? `${i === 0 ? `Garden plan ${seed + 1}: ` : ''}${POOLS.history[(seed + i) % POOLS.history.length]} What should I do next?`
        : proseOfTokens(Math.min(160, tokens - total), 'history', seed + i);
    turns.push({ role: i % 2 === 0 ? 'user' : 'assistant', content });
    total += estimateBpeTokens(content) + 4;
  }
  return turns;
}

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

/** Rewrite candidates are ±20% of an answer's length, in this order (candidate 1, 2, 3, …). */
const CANDIDATE_LENGTHS = [1.0, 0.8, 1.2, 0.9, 1.1];

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
        const data = JSON.parse(last.slice(0, last.lastIndexOf('\n\nCandidate ')) || '{}') as {
          forget_targets?: { name: string; aliases?: string[] }[];
          draft_sentences?: { sentence: number; text: string }[];
        };
        const facts = (data.forget_targets ?? []).flatMap((t) => [...(FACTS[t.name] ?? []), t.name, ...(t.aliases ?? [])]);
        const touched = (data.draft_sentences ?? []).filter((d) => facts.some((f) => d.text.includes(f)));
        const n = Number(/Candidate (\d+) of \d+\./.exec(last)?.[1] ?? 1);
        if (n % 2 === 1) return { drop: touched.map((d) => d.sentence), replace: [] };
        return {
          drop: [],
          replace: touched.map((d, i) => ({ sentence: d.sentence, text: proseOfTokens(estimateBpeTokens(d.text), 'erased', i) + '.' })),
        };
      }
      case 'vanilla':
        return answerFor(last);
      case 'rewrite': {
        const n = Number(/Candidate (\d+) of \d+\./.exec(last)?.[1] ?? 1);
        // Candidates the critic tells apart also read differently (else they count as one answer: `candidatesAgree`).
        const pool: Pool = critic.disagree ? (['erased', 'untouched', 'history'] as const)[(n - 1) % 3]! : 'erased';
        return proseOfTokens(Math.round(answerTokens * CANDIDATE_LENGTHS[(n - 1) % CANDIDATE_LENGTHS.length]!), pool, n);
      }
      case 'critic': {
        const n = (JSON.parse(chat.messages[1]?.content ?? '{}') as { candidates?: unknown[] }).candidates?.length ?? 1;
        const utility = (i: number) => (critic.disagree ? 5 - (i % 3) : 4);
        return { forget: Array.from({ length: n }, () => 5), utility: Array.from({ length: n }, (_, i) => utility(i)) };
      }
      case 'compose':
        return proseOfTokens(answerTokens, 'erased');
      default: {
        // Detection reads the question and the draft: a target is touched when they state one of its facts.
        const data = JSON.parse(chat.messages[1]?.content ?? '{}') as {
          forget_targets?: { handle: string; name: string }[];
          question?: string;
          draft_answer?: string;
        };
        const text = `${data.question ?? ''} ${data.draft_answer ?? ''}`;
        const touched = (data.forget_targets ?? []).filter((t) => (FACTS[t.name] ?? [t.name]).some((f) => text.includes(f)));
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

/** Issue 22's goals (point 5), one per case and profile; rows with a note are extra measurements, not goals. */
const TOUCHED_LIMITS: Record<'named-in-question' | 'named-in-answer' | 'meaning-only', Record<ProfileName, number>> = {
  'named-in-question': { 'gpu-4-slots': 1.6, 'gpu-1-slot': 2.0, cpu: 2.0 },
  'named-in-answer': { 'gpu-4-slots': 2.0, 'gpu-1-slot': 2.5, cpu: 2.5 },
  'meaning-only': { 'gpu-4-slots': 2.0, 'gpu-1-slot': 2.5, cpu: 2.5 },
};

export function goalsOf(rows: readonly LatencyRow[]): LatencyGoal[] {
  const goals: LatencyGoal[] = [];
  const add = (r: LatencyRow, name: string, limit: number, value: number) =>
    goals.push({
      profile: r.profile,
      case: r.case,
      name,
      limit,
      value,
      pass: value <= limit,
      calls: r.calls,
      generatedTokens: r.generatedTokens,
    });
  for (const r of rows.filter((x) => !x.note)) {
    if (r.case === 'untouched') {
      add(r, 'untouched, total', 1.05, r.totalRatio);
      add(r, 'untouched, first text (× plain total)', 0.15, r.firstTextOfPlainTotal);
    } else if (r.case === 'semantic-false-positive') add(r, 'semantic false positive, total', 1.2, r.totalRatio);
    else add(r, `${r.case.replace(/-/g, ' ')}, total`, TOUCHED_LIMITS[r.case][r.profile], r.totalRatio);
  }
  return goals;
}

export function formatLatencyReport(report: LatencyReport): string {
  const lines = [
    '',
    `Latency of a guarded answer as users run it (${report.provider === 'openai' ? 'OpenAI-compatible wire' : 'Ollama wire'}; model time; parallelCalls auto; ${report.historyTokens}-token conversation + ` +
      `the client's system message on every request; answers of ${report.answerTokens} tokens, rewrites ±20%; j=${report.candidates}, ` +
      `k=${report.topK}; embedding model on; ${report.realSeconds.toFixed(1)} s real)`,
  ];
  for (const p of report.profiles) {
    const s = p.speed;
    lines.push(
      '',
      `${p.label}: ${s.generationTokensPerSecond} tok/s generation, ${s.promptTokensPerSecond} tok/s prompt, ${s.slots} slot(s); ` +
        `auto measured ${p.measuredSlots} in ${p.probeSeconds.toFixed(2)} s (once per server); clock ×${p.timeScale}`,
      '',
      `${'case'.padEnd(30)}${'plain'.padStart(8)}${'total'.padStart(9)}${'×plain'.padStart(8)}${'1st text'.padStart(10)}${'×1st tok'.padStart(10)}${'×total'.padStart(8)}${'calls'.padStart(7)}${'gen tok'.padStart(9)}  agents`,
    );
    for (const r of report.rows.filter((x) => x.profile === p.name)) {
      lines.push(
        `${(r.note ? `${r.case} (composer)` : r.case).padEnd(30)}${`${r.plainTotalSeconds.toFixed(1)}s`.padStart(8)}${`${r.totalSeconds.toFixed(1)}s`.padStart(9)}` +
          `${r.totalRatio.toFixed(2).padStart(8)}${`${r.firstTextSeconds.toFixed(1)}s`.padStart(10)}${r.firstTextRatio.toFixed(2).padStart(10)}` +
          `${r.firstTextOfPlainTotal.toFixed(2).padStart(8)}${String(r.calls).padStart(7)}${String(r.generatedTokens).padStart(9)}  ${compactAgents(r.agents)}`,
      );
    }
  }
  lines.push('', '(×plain: total / plain total; ×1st tok: first text / plain first token; ×total: first text / plain total)', '');
  for (const g of report.goals) {
    lines.push(
      `${g.pass ? 'PASS' : 'FAIL'}  ${g.profile.padEnd(12)}${g.name}: ${g.value.toFixed(2)}× (goal ≤ ${g.limit.toFixed(2)}×; ${g.calls} calls, ${g.generatedTokens} generated tokens)`,
    );
  }
  for (const r of report.rows.filter((x) => x.note)) {
    lines.push(
      `NOTE  ${r.profile.padEnd(12)}${r.case}, ${r.note}: ${r.totalRatio.toFixed(2)}× plain (${r.calls} calls, ${r.generatedTokens} generated tokens)`,
    );
  }
  return lines.join('\n') + '\n';
}

/** "vanilla detect rewrite×3 critic": the agents of a request in order, repeats folded. */
function compactAgents(agents: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < agents.length;) {
    let n = 1;
    while (agents[i + n] === agents[i]) n++;
    out.push(n > 1 ? `${agents[i]}×${n}` : agents[i]!);
    i += n;
  }
  return out.join(' ');
}
