import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPipeline, type PipelineEvent } from '../../src/core/pipeline';
import { buildTargetIndex } from '../../src/core/guard';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { createOpenAIPort } from '../../src/core/llm/openaiAdapter';
import { LlmError } from '../../src/core/llm/errors';
import { parseTargets } from '../../src/core/targets';
import type { LlmPort } from '../../src/core/llm/port';
import { fault, reply, startScriptedOllama, type ScriptedOllama } from '../support/scriptedOllama';
import { startScriptedOpenAI } from '../support/scriptedOpenAI';
import { candidateData, criticEach, criticScores, editReply, NEUTRAL_DRAFT, replaceDraft } from '../support/erasedReplies';

const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }, { name: 'Marta Quist' }]);
const index = buildTargetIndex(targets);
const options = { model: 'llama3.2', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 2000, totalTimeoutMs: 5000 };
const rewrite = NEUTRAL_DRAFT;
const edit = replaceDraft(['That project is confidential.', 'I cannot share [redacted:T1].', 'No comment.']);
/** Tells the candidates apart: the merge of the best two takes the best one's sentence. */
const critic = criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate })));

/** The same pipeline over both wires: the official `ollama` client, and the OpenAI-compatible adapter. */
const KINDS = [
  {
    name: 'ollama' as const,
    title: 'pipeline through the real ollama client',
    start: () => startScriptedOllama(),
    connect: (server: ScriptedOllama): LlmPort => createOllamaPort({ host: server.host }),
  },
  {
    name: 'openai' as const,
    title: 'pipeline through the OpenAI-compatible adapter (scripted OpenAI-compatible server)',
    start: () => startScriptedOpenAI({ models: ['llama3.2'] }),
    connect: (server: ScriptedOllama): LlmPort => createOpenAIPort({ baseUrl: server.host }),
  },
];

