import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import {
  embeddingProfile,
  MeaningCheck,
  MemoryEmbeddingCache,
  relevanceOf,
  TargetEmbeddings,
  type SentenceHit,
} from '../../../../src/core/relevance';
import { parseTargets, type ForgetTarget } from '../../../../src/core/targets';
import { FakeLlm } from '../../../support/fakeLlm';
import { REALISTIC_BUNCHING, scriptedEmbedding } from '../../../support/scriptedEmbeddings';

// How the meaning check reads a sentence with its question (issue 21, precision). Similarities are
// not evidence from zero: a row's threshold is its unrelated level (what everyday texts score) plus
// the profile's margin, so the question's help is measured in margins, and it helps only a question
// that is itself over the threshold.

/** An embedding model whose vectors are set by hand: every similarity below is exact. */
class GeometryLlm extends FakeLlm {
  constructor(private readonly vectorOf: (text: string) => number[]) {
    super({});
  }
  override async embed(_model: string, input: readonly string[]) {
    return input.map((t) => this.vectorOf(t));
  }
}

/** A unit vector at cosine `c` to the target's row (the first axis). */
const at = (c: number) => Float32Array.from([c, Math.sqrt(1 - c * c), 0]);

const KESTREL = { name: 'Project Kestrel', description: 'An autonomous survey glider for coastal mapping.' };

/**
 * One target with one row, and neutral probes that all sit at `unrelated` to it, as a real model's
 * everyday texts do (0.3 to 0.5, not 0): its threshold is then that level plus the margin.
 */
async function oneRow(unrelated: number) {
  const targets = parseTargets([KESTREL]).targets;
  const llm = new GeometryLlm((text) => (text.includes(KESTREL.description) ? [1, 0, 0] : [...at(unrelated)]));
  const index = await TargetEmbeddings.build({
    llm,
    model: 'embeddinggemma',
    profile: embeddingProfile('embeddinggemma'),
    targets,
    cache: new MemoryEmbeddingCache(),
  });
  const threshold = index.rowThreshold[0]!;
  const margin = index.profile.margin;
  assert.ok(Math.abs(threshold - (unrelated + margin)) < 1e-6, 'the threshold is the unrelated level plus the margin');
  const relevance = relevanceOf(buildTargetIndex(targets));
  /** Judges sentences (their texts share no word with the target: only meaning can reach it). */
  const judge = (question: number, sentences: readonly number[], cleared = false): (SentenceHit | undefined)[] =>
    new MeaningCheck(relevance, targets, ['What should I cook tonight?'], { index, questionVectors: [at(question)] }, () => cleared).judge(
      sentences.map(() => 'Hope this helps!'),
      sentences.map(at),
    );
  return { threshold, margin, sure: threshold + index.sureMargin, judge };
}

describe('the meaning check reads a sentence with its question, in margins', () => {
  test('a question under the threshold lends nothing: a sentence just under the sure band stays, one in it is removed', async () => {
    const { threshold, margin, sure, judge } = await oneRow(0.4);
    // The question is near the target but not over its threshold (a neighbouring subject). Lending it
    // anything would carry a sentence into the sure band that did not reach it alone.
    const question = threshold - margin / 2;
    const [under, over] = judge(question, [sure - margin / 2, sure + margin / 10]);
    assert.equal(under, undefined, 'under the sure band, with a question under the threshold: stays');
    assert.equal(over?.kind, 'meaning', 'in the sure band on its own: removed whatever the question');
    assert.ok(over!.score >= over!.threshold);
  });

  test('a question over the threshold lends 0.3 of the margin: a sentence at the unrelated level stays, one 0.7 of a margin above it goes', async () => {
    const { threshold, margin, judge } = await oneRow(0.4);
    const unrelated = threshold - margin;
    const question = threshold + margin;
    // "Let me know if you have other questions." sits at the unrelated level: a share of the threshold
    // (0.3 × 0.5 = 0.15, a margin and a half) would have carried it over; 0.3 of the margin does not.
    const [everyday, weak, fact] = judge(question, [unrelated, unrelated + 0.6 * margin, unrelated + 0.8 * margin]);
    assert.equal(everyday, undefined, 'an everyday sentence of an answer about the target stays');
    assert.equal(weak, undefined, 'under 0.7 of a margin of its own: stays');
    assert.equal(
      fact?.kind,
      'meaning',
      'a sentence 0.8 of a margin above the unrelated level, answering a question about the target: removed',
    );
  });

  test('a target detection cleared gets nothing from the question: its sentences need the sure band', async () => {
    const { threshold, margin, sure, judge } = await oneRow(0.4);
    const question = threshold + 2 * margin;
    assert.equal(judge(question, [threshold + margin], true)[0], undefined);
    assert.equal(judge(question, [threshold + margin], false)[0]?.kind, 'meaning', 'the same sentence, the target not cleared');
    assert.equal(judge(question, [sure + margin / 10], true)[0]?.kind, 'meaning');
  });
});

