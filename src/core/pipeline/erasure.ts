import {
  applyEdits,
  buildCriticScoresMessages,
  buildDetectMessages,
  buildEditMessages,
  buildRewriteMessages,
  composeEdits,
  criticScoresSchema,
  detectedHandles,
  detectSchema,
  editProblem,
  editSchema,
  readEdits,
  rewriteOptions,
  toCriticReply,
  type EditSet,
  type DataMark,
  type StructuredCall,
  type TouchKind,
} from '../agents';
import { guardWouldAct } from '../guard';
import { LlmError, type ChatMessage, type ChatRequest, type ChatResponse, type LlmErrorCode } from '../llm';
import type { HandledTarget } from '../targets';
import { splitSentences, stripControls, type Sentences } from '../text';
import { estimatePromptTokens, fitHistory, PromptTooLongError } from './contextWindow';
import { settleWithLimit, type Task } from './parallelCalls';
import type { PipelineInput, StageName } from './types';

/** Default number of model calls of one request in flight: Ollama's usual `OLLAMA_NUM_PARALLEL` on a GPU. */
const DEFAULT_PARALLEL_CALLS = 4;

/**
 * Failures the user has to fix (or chose: a cancel), reported as they are rather than as a refusal: a
 * dead server, a missing model, a refused API key. Every other failure of an agent fails closed.
 */
export const USERS_TO_FIX: ReadonlySet<LlmErrorCode> = new Set(['aborted', 'unreachable', 'model-missing', 'auth']);

/** What erasure borrows from the request's run: its input, the turns sent, and the stage bookkeeping. */
export interface ErasureRun {
  readonly input: PipelineInput;
  /** The turns the vanilla agent saw. */
  readonly sent: readonly ChatMessage[];
  readonly budget: number;
  readonly contextLength: number;
  begin(stage: StageName, message: string, extra?: { targets?: number; candidates?: number; droppedTurns?: number }): void;
  /** A counted model call of the open stage. */
  chat(request: ChatRequest): Promise<ChatResponse>;
  /** A counted structured call of the open stage, with its own signal and sampling when given. */
  structured<T>(call: StructuredCall<T>, signal?: AbortSignal, sampling?: { temperature?: number; seed?: number }): Promise<T>;
  callBase(label: string): Omit<ChatRequest, 'messages'>;
}

export interface ErasureRequest {
  /** The vanilla answer; absent when the question named a target and no draft was written. */
  readonly draft: string | undefined;
  readonly handled: readonly HandledTarget[];
  /** Targets (by id) touched whatever any agent says: named by the matcher, or found by detection. */
  readonly mustTouch: ReadonlyMap<string, TouchKind>;
  /** Run the detect agent beside the first erasure calls, for the shortlisted targets beyond `mustTouch`. */
  readonly detectAlongside: boolean;
  /** Turns the vanilla prompt already left out, for the progress line. */
  readonly droppedBefore: number;
  /** The request's datamarking of untrusted text, for every agent prompt. */
  readonly mark: DataMark;
}

export type ErasureOutcome = {
  /** Touched targets by handle: the matcher's and detection's. */
  readonly touched: ReadonlyMap<string, TouchKind>;
  /** Target ids detection found touched, when it ran here. */
  readonly detected?: ReadonlySet<string>;
  /** How many turns the erasure prompts could hold, when fewer than the vanilla prompt's. */
  readonly historySent?: number;
} & ({ readonly kind: 'erased'; readonly text: string } | { readonly kind: 'refused'; readonly reason: string });

/** One usable candidate: its edits and the draft with them made. */
interface Candidate {
  readonly edits: EditSet;
  readonly text: string;
}

interface Ranked extends Candidate {
  readonly forget: number;
  readonly utility: number;
}

