import {
  applyEdits,
  buildCriticScoresMessages,
  buildEditMessages,
  buildRewriteMessages,
  buildVanillaMessages,
  composeEdits,
  criticScoresSchema,
  detectedHandles,
  editCandidatesSchema,
  editProblem,
  readEdits,
  rewriteOptions,
  toCriticReply,
  type EditSet,
  type DataMark,
  type StructuredCall,
  type Thread,
  type TouchKind,
} from '../agents';
import { guardWouldAct } from '../guard';
import { LlmError, type ChatMessage, type ChatRequest, type ChatResponse, type LlmErrorCode } from '../llm';
import type { HandledTarget } from '../targets';
import { defuseTemplateTokens, splitSentences, stripControls, type Sentences } from '../text';
import { estimatePromptTokens, fitHistory, PromptTooLongError } from './contextWindow';
import type { PipelineInput, StageName } from './types';

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
  /** A counted structured call of the open stage, with its own signal and sampling when given; its value and reply text. */
  structured<T>(
    call: StructuredCall<T>,
    signal?: AbortSignal,
    sampling?: { temperature?: number; seed?: number },
  ): Promise<{ value: T; content: string }>;
  callBase(label: string): Omit<ChatRequest, 'messages'>;
}

export interface ErasureRequest {
  /** The vanilla answer (control characters stripped); absent when the question named a target and no draft was written. */
  readonly draft: string | undefined;
  /** The draft as the model wrote it (or the caller gave it): the assistant turn the agents' thread continues. */
  readonly written?: string;
  readonly handled: readonly HandledTarget[];
  /** Targets (by id) touched whatever any agent says: named by the matcher, or found by detection. */
  readonly mustTouch: ReadonlyMap<string, TouchKind>;
  /** Read which shortlisted targets beyond `mustTouch` the edit agent finds touched (for /explain; all are erased). */
  readonly readTouched: boolean;
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

/** One usable candidate: its number in the edit reply (1-based), its edits and the draft with them made. */
interface Candidate {
  readonly n: number;
  readonly edits: EditSet;
  readonly text: string;
}

interface Ranked extends Candidate {
  readonly forget: number;
  readonly utility: number;
}

/**
 * ALU's erasure, critic and composer over edits (see docs/erasure-as-edits.md), in the steps `erase`
 * names. Every call continues one thread (agents/thread.ts): the vanilla prompt, the draft as the
 * assistant turn, then each agent's task and reply in turn, so each call evaluates only its own task
 * and the calls of a request run one after another on the server's cached conversation.
 *   a. a draft to edit: the vanilla answer, or (the question names a target) one answer written by the
 *      rewrite agent with the targets already erased;
 *   b. the edit agent (ALU's AuditErase): one structured call that names the touched targets and writes
 *      j candidate sets of edits, each a set of sentences to drop or replace; an unreadable candidate is
 *      junk, all junk → asked once more, then a refusal;
 *   c. every candidate made into text; one that still spells a target (the guard's reading) or is empty
 *      is junk; the critic scores the distinct ones left, scores only;
 *   d. the top-k must average at least minScore, else a refusal;
 *   e. the composer merges the top-k edit sets without a model call (`composeEdits`).
 * The caller shows the text through the guard. Every failure throws, and the caller fails closed.
 */
export class Erasure {
  private readonly j: number;
  private readonly k: number;
  private readonly touched = new Map<string, TouchKind>();
  private detected: Set<string> | undefined;
  private historySent: number | undefined;
  /** What the thread holds after the vanilla prompt: the draft's turn, then each agent's task and reply. */
  private tail: ChatMessage[] = [];

