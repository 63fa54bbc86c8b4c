/**
 * How long a local Ollama takes to answer, as a pure, clock-free simulation: the scripted server drives it
 * with real time (scaled), and unit tests drive it with virtual time.
 *
 * What is modelled, per model (each model has its own slots, like `OLLAMA_NUM_PARALLEL`):
 * - **Load.** The first request, or the first after the model's keep-alive expired, waits `loadSeconds`
 *   (requests that arrive during a load wait for the same load). A request with another context window
 *   (`num_ctx`) than the loaded one reloads the model after the running requests finish, as Ollama does.
 *   A reload starts with empty prompt caches.
 *   The keep-alive is the last request's `keep_alive` (Ollama's rule), else `keepAliveSeconds` (Ollama's 5
 *   minutes); it counts from the moment the model goes idle; a negative value keeps the model loaded.
 * - **Slots.** At most `slots` requests run at once; the rest queue in arrival order.
 * - **Prompt evaluation** at `promptTokensPerSecond`. Prompt processing is compute-bound: slots that
 *   evaluate prompts at the same time split that rate evenly (a fixed aggregate).
 * - **Prompt cache.** Each slot remembers its last prompt and reply; a new prompt that starts with the
 *   same text evaluates only the rest (Ollama does this per slot). A request takes the free slot whose
 *   memory shares the longest prefix with it, else the one idle longest.
 * - **Generation** at `generationTokensPerSecond` for one slot. Decoding one token for a batch of `n`
 *   sequences reads the weights once, so on a GPU it is memory-bandwidth bound and a batch costs little
 *   more than one sequence. The model: aggregate throughput = R · n^a, so each of `n` generating slots runs
 *   at R · n^(a−1). `a = 1` is perfect scaling, `a = 0` a fixed aggregate (a CPU that is compute bound).
 *   Default `a = 0.85` (GPU-like: four slots give 3.2× the aggregate, each slot 80% of the single-slot
 *   speed; llama.cpp's batched-bench on consumer GPUs shows roughly this); use about 0.2 for a CPU.
 * Simplifications, on purpose: prompt evaluation and generation do not slow each other, and models
 * do not compete for memory.
 *
 * Times are in seconds of model time. The simulation advances from event to event, so it is exact
 * whatever the caller's clock granularity.
 */

export interface SpeedProfile {
  /** Tokens per second one slot generates when it runs alone. */
  readonly generationTokensPerSecond: number;
  /** Prompt tokens per second (an aggregate, shared by the slots that evaluate prompts at the same time). */
  readonly promptTokensPerSecond: number;
  /** Time to load a model into memory. */
  readonly loadSeconds: number;
  /** Requests one model runs at once (`OLLAMA_NUM_PARALLEL`). */
  readonly slots: number;
  /** `a` in aggregate generation throughput = R · n^a for n generating slots (see above). */
  readonly sharingExponent: number;
  /** Keep-alive when a request does not say (Ollama's default: 5 minutes). */
  readonly keepAliveSeconds: number;
}

export const DEFAULT_SPEED_PROFILE: SpeedProfile = {
  generationTokensPerSecond: 30,
  promptTokensPerSecond: 600,
  loadSeconds: 3,
  slots: 1,
  sharingExponent: 0.85,
  keepAliveSeconds: 300,
};

export interface SpeedRequest {
  readonly model: string;
  /** The prompt as one text (what the prompt cache compares). */
  readonly prompt: string;
  readonly promptTokens: number;
  /** The reply, remembered by the slot with the prompt (a follow-up turn reuses both). */
  readonly reply?: string;
  readonly outputTokens: number;
  /** Seconds; negative = stay loaded; undefined = the profile's default. */
  readonly keepAliveSeconds?: number;
  /**
   * Ollama's `num_ctx` (undefined: the model's default). A request whose window differs from the loaded
   * one's makes Ollama reload the model, once the requests running on it have finished.
   */
  readonly contextLength?: number;
  /**
   * Generated-token counts at which the caller wants an event (e.g. where each stream chunk ends),
   * ascending; the last one should be `outputTokens`.
   */
  readonly milestones?: readonly number[];
}

