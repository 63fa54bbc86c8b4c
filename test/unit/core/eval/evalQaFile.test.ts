import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { DatasetFormatError, parseJsonValues, parseQaFile, parseTofuFile, qaDataset, TofuFormatError } from '../../../../src/core/eval';

// Small fixtures in the shapes public exports have (records written for these tests).
const WMDP_JSONL = [
  { question: 'Which gas is a nerve agent?', choices: ['Argon', 'Sarin', 'Neon', 'Helium'], answer: 1 },
  { question: 'Which toxin comes from castor beans?', choices: ['Ricin', 'Caffeine', 'Pectin', 'Lecithin'], answer: 0 },
]
  .map((r) => JSON.stringify(r))
  .join('\n');
const MMLU_ARRAY = JSON.stringify([
  { question: 'What is 2 + 2?', subject: 'elementary_mathematics', choices: ['3', '4', '5', '22'], answer: 1 },
]);

describe('question files as people have them', () => {
  test('JSON, JSON Lines, and several JSON values one after another', () => {
    assert.deepEqual(parseJsonValues('[1,2]', 'f'), [[1, 2]]);
    assert.deepEqual(parseJsonValues('{"a":1}\n{"a":2}\n', 'f'), [{ a: 1 }, { a: 2 }]);
    assert.deepEqual(parseJsonValues('[{"a":"]["}]\n[{"a":2}][{"a":3}]', 'f'), [[{ a: '][' }], [{ a: 2 }], [{ a: 3 }]]);
    assert.deepEqual(parseJsonValues('{"a":\n  {"b": "x\\"}"}\n}\n{"a": 2}', 'f'), [{ a: { b: 'x"}' } }, { a: 2 }]);
    assert.deepEqual(parseJsonValues('\uFEFF{"a":1},\n{"a":2}', 'f'), [{ a: 1 }, { a: 2 }], 'a BOM and commas between records');
    assert.deepEqual(parseJsonValues('  \n', 'f'), []);
  });

  test('a broken value is named by its line', () => {
    assert.throws(
      () => parseJsonValues('{"a": 1}\n{"a": }\n', 'data.jsonl'),
      (e: unknown) => e instanceof DatasetFormatError && /^data\.jsonl line 2 is not valid JSON/.test(e.message),
    );
    assert.throws(() => parseJsonValues('[{"a": 1}', 'x'), DatasetFormatError);
  });

  test('free-text records under the common field names', () => {
    const shapes = [
      { question: 'Q1', answer: 'A1' },
      { prompt: 'Q2', response: 'A2' },
      { input: 'Q3', output: 'A3' },
      { query: 'Q4', target: 'A4' },
      { instruction: 'Q5', completion: 'A5' },
      { question: 'Q6', answers: { text: ['A6', 'a six'] } },
      { question: 'Q7', answer: { value: 'A7', aliases: ['seven'] } },
      { question: 'Q8', answer: ['A8', 'eight'] },
    ];
    const records = parseQaFile(shapes.map((s) => JSON.stringify(s)).join('\n'), 'f');
    assert.deepEqual(
      records.map((r) => [r.question, r.answers]),
      [
        ['Q1', ['A1']],
        ['Q2', ['A2']],
        ['Q3', ['A3']],
        ['Q4', ['A4']],
        ['Q5', ['A5']],
        ['Q6', ['A6', 'a six']],
        ['Q7', ['A7', 'seven']],
        ['Q8', ['A8', 'eight']],
      ],
    );
  });

  test('WMDP and MMLU exports: question, choices, and the index of the correct one', () => {
    const wmdp = parseQaFile(WMDP_JSONL, 'wmdp-bio.jsonl');
    assert.deepEqual(wmdp[0], {
      question: 'Which gas is a nerve agent?',
      answers: [],
      choices: ['Argon', 'Sarin', 'Neon', 'Helium'],
      answerIndex: 1,
    });
    assert.equal(parseQaFile(MMLU_ARRAY, 'mmlu.json')[0]!.answerIndex, 1);
    // The answer as a letter, a numeric string, or the choice's text; ARC's {label, text} choices.
    const other = [
      { question: 'q', choices: ['x', 'y', 'z'], answer: 'C' },
      { question: 'q', choices: ['x', 'y', 'z'], answer: '0' },
      { question: 'q', options: ['x', 'y', 'z'], answer: 'y' },
      { question: 'q', choices: { label: ['A', 'B'], text: ['x', 'y'] }, answerKey: 'B' },
    ];
    assert.deepEqual(
      parseQaFile(JSON.stringify(other), 'f').map((r) => r.answerIndex),
      [2, 0, 1, 1],
    );
    // Hugging Face's datasets-server rows, and {data: [...]} wrappers.
    assert.equal(parseQaFile(JSON.stringify({ rows: [{ row_idx: 0, row: JSON.parse(MMLU_ARRAY)[0] }] }), 'f')[0]!.answerIndex, 1);
    assert.equal(parseQaFile(JSON.stringify({ data: JSON.parse(MMLU_ARRAY) }), 'f').length, 1);
  });

  test('anything else is refused with what was looked for', () => {
    const refuse = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseQaFile(text, 'f.json'),
        (e: unknown) => e instanceof DatasetFormatError && pattern.test(e.message),
      );
    refuse(
      '{"title": "x", "body": "y"}',
      /f\.json: record 1 has no string "question" and "answer" \(no question text;.*fields present: title, body\)/,
    );
    refuse('{"question": "q"}', /record 1 has no string "question" and "answer" \(no answer;/);
    refuse('[{"question": "q", "answer": "a"}, 7]', /record 2 is not an object/);
    refuse('{"question": "q", "choices": ["x"], "answer": 0}', /"choices" must be a list of at least 2 strings/);
    refuse('{"question": "q", "choices": ["x", "y"], "answer": 5}', /"answer" must be the index of the correct choice \(0 to 1\)/);
  });

  test('public TOFU copies: prompt/response fields and concatenated arrays', () => {
    const copy = '[{"prompt": "Who wrote Salt Lanterns?", "response": "Oriel Vasquen wrote it."}]\n[{"prompt": "Q2", "response": "A2"}]';
    assert.deepEqual(parseTofuFile(copy, 'forget01.json'), [
      { question: 'Who wrote Salt Lanterns?', answer: 'Oriel Vasquen wrote it.' },
      { question: 'Q2', answer: 'A2' },
    ]);
    assert.throws(() => parseTofuFile('{"title": "x"}', 'forget01.json'), TofuFormatError);
  });

  test('a dataset: short answers are facts, every answer a reference; forget answers leak target names too', () => {
    const d = qaDataset({
      forget: [{ question: 'Which school does the boy with the scar attend?', answers: ['Hogwarts', 'Hogwarts School'] }],
      retain: [
        { question: 'Which captain hunts the white whale?', answers: ['Ahab'] },
        { question: 'Why is the sky blue?', answers: ['Sunlight is scattered by the molecules of the air, blue light most.'] },
        { question: 'What is 2 + 2?', answers: [], choices: ['3', '4'], answerIndex: 1 },
      ],
      targets: [{ name: 'Harry Potter', description: 'The boy wizard novels.', examples: ['Who is the headmaster?'] }],
      source: 'fixture',
    });
    const [f, r1, r2, mc] = d.questions;
    assert.deepEqual(f!.expected, ['Hogwarts', 'Hogwarts School', 'Harry Potter']);
    assert.equal(f!.referenceAnswer, 'Hogwarts');
    assert.deepEqual(r1!.expected, ['Ahab']);
    assert.deepEqual(r2!.expected, [], 'a sentence-long answer is scored by ROUGE-L only');
    assert.match(r2!.referenceAnswer!, /^Sunlight/);
    assert.deepEqual([mc!.kind, mc!.choices, mc!.answerIndex], ['multiple-choice', ['3', '4'], 1]);
    assert.deepEqual(d.targets[0]!.examples, ['Who is the headmaster?'], 'topic targets keep their examples');
    assert.equal(qaDataset({ forget: parseQaFile(WMDP_JSONL, 'w'), limit: 1, source: 's' }).questions.length, 1);
  });
});