  constructor(
    private readonly run: ErasureRun,
    private readonly request: ErasureRequest,
  ) {
    const { options } = run.input;
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
   * The text the edit agent works on: the vanilla answer, or one answer the rewrite agent writes with the
   * targets erased. A draft that cannot be had fails the step, and the request is refused.
   */
  private async draft(): Promise<string> {
    const { draft, handled, written } = this.request;
    if (draft !== undefined) {
      this.tail = [{ role: 'assistant', content: defuseTemplateTokens(written ?? draft) }];
      return draft;
    }
    const { options } = this.run.input;
    const build = (kept: readonly ChatMessage[]) => buildRewriteMessages({ thread: this.lead(kept), targets: handled });
    const messages = build(this.fit('rewrite', build));
    this.run.begin('rewrite', `Writing an answer without ${countOf(handled.length, 'target')}…`, {
      targets: handled.length,
      ...this.dropped(),
    });
    const reply = await this.run.chat({
      ...this.run.callBase('rewrite'),
      messages,
      options: rewriteOptions({ candidate: 1, of: 1, seed: options.seed, temperature: options.temperature, numCtx: this.numCtx() }),
    });
    // The rewrite's text is model text like any other: controls go before anything reads it.
    const text = stripControls(reply.content).trim();
    if (!text) throw new LlmError('malformed', 'the rewrite agent wrote nothing', { label: 'rewrite' });
    // Model text joins the thread with any chat-template token it wrote defused, as user text is (thread.ts).
    this.tail = [messages.at(-1)!, { role: 'assistant', content: defuseTemplateTokens(reply.content) }];
    return text;
  }

  // b. ----------------------------------------------------------------------------------------------

  /** The j edit sets of one call, made into text; junk dropped. Throws when none is usable. */
  private async editCandidates(draft: Sentences): Promise<Candidate[]> {
    const { options } = this.run.input;
    const { handled, mark } = this.request;
    const build = (kept: readonly ChatMessage[]) =>
      buildEditMessages({ thread: this.thread(kept), targets: handled, draft, candidates: this.j, mark });
    const messages = build(this.fit('edit', build));
    this.run.begin('edit', `Checking the answer for ${countOf(handled.length, 'target')}: ${countOf(this.j, 'set')} of edits…`, {
      targets: handled.length,
      candidates: this.j,
      ...this.dropped(),
    });
    const reply = await this.run.structured(
      { label: 'edit', schema: editCandidatesSchema(this.j), messages, check: editProblem(draft) },
      undefined,
      options.seed !== undefined ? { seed: options.seed } : {},
    );
    this.tail.push(messages.at(-1)!, { role: 'assistant', content: defuseTemplateTokens(reply.content) });
    if (this.request.readTouched) {
      const found = detectedHandles(reply.value, handled);
      for (const [handle, how] of found) this.touched.set(handle, how);
      this.detected = new Set(handled.filter((h) => found.has(h.handle)).map((h) => h.target.id));
    }
    // The check above made sure at least one candidate reads; the others are junk.
    return reply.value.candidates.flatMap((c, i) => {
      const read = readEdits(c, draft);
      return 'edits' in read ? [{ n: i + 1, edits: read.edits, text: applyEdits(draft, read.edits) }] : [];
    });
  }

  // c. ----------------------------------------------------------------------------------------------

  /**
   * Candidates the critic may pass, best first. The guard overrules the critic: a candidate that still
   * spells a target, read the way the final guard reads it, is dropped before scoring, as is one with
   * nothing left. Candidates that read the same are scored once.
   */
  private async score(candidates: readonly Candidate[]): Promise<Ranked[]> {
    const { index } = this.run.input;
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
    const build = (kept: readonly ChatMessage[]) =>
      buildCriticScoresMessages({ thread: this.thread(kept), candidates: scored.map((c) => c.n) });
    const messages = build(this.fit('critic', build));
    const { value } = await this.run.structured({ label: 'critic', schema: criticScoresSchema(scored.length), messages });
    const reply = toCriticReply(value);
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

  /** The vanilla prompt with these earlier turns: where every agent's thread starts. */
  private lead(kept: readonly ChatMessage[]): Thread {
    return buildVanillaMessages(this.run.input.question, kept);
  }

  /** The thread so far: the vanilla prompt, then the draft's turn and the agents' tasks and replies. */
  private thread(kept: readonly ChatMessage[]): Thread {
    return [...this.lead(kept), ...this.tail];
  }

  /**
   * The turns a call's prompt can hold: the vanilla agent's, dropping the oldest only if needed (the
   * thread then no longer starts as the cached prompt does, which costs time, not safety). Retrieval
   * already scanned every one of them, and a retrieved target counts as touched whatever any agent
   * says, so a turn left out here cannot let a target through.
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

function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
