import { assignHandles, type HandledTarget, type ForgetTarget } from '../targets';
import {
  buildDetectMessages,
  buildVanillaMessages,
  createDataMark,
  requestMarkerPick,
  detectedHandles,
  detectSchema,
  unmarkingPort,
  type DataMark,
  type StructuredCall,
  type TouchKind,
} from '../agents';
import { isAbort, LlmError, type ChatMessage, type ChatRequest, type ChatResponse } from '../llm';
import { DEFAULT_CONTEXT_LENGTH, estimatePromptTokens, fitHistory, promptBudget, PromptTooLongError } from './contextWindow';
import { Erasure, USERS_TO_FIX, type ErasureRun } from './erasure';
import { finalizeAnswer, type Finalized } from '../guard';
import { defuseTemplateTokens, sanitizeUserText, stripControls } from '../text';
import { sanitizeUserInput } from './userInput';
import { SENTENCE_END, type SentenceGate } from './sentenceGate';
import {
  completeUpTo,
  encodingRequest,
  KEYWORD_THRESHOLD,
  keywordTokens,
  explainRelevance,
  splitSentences,
  firstReport,
  relevanceOf,
  type EncodingRequest,
  type QueryVectors,
  type Relevance,
  type RelevanceReport,
  type RequestPart,
  AUDIT_POLICIES,
  type AuditPolicy,
} from '../relevance';
import { bindingTouches, evidenceParts, historyParts, reasonLookup, withAnswerVectors } from './retrieval';
import { REFUSAL, RunRecord } from './runRecord';
import { showChecked, type ShownRun } from './shownAnswer';
import { streamUntouched, type UntouchedStream } from './vanillaStream';
import type { PipelineEvent, PipelineInput, PipelineOutcome, PipelineResult, StageName } from './types';

export { KEEP_ALIVE, REFUSAL } from './runRecord';

/**
 * The answer when the question cannot fit the context window even without any earlier turn. Each front
 * end adds how to raise the window (a setting in VS Code, a flag in the CLI).
 */
export const TOO_LONG =
  "I can't answer this: the question is too long for the model's context window. Shorten it, or raise the context length.";

/**
 * The ALU algorithm with Unlearn's additions, arranged for latency:
 *   0. the history is trimmed from its oldest turn until the vanilla prompt fits the context window;
 *   1. the lexical matcher finds the targets the question and every history turn sent to the model
 *      name (a many-shot prompt that named a target 30 turns ago still counts); meanwhile the question
 *      and history are embedded;
 *   2. a target is named there, or (once the question's vectors are in) the question binds one by a
 *      sure-band score, or the detect agent reading the question alone finds one in the uncertain band →
 *      no vanilla draft (whatever it said would be erased): erasure (6) starts with a draft the rewrite
 *      agent writes with the shortlisted targets erased;
 *   3. otherwise the vanilla agent answers, streamed sentence by sentence while no sentence touches a
 *      target (`always` shows nothing before erasure); an opening (two sentences) that binds a target
 *      stops it, nothing shown, and step 2's rewrite answers instead; relevance shortlists by keywords and
 *      meaning over question, history and answer (auditPolicy: `named` skips this, `always` fills the
 *      shortlist even below the thresholds); only shortlisted targets reach any prompt;
 *   4. empty shortlist → the vanilla answer stands, after the guard;
 *   5. binding evidence (a spelled name, alias or name part, or a score in the sure band) → erasure with
 *      no detection call; otherwise the detect agent says which shortlisted targets the answer touches
 *      (not those it cleared on the question); none → the answer stands, after the guard and the meaning check;
 *   6. erasure as edits (erasure.ts): one call of the edit agent names the touched targets and writes j
 *      candidate sets of sentences to drop or replace (an unreadable candidate is junk; none usable →
 *      asked once more, then a refusal); a named or detected target is touched whatever any agent says;
 *   7. each edit set is made into text; the guard vetoes one that still spells a target; the critic scores
 *      the distinct ones left by number, scores only;
 *   8. the top-k must average at least minScore, else a refusal;
 *   9. the composer merges the top-k edit sets without a model call (a sentence any of them changed is
 *      changed, as the best-ranked of them changed it), and the text goes through the guard;
 *  10. the meaning check reads the final text sentence by sentence against the shortlist before it is
 *      shown.
 * Every agent call continues one conversation (agents/thread.ts): the vanilla prompt as sent, the draft
 * as written, the earlier agents' tasks and replies, its own task last, so the server's prompt cache
 * serves the conversation and the calls run one after another on it.
 * Any agent failure other than an unreachable server, a missing model or a cancel ends in a refusal.
 * A failing embedding model does not: the request goes on with names and keywords, and says so once.
 * Every call asks Ollama to keep the model loaded (KEEP_ALIVE).
 */
