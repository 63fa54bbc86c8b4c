import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chanceOf, formatChoiceQuestion, parseChoice } from '../../../../src/core/eval';

const CAPITALS = ['Lyon', 'Paris', 'Marseille', 'Nice'];

describe('multiple-choice questions', () => {
  test('the model sees the choices lettered, and is told which letters it may answer with', () => {
    assert.equal(
      formatChoiceQuestion('What is the capital of France? ', CAPITALS),
      'What is the capital of France?\n\nA. Lyon\nB. Paris\nC. Marseille\nD. Nice\n\nAnswer with the letter of the correct choice (A to D).',
    );
  });

  test('reads the letter from the shapes replies take', () => {
    const cases: [string, number][] = [
      ['B', 1],
      ['b', 1],
      ['(b)', 1],
      ['B.', 1],
      ['**B**', 1],
      ['Answer: B', 1],
      ['answer: c', 2],
      ['The correct answer is (d).', 3],
      ['The answer is B because Lyon is not the capital.', 1],
      ['Option C', 2],
      ['B) Paris', 1],
      ['B. Paris is the capital of France.', 1],
      ['(c) Marseille', 2],
      ['D - Nice', 3],
      ['I would go with B here.', 1],
      ['Paris', 1],
      ['The capital of France is Paris.', 1],
      ['It is marseille, in my view.', 2],
      ['A', 0],
    ];
    for (const [reply, expected] of cases) assert.equal(parseChoice(reply, CAPITALS), expected, reply);
  });

  test('no letter, several letters, a letter past the last choice, or an article is no choice', () => {
    for (const reply of [
      '',
      'I am not sure.',
      'A good question; it could be B or C.',
      'E',
      'Answer: F',
      'The answer is a city in the south.',
      'Either Lyon or Nice.',
    ])
      assert.equal(parseChoice(reply, CAPITALS), undefined, reply);
  });

  test('the longer choice wins when one choice contains another', () => {
    const choices = ['Paris', 'Paris, Texas', 'Austin', 'Dallas'];
    assert.equal(parseChoice('It is Paris, Texas.', choices), 1);
    assert.equal(parseChoice('It is Paris.', choices), 0);
  });

  test('chance is the mean of 1 / choices over the questions', () => {
    assert.equal(chanceOf([4, 4, 4]), 0.25);
    assert.equal(chanceOf([2, 4]), (0.5 + 0.25) / 2);
    assert.equal(chanceOf([]), null);
  });
});
