import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTargetIndex } from '../../../../src/core/guard';
import { LlmError } from '../../../../src/core/llm/errors';
import {
  backgroundIdf,
  buildKeywordIndex,
  contentStems,
  embeddingProfile,
  FileEmbeddingCache,
  foldPlural,
  KEYWORD_THRESHOLD,
  MemoryEmbeddingCache,
  NEUTRAL_PROBES,
  prepareVector,
  relevanceOf,
  SHORTLIST_SIZE,
  TargetEmbeddings,
} from '../../../../src/core/relevance';
import { parseTargets, type ForgetTarget } from '../../../../src/core/targets';
import { createSimdKernel } from '../../../../src/core/relevance/simdKernel';
import { FakeLlm } from '../../../support/fakeLlm';
import { scriptedEmbedding } from '../../../support/scriptedEmbeddings';

const targets = (raw: unknown[]): ForgetTarget[] => parseTargets(raw).targets;

const TOPIC = {
  name: 'The Saltmarsh Chronicles',
  description:
    'The Saltmarsh Chronicles fantasy novels: Gullhaven Academy of sorcery, its headmaster Ambrose Quillfeather, the young witch Nell Harrow and the dark lord Vexmoor.',
  examples: ['Who teaches at the sorcery school in those books?'],
};
const PERSON = { name: 'Ingrid Valtonen', description: 'A marine biologist in Turku who studies seal populations.' };
const CLIENT = { name: 'Northwind Freight', description: 'A logistics client in Rotterdam; shipping contracts renewed in 2024.' };

/** An LlmPort whose embed calls can be counted and broken. */
class EmbeddingLlm extends FakeLlm {
  embedCalls = 0;
  fail: LlmError | undefined;
  constructor() {
    super({});
  }
  override async embed(model: string, input: readonly string[], signal?: AbortSignal) {
    this.embedCalls++;
    if (this.fail) throw this.fail;
    return super.embed(model, input, signal);
  }
}

describe('keyword relevance', () => {
  const index = buildKeywordIndex(targets([TOPIC, PERSON, CLIENT]));

  test('a rare word of a description brings its target in; ordinary words do not', () => {
    const hits = index.search(['Who is the headmaster of Gullhaven Academy?']);
    assert.equal(hits[0]?.targetId, targets([TOPIC])[0]!.id);
    assert.ok(hits[0]!.score >= KEYWORD_THRESHOLD);
    assert.ok(hits[0]!.words.includes('gullhaven'));
    assert.deepEqual(index.search(['What is the best way to learn a new language at home?']), []);
  });

  test('a surname alone points at a person target', () => {
    const hits = index.search(['What did Dr. Valtonen find out last spring?']);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!.targetId, targets([PERSON])[0]!.id);
  });

  test('plurals and possessives fold to one form', () => {
    assert.equal(foldPlural('chronicles'), 'chronicle');
    assert.equal(foldPlural('witches'), 'witch');
    assert.equal(foldPlural('glass'), 'glass');
    assert.equal(foldPlural('status'), 'status');
    assert.ok(index.search(["Tell me about Quillfeather's students"]).length > 0);
  });

  test('background rarity: everyday words weigh nothing, unlisted words the most', () => {
    assert.equal(backgroundIdf('the'), 0);
    assert.ok(backgroundIdf('school') < 2);
    assert.ok(backgroundIdf('gullhaven') > 5);
  });

  test('a word in most targets of a large list weighs little (corpus spread)', () => {
    const many = targets(
      Array.from({ length: 500 }, (_, i) => ({ name: `Client ${i} Zorblax`, description: `A Rotterdam logistics firm number ${i}.` })),
    );
    const big = buildKeywordIndex(many);
    // "Rotterdam" is rare English but in every target here: alone it does not single one out.
    assert.deepEqual(big.search(['Any news from Rotterdam?']), []);
  });

  test('the score reads every text given (question, history, answer)', () => {
    assert.deepEqual(index.search(['Who runs it?']), []);
    assert.equal(index.search(['Who runs it?', 'Ambrose Quillfeather runs it.'])[0]?.targetId, targets([TOPIC])[0]!.id);
  });
});