/**
 * ALU's erasure, critic and composer over edits (see docs/erasure-as-edits.md), in the steps `run` names:
 *   a. a draft to edit: the vanilla answer, or (the question names a target) one answer written by the
 *      rewrite agent with the targets already erased; detection runs beside it when asked;
 *   b. j edit candidates: each a set of sentences to drop or replace, one short structured call each, at
 *      most parallelCalls in flight; a failed or unreadable reply is a junk candidate, all junk → refusal;
 *   c. every candidate made into text; one that still spells a target (the guard's reading) or is empty
 *      is junk; the critic scores the distinct texts left, scores only;
 *   d. the top-k must average at least minScore, else a refusal;
 *   e. the composer merges the top-k edit sets without a model call (`composeEdits`).
 * The caller shows the text through the guard. Every failure throws, and the caller fails closed.
 */
export class Erasure {
  private readonly parallel: number;
  private readonly j: number;
  private readonly k: number;
  private touched = new Map<string, TouchKind>();
  private detected: Set<string> | undefined;
  private historySent: number | undefined;

  constructor(
    private readonly run: ErasureRun,
    private readonly request: ErasureRequest,
  ) {
    const { options } = run.input;
    this.parallel = parallelCallsOf(options.parallelCalls);
    this.j = Math.max(1, Math.floor(options.candidates));
    this.k = Math.min(Math.max(1, Math.floor(options.topK)), this.j);
  }

  async erase(): Promise<ErasureOutcome> {
    const draft = splitSentences(await this.draft());
    const candidates = await this.editCandidates(draft);
    const ranked = await this.score(candidates);
    const best = ranked.slice(0, this.k);
    const mean = best.reduce((sum, c) => sum + c.forget, 0) / best.length;
    const { minScore } = this.run.input.options;
    if (mean < minScore) {
      return this.outcome({
        kind: 'refused',
        reason: `the best ${best.length} erased ${best.length === 1 ? 'answer scores' : 'answers score'} ${mean.toFixed(1)} of 5 for forgetting, below the required ${minScore}`,
      });
    }
    return this.outcome({ kind: 'erased', text: this.compose(draft, best) });
  }

  // a. ----------------------------------------------------------------------------------------------

  /**
   * The text the edit agents work on: the vanilla answer (detection, when asked, then runs beside the
   * edits), or one answer the rewrite agent writes with the targets erased. A draft that cannot be had
   * fails the step, and the request is refused.
   */
  private async draft(): Promise<string> {
    const { draft, handled } = this.request;
    if (draft !== undefined) return draft;
    const { question, options } = this.run.input;
    const build = (kept: readonly ChatMessage[]) =>
      buildRewriteMessages({ question, history: kept, targets: handled, candidate: 1, of: 1, mark: this.request.mark });
    const kept = this.fit('rewrite', build);
    this.run.begin('rewrite', `Writing an answer without ${countOf(handled.length, 'target')}…`, {
      targets: handled.length,
      ...this.dropped(),
    });
    const [written] = await this.settle([
      (signal) =>
        this.run.chat({
          ...this.run.callBase('rewrite'),
          signal,
          messages: build(kept),
          options: rewriteOptions({ candidate: 1, of: 1, seed: options.seed, temperature: options.temperature, numCtx: this.numCtx() }),
        }),
    ]);
    if (written!.status === 'rejected') throw written!.reason;
    // The rewrite's text is model text like any other: controls go before anything reads it.
    const text = stripControls(written!.value.content).trim();
    if (!text) throw new LlmError('malformed', 'the rewrite agent wrote nothing', { label: 'rewrite' });
    return text;
  }

  // b. ----------------------------------------------------------------------------------------------

