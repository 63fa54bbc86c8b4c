import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTargetIndex } from '../core/guard';
import type { LlmPort } from '../core/llm';
import { MeaningCheck, relevanceOf, splitSentences, type Relevance } from '../core/relevance';
import { parseTargets, type ForgetTarget } from '../core/targets';
import { scriptedEmbedding } from '../../test/support/scriptedEmbeddings';

/**
 * The meaning check's bench lines (issue 21): precision on answers about no target (the world set's
 * retain answers, and ordinary coding answers), and its cost at 10,000 targets. Offline: meaning uses
 * the scripted embedding model of the tests (a weak but honest stand-in), keywords are the product's.
 */

interface SentenceCount {
  readonly set: string;
  readonly sentences: number;
  readonly removed: number;
  readonly share: number;
  readonly withMeaning: boolean;
}

export interface MeaningReport {
  readonly precision: readonly SentenceCount[];
  /**
   * For reference, no goal: the same check on the world set's forget answers (each about a target).
   * A check that removed nothing would pass every precision line; this shows what it still removes.
   */
  readonly recall: readonly SentenceCount[];
  readonly cost: { targets: number; sentences: number; embedCalls: number; ms: number };
  readonly goals: { goal: string; pass: boolean; detail: string }[];
}

/** Answers a coding assistant gives, about no forget target: templates over everyday tasks. */
const CODING_TEMPLATES = [
  'Use {api} to {task}.',
  'In {lang}, you can {task} with {api}.',
  'The simplest way to {task} is a loop that calls {api} on each item.',
  'Remember to handle the error case when you {task}.',
  'Wrap the call to {api} in a try block so a failure does not crash the program.',
  'A unit test for this should {task} and assert on the result.',
  'If performance matters, {task} once and cache the result.',
  'Check the documentation of {api} for the options it accepts.',
  '{api} returns a new value, so assign it before you use it.',
  'Prefer immutable data when you {task} in {lang}.',
  'Log the input before you {task}, so a bug is easier to trace.',
  'You can {task} asynchronously and await the promise it returns.',
  'Here is how to {task} in {lang}:',
  'Run the linter after you change how you {task}.',
  'For large inputs, stream the data instead of loading it all when you {task}.',
  'The function below shows how to {task} with {api}.',
  'Keep the {lang} version in mind: older releases cannot {task} this way.',
  'This approach to {task} is also easy to read for other developers.',
  'Add a type annotation so the compiler can check how you {task}.',
  'Finally, commit the change with a message that says why you {task}.',
];
const CODING_FILLERS: readonly { lang: string; api: string; task: string }[] = [
  { lang: 'Python', api: 'sorted()', task: 'sort a list of numbers' },
  { lang: 'JavaScript', api: 'Array.prototype.map', task: 'transform every element of an array' },
  { lang: 'TypeScript', api: 'JSON.parse', task: 'read a configuration file' },
  { lang: 'Go', api: 'strings.Split', task: 'split a string on commas' },
  { lang: 'Rust', api: 'Vec::retain', task: 'remove items that fail a check' },
  { lang: 'Java', api: 'HashMap.getOrDefault', task: 'count words in a text' },
  { lang: 'C#', api: 'LINQ Where', task: 'filter a collection' },
  { lang: 'Bash', api: 'grep -r', task: 'search files for a pattern' },
  { lang: 'SQL', api: 'GROUP BY', task: 'sum sales per month' },
  { lang: 'Python', api: 'pathlib.Path.glob', task: 'list the files in a folder' },
  { lang: 'JavaScript', api: 'fetch', task: 'call a REST endpoint' },
  { lang: 'Ruby', api: 'Enumerable#each_slice', task: 'process records in batches' },
];

function codingSentences(): { question: string; sentence: string }[] {
  const out: { question: string; sentence: string }[] = [];
  for (const f of CODING_FILLERS)
    for (const t of CODING_TEMPLATES)
      out.push({
        question: `How do I ${f.task} in ${f.lang}?`,
        sentence: t.replace('{api}', f.api).replace('{lang}', f.lang).replace('{task}', f.task),
      });
  return out;
}

/** An LlmPort that only embeds, with the scripted model: for building the embedding index offline. */
function embedder(): LlmPort & { calls: number } {
  const port = {
    host: 'offline',
    calls: 0,
    embed: async (_model: string, input: readonly string[]) => {
      port.calls++;
      return input.map((t) => scriptedEmbedding(t, 256));
    },
    chat: () => Promise.reject(new Error('no chat in the meaning bench')),
    listModels: async () => [],
    showModel: async (model: string) => ({ name: model }),
    pull: async () => undefined,
    version: async () => 'offline',
  };
  return port as unknown as LlmPort & { calls: number };
}

const MODEL = 'embeddinggemma';

async function judgeAll(
  relevance: Relevance,
  targets: readonly ForgetTarget[],
  items: readonly { question: string; sentence: string }[],
  llm: (LlmPort & { calls: number }) | undefined,
): Promise<number> {
  let removed = 0;
  for (const item of items) {
    let embeddings: ConstructorParameters<typeof MeaningCheck>[3];
    let vectors: readonly Float32Array[] | undefined;
    if (llm) {
      const q = await relevance.embedQueries(llm, MODEL, [
        { part: 'question', text: item.question },
        { part: 'answer', text: item.sentence },
      ]);
      const index = relevance.embeddingsFor(MODEL);
      if ('vectors' in q && index) {
        embeddings = { index, questionVectors: [q.vectors[0]!] };
        vectors = [q.vectors[1]!];
      }
    }
    const hits = new MeaningCheck(relevance, targets, [item.question], embeddings).judge([item.sentence], vectors);
    if (hits[0]) removed++;
  }
  return removed;
}

