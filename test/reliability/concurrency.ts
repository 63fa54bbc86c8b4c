// Concurrency and load: many requests at once through the real client to one scripted server, each
// answer matching its own question; and a target list edited while a request runs, which must apply
// to the next request and never to the rest of the running one (the pipeline keeps the index it was
// started with).
import { after, before, beforeEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { taskData } from '../../src/core/agents';
import { clearIndexCache, getCachedIndex } from '../../src/core/guard';
import { LlmError } from '../../src/core/llm/errors';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import type { LlmPort } from '../../src/core/llm/port';
import { parseTargets } from '../../src/core/targets';
import { fault, reply, startScriptedOllama, type RecordedChat, type ScriptedOllama, type ScriptedReply } from '../support/scriptedOllama';
import { candidateNumber, criticCandidates, criticEach, criticScores, editReply } from '../support/erasedReplies';
import { assertNothingUnchecked, assertServerClean, MODEL, observe, promptText, reliabilityCase, type Observed } from './support';

/** The request number a prompt belongs to: the first `#n` outside the system prompt (the question comes first). */
function requestNumber(chat: RecordedChat): number {
  const text = chat.messages
    .filter((m) => m.role !== 'system')
    .map((m) => m.content)
    .join('\n');
  const found = /#(\d+)/.exec(text);
  if (!found) throw new Error(`no request number in a ${chat.role} prompt`);
  return Number(found[1]);
}

/** Every `#n` in a text. */
const numbersIn = (text: string): number[] => [...text.matchAll(/#(\d+)/g)].map((m) => Number(m[1]));

/**
 * Answers each agent from its own request's data only, with delays that interleave the streams. A
 * critic that received another request's text would answer in a way the test catches, and so would a
 * merge of edit sets from two requests.
 */
function perRequestScript(special: { cancel?: number; failCritic?: number; controller?: AbortController } = {}) {
  return (chat: RecordedChat): ScriptedReply => {
    const id = requestNumber(chat);
    const timing = { firstTokenDelayMs: (id * 7) % 40, chunkDelayMs: id % 3 };
    switch (chat.role) {
      case 'vanilla':
        return reply(
          id % 2
            ? `Answer #${id}: Project Falcon has detail ${id}. Its code is ${id}.`
            : `Answer #${id}: nothing secret, ${id} is just a number.`,
          timing,
        );
      case 'detect':
        // Only the question is ever read: the draft names the target, so no detection of the answer.
        return reply({ touched: [] }, timing);
      case 'edit': {
        if (id === special.cancel) {
          setTimeout(() => special.controller?.abort(), 20);
          return fault.hang();
        }
        // Written per candidate (the server asks once per candidate and sends them as one reply). a and b
        // replace the first sentence, b the second too, c drops the first: the best two merged read
        // "Erased #ia. Code #ib.", which only a merge of this request's own edit sets can give.
        const n = candidateNumber(chat.messages);
        const edits = [
          editReply({ replace: [{ sentence: 1, text: `Erased #${id}a.` }] }),
          editReply({
            replace: [
              { sentence: 1, text: `Erased #${id}b.` },
              { sentence: 2, text: `Code #${id}b.` },
            ],
          }),
          editReply({ drop: [1] }),
        ];
        return reply(edits[n - 1]!, timing);
      }
      case 'critic': {
        if (id === special.failCritic) return fault.http(500, 'out of memory');
        const candidates = criticCandidates(chat.messages);
        const own = candidates.every((text) => numbersIn(text).every((n) => n === id));
        return reply(criticScores(candidates.map((_, i) => ({ forget: own ? 5 : 1, utility: 5 - i }))), timing);
      }
      case 'rewrite':
      case 'compose':
        // No question names a target (no rewrite draft), and the composer makes no model call.
        return fault.http(500, `the ${chat.role} agent is not expected here`);
    }
  };
}

export function concurrency(): void {
  describe('concurrency and load', { timeout: 60_000 }, () => {
    let ollama: ScriptedOllama;
    let llm: LlmPort;

    before(async () => {
      ollama = await startScriptedOllama({ models: [MODEL] });
      llm = createOllamaPort({ host: ollama.host });
    });
    after(() => ollama.close());
    beforeEach(() => ollama.reset());

    function assertOwnAnswer(i: number, seen: Observed): void {
      const result = seen.result;
      assert.ok(result, `request #${i} failed: ${String(seen.error)}`);
      if (i % 2) {
        assert.equal(result.outcome, 'erased', `#${i}: ${result.refusalReason ?? ''}`);
        assert.equal(result.answer, `Erased #${i}a. Code #${i}b.`);
      } else {
        assert.equal(result.outcome, 'vanilla');
        assert.equal(result.answer, `Answer #${i}: nothing secret, ${i} is just a number.`);
      }
      assertNothingUnchecked(seen);
    }

    // The odd questions name no target but share two keywords with Project Falcon (the uncertain band), so
    // they run every stage: the detect agent reads the question alone and clears it, the vanilla agent
    // writes a draft that names the target (its second sentence ends it, so its opening is never complete
    // while it streams and it is not stopped), the edit call (three candidate sets), the critic, the merge.
    // The even ones touch nothing: the vanilla answer alone.
    const question = (i: number) => `Question #${i}: ${i % 2 ? 'what is the drone project building?' : 'is anything secret here?'}`;

    reliabilityCase('concurrency', '50 concurrent requests (half touching a target) finish with correct, independent answers', async () => {
      ollama.setScript(perRequestScript());
      // Counts each request's calls in flight on the client side: a request's agents run one after another.
      const inFlight = new Map<number, number>();
      let overlapped: string | undefined;
      let counted = 0;
      const counting: LlmPort = {
        ...llm,
        chat: async (request) => {
          counted++;
          const id = requestNumber({ role: 'vanilla', messages: request.messages } as unknown as RecordedChat);
          const now = (inFlight.get(id) ?? 0) + 1;
          inFlight.set(id, now);
          if (now > 1) overlapped ??= `request #${id} had ${now} calls at once (the last a ${request.label} call)`;
          try {
            return await llm.chat(request);
          } finally {
            inFlight.set(id, inFlight.get(id)! - 1);
          }
        },
      };
      const runs = await Promise.all(Array.from({ length: 50 }, (_, i) => observe({ llm: counting, question: question(i) })));
      runs.forEach((seen, i) => assertOwnAnswer(i, seen));
      assert.equal(overlapped, undefined, overlapped);
      assert.equal(ollama.chats.length, 25 + 25 * 4);
      assert.equal(counted, ollama.chats.length, 'a call went around the counting port');
      for (let i = 0; i < 50; i++)
        assert.deepEqual(
          ollama.chats.filter((c) => requestNumber(c) === i).map((c) => c.role),
          i % 2 ? ['detect', 'vanilla', 'edit', 'critic'] : ['vanilla'],
          `the calls of #${i}`,
        );
      for (const chat of ollama.chats) {
        const id = requestNumber(chat);
        // No prompt carried text of another request.
        assert.deepEqual(
          [...new Set(numbersIn(promptText(chat).replace(/\d+ is just a number|has detail \d+/g, '')))],
          [id],
          `${chat.role} prompt of #${id}`,
        );
      }
      await assertServerClean(ollama, 60); // 50 requests, one call at a time each (and a little slack for sockets being replaced)
    });

    reliabilityCase('concurrency', 'among 50 concurrent requests, one cancelled and one failing do not disturb the other 48', async () => {
      const controller = new AbortController();
      ollama.setScript(perRequestScript({ cancel: 7, failCritic: 13, controller }));
      const runs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => observe({ llm, question: question(i), ...(i === 7 ? { signal: controller.signal } : {}) })),
      );
      runs.forEach((seen, i) => {
        if (i === 7) {
          assert.ok(seen.error instanceof LlmError && seen.error.code === 'aborted', String(seen.error));
          assert.deepEqual(seen.chunks, []);
        } else if (i === 13) {
          assert.equal(seen.result?.outcome, 'refused');
          assert.match(seen.result.refusalReason!, /the critic step failed: .*HTTP 500/);
        } else assertOwnAnswer(i, seen);
      });
      await assertServerClean(ollama, 60); // as above; the cancelled call's socket may have been replaced
      assert.equal(ollama.clientAborts, 1, 'the edit call of the cancelled request');
      // Nothing ran after the cancel or the failure: no critic for #7, no retry of #13's critic.
      assert.deepEqual(
        ollama.chats.filter((c) => requestNumber(c) === 7).map((c) => c.role),
        ['detect', 'vanilla', 'edit'],
      );
      assert.deepEqual(
        ollama.chats.filter((c) => requestNumber(c) === 13).map((c) => c.role),
        ['detect', 'vanilla', 'edit', 'critic'],
      );
    });

    reliabilityCase(
      'concurrency',
      'a target list changed while a request runs applies to the next request and never to the rest of the running one',
      async () => {
        // "Settings": Falcon is forgotten; while request one waits for its vanilla answer, the user
        // removes Falcon and adds Marta Quist. Adapters take the index at the start of a request.
        clearIndexCache();
        const listA = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }]).targets;
        const listB = parseTargets([{ name: 'Marta Quist' }]).targets;
        let settings = listA;

        let arrived!: () => void;
        const vanillaArrived = new Promise<void>((resolve) => (arrived = resolve));
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        const answer = 'Project Falcon is run by Marta Quist.';
        ollama.setScript({
          vanilla: async (chat) => {
            if (promptText(chat).includes('Request one')) {
              arrived();
              await gate;
            }
            return answer;
          },
          // Each request's edits mark its own target with a placeholder, and keep the other list's name.
          edit: (chat) =>
            editReply({
              replace: [
                {
                  sentence: 1,
                  text: promptText(chat).includes('Request one')
                    ? '[redacted:T1] is run by Marta Quist.'
                    : 'Project Falcon is run by [redacted:T1].',
                },
              ],
            }),
          critic: criticEach({ forget: 5, utility: 4 }),
        });

        const indexA = getCachedIndex(settings);
        const one = observe({ llm, index: indexA, question: 'Request one: who runs the drone project?' });
        await vanillaArrived;
        settings = listB; // the edit lands while request one is in its vanilla stage
        const indexB = getCachedIndex(settings);
        assert.notEqual(indexB, indexA);
        const two = await observe({ llm, index: indexB, question: 'Request two: who runs the drone project?' });
        release();
        const first = await one;

        // Request two, started after the edit, uses the new list throughout.
        assert.equal(two.result?.outcome, 'erased');
        assert.equal(two.result.answer, 'Project Falcon is run by [redacted: Marta Quist].');
        assert.deepEqual(
          two.result.touchedTargets.map((t) => t.name),
          ['Marta Quist'],
        );
        // Request one finished after the edit, yet every later stage used the list it started with.
        assert.equal(first.result?.outcome, 'erased');
        assert.equal(first.result.answer, '[redacted: Project Falcon] is run by Marta Quist.');
        assert.deepEqual(
          first.result.touchedTargets.map((t) => t.name),
          ['Project Falcon'],
        );
        for (const chat of ollama.chats) {
          const text = promptText(chat);
          if (chat.role === 'vanilla') continue;
          // The task's data (the critic's has no targets: it reads them in the edit task above it).
          const data = taskData(chat.messages.at(-1)) as { forget_targets?: { name: string }[] } | undefined;
          assert.ok(data, `the ${chat.role} call has no task data`);
          const names = data.forget_targets?.map((t) => t.name);
          if (text.includes('Request one'))
            assert.ok(names === undefined || names.join() === 'Project Falcon', `${chat.role} of request one saw ${names?.join()}`);
          else assert.ok(names === undefined || names.join() === 'Marta Quist', `${chat.role} of request two saw ${names?.join()}`);
        }
        // The snapshot itself was never touched.
        assert.deepEqual(
          indexA.targets.map((t) => t.name),
          ['Project Falcon'],
        );
        assert.equal(getCachedIndex(listB), indexB);
        await assertServerClean(ollama, 60); // the earlier tests' idle keep-alive connections may still be pooled
        clearIndexCache();
      },
    );

    reliabilityCase(
      'concurrency',
      'a target list edited in place (same array) gets a new index for the next request; the running one keeps its own',
      () => {
        // getCachedIndex fingerprints the list on every call instead of trusting array identity.
        clearIndexCache();
        const list = parseTargets([{ name: 'Project Falcon', description: 'the drone project' }]).targets;
        const first = getCachedIndex(list);
        assert.equal(getCachedIndex(list), first, 'unchanged list: the same index, no rebuild');
        list.push(...parseTargets([{ name: 'Marta Quist' }]).targets);
        const second = getCachedIndex(list);
        assert.notEqual(second, first);
        assert.deepEqual(
          second.mentionedTargets('Marta Quist and Project Falcon').map((t) => t.name),
          ['Project Falcon', 'Marta Quist'],
        );
        // The index a running request holds is a snapshot: the push did not reach it.
        assert.deepEqual(
          first.targets.map((t) => t.name),
          ['Project Falcon'],
        );
        assert.deepEqual(first.mentionedTargets('Marta Quist'), []);
        // Replacing a target in place (a new alias, switched off, a new description for the agents) counts too.
        list[0] = { ...list[0]!, aliases: ['Falcon'] };
        const third = getCachedIndex(list);
        assert.deepEqual(
          third.mentionedTargets('Falcon').map((t) => t.name),
          ['Project Falcon'],
        );
        list[0] = { ...list[0]!, description: 'the Lisbon drone project' };
        const fourth = getCachedIndex(list);
        assert.notEqual(fourth, third);
        assert.equal(fourth.byId(list[0].id)?.description, 'the Lisbon drone project');
        list[1] = { ...list[1]!, enabled: false };
        assert.deepEqual(getCachedIndex(list).mentionedTargets('Marta Quist'), []);
        clearIndexCache();
      },
    );
  });
}
