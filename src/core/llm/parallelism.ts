/**
 * How many requests an Ollama server really runs at once for one model (`OLLAMA_NUM_PARALLEL`, 1 by
 * default since 2025), measured instead of guessed, so a request's rewrites neither queue on a one-slot
 * server behind a setting that assumed four, nor leave slots idle.
 *
 * The probe sends `requests` tiny generations at the same moment, each of at most `tokens` tokens
 * (`num_predict`). A request streams its first token once it holds a slot and its prompt is evaluated;
 * a request without a slot waits until another finishes. The server's slots are the most requests seen
 * streaming at the same time, watched until two requests have finished (or all streamed at once); the
 * rest are then cancelled (a queued request costs the server nothing). Waiting for a second finish makes
 * the count robust to requests that reach the server late: one that arrives after the first finished
 * still runs beside the second if a slot is free, while on a one-slot server the second request only
 * starts after the first ends and the third after the second. Cost: two tiny generations in a row on
 * one slot, one at batched speed on several: 0.1–0.4 s on a GPU once the model is loaded.
 *
 * The prompt cache cannot fool it: each probe request starts with its own random nonce, so no two
 * share a prefix with each other or with anything a slot held before, and every one evaluates its
 * prompt in full. (A cached prompt would only make a request start sooner; it could never make a
 * queued request stream before a slot frees, which is all the count relies on.)
 *
 * `ServerParallelism` keeps one measurement per host and model, in memory and in a store (VS Code's
 * global state, the CLI's cache directory), and measures again when the server may have restarted,
 * since only a restart changes `OLLAMA_NUM_PARALLEL`:
 * - a call to the server failed as unreachable (`serverUnreachable`), as a restart does;
 * - `/api/version` says another version (an upgrade is a restart);
 * - `/api/ps` no longer lists the model although its keep-alive, as last seen, has not run out: the
 *   model was unloaded early, by a restart or `ollama stop`;
 * - the model's last seen keep-alive ran out: it may have been unloaded and loaded again by a new
 *   server since, which nothing else tells apart. The request that follows usually loads the model
 *   anyway, so the probe's fraction of a second hides in that load.
 * A server without `/api/ps` (a port that is not Ollama) is measured once per process.
 */
import { isAbort, isLlmError, LlmError } from './errors';
import type { LlmPort } from './port';

export interface ParallelismProbeOptions {
  readonly model: string;
  /** The context window every other call uses (`num_ctx`): another one would make Ollama reload the model. */
  readonly numCtx?: number;
  /** The keep-alive every other call asks for. */
  readonly keepAlive?: number | string;
  /** Requests sent at once: the most slots the probe can see (default 8). */
  readonly requests?: number;
  /** Tokens each request may generate (default 10). */
  readonly tokens?: number;
  readonly signal?: AbortSignal;
  /** Gives up when no probe request finished after this long (default 120 s: a cold model on a CPU loads slowly). */
  readonly timeoutMs?: number;
}

export interface ParallelismMeasurement {
  /** Requests the server ran at once (≥ 1). */
  readonly slots: number;
  /** True when every probe request ran at once: the server may run more than `slots`. */
  readonly atLeast: boolean;
  /** Wall time of the probe. */
  readonly ms: number;
}

const PROBE_REQUESTS = 8;
/** What each probe request asks, after its nonce. */
const PROBE_TASK = 'Count from 1 to 50, numbers only, separated by spaces.';

/** Whether a chat is one of the probe's requests (a test server answers them apart from the agents). */
export function isParallelismProbe(messages: readonly { readonly role: string; readonly content: string }[]): boolean {
  return messages.length === 1 && messages[0]!.role === 'user' && messages[0]!.content.endsWith(` ${PROBE_TASK}`);
}
const PROBE_TOKENS = 10;

