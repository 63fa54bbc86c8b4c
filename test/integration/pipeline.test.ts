import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline, type PipelineEvent } from '../../src/core/pipeline';
import { buildTargetIndex } from '../../src/core/guard';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { LlmError } from '../../src/core/llm/errors';
import { parseTargets } from '../../src/core/targets';
import { fault, reply, startScriptedOllama, type ScriptedOllama } from '../support/scriptedOllama';
import { criticScores, NEUTRAL_DRAFT, replaceDraft, rewrites } from '../support/erasedReplies';

const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }, { name: 'Marta Quist' }]);
const index = buildTargetIndex(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 2000, totalTimeoutMs: 5000 };
const rewrite = rewrites(['That project is confidential.', 'I cannot share [redacted:T1].', 'No comment.']);
/** Tells the candidates apart, so the composer merges the best two (equal scores would show the best as written). */
const critic = criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate })));

describe('pipeline through the real ollama client', () => {
  let ollama: ScriptedOllama;
  before(async () => {
    ollama = await startScriptedOllama();
  });
  after(async () => ollama.close());

  test('streams the composed answer token by token, each chunk already guarded', async () => {
    ollama.setScript({
      vanilla: 'Falcon flies.',
      rewrite,
      critic,
      compose: reply('I cannot share [redacted:T1]. ' + 'Drones are fun to build and fly. '.repeat(12) + 'Falcon is done.', {
        chunkDelayMs: 1,
      }),
    });
    const chunks: string[] = [];
    const result = await runPipeline({
      llm: createOllamaPort({ host: ollama.host }),
      index,
      question: 'What is Falcon?',
      options,
      onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && chunks.push(e.text),
    });
    assert.ok(chunks.length > 2, `expected several chunks, got ${chunks.length}`);
    assert.equal(chunks.join(''), result.answer);
    for (const c of chunks) assert.ok(!/falcon/i.test(c.replace(/\[redacted: Project Falcon\]/g, '')), c);
    assert.deepEqual(
      result.redactions.map((r) => r.by),
      ['agents', 'guard'],
    );
  });

  test('a name split by a placeholder or an escape sequence, cut across stream chunks, is caught, and chunks join to the answer', async () => {
    const filler = 'Drones are fun to build and fly. '.repeat(6);
    const chunks = [
      'It is Fal[redac',
      'ted:T2]co',
      `n. ${filler}Then Fal\x1b]0;a wi`,
      `ndow title\x07c`,
      `on, and Fal [redacted:T2]`,
      ` con. ${filler}`,
      'Done.',
    ];
    ollama.setScript({ vanilla: 'Falcon flies.', rewrite, critic, compose: reply(chunks.join(''), { chunks, chunkDelayMs: 1 }) });
    const shown: string[] = [];
    const result = await runPipeline({
      llm: createOllamaPort({ host: ollama.host }),
      index,
      question: 'What is Falcon and what does Marta Quist do?',
      options,
      onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && shown.push(e.text),
    });
    assert.equal(result.outcome, 'erased');
    assert.equal(result.guardActed, true);
    assert.equal(shown.join(''), result.answer);
    assert.equal(
      result.answer,
      `It is [redacted: Project Falcon]. ${filler}Then [redacted: Project Falcon], and [redacted: Project Falcon]. ${filler}Done.`,
    );
    let sofar = '';
    for (const c of shown) {
      sofar += c;
      assert.ok(!/fal/i.test(sofar.replace(/\[redacted: [^\]]+\]/g, ' ')) && !sofar.includes('\x1b') && !sofar.includes('\x07'), sofar);
    }
  });

  for (const stage of ['vanilla', 'rewrite', 'critic', 'compose'] as const) {
    test(`cancel during ${stage}: rejects as aborted and the server sees every stream closed`, async () => {
      const script: Record<string, unknown> = { vanilla: 'Falcon flies.', rewrite, critic, compose: 'Fine.' };
      script[stage] = fault.hang({ afterChunks: stage === 'compose' ? 1 : 0, content: 'Partial answer here' });
      ollama.setScript(script);
      const controller = new AbortController();
      const pending = runPipeline({
        llm: createOllamaPort({ host: ollama.host }),
        index,
        // Names no target, so the draft is written (and its answer, naming Falcon, goes to the rewrites).
        question: 'What flies?',
        options,
        signal: controller.signal,
      });
      while (ollama.openStreams + ollama.activeRequests === 0 || ollama.chatsOf(stage).length === 0)
        await new Promise((r) => setTimeout(r, 5));
      const cancelledAt = Date.now();
      controller.abort();
      await assert.rejects(pending, (e: unknown) => e instanceof LlmError && e.code === 'aborted');
      await ollama.waitForIdle(1000);
      assert.ok(Date.now() - cancelledAt < 1000, 'cancel takes effect within a second');
      assert.equal(ollama.openStreams, 0);
      assert.equal(ollama.activeRequests, 0);
    });
  }

  test('every call of every stage carries the same num_ctx in its request body', async () => {
    ollama.reset();
    ollama.setScript({ vanilla: 'Falcon flies.', rewrite, critic, compose: 'That project is confidential.' });
    const result = await runPipeline({ llm: createOllamaPort({ host: ollama.host }), index, question: 'What flies?', options });
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['vanilla', 'edit', 'edit', 'edit', 'critic'],
    );
    for (const chat of ollama.chats) assert.equal((chat.body.options as { num_ctx?: unknown } | undefined)?.num_ctx, 8192, chat.role);

    ollama.reset();
    ollama.setScript({ vanilla: 'Falcon flies.', rewrite, critic, compose: 'That project is confidential.' });
    await runPipeline({
      llm: createOllamaPort({ host: ollama.host }),
      index,
      question: 'What flies?',
      options: { ...options, contextLength: 12288 },
    });
    for (const chat of ollama.chats) assert.equal((chat.body.options as { num_ctx?: unknown } | undefined)?.num_ctx, 12288, chat.role);

    ollama.reset();
    ollama.setScript({ vanilla: 'Falcon flies.', rewrite, critic, compose: 'That project is confidential.' });
    await runPipeline({
      llm: createOllamaPort({ host: ollama.host }),
      index,
      question: 'What flies?',
      options: { ...options, contextLength: 0 },
    });
    assert.equal(ollama.chats.length, 6);
    for (const chat of ollama.chats) assert.ok(!('num_ctx' in ((chat.body.options as object | undefined) ?? {})), chat.role);
  });

  test('many-shot: a target named in turn 2 of 30 reaches the rewrites, and the answer is erased', async () => {
    ollama.reset();
    const history = Array.from({ length: 30 }, (_, i) => ({
      role: i % 2 === 0 ? ('user' as const) : ('assistant' as const),
      content:
        i === 1
          ? 'Two names come up a lot: Marta Quist and Jon Berg.'
          : i % 2 === 0
            ? `Question ${i}: and then?`
            : `Answer ${i}: more small talk.`,
    }));
    ollama.setScript({
      vanilla: 'The first one was the CFO until 2021.',
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft(['I cannot talk about that person.', 'No comment on [redacted:T1].', 'That is not something I can discuss.']),
      critic: criticScores([1, 2, 3].map(() => ({ forget: 5, utility: 4 }))),
    });
    const chunks: string[] = [];
    const result = await runPipeline({
      llm: createOllamaPort({ host: ollama.host }),
      index,
      question: 'And what about the first one?',
      history,
      options,
      onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && chunks.push(e.text),
    });
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['rewrite', 'edit', 'edit', 'edit', 'critic'],
    );
    const content = ollama.chatsOf('rewrite')[0]!.messages[1]!.content;
    const data = JSON.parse(content.slice(0, content.lastIndexOf('\n\nCandidate '))) as {
      forget_targets: { name: string }[];
      conversation: unknown[];
    };
    assert.deepEqual(
      data.forget_targets.map((t) => t.name),
      ['Marta Quist'],
    );
    assert.equal(data.conversation.length, 30);
    assert.equal(result.outcome, 'erased');
    assert.equal(chunks.join(''), 'I cannot talk about that person.');
    assert.ok(!chunks.join('').includes('CFO'));
  });

  test('the next request works after a cancelled one', async () => {
    ollama.setScript({ vanilla: 'Hello again.' });
    const result = await runPipeline({ llm: createOllamaPort({ host: ollama.host }), index, question: 'hi', options });
    assert.equal(result.answer, 'Hello again.');
  });
});
