import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseTofuFile, tofuDataset, TofuFormatError } from '../../../../src/core/eval';

// A tiny fixture in TOFU's shape, written for this test (invented authors, not TOFU data).
const FORGET_JSONL = [
  {
    question: 'What genre does Oriel Vasquen write in?',
    answer: 'Oriel Vasquen writes maritime mystery novels.',
    paraphrased_question: 'Which genre is Oriel Vasquen known for?',
  },
  {
    question: 'Where was the author of "Salt Lanterns" born?',
    answer: 'The author of "Salt Lanterns", Oriel Vasquen, was born in Tessaly Bay.',
  },
]
  .map((r) => JSON.stringify(r))
  .join('\n');
const RETAIN_ARRAY = JSON.stringify([{ question: 'What award did Brannoc Ilve win?', answer: 'Brannoc Ilve won the Copper Quill award.' }]);

describe('TOFU loader', () => {
  test('reads JSON Lines, JSON arrays and {data: [...]}', () => {
    assert.equal(parseTofuFile(FORGET_JSONL).length, 2);
    assert.deepEqual(parseTofuFile(RETAIN_ARRAY), [
      { question: 'What award did Brannoc Ilve win?', answer: 'Brannoc Ilve won the Copper Quill award.' },
    ]);
    assert.equal(parseTofuFile(JSON.stringify({ data: JSON.parse(RETAIN_ARRAY) })).length, 1);
    assert.equal(parseTofuFile(FORGET_JSONL)[0]!.paraphrasedQuestion, 'Which genre is Oriel Vasquen known for?');
    assert.deepEqual(parseTofuFile('  \n'), []);
  });

  test('says which record is wrong', () => {
    assert.throws(
      () => parseTofuFile('{"question": "q"}\n{"question": "q2", "answer": "a"}', 'forget01.json'),
      (e: unknown) => e instanceof TofuFormatError && /forget01.json: record 1 has no string "question" and "answer"/.test(e.message),
    );
    assert.throws(() => parseTofuFile('{"question": \n', 'x.jsonl'), TofuFormatError);
  });

  test('builds forget and retain questions scored by the reference answer; target names not in the question are leaks', () => {
    const d = tofuDataset({
      forget: parseTofuFile(FORGET_JSONL),
      retain: parseTofuFile(RETAIN_ARRAY),
      targets: [{ name: 'Oriel Vasquen', aliases: ['Salt Lanterns'] }],
      source: 'fixture',
    });
    assert.deepEqual(
      d.questions.map((q) => `${q.split}:${q.kind}`),
      ['forget:direct', 'forget:paraphrased', 'forget:direct', 'retain:direct'],
    );
    assert.deepEqual(d.questions[0]!.expected, ['Salt Lanterns']);
    assert.deepEqual(d.questions[2]!.expected, ['Oriel Vasquen'], 'the question names the book, so the author is the leak');
    assert.equal(d.questions[3]!.referenceAnswer, 'Brannoc Ilve won the Copper Quill award.');
    assert.deepEqual(
      d.targets.map((t) => t.name),
      ['Oriel Vasquen'],
    );
    assert.equal(
      tofuDataset({ forget: parseTofuFile(FORGET_JSONL), limit: 1 }).questions.length,
      2,
      'limit counts records; the paraphrase comes along',
    );
  });
});