/** Measures the server's slots for `options.model` (see the module comment). Rejects when no probe request could finish. */
export async function probeParallelism(llm: Pick<LlmPort, 'chat'>, options: ParallelismProbeOptions): Promise<ParallelismMeasurement> {
  const n = Math.max(2, Math.floor(options.requests ?? PROBE_REQUESTS));
  const tokens = Math.max(2, Math.floor(options.tokens ?? PROBE_TOKENS));
  const started = performance.now();
  options.signal?.throwIfAborted();
  const controller = new AbortController();
  const stop = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', stop, { once: true });
  // Requests streaming right now, the most seen at once, and how many started, finished or failed.
  let running = 0;
  let most = 0;
  let streamedCount = 0;
  let finished = 0;
  const failures: unknown[] = [];
  const streamed: boolean[] = new Array<boolean>(n).fill(false);
  let decide!: () => void;
  const decided = new Promise<void>((resolve) => (decide = resolve));
  const stream = (i: number) => {
    if (streamed[i]) return;
    streamed[i] = true;
    streamedCount++;
    running++;
    most = Math.max(most, running);
    if (streamedCount === n) decide();
  };
  const timeout = setTimeout(() => {
    failures.push(new Error('parallelism probe: no request finished in time'));
    decide();
  }, options.timeoutMs ?? 120_000);
  controller.signal.addEventListener('abort', () => decide(), { once: true });
  const calls = Array.from({ length: n }, (_, i) =>
    llm
      .chat({
        model: options.model,
        // The nonce comes first so that no prefix is shared (see the module comment); counting keeps the model talking.
        messages: [{ role: 'user', content: `${nonceOf(i)} ${PROBE_TASK}` }],
        options: { temperature: 0, num_predict: tokens, ...(options.numCtx !== undefined ? { num_ctx: options.numCtx } : {}) },
        ...(options.keepAlive !== undefined ? { keepAlive: options.keepAlive } : {}),
        signal: controller.signal,
        label: 'parallelism probe',
        onToken: () => stream(i),
      })
      .then(
        () => {
          stream(i);
          running--;
          // Two finished: a request that arrived late had its chance to run beside them (see the module comment).
          if (++finished >= 2) decide();
        },
        (error: unknown) => {
          if (streamed[i]) running--;
          failures.push(error);
          if (finished + failures.length >= n) decide();
        },
      ),
  );
  try {
    await decided;
    if (options.signal?.aborted) throw options.signal.reason;
    if (finished === 0 && most < n)
      throw failures.find((e) => !isAbort(e)) ?? failures[0] ?? new Error('parallelism probe: no request finished');
    return { slots: Math.max(1, most), atLeast: most >= n, ms: performance.now() - started };
  } finally {
    clearTimeout(timeout);
    options.signal?.removeEventListener('abort', stop);
    // The requests still queued or running are cancelled (a queued one costs the server nothing), and
    // every call settles before the probe returns, so none outlives it.
    if (!controller.signal.aborted) controller.abort(new Error('parallelism probe: measured'));
    await Promise.allSettled(calls);
  }
}
/** A random text for each probe request, so that no two share even their first character with any likelihood worth a cache. */
function nonceOf(i: number): string {
  const random = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(36).padStart(2, '0')).join('');
  return `${random}${i}`;
}

/** One measurement, as kept in memory and in the store. */
export interface ParallelismRecord {
  readonly host: string;
  readonly model: string;
  readonly slots: number;
  readonly atLeast: boolean;
  /** Epoch ms of the measurement. */
  readonly measuredAt: number;
  /** The server's version then, when it said. */
  readonly version?: string;
  /** Epoch ms: the latest keep-alive end `/api/ps` reported for the model since the measurement. */
  readonly loadedUntil?: number;
  /**
   * False when `/api/ps` did not list the model even right after the probe loaded it (another name for it,
   * a proxy in between): then only an unreachable server or another version says the server restarted.
   */
  readonly listed?: boolean;
}

/** Where measurements outlive the process (VS Code global state, a file in the CLI's cache directory). */
export interface ParallelismStore {
  read(): Promise<readonly ParallelismRecord[]> | readonly ParallelismRecord[];
  write(records: readonly ParallelismRecord[]): Promise<void> | void;
}

export interface ResolvedParallelism {
  readonly slots: number;
  readonly atLeast: boolean;
  /** `measured`: probed for this call; `cached`: an earlier measurement still holds; `fallback`: the probe failed. */
  readonly source: 'measured' | 'cached' | 'fallback';
  readonly record?: ParallelismRecord;
  /** Why it was measured again, or why it fell back. */
  readonly reason?: string;
}