export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  // One datamark per request: every agent prompt marks its untrusted text with it, and every agent
  // reply is unmarked before anything reads it (see datamark.ts).
  const sanitized = sanitizeUserInput(input);
  const mark = createDataMark(requestMarkerPick(JSON.stringify([sanitized.question, sanitized.history ?? []])));
  const run = new Run({ ...sanitized, llm: unmarkingPort(sanitized.llm, mark) }, mark);
  try {
    return await run.execute();
  } catch (error) {
    if (isAbort(error) || input.signal?.aborted) throw new LlmError('aborted', 'The request was cancelled.', { cause: error });
    throw error;
  }
}

class Run implements ErasureRun, ShownRun {
  /** Every earlier turn the caller gave (user and assistant only). */
  private readonly history: readonly ChatMessage[];
  /** Tool results and the like, cleaned as user text is; read whole by the matcher and relevance. */
  private readonly evidence: readonly string[];
  /** The turns that fit the vanilla prompt: what the model sees, so what retrieval must scan. */
  sent: readonly ChatMessage[] = [];
  /** How many of `sent` the audit prompt could hold, when fewer. */
  private auditSent: number | undefined;
  readonly contextLength: number;
  /** Prompt tokens one call may use; the rest of the window is the reply's. */
  readonly budget: number;

  readonly policy: AuditPolicy;
  /**
   * The question asks to encode, encipher, spell out, transliterate, reverse or play a letter game: it is
   * assessed and audited under `always` rules whatever the policy (so it touches a target by any signal),
   * and a sentence of the answer that still holds a long run no word list reads is removed for the most
   * relevant shortlisted target (see encodingRequest.ts).
   */
  readonly encodingAsk: EncodingRequest | undefined;
  readonly relevance: Relevance;
  report: RelevanceReport | undefined;
  /** Stages, their model calls and tokens (runRecord.ts). */
  private readonly record: RunRecord;
  /** Target ids the detect agent found touched, when it ran. */
  detected: Set<string> | undefined;

  constructor(
    readonly input: PipelineInput,
    private readonly mark: DataMark,
  ) {
    this.encodingAsk = encodingRequest(input.question);
    // An encoding request runs under `always` rules: every signal, the lowest thresholds, no streamed draft.
    this.policy = this.encodingAsk
      ? 'always'
      : AUDIT_POLICIES.includes(input.options.auditPolicy as AuditPolicy)
        ? input.options.auditPolicy!
        : 'related';
    this.relevance = relevanceOf(input.index);
    this.history = (input.history ?? []).filter((m) => m.role !== 'system');
    // Read as shown and as written: a name hidden by an escape sequence still prints as the name.
    this.evidence = (input.evidence ?? []).flatMap((text) => {
      const clean = sanitizeUserText(text);
      return clean === text ? [text] : [clean, text];
    });
    const c = input.options.contextLength;
    this.contextLength = typeof c === 'number' && Number.isFinite(c) && c >= 0 ? Math.floor(c) : DEFAULT_CONTEXT_LENGTH;
    this.budget = promptBudget(this.contextLength);
    this.record = new RunRecord(input, this.contextLength, this.budget, (event) => this.emit(event));
  }