for (const kind of KINDS)
  describe(kind.title, () => {
    let ollama: ScriptedOllama;
    const port = () => kind.connect(ollama);
    before(async () => {
      ollama = await kind.start();
    });
    after(async () => ollama.close());

    test("the erased answer is shown once, after the guard and sentence by sentence through the meaning check: the agents' placeholder as its marker", async () => {
      ollama.setScript({
        rewrite: reply('I cannot share [redacted:T1]. Drones are fun to build and fly.', { chunkDelayMs: 1 }),
        edit: editReply(),
        critic: criticEach({ forget: 5, utility: 4 }),
      });
      const chunks: string[] = [];
      const result = await runPipeline({
        llm: port(),
        index,
        question: 'What is Falcon?',
        options,
        onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && chunks.push(e.text),
      });
      assert.deepEqual(chunks, ['I cannot share [redacted: Project Falcon].', ' Drones are fun to build and fly.']);
      assert.equal(chunks.join(''), result.answer);
      assert.equal(result.answer, 'I cannot share [redacted: Project Falcon]. Drones are fun to build and fly.');
      assert.deepEqual(
        result.redactions.map((r) => r.by),
        ['agents'],
      );
    });

    test('a draft that splits a name around a placeholder or an escape sequence, across stream chunks, is vetoed: nothing of it is shown', async () => {
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
      ollama.reset();
      ollama.setScript({ rewrite: reply(chunks.join(''), { chunks, chunkDelayMs: 1 }), edit: editReply(), critic });
      const shown: string[] = [];
      const result = await runPipeline({
        llm: port(),
        index,
        question: 'What is Falcon and what does Marta Quist do?',
        options,
        onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && shown.push(e.text),
      });
      assert.equal(result.outcome, 'refused');
      assert.equal(shown.join(''), result.answer);
      assert.ok(!/fal/i.test(result.answer) && !result.answer.includes('\x1b'), result.answer);
      assert.equal(ollama.chatsOf('critic').length, 0);
    });

    for (const stage of ['vanilla', 'edit', 'critic'] as const) {
      test(`cancel during ${stage}: rejects as aborted and the server sees every stream closed`, async () => {
        const script: Record<string, unknown> = { vanilla: 'Falcon flies.', rewrite, edit, critic };
        script[stage] = fault.hang({ content: 'Partial answer here' });
        ollama.setScript(script);
        const controller = new AbortController();
        const pending = runPipeline({
          llm: port(),
          index,
          // Names no target, so the draft is written (and its answer, naming Falcon, goes to the edit agents).
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

    if (kind.name === 'openai')
      test('OpenAI wire: no Ollama options; the critic asks for its JSON schema as response_format; every call streams or not as asked', async () => {
        ollama.reset();
        ollama.setScript({ vanilla: 'Falcon flies.', rewrite, edit, critic });
        const result = await runPipeline({ llm: port(), index, question: 'What flies?', options });
        assert.equal(result.outcome, 'erased');
        for (const chat of ollama.chats) {
          assert.equal(chat.body.options, undefined, chat.role);
          assert.equal(chat.body.keep_alive, undefined, chat.role);
          assert.equal(chat.body.num_ctx, undefined, chat.role);
        }
        const format = ollama.chatsOf('critic')[0]!.body.response_format as { type?: string; json_schema?: { schema?: unknown } };
        assert.equal(format.type, 'json_schema');
        assert.equal(typeof format.json_schema?.schema, 'object');
      });

    if (kind.name === 'ollama')
      test('every call of every stage carries the same num_ctx in its request body', async () => {
        ollama.reset();
        ollama.setScript({ vanilla: 'Falcon flies.', rewrite, edit, critic });
        const result = await runPipeline({ llm: port(), index, question: 'What flies?', options });
        assert.equal(result.outcome, 'erased');
        // One edit call writes all three candidate sets; the critic continues after it.
        assert.deepEqual(
          ollama.chats.map((c) => c.role),
          ['vanilla', 'edit', 'critic'],
        );
        for (const chat of ollama.chats) assert.equal((chat.body.options as { num_ctx?: unknown } | undefined)?.num_ctx, 8192, chat.role);

        ollama.reset();
        ollama.setScript({ vanilla: 'Falcon flies.', rewrite, edit, critic });
        await runPipeline({
          llm: port(),
          index,
          question: 'What flies?',
          options: { ...options, contextLength: 12288 },
        });
        for (const chat of ollama.chats) assert.equal((chat.body.options as { num_ctx?: unknown } | undefined)?.num_ctx, 12288, chat.role);

        ollama.reset();
        ollama.setScript({ vanilla: 'Falcon flies.', rewrite, edit, critic });
        await runPipeline({
          llm: port(),
          index,
          question: 'What flies?',
          options: { ...options, contextLength: 0 },
        });
        assert.equal(ollama.chats.length, 3);
        for (const chat of ollama.chats) assert.ok(!('num_ctx' in ((chat.body.options as object | undefined) ?? {})), chat.role);
      });

    test("every agent continues the vanilla call's thread over the wire: each prompt starts with the one before it and its reply", async () => {
      ollama.reset();
      ollama.setScript({ vanilla: 'Falcon flies. It is fast.', rewrite, edit, critic });
      const history = [
        { role: 'user' as const, content: 'Tell me about drones.' },
        { role: 'assistant' as const, content: 'Drones are small aircraft.' },
      ];
      const result = await runPipeline({ llm: port(), index, question: 'What flies?', history, options });
      assert.equal(result.outcome, 'erased');
      const [vanilla, editCall, criticCall] = ollama.chats;
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['vanilla', 'edit', 'critic'],
      );
      const plain = (c: typeof vanilla) => c!.messages.map((m) => ({ role: m.role, content: m.content }));
      // The server's prompt cache holds a prompt that starts as the last one did, so each call repeats the
      // previous prompt verbatim, then the reply it got (the draft as written), then its own task.
      assert.deepEqual(plain(editCall).slice(0, plain(vanilla).length), plain(vanilla));
      assert.deepEqual(plain(editCall)[plain(vanilla).length], { role: 'assistant', content: 'Falcon flies. It is fast.' });
      assert.equal(plain(editCall).length, plain(vanilla).length + 2);
      assert.deepEqual(plain(criticCall).slice(0, plain(editCall).length), plain(editCall));
      assert.equal(plain(criticCall)[plain(editCall).length]!.role, 'assistant');
      assert.equal(plain(criticCall).length, plain(editCall).length + 2);
      // One system prompt, the vanilla agent's: the agents speak through their tasks.
      for (const chat of [editCall, criticCall]) {
        assert.equal(chat!.messages.filter((m) => m.role === 'system').length, plain(vanilla).filter((m) => m.role === 'system').length);
        assert.equal(chat!.messages.at(-1)!.role, 'user');
      }
    });

    test('many-shot: a target named in turn 2 of 30 reaches the erasure agents, and the answer is erased', async () => {
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
        llm: port(),
        index,
        question: 'And what about the first one?',
        history,
        options,
        onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && chunks.push(e.text),
      });
      // Turn 2 names a target: a vanilla draft would only be erased, so none is written and the rewrite agent answers.
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['rewrite', 'edit', 'critic'],
      );
      // The rewrite agent reads all 30 turns as turns of its thread, and its task names only the target they touch.
      const data = candidateData(ollama.chatsOf('rewrite')[0]!.messages);
      assert.deepEqual(
        data.forget_targets.map((t) => t.name),
        ['Marta Quist'],
      );
      assert.equal(data.conversation.length, 30);
      assert.equal(data.conversation[1]!.content, history[1]!.content);
      assert.equal(data.question, 'And what about the first one?');
      assert.equal(result.outcome, 'erased');
      assert.equal(chunks.join(''), 'I cannot talk about that person.');
      assert.ok(!chunks.join('').includes('CFO'));
    });

    test('the next request works after a cancelled one', async () => {
      ollama.setScript({ vanilla: 'Hello again.' });
      const result = await runPipeline({ llm: port(), index, question: 'hi', options });
      assert.equal(result.answer, 'Hello again.');
    });
  });