export interface ServerParallelismOptions {
  readonly store?: ParallelismStore;
  /** The probe (tests give a fake). */
  readonly probe?: typeof probeParallelism;
  /** Epoch ms now (tests give a clock). */
  readonly now?: () => number;
  /** Slots assumed when the probe fails (Ollama's default: 1, which never overloads a server). */
  readonly fallback?: number;
  /** Told when a measurement changes (for a status display). */
  readonly onChange?: (record: ParallelismRecord | undefined, key: string) => void;
}

/** What a request asks for besides the port: the model and the call options every other call uses. */
export type ResolveOptions = Omit<ParallelismProbeOptions, 'requests' | 'tokens' | 'timeoutMs'>;

/** `llama3.2` and `llama3.2:latest` are one model to Ollama. */
const fullName = (model: string) => (model.slice(model.lastIndexOf('/') + 1).includes(':') ? model : `${model}:latest`);
const keyOf = (host: string, model: string) => `${host}|${fullName(model)}`;

/** One measurement per host and model, re-measured after a possible restart (see the module comment). */
export class ServerParallelism {
  private readonly records = new Map<string, ParallelismRecord>();
  /** Hosts a call could not reach since their records were made: measure again on their next request. */
  private readonly stale = new Set<string>();
  private readonly inFlight = new Map<string, Promise<ResolvedParallelism>>();
  private loaded: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ServerParallelismOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Reads the store now (else the first `resolve` does), so `known` has the stored measurements. */
  preload(): Promise<void> {
    return (this.loaded ??= this.load());
  }

  /** The last measurement for a host and model, if any (for the status tooltip and `/models`). */
  known(host: string, model: string): ParallelismRecord | undefined {
    return this.records.get(keyOf(host, model));
  }

  /** A call to `host` found it unreachable: its server may be restarting, so its next request measures again. */
  serverUnreachable(host: string): void {
    this.stale.add(host);
  }

  /**
   * The server's slots for `options.model`: the cached measurement while it still holds, else a new one.
   * Never rejects for a failed probe (it falls back, uncached); rejects only when `options.signal` aborts.
   */
  async resolve(llm: LlmPort, options: ResolveOptions, retried = false): Promise<ResolvedParallelism> {
    const key = keyOf(llm.host, options.model);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.resolveNow(llm, options).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    try {
      return await pending;
    } catch (error) {
      // Cancelled: as every port call reports it. Another caller's cancel stopped the probe this one shared: measure for this one.
      if (options.signal?.aborted) throw new LlmError('aborted', 'The request was cancelled.', { cause: error });
      if (!retried) return this.resolve(llm, options, true);
      throw error;
    }
  }

  private async resolveNow(llm: LlmPort, options: ResolveOptions): Promise<ResolvedParallelism> {
    await (this.loaded ??= this.load());
    const key = keyOf(llm.host, options.model);
    const record = this.records.get(key);
    const check = record ? await this.stillHolds(llm, record, options.signal) : { holds: false, reason: 'not measured yet' };
    if (record && check.holds) {
      if (check.loadedUntil !== record.loadedUntil) await this.save(key, { ...record, loadedUntil: check.loadedUntil });
      return { slots: record.slots, atLeast: record.atLeast, source: 'cached', record: this.records.get(key) };
    }
    this.stale.delete(llm.host);
    try {
      const probe = this.options.probe ?? probeParallelism;
      const [measured, version] = await Promise.all([probe(llm, options), llm.version(options.signal).catch(() => undefined)]);
      const after = await this.loadedUntil(llm, options.model, options.signal);
      const fresh: ParallelismRecord = {
        host: llm.host,
        model: options.model,
        slots: measured.slots,
        atLeast: measured.atLeast,
        measuredAt: this.now(),
        ...(version ? { version } : {}),
        ...(after !== undefined ? { loadedUntil: after } : {}),
        ...(llm.runningModels && after === undefined ? { listed: false } : {}),
      };
      await this.save(key, fresh);
      return { slots: fresh.slots, atLeast: fresh.atLeast, source: 'measured', record: fresh, reason: check.reason };
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      // Unreachable or missing model: the request itself will say so. Anything else: assume Ollama's default.
      const why = error instanceof Error ? error.message : String(error);
      return { slots: this.options.fallback ?? 1, atLeast: false, source: 'fallback', reason: `the probe failed: ${why}` };
    }
  }