  async execute(): Promise<PipelineResult> {
    const { index, question } = this.input;

    const { draft } = this.input;
    // With a draft no vanilla prompt is built, so nothing is trimmed here: every turn is read, and the
    // agents' own prompts (fitted below) fail closed if even the question cannot fit them.
    const fitted =
      draft !== undefined ? { kept: this.history } : fitHistory(this.history, (kept) => buildVanillaMessages(question, kept), this.budget);
    this.sent = fitted?.kept ?? [];
    // A draft is model text: read as shown (controls stripped) and as written, like the vanilla answer.
    const drafted = draft !== undefined ? stripControls(draft) : undefined;
    const askedAbout = this.record.stage('retrieve', 'Finding forget targets…', () =>
      index.mentionedTargets(
        question,
        ...this.sent.map((m) => m.content),
        ...this.evidence,
        ...(draft !== undefined ? [drafted!, draft] : []),
      ),
    );
    if (!fitted) {
      // Even the question alone would be cut by Ollama, instructions first: no model call is made.
      const tokens = estimatePromptTokens(buildVanillaMessages(question, []));
      this.emit({ type: 'answer-chunk', text: TOO_LONG });
      const reason = new PromptTooLongError('vanilla', tokens, this.budget, this.contextLength).message;
      return this.result('refused', { text: TOO_LONG, redactions: [], guardMatches: 0, spans: [] }, askedAbout, reason);
    }

    const dropped = this.history.length - this.sent.length;
    // The question and history are embedded while the vanilla agent answers, so a request that touches
    // nothing waits for the embedding model only for its answer.
    const asked = this.embed([{ part: 'question', text: question }, ...historyParts(this.sent), ...evidenceParts(this.evidence)]);

    // The question, history, evidence or draft spells a target (or the question alone binds one, below):
    // a vanilla draft would only be erased, so none is written and the rewrite agent answers the question
    // itself with the targets erased (a full answer's time saved), or erasure edits the given draft.
    // `opening`: the start of a draft that was stopped because it binds a target; relevance reads it, so
    // the targets it brought in are shortlisted and erased (it is not shown, and no agent continues it).
    const withoutDraft = async (named: readonly ForgetTarget[], found: ReadonlyMap<string, TouchKind> = new Map(), opening?: string) => {
      if (asked) this.record.begin('relevance', 'Checking what the request is about…');
      const report = await this.assess(named, asked, drafted ?? opening);
      this.record.close();
      // A target detection found in the question, or the stopped opening bound, stays on the shortlist even
      // if this fuller report (with the vectors that came late) ranks eight others above it.
      const listed = new Set(report.shortlist.map((e) => e.target.id));
      const missing = [...found.keys()].filter((id) => !listed.has(id)).flatMap((id) => index.targets.filter((t) => t.id === id));
      const shortlisted = assignHandles([...report.shortlist.map((e) => e.target), ...missing]);
      // Binding evidence, and what detection found in the question: touched whatever any later agent says.
      const mustTouch = new Map([...found, ...bindingTouches(report)]);
      return await showChecked(this, asked, () =>
        this.failingClosed(shortlisted, () =>
          this.erase({ draft: drafted }, shortlisted, mustTouch, shortlisted.length > mustTouch.size, dropped),
        ),
      );
    };
    if (askedAbout.length > 0) return await withoutDraft(askedAbout);
    // Before any draft is written, the question itself (read with the turns sent and the evidence) is
    // assessed: once its vectors are in, a question that binds a target on its own (a keyword or meaning
    // score in the sure band) gets no vanilla draft, as one that names a target; one in the uncertain band
    // goes to the detect agent first, reading only the question (a short task on the cached prompt):
    // touched → no draft either; cleared → the vanilla agent answers, and detection is not asked about
    // that target again (the meaning check reads the answer against it at the sure band).
    if (drafted === undefined && this.policy !== 'named') {
      const asking = await this.askFirst(asked);
      if (asking) return await withoutDraft([], asking);
    }

    let answer: string;
    /** The answer as the model wrote it (before control characters go): the agents' thread continues it. */
    let written: string;
    let named: ForgetTarget[] = [];
    let streamed: Awaited<ReturnType<UntouchedStream['end']>> | undefined;
    if (drafted !== undefined) {
      // Retrieval above already read the draft and found no name in it.
      answer = drafted;
      written = drafted;
    } else {
      const answering =
        dropped > 0
          ? `Answering (the oldest ${dropped} of ${this.history.length} earlier turns left out to fit the context window)…`
          : 'Answering…';
      this.record.begin('vanilla', answering, dropped > 0 ? { droppedTurns: dropped } : {});
      // The answer streams sentence by sentence while every sentence so far touches nothing (see
      // streamUntouched); `always` shows nothing before erasure.
      const stream = this.policy === 'always' ? undefined : streamUntouched(this, asked);
      // An answer whose opening already binds a target (a name, or a keyword score in the sure band) is
      // about that target: writing the rest only for it to be erased costs more than an answer written
      // with the target erased. So once the opening is complete and binds, the draft stops and the
      // request goes on as one that named the target, provided nothing of the draft has been shown.
      const opening = new DraftOpening((text) => this.openingBinds(text));
      const vanillaCall = new AbortController();
      const outer = this.input.signal;
      const forward = () => vanillaCall.abort(outer?.reason);
      outer?.addEventListener('abort', forward, { once: true });
      let vanilla!: ChatResponse;
      // Set when the opening stopped the draft: the rewrite path follows even if the whole reply had
      // already arrived when the abort came (the outcome must not depend on how the bytes were buffered).
      let stopped = false;
      try {
        vanilla = await this.record.chat({
          ...this.record.callBase('vanilla'),
          signal: vanillaCall.signal,
          messages: buildVanillaMessages(question, this.sent),
          options: this.record.sampling(),
          onToken: (t: string) => {
            if (stopped) return;
            stream?.push(t);
            if (opening.push(t) && !stream?.anythingShown()) {
              // Nothing more of the draft is shown, not even a sentence whose check is still running.
              stream?.abandon();
              stopped = true;
              vanillaCall.abort();
            }
          },
        });
      } catch (error) {
        // Only our own stop takes the rewrite path: a stream that failed by itself fails as it would.
        if (!stopped || !opening.bound || outer?.aborted) throw error;
      } finally {
        outer?.removeEventListener('abort', forward);
      }
      if (stopped && opening.bound) {
        // The server frees the stopped draft's slot when it notices the closed connection (at its next
        // token). A call sent at once could find that slot busy and, on a server with more slots, read
        // the whole conversation again in another one: a moment's wait keeps the cached conversation.
        await pause(SLOT_RELEASE_MS, outer);
        return await withoutDraft(opening.bound.named, opening.bound.touched, opening.bound.text);
      }
      // Control characters, escape sequences and bidi controls go before anything reads the answer: the
      // guard then checks exactly what is shown (an escape sequence between "Fal" and "con" shows as
      // "Falcon"). Retrieval reads the answer as written as well, so a name hidden in a sequence still counts.
      answer = stripControls(vanilla.content);
      written = vanilla.content;
      streamed = stream ? await stream.end() : undefined;
      if (streamed) this.prefix = streamed.shown;
      named = index.mentionedTargets(answer, vanilla.content);
    }

    // A stage of its own (with a progress line) only when it may wait for the embedding model; keyword
    // scoring alone takes well under a millisecond.
    if (asked) this.record.begin('relevance', 'Checking what the request is about…');
    // A fully streamed answer was read sentence by sentence: those vectors stand for it (no second call).
    const report = await this.assess(named, asked, answer, streamed && !streamed.stopped ? streamed.vectors : undefined);
    this.record.close();
    // Far from every target: the answer stands after the guard, with no further model call.
    if (report.shortlist.length === 0) return this.standing(answer);

    const shortlisted = assignHandles(report.shortlist.map((e) => e.target));
    // Binding evidence (a spelled name, alias or name part; a keyword or meaning score in the sure band)
    // sends the request to erasure with no detection call: no agent reply can switch it off.
    const mustTouch = bindingTouches(report);
    return showChecked(this, asked, () =>
      this.failingClosed(shortlisted, async () => {
        if (mustTouch.size > 0 || this.policy === 'always') {
          // `always` is ALU as published: every answer is erased against the shortlist, no detection
          // veto. Detection beside the rewrites only says which further targets are touched (for /explain).
          return await this.erase({ draft: answer, written }, shortlisted, mustTouch, shortlisted.length > mustTouch.size);
        }
        // Only the uncertain band is left: detection may add targets; none leaves the answer to the
        // meaning check, which removes any sentence over its target's threshold (see shownAnswer.ts).
        // A target the question's detection cleared is asked about again only when the answer by itself
        // brings keyword evidence for it (words of its description the question did not have); otherwise
        // the meaning check reads every sentence against it at the sure band.
        const asked = new Set([question, ...this.sent.map((m) => m.content), ...this.evidence].flatMap((t) => keywordTokens(t)));
        const fresh = [...new Set(keywordTokens(answer))].filter((w) => !asked.has(w)).join(' ');
        const answerKeywords = new Set(
          (fresh ? this.relevance.keywords.search([fresh], 0) : [])
            .filter((hit) => hit.score >= KEYWORD_THRESHOLD)
            .map((hit) => hit.targetId),
        );
        const open = assignHandles(
          shortlisted.filter((h) => !this.questionCleared.has(h.target.id) || answerKeywords.has(h.target.id)).map((h) => h.target),
        );
        if (open.length === 0) return this.standing(answer);
        const detected = await this.detect(written, open);
        this.detected = new Set([...(this.detected ?? []), ...open.filter((h) => detected.has(h.handle)).map((h) => h.target.id)]);
        if (detected.size === 0) return this.standing(answer);
        const touched = open.filter((h) => detected.has(h.handle));
        // Detection's verdict binds: what it found is touched whatever any later agent says.
        const known = new Map(touched.map((h) => [h.target.id, detected.get(h.handle)!]));
        return await this.erase({ draft: answer, written }, assignHandles(touched.map((h) => h.target)), known, false);
      }),
    );
  }