export type SpeedEvent =
  | { readonly kind: 'milestone'; readonly job: number; readonly index: number; readonly at: number }
  | { readonly kind: 'done'; readonly job: number; readonly at: number };

/** What one finished (or running) request cost, as Ollama's final chunk reports it. */
export interface SpeedTimings {
  readonly submittedAt: number;
  /** Waiting for a free slot. */
  readonly queuedSeconds: number;
  /** Waiting for the model to load (0 when it was loaded). */
  readonly loadSeconds: number;
  /** Prompt tokens taken from the slot's cache, and those evaluated. */
  readonly cachedTokens: number;
  readonly evaluatedTokens: number;
  readonly promptSeconds: number;
  readonly firstTokenAt?: number;
  readonly generationSeconds: number;
  readonly doneAt?: number;
  readonly slot?: number;
}

type Phase = 'queued' | 'loading' | 'prompt' | 'generating' | 'done' | 'cancelled';

interface Job {
  readonly id: number;
  readonly request: SpeedRequest;
  readonly milestones: readonly number[];
  phase: Phase;
  slot?: Slot;
  promptLeft: number;
  generated: number;
  nextMilestone: number;
  cachedTokens: number;
  evaluatedTokens: number;
  submittedAt: number;
  admittedAt?: number;
  loadDoneAt?: number;
  promptStartAt?: number;
  promptDoneAt?: number;
  firstTokenAt?: number;
  doneAt?: number;
  cancelledAt?: number;
}

interface Slot {
  readonly index: number;
  memory: string;
  idleSince: number;
  job?: Job;
}

interface ModelState {
  readonly slots: Slot[];
  readonly queue: Job[];
  loaded: boolean;
  /** When a load in progress ends. */
  loadingUntil?: number;
  /** The context window the model is loaded (or loading) with. */
  context?: string;
  keepAliveSeconds: number;
  expiresAt: number;
}

const EPSILON = 1e-9;
/** Seconds below which two event times are the same event. */
const TIME_EPSILON = 1e-9;

export class SpeedModel {
  readonly profile: SpeedProfile;
  private now = 0;
  private nextId = 1;
  private readonly jobs = new Map<number, Job>();
  private readonly models = new Map<string, ModelState>();

  constructor(profile: Partial<SpeedProfile> = {}) {
    this.profile = { ...DEFAULT_SPEED_PROFILE, ...profile };
    const p = this.profile;
    if (!(p.generationTokensPerSecond > 0 && p.promptTokensPerSecond > 0)) throw new Error('speed model: rates must be positive');
    if (!(Number.isInteger(p.slots) && p.slots >= 1)) throw new Error('speed model: slots must be a whole number ≥ 1');
    if (!(p.loadSeconds >= 0 && p.sharingExponent >= 0 && p.sharingExponent <= 1))
      throw new Error('speed model: loadSeconds ≥ 0 and 0 ≤ sharingExponent ≤ 1');
  }

  /** Model time the simulation has reached. */
  get time(): number {
    return this.now;
  }

  /** Queues a request at the current time (call `advance` first). Returns its id. */
  submit(request: SpeedRequest): number {
    const id = this.nextId++;
    const outputTokens = Math.max(1, request.outputTokens);
    const milestones = (request.milestones ?? [outputTokens]).map((m) => Math.min(Math.max(m, 0), outputTokens));
    const job: Job = {
      id,
      request: { ...request, outputTokens },
      milestones,
      phase: 'queued',
      promptLeft: 0,
      generated: 0,
      nextMilestone: 0,
      cachedTokens: 0,
      evaluatedTokens: 0,
      submittedAt: this.now,
    };
    this.jobs.set(id, job);
    const model = this.model(request.model);
    // Every request sets the keep-alive; one without `keep_alive` sets the default again (Ollama's rule).
    model.keepAliveSeconds = request.keepAliveSeconds ?? this.profile.keepAliveSeconds;
    model.queue.push(job);
    this.admit(model);
    return id;
  }