describe('embedding profiles', () => {
  test('known families get their task prefixes and dims; unknown models none', () => {
    assert.equal(embeddingProfile('nomic-embed-text:latest').queryPrefix, 'search_query: ');
    assert.equal(embeddingProfile('nomic-embed-text').documentPrefix, 'search_document: ');
    assert.equal(embeddingProfile('embeddinggemma:300m').queryPrefix, 'task: search result | query: ');
    assert.equal(embeddingProfile('embeddinggemma').dims, 256);
    assert.equal(embeddingProfile('all-minilm:l6-v2').queryPrefix, '');
    const unknown = embeddingProfile('my-own-embedder');
    assert.equal(unknown.family, 'default');
    assert.equal(unknown.queryPrefix, '');
    assert.equal(unknown.dims, 0);
  });

  test('vectors are cut to the profile dims and normalised; NaN, empty or zero vectors are refused', () => {
    const v = prepareVector(
      Array.from({ length: 768 }, (_, i) => Math.sin(i)),
      embeddingProfile('embeddinggemma'),
    )!;
    assert.equal(v.length, 256);
    assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-5);
    assert.equal(prepareVector([1, NaN, 2], embeddingProfile('x')), undefined);
    assert.equal(prepareVector([0, 0, 0], embeddingProfile('x')), undefined);
    assert.equal(prepareVector([], embeddingProfile('x')), undefined);
    assert.equal(prepareVector([1, null as unknown as number], embeddingProfile('x')), undefined);
  });
});

describe('embedding cache', () => {
  test('the file cache round-trips vectors across instances and survives a cut-off file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-emb-'));
    const a = new FileEmbeddingCache(dir);
    await a.write('m|x', new Map([['00112233445566778899aabbccddeeff', Float32Array.from([0.6, 0.8])]]));
    await a.write('m|x', new Map([['ffeeddccbbaa99887766554433221100', Float32Array.from([1, 0])]]));
    const b = new FileEmbeddingCache(dir);
    const got = await b.read('m|x', ['00112233445566778899aabbccddeeff', 'ffeeddccbbaa99887766554433221100', '0000']);
    assert.equal(got.size, 2);
    assert.ok(Math.abs(got.get('00112233445566778899aabbccddeeff')![1]! - 0.8) < 1e-6);
    const file = join(dir, (await readdir(dir))[0]!);
    const data = await readFile(file);
    await writeFile(file, data.subarray(0, data.length - 3));
    const c = new FileEmbeddingCache(dir);
    assert.equal((await c.read('m|x', ['00112233445566778899aabbccddeeff', 'ffeeddccbbaa99887766554433221100'])).size, 1);
    await writeFile(file, 'not a cache file');
    assert.equal((await new FileEmbeddingCache(dir).read('m|x', ['00112233445566778899aabbccddeeff'])).size, 0);
  });

  test('retain drops stale vectors and rewrites the file once they outnumber live ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-emb-'));
    const cache = new FileEmbeddingCache(dir);
    const keys = ['a', 'b', 'c', 'd'].map((c) => c.repeat(32));
    await cache.write('s', new Map(keys.map((k) => [k, Float32Array.from([1, 0, 0, 0])])));
    const file = join(dir, (await readdir(dir))[0]!);
    const before = (await stat(file)).size;
    await cache.retain('s', new Set([keys[0]!]));
    assert.ok((await stat(file)).size < before);
    assert.equal((await new FileEmbeddingCache(dir).read('s', keys)).size, 1);
  });

  test('a folder that cannot be written leaves the cache working in memory and says why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-emb-'));
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'x');
    const cache = new FileEmbeddingCache(join(blocker, 'sub'));
    await cache.write('s', new Map([['a'.repeat(32), Float32Array.from([1, 0])]]));
    assert.ok(cache.writeError);
    assert.equal((await cache.read('s', ['a'.repeat(32)])).size, 1);
  });
});

