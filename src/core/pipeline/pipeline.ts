import { assignHandles, type HandledTarget, type ForgetTarget } from '../targets';
import {
  buildDetectMessages,
  buildVanillaMessages,
  callStructured,
  createDataMark,
  requestMarkerPick,
  detectedHandles,
  detectSchema,
  TOUCH_REASON,
  unmarkingPort,
  type DataMark,
  type StructuredCall,
  type TouchKind,
} from '../agents';
import { isAbort, LlmError, type ChatMessage, type ChatRequest, type ChatResponse } from '../llm';
import { DEFAULT_CONTEXT_LENGTH, estimatePromptTokens, fitHistory, numCtxOption, promptBudget, PromptTooLongError } from './contextWindow';
import { Erasure, type ErasureRun } from './erasure';
import { finalizeAnswer, MARKER, withoutMarkerNames, type Finalized, type Redaction } from '../guard';
import { ControlStripper, sanitizeUserText, stripControls } from '../text';
import { sanitizeUserInput } from './userInput';
import { SentenceGate, type SentenceJudge } from './sentenceGate';
import {
  applySentenceHits,
  encodingRequest,
  KEYWORD_THRESHOLD,
  keywordTokens,
  explainRelevance,
  firstReport,
  longUnreadableRun,
  MeaningCheck,
  REFUSE_SHARE,
  relevanceOf,
  type EncodingRequest,
  type SentenceHit,
  type QueryVectors,
  type Relevance,
  type RelevanceReport,
  type RequestPart,
  AUDIT_POLICIES,
  type AuditPolicy,
} from '../relevance';
import {
  type PipelineEvent,
  type PipelineInput,
  type PipelineOutcome,
  type PipelineResult,
  type StageName,
  type StageRecord,
} from './types';

/** The answer when targets are touched and no erased candidate is good enough, or an agent failed. */
export const REFUSAL = "I can't help with that: answering would reveal information this workspace has asked me to forget.";

/**
 * The answer when the question cannot fit the context window even without any earlier turn. Each front
 * end adds how to raise the window (a setting in VS Code, a flag in the CLI).
 */
export const TOO_LONG =
  "I can't answer this: the question is too long for the model's context window. Shorten it, or raise the context length.";

/**
 * How long Ollama keeps the model loaded after each call (`keep_alive`). Ollama's own default is 5
 * minutes; a model unloaded between two questions costs its load time (seconds for a 3B model, more
 * for larger ones) on the next request, so every call asks for half an hour.
 */
export const KEEP_ALIVE = '30m';

