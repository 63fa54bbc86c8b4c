import { callStructured, type StructuredCall } from '../agents';
import type { ChatRequest, ChatResponse } from '../llm';
import { estimatePromptTokens, numCtxOption } from './contextWindow';
import type { PipelineEvent, PipelineInput, PipelineResult, StageName, StageRecord } from './types';

/** The answer when targets are touched and no erased candidate is good enough, or an agent failed. */
export const REFUSAL = "I can't help with that: answering would reveal information this workspace has asked me to forget.";

/**
 * How long Ollama keeps the model loaded after each call (`keep_alive`). Ollama's own default is 5
 * minutes; a model unloaded between two questions costs its load time (seconds for a 3B model, more
 * for larger ones) on the next request, so every call asks for half an hour.
 */
export const KEEP_ALIVE = '30m';

/** A result's totals: every stage run so far, its model calls and tokens, and the time since the start. */
export type RunTotals = Pick<PipelineResult, 'stages' | 'calls' | 'promptTokens' | 'completionTokens' | 'totalMs'>;

/**
 * The bookkeeping of one request: its stages (each with a progress line, its time, its model calls
 * and their tokens), and the model calls themselves, so every call is counted in the open stage.
 */
export class RunRecord {
  private readonly stages: StageRecord[] = [];
  private readonly started = performance.now();
  private open: { stage: StageName; start: number; calls: number; promptTokens: number; completionTokens: number } | undefined;

  constructor(
    private readonly input: PipelineInput,
    private readonly contextLength: number,
    private readonly budget: number,
    private readonly emit: (event: PipelineEvent) => void,
  ) {}

  begin(stage: StageName, message: string, extra: { targets?: number; candidates?: number; droppedTurns?: number } = {}): void {
    this.close();
    this.input.signal?.throwIfAborted();
    this.open = { stage, start: performance.now(), calls: 0, promptTokens: 0, completionTokens: 0 };
    this.emit({ type: 'stage-start', stage, message, ...extra });
  }

  close(): void {
    if (!this.open) return;
    const { stage, start, calls, promptTokens, completionTokens } = this.open;
    const ms = performance.now() - start;
    this.stages.push({ stage, ms, calls, promptTokens, completionTokens });
    this.emit({ type: 'stage-end', stage, ms });
    this.open = undefined;
  }

  stage<T>(stage: StageName, message: string, work: () => T): T {
    this.begin(stage, message);
    const value = work();
    this.close();
    return value;
  }

  /** Closes the open stage and sums every stage so far. */
  totals(): RunTotals {
    this.close();
    const sum = (f: (s: StageRecord) => number) => this.stages.reduce((n, s) => n + f(s), 0);
    return {
      stages: [...this.stages],
      calls: sum((s) => s.calls),
      promptTokens: sum((s) => s.promptTokens),
      completionTokens: sum((s) => s.completionTokens),
      totalMs: performance.now() - this.started,
    };
  }

  /** A model call of the open stage; its call and tokens are counted. */
  async chat(request: ChatRequest): Promise<ChatResponse> {
    const response = await this.input.llm.chat(request);
    this.count([response]);
    return response;
  }

  /** A structured call of the open stage, with the reply's text; retries are counted too. */
  async structured<T>(
    call: StructuredCall<T>,
    signal = this.input.signal,
    sampling: { temperature?: number; seed?: number } = {},
  ): Promise<{ value: T; content: string }> {
    const { options } = this.input;
    const r = await callStructured(this.input.llm, call, {
      model: options.model,
      signal,
      keepAlive: KEEP_ALIVE,
      firstTokenTimeoutMs: options.firstTokenTimeoutMs,
      totalTimeoutMs: options.totalTimeoutMs,
      seed: sampling.seed ?? options.seed,
      ...(sampling.temperature !== undefined ? { temperature: sampling.temperature } : {}),
      numCtx: numCtxOption(this.contextLength).num_ctx,
      fits: (messages) => estimatePromptTokens(messages) <= this.budget,
    });
    this.count(r.responses);
    // The reply as the model wrote it: the next agent's call continues the thread after it (thread.ts).
    return { value: r.value, content: r.responses.at(-1)!.content };
  }

  private count(responses: readonly ChatResponse[]): void {
    if (!this.open) return;
    for (const r of responses) {
      this.open.calls += 1;
      this.open.promptTokens += r.promptTokens ?? 0;
      this.open.completionTokens += r.completionTokens ?? 0;
    }
  }

  callBase(label: string) {
    const { options, signal } = this.input;
    return {
      model: options.model,
      signal,
      firstTokenTimeoutMs: options.firstTokenTimeoutMs,
      totalTimeoutMs: options.totalTimeoutMs,
      label,
      keepAlive: KEEP_ALIVE,
    };
  }

  /** The vanilla call's sampling options: the user's temperature and seed, and the context window. */
  sampling() {
    const { temperature, seed } = this.input.options;
    return {
      ...(temperature !== undefined ? { temperature } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...numCtxOption(this.contextLength),
    };
  }
}
