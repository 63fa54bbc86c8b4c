import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildTargetIndex } from '../../../../src/core/guard';
import type { LlmPort } from '../../../../src/core/llm/port';
import {
  calibrate,
  calibrationSummary,
  contentStems,
  FileEmbeddingCache,
  fittedThresholds,
  MemoryEmbeddingCache,
  parseCalibrationQuestions,
  relevanceOf,
  saveCalibration,
  withUserTargets,
  type CalibrationQuestion,
} from '../../../../src/core/relevance';
import { parseTargets, type ForgetTarget } from '../../../../src/core/targets';

const ROOT = resolve(__dirname, '../../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('the shipped relevance question set (datasets/relevance)', () => {
  const targets = parseTargets(JSON.parse(read('datasets/relevance/targets.json'))).targets;
  const { questions, problems } = parseCalibrationQuestions(read('datasets/relevance/questions.jsonl'));
  const positives = questions.filter((q) => q.subject);
  const negatives = questions.filter((q) => !q.subject);

  test('parses whole, and meets the counts: 200+ positives over 20+ subjects, 200+ negatives, half of them coding', () => {
    assert.deepEqual(problems, []);
    assert.ok(positives.length >= 200, `${positives.length} positives`);
    assert.ok(negatives.length >= 200, `${negatives.length} negatives`);
    const subjects = new Set(positives.map((q) => q.subject));
    assert.ok(subjects.size >= 20, `${subjects.size} subjects`);
    for (const s of subjects) assert.ok(positives.filter((q) => q.subject === s).length >= 8, `${s} has too few questions`);
    const kinds = new Map<string, number>();
    for (const q of negatives) kinds.set(q.negative!, (kinds.get(q.negative!) ?? 0) + 1);
    assert.deepEqual([...kinds.keys()].sort(), ['coding', 'general', 'near-miss']);
    assert.ok(kinds.get('coding')! * 2 >= negatives.length, `coding ${kinds.get('coding')} of ${negatives.length}`);
    assert.equal(new Set(questions.map((q) => q.question.toLowerCase())).size, questions.length, 'no question twice');
  });

  test('covers every world-set subject and every sample-workspace target', () => {
    const ids = new Set(targets.map((t) => t.id));
    const world = new Set(
      ['forget', 'retain'].flatMap((split) =>
        read(`datasets/world/${split}.jsonl`)
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => (JSON.parse(l) as { subject: string }).subject),
      ),
    );
    assert.equal(world.size, 10);
    // The settings file is JSON with comments.
    const settings = JSON.parse(read('sample-workspace/.vscode/settings.json').replace(/^\s*\/\/.*$/gm, '')) as {
      'unlearn.targets': { name: string }[];
    };
    const sampleNames = settings['unlearn.targets'].map((t) => t.name);
    assert.equal(sampleNames.length, 3);
    const subjects = new Set(positives.map((q) => q.subject));
    for (const s of world) assert.ok(ids.has(s) && subjects.has(s), `world subject ${s}`);
    for (const name of sampleNames) {
      const t = targets.find((x) => x.name === name);
      assert.ok(t && subjects.has(t.id), `sample target ${name}`);
    }
  });

  test('no positive shares a content word with its subject’s name, aliases, description or examples', () => {
    const byId = new Map(targets.map((t) => [t.id, t]));
    const shared: string[] = [];
    for (const q of positives) {
      const t = byId.get(q.subject!);
      assert.ok(t, `unknown subject ${q.subject}`);
      const words = contentStems([t.name, ...t.aliases, t.description ?? '', ...(t.examples ?? [])].join('\n'));
      const common = [...contentStems(q.question)].filter((w) => words.has(w));
      if (common.length) shared.push(`${q.subject}: "${q.question}" shares ${common.join(', ')}`);
    }
    assert.deepEqual(shared, []);
  });

  test('no positive spells its subject’s name or an alias (the lexical matcher finds none)', () => {
    const index = buildTargetIndex(targets);
    const named = positives.filter((q) => index.mentionedTargets(q.question).some((t) => t.id === q.subject));
    assert.deepEqual(
      named.map((q) => q.question),
      [],
    );
  });
});

