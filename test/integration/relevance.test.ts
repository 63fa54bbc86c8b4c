// Relevance through real HTTP: the scripted Ollama serves chat and /api/embed (scriptedEmbeddings.ts:
// related texts near, unrelated far), the official client and our adapter call it, and target
// embeddings are cached in a real folder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askCommand } from '../../src/cli/ask';
import type { CliIo } from '../../src/cli/io';
import { buildTargetIndex } from '../../src/core/guard';
import { createOllamaPort } from '../../src/core/llm/ollamaAdapter';
import { runPipeline, type PipelineEvent } from '../../src/core/pipeline';
import { contentStems, FileEmbeddingCache, relevanceOf } from '../../src/core/relevance';
import { parseTargets } from '../../src/core/targets';
import { fault, startScriptedOllama, type ScriptedOllama } from '../support/scriptedOllama';
import { candidateData, criticEach, criticScores, NEUTRAL_DRAFT, replaceDraft } from '../support/erasedReplies';
import { writeFile } from 'node:fs/promises';

const EMBEDDER = { name: 'embeddinggemma:latest', embeddingDims: 768 };
const TOPIC = {
  name: 'The Copperfen Sagas',
  description:
    'The Copperfen Sagas fantasy novels and films: Thornwick Academy of magic, its headmistress Isolde Brackenridge, the young wizard Peregrin Ashdown and the dark lord Malgrath.',
  examples: ['Who teaches the young wizards in those books?'],
};
const OTHER = { name: 'Halvard Teknik', description: 'A supplier of industrial valves in Bergen.' };
const FACTS = ['Brackenridge', 'Peregrin', 'Malgrath', 'Thornwick'];
const LEAKY = 'Headmistress Isolde Brackenridge runs Thornwick Academy; Peregrin Ashdown is her best pupil and Malgrath the enemy.';
const ERASED = 'I cannot share details about that series.';
const options = {
  model: 'llama3.2',
  candidates: 3,
  topK: 2,
  minScore: 4,
  firstTokenTimeoutMs: 5000,
  totalTimeoutMs: 10_000,
  embeddingModel: 'embeddinggemma',
};

function script(vanilla = LEAKY) {
  return {
    vanilla,
    detect: { touched: [{ target: 'T1', how: 'described' }] },
    rewrite: NEUTRAL_DRAFT,
    edit: replaceDraft([ERASED, 'That is not something I can discuss.', 'No comment.']),
    critic: criticScores([1, 2, 3].map(() => ({ forget: 5, utility: 3 }))),
  };
}

/** The paraphrases below: meaning must find them, since they share no content word with the target. */
const PARAPHRASES = [
  'Which college for witches, with spells and a villain, appears in that story?',
  'Who is in charge of the college for witches and spells in that story?',
];