  /** Stops a request (its client went away): its slot is free for the next one. */
  cancel(id: number): void {
    const job = this.jobs.get(id);
    if (!job || job.phase === 'done' || job.phase === 'cancelled') return;
    const model = this.model(job.request.model);
    if (job.phase === 'queued') model.queue.splice(model.queue.indexOf(job), 1);
    job.phase = 'cancelled';
    // Its timings end here: generation stopped when the client went away (it never finished: no doneAt).
    job.cancelledAt = this.now;
    this.release(job, model, job.request.prompt);
    this.admit(model);
  }

  /** Whether a model is in memory at the current time. */
  isLoaded(model: string): boolean {
    const state = this.models.get(model);
    if (!state) return false;
    this.expire(state);
    return state.loaded;
  }

  /** Loaded models and when each will be unloaded (`Infinity`: never; the current time + keep-alive while busy). */
  loadedModels(): { model: string; expiresAt: number }[] {
    const out: { model: string; expiresAt: number }[] = [];
    for (const [name, state] of this.models) {
      this.expire(state);
      if (state.loaded) out.push({ model: name, expiresAt: this.busy(state) ? this.now + this.keepAlive(state) : state.expiresAt });
    }
    return out;
  }

  timings(id: number): SpeedTimings | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    const admitted = job.admittedAt ?? this.now;
    const promptStart = job.promptStartAt ?? job.loadDoneAt ?? admitted;
    const promptDone = job.promptDoneAt;
    return {
      submittedAt: job.submittedAt,
      queuedSeconds: admitted - job.submittedAt,
      loadSeconds: job.loadDoneAt !== undefined ? job.loadDoneAt - admitted : 0,
      cachedTokens: job.cachedTokens,
      evaluatedTokens: job.evaluatedTokens,
      promptSeconds: promptDone !== undefined ? promptDone - promptStart : job.phase === 'prompt' ? this.now - promptStart : 0,
      firstTokenAt: job.firstTokenAt,
      generationSeconds: promptDone !== undefined ? (job.doneAt ?? job.cancelledAt ?? this.now) - promptDone : 0,
      doneAt: job.doneAt,
      slot: job.slot?.index,
    };
  }

  /** Forgets a finished or cancelled request's record. */
  forget(id: number): void {
    const job = this.jobs.get(id);
    if (job && (job.phase === 'done' || job.phase === 'cancelled')) this.jobs.delete(id);
  }

  /** When the next event (a milestone, a phase change, a finished request) happens, or undefined when nothing runs. */
  nextEventAt(): number | undefined {
    let next: number | undefined;
    for (const state of this.models.values()) {
      const rates = this.rates(state);
      for (const slot of state.slots) {
        const job = slot.job;
        if (!job) continue;
        const at = this.now + this.untilBoundary(job, state, rates);
        if (next === undefined || at < next) next = at;
      }
    }
    return next;
  }

  /** Runs the simulation up to `time` (never backwards) and returns what happened on the way, in order. */
  advance(time: number): SpeedEvent[] {
    const events: SpeedEvent[] = [];
    if (time < this.now) return events;
    for (;;) {
      const next = this.nextEventAt();
      const step = next === undefined || next > time ? time : next;
      this.progress(step - this.now);
      this.now = step;
      this.settle(events);
      if (next === undefined || next > time) break;
    }
    return events;
  }

  // -------------------------------------------------------------------------------------------

  private model(name: string): ModelState {
    let state = this.models.get(name);
    if (!state) {
      const slots = Array.from({ length: this.profile.slots }, (_, index): Slot => ({ index, memory: '', idleSince: index - 1e9 }));
      state = { slots, queue: [], loaded: false, keepAliveSeconds: this.profile.keepAliveSeconds, expiresAt: -Infinity };
      this.models.set(name, state);
    }
    return state;
  }

  private keepAlive(state: ModelState): number {
    return state.keepAliveSeconds < 0 ? Infinity : state.keepAliveSeconds;
  }

  private busy(state: ModelState): boolean {
    return state.slots.some((s) => s.job) || state.loadingUntil !== undefined;
  }

  /** Unloads an idle model whose keep-alive ran out; its slots forget their prompts. */
  private expire(state: ModelState): void {
    if (state.loaded && !this.busy(state) && this.now >= state.expiresAt) {
      state.loaded = false;
      for (const slot of state.slots) slot.memory = '';
    }
  }

  /** Moves queued requests into free slots. */
  private admit(state: ModelState): void {
    this.expire(state);
    while (state.queue.length > 0) {
      const context = String(state.queue[0]!.request.contextLength ?? 'default');
      if ((state.loaded || state.loadingUntil !== undefined) && state.context !== context) {
        // Another window needs another runner: Ollama lets the running requests finish, then reloads.
        if (this.busy(state)) return;
        state.loaded = false;
      }
      const free = state.slots.filter((s) => !s.job);
      if (free.length === 0) return;
      const job = state.queue.shift()!;
      const prompt = job.request.prompt;
      let best = free[0]!;
      let bestShared = -1;
      for (const slot of free) {
        const shared = commonPrefixLength(slot.memory, prompt);
        if (shared > bestShared || (shared === bestShared && slot.idleSince < best.idleSince)) {
          best = slot;
          bestShared = shared;
        }
      }
      best.job = job;
      job.slot = best;
      job.admittedAt = this.now;
      if (!state.loaded && state.loadingUntil === undefined) {
        state.loadingUntil = this.now + this.profile.loadSeconds;
        state.context = context;
        for (const slot of state.slots) slot.memory = '';
        bestShared = 0;
      }
      const total = Math.max(1, job.request.promptTokens);
      // At least one token is always evaluated, as in Ollama (it needs the last token's logits).
      job.cachedTokens = Math.min(total - 1, Math.floor((total * Math.max(0, bestShared)) / Math.max(1, prompt.length)));
      job.evaluatedTokens = total - job.cachedTokens;
      job.promptLeft = job.evaluatedTokens;
      if (state.loadingUntil !== undefined) job.phase = 'loading';
      else this.startPrompt(job);
    }
  }

  private startPrompt(job: Job): void {
    job.phase = 'prompt';
    job.promptStartAt = this.now;
  }

  private rates(state: ModelState): { prompt: number; generation: number } {
    let prompting = 0;
    let generating = 0;
    for (const slot of state.slots) {
      if (slot.job?.phase === 'prompt') prompting++;
      else if (slot.job?.phase === 'generating') generating++;
    }
    const { promptTokensPerSecond: p, generationTokensPerSecond: r, sharingExponent: a } = this.profile;
    return { prompt: p / Math.max(1, prompting), generation: r * Math.pow(Math.max(1, generating), a - 1) };
  }

  private untilBoundary(job: Job, state: ModelState, rates: { prompt: number; generation: number }): number {
    switch (job.phase) {
      case 'loading':
        return Math.max(0, (state.loadingUntil ?? this.now) - this.now);
      case 'prompt':
        return Math.max(0, job.promptLeft / rates.prompt);
      case 'generating': {
        const target = Math.min(job.milestones[job.nextMilestone] ?? job.request.outputTokens, job.request.outputTokens);
        return Math.max(0, (target - job.generated) / rates.generation);
      }
      default:
        return Infinity;
    }
  }

  private progress(seconds: number): void {
    for (const state of this.models.values()) {
      const rates = this.rates(state);
      for (const slot of state.slots) {
        const job = slot.job;
        if (!job) continue;
        // A boundary within rounding distance counts as reached: time stamps near 1e4 s cannot resolve a
        // picosecond, and a step too small to represent would otherwise never arrive.
        const snap = this.untilBoundary(job, state, rates) <= Math.max(0, seconds) + TIME_EPSILON;
        if (job.phase === 'prompt') job.promptLeft = snap ? 0 : Math.max(0, job.promptLeft - rates.prompt * seconds);
        else if (job.phase === 'generating') {
          const target = Math.min(job.milestones[job.nextMilestone] ?? job.request.outputTokens, job.request.outputTokens);
          job.generated = snap
            ? Math.max(job.generated, target)
            : Math.min(job.request.outputTokens, job.generated + rates.generation * seconds);
        }
      }
    }
  }

  /** Applies every phase change due at the current time. */
  private settle(events: SpeedEvent[]): void {
    for (const state of this.models.values()) {
      if (state.loadingUntil !== undefined && this.now >= state.loadingUntil - EPSILON) {
        state.loadingUntil = undefined;
        state.loaded = true;
        for (const slot of state.slots) {
          if (slot.job?.phase === 'loading') {
            slot.job.loadDoneAt = this.now;
            this.startPrompt(slot.job);
          }
        }
      }
      let freed = false;
      for (const slot of state.slots) {
        const job = slot.job;
        if (!job) continue;
        if (job.phase === 'prompt' && job.promptLeft <= EPSILON) {
          job.promptLeft = 0;
          job.phase = 'generating';
          job.promptDoneAt = this.now;
        }
        if (job.phase !== 'generating') continue;
        while (job.nextMilestone < job.milestones.length && job.generated >= job.milestones[job.nextMilestone]! - EPSILON) {
          if (job.firstTokenAt === undefined) job.firstTokenAt = this.now;
          events.push({ kind: 'milestone', job: job.id, index: job.nextMilestone, at: this.now });
          job.nextMilestone++;
        }
        if (job.generated >= job.request.outputTokens - EPSILON) {
          job.generated = job.request.outputTokens;
          job.firstTokenAt ??= this.now;
          job.phase = 'done';
          job.doneAt = this.now;
          events.push({ kind: 'done', job: job.id, at: this.now });
          this.release(job, state, job.request.prompt + (job.request.reply ?? ''));
          freed = true;
        }
      }
      if (freed) this.admit(state);
    }
  }

  private release(job: Job, state: ModelState, memory: string): void {
    const slot = job.slot;
    if (slot && slot.job === job) {
      slot.job = undefined;
      slot.idleSince = this.now;
      // A request cancelled while the model was still loading evaluated nothing: the slot keeps no prompt.
      slot.memory = job.promptStartAt !== undefined ? memory : slot.memory;
    }
    if (!this.busy(state)) state.expiresAt = this.now + this.keepAlive(state);
  }
}