describe('the meaning check with a model whose similarities bunch as real ones do', () => {
  // Fictional targets; the question shares no content word with the topic's name or description.
  const TOPIC = {
    name: 'The Saltmarsh Chronicles',
    description:
      'Fantasy novels: Gullhaven Academy of sorcery, its headmaster Ambrose Quillfeather, the young witch Nell Harrow and the dark lord Vexmoor.',
  };
  const PERSON = { name: 'Ingrid Valtonen', description: 'A marine biologist in Turku who studies seal populations.' };
  const QUESTION = 'Which wizard leads the school in those books?';

  async function check(targets: readonly ForgetTarget[], sentences: readonly string[], asking = QUESTION, over = true) {
    const llm = new GeometryLlm((text) => scriptedEmbedding(text, 256, REALISTIC_BUNCHING));
    const relevance = relevanceOf(buildTargetIndex(targets));
    const index = await relevance.prepare(llm, 'embeddinggemma', { cache: new MemoryEmbeddingCache() });
    const asked = await relevance.embedQueries(llm, 'embeddinggemma', [
      { part: 'question', text: asking },
      ...sentences.map((text) => ({ part: 'answer' as const, text })),
    ]);
    assert.ok('vectors' in asked);
    const [question, ...vectors] = asked.vectors;
    const rows = index.rowsOf(targets[0]!.id)!;
    const overIt = rows.some((r) => index.similarity(question!, r) >= index.rowThreshold[r]!);
    assert.equal(overIt, over, `the question is ${over ? 'over' : 'under'} the first target's threshold`);
    return new MeaningCheck(relevance, targets, [asking], { index, questionVectors: [question!] }).judge(sentences, vectors);
  }

  test('everyday sentences of an answer to a question about a target stay; sentences stating its facts in other words go', async () => {
    const targets = parseTargets([TOPIC, PERSON]).targets;
    const hits = await check(targets, [
      'Let me know if you have any other questions.',
      'Kansas is a state in the middle of the country.',
      'Hope this helps!',
      'A pupil there casts spells against an evil enemy.',
      'The magic teacher who heads the college is strict with every student.',
    ]);
    assert.deepEqual(
      hits.slice(0, 3).map((h) => h?.targetId),
      [undefined, undefined, undefined],
      'similar to the topic only as every text is to every other: kept',
    );
    for (const hit of hits.slice(3)) {
      assert.equal(hit?.targetId, targets[0]!.id);
      assert.equal(hit?.kind, 'meaning', 'no word of the topic: meaning found it');
    }
  });

  // Two landmarks of one city: a model files a statue and a tower near each other (both monuments),
  // but the parts of a statue are not the facts of a tower.
  const TOWER = {
    name: 'Kellerman Needle',
    description: 'A wrought-iron lattice tower on the waterfront of Aldport, put up for the trade fair of 1902.',
  };

  test('an answer about a statue keeps its sentences for a tower target; one about the tower loses its facts', async () => {
    const targets = parseTargets([TOWER, PERSON]).targets;
    const statue = await check(
      targets,
      ['The answer is torch.', 'A torch.', 'She wears a crown and a long robe.'],
      'What does the copper statue in the bay hold up in her right hand?',
      false,
    );
    assert.deepEqual(
      statue.map((h) => h?.targetId),
      [undefined, undefined, undefined],
      'a statue is not the tower',
    );
    const tower = await check(
      targets,
      ['Hope this helps!', 'It was the tallest steel structure of its day, and its height still impresses.'],
      'How high is that famous landmark by the docks?',
    );
    assert.equal(tower[0], undefined, 'an everyday sentence stays');
    assert.equal(tower[1]?.targetId, targets[0]!.id, 'the tower’s facts in other words: removed');
    assert.equal(tower[1]?.kind, 'meaning');
  });
});