describe('target embeddings', () => {
  test('built in batches with progress; a second build reads the cache and embeds nothing', async () => {
    const llm = new EmbeddingLlm();
    const cache = new MemoryEmbeddingCache();
    const list = targets(Array.from({ length: 70 }, (_, i) => ({ name: `Target ${i}`, description: `Description number ${i}` })));
    const progress: number[] = [];
    const built = await TargetEmbeddings.build({
      llm,
      model: 'all-minilm',
      profile: embeddingProfile('all-minilm'),
      targets: list,
      cache,
      onProgress: (p) => progress.push(p.done),
    });
    assert.equal(built.rows, 70);
    assert.equal(llm.embedded.length, 70 + NEUTRAL_PROBES.length);
    assert.ok(llm.embedCalls >= 3, 'embedded in batches');
    assert.equal(progress.at(-1), 70 + NEUTRAL_PROBES.length);
    const again = new EmbeddingLlm();
    await TargetEmbeddings.build({ llm: again, model: 'all-minilm', profile: embeddingProfile('all-minilm'), targets: list, cache });
    assert.equal(again.embedCalls, 0);
  });

  test('an edited target is embedded again, and only it', async () => {
    const cache = new MemoryEmbeddingCache();
    const list = targets([TOPIC, PERSON, CLIENT]);
    await TargetEmbeddings.build({ llm: new EmbeddingLlm(), model: 'm', profile: embeddingProfile('m'), targets: list, cache });
    const edited = targets([TOPIC, { ...PERSON, description: 'A marine biologist in Turku who studies grey seals.' }, CLIENT]);
    const llm = new EmbeddingLlm();
    await TargetEmbeddings.build({ llm, model: 'm', profile: embeddingProfile('m'), targets: edited, cache });
    assert.equal(llm.embedded.length, 1);
    assert.match(llm.embedded[0]!, /grey seals/);
  });

  test('document rows carry the document prefix, sample questions and probes the query prefix', async () => {
    const llm = new EmbeddingLlm();
    await TargetEmbeddings.build({
      llm,
      model: 'nomic-embed-text',
      profile: embeddingProfile('nomic-embed-text'),
      targets: targets([TOPIC]),
      cache: new MemoryEmbeddingCache(),
    });
    assert.match(llm.embedded[0]!, /^search_document: The Saltmarsh Chronicles: The Saltmarsh/);
    assert.equal(llm.embedded[1], 'search_query: Who teaches at the sorcery school in those books?');
    assert.ok(llm.embedded.slice(2).every((t) => t.startsWith('search_query: ')));
  });

  test('thresholds are calibrated per row: at least the floor, and above the neutral probes', async () => {
    const built = await TargetEmbeddings.build({
      llm: new EmbeddingLlm(),
      model: 'all-minilm',
      profile: embeddingProfile('all-minilm'),
      targets: targets([TOPIC, PERSON]),
      cache: new MemoryEmbeddingCache(),
    });
    for (const t of built.rowThreshold) assert.ok(t >= embeddingProfile('all-minilm').floor - 1e-6);
  });
});

describe('the relevance engine', () => {
  const list = targets([TOPIC, PERSON, CLIENT]);
  const model = 'embeddinggemma';

  async function assess(question: string, policy: 'related' | 'always' | 'named' = 'related', answer = '') {
    const index = buildTargetIndex(list);
    const r = relevanceOf(index);
    const llm = new EmbeddingLlm();
    const queries = await r.embedQueries(llm, model, [
      { part: 'question', text: question },
      { part: 'answer', text: answer },
    ]);
    return r.assess({ policy, named: index.mentionedTargets(question, answer), texts: [question, answer], queries, model });
  }

  test('a question about a topic that shares no content word with it at all is found by meaning', async () => {
    const question = 'Which wizard college with spells and a villain appears in that story?';
    const topicWords = contentStems([TOPIC.name, TOPIC.description, ...TOPIC.examples].join(' '));
    assert.deepEqual(
      [...contentStems(question)].filter((w) => topicWords.has(w)),
      [],
    );
    const report = await assess(question);
    assert.equal(report.semantic.status, 'ok');
    const entry = report.shortlist.find((e) => e.target.name === TOPIC.name);
    assert.ok(entry, JSON.stringify(report.shortlist.map((e) => e.target.name)));
    const meaning = entry.signals.find((s) => s.kind === 'meaning')!;
    assert.ok(meaning.over && meaning.score! >= meaning.threshold!);
    assert.equal(report.shortlist.length, 1, 'unrelated targets stay out');
  });

  test('an unrelated question shortlists nothing under related, and the top targets under always', async () => {
    assert.deepEqual((await assess('How do I sort a list in JavaScript?')).shortlist, []);
    const always = await assess('How do I sort a list in JavaScript?', 'always');
    assert.equal(always.shortlist.length, 3);
    assert.ok(always.shortlist.every((e) => e.signals.every((s) => !s.over)));
  });

  test('named: only spelled names, whatever the keywords and meaning say', async () => {
    assert.deepEqual((await assess('Who is the headmaster of Gullhaven Academy?', 'named')).shortlist, []);
    const named = await assess('What does Northwind Freight ship?', 'named');
    assert.deepEqual(
      named.shortlist.map((e) => e.signals.map((s) => s.kind)),
      [['name']],
    );
  });

  test('a name hit comes first and is marked certain; the answer counts too', async () => {
    const report = await assess('Who runs it?', 'related', 'Ambrose Quillfeather of Gullhaven runs it. Northwind Freight ships its books.');
    assert.equal(report.shortlist[0]!.target.name, CLIENT.name);
    assert.equal(report.shortlist[0]!.strength, Infinity);
    assert.ok(report.shortlist.some((e) => e.target.name === TOPIC.name));
  });

  test('the shortlist is capped, so the audit prompt has the same size at any list length', async () => {
    const many = targets(
      Array.from({ length: 200 }, (_, i) => ({ name: `Saltmarsh Vessel ${i}`, description: 'A Gullhaven sorcery ship.' })),
    );
    const index = buildTargetIndex(many);
    const report = relevanceOf(index).assess({
      policy: 'related',
      named: [],
      texts: ['Tell me about the Gullhaven sorcery ships'],
      queries: { state: { status: 'off' } },
    });
    assert.ok(report.shortlist.length <= SHORTLIST_SIZE);
  });

  test('a missing embedding model: keywords still work, the report names the model to pull, later requests do not retry at once', async () => {
    const index = buildTargetIndex(list);
    const r = relevanceOf(index);
    const llm = new EmbeddingLlm();
    llm.fail = new LlmError('model-missing', 'Model "embeddinggemma" is not installed. Run `ollama pull embeddinggemma`.');
    const q = await r.embedQueries(llm, model, [{ part: 'question', text: 'Who runs Gullhaven Academy?' }]);
    assert.ok('state' in q && q.state.status === 'unavailable' && q.state.pull === model);
    const report = r.assess({ policy: 'related', named: [], texts: ['Who runs Gullhaven Academy?'], queries: q, model });
    assert.equal(report.shortlist[0]?.target.name, TOPIC.name);
    const before = llm.embedCalls;
    await r.embedQueries(llm, model, [{ part: 'question', text: 'again' }]);
    assert.equal(llm.embedCalls, before);
  });

  test('a cancel while embedding is an abort, not a quiet fallback', async () => {
    const r = relevanceOf(buildTargetIndex(list));
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      r.embedQueries(new EmbeddingLlm(), model, [{ part: 'question', text: 'x' }], { signal: controller.signal }),
      (e: unknown) => e instanceof LlmError && e.code === 'aborted',
    );
  });
});

