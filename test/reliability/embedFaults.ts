// The embed call inside the pipeline: whatever the embedding model does (missing, unreachable, wrong
// size, NaN, slow, cancelled), the request goes on with names and keywords, says why in its relevance
// report, never shows unchecked text, and leaves nothing open on the server. Agent failures after it
// still fail closed (the fault matrix covers those).
import { after, before, beforeEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../src/core/guard';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import type { LlmPort } from '../../src/core/llm/port';
import { parseTargets } from '../../src/core/targets';
import { reply, startScriptedOllama, type RecordedChat, type ScriptedOllama } from '../support/scriptedOllama';
import { criticEach, editReply } from '../support/erasedReplies';
import {
  assertLlmError,
  assertNothingUnchecked,
  assertServerClean,
  EMBED_MODEL,
  MODEL,
  observe,
  promptText,
  RAW_TARGETS,
  readsQuestion,
  reliabilityCase,
  waitUntil,
  type Observed,
} from './support';

const TOPIC = {
  name: 'The Lantern Keepers',
  description:
    'The Lantern Keepers fantasy novels and films: Brightwater Academy, its headmistress Orla Fenwick, the young wizard Caspian Drewe and the dark lord Morvane.',
};
/** Names nothing, but a rare word of the description: keywords alone bring the target in. */
const KEYWORD_QUESTION = 'Who runs Brightwater Academy?';
/** Names nothing and shares no rare word: only meaning brings the target in. */
const MEANING_QUESTION = 'Which wizarding school do the young witches attend in that fantasy series?';
/** Names nothing and shares no content word, but its meaning alone is in the sure band: it binds the target. */
const BINDING_QUESTION = 'Which college for sorcerers appears in that book series with a movie about an evil villain?';
/** Names nothing, but enough rare words of the description to bind the target by keywords alone. */
const KEYWORD_BINDING_QUESTION = 'Who is headmistress Orla Fenwick of Brightwater Academy?';
const LEAKY = 'Headmistress Orla Fenwick runs it; her best pupil is the wizard Caspian Drewe.';
const FORBIDDEN = ['Orla Fenwick', 'Caspian'];
const ERASED = 'I cannot share details about that series.';

const TOUCHED = { touched: [{ target: 'T1', how: 'described' }] };

function topicScript() {
  return {
    vanilla: LEAKY,
    detect: TOUCHED,
    rewrite: 'That series is not something I can discuss.',
    // Every edit set replaces the one sentence the same way: one distinct candidate, shown as written.
    edit: editReply({ replace: [{ sentence: 1, text: ERASED }] }),
    critic: criticEach({ forget: 5, utility: 3 }),
  };
}

/**
 * For KEYWORD_QUESTION, whose rare word puts the topic in the uncertain band: the detect agent reading the
 * question alone clears it, so the vanilla agent writes LEAKY, which then has to be caught on keywords.
 */
function clearedQuestionScript() {
  return { ...topicScript(), detect: (chat: RecordedChat) => (readsQuestion(chat) ? { touched: [] } : TOUCHED) };
}

export function embedFaults(): void {
  describe('fault matrix: the embed call inside the pipeline (relevance by meaning)', { timeout: 60_000 }, () => {
    let ollama: ScriptedOllama;
    let llm: LlmPort;
    const options = { embeddingModel: EMBED_MODEL, embeddingTimeoutMs: 2000, auditPolicy: 'related' as const };
    /** A fresh index per case: a failure is remembered per index and model for a minute. */
    const freshIndex = () => buildTargetIndex(parseTargets([TOPIC, ...RAW_TARGETS]).targets);

    before(async () => {
      ollama = await startScriptedOllama({ models: [MODEL, EMBED_MODEL] });
      llm = createOllamaPort({ host: ollama.host });
    });
    after(() => ollama.close());
    beforeEach(() => {
      ollama.reset();
      ollama.setScript(clearedQuestionScript());
      ollama.setFault('embed', undefined);
      ollama.embedOverride = undefined;
      ollama.embedDelayMs = 0;
    });

    function assertWentOnWithKeywords(seen: Observed, status: RegExp): void {
      assert.ok(seen.result, `expected an answer, got ${String(seen.error)}`);
      assert.equal(seen.result.outcome, 'erased', seen.result.refusalReason);
      assert.equal(seen.result.answer, ERASED);
      assert.match(seen.result.relevance?.semantic.status ?? '', status);
      const entry = seen.result.relevance?.shortlist.find((e) => e.name === TOPIC.name);
      assert.deepEqual(
        entry?.signals.map((s) => s.kind),
        ['keyword'],
      );
      // The question's detection cleared the topic; the draft spells its facts: keywords alone reach the
      // sure band, so the answer needs no detection call.
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['detect', 'vanilla', 'edit', 'critic'],
      );
      assertNothingUnchecked(seen, FORBIDDEN);
    }

    /** The same port, a fresh index: meaning works again and finds a question that names nothing. */
    async function nextRequestWorks(): Promise<void> {
      ollama.reset();
      ollama.setScript(topicScript());
      ollama.setFault('embed', undefined);
      ollama.embedOverride = undefined;
      ollama.embedDelayMs = 0;
      const seen = await observe({ llm, index: freshIndex(), question: MEANING_QUESTION, options });
      assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
      assert.equal(seen.result.relevance?.semantic.status, 'ok');
      assert.ok(
        seen.result.relevance?.shortlist.some((e) => e.name === TOPIC.name && e.signals.some((s) => s.kind === 'meaning' && s.over)),
      );
      // The question alone is under every threshold, so no detection reads it first and the vanilla agent
      // answers; with its answer the topic is over the meaning threshold, and the answer's facts bind it.
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['vanilla', 'edit', 'critic'],
      );
      assertNothingUnchecked(seen, FORBIDDEN);
      await assertServerClean(ollama);
    }

    reliabilityCase(
      'fault matrix',
      'embed in the pipeline × healthy: a question that names nothing reaches the erasure agents by meaning',
      async () => {
        await nextRequestWorks();
      },
    );

    /**
     * The question alone binds the target: the pipeline waits for the question's vectors (or their
     * failure) before any draft, so the vanilla agent (slow here) is never asked, and the rewrite agent
     * answers from the question alone, with no detection call either.
     */
    async function assertNoDraft(seen: Observed, question: string): Promise<void> {
      assert.equal(seen.result?.outcome, 'erased', String(seen.error ?? seen.result?.refusalReason));
      assert.equal(seen.result.answer, ERASED);
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['rewrite', 'edit', 'critic'],
      );
      assert.ok(seen.ms < 2500, `took ${Math.round(seen.ms)} ms: the request waited for a draft it did not need`);
      await assertServerClean(ollama);
      assert.equal(ollama.clientAborts, 0, 'a call was started and given up');
      // The rewrite reads the vanilla prompt (the question last) and its task: there was no draft to see.
      const rewrite = ollama.chatsOf('rewrite')[0]!;
      assert.deepEqual(
        rewrite.messages.slice(-3).map((m) => m.role),
        ['system', 'user', 'user'],
      );
      assert.equal(rewrite.messages.at(-2)!.content, question);
      for (const chat of ollama.chats) assert.ok(!promptText(chat).includes('her best pupil'), `the ${chat.role} call saw a draft`);
      assertNothingUnchecked(seen, FORBIDDEN);
    }

    reliabilityCase(
      'fault matrix',
      'embed in the pipeline × healthy: a question that binds a target by meaning alone gets no vanilla draft: its vectors come first',
      async () => {
        ollama.setScript({ ...topicScript(), vanilla: reply(LEAKY, { firstTokenDelayMs: 3000 }) });
        const seen = await observe({ llm, index: freshIndex(), question: BINDING_QUESTION, options });
        await assertNoDraft(seen, BINDING_QUESTION);
        const entry = seen.result?.relevance?.shortlist.find((e) => e.name === TOPIC.name);
        assert.deepEqual(
          entry?.signals.map((s) => [s.kind, s.binding]),
          [['meaning', true]],
        );
        await nextRequestWorks();
      },
    );

    reliabilityCase(
      'fault matrix',
      'embed in the pipeline × model missing, a question that binds by keywords alone → no vanilla draft once the failure is known',
      async () => {
        ollama.setScript({ ...topicScript(), vanilla: reply(LEAKY, { firstTokenDelayMs: 3000 }) });
        const seen = await observe({
          llm,
          index: freshIndex(),
          question: KEYWORD_BINDING_QUESTION,
          // Another missing model than the next case's, whose first failure notice it counts.
          options: { ...options, embeddingModel: 'bge-m3' },
        });
        await assertNoDraft(seen, KEYWORD_BINDING_QUESTION);
        assert.equal(seen.result?.relevance?.semantic.status, 'unavailable');
        await nextRequestWorks();
      },
    );

    reliabilityCase(
      'fault matrix',
      'embed in the pipeline × model missing → goes on with keywords; the report names the model to pull',
      async () => {
        const index = freshIndex();
        const seen = await observe({
          llm,
          index,
          question: KEYWORD_QUESTION,
          options: { ...options, embeddingModel: 'mxbai-embed-large' },
        });
        assertWentOnWithKeywords(seen, /^unavailable$/);
        assert.equal(seen.result?.relevance?.semantic.pull, 'mxbai-embed-large');
        const notices = seen.events.filter((e) => e.type === 'relevance-notice');
        assert.equal(notices.length, 1, 'the first failure is reported once as an event');
        // The second request on the same list neither calls the missing model again nor repeats the notice.
        assert.ok(ollama.requests.some((r) => r.path === '/api/embed'));
        ollama.reset();
        ollama.setScript(clearedQuestionScript());
        const again = await observe({
          llm,
          index,
          question: KEYWORD_QUESTION,
          options: { ...options, embeddingModel: 'mxbai-embed-large' },
        });
        assertWentOnWithKeywords(again, /^unavailable$/);
        assert.equal(again.events.filter((e) => e.type === 'relevance-notice').length, 0);
        assert.equal(ollama.requests.filter((r) => r.path === '/api/embed').length, 0, 'the missing model was asked again at once');
        await assertServerClean(ollama);
        await nextRequestWorks();
      },
    );

    reliabilityCase('fault matrix', 'embed in the pipeline × server unreachable for embed → goes on with keywords', async () => {
      const split = createOllamaPort({
        host: ollama.host,
        fetch: async (input, init) => {
          if (String(input).endsWith('/api/embed'))
            throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
          return fetch(input, init);
        },
      });
      const seen = await observe({ llm: split, index: freshIndex(), question: KEYWORD_QUESTION, options });
      assertWentOnWithKeywords(seen, /^unavailable$/);
      assert.match(seen.result?.relevance?.semantic.problem ?? '', /Cannot reach Ollama/);
      assert.equal(seen.result?.relevance?.semantic.unreachable, true);
      // The server being down is no fault of the embedding model: no notice pointing at its setting.
      assert.equal(seen.events.filter((e) => e.type === 'relevance-notice').length, 0);
      await assertServerClean(ollama);
      await nextRequestWorks();
    });

    reliabilityCase('fault matrix', 'embed in the pipeline × query vectors of the wrong size → goes on with keywords', async () => {
      const index = freshIndex();
      // Targets embedded at 64 dims; then the model answers with 32.
      await observe({ llm, index, question: 'What is the capital of Portugal?', options });
      ollama.reset();
      ollama.setScript(clearedQuestionScript());
      ollama.embedOverride = (_text, dims) => new Array<number>(dims / 2).fill(0.1);
      const seen = await observe({ llm, index, question: KEYWORD_QUESTION, options });
      assertWentOnWithKeywords(seen, /^unavailable$/);
      assert.match(seen.result?.relevance?.semantic.problem ?? '', /different sizes/);
      await assertServerClean(ollama);
      await nextRequestWorks();
    });

    reliabilityCase('fault matrix', 'embed in the pipeline × NaN values (null in JSON) → goes on with keywords', async () => {
      ollama.embedOverride = (_text, dims) => new Array<number | null>(dims).fill(null);
      const seen = await observe({ llm, index: freshIndex(), question: KEYWORD_QUESTION, options });
      assertWentOnWithKeywords(seen, /^unavailable$/);
      assert.match(seen.result?.relevance?.semantic.problem ?? '', /unusable vector/);
      await assertServerClean(ollama);
      await nextRequestWorks();
    });

    reliabilityCase(
      'fault matrix',
      'embed in the pipeline × slower than embeddingTimeoutMs → goes on with keywords in bounded time',
      async () => {
        ollama.embedDelayMs = 5000;
        const started = performance.now();
        const seen = await observe({
          llm,
          index: freshIndex(),
          question: KEYWORD_QUESTION,
          options: { ...options, embeddingTimeoutMs: 300 },
        });
        assert.ok(performance.now() - started < 3000, 'the request waited for the slow model');
        assertWentOnWithKeywords(seen, /^(?:unavailable|building)$/);
        await assertServerClean(ollama);
        await nextRequestWorks();
      },
    );

    reliabilityCase(
      'fault matrix',
      'embed in the pipeline × user cancels while the answer is embedded → LlmError aborted, nothing shown',
      async () => {
        const index = freshIndex();
        await observe({ llm, index, question: 'What is the capital of Portugal?', options });
        ollama.reset();
        ollama.setScript(clearedQuestionScript());
        const controller = new AbortController();
        // Cancel once the answer's embed request is held (the question's came before the vanilla call).
        void waitUntil(
          () => ollama.requests.filter((r) => r.path === '/api/embed').length >= 2,
          'the answer was never embedded',
          5000,
        ).then(() => controller.abort());
        let held = 0;
        const slow = createOllamaPort({
          host: ollama.host,
          fetch: async (input, init) => {
            if (String(input).endsWith('/api/embed') && ++held === 2) ollama.embedDelayMs = 5000;
            return fetch(input, init);
          },
        });
        const seen = await observe({
          llm: slow,
          index,
          question: KEYWORD_QUESTION,
          options: { ...options, embeddingTimeoutMs: 10_000 },
          signal: controller.signal,
        });
        assertLlmError(seen, 'aborted', /cancelled/);
        // The question's detection cleared the topic and the draft was written; nothing ran after the cancel.
        assert.deepEqual(
          ollama.chats.map((c) => c.role),
          ['detect', 'vanilla'],
        );
        assertNothingUnchecked(seen, FORBIDDEN);
        await assertServerClean(ollama);
        await nextRequestWorks();
      },
    );
  });
}
