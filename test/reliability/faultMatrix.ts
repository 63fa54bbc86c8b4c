// Fault matrix: every agent role × every way a server fails, once through the official `ollama` client and
// our adapter against the scripted Ollama, once through the OpenAI-compatible adapter against the scripted
// OpenAI-compatible server (the same scripts and faults on the other wire, plus the faults only that API has:
// a refused key, 429/503 with retries, a prompt over the context length). Each cell checks three things: what the user got (an
// actionable LlmError, a refusal or a guarded answer — never unchecked model text), that nothing is
// left open on the server, and that the next request on the same port works. Each role is reached on
// the path where it runs:
// - vanilla, edit and critic on a question that touches nothing and a draft that names a target only in
//   its third sentence (vanilla → edit → critic: the draft's opening binds nothing, so it is written whole);
// - detect on such a draft that only describes the target (vanilla → detect → edit → critic);
// - ask, the detect agent reading a question in the uncertain band before any draft (detect → rewrite →
//   edit → critic when it finds the target). Its failure refuses nothing: the vanilla agent answers and the
//   draft is audited as any other (detect on the answer included); only a cancel, a dead server, a missing
//   model or a refused key end the request;
// - rewrite on a question that names a target (rewrite → edit → critic, no vanilla draft at all);
// - a vanilla draft whose opening names a target is stopped (the server sees the connection close) and
//   the rewrite agent answers instead, on the prompt the server has cached.
//
// The embed column here exercises the adapter's `embed` directly; embedFaults.ts covers the embed call
// inside the pipeline (relevance by meaning), where a failure degrades to names and keywords.
import { after, before, beforeEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { createOpenAIPort } from '../../src/core/llm/openaiAdapter';
import type { LlmErrorCode } from '../../src/core/llm/errors';
import type { LlmPort } from '../../src/core/llm/port';
import { taskData, type AgentRole } from '../../src/core/agents';
import { REFUSAL, type PipelineOptions } from '../../src/core/pipeline';
import {
  fault,
  reply,
  splitIntoChunks,
  startScriptedOllama,
  type RecordedChat,
  type ReplySource,
  type ScriptedOllama,
  type ScriptedOllamaOptions,
  type ScriptedReply,
} from '../support/scriptedOllama';
import { startScriptedOpenAI } from '../support/scriptedOpenAI';
import { criticEach } from '../support/erasedReplies';
import {
  assertLlmError,
  assertNothingUnchecked,
  assertServerClean,
  COMPOSED_FINAL,
  CRITIC_OK,
  DETECT_OK,
  EDIT_REPLY_OK,
  EMBED_MODEL,
  healthyScript,
  MODEL,
  NAMED_QUESTION,
  observe,
  promptText,
  QUESTION,
  readsQuestion,
  reliabilityCase,
  REWRITE_LEAK,
  REWRITE_LEAK_ERASED,
  REWRITE_OK,
  REWRITTEN_FINAL,
  roleOfBody,
  UNCERTAIN_QUESTION,
  VANILLA_LEAK,
  VANILLA_OPENING_LEAK,
  VANILLA_VAGUE,
  waitUntil,
  type Observed,
} from './support';

/** `ask` is the detect agent reading the question alone; `detect` the same agent reading the answer. */
type Stage = 'vanilla' | 'ask' | 'detect' | 'rewrite' | 'edit' | 'critic';
const STAGES: readonly Stage[] = ['vanilla', 'ask', 'detect', 'rewrite', 'edit', 'critic'];
/** The agent each stage's call comes from (its task's signature, and the call's label). */
const ROLE: Record<Stage, AgentRole> = {
  vanilla: 'vanilla',
  ask: 'detect',
  detect: 'detect',
  rewrite: 'rewrite',
  edit: 'edit',
  critic: 'critic',
};
/** Roles whose reply must fit a schema: a bad reply is retried once, then the request is refused (or, for ask, goes on). */
const STRUCTURED: ReadonlySet<Stage> = new Set(['ask', 'detect', 'edit', 'critic']);
/** What each stage would have said; partial replies are cut from these. */
const GOOD: Record<Stage, string | object> = {
  vanilla: VANILLA_LEAK,
  ask: DETECT_OK,
  detect: DETECT_OK,
  rewrite: REWRITE_OK,
  edit: EDIT_REPLY_OK,
  critic: CRITIC_OK,
};
const textOf = (reply: string | object) => (typeof reply === 'string' ? reply : JSON.stringify(reply));
/** Codes the pipeline never turns into a refusal: the user has to act (or cancelled). */
const PROPAGATED: ReadonlySet<LlmErrorCode> = new Set(['aborted', 'unreachable', 'model-missing', 'auth']);

const DETECT_RETRY = {
  title: 'reply not JSON, then not fitting the schema',
  first: 'Sure! Here is the JSON you asked for:',
  firstReason: /not valid JSON/,
  misfit: { touched: [{ target: 'T1', how: 'guessed' }] },
  misfitReason: /does not fit the schema \(touched/,
};
/** The two bad replies of each structured role's retry case, and what the refusal and the retry say about them. */
const RETRY_CASE: Record<
  'ask' | 'detect' | 'edit' | 'critic',
  { title: string; first: unknown; firstReason: RegExp; misfit: unknown; misfitReason: RegExp }
> = {
  ask: DETECT_RETRY,
  detect: DETECT_RETRY,
  edit: {
    title:
      'no candidate the draft can take (a sentence it lacks, one edited twice, a replacement too long), then a reply not fitting the schema',
    first: {
      touched: [],
      candidates: [
        { drop: [7], replace: [] },
        { drop: [1, 1], replace: [] },
        { drop: [], replace: [{ sentence: 2, text: 'x'.repeat(400) }] },
      ],
    },
    firstReason:
      /candidate 1: sentence 7 does not exist: the draft has 3 sentences; candidate 2: sentence 1 is edited more than once; candidate 3: the replacement of sentence 2 has 400 characters/,
    misfit: { touched: [], candidates: EDIT_REPLY_OK.candidates.slice(0, 2) },
    misfitReason: /does not fit the schema \(candidates/,
  },
  critic: {
    title: 'reply not JSON, then not fitting the schema',
    first: 'Sure! Here is the JSON you asked for:',
    firstReason: /not valid JSON/,
    misfit: { forget: [5], utility: [5] },
    misfitReason: /does not fit the schema \(forget: /,
  },
};

/** The request on which each stage runs, and what it gives when every agent answers well. */
interface Path {
  readonly question: string;
  readonly script: Partial<Record<AgentRole, ReplySource>>;
  readonly calls: readonly AgentRole[];
  readonly answer: string;
}
const DRAFT_NAMES_TARGET: Path = {
  question: QUESTION,
  script: {},
  // The draft names Project Falcon (and "Quist", a name part of Marta Quist): binding, so no detection call.
  calls: ['vanilla', 'edit', 'critic'],
  answer: COMPOSED_FINAL,
};
const PATH: Record<Stage, Path> = {
  vanilla: DRAFT_NAMES_TARGET,
  edit: DRAFT_NAMES_TARGET,
  critic: DRAFT_NAMES_TARGET,
  detect: {
    question: QUESTION,
    script: { vanilla: VANILLA_VAGUE },
    calls: ['vanilla', 'detect', 'edit', 'critic'],
    answer: COMPOSED_FINAL,
  },
  // The question's detection finds the target: no draft. Were it to clear the question or fail, the
  // vanilla agent would write the vague draft.
  ask: {
    question: UNCERTAIN_QUESTION,
    script: { vanilla: VANILLA_VAGUE },
    calls: ['detect', 'rewrite', 'edit', 'critic'],
    answer: REWRITTEN_FINAL,
  },
  rewrite: { question: NAMED_QUESTION, script: {}, calls: ['rewrite', 'edit', 'critic'], answer: REWRITTEN_FINAL },
};

/**
 * A detect script for the ask stage: `source` answers the calls that read the question alone (a list call
 * by call), and the answer's detection finds the target as usual.
 */
function onQuestion(source: ReplySource): ReplySource {
  let calls = 0;
  return (chat: RecordedChat) => {
    if (!readsQuestion(chat)) return DETECT_OK;
    if (typeof source === 'function') return source(chat);
    if (Array.isArray(source)) {
      const list = source as readonly ScriptedReply[];
      return list[Math.min(calls++, list.length - 1)]!;
    }
    return source as ScriptedReply;
  };
}

const OOM = 'llama runner process has terminated: error loading model: out of memory';
const CUDA = 'an error was encountered while running the model: CUDA error: an illegal memory access was encountered';

/** What differs between the two servers: how to start one, connect to it, and what their messages say. */
interface ServerKind {
  readonly title: string;
  /** Prefix of the case names ('' for Ollama, so its cases keep their names). */
  readonly tag: string;
  start(options: ScriptedOllamaOptions): Promise<ScriptedOllama>;
  connect(host: string, extra?: { fetch?: typeof fetch; requestTimeoutMs?: number }): LlmPort;
  readonly unreachable: RegExp;
  readonly unreachableCase: string;
  /** The server's own words for a model that is not there. */
  readonly missingText: (model: string) => string;
  readonly missing: (model: string) => RegExp;
  readonly missingCase: string;
  readonly embedPath: string;
  /** Drops the first vector of an embeddings body. */
  readonly dropFirstVector: (body: unknown) => unknown;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const OLLAMA: ServerKind = {
  title: 'fault matrix (real ollama client + adapter, scripted Ollama)',
  tag: '',
  start: (options) => startScriptedOllama(options),
  connect: (host, extra = {}) => createOllamaPort({ host, ...extra }),
  unreachable: /Cannot reach Ollama at http:\/\/127\.0\.0\.1:\d+\. Is it running\? Start it with `ollama serve`\./,
  unreachableCase: 'LlmError unreachable naming the host and `ollama serve`',
  missingText: (model) => `model "${model}" not found, try pulling it first`,
  missing: (model) =>
    new RegExp(
      `The model "${escape(model)}" is not installed in Ollama at http://127\\.0\\.0\\.1:\\d+\\..*\`ollama pull ${escape(model)}\``,
    ),
  missingCase: 'LlmError model-missing with the pull command',
  embedPath: '/api/embed',
  dropFirstVector: (body) => ({ ...(body as object), embeddings: (body as { embeddings: number[][] }).embeddings.slice(1) }),
};

const OPENAI: ServerKind = {
  title: 'fault matrix (OpenAI-compatible adapter, scripted OpenAI-compatible server)',
  tag: 'openai: ',
  start: (options) => startScriptedOpenAI(options),
  // Retries of 429/503 wait 5 ms, 10 ms, 20 ms here: the cases test what happens, not how long.
  connect: (host, extra = {}) => createOpenAIPort({ baseUrl: host, retryBaseMs: 5, ...extra }),
  unreachable: /Cannot reach the OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+\/v1\. Is it running\?/,
  unreachableCase: 'LlmError unreachable naming the base URL',
  missingText: (model) => `The model \`${model}\` does not exist.`,
  missing: (model) =>
    new RegExp(`The model "${escape(model)}" is not served by the OpenAI-compatible server at http://127\\.0\\.0\\.1:\\d+/v1`),
  missingCase: 'LlmError model-missing naming the server',
  embedPath: '/v1/embeddings',
  dropFirstVector: (body) => ({ ...(body as object), data: (body as { data: unknown[] }).data.slice(1) }),
};

export function faultMatrix(): void {
  matrixFor(OLLAMA);
  matrixFor(OPENAI);
}

/** How a stage's failure ends, for the case names: `llmError` for the vanilla stage. */
function outcomeTitle(stage: Stage, llmError: string, refusal = 'refusal naming the step'): string {
  if (stage === 'vanilla') return llmError;
  if (stage === 'ask') return 'nothing refused yet: the draft is written and audited';
  return refusal;
}

function matrixFor(kind: ServerKind): void {
  describe(kind.title, { timeout: 60_000 }, () => {
    let ollama: ScriptedOllama;
    let llm: LlmPort;

    before(async () => {
      ollama = await kind.start({ models: [MODEL, EMBED_MODEL] });
      llm = kind.connect(ollama.host);
    });
    after(() => ollama.close());
    beforeEach(() => {
      ollama.reset();
      ollama.setScript(healthyScript());
      ollama.setFault('embed', undefined);
    });

    /**
     * The same port answers the stage's whole request correctly right after the fault, every call in turn,
     * each continuing this request's own thread (nothing of the failed request carried over).
     */
    async function nextRequestWorks(stage: Stage): Promise<void> {
      ollama.reset();
      ollama.setScript(healthyScript(PATH[stage].script));
      const seen = await ask(stage);
      assert.equal(seen.result?.outcome, 'erased', `next request: ${String(seen.error ?? seen.result?.refusalReason)}`);
      assert.equal(seen.result.answer, PATH[stage].answer);
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        PATH[stage].calls,
      );
      assertOneThread(ollama.chats);
      assertNothingUnchecked(seen);
      await assertServerClean(ollama);
    }

    /** The first call's conversation (system prompt, question; an agent's without its task) opens every later call. */
    function assertOneThread(chats: readonly RecordedChat[]): void {
      const [first, ...later] = chats;
      const lead = first!.role === 'vanilla' ? first!.messages : first!.messages.slice(0, -1);
      for (const chat of later) assert.deepEqual(chat.messages.slice(0, lead.length), lead, `the ${chat.role} call left the thread`);
    }

    /** Sets the stage's path with `stage` answering `source`; the other agents answer well. */
    function withStage(stage: Stage, source: ReplySource): void {
      ollama.setScript(healthyScript({ ...PATH[stage].script, [ROLE[stage]]: stage === 'ask' ? onQuestion(source) : source }));
    }

    /** Runs the stage's request (on the shared port unless another is given). */
    function ask(stage: Stage, extra: { llm?: LlmPort; signal?: AbortSignal; options?: Partial<PipelineOptions> } = {}): Promise<Observed> {
      return observe({ ...extra, llm: extra.llm ?? llm, question: PATH[stage].question });
    }

    /** The calls of this stage: for the detect agent, those reading the question (ask) or the answer (detect). */
    function stageChats(stage: Stage): RecordedChat[] {
      const own = ollama.chatsOf(ROLE[stage]);
      if (stage === 'ask') return own.filter(readsQuestion);
      if (stage === 'detect') return own.filter((c) => !readsQuestion(c));
      return own;
    }

    /**
     * The calls that reached the server end with the failing stage's (or, when it never arrived, just
     * before it): nothing ran after a failure, and a question that names a target had no vanilla draft.
     */
    function assertStoppedAt(stage: Stage, arrived = true): void {
      const calls = PATH[stage].calls;
      const made = ollama.chats.map((c) => c.role).filter((role, i, all) => all.indexOf(role) === i);
      assert.deepEqual(made, calls.slice(0, calls.indexOf(ROLE[stage]) + (arrived ? 1 : 0)), 'a call after the failing stage');
    }

    function assertRefused(seen: Observed, role: AgentRole, reason: RegExp): void {
      assert.ok(seen.result, `expected a refusal, got ${String(seen.error)}`);
      assert.equal(seen.result.outcome, 'refused');
      assert.equal(seen.result.answer, REFUSAL);
      assert.match(seen.result.refusalReason ?? '', new RegExp(`the ${role} step failed`));
      assert.match(seen.result.refusalReason ?? '', reason);
      assertNothingUnchecked(seen);
    }

    /**
     * The question's detection failed after `questionCalls` calls, and that refused nothing: the vanilla
     * agent answered on the same prompt, and its draft was audited as any other. The target was not
     * cleared, so the detect agent read the answer for it and found it: the usual erased answer.
     */
    function assertWentOn(seen: Observed, questionCalls = 1): void {
      assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
      assert.equal(seen.result.answer, COMPOSED_FINAL);
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        [...Array.from({ length: questionCalls }, () => 'detect'), 'vanilla', 'detect', 'edit', 'critic'],
      );
      assert.equal(stageChats('ask').length, questionCalls);
      assert.equal(stageChats('detect').length, 1, 'the answer was not read for the target the question left open');
      assert.deepEqual(ollama.chatsOf('vanilla')[0]!.messages, stageChats('ask')[0]!.messages.slice(0, -1));
      assert.deepEqual(
        seen.result.touchedTargets.map((t) => t.name),
        ['Project Falcon'],
      );
      assertNothingUnchecked(seen);
    }

    /**
     * Vanilla failures propagate (nothing to refuse yet); a failure of the question's detection lets the
     * draft be written and audited; later stages fail closed with a refusal.
     */
    function assertFailedClosed(seen: Observed, stage: Stage, code: LlmErrorCode, message: RegExp, questionCalls = 1): void {
      if (stage === 'ask' && !PROPAGATED.has(code)) return assertWentOn(seen, questionCalls);
      if (stage === 'vanilla') assertLlmError(seen, code, message);
      else assertRefused(seen, ROLE[stage], message);
      assertNothingUnchecked(seen);
      assertStoppedAt(stage);
    }

    for (const stage of STAGES) {
      describe(`stage: ${stage}`, () => {
        reliabilityCase(
          'fault matrix',
          `${kind.tag}${stage} × connection refused → ${kind.unreachableCase}, the host marked as the suspect`,
          async () => {
            // Every agent answers well, but the server dies just before this stage's request: an injected
            // fetch stops it first.
            withStage(stage, GOOD[stage]);
            let stopped = false;
            const gated = kind.connect(ollama.host, {
              fetch: async (input, init) => {
                if (!stopped && roleOfBody(init?.body) === ROLE[stage]) {
                  stopped = true;
                  await ollama.stop();
                }
                return fetch(input, init);
              },
            });
            const seen = await ask(stage, { llm: gated });
            assert.ok(stopped, 'the stage was never reached');
            const refused = assertLlmError(seen, 'unreachable', kind.unreachable);
            assert.equal(refused.details.suspect, 'host');
            assertNothingUnchecked(seen);
            assertStoppedAt(stage, false);
            assert.equal(ollama.openConnections, 0);
            await ollama.start();
            await nextRequestWorks(stage);
          },
        );

        reliabilityCase('fault matrix', `${kind.tag}${stage} × HTTP 404 model not found → ${kind.missingCase}`, async () => {
          let seen: Observed;
          if (stage === 'vanilla') {
            // The real thing: a model that is not installed at all.
            seen = await ask(stage, { options: { model: 'mistral-nemo' } });
            assertLlmError(seen, 'model-missing', kind.missing('mistral-nemo'));
          } else {
            // A model unloaded or deleted between two agents of one request (or, for ask, before any draft).
            withStage(stage, fault.http(404, kind.missingText(MODEL)));
            seen = await ask(stage);
            assertLlmError(seen, 'model-missing', kind.missing(MODEL));
            assertStoppedAt(stage);
          }
          assertNothingUnchecked(seen);
          await assertServerClean(ollama);
          await nextRequestWorks(stage);
        });

        reliabilityCase(
          'fault matrix',
          `${kind.tag}${stage} × HTTP 500 → ${outcomeTitle(stage, 'LlmError http with the server text')}`,
          async () => {
            withStage(stage, fault.http(500, OOM));
            const seen = await ask(stage);
            assertFailedClosed(seen, stage, 'http', /HTTP 500.*out of memory/);
            await assertServerClean(ollama);
            await nextRequestWorks(stage);
          },
        );

        reliabilityCase(
          'fault matrix',
          `${kind.tag}${stage} × error line mid-stream → ${outcomeTitle(stage, 'LlmError stream', 'refusal')}; the partial reply is never shown`,
          async () => {
            withStage(stage, fault.errorLine(CUDA, { content: textOf(GOOD[stage]), afterChunks: 4 }));
            const seen = await ask(stage);
            assertFailedClosed(seen, stage, 'stream', /reported an error during .*CUDA error/);
            await assertServerClean(ollama);
            await nextRequestWorks(stage);
          },
        );

        reliabilityCase(
          'fault matrix',
          `${kind.tag}${stage} × stream cut without its final chunk → ${outcomeTitle(stage, 'LlmError stream "cut off"', 'refusal')}`,
          async () => {
            withStage(stage, fault.cut({ content: textOf(GOOD[stage]), afterChunks: 4 }));
            const seen = await ask(stage);
            assertFailedClosed(seen, stage, 'stream', /was cut off: the stream ended before its (final chunk|end \(\[DONE\]\)).*try again/);
            await assertServerClean(ollama);
            await nextRequestWorks(stage);
          },
        );

        reliabilityCase(
          'fault matrix',
          `${kind.tag}${stage} × first token slower than the timeout → ${outcomeTitle(stage, 'LlmError timeout', 'refusal')}; the server sees the request go away`,
          async () => {
            withStage(stage, reply(GOOD[stage], { firstTokenDelayMs: 3000 }));
            // Only this stage's agent gets the 300 ms limit, so a busy machine cannot time out a healthy stage
            // first (for ask, the answer's detection gets it too, and answers at once).
            const impatient: LlmPort = {
              ...llm,
              chat: (request) => llm.chat(request.label === ROLE[stage] ? { ...request, firstTokenTimeoutMs: 300 } : request),
            };
            const seen = await ask(stage, { llm: impatient });
            assertFailedClosed(seen, stage, 'timeout', /got no first token within 300 ms\..*raise the first-token timeout/);
            assert.ok(seen.ms < 2500, `took ${Math.round(seen.ms)} ms: the timeout did not cut the wait`);
            await assertServerClean(ollama);
            assert.equal(ollama.clientAborts, 1, 'the abandoned request was not closed');
            await nextRequestWorks(stage);
          },
        );

        if (STRUCTURED.has(stage)) {
          const retry = RETRY_CASE[stage as keyof typeof RETRY_CASE];
          reliabilityCase(
            'fault matrix',
            `${kind.tag}${stage} × ${retry.title} → retried once, then ${stage === 'ask' ? 'the draft is written and audited' : 'a refusal'}`,
            async () => {
              // The first attempt ends with the agent's task; the retry with the problem restated.
              withStage(stage, (chat) => (/could not be used: /.test(chat.messages.at(-1)!.content) ? retry.misfit : retry.first));
              const seen = await ask(stage);
              if (stage === 'ask') assertWentOn(seen, 2);
              else {
                assertRefused(seen, ROLE[stage], /could not be read twice in a row/);
                assert.match(seen.result!.refusalReason!, retry.misfitReason);
                assertStoppedAt(stage);
              }
              assert.equal(stageChats(stage).length, 2, 'expected exactly one retry');
              assert.match(stageChats(stage)[1]!.messages.at(-1)!.content, retry.firstReason);
              await assertServerClean(ollama);
              await nextRequestWorks(stage);
            },
          );
        }

        if (stage === 'ask') {
          reliabilityCase(
            'fault matrix',
            `${kind.tag}ask × the question cleared → the vanilla agent answers on the same prompt; a draft that names the target is still erased`,
            async () => {
              // What the question's detection cleared holds for the question only: the name in the draft binds.
              ollama.setScript(healthyScript({ detect: onQuestion({ touched: [] }) }));
              const seen = await ask(stage);
              assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
              assert.equal(seen.result.answer, COMPOSED_FINAL);
              assert.deepEqual(
                ollama.chats.map((c) => c.role),
                ['detect', 'vanilla', 'edit', 'critic'],
              );
              assertOneThread(ollama.chats);
              assertNothingUnchecked(seen);
              await assertServerClean(ollama);
              await nextRequestWorks(stage);
            },
          );
        }

        if (stage === 'edit') {
          reliabilityCase(
            'fault matrix',
            `${kind.tag}edit × one candidate unreadable → junk; the critic scores the other two by number; the usual answer`,
            async () => {
              const [one, , three] = EDIT_REPLY_OK.candidates;
              withStage('edit', { touched: [], candidates: [one, { drop: [9], replace: [] }, three] });
              ollama.scriptRole(
                'critic',
                criticEach((_, n) => ({ forget: 5, utility: 6 - n })),
              );
              const seen = await ask(stage);
              assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
              assert.equal(seen.result.answer, COMPOSED_FINAL);
              assert.equal(ollama.chatsOf('edit').length, 1, 'one usable candidate is enough: no retry');
              assert.deepEqual(taskData(ollama.chatsOf('critic')[0]!.messages.at(-1))?.score_candidates, [1, 3]);
              assertNothingUnchecked(seen);
              await assertServerClean(ollama);
              await nextRequestWorks(stage);
            },
          );
        }

        if (stage === 'rewrite') {
          reliabilityCase(
            'fault matrix',
            `${kind.tag}rewrite × a reply of nothing but control characters → refusal naming the step; no vanilla draft instead`,
            async () => {
              withStage('rewrite', '\u0000\u001b[0m\u200e');
              const seen = await ask(stage);
              assertFailedClosed(seen, stage, 'malformed', /the rewrite agent wrote nothing/);
              await assertServerClean(ollama);
              await nextRequestWorks(stage);
            },
          );
        }

        reliabilityCase(
          'fault matrix',
          `${kind.tag}${stage} × reply repeats the forget target verbatim → ${verbatimOutcome(stage)}`,
          async () => {
            if (stage === 'edit') {
              // Replacements that put the name back: the guard vetoes every candidate, whatever the critic says.
              withStage(stage, [
                { drop: [], replace: [{ sentence: 2, text: 'Project Falcon uses GPS.' }] },
                { drop: [], replace: [] },
                { drop: [3], replace: [{ sentence: 1, text: 'F4lc0n is a drone.' }] },
              ]);
            } else if (stage === 'critic' || stage === 'detect' || stage === 'ask') {
              // Only the structured fields are read; any text beside them is never shown.
              withStage(stage, { ...(GOOD[stage] as object), comment: VANILLA_LEAK });
            } else if (stage === 'rewrite') {
              // The rewrite agent ignores its task: its draft is checked like a vanilla one.
              withStage(stage, REWRITE_LEAK);
            } // vanilla: the healthy vanilla answer already names the target and the secret fact.
            const seen = await ask(stage);
            assertNothingUnchecked(seen);
            const result = seen.result!;
            if (stage === 'edit') {
              assert.equal(result.outcome, 'refused');
              assert.match(result.refusalReason!, /the edit step failed: all 3 erased answers still named a target/);
              assert.equal(ollama.chatsOf('critic').length, 0);
            } else {
              assert.equal(result.outcome, 'erased', result.refusalReason);
              assert.equal(result.answer, stage === 'rewrite' ? REWRITE_LEAK_ERASED : PATH[stage].answer);
              assert.deepEqual(
                ollama.chats.map((c) => c.role),
                PATH[stage].calls,
              );
            }
            await assertServerClean(ollama);
            await nextRequestWorks(stage);
          },
        );

        reliabilityCase(
          'fault matrix',
          `${kind.tag}${stage} × user cancels → LlmError aborted; the server sees the connection close`,
          async () => {
            const controller = new AbortController();
            withStage(stage, () => {
              setTimeout(() => controller.abort(), 30);
              return fault.hang();
            });
            const seen = await ask(stage, { signal: controller.signal });
            assertLlmError(seen, 'aborted', /cancelled/);
            assertNothingUnchecked(seen);
            await assertServerClean(ollama);
            assert.equal(ollama.clientAborts, 1);
            assertStoppedAt(stage);
            await nextRequestWorks(stage);
          },
        );

        if (kind === OPENAI) openaiOnly(stage);
      });
    }

    /** Faults only the OpenAI-compatible API has. */
    function openaiOnly(stage: Stage): void {
      reliabilityCase(
        'fault matrix',
        `openai: ${stage} × HTTP 401 (key refused) → LlmError auth, never a refusal: the key is the user's to fix`,
        async () => {
          withStage(stage, fault.http(401, 'Unauthorized'));
          const seen = await ask(stage);
          assertLlmError(seen, 'auth', /refused the API key \(HTTP 401: Unauthorized\)/);
          assertNothingUnchecked(seen);
          assertStoppedAt(stage);
          await assertServerClean(ollama);
          await nextRequestWorks(stage);
        },
      );

      reliabilityCase('fault matrix', `openai: ${stage} × HTTP 429 twice, then an answer → retried; the usual guarded answer`, async () => {
        // The edit reply is the whole one (all three candidates), so one list serves its three attempts.
        withStage(stage, [fault.http(429, 'rate limited'), fault.http(429, 'rate limited'), GOOD[stage]]);
        const seen = await ask(stage);
        assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
        assert.equal(seen.result.answer, PATH[stage].answer);
        assert.equal(stageChats(stage).length, 3);
        assertNothingUnchecked(seen);
        await assertServerClean(ollama);
        await nextRequestWorks(stage);
      });

      reliabilityCase(
        'fault matrix',
        `openai: ${stage} × HTTP 503 that does not clear → ${outcomeTitle(stage, 'LlmError overloaded after the retries', 'refusal naming the overload')}`,
        async () => {
          withStage(stage, fault.http(503, 'Service Unavailable'));
          const seen = await ask(stage);
          assertFailedClosed(
            seen,
            stage,
            'overloaded',
            /is overloaded \(HTTP 503: Service Unavailable\), and still was after 3 retries/,
            4,
          );
          assert.equal(stageChats(stage).length, 4);
          await assertServerClean(ollama);
          await nextRequestWorks(stage);
        },
      );

      reliabilityCase(
        'fault matrix',
        `openai: ${stage} × prompt over the context length → ${outcomeTitle(stage, 'LlmError context-length', 'refusal')}`,
        async () => {
          withStage(
            stage,
            fault.http(
              400,
              "This model's maximum context length is 2048 tokens. However, you requested 2600 tokens. Please reduce the length of the messages.",
            ),
          );
          const seen = await ask(stage);
          assertFailedClosed(
            seen,
            stage,
            'context-length',
            /prompt does not fit llama3\.2:latest's context window.*maximum context length is 2048/,
          );
          await assertServerClean(ollama);
          await nextRequestWorks(stage);
        },
      );
    }

    describe('stage: vanilla stopped by its opening', () => {
      /**
       * The draft names the target in its first sentence; its opening (two sentences) is complete once the
       * third begins. The server then holds the rest, as a slow model would: only the pipeline's stop ends
       * the call (had it not stopped, the request would wait for its total timeout).
       */
      const stoppingDraft = () => fault.hang({ content: VANILLA_OPENING_LEAK, afterChunks: splitIntoChunks(VANILLA_OPENING_LEAK).length });
      const STOPPED_CALLS: readonly AgentRole[] = ['vanilla', 'rewrite', 'edit', 'critic'];

      /** Nothing of the stopped draft was shown, or sent to any later call. */
      function assertDraftUnused(seen: Observed, server: ScriptedOllama): void {
        assert.ok(!seen.chunks.join('').includes('stealth drone'), 'the stopped draft was shown');
        for (const chat of server.chats.slice(1))
          assert.ok(!promptText(chat).includes('stealth drone'), `the ${chat.role} call saw the draft`);
        assertNothingUnchecked(seen);
      }

      reliabilityCase(
        'fault matrix',
        `${kind.tag}vanilla × its opening names the target → stopped (the server sees the connection close); the rewrite agent answers on the same prompt`,
        async () => {
          ollama.setScript(healthyScript({ vanilla: stoppingDraft() }));
          const seen = await ask('vanilla');
          assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
          assert.equal(seen.result.answer, REWRITTEN_FINAL);
          assert.ok(seen.ms < 2500, `took ${Math.round(seen.ms)} ms: the draft was not stopped`);
          assert.deepEqual(
            ollama.chats.map((c) => c.role),
            STOPPED_CALLS,
          );
          // What the opening named ("Quist" is a name part of Marta Quist) is touched on the rewrite path.
          assert.deepEqual(
            seen.result.touchedTargets.map((t) => t.name),
            ['Project Falcon', 'Marta Quist'],
          );
          // The rewrite continues the vanilla prompt as sent, with no draft turn.
          assert.deepEqual(ollama.chatsOf('rewrite')[0]!.messages.slice(0, -1), ollama.chatsOf('vanilla')[0]!.messages);
          assertOneThread(ollama.chats);
          assertDraftUnused(seen, ollama);
          await assertServerClean(ollama);
          assert.equal(ollama.clientAborts, 1, 'the stopped call was not closed');
          await nextRequestWorks('vanilla');
        },
      );

      reliabilityCase(
        'fault matrix',
        `${kind.tag}vanilla stopped by its opening × user cancels in the pause before the rewrite → LlmError aborted; no rewrite call`,
        async () => {
          ollama.setScript(healthyScript({ vanilla: stoppingDraft() }));
          const controller = new AbortController();
          // The cancel comes 20 ms after the stop, inside the pause (100 ms) the pipeline gives the server
          // to free the stopped call's slot: a timer set earlier for less time always fires first.
          const cancelling: LlmPort = {
            ...llm,
            chat: async (request) => {
              try {
                return await llm.chat(request);
              } catch (error) {
                if (request.label === 'vanilla') setTimeout(() => controller.abort(), 20);
                throw error;
              }
            },
          };
          const seen = await ask('vanilla', { llm: cancelling, signal: controller.signal });
          assertLlmError(seen, 'aborted', /cancelled/);
          assert.deepEqual(
            ollama.chats.map((c) => c.role),
            ['vanilla'],
          );
          assertDraftUnused(seen, ollama);
          await assertServerClean(ollama);
          assert.equal(ollama.clientAborts, 1);
          await nextRequestWorks('vanilla');
        },
      );

      reliabilityCase(
        'fault matrix',
        `${kind.tag}vanilla stopped by its opening × the rewrite fails (HTTP 500) → refusal naming the rewrite step; the draft is never shown`,
        async () => {
          ollama.setScript(healthyScript({ vanilla: stoppingDraft(), rewrite: fault.http(500, OOM) }));
          const seen = await ask('vanilla');
          assertRefused(seen, 'rewrite', /HTTP 500.*out of memory/);
          assert.ok(seen.ms < 2500, `took ${Math.round(seen.ms)} ms: the draft was not stopped`);
          assert.deepEqual(
            ollama.chats.map((c) => c.role),
            ['vanilla', 'rewrite'],
          );
          assertDraftUnused(seen, ollama);
          await assertServerClean(ollama);
          assert.equal(ollama.clientAborts, 1);
          await nextRequestWorks('vanilla');
        },
      );

      reliabilityCase(
        'fault matrix',
        `${kind.tag}vanilla × fails mid-stream after an opening that binds but could not be stopped (a sentence was shown) → LlmError stream, not the rewrite path`,
        async () => {
          // The first sentence touches nothing and is shown; the second names the target, so the opening
          // binds but the draft is not stopped (it has been shown in part). Its own failure then is a
          // vanilla failure, as on any other draft: only a stop the pipeline made leads to the rewrite.
          const shown = 'Hobby pilots fly many kinds of aircraft.';
          ollama.setScript(
            healthyScript({ vanilla: fault.errorLine(CUDA, { content: `${shown} Project Falcon is a drone. More follows here` }) }),
          );
          const seen = await ask('vanilla');
          assert.ok(seen.error, `expected an LlmError, got outcome ${seen.result?.outcome}: ${seen.chunks.join('')}`);
          assert.equal((seen.error as { code?: string }).code, 'stream');
          assert.deepEqual(seen.chunks, [shown]);
          assert.deepEqual(
            ollama.chats.map((c) => c.role),
            ['vanilla'],
          );
          await assertServerClean(ollama);
        },
      );

      for (const slots of [1, 2]) {
        reliabilityCase(
          'fault matrix',
          `${kind.tag}vanilla stopped by its opening, paced server with ${slots} slot${slots > 1 ? 's' : ''} → the rewrite runs in the stopped call's slot at once and finds its prompt cached`,
          async () => {
            const paced = await kind.start({ models: [MODEL], speed: { slots, loadSeconds: 0, timeScale: 0.05 } });
            try {
              // Paced like a model (30 tokens a second, 20× faster here): the long rest would take seconds.
              const long = `${VANILLA_OPENING_LEAK} ${'Its makers tested it over many quiet summers. '.repeat(40)}`;
              paced.setScript(healthyScript({ vanilla: long }));
              const seen = await observe({ llm: kind.connect(paced.host), question: QUESTION });
              assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
              assert.equal(seen.result.answer, REWRITTEN_FINAL);
              assert.deepEqual(
                paced.chats.map((c) => c.role),
                STOPPED_CALLS,
              );
              assertDraftUnused(seen, paced);
              const [vanilla, rewrite] = paced.chats.map((c) => paced.timingOf(c)!);
              // A cancelled call never finishes (no doneAt); its generation ended when it was stopped.
              assert.ok(vanilla!.doneAt === undefined && vanilla!.generationSeconds * 30 < 100, 'the draft was not stopped early');
              // The pause let the server free the slot first: no wait behind the stopped call, and its
              // prompt (the whole vanilla prompt: the rewrite only adds its task) is read from the cache.
              assert.ok(rewrite!.queuedSeconds < 1e-6, `the rewrite waited ${rewrite!.queuedSeconds} s for a slot`);
              assert.equal(rewrite!.slot, vanilla!.slot);
              const prompt = paced.chats[0]!.promptTokens;
              assert.ok(rewrite!.cachedTokens >= prompt * 0.9, `${rewrite!.cachedTokens} of the ${prompt} prompt tokens cached`);
              await assertServerClean(paced);
              assert.equal(paced.clientAborts, 1);
            } finally {
              await paced.close();
            }
          },
        );
      }
    });

    describe('stage: embed (adapter)', () => {
      const INPUT = ['Project Falcon', 'drones in general'];

      async function nextEmbedWorks(): Promise<void> {
        ollama.setFault('embed', undefined);
        const vectors = await llm.embed(EMBED_MODEL, INPUT);
        assert.equal(vectors.length, 2);
        assert.equal(vectors[0]!.length, 64);
        await assertServerClean(ollama);
      }

      async function embedError(port: LlmPort, signal?: AbortSignal): Promise<Error & { code?: string }> {
        try {
          await port.embed(EMBED_MODEL, INPUT, signal);
        } catch (error) {
          assert.ok(error instanceof Error && error.name === 'LlmError', `expected an LlmError, got ${String(error)}`);
          return error as Error & { code?: string };
        }
        assert.fail('embed succeeded');
      }

      reliabilityCase('fault matrix', `${kind.tag}embed × connection refused → LlmError unreachable`, async () => {
        await ollama.stop();
        const error = await embedError(llm);
        assert.equal(error.code, 'unreachable');
        assert.match(error.message, kind.unreachable);
        await ollama.start();
        await nextEmbedWorks();
      });

      reliabilityCase('fault matrix', `${kind.tag}embed × HTTP 404 model not found → ${kind.missingCase}`, async () => {
        const error = await (async () => {
          try {
            await llm.embed('mxbai-embed-large', INPUT);
          } catch (e) {
            return e as Error & { code?: string };
          }
          assert.fail('embed succeeded');
        })();
        assert.equal(error.code, 'model-missing');
        assert.match(error.message, kind.missing('mxbai-embed-large'));
        await assertServerClean(ollama);
        await nextEmbedWorks();
      });

      reliabilityCase('fault matrix', `${kind.tag}embed × HTTP 500 → LlmError http with the server text`, async () => {
        ollama.setFault('embed', fault.http(500, OOM));
        const error = await embedError(llm);
        assert.equal(error.code, 'http');
        assert.match(error.message, /HTTP 500 to the embed call.*out of memory/);
        await assertServerClean(ollama);
        await nextEmbedWorks();
      });

      reliabilityCase(
        'fault matrix',
        `${kind.tag}embed × error during generation (not streamed: sent as a 500 body) → LlmError http`,
        async () => {
          ollama.setFault('embed', fault.errorLine(CUDA));
          const error = await embedError(llm);
          assert.equal(error.code, 'http');
          assert.match(error.message, /CUDA error/);
          await assertServerClean(ollama);
          await nextEmbedWorks();
        },
      );

      reliabilityCase('fault matrix', `${kind.tag}embed × reply cut half-way → LlmError stream "cut off"`, async () => {
        ollama.setFault('embed', fault.cut());
        const error = await embedError(llm);
        assert.equal(error.code, 'stream');
        assert.match(error.message, /cut off/);
        await assertServerClean(ollama);
        await nextEmbedWorks();
      });

      reliabilityCase(
        'fault matrix',
        `${kind.tag}embed × reply slower than the request timeout → LlmError timeout; the server sees the request go away`,
        async () => {
          const impatient = kind.connect(ollama.host, { requestTimeoutMs: 300 });
          ollama.setFault('embed', fault.hang());
          const started = performance.now();
          const error = await embedError(impatient);
          assert.equal(error.code, 'timeout');
          assert.match(error.message, /took longer than 300 ms/);
          assert.ok(performance.now() - started < 2500);
          await assertServerClean(ollama);
          assert.equal(ollama.clientAborts, 1);
          await nextEmbedWorks();
        },
      );

      reliabilityCase(
        'fault matrix',
        `${kind.tag}embed × reply that does not fit (fewer vectors than inputs) → LlmError malformed`,
        async () => {
          const rewriting = kind.connect(ollama.host, {
            fetch: async (input, init) => {
              const response = await fetch(input, init);
              if (!String(input).endsWith(kind.embedPath)) return response;
              const body = kind.dropFirstVector(await response.json());
              return new Response(JSON.stringify(body), {
                status: 200,
                headers: { 'content-type': 'application/json' },
              });
            },
          });
          const error = await embedError(rewriting);
          assert.equal(error.code, 'malformed');
          assert.match(error.message, /returned 1 embeddings for 2 inputs/);
          await assertServerClean(ollama);
          await nextEmbedWorks();
        },
      );

      reliabilityCase(
        'fault matrix',
        `${kind.tag}embed × user cancels → LlmError aborted; the server sees the connection close`,
        async () => {
          ollama.setFault('embed', fault.hang());
          const controller = new AbortController();
          // Cancel once the server holds the request (a fixed delay could fire before it arrives on a busy machine).
          void waitUntil(() => ollama.requests.some((r) => r.path === kind.embedPath), 'the embed request never arrived', 5000).then(() =>
            controller.abort(),
          );
          const error = await embedError(llm, controller.signal);
          assert.equal(error.code, 'aborted');
          assert.match(error.message, /cancelled/);
          await assertServerClean(ollama);
          assert.equal(ollama.clientAborts, 1);
          await nextEmbedWorks();
        },
      );
    });
  });
}

function verbatimOutcome(stage: Stage): string {
  switch (stage) {
    case 'vanilla':
      return 'the agents erase it; the vanilla answer is never shown';
    case 'edit':
      return 'the guard vetoes every candidate; refusal';
    case 'critic':
    case 'detect':
      return `the ${stage} agent's text is never shown`;
    case 'ask':
      return "the detect agent's text is never shown; the rewrite agent answers";
    case 'rewrite':
      return 'its draft is edited like a vanilla one and never shown as written';
  }
}