describe('relevance against the scripted Ollama server', () => {
  let ollama: ScriptedOllama;

  test('the paraphrase questions share no content word with the topic target', () => {
    const words = contentStems([TOPIC.name, TOPIC.description, ...TOPIC.examples].join(' '));
    for (const q of PARAPHRASES)
      assert.deepEqual(
        [...contentStems(q)].filter((w) => words.has(w)),
        [],
        q,
      );
  });
  before(async () => {
    ollama = await startScriptedOllama({ models: ['llama3.2:latest', EMBEDDER] });
  });
  after(async () => ollama.close());

  test('a topic question that names nothing reaches erasure (the question is checked first, no draft); an unrelated one is one model call', async () => {
    ollama.reset();
    ollama.setScript(script());
    const llm = createOllamaPort({ host: ollama.host });
    const index = buildTargetIndex(parseTargets([TOPIC, OTHER]).targets);
    const topic = await runPipeline({
      llm,
      index,
      question: PARAPHRASES[0]!,
      options,
    });
    assert.equal(topic.outcome, 'erased');
    for (const fact of FACTS) assert.ok(!topic.answer.includes(fact), fact);
    const roles = ollama.chats.map((c) => c.role);
    // The question alone is near the topic: it binds (no call before erasure) or the detect agent reads
    // it and finds the topic; either way no draft is written, and the rewrite agent answers. Equal
    // scores: the best candidate is shown as written, no composer.
    assert.ok(
      JSON.stringify(roles) === JSON.stringify(['rewrite', 'edit', 'critic']) ||
        JSON.stringify(roles) === JSON.stringify(['detect', 'rewrite', 'edit', 'critic']),
      roles.join(' '),
    );
    const meaning = topic.relevance!.shortlist[0]!.signals.find((s) => s.kind === 'meaning')!;
    assert.ok(meaning.over, JSON.stringify(topic.relevance));
    assert.equal(topic.relevance!.semantic.calibration?.dims, 256, 'embeddinggemma is cut to 256 dimensions');
    // The embed requests carry the model's task prefixes.
    assert.ok(ollama.embedded.some((t) => t.startsWith('title: none | text: The Copperfen Sagas')));
    assert.ok(ollama.embedded.some((t) => t.startsWith('task: search result | query: Which college for witches')));

    ollama.reset();
    ollama.setScript(script('Use a bigger pot and salt the water.'));
    const unrelated = await runPipeline({ llm, index, question: 'How do I cook pasta so it does not stick?', options });
    assert.equal(unrelated.outcome, 'vanilla');
    assert.equal(unrelated.calls, 1);
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['vanilla'],
    );
  });

  test('a question that binds a target by meaning alone gets no vanilla draft: the rewrite agent answers', async () => {
    ollama.reset();
    // A draft would stream its first words, then hang: the question's vectors must decide before any draft.
    ollama.setScript({ ...script(), vanilla: fault.hang({ content: LEAKY, afterChunks: 4 }) });
    const index = buildTargetIndex(parseTargets([TOPIC, OTHER]).targets);
    const shown: string[] = [];
    const result = await runPipeline({
      llm: createOllamaPort({ host: ollama.host }),
      index,
      // What the target's sample question asks: by keywords not sure, by meaning in the sure band.
      question: 'Who teaches the young wizards in those books?',
      options,
      onEvent: (e: PipelineEvent) => e.type === 'answer-chunk' && shown.push(e.text),
    });
    const signals = result.relevance!.shortlist[0]!.signals;
    assert.ok(
      signals.some((s) => s.kind === 'meaning' && s.binding),
      JSON.stringify(signals),
    );
    assert.ok(!signals.some((s) => s.kind === 'keyword' && s.binding), 'keywords alone would not bind');
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, ERASED);
    assert.equal(shown.join(''), ERASED);
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    // The rewrite continues the vanilla prompt as it would have been sent: system prompt and question.
    const rewriteCall = ollama.chatsOf('rewrite')[0]!.messages;
    assert.equal(rewriteCall.at(-2)!.content, 'Who teaches the young wizards in those books?');
    await ollama.waitForIdle(1000);
    assert.equal(ollama.openStreams, 0);
  });

  test("the edit reply's touched list says which shortlisted targets beyond the binding ones are touched; all are erased either way", async () => {
    const index = buildTargetIndex(parseTargets([TOPIC, OTHER]).targets);
    // Names the supplier (binding) and shares words with the topic (over its threshold, not in the sure band).
    const question = 'Does Halvard Teknik sell valves to the academy of magic?';
    const run = async (listsTopic: boolean) => {
      ollama.reset();
      ollama.setScript({
        rewrite: NEUTRAL_DRAFT,
        edit: (chat) => ({
          ...replaceDraft([ERASED])(chat),
          touched: listsTopic
            ? candidateData(chat.messages)
                .forget_targets.filter((t) => t.name === TOPIC.name)
                .map((t) => ({ target: t.handle, how: 'described' }))
            : [],
        }),
        critic: criticEach({ forget: 5, utility: 4 }),
      });
      const result = await runPipeline({ llm: createOllamaPort({ host: ollama.host }), index, question, options });
      assert.equal(result.outcome, 'erased');
      assert.deepEqual(
        ollama.chats.map((c) => c.role),
        ['rewrite', 'edit', 'critic'],
      );
      // Both targets were in the edit agent's task: a target it leaves unlisted is still erased.
      assert.deepEqual(
        candidateData(ollama.chatsOf('edit')[0]!.messages)
          .forget_targets.map((t) => t.name)
          .sort(),
        [OTHER.name, TOPIC.name].sort(),
      );
      const topic = result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!;
      assert.equal(topic.binding, false, JSON.stringify(topic.signals));
      return { touched: result.touchedTargets.map((t) => t.name), detected: topic.detected };
    };
    assert.deepEqual(await run(true), { touched: [OTHER.name, TOPIC.name], detected: true });
    assert.deepEqual(await run(false), { touched: [OTHER.name], detected: false });
  });

  test('target embeddings are cached on disk, reused by a new process, and refreshed when a target is edited', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-embcache-'));
    const llm = createOllamaPort({ host: ollama.host });
    ollama.reset();
    await relevanceOf(buildTargetIndex(parseTargets([TOPIC, OTHER]).targets)).prepare(llm, 'embeddinggemma', {
      cache: new FileEmbeddingCache(dir),
    });
    const first = ollama.embedded.length;
    assert.ok(first >= 3, 'targets, their sample question and the probes were embedded');
    assert.equal((await readdir(dir)).length, 1);

    // A new cache object over the same folder (as a new CLI run or a reloaded window): nothing embedded.
    ollama.reset();
    await relevanceOf(buildTargetIndex(parseTargets([TOPIC, OTHER]).targets)).prepare(llm, 'embeddinggemma', {
      cache: new FileEmbeddingCache(dir),
    });
    assert.equal(ollama.embedded.length, 0);

    // One description edited: that text, and only it, is embedded again.
    ollama.reset();
    const edited = { ...OTHER, description: 'A supplier of industrial valves and pumps in Bergen.' };
    await relevanceOf(buildTargetIndex(parseTargets([TOPIC, edited]).targets)).prepare(llm, 'embeddinggemma', {
      cache: new FileEmbeddingCache(dir),
    });
    assert.deepEqual(ollama.embedded, ['title: none | text: Halvard Teknik: A supplier of industrial valves and pumps in Bergen.']);
  });

  test('unlearn ask: a topic question that never names the target prints none of the facts; an unrelated one is one model call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-cli-rel-'));
    const file = join(dir, 't.json');
    await writeFile(file, JSON.stringify([TOPIC, OTHER]));
    const run = async (question: string) => {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {
        stdout: (t) => void out.push(t),
        stderr: (t) => void err.push(t),
        env: { OLLAMA_HOST: ollama.host, XDG_CACHE_HOME: join(dir, 'cache') },
        cwd: dir,
        signal: new AbortController().signal,
      };
      const code = await askCommand([question, '--targets', file, '--embedding-model', 'embeddinggemma'], io);
      return { code, out: out.join(''), err: err.join('') };
    };
    ollama.reset();
    ollama.setScript(script());
    const topic = await run(PARAPHRASES[1]!);
    assert.equal(topic.code, 0, topic.err);
    for (const fact of FACTS) assert.ok(!topic.out.includes(fact), `${fact} printed: ${topic.out}`);
    assert.equal(topic.out, `${ERASED}\n`);
    assert.ok((await readdir(join(dir, 'cache', 'unlearn', 'embeddings'))).length > 0, 'the CLI cached the target embeddings');

    ollama.reset();
    ollama.setScript(script('Use a bigger pot and salt the water.'));
    const unrelated = await run('How do I cook pasta so it does not stick?');
    assert.equal(unrelated.out, 'Use a bigger pot and salt the water.\n');
    assert.deepEqual(
      ollama.chats.map((c) => c.role),
      ['vanilla'],
    );
  });

  test('unlearn ask with a missing embedding model: answered on names and keywords, told once what to pull', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-cli-rel-'));
    const file = join(dir, 't.json');
    await writeFile(file, JSON.stringify([TOPIC, OTHER]));
    ollama.reset();
    ollama.setScript(script());
    const err: string[] = [];
    const out: string[] = [];
    const code = await askCommand(
      ['Who runs Thornwick Academy?', '--targets', file, '--embedding-model', 'all-minilm', '--cache-dir', join(dir, 'c')],
      {
        stdout: (t) => void out.push(t),
        stderr: (t) => void err.push(t),
        env: { OLLAMA_HOST: ollama.host },
        cwd: dir,
        signal: new AbortController().signal,
      },
    );
    assert.equal(code, 0);
    assert.equal(out.join(''), `${ERASED}\n`);
    const notices = err
      .join('')
      .split('\n')
      .filter((l) => l.includes('ollama pull all-minilm'));
    assert.equal(notices.length, 1, err.join(''));
  });
});