/**
 * Every answer of a world-set file read as a model would give it: each accepted variant (a model may
 * give any of them), as the sentence "The answer is …", split as the check splits what is shown.
 */
function worldAnswers(root: string, file: string): { question: string; sentence: string }[] {
  return readFileSync(join(root, 'datasets/world', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { question: string; answer: string[] })
    .flatMap((r) =>
      r.answer.flatMap((variant) => {
        const text = `The answer is ${variant}.`;
        return splitSentences(text).map((s) => ({ question: r.question, sentence: text.slice(s.start, s.end) }));
      }),
    );
}

export async function runMeaningBench(input: { root: string; log: (line: string) => void }): Promise<MeaningReport> {
  const world = JSON.parse(readFileSync(join(input.root, 'datasets/world/targets.json'), 'utf8')) as unknown[];
  const targets = parseTargets(world).targets;
  const relevance = relevanceOf(buildTargetIndex(targets));
  const llm = embedder();
  await relevance.prepare(llm, MODEL);
  const coding = codingSentences();
  const count = async (sets: readonly (readonly [string, readonly { question: string; sentence: string }[]])[]) => {
    const out: SentenceCount[] = [];
    for (const [set, items] of sets) {
      for (const withMeaning of [false, true]) {
        // Every forget target is checked, not only a shortlist: the strictest reading.
        const removed = await judgeAll(relevance, targets, items, withMeaning ? llm : undefined);
        out.push({ set, sentences: items.length, removed, share: removed / items.length, withMeaning });
      }
    }
    return out;
  };
  const precision = await count([
    ['world retain answers', worldAnswers(input.root, 'retain.jsonl')],
    ['coding answers', coding],
  ]);
  const recall = await count([['world forget answers', worldAnswers(input.root, 'forget.jsonl')]]);

  // Cost at 10,000 targets: one embed call for a 10-sentence answer, then the scoring work.
  const many = parseTargets(
    Array.from({ length: 10_000 }, (_, i) => ({
      name: `Client ${i} Holding`,
      description: `A logistics client number ${i} in a harbour town.`,
    })),
  ).targets;
  const bigRelevance = relevanceOf(buildTargetIndex(many));
  const bigLlm = embedder();
  await bigRelevance.prepare(bigLlm, MODEL);
  const answer = coding
    .slice(0, 10)
    .map((c) => c.sentence)
    .join(' ');
  const sentences = splitSentences(answer).map((s) => answer.slice(s.start, s.end));
  const before = bigLlm.calls;
  const q = await bigRelevance.embedQueries(bigLlm, MODEL, [{ part: 'question', text: coding[0]!.question }]);
  const v = await bigRelevance.embedQueries(
    bigLlm,
    MODEL,
    sentences.map((text) => ({ part: 'answer' as const, text })),
  );
  const embedCalls = bigLlm.calls - before - 1;
  const shortlist = many.slice(0, 8);
  const index = bigRelevance.embeddingsFor(MODEL)!;
  // Built once per target list, not per answer: the keyword index and the rows of each target.
  void bigRelevance.keywords;
  index.rowsOf(shortlist[0]!.id);
  const started = performance.now();
  const check = new MeaningCheck(bigRelevance, shortlist, [coding[0]!.question], {
    index,
    questionVectors: 'vectors' in q ? [...q.vectors] : [],
  });
  check.judge(sentences, 'vectors' in v ? v.vectors : undefined);
  const ms = performance.now() - started;

  const goals = [
    ...precision.map((p) => ({
      goal: `meaning check precision, ${p.set}${p.withMeaning ? ' (keywords + meaning)' : ' (keywords only)'}: at most 2% of sentences removed`,
      pass: p.share <= 0.02,
      detail: `${p.removed} of ${p.sentences} removed (${(p.share * 100).toFixed(1)}%)`,
    })),
    {
      goal: 'meaning check cost at 10,000 targets: one embed call per answer and under 10 ms of work',
      pass: embedCalls === 1 && ms < 10,
      detail: `${embedCalls} embed call for ${sentences.length} sentences, ${ms.toFixed(2)} ms`,
    },
  ];
  return { precision, recall, cost: { targets: many.length, sentences: sentences.length, embedCalls, ms }, goals };
}

export function formatMeaningReport(r: MeaningReport): string {
  const lines = ['', 'Meaning check (what is shown): precision on answers about no target, and cost'];
  for (const g of r.goals) lines.push(`${g.pass ? 'PASS' : 'FAIL'}  ${g.goal} — ${g.detail}`);
  for (const c of r.recall)
    lines.push(
      `INFO  meaning check recall, ${c.set}${c.withMeaning ? ' (keywords + meaning)' : ' (keywords only)'}, for reference — ` +
        `${c.removed} of ${c.sentences} removed (${(c.share * 100).toFixed(1)}%)`,
    );
  return lines.join('\n') + '\n';
}