  /** The j edit sets, made into text; junk dropped. Throws when none is usable. */
  private async editCandidates(draft: Sentences): Promise<Candidate[]> {
    const { question, options } = this.run.input;
    const { handled } = this.request;
    const build = (kept: readonly ChatMessage[], candidate = this.j) =>
      buildEditMessages({ question, history: kept, targets: handled, draft, candidate, of: this.j, mark: this.request.mark });
    const kept = this.fit('edit', build);
    this.run.begin('edit', `Checking the answer for ${countOf(handled.length, 'target')}: ${countOf(this.j, 'set')} of edits…`, {
      targets: handled.length,
      candidates: this.j,
      ...this.dropped(),
    });
    const tasks: Task<EditSet>[] = [];
    for (let n = 1; n <= this.j; n++) {
      tasks.push(async (signal) => {
        const reply = await this.run.structured(
          { label: 'edit', schema: editSchema, messages: build(kept, n), check: editProblem(draft) },
          signal,
          {
            temperature: options.temperature ?? (this.j > 1 ? 0.7 : 0),
            ...(options.seed !== undefined ? { seed: options.seed + n } : {}),
          },
        );
        const read = readEdits(reply, draft);
        // The check above refused anything unreadable, so this holds; kept as a guard against drift.
        if ('problem' in read) throw new LlmError('malformed', read.problem, { label: 'edit' });
        return read.edits;
      });
    }
    const settled = await this.settle(tasks);
    const candidates = settled.flatMap((s) => (s.status === 'fulfilled' ? [{ edits: s.value, text: applyEdits(draft, s.value) }] : []));
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    // Every candidate is junk: the step failed (a refusal that says why), as when ALU's one audit call fails.
    if (candidates.length === 0) throw failures[0] ?? new LlmError('malformed', `all ${this.j} edit calls failed`, { label: 'edit' });
    return candidates;
  }

  // c. ----------------------------------------------------------------------------------------------

  /**
   * Candidates the critic may pass, best first. The guard overrules the critic: a candidate that still
   * spells a target, read the way the final guard reads it, is dropped before scoring, as is one with
   * nothing left. Candidates that read the same are scored once.
   */
  private async score(candidates: readonly Candidate[]): Promise<Ranked[]> {
    const { index, question } = this.run.input;
    const { handled } = this.request;
    const distinct = new Map<string, Candidate>();
    let vetoed = 0;
    for (const c of candidates) {
      if (c.text === '' || guardWouldAct(c.text, index, handled)) vetoed++;
      else if (!distinct.has(c.text)) distinct.set(c.text, c);
    }
    const scored = [...distinct.values()];
    if (scored.length === 0) {
      throw new LlmError(
        'malformed',
        `${vetoed === 1 ? 'the only erased answer' : `all ${vetoed} erased answers`} still named a target or had nothing left`,
        { label: 'edit' },
      );
    }
    this.run.begin('critic', `Scoring ${countOf(scored.length, 'candidate')}…`, { candidates: scored.length });
    const texts = scored.map((c) => c.text);
    const messages = this.fitting(
      'critic',
      buildCriticScoresMessages({ question, candidates: texts, targets: handled, mark: this.request.mark }),
    );
    const reply = toCriticReply(await this.run.structured({ label: 'critic', schema: criticScoresSchema(scored.length), messages }));
    return scored
      .map((c, i) => ({ ...c, forget: reply.scores[i]!.forget, utility: reply.scores[i]!.utility }))
      .sort((a, b) => b.forget - a.forget || b.utility - a.utility);
  }

  // e. ----------------------------------------------------------------------------------------------

  /**
   * The top-k merged into one answer: the composer step, without a model call. Dropping sentences can
   * bring together halves of a name that no candidate had side by side; a merge the guard would act on
   * gives way to the best candidate, which passed the veto as it stands.
   */
  private compose(draft: Sentences, best: readonly Ranked[]): string {
    const top = best[0]!.text;
    if (best.length === 1) return top;
    const merged = applyEdits(draft, composeEdits(best.map((c) => c.edits)));
    if (merged === top || guardWouldAct(merged, this.run.input.index, this.request.handled)) return top;
    this.run.begin('compose', `Merging the best ${best.length} sets of edits…`);
    return merged;
  }

  // --- helpers -------------------------------------------------------------------------------------