  /** Runs the agents; any failure but a cancel, a dead server, a missing model or a refused key becomes a refusal. */
  private async failingClosed(shortlisted: HandledTarget[], work: () => Promise<PipelineResult>): Promise<PipelineResult> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof LlmError && USERS_TO_FIX.has(error.code)) throw error;
      if (isAbort(error) || this.input.signal?.aborted) throw error;
      // Fail closed: the user gets a refusal that says which step failed, never the vanilla answer.
      const reason = `the ${(error as LlmError).details?.label ?? 'agent'} step failed: ${error instanceof Error ? error.message : String(error)}`;
      return this.refuse(shortlisted, new Map(), reason);
    }
  }

  /** The relevance report over the question, the history and (when one was written) the vanilla answer. */
  private async assess(
    named: readonly ForgetTarget[],
    asked: Promise<QueryVectors> | undefined,
    answer: string | undefined,
    answerVectors?: readonly Float32Array[],
  ) {
    const queries = answerVectors?.length ? await withAnswerVectors(asked, answerVectors) : await this.embedAnswer(asked, answer);
    const report = this.relevanceOver(named, queries, answer);
    this.report = report;
    // A server that cannot be reached is not the embedding model's problem: the request's own calls fail
    // and say so, so no notice about meaning (which would point at the model's setting) is given.
    if (!report.semantic.unreachable && firstReport(report.semantic) && report.semantic.model) {
      this.emit({
        type: 'relevance-notice',
        message: `Relevance goes on without meaning (names and keywords only): ${report.semantic.problem ?? 'the embedding model is unavailable'}`,
        model: report.semantic.model,
        ...(report.semantic.pull ? { pull: report.semantic.pull } : {}),
      });
    }
    return report;
  }

  /**
   * No target is touched: the vanilla answer stands, after the guard. Not streamed, on purpose. Whether
   * it may stand is only known once all of it has been read: a target named in its last sentence sends
   * it to the agents, and the sentences before may already describe the target without spelling it,
   * which the guard cannot see but the audit would erase. Text shown while the answer streams could not
   * be taken back, so the answer is shown only after relevance has read it whole.
   */
  private standing(answer: string): PipelineResult {
    const finalized = this.record.stage('guard', 'Checking the answer…', () => finalizeAnswer(answer, this.input.index, [], () => ''));
    if (this.prefix && !this.gate && finalized.text.startsWith(this.prefix)) {
      // Streamed whole (or in part, far from every target): only the rest is new.
      this.emit({ type: 'answer-chunk', text: finalized.text.slice(this.prefix.length) });
      return this.result('vanilla', finalized, []);
    }
    this.emit({ type: 'answer-chunk', text: finalized.text });
    return this.result('vanilla', finalized, []);
  }

  /** Relevance over the question, the turns sent, the evidence and `extra` (an answer, a draft's opening). */
  private relevanceOver(named: readonly ForgetTarget[], queries: QueryVectors, extra?: string, policy: AuditPolicy = this.policy) {
    const { question, options } = this.input;
    return this.relevance.assess({
      policy,
      named,
      texts: [question, ...this.sent.map((m) => m.content), ...this.evidence, ...(extra !== undefined ? [extra] : [])],
      queries,
      ...(options.embeddingModel ? { model: options.embeddingModel } : {}),
    });
  }

  /** The question's vectors, once `askFirst` has them (the draft's opening is read with them). */
  private questionQueries: QueryVectors = { state: { status: 'off' } };

  /** What the draft's opening binds (see DraftOpening): the targets it names, every binding touch, and the opening read. */
  private openingBinds(text: string): { named: ForgetTarget[]; touched: Map<string, TouchKind>; text: string } | undefined {
    const named = this.input.index.mentionedTargets(stripControls(text), text);
    // Binding evidence is the same under `always`, whose report only lowers the shortlist's bar.
    const report = this.relevanceOver(named, this.questionQueries, text, this.policy === 'always' ? 'related' : this.policy);
    const touched = bindingTouches(report);
    return touched.size > 0 ? { named, touched, text } : undefined;
  }

  /** Targets the detect agent cleared when it read the question alone (see `askFirst`). */
  private questionCleared = new Set<string>();

  /**
   * The question alone, before any draft: the targets it touches (by id) when it binds one (a keyword or
   * meaning score in the sure band) or the detect agent finds one in the uncertain band, else undefined
   * (the vanilla agent answers). Read with the turns sent and the evidence, as retrieval reads them.
   */
  private async askFirst(asked: Promise<QueryVectors> | undefined): Promise<Map<string, TouchKind> | undefined> {
    // The vectors usually take tens of milliseconds; a first request while the target embeddings are still
    // being built (or the embedding model loads) would wait for that. So the draft waits at most
    // QUESTION_VECTORS_WAIT_MS: past it, the question is assessed on names and keywords here, and meaning
    // reads it with the answer after the draft, as before.
    const off: QueryVectors = { state: { status: 'off' } };
    const queries: QueryVectors = asked ? await within(asked, QUESTION_VECTORS_WAIT_MS, off) : off;
    this.questionQueries = queries;
    const report = this.relevanceOver([], queries);
    const binding = bindingTouches(report);
    if (binding.size > 0) return binding;
    // `always` erases every answer with its shortlist anyway: no question is audited apart.
    if (this.policy !== 'related' || report.shortlist.length === 0) return undefined;
    const handled = assignHandles(report.shortlist.map((e) => e.target));
    const found = await this.failingClosedDetect(handled);
    if (found === undefined) return undefined;
    const touched = new Map(handled.filter((h) => found.has(h.handle)).map((h) => [h.target.id, found.get(h.handle)!] as const));
    this.detected = new Set(touched.keys());
    if (touched.size > 0) return touched;
    for (const h of handled) this.questionCleared.add(h.target.id);
    return undefined;
  }

  /**
   * Detection on the question alone. A failure here does not refuse the request: the question has not
   * been answered yet, and the draft goes through relevance, detection and the meaning check as any other.
   */
  private async failingClosedDetect(handled: HandledTarget[]): Promise<Map<string, TouchKind> | undefined> {
    try {
      return await this.detect(undefined, handled);
    } catch (error) {
      if (error instanceof LlmError && USERS_TO_FIX.has(error.code)) throw error;
      if (isAbort(error) || this.input.signal?.aborted) throw error;
      return undefined;
    }
  }

  /**
   * Which shortlisted targets the request touches, by handle. Fails (and the request is refused) on a bad
   * reply. It continues the vanilla call's own conversation (agents/thread.ts): the prompt as sent and the
   * answer as written, which the server has just cached, so only its short task is evaluated.
   */
  private async detect(written: string | undefined, handled: HandledTarget[]): Promise<Map<string, TouchKind>> {
    const { question } = this.input;
    const build = (kept: readonly ChatMessage[]) =>
      buildDetectMessages({
        thread: [
          ...buildVanillaMessages(question, kept),
          // Model text can hold a chat-template token as text too: defused like user text (thread.ts).
          ...(written !== undefined ? [{ role: 'assistant' as const, content: defuseTemplateTokens(written) }] : []),
        ],
        withAnswer: written !== undefined,
        targets: handled,
      });
    const fit = fitHistory(this.sent, build, this.budget);
    if (!fit) throw new PromptTooLongError('detect', estimatePromptTokens(build([])), this.budget, this.contextLength);
    const what = written === undefined ? 'the question' : 'the answer';
    this.record.begin('detect', `Checking ${what} against ${handled.length} related ${handled.length === 1 ? 'target' : 'targets'}…`, {
      targets: handled.length,
    });
    const reply = await this.record.structured({ label: 'detect', schema: detectSchema, messages: build(fit.kept) });
    return detectedHandles(reply.value, handled);
  }

  /** Query vectors for texts of this request; resolves (never rejects but on cancel) with why there are none. */
  embed(texts: { part: RequestPart; text: string }[]): Promise<QueryVectors> | undefined {
    const { llm, options, signal, embeddingCache } = this.input;
    if (this.policy === 'named' || !options.embeddingModel) return undefined;
    const pending = this.relevance.embedQueries(llm, options.embeddingModel, texts, {
      cache: embeddingCache,
      signal,
      timeoutMs: options.embeddingTimeoutMs,
    });
    // If the vanilla call fails first, nobody awaits this; its cancel must not surface as unhandled.
    pending.catch(() => undefined);
    return pending;
  }

  private async embedAnswer(asked: Promise<QueryVectors> | undefined, answer: string | undefined): Promise<QueryVectors> {
    if (!asked)
      return { state: { status: 'off', ...(this.input.options.embeddingModel ? { model: this.input.options.embeddingModel } : {}) } };
    const first = await asked;
    if ('state' in first || answer === undefined) return first;
    const second = await this.embed([{ part: 'answer', text: answer }]);
    // The question's vectors still count when the answer's could not be had (the failure is remembered
    // and reported by the next request).
    if (!second || 'state' in second) return first;
    return { vectors: [...first.vectors, ...second.vectors], parts: [...first.parts, ...second.parts] };
  }

  /**
   * Erasure (6–9, in erasure.ts). `draft` is the vanilla answer (and `written` the same as the model wrote
   * it), absent when the question named a target. With `readTouched`, the edit agent's list of touched
   * targets says which shortlisted targets beyond `mustTouch` are touched; every shortlisted target is
   * erased either way.
   */
  private async erase(
    draft: { draft: string | undefined; written?: string },
    handled: HandledTarget[],
    mustTouch: ReadonlyMap<string, TouchKind>,
    readTouched: boolean,
    droppedBefore = 0,
  ): Promise<PipelineResult> {
    const erased = await new Erasure(this, { ...draft, handled, mustTouch, readTouched, droppedBefore, mark: this.mark }).erase();
    // What the edit agent lists adds to what detection found: no agent's list takes a finding back.
    if (erased.detected) this.detected = new Set([...(this.detected ?? []), ...erased.detected]);
    if (erased.historySent !== undefined) this.auditSent = erased.historySent;
    if (erased.kind === 'refused') return this.refuse(handled, erased.touched, erased.reason);
    const reasonOf = reasonLookup(handled, erased.touched);
    const finalized = this.record.stage('guard', 'Checking the answer…', () =>
      finalizeAnswer(erased.text, this.input.index, handled, reasonOf),
    );
    this.emit({ type: 'answer-chunk', text: finalized.text });
    return this.result(
      'erased',
      finalized,
      handled.filter((h) => erased.touched.has(h.handle)).map((h) => h.target),
    );
  }

  private refuse(handled: HandledTarget[], touched: ReadonlyMap<string, TouchKind>, reason: string): PipelineResult {
    const targets = touched.size ? handled.filter((h) => touched.has(h.handle)).map((h) => h.target) : handled.map((h) => h.target);
    this.emit({ type: 'answer-chunk', text: REFUSAL });
    return this.result('refused', { text: REFUSAL, redactions: [], guardMatches: 0, spans: [] }, targets, reason);
  }

  /** The start of the vanilla answer already streamed to the user (see vanillaStream.ts). */
  prefix = '';
  /** While set, answer text goes through the meaning check's sentence gate before it is shown (see shownAnswer.ts). */
  gate: SentenceGate | undefined;
  /** Time the meaning check spent scoring, not waiting for the embedding model (for the bench). */
  meaningMs = 0;

  private emit(event: PipelineEvent): void {
    if (this.gate && event.type === 'answer-chunk') this.gate.push(event.text);
    else this.input.onEvent?.(event);
  }

  private result(outcome: PipelineOutcome, finalized: Finalized, touched: readonly ForgetTarget[], refusalReason?: string): PipelineResult {
    return {
      answer: finalized.text,
      outcome,
      redactions: finalized.redactions,
      touchedTargets: touched.map((t) => ({ id: t.id, name: t.name })),
      guardActed: finalized.guardMatches > 0,
      ...(refusalReason ? { refusalReason } : {}),
      ...(this.sent.length < this.history.length || this.auditSent !== undefined
        ? {
            historyTrimmed: {
              total: this.history.length,
              sent: this.sent.length,
              ...(this.auditSent !== undefined ? { audit: this.auditSent } : {}),
            },
          }
        : {}),
      ...(this.report ? { relevance: explainRelevance(this.report, this.detected) } : {}),
      ...this.record.totals(),
    };
  }

  /** The result with the stages run after it was built (the meaning check) counted in. */
  retotal(r: PipelineResult): PipelineResult {
    return { ...r, ...this.record.totals() };
  }

  // What erasure borrows (ErasureRun): the stages and counted calls of runRecord.ts.
  begin(stage: StageName, message: string, extra?: { targets?: number; candidates?: number; droppedTurns?: number }): void {
    this.record.begin(stage, message, extra);
  }

  chat(request: ChatRequest): Promise<ChatResponse> {
    return this.record.chat(request);
  }

  structured<T>(
    call: StructuredCall<T>,
    signal?: AbortSignal,
    sampling?: { temperature?: number; seed?: number },
  ): Promise<{ value: T; content: string }> {
    return this.record.structured(call, signal, sampling);
  }

  callBase(label: string) {
    return this.record.callBase(label);
  }
}