  /** Whether `record` still describes the server (see the module comment for the rules). */
  private async stillHolds(
    llm: LlmPort,
    record: ParallelismRecord,
    signal: AbortSignal | undefined,
  ): Promise<{ holds: boolean; reason?: string; loadedUntil?: number }> {
    if (this.stale.has(llm.host)) return { holds: false, reason: 'the server was unreachable since the last measurement' };
    if (!llm.runningModels) return { holds: true, loadedUntil: record.loadedUntil };
    const unlisted = record.listed === false;
    try {
      const [version, until] = await Promise.all([
        record.version !== undefined ? llm.version(signal) : Promise.resolve(undefined),
        unlisted ? Promise.resolve(undefined) : this.loadedUntil(llm, record.model, signal),
      ]);
      if (record.version !== undefined && version !== record.version)
        return { holds: false, reason: `the server's version changed (${record.version} → ${version})` };
      if (unlisted) return { holds: true };
      const lastSeen = record.loadedUntil;
      if (until === undefined) {
        return lastSeen !== undefined && this.now() < lastSeen
          ? { holds: false, reason: 'the model was unloaded before its keep-alive ran out (a restart?)' }
          : { holds: false, reason: 'the model is not loaded (it may be a new server)' };
      }
      if (lastSeen === undefined || this.now() >= lastSeen)
        return { holds: false, reason: 'the keep-alive seen last ran out (the model may have been loaded again)' };
      return { holds: true, loadedUntil: Math.max(lastSeen, until) };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { holds: false, reason: isLlmError(error, 'unreachable') ? 'the server was unreachable' : 'the server could not be asked' };
    }
  }

  /** Epoch ms the model stays loaded until, per `/api/ps`; undefined when it is not loaded (or the port cannot say). */
  private async loadedUntil(llm: LlmPort, model: string, signal: AbortSignal | undefined): Promise<number | undefined> {
    if (!llm.runningModels) return undefined;
    const running = await llm.runningModels(signal);
    const entry = running.find((m) => fullName(m.name) === fullName(model));
    if (!entry) return undefined;
    return entry.expiresAt?.getTime() ?? Number.MAX_SAFE_INTEGER;
  }

  private async load(): Promise<void> {
    try {
      for (const r of (await this.options.store?.read()) ?? []) {
        if (isRecord(r)) this.records.set(keyOf(r.host, r.model), r);
      }
    } catch {
      // An unreadable store only costs a measurement.
    }
  }

  private async save(key: string, record: ParallelismRecord): Promise<void> {
    const changed = this.records.get(key)?.slots !== record.slots;
    this.records.set(key, record);
    try {
      await this.options.store?.write([...this.records.values()]);
    } catch {
      // Not persisted: measured again in the next process.
    }
    if (changed) this.options.onChange?.(record, key);
  }
}

function isRecord(value: unknown): value is ParallelismRecord {
  const r = value as ParallelismRecord;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.host === 'string' &&
    typeof r.model === 'string' &&
    Number.isInteger(r.slots) &&
    r.slots >= 1 &&
    typeof r.atLeast === 'boolean' &&
    typeof r.measuredAt === 'number'
  );
}

/** A measurement in words, for the status tooltip and `/models`: "runs 4 requests at once (measured)". */
export function describeParallelism(p: { readonly slots: number; readonly atLeast: boolean } | undefined, configured?: number): string {
  if (configured !== undefined) return `${configured} ${configured === 1 ? 'request' : 'requests'} at once (set in the settings)`;
  if (!p) return 'requests at once: not measured yet (measured on the first request)';
  return `server runs ${p.atLeast ? 'at least ' : ''}${p.slots} ${p.slots === 1 ? 'request' : 'requests'} at once (measured)`;
}