/**
 * The ALU algorithm with Unlearn's additions, arranged for latency:
 *   0. the history is trimmed from its oldest turn until the vanilla prompt fits the context window;
 *   1. the lexical matcher finds the targets the question and every history turn sent to the model
 *      name (a many-shot prompt that named a target 30 turns ago still counts); meanwhile the question
 *      and history are embedded;
 *   2. a target is named there → no vanilla draft (whatever it said would be erased): relevance
 *      shortlists the named targets and at most SHORTLIST_SIZE more, and erasure (6) starts with a draft
 *      the rewrite agent writes with the shortlisted targets erased, the detect agent beside it when the
 *      shortlist holds more than the names;
 *   3. otherwise the vanilla agent answers, streamed sentence by sentence while no sentence touches a
 *      target (`always` shows nothing before erasure), and the matcher reads its answer too; relevance
 *      shortlists by keywords and meaning over question, history and answer (auditPolicy: `named` skips
 *      this, `always` fills the shortlist even below the thresholds); only shortlisted targets reach any prompt;
 *   4. empty shortlist → the vanilla answer stands, after the guard;
 *   5. binding evidence (a spelled name, alias or name part, or a score in the sure band) → erasure with
 *      no detection call; otherwise the detect agent says which shortlisted targets are touched; none →
 *      the vanilla answer stands, after the guard and the meaning check;
 *   6. erasure as edits (erasure.ts): the draft goes to the edit agent numbered by sentence, j calls at
 *      most parallelCalls in flight, each replying with sentences to drop or replace (a failed or
 *      unreadable reply is a junk candidate; all junk → refusal); a named or detected target is touched
 *      whatever any agent says;
 *   7. each edit set is made into text; the guard vetoes one that still spells a target; the critic scores
 *      the distinct texts left in one call, scores only;
 *   8. the top-k must average at least minScore, else a refusal;
 *   9. the composer merges the top-k edit sets without a model call (a sentence any of them changed is
 *      changed, as the best-ranked of them changed it), and the text goes through the guard;
 *  10. the meaning check reads the final text sentence by sentence against the shortlist before it is
 *      shown. Untrusted text (question, history, drafts, candidates) reaches every agent datamarked.
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

class Run implements ErasureRun {
  private readonly stages: StageRecord[] = [];
  private readonly started = performance.now();
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

  private readonly policy: AuditPolicy;
  /**
   * The question asks to encode, encipher, spell out, transliterate, reverse or play a letter game: it is
   * assessed and audited under `always` rules whatever the policy (so it touches a target by any signal),
   * and a sentence of the answer that still holds a long run no word list reads is removed for the most
   * relevant shortlisted target (see encodingRequest.ts).
   */
  private readonly encodingAsk: EncodingRequest | undefined;
  private readonly relevance: Relevance;
  private report: RelevanceReport | undefined;
  /** Target ids the detect agent found touched, when it ran. */
  private detected: Set<string> | undefined;

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
    const askedAbout = this.stage('retrieve', 'Finding forget targets…', () =>
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

    if (askedAbout.length > 0) {
      // The question, history, evidence or draft spells a target: a vanilla draft would only be erased,
      // so none is written and the rewrites answer the question themselves (a full answer's time saved),
      // from the given draft when there is one.
      if (asked) this.begin('relevance', 'Checking what the request is about…');
      const report = await this.assess(askedAbout, asked, drafted);
      this.close();
      const shortlisted = assignHandles(report.shortlist.map((e) => e.target));
      const mustTouch = bindingTouches(report);
      return await this.shown(asked, () =>
        this.failingClosed(shortlisted, () => this.erase(drafted, shortlisted, mustTouch, shortlisted.length > mustTouch.size, dropped)),
      );
    }

    let answer: string;
    let named: ForgetTarget[] = [];
    let streamed: Awaited<ReturnType<ReturnType<Run['streamUntouched']>['end']>> | undefined;
    if (drafted !== undefined) {
      // Retrieval above already read the draft and found no name in it.
      answer = drafted;
    } else {
      const answering =
        dropped > 0
          ? `Answering (the oldest ${dropped} of ${this.history.length} earlier turns left out to fit the context window)…`
          : 'Answering…';
      this.begin('vanilla', answering, dropped > 0 ? { droppedTurns: dropped } : {});
      // The answer streams sentence by sentence while every sentence so far touches nothing (see
      // streamUntouched); `always` shows nothing before erasure.
      const stream = this.policy === 'always' ? undefined : this.streamUntouched(asked);
      const vanilla = await this.chat({
        ...this.callBase('vanilla'),
        messages: buildVanillaMessages(question, this.sent),
        options: this.sampling(),
        ...(stream ? { onToken: (t: string) => stream.push(t) } : {}),
      });
      // Control characters, escape sequences and bidi controls go before anything reads the answer: the
      // guard then checks exactly what is shown (an escape sequence between "Fal" and "con" shows as
      // "Falcon"). Retrieval reads the answer as written as well, so a name hidden in a sequence still counts.
      answer = stripControls(vanilla.content);
      streamed = stream ? await stream.end() : undefined;
      if (streamed) this.prefix = streamed.shown;
      named = index.mentionedTargets(answer, vanilla.content);
    }

    // A stage of its own (with a progress line) only when it may wait for the embedding model; keyword
    // scoring alone takes well under a millisecond.
    if (asked) this.begin('relevance', 'Checking what the request is about…');
    // A fully streamed answer was read sentence by sentence: those vectors stand for it (no second call).
    const report = await this.assess(named, asked, answer, streamed && !streamed.stopped ? streamed.vectors : undefined);
    this.close();
    // Far from every target: the answer stands after the guard, with no further model call.
    if (report.shortlist.length === 0) return this.standing(answer);

    const shortlisted = assignHandles(report.shortlist.map((e) => e.target));
    // Binding evidence (a spelled name, alias or name part; a keyword or meaning score in the sure band)
    // sends the request to erasure with no detection call: no agent reply can switch it off.
    const mustTouch = bindingTouches(report);
    return this.shown(asked, () =>
      this.failingClosed(shortlisted, async () => {
        if (mustTouch.size > 0 || this.policy === 'always') {
          // `always` is ALU as published: every answer is erased against the shortlist, no detection
          // veto. Detection beside the rewrites only says which further targets are touched (for /explain).
          return await this.erase(answer, shortlisted, mustTouch, shortlisted.length > mustTouch.size);
        }
        // Only the uncertain band is left: detection may add targets; none leaves the answer to the
        // meaning check, which removes any sentence over its target's threshold (see shown()).
        const detected = await this.detect(answer, shortlisted);
        this.detected = new Set(shortlisted.filter((h) => detected.has(h.handle)).map((h) => h.target.id));
        if (detected.size === 0) return this.standing(answer);
        const touched = shortlisted.filter((h) => detected.has(h.handle));
        // Detection's verdict binds: what it found is touched whatever any later agent says.
        const known = new Map(touched.map((h) => [h.target.id, detected.get(h.handle)!]));
        return await this.erase(answer, assignHandles(touched.map((h) => h.target)), known, false);
      }),
    );
  }

  /**
   * Runs `work` (erasure, or detection that let the answer stand) with its answer held back, then the
   * meaning check on the final text against the shortlisted targets, and only then shows it. The text
   * erasure streamed is not shown as it arrives: a rewrite that repeats the draft and a critic that
   * scores it 5 of 5 (one injectable model) must not decide what the user sees.
   */
  private async shown(asked: Promise<QueryVectors> | undefined, work: () => Promise<PipelineResult>): Promise<PipelineResult> {
    const targets = this.report?.shortlist.map((e) => e.target) ?? [];
    const prefix = this.prefix;
    // `named` reads names only, by choice: it has no keyword or meaning signal to check with.
    const checking = this.policy !== 'named' && targets.length > 0;
    if (!checking && !prefix) return work();
    const names = new Map(targets.map((t) => [t.id, t.name]));
    const nameOf = (id: string) => names.get(id) ?? id;
    const meaning: SentenceJudge = checking ? this.meaningJudge(asked, targets) : (batch) => Promise.resolve(batch.map(() => undefined));
    const judge: SentenceJudge = this.encodingAsk && checking ? unreadableJudge(meaning, targets[0]!.id) : meaning;
    // A streamed start of the draft is on the screen: what follows is shown after it, not again.
    const gate = new SentenceGate(judge, (text) => this.input.onEvent?.({ type: 'answer-chunk', text }), 'replace', nameOf, prefix);
    this.gate = gate;
    let result: PipelineResult;
    try {
      result = await work();
    } finally {
      this.gate = undefined;
    }
    const { spans, hits, emitted } = await gate.end();
    if (!hits.some(Boolean) && !prefix) return this.retotal(result);
    // What was shown is the streamed start and the gate's text: the result's answer with the judged
    // sentences replaced, less what repeated the start. The markers keep their order, so the
    // redactions are placed by finding them in the text shown.
    const applied = applySentenceHits(gate.received, result.redactions, spans, hits, nameOf);
    const answer = prefix + emitted;
    const touched = [...result.touchedTargets];
    for (const h of hits) if (h && !touched.some((t) => t.id === h.targetId)) touched.push({ id: h.targetId, name: nameOf(h.targetId) });
    const checked = { ...result, answer, redactions: placeMarkers(answer, applied.redactions), touchedTargets: touched };
    if (applied.removedShare > REFUSE_SHARE && !emitted.endsWith(REFUSAL)) {
      // Most of the answer was about a target: what is left would mislead, so the refusal follows as
      // its own paragraph (the markers already shown name no fact), and the result says so.
      this.input.onEvent?.({ type: 'answer-chunk', text: `\n\n${REFUSAL}` });
      return this.retotal({
        ...checked,
        answer: `${answer}\n\n${REFUSAL}`,
        outcome: 'refused',
        refusalReason: `the meaning check found ${applied.removed} of ${spans.length} sentences about a forget target`,
      });
    }
    return this.retotal(checked);
  }

  /**
   * The meaning check's judge for this request's shortlist: keywords at once, and meaning with one
   * embedding call per batch of sentences when an embedding model is in use.
   */
  private meaningJudge(asked: Promise<QueryVectors> | undefined, targets: readonly ForgetTarget[]): SentenceJudge {
    const { question } = this.input;
    const recent = this.sent.slice(-1).map((m) => m.content);
    const model = this.input.options.embeddingModel;
    let check: Promise<MeaningCheck> | undefined;
    const prepare = async (): Promise<MeaningCheck> => {
      const index = model ? this.relevance.embeddingsFor(model) : undefined;
      const first = asked && index ? await asked : undefined;
      const questionVectors =
        first && 'vectors' in first ? first.vectors.filter((_, i) => first.parts[i] === 'question' || i === first.vectors.length - 1) : [];
      return new MeaningCheck(
        this.relevance,
        targets,
        [question, ...recent],
        index && questionVectors.length ? { index, questionVectors } : undefined,
      );
    };
    return async (shown) => {
      const meaning = await (check ??= prepare());
      const sentences = shown.map((s) => withoutMarkerNames(s));
      let vectors: readonly Float32Array[] | undefined;
      if (meaning.usesMeaning) {
        const got = await this.embed(sentences.map((text) => ({ part: 'answer' as const, text })));
        const v = got ? await got : undefined;
        // A sentence with no words to embed is read by keywords alone; so is a batch the model failed.
        if (v && 'vectors' in v && v.vectors.length === sentences.length) vectors = v.vectors;
      }
      const started = performance.now();
      const hits = meaning.judge(sentences, vectors);
      this.meaningMs += performance.now() - started;
      return hits;
    };
  }

  /** The result with the stages run after it was built (the meaning check) counted in. */
  private retotal(r: PipelineResult): PipelineResult {
    this.close();
    const sum = (f: (s: StageRecord) => number) => this.stages.reduce((n, s) => n + f(s), 0);
    return {
      ...r,
      stages: [...this.stages],
      calls: sum((s) => s.calls),
      promptTokens: sum((s) => s.promptTokens),
      completionTokens: sum((s) => s.completionTokens),
      totalMs: performance.now() - this.started,
    };
  }

  /** Runs the agents; any failure but a cancel, a dead server or a missing model becomes a refusal. */
  private async failingClosed(shortlisted: HandledTarget[], work: () => Promise<PipelineResult>): Promise<PipelineResult> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof LlmError && (error.code === 'aborted' || error.code === 'unreachable' || error.code === 'model-missing'))
        throw error;
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
    const report = this.relevance.assess({
      policy: this.policy,
      named,
      texts: [this.input.question, ...this.sent.map((m) => m.content), ...this.evidence, ...(answer !== undefined ? [answer] : [])],
      queries,
      model: this.input.options.embeddingModel,
    });
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
   * Streams the vanilla answer as it is written, one sentence at a time, each only once the text so
   * far touches nothing: no name (the guard's matcher over everything so far), and under `related`
   * no keyword score (question, history and the answer so far together) or sentence meaning over any
   * target's threshold, and a question that relevance alone shortlists nothing for. The first
   * sentence that fails stops the stream for good; the request then goes on as before (detection,
   * erasure), and what follows the shown start is shown after it. `named` streams through the
   * matcher alone.
   */
  private streamUntouched(asked: Promise<QueryVectors> | undefined) {
    const { index, question } = this.input;
    const stripper = new ControlStripper();
    const context = [question, ...this.sent.map((m) => m.content)];
    const vectors: Float32Array[] = [];
    // The matcher reads the last holdBack characters before each sentence with it (no name is longer),
    // and keyword scores add up word by word (a word counts once), so each sentence costs its own length.
    let tail = '';
    const seen = new Set<string>();
    const scores = new Map<string, number>();
    let questionClear: Promise<boolean> | undefined;
    const stop: SentenceHit = { targetId: '', kind: 'keyword', score: 1, threshold: 1 };
    const model = this.input.options.embeddingModel;
    const judge: SentenceJudge = async (sentences) => {
      if (this.policy !== 'named') {
        // The question alone (with its vectors, which are being computed anyway) must reach no target.
        questionClear ??= (async () => {
          const queries: QueryVectors = asked ? await asked : { state: { status: 'off' } };
          const report = this.relevance.assess({ policy: this.policy, named: [], texts: context, queries, ...(model ? { model } : {}) });
          for (const text of context) for (const w of keywordTokens(text)) seen.add(w);
          for (const hit of this.relevance.keywords.search(context, 0)) scores.set(hit.targetId, hit.score);
          return report.shortlist.length === 0;
        })();
        if (!(await questionClear)) return sentences.map(() => stop);
      }
      let own: readonly Float32Array[] | undefined;
      const embedding = model ? this.relevance.embeddingsFor(model) : undefined;
      if (this.policy !== 'named' && embedding) {
        const got = this.embed(sentences.map((text) => ({ part: 'answer' as const, text })));
        const v = got ? await got : undefined;
        if (v && 'vectors' in v && v.vectors.length === sentences.length) own = v.vectors;
      }
      const verdicts: (SentenceHit | undefined)[] = [];
      for (let i = 0; i < sentences.length; i++) {
        const sentence = sentences[i]!;
        const text = tail ? `${tail} ${sentence}` : sentence;
        if (index.mentionedTargets(text).length > 0) return [...verdicts, stop];
        if (this.policy !== 'named') {
          const fresh = [...new Set(keywordTokens(sentence))].filter((w) => !seen.has(w));
          for (const w of fresh) seen.add(w);
          if (fresh.length) {
            for (const hit of this.relevance.keywords.search([fresh.join(' ')], 0)) {
              const total = (scores.get(hit.targetId) ?? 0) + hit.score;
              scores.set(hit.targetId, total);
              if (total >= KEYWORD_THRESHOLD) return [...verdicts, stop];
            }
          }
          if (own && embedding && embedding.search([own[i]!]).length > 0) return [...verdicts, stop];
          if (own) vectors.push(own[i]!);
        }
        tail = text.slice(-index.holdBack);
        verdicts.push(undefined);
      }
      return verdicts;
    };
    const gate = new SentenceGate(judge, (text) => this.input.onEvent?.({ type: 'answer-chunk', text }), 'stop');
    return {
      push: (piece: string) => gate.push(stripper.push(piece)),
      end: async () => {
        gate.push(stripper.end());
        try {
          await gate.end();
        } catch (error) {
          // A failed check shows nothing more; the request goes on with what was shown.
          if (isAbort(error) || this.input.signal?.aborted) throw error;
        }
        return { shown: gate.shown, stopped: gate.stopped, vectors };
      },
    };
  }

  /**
   * No target is touched: the vanilla answer stands, after the guard. Not streamed, on purpose. Whether
   * it may stand is only known once all of it has been read: a target named in its last sentence sends
   * it to the agents, and the sentences before may already describe the target without spelling it,
   * which the guard cannot see but the audit would erase. Text shown while the answer streams could not
   * be taken back, so the answer is shown only after relevance has read it whole.
   */
  private standing(answer: string): PipelineResult {
    const finalized = this.stage('guard', 'Checking the answer…', () => finalizeAnswer(answer, this.input.index, [], () => ''));
    if (this.prefix && !this.gate && finalized.text.startsWith(this.prefix)) {
      // Streamed whole (or in part, far from every target): only the rest is new.
      this.emit({ type: 'answer-chunk', text: finalized.text.slice(this.prefix.length) });
      return this.result('vanilla', finalized, []);
    }
    this.emit({ type: 'answer-chunk', text: finalized.text });
    return this.result('vanilla', finalized, []);
  }

  /** Which shortlisted targets the request touches, by handle. Fails (and the request is refused) on a bad reply. */
  private async detect(answer: string, handled: HandledTarget[]): Promise<Map<string, TouchKind>> {
    const { question } = this.input;
    const build = (kept: readonly ChatMessage[]) =>
      buildDetectMessages({ question, answer, history: kept, targets: handled, mark: this.mark });
    const fit = fitHistory(this.sent, build, this.budget);
    if (!fit) throw new PromptTooLongError('detect', estimatePromptTokens(build([])), this.budget, this.contextLength);
    this.begin('detect', `Checking ${handled.length} related ${handled.length === 1 ? 'target' : 'targets'}…`, { targets: handled.length });
    const reply = await this.structured({ label: 'detect', schema: detectSchema, messages: build(fit.kept) });
    return detectedHandles(reply, handled);
  }

  /** Query vectors for texts of this request; resolves (never rejects but on cancel) with why there are none. */
  private embed(texts: { part: RequestPart; text: string }[]): Promise<QueryVectors> | undefined {
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
   * Erasure (6–9, in erasure.ts). `draft` is the vanilla answer, absent when the question named a target.
   * With `detectAlongside`, the detect agent runs beside the first erasure calls to say which shortlisted
   * targets beyond `mustTouch` are touched; every shortlisted target is erased either way.
   */
  private async erase(
    draft: string | undefined,
    handled: HandledTarget[],
    mustTouch: ReadonlyMap<string, TouchKind>,
    detectAlongside: boolean,
    droppedBefore = 0,
  ): Promise<PipelineResult> {
    const erased = await new Erasure(this, { draft, handled, mustTouch, detectAlongside, droppedBefore, mark: this.mark }).erase();
    if (erased.detected) this.detected = new Set(erased.detected);
    if (erased.historySent !== undefined) this.auditSent = erased.historySent;
    if (erased.kind === 'refused') return this.refuse(handled, erased.touched, erased.reason);
    const reasonOf = reasonLookup(handled, erased.touched);
    const finalized = this.stage('guard', 'Checking the answer…', () => finalizeAnswer(erased.text, this.input.index, handled, reasonOf));
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

  // --- bookkeeping -------------------------------------------------------------------------------

  private open: { stage: StageName; start: number; calls: number; promptTokens: number; completionTokens: number } | undefined;

  begin(stage: StageName, message: string, extra: { targets?: number; candidates?: number; droppedTurns?: number } = {}): void {
    this.close();
    this.input.signal?.throwIfAborted();
    this.open = { stage, start: performance.now(), calls: 0, promptTokens: 0, completionTokens: 0 };
    this.emit({ type: 'stage-start', stage, message, ...extra });
  }

  private close(): void {
    if (!this.open) return;
    const { stage, start, calls, promptTokens, completionTokens } = this.open;
    const ms = performance.now() - start;
    this.stages.push({ stage, ms, calls, promptTokens, completionTokens });
    this.emit({ type: 'stage-end', stage, ms });
    this.open = undefined;
  }

  private stage<T>(stage: StageName, message: string, work: () => T): T {
    this.begin(stage, message);
    const value = work();
    this.close();
    return value;
  }

  /** A model call of the open stage; its call and tokens are counted. */
  async chat(request: ChatRequest): Promise<ChatResponse> {
    const response = await this.input.llm.chat(request);
    this.count([response]);
    return response;
  }

  /** A structured call of the open stage; retries are counted too. */
  async structured<T>(
    call: StructuredCall<T>,
    signal = this.input.signal,
    sampling: { temperature?: number; seed?: number } = {},
  ): Promise<T> {
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
    return r.value;
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

  private sampling() {
    const { temperature, seed } = this.input.options;
    return {
      ...(temperature !== undefined ? { temperature } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...numCtxOption(this.contextLength),
    };
  }

  /** The start of the vanilla answer already streamed to the user (see streamUntouched). */
  private prefix = '';
  /** While set, answer text goes through the meaning check's sentence gate before it is shown (see shown()). */
  private gate: SentenceGate | undefined;
  /** Time the meaning check spent scoring, not waiting for the embedding model (for the bench). */
  meaningMs = 0;

  private emit(event: PipelineEvent): void {
    if (this.gate && event.type === 'answer-chunk') this.gate.push(event.text);
    else this.input.onEvent?.(event);
  }

  private result(outcome: PipelineOutcome, finalized: Finalized, touched: readonly ForgetTarget[], refusalReason?: string): PipelineResult {
    this.close();
    const sum = (f: (s: StageRecord) => number) => this.stages.reduce((n, s) => n + f(s), 0);
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
      stages: this.stages,
      calls: sum((s) => s.calls),
      promptTokens: sum((s) => s.promptTokens),
      completionTokens: sum((s) => s.completionTokens),
      totalMs: performance.now() - this.started,
    };
  }
}

/** The question's vectors with the answer's sentence vectors added as its `answer` parts. */
async function withAnswerVectors(asked: Promise<QueryVectors> | undefined, answer: readonly Float32Array[]): Promise<QueryVectors> {
  const first = asked ? await asked : undefined;
  if (!first || 'state' in first) return first ?? { state: { status: 'off' } };
  return { vectors: [...first.vectors, ...answer], parts: [...first.parts, ...answer.map(() => 'answer' as const)] };
}

/** Redactions placed on the markers of the text shown, in order (the last ones when the text holds fewer). */
function placeMarkers(text: string, redactions: readonly Redaction[]): Redaction[] {
  const found = [...text.matchAll(MARKER)];
  if (found.length === 0) return [];
  const sorted = [...redactions].sort((a, b) => a.start - b.start).slice(-found.length);
  return found.slice(-sorted.length).map((m, i) => ({ ...sorted[i]!, start: m.index, end: m.index + m[0].length }));
}

/**
 * The shortlist's binding evidence as touches erasure must honour: a spelled name, alias or name part
 * is `named`; a keyword or meaning score in the sure band is `described`.
 */
function bindingTouches(report: RelevanceReport): Map<string, TouchKind> {
  const touches = new Map<string, TouchKind>();
  for (const e of report.shortlist) {
    if (!e.binding) continue;
    touches.set(e.target.id, e.signals.some((sig) => sig.kind === 'name') ? 'named' : 'described');
  }
  return touches;
}

function reasonLookup(handled: readonly HandledTarget[], touched: ReadonlyMap<string, TouchKind>): (targetId: string) => string {
  const byId = new Map(handled.map((h) => [h.target.id, touched.get(h.handle) ?? 'named']));
  return (id) => `the agents erased it: ${TOUCH_REASON[byId.get(id) ?? 'implied']}`;
}

/**
 * Evidence (tool results) as one query text for meaning: the start of each result (a file's first lines
 * say what it is about), together at most HISTORY_EMBED_CHARS. Keywords and the matcher read it all.
 */
function evidenceParts(evidence: readonly string[]): { part: RequestPart; text: string }[] {
  if (evidence.length === 0) return [];
  const each = Math.max(500, Math.floor(HISTORY_EMBED_CHARS / evidence.length));
  const text = evidence
    .map((e) => e.slice(0, each))
    .join('\n')
    .slice(0, HISTORY_EMBED_CHARS);
  return text.trim() ? [{ part: 'history', text }] : [];
}

/** Longest text of earlier turns embedded as one query: embedding models read only their first few thousand tokens anyway. */
const HISTORY_EMBED_CHARS = 8000;

/**
 * The history as query texts for meaning: the last two turns on their own (what "it" most likely points
 * to), everything earlier as one text, so a 30-turn conversation costs three query vectors, not thirty.
 * Keywords and the lexical matcher still read every turn in full.
 */
function historyParts(sent: readonly ChatMessage[]): { part: RequestPart; text: string }[] {
  const recent = sent.slice(-2).map((m) => ({ part: 'history' as const, text: m.content }));
  const earlier = sent
    .slice(0, -2)
    .map((m) => m.content)
    .join('\n')
    .slice(-HISTORY_EMBED_CHARS);
  return earlier ? [{ part: 'history', text: earlier }, ...recent] : recent;
}

/**
 * The meaning judge, and for an encoding request, a sentence that still holds a long run the guard
 * cannot read as words counts as about the most relevant shortlisted target: the disguise asked for may
 * be one no reading knows.
 */
function unreadableJudge(meaning: SentenceJudge, targetId: string): SentenceJudge {
  return async (sentences) => {
    const hits = await meaning(sentences);
    return sentences.map(
      (s, i): SentenceHit | undefined =>
        hits[i] ?? (longUnreadableRun(s) ? { targetId, kind: 'unreadable', score: 1, threshold: 1 } : undefined),
    );
  };
}