describe('contentStems: the no-shared-word rule’s tokenizer', () => {
  test('drops function words (also as keyword tokens fold them) and meets inflections at a light stem', () => {
    assert.deepEqual([...contentStems('What does the sailor do?')], ['sailor']);
    assert.deepEqual(contentStems('sailing ships'), contentStems('sailed ship'));
    assert.ok(contentStems('Running late').has('run'));
    assert.ok(!contentStems('universe').has('university'));
  });
});

/**
 * A controlled embedder: each text's vector is looked up in a table written for the test, so the
 * similarities behind a fit are known exactly. Unknown texts (probes) get their own directions.
 */
function tableEmbedder(table: Map<string, number[]>, dims: number): LlmPort {
  let next = 0;
  const own = new Map<string, number[]>();
  return {
    host: 'http://127.0.0.1:1',
    embed: async (_model: string, texts: readonly string[]) =>
      texts.map((t) => {
        const hit = table.get(t);
        if (hit) return hit;
        let v = own.get(t);
        if (!v) {
          v = new Array<number>(dims).fill(0);
          v[dims - 1 - (next++ % 8)] = 1;
          own.set(t, v);
        }
        return v;
      }),
  } as unknown as LlmPort;
}

/** A unit vector mostly along axis `i`, with `rest` of the last axis mixed in (how near it is to everything). */
const near = (dims: number, i: number, along: number): number[] => {
  const v = new Array<number>(dims).fill(0);
  v[i] = along;
  v[dims - 9] = Math.sqrt(1 - along * along);
  return v;
};

