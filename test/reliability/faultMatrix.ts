// Fault matrix: every stage × every way Ollama fails, through the official `ollama` client and our
// adapter against the scripted server. Each cell checks three things: what the user got (an
// actionable LlmError, a refusal or a guarded answer — never unchecked model text), that nothing is
// left open on the server, and that the next request on the same port works.
//
// The embed column here exercises the adapter's `embed` directly; embedFaults.ts covers the embed call
// inside the pipeline (relevance by meaning), where a failure degrades to names and keywords.
import { after, before, beforeEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import type { LlmPort } from '../../src/core/llm/port';
import { REFUSAL } from '../../src/core/pipeline';
import { fault, reply, startScriptedOllama, type ReplySource, type ScriptedOllama } from '../support/scriptedOllama';
import {
  assertLlmError,
  assertNothingUnchecked,
  assertServerClean,
  COMPOSED_FINAL,
  CRITIC_OK,
  EMBED_MODEL,
  healthyScript,
  MODEL,
  observe,
  OPTIONS,
  EDITS_OK,
  reliabilityCase,
  roleOfBody,
  VANILLA_LEAK,
  waitUntil,
  type Observed,
} from './support';

// Detect has its own cases.
// The rewrite agent writes a draft only when the question names a target (the unit tests cover it), and
// the composer merges edit sets without a model call, so neither has a call of its own here.
type Stage = 'vanilla' | 'edit' | 'critic';
const STAGES: readonly Stage[] = ['vanilla', 'edit', 'critic'];
const NAME: Record<Stage, string> = { vanilla: 'vanilla', edit: 'edit', critic: 'critic' };
/** The `label` each stage's calls carry, as it appears in refusal reasons. */
const LABEL: Record<Stage, string> = { vanilla: 'vanilla', edit: 'edit', critic: 'critic' };
/** Calls each stage makes at once (the j = 3 edit calls run side by side), so what one fault hits. */
const CALLS: Record<Stage, number> = { vanilla: 1, edit: OPTIONS.candidates, critic: 1 };
/** What each stage would have said; partial replies are cut from these. */
const GOOD: Record<Stage, string> = {
  vanilla: VANILLA_LEAK,
  edit: JSON.stringify(EDITS_OK[0]),
  critic: JSON.stringify(CRITIC_OK),
};

const OOM = 'llama runner process has terminated: error loading model: out of memory';
const CUDA = 'an error was encountered while running the model: CUDA error: an illegal memory access was encountered';

export function faultMatrix(): void {
  describe('fault matrix (real ollama client + adapter, scripted Ollama)', { timeout: 60_000 }, () => {
    let ollama: ScriptedOllama;
    let llm: LlmPort;

    before(async () => {
      ollama = await startScriptedOllama({ models: [MODEL, EMBED_MODEL] });
      llm = createOllamaPort({ host: ollama.host });
    });
    after(() => ollama.close());
    beforeEach(() => {
      ollama.reset();
      ollama.setScript(healthyScript());
      ollama.setFault('embed', undefined);
    });

    /** The same port answers a full four-agent request correctly right after the fault. */
    async function nextRequestWorks(): Promise<void> {
      ollama.reset();
      ollama.setScript(healthyScript());
      const seen = await observe({ llm });
      assert.equal(seen.result?.outcome, 'erased', `next request: ${String(seen.error ?? seen.result?.refusalReason)}`);
      assert.equal(seen.result.answer, COMPOSED_FINAL);
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        // The draft also mentions "Quist", a name part of Marta Quist: binding, so both targets are erased
        // and no detection call runs.
        ['vanilla', 'edit', 'edit', 'edit', 'critic'],
      );
      assertNothingUnchecked(seen);
      await assertServerClean(ollama);
    }

    /** Runs the pipeline with `stage` answering `source`; the other agents answer well. */
    function withStage(stage: Stage, source: ReplySource): void {
      ollama.setScript(healthyScript({ [stage]: source }));
    }

    function assertRefused(seen: Observed, stage: Stage, reason: RegExp): void {
      assert.ok(seen.result, `expected a refusal, got ${String(seen.error)}`);
      assert.equal(seen.result.outcome, 'refused');
      assert.equal(seen.result.answer, REFUSAL);
      assert.match(seen.result.refusalReason ?? '', new RegExp(`the ${LABEL[stage]} step failed`));
      assert.match(seen.result.refusalReason ?? '', reason);
      assertNothingUnchecked(seen);
    }

    /** Vanilla failures propagate (nothing to refuse yet); later stages fail closed with a refusal. */
    function assertFailedClosed(seen: Observed, stage: Stage, code: 'http' | 'stream' | 'timeout', message: RegExp): void {
      if (stage === 'vanilla') assertLlmError(seen, code, message);
      else assertRefused(seen, stage, message);
      assertNothingUnchecked(seen);
    }

    for (const stage of STAGES) {
      describe(`stage: ${NAME[stage]}`, () => {
        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × connection refused → LlmError unreachable naming the host and \`ollama serve\`, the host marked as the suspect`,
          async () => {
            // Ollama dies just before this stage's request: an injected fetch stops the server first.
            let stopped = false;
            const gated = createOllamaPort({
              host: ollama.host,
              fetch: async (input, init) => {
                if (!stopped && roleOfBody(init?.body) === stage) {
                  stopped = true;
                  await ollama.stop();
                }
                return fetch(input, init);
              },
            });
            const seen = await observe({ llm: gated });
            assert.ok(stopped, 'the stage was never reached');
            const refused = assertLlmError(
              seen,
              'unreachable',
              /Cannot reach Ollama at http:\/\/127\.0\.0\.1:\d+\. Is it running\? Start it with `ollama serve`\./,
            );
            assert.equal(refused.details.suspect, 'host');
            assertNothingUnchecked(seen);
            assert.equal(ollama.openConnections, 0);
            await ollama.start();
            await nextRequestWorks();
          },
        );

        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × HTTP 404 model not found → LlmError model-missing with the pull command`,
          async () => {
            let seen: Observed;
            if (stage === 'vanilla') {
              // The real thing: a model that is not installed at all.
              seen = await observe({ llm, options: { model: 'mistral-nemo' } });
              assertLlmError(
                seen,
                'model-missing',
                /The model "mistral-nemo" is not installed in Ollama at http:\/\/127\.0\.0\.1:\d+\. Pull it with `ollama pull mistral-nemo`/,
              );
            } else {
              // A model unloaded or deleted between two agents of one request.
              withStage(stage, fault.http(404, `model "${MODEL}" not found, try pulling it first`));
              seen = await observe({ llm });
              assertLlmError(
                seen,
                'model-missing',
                new RegExp(`The model "${MODEL.replace('.', '\\.')}" is not installed.*\`ollama pull ${MODEL.replace('.', '\\.')}\``),
              );
            }
            assertNothingUnchecked(seen);
            await assertServerClean(ollama);
            await nextRequestWorks();
          },
        );

        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × HTTP 500 → ${stage === 'vanilla' ? 'LlmError http with the server text' : 'refusal naming the step'}`,
          async () => {
            withStage(stage, fault.http(500, OOM));
            const seen = await observe({ llm });
            assertFailedClosed(seen, stage, 'http', /HTTP 500.*out of memory/);
            await assertServerClean(ollama);
            await nextRequestWorks();
          },
        );

        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × error line mid-stream → ${stage === 'vanilla' ? 'LlmError stream' : 'refusal'}; the partial reply is never shown`,
          async () => {
            withStage(stage, fault.errorLine(CUDA, { content: GOOD[stage], afterChunks: 4 }));
            const seen = await observe({ llm });
            assertFailedClosed(seen, stage, 'stream', /reported an error during .*CUDA error/);
            await assertServerClean(ollama);
            await nextRequestWorks();
          },
        );

        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × stream cut without its final chunk → ${stage === 'vanilla' ? 'LlmError stream "cut off"' : 'refusal'}`,
          async () => {
            withStage(stage, fault.cut({ content: GOOD[stage], afterChunks: 4 }));
            const seen = await observe({ llm });
            assertFailedClosed(seen, stage, 'stream', /was cut off: the stream ended before its final chunk.*try again/);
            await assertServerClean(ollama);
            await nextRequestWorks();
          },
        );

        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × first token slower than the timeout → ${stage === 'vanilla' ? 'LlmError timeout' : 'refusal'}; the server sees the request go away`,
          async () => {
            withStage(stage, reply(GOOD[stage], { firstTokenDelayMs: 3000 }));
            // Only this stage's calls get the 300 ms limit, so a busy machine cannot time out a healthy stage first.
            const impatient: LlmPort = {
              ...llm,
              chat: (request) => llm.chat(request.label === LABEL[stage] ? { ...request, firstTokenTimeoutMs: 300 } : request),
            };
            const seen = await observe({ llm: impatient });
            assertFailedClosed(seen, stage, 'timeout', /got no first token within 300 ms\..*raise the first-token timeout/);
            assert.ok(seen.ms < 2500, `took ${Math.round(seen.ms)} ms: the timeout did not cut the wait`);
            await assertServerClean(ollama);
            assert.equal(ollama.clientAborts, CALLS[stage], 'an abandoned request was not closed');
            await nextRequestWorks();
          },
        );

        if (stage === 'critic') {
          reliabilityCase(
            'fault matrix',
            `${NAME[stage]} × reply not JSON, then not fitting the schema → retried once, then a refusal`,
            async () => {
              const misfit = { forget: [5], utility: [5] };
              withStage(stage, ['Sure! Here is the JSON you asked for:', misfit]);
              const seen = await observe({ llm });
              assertRefused(seen, stage, /could not be read twice in a row/);
              assert.match(seen.result!.refusalReason!, /does not fit the schema \(forget: /);
              assert.equal(ollama.chatsOf(stage).length, 2, 'expected exactly one retry');
              assert.match(ollama.chatsOf(stage)[1]!.messages.at(-1)!.content, /not valid JSON/);
              await assertServerClean(ollama);
              await nextRequestWorks();
            },
          );
        }

        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × reply repeats the forget target verbatim → ${verbatimOutcome(stage)}`,
          async () => {
            if (stage === 'edit') {
              // Replacements that put the name back: the guard vetoes every candidate, whatever the critic says.
              withStage(stage, [
                { drop: [], replace: [{ sentence: 2, text: 'Project Falcon uses GPS.' }] },
                { drop: [], replace: [] },
                { drop: [2], replace: [{ sentence: 1, text: 'F4lc0n is a drone.' }] },
              ]);
            } else if (stage === 'critic') {
              // The critic's text is never shown: only its scores are read.
              withStage(stage, { ...CRITIC_OK, comment: VANILLA_LEAK });
            } // vanilla: the healthy vanilla answer already names the target and the secret fact.
            const seen = await observe({ llm });
            assertNothingUnchecked(seen);
            const result = seen.result!;
            if (stage === 'edit') {
              assert.equal(result.outcome, 'refused');
              assert.match(result.refusalReason!, /the edit step failed: all 3 erased answers still named a target/);
              assert.equal(ollama.chatsOf('critic').length, 0);
            } else {
              assert.equal(result.outcome, 'erased');
              assert.equal(result.answer, COMPOSED_FINAL);
            }
            await assertServerClean(ollama);
            await nextRequestWorks();
          },
        );

        reliabilityCase(
          'fault matrix',
          `${NAME[stage]} × user cancels → LlmError aborted; the server sees the connection close`,
          async () => {
            const controller = new AbortController();
            withStage(stage, () => {
              setTimeout(() => controller.abort(), 30);
              return fault.hang();
            });
            const seen = await observe({ llm, signal: controller.signal });
            assertLlmError(seen, 'aborted', /cancelled/);
            assertNothingUnchecked(seen);
            await assertServerClean(ollama);
            assert.equal(ollama.clientAborts, CALLS[stage]);
            assert.equal(ollama.chats.at(-1)?.role, stage, 'a call was made after the cancel');
            await nextRequestWorks();
          },
        );
      });
    }

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

      reliabilityCase('fault matrix', 'embed × connection refused → LlmError unreachable', async () => {
        await ollama.stop();
        const error = await embedError(llm);
        assert.equal(error.code, 'unreachable');
        assert.match(error.message, /Cannot reach Ollama at .*`ollama serve`/);
        await ollama.start();
        await nextEmbedWorks();
      });

      reliabilityCase('fault matrix', 'embed × HTTP 404 model not found → LlmError model-missing with the pull command', async () => {
        const error = await (async () => {
          try {
            await llm.embed('mxbai-embed-large', INPUT);
          } catch (e) {
            return e as Error & { code?: string };
          }
          assert.fail('embed succeeded');
        })();
        assert.equal(error.code, 'model-missing');
        assert.match(error.message, /`ollama pull mxbai-embed-large`/);
        await assertServerClean(ollama);
        await nextEmbedWorks();
      });

      reliabilityCase('fault matrix', 'embed × HTTP 500 → LlmError http with the server text', async () => {
        ollama.setFault('embed', fault.http(500, OOM));
        const error = await embedError(llm);
        assert.equal(error.code, 'http');
        assert.match(error.message, /HTTP 500 to the embed call.*out of memory/);
        await assertServerClean(ollama);
        await nextEmbedWorks();
      });

      reliabilityCase(
        'fault matrix',
        'embed × error during generation (not streamed: Ollama sends it as a 500 body) → LlmError http',
        async () => {
          ollama.setFault('embed', fault.errorLine(CUDA));
          const error = await embedError(llm);
          assert.equal(error.code, 'http');
          assert.match(error.message, /CUDA error/);
          await assertServerClean(ollama);
          await nextEmbedWorks();
        },
      );

      reliabilityCase('fault matrix', 'embed × reply cut half-way → LlmError stream "cut off"', async () => {
        ollama.setFault('embed', fault.cut());
        const error = await embedError(llm);
        assert.equal(error.code, 'stream');
        assert.match(error.message, /cut off/);
        await assertServerClean(ollama);
        await nextEmbedWorks();
      });

      reliabilityCase(
        'fault matrix',
        'embed × reply slower than the request timeout → LlmError timeout; the server sees the request go away',
        async () => {
          const impatient = createOllamaPort({ host: ollama.host, requestTimeoutMs: 300 });
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

      reliabilityCase('fault matrix', 'embed × reply that does not fit (fewer vectors than inputs) → LlmError malformed', async () => {
        const rewriting = createOllamaPort({
          host: ollama.host,
          fetch: async (input, init) => {
            const response = await fetch(input, init);
            if (!String(input).endsWith('/api/embed')) return response;
            const body = (await response.json()) as { embeddings: number[][] };
            return new Response(JSON.stringify({ ...body, embeddings: body.embeddings.slice(1) }), {
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
      });

      reliabilityCase('fault matrix', 'embed × user cancels → LlmError aborted; the server sees the connection close', async () => {
        ollama.setFault('embed', fault.hang());
        const controller = new AbortController();
        // Cancel once the server holds the request (a fixed delay could fire before it arrives on a busy machine).
        void waitUntil(() => ollama.requests.some((r) => r.path === '/api/embed'), 'the embed request never arrived', 5000).then(() =>
          controller.abort(),
        );
        const error = await embedError(llm, controller.signal);
        assert.equal(error.code, 'aborted');
        assert.match(error.message, /cancelled/);
        await assertServerClean(ollama);
        assert.equal(ollama.clientAborts, 1);
        await nextEmbedWorks();
      });
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
      return "the critic's text is never shown";
  }
}