/** How long the question's vectors may hold up the draft (see `askFirst`). */
const QUESTION_VECTORS_WAIT_MS = 1_500;

/** `promise`'s value, or `fallback` when it takes longer than `ms` (or fails). */
function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}

/** How long a stopped call's slot takes to come free on the server (a few tokens' time). */
const SLOT_RELEASE_MS = 100;

/** Waits `ms`, or less if `signal` aborts (the caller then sees the abort on its next call). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Sentences that make a draft's opening: enough to say what the answer is about, early enough to save most of it. */
const OPENING_SENTENCES = 2;

/**
 * Watches a streamed draft for its opening (its first OPENING_SENTENCES complete sentences) and asks
 * once, when the opening is complete, whether it binds a target. `push` returns true when it does.
 */
class DraftOpening {
  private text = '';
  private asked = false;
  bound: { named: ForgetTarget[]; touched: Map<string, TouchKind>; text: string } | undefined;

  constructor(private readonly binds: (text: string) => DraftOpening['bound']) {}

  push(piece: string): boolean {
    if (this.asked) return false;
    const before = this.text.at(-1) ?? '';
    this.text += piece;
    // Only a piece that may end a sentence (a terminator, then space or a line break) is worth a look.
    if (!SENTENCE_END.test(before + piece)) return false;
    const end = completeUpTo(this.text);
    if (end < 0 || splitSentences(this.text.slice(0, end)).length < OPENING_SENTENCES) return false;
    this.asked = true;
    this.bound = this.binds(this.text.slice(0, end));
    return this.bound !== undefined;
  }
}