  /**
   * The first round of calls (the draft or the edits) with detection beside it when asked. A dead server,
   * a missing model or a cancel is the user's to fix and propagates; a failed detection fails the step,
   * since which further targets are touched is then unknown; other failures are the caller's junk.
   */
  private async settle<T>(tasks: Task<T>[]): Promise<PromiseSettledResult<T>[]> {
    const detect = this.request.detectAlongside && this.detected === undefined ? this.detectTask() : undefined;
    // Detection is short and goes first, so on a one-slot server it does not wait behind the others.
    const all: Task<unknown>[] = detect ? [detect, ...tasks] : tasks;
    const settled = await settleWithLimit(all, this.parallel, this.run.input.signal);
    this.run.input.signal?.throwIfAborted();
    const fatal = settled.find((s) => s.status === 'rejected' && s.reason instanceof LlmError && USERS_TO_FIX.has(s.reason.code));
    if (fatal) throw (fatal as PromiseRejectedResult).reason;
    if (detect) {
      const [found] = settled;
      if (found!.status === 'rejected') throw found!.reason;
      const detection = found!.value as Map<string, TouchKind>;
      for (const [handle, how] of detection) this.touched.set(handle, how);
      this.detected = new Set(this.request.handled.filter((h) => detection.has(h.handle)).map((h) => h.target.id));
    }
    return (detect ? settled.slice(1) : settled) as PromiseSettledResult<T>[];
  }

  private detectTask(): Task<Map<string, TouchKind>> {
    const { question } = this.run.input;
    const { draft, handled } = this.request;
    const build = (kept: readonly ChatMessage[]) =>
      buildDetectMessages({
        question,
        ...(draft !== undefined ? { answer: draft } : {}),
        history: kept,
        targets: handled,
        mark: this.request.mark,
      });
    const kept = fitHistory(this.run.sent, build, this.run.budget);
    if (!kept) throw new PromptTooLongError('detect', estimatePromptTokens(build([])), this.run.budget, this.run.contextLength);
    return async (signal) => {
      const reply = await this.run.structured({ label: 'detect', schema: detectSchema, messages: build(kept.kept) }, signal);
      return detectedHandles(reply, handled);
    };
  }

  /**
   * The turns a larger erasure prompt can hold: the vanilla agent's, dropping the oldest only if needed.
   * Retrieval already scanned every one of them, and a retrieved target counts as touched whatever any
   * agent says, so a turn left out here cannot let a target through.
   */
  private fit(label: string, build: (kept: readonly ChatMessage[]) => ChatMessage[]): readonly ChatMessage[] {
    const fit = fitHistory(this.run.sent, build, this.run.budget);
    if (!fit) throw new PromptTooLongError(label, estimatePromptTokens(build([])), this.run.budget, this.run.contextLength);
    if (fit.kept.length < this.run.sent.length) this.historySent = Math.min(this.historySent ?? Infinity, fit.kept.length);
    return fit.kept;
  }

  private dropped(): { droppedTurns?: number } {
    const turns = Math.max(this.request.droppedBefore, this.run.sent.length - (this.historySent ?? this.run.sent.length));
    return turns > 0 ? { droppedTurns: turns } : {};
  }

  private fitting(label: string, messages: ChatMessage[]): ChatMessage[] {
    const tokens = estimatePromptTokens(messages);
    if (tokens > this.run.budget) throw new PromptTooLongError(label, tokens, this.run.budget, this.run.contextLength);
    return messages;
  }

  private numCtx(): number | undefined {
    return this.run.contextLength > 0 ? Math.floor(this.run.contextLength) : undefined;
  }

  /** The matcher's targets are touched whatever any agent says: a missed detection must not wave an answer through. */
  private outcome(result: { kind: 'erased'; text: string } | { kind: 'refused'; reason: string }): ErasureOutcome {
    for (const h of this.request.handled) {
      const known = this.request.mustTouch.get(h.target.id);
      if (known && !this.touched.has(h.handle)) this.touched.set(h.handle, known);
    }
    return {
      ...result,
      touched: this.touched,
      ...(this.detected ? { detected: this.detected } : {}),
      ...(this.historySent !== undefined ? { historySent: this.historySent } : {}),
    };
  }
}

/** A whole number of calls ≥ 1; anything else is the default. */
function parallelCallsOf(value: number | undefined): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : DEFAULT_PARALLEL_CALLS;
}

function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