/** Characters two texts share from their start. */
export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * Ollama's `keep_alive` in seconds: a number is seconds, a string is a Go duration ("5m", "1h30m", "90s",
 * "500ms") or a number; negative means "stay loaded". Undefined when absent or unreadable (Ollama then
 * rejects the request or uses its default; the scripted server uses the default).
 */
export function parseKeepAlive(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const match = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match) return undefined;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let seconds = 0;
  for (const part of match[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(part[1]) * unit[part[2]!]!;
  return match[1] ? -seconds : seconds;
}

/**
 * Tokens a Llama-3-style BPE tokenizer would make of `text`, estimated from its pieces rather than its
 * length: the pre-tokenizer splits words (with their leading space), runs of up to three digits and runs
 * of punctuation, as tiktoken-style tokenizers do; a word of up to 7 letters is one token, longer ones
 * one per further 6 letters; punctuation merges about two characters a token (`{"`, `":`); a digit run is
 * one token; a run of whitespace is one. English prose comes to about 1.3 tokens a word, close to
 * characters / 4.5; JSON, dense in quotes, brackets and one-digit numbers, to about twice characters / 4,
 * which is what a real tokenizer does with a critic's `{"forget":[5,5,5],…}`.
 */
export function estimateBpeTokens(text: string): number {
  let tokens = 0;
  for (const piece of text.match(/ ?\p{L}+| ?\p{N}{1,3}| ?[^\s\p{L}\p{N}]+|\s+/gu) ?? []) {
    const body = piece.startsWith(' ') && piece.length > 1 ? piece.slice(1) : piece;
    if (/^\p{L}/u.test(body)) tokens += body.length <= 7 ? 1 : 1 + Math.ceil((body.length - 7) / 6);
    else if (/^\p{N}/u.test(body)) tokens += 1;
    else if (/^\s/u.test(body)) tokens += 1;
    else tokens += Math.ceil(body.length / 2);
  }
  return tokens;
}
