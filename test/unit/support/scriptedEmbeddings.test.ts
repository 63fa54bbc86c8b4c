import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../src/core/guard';
import type { LlmPort } from '../../../src/core/llm/port';
import { contentStems, MemoryEmbeddingCache, relevanceOf } from '../../../src/core/relevance';
import { parseTargets } from '../../../src/core/targets';
import { wordRank } from '../../../src/core/text/wordFrequency';
import { CONCEPTS, REALISTIC_BUNCHING, scriptedEmbedding } from '../../support/scriptedEmbeddings';

const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe('the scripted embedding model', () => {
  test('its lexicon is general English: every word among the 20,000 most frequent, every concept a family of words', () => {
    // A rare word or a proper name in the lexicon could only have come from a test's own question.
    const rare: string[] = [];
    for (const [concept, words] of Object.entries(CONCEPTS)) {
      const list = words.split(' ');
      assert.ok(list.length >= 6, `${concept} is a concept, not a pair made to join one question to one target`);
      for (const w of list) if (!((wordRank(w) ?? Infinity) <= 20_000)) rare.push(`${concept}: ${w}`);
    }
    assert.deepEqual(rare, []);
  });

  test('with bunching, similarities bunch as a real model’s do: unrelated texts are not at zero, related ones are well above', () => {
    const unrelated = [
      ['How do I squash commits in git?', 'A recipe for lemon cake with almonds.'],
      ['What is the capital of Australia?', 'Invoice numbering for the accounts team.'],
    ].map(([a, b]) => cos(scriptedEmbedding(a!, 256, REALISTIC_BUNCHING), scriptedEmbedding(b!, 256, REALISTIC_BUNCHING)));
    for (const s of unrelated) assert.ok(s > 0.2 && s < 0.5, `unrelated at ${s}`);
    const related = cos(
      scriptedEmbedding('Which captain sails the ocean vessel?', 256, REALISTIC_BUNCHING),
      scriptedEmbedding('A sailor on a ship at sea.', 256, REALISTIC_BUNCHING),
    );
    // Without bunching the same unrelated pair is near zero: the plainer model the pipeline's tests use.
    assert.ok(
      Math.abs(
        cos(scriptedEmbedding('How do I squash commits in git?', 256), scriptedEmbedding('A recipe for lemon cake with almonds.', 256)),
      ) < 0.15,
    );
    assert.ok(related > Math.max(...unrelated) + 0.15, `related at ${related}`);
  });

  test('a paraphrase that shares no content word with the target is shortlisted by meaning; a coding question is not', async () => {
    const [target] = parseTargets([
      {
        name: 'Harbourlight Initiative',
        description: 'An internal research programme building a tidal energy prototype for the port authority.',
      },
    ]).targets;
    const question = 'When does the laboratory experiment on the boat finish?';
    const shared = [...contentStems(question)].filter((w) => contentStems(`${target!.name} ${target!.description}`).has(w));
    assert.deepEqual(shared, [], 'the question repeats none of the target’s words');
    const llm = {
      host: 'http://127.0.0.1:1',
      embed: async (_m: string, texts: readonly string[]) => texts.map((t) => scriptedEmbedding(t, 256)),
    } as unknown as LlmPort;
    const index = buildTargetIndex([target!]);
    const relevance = relevanceOf(index);
    const cache = new MemoryEmbeddingCache();
    const shortlist = async (text: string) => {
      const queries = await relevance.embedQueries(llm, 'all-minilm', [{ part: 'question', text }], { cache });
      return relevance.assess({ policy: 'related', named: [], texts: [text], queries, model: 'all-minilm' }).shortlist;
    };
    const found = await shortlist(question);
    assert.deepEqual(
      found.map((e) => e.signals.map((s) => s.kind)),
      [['meaning']],
    );
    assert.deepEqual(await shortlist('How do I flatten a nested array in JavaScript?'), []);
  });
});