describe('the WebAssembly SIMD kernel', () => {
  test('gives the same dot products as plain arithmetic, for every row and both queries', () => {
    const rows = 37;
    const dims = 12;
    const kernel = createSimdKernel(rows, dims);
    assert.ok(kernel, 'WebAssembly SIMD is available in Node');
    const matrix = Float32Array.from({ length: rows * dims }, (_, i) => Math.sin(i * 1.7));
    kernel.matrix.set(matrix);
    const a = Float32Array.from({ length: dims }, (_, i) => Math.cos(i));
    const b = Float32Array.from({ length: dims }, (_, i) => (i % 3) - 1);
    const outA = new Float32Array(rows);
    const outB = new Float32Array(rows);
    kernel.dotPair(a, b, outA, outB);
    for (let r = 0; r < rows; r++) {
      let sa = 0;
      let sb = 0;
      for (let i = 0; i < dims; i++) {
        sa += matrix[r * dims + i]! * a[i]!;
        sb += matrix[r * dims + i]! * b[i]!;
      }
      assert.ok(Math.abs(sa - outA[r]!) < 1e-5 && Math.abs(sb - outB[r]!) < 1e-5, `row ${r}`);
    }
  });

  test('a shape it cannot take (dims not a multiple of 4) leaves the plain loop in charge, with the same search results', async () => {
    assert.equal(createSimdKernel(10, 6), undefined);
    const list = targets([TOPIC, PERSON, CLIENT]);
    const odd = { ...embeddingProfile('x'), dims: 255 };
    const even = { ...embeddingProfile('x'), dims: 256 };
    const q = prepareVector(scriptedEmbedding('Which sorcery school do the witches attend?', 256), even)!;
    for (const profile of [odd, even]) {
      const built = await TargetEmbeddings.build({
        llm: new EmbeddingLlm(),
        model: `m${profile.dims}`,
        profile,
        targets: list,
        cache: new MemoryEmbeddingCache(),
      });
      const hits = built.search([q.slice(0, profile.dims), q.slice(0, profile.dims)]);
      assert.equal(hits[0]?.targetId, list[0]!.id, `dims ${profile.dims}`);
    }
  });
});