describe('calibrate', () => {
  // Four targets on their own axes; positives at similarity ~0.8 to their subject, negatives share only the common axis.
  const dims = 24;
  const targets: ForgetTarget[] = parseTargets(
    ['Alpha', 'Bravo', 'Charlie', 'Delta'].map((name) => ({ name: `Project ${name}`, description: `About ${name}.` })),
  ).targets;
  const table = new Map<string, number[]>();
  targets.forEach((t, i) => table.set(`${t.name}: ${t.description}`, near(dims, i, 1)));
  const questions: CalibrationQuestion[] = [];
  targets.forEach((t, i) => {
    for (let k = 0; k < 5; k++) {
      const q = `positive ${i} ${k}`;
      table.set(q, near(dims, i, 0.75 + k * 0.03));
      questions.push({ question: q, subject: t.id, source: 'set' });
    }
  });
  for (let k = 0; k < 20; k++) {
    const q = `negative ${k}`;
    // Near a target only a little (0.1–0.3 along its axis), never as near as a positive.
    table.set(q, near(dims, k % 4, 0.1 + (k % 5) * 0.05));
    questions.push({ question: q, negative: 'coding', source: 'set' });
  }

  test('finds thresholds that separate what the shipped ones do not, and measures before and after', async () => {
    // all-minilm ships floor 0.25, margin 0.12: every negative at 0.3 along an axis is over the floor.
    const r = await calibrate({ llm: tableEmbedder(table, dims), model: 'all-minilm', set: { targets, questions } });
    assert.equal(r.positives, 20);
    assert.equal(r.negatives, 20);
    assert.equal(r.subjects, 4);
    assert.equal(r.before.thresholds.floor, 0.25);
    assert.equal(r.after.together.recall, 1);
    assert.equal(r.after.together.falseRate, 0);
    assert.ok(r.goalReached);
    // The fitted line sits between the best negative (0.3) and the worst positive (0.75).
    const { floor, margin } = r.after.thresholds;
    assert.ok(floor > 0.3 || margin > 0.3, JSON.stringify(r.after.thresholds));
    assert.ok(r.after.sure.falseRate <= 0.01);
    assert.equal(r.scores.positiveSimilarity.length, 20);
    assert.ok(Math.min(...r.scores.positiveSimilarity) >= 0.74);
    assert.ok(Math.max(...r.scores.negativeSimilarity) <= 0.31);
  });

  test('a user target’s examples join the positives, each held out from its own row', async () => {
    const mine = parseTargets([{ name: 'Echo', description: 'About echo.', examples: ['only itself'] }]).targets[0]!;
    const local = new Map(table);
    local.set('Echo: About echo.', near(dims, 5, 1));
    // The example's vector is its own axis: without its own row nothing is near it.
    local.set('only itself', near(dims, 7, 1));
    const set = withUserTargets({ targets, questions }, [mine]);
    assert.equal(set.questions.filter((q) => q.source === 'examples').length, 1);
    const r = await calibrate({ llm: tableEmbedder(local, dims), model: 'all-minilm', set });
    assert.equal(r.fromExamples, 1);
    assert.deepEqual(r.missed, [{ subject: mine.id, question: 'only itself', fromExamples: true }]);
  });

  test('a user target with a shipped target’s name replaces it, and the shipped questions about it follow', () => {
    const [mine] = parseTargets([{ name: 'project alpha', description: 'Our own version.' }]).targets;
    const set = withUserTargets({ targets, questions }, [mine!]);
    assert.equal(set.targets.filter((t) => t.name.toLowerCase() === 'project alpha').length, 1);
    assert.equal(set.questions.filter((q) => q.subject === mine!.id).length, 5);
    assert.equal(set.questions.length, questions.length);
  });

  test('the fit is stored beside the embedding cache, and relevance with that cache uses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-calibrate-store-'));
    const cache = new FileEmbeddingCache(dir);
    const llm = tableEmbedder(table, dims);
    const r = await calibrate({ llm, model: 'all-minilm', set: { targets, questions }, cache });
    assert.ok(await saveCalibration(cache, r));
    assert.ok((await readdir(dir)).some((f) => f.endsWith('.calibration.json')));
    const fitted = fittedThresholds(r);

    const index = await relevanceOf(buildTargetIndex(targets)).prepare(llm, 'all-minilm', { cache: new FileEmbeddingCache(dir) });
    assert.equal(index.profile.floor, fitted.floor);
    assert.equal(index.profile.margin, fitted.margin);
    assert.equal(index.profile.outlierSlack, fitted.outlierSlack);
    assert.deepEqual(index.profile.fitted, fitted);
    assert.equal(calibrationSummary(fitted), `calibrated on 40 questions, recall 100%, false 0%`);
    assert.equal(calibrationSummary(undefined), 'not calibrated');

    // Another model's space has no fit; a damaged file is ignored rather than trusted.
    const other = await relevanceOf(buildTargetIndex(targets)).prepare(llm, 'all-minilm:l12', { cache: new FileEmbeddingCache(dir) });
    assert.equal(other.profile.fitted, undefined);
    const file = (await readdir(dir)).find((f) => f.endsWith('.calibration.json'))!;
    await writeFile(join(dir, file), JSON.stringify({ ...fitted, floor: 'high' }));
    const damaged = await relevanceOf(buildTargetIndex([...targets])).prepare(llm, 'all-minilm', { cache: new FileEmbeddingCache(dir) });
    assert.equal(damaged.profile.fitted, undefined);
    assert.equal(damaged.profile.floor, 0.25);
  });

  test('a set without negatives (or positives) is refused; the memory cache keeps a fit too', async () => {
    await assert.rejects(
      calibrate({ llm: tableEmbedder(table, dims), model: 'all-minilm', set: { targets, questions: questions.filter((q) => q.subject) } }),
      /positive and negative/,
    );
    const cache = new MemoryEmbeddingCache();
    const r = await calibrate({ llm: tableEmbedder(table, dims), model: 'all-minilm', set: { targets, questions }, cache });
    await saveCalibration(cache, r);
    assert.deepEqual(await cache.readCalibration(r.space), fittedThresholds(r));
  });
});
