import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyEdits,
  buildEditMessages,
  composeEdits,
  editSchema,
  maxReplacementLength,
  readEdits,
  type EditReply,
  type EditSet,
} from '../../../../src/core/agents';
import { assignHandles, parseTargets } from '../../../../src/core/targets';
import { splitSentences } from '../../../../src/core/text';

const draft = splitSentences('Drones fly far. The project is run from Lisbon. Batteries limit range.');
const read = (reply: Partial<EditReply>) => readEdits({ drop: [], replace: [], ...reply }, draft);
const edits = (reply: Partial<EditReply>): EditSet => {
  const r = read(reply);
  if ('problem' in r) throw new Error(r.problem);
  return r.edits;
};

describe('reading an edit reply', () => {
  test('drops and replacements are kept by 0-based sentence', () => {
    const set = edits({ drop: [2], replace: [{ sentence: 3, text: 'Batteries matter.' }] });
    assert.deepEqual(
      [...set],
      [
        [1, { kind: 'drop' }],
        [2, { kind: 'replace', text: 'Batteries matter.' }],
      ],
    );
  });

  test('a sentence number the draft does not have is refused, naming how many there are', () => {
    assert.deepEqual(read({ drop: [4] }), { problem: 'sentence 4 does not exist: the draft has 3 sentences' });
    assert.deepEqual(read({ replace: [{ sentence: 9, text: 'x' }] }), { problem: 'sentence 9 does not exist: the draft has 3 sentences' });
  });

  test('numbers below 1 or not whole are refused by the schema before any reading', () => {
    for (const drop of [[0], [-1], [1.5]]) assert.equal(editSchema.safeParse({ drop, replace: [] }).success, false, String(drop));
  });

  test('a sentence edited twice is refused', () => {
    assert.deepEqual(read({ drop: [2], replace: [{ sentence: 2, text: 'x' }] }), { problem: 'sentence 2 is edited more than once' });
    assert.deepEqual(read({ drop: [1, 1] }), { problem: 'sentence 1 is edited more than once' });
  });

  test('a replacement far longer than its sentence is refused: new writing is not an edit', () => {
    const limit = maxReplacementLength('The project is run from Lisbon.'.length);
    assert.equal(limit, 200);
    const r = read({ replace: [{ sentence: 2, text: 'x'.repeat(limit + 1) }] });
    assert.deepEqual(r, { problem: `the replacement of sentence 2 has ${limit + 1} characters, more than the ${limit} allowed` });
    assert.ok('edits' in read({ replace: [{ sentence: 2, text: 'x'.repeat(limit) }] }));
    assert.equal(maxReplacementLength(500), 1000);
  });

  test('a replacement is folded to one line; an empty one is a drop, one equal to its sentence no edit', () => {
    assert.deepEqual(
      [...edits({ replace: [{ sentence: 1, text: ' Drones\n\n  fly. ' }] })],
      [[0, { kind: 'replace', text: 'Drones fly.' }]],
    );
    assert.deepEqual([...edits({ replace: [{ sentence: 1, text: ' \n ' }] })], [[0, { kind: 'drop' }]]);
    assert.deepEqual([...edits({ replace: [{ sentence: 1, text: 'Drones fly far.' }] })], []);
  });
});

describe('applying edits', () => {
  test('no edits give the draft back', () => {
    assert.equal(applyEdits(draft, new Map()), 'Drones fly far. The project is run from Lisbon. Batteries limit range.');
  });

  test('dropped sentences go with their space, replaced ones stand in their place', () => {
    assert.equal(
      applyEdits(draft, edits({ drop: [2], replace: [{ sentence: 3, text: 'Batteries matter.' }] })),
      'Drones fly far. Batteries matter.',
    );
    assert.equal(applyEdits(draft, edits({ drop: [1] })), 'The project is run from Lisbon. Batteries limit range.');
    assert.equal(applyEdits(draft, edits({ drop: [1, 2, 3] })), '');
  });

  test('markdown keeps its shape: a dropped paragraph leaves its break, a dropped item its bullet', () => {
    const md = splitSentences('Intro.\n\n- Falcon flies. It is fast.\n- Drones hover.\n\nEnd.');
    const apply = (drop: number[]) => {
      const r = readEdits({ drop, replace: [] }, md);
      assert.ok('edits' in r);
      return applyEdits(md, r.edits);
    };
    assert.equal(apply([2]), 'Intro.\n\n- It is fast.\n- Drones hover.\n\nEnd.');
    assert.equal(apply([2, 3]), 'Intro.\n\n- Drones hover.\n\nEnd.');
    assert.equal(apply([2, 3, 4]), 'Intro.\n\nEnd.');
    assert.equal(apply([1]), '- Falcon flies. It is fast.\n- Drones hover.\n\nEnd.');
  });

  test('a replacement of a list item keeps its bullet', () => {
    const md = splitSentences('- Falcon flies.\n- Drones hover.');
    const r = readEdits({ drop: [], replace: [{ sentence: 1, text: 'A project flies.' }] }, md);
    assert.ok('edits' in r);
    assert.equal(applyEdits(md, r.edits), '- A project flies.\n- Drones hover.');
  });
});

describe('composing edit sets', () => {
  test('a sentence any of the top candidates changed is changed, as the best-ranked of them changed it', () => {
    const best = edits({ replace: [{ sentence: 2, text: 'A project is run from a city.' }] });
    const second = edits({ drop: [2, 3] });
    assert.equal(applyEdits(draft, composeEdits([best, second])), 'Drones fly far. A project is run from a city.');
    assert.equal(applyEdits(draft, composeEdits([second, best])), 'Drones fly far.');
  });

  test('a sentence stays as drafted only when every top candidate left it alone', () => {
    const merged = composeEdits([edits({ drop: [1] }), edits({ drop: [3] }), edits({})]);
    assert.equal(applyEdits(draft, merged), 'The project is run from Lisbon.');
  });
});

describe('the edit prompt', () => {
  const handled = assignHandles(parseTargets([{ name: 'Project Falcon', description: 'the drone project' }]).targets);
  const messages = (candidate: number) =>
    buildEditMessages({ question: 'What does it do?', history: [], targets: handled, draft, candidate, of: 3 });

  test('carries the draft numbered by sentence, and the targets by handle', () => {
    const content = messages(1)[1]!.content;
    const data = JSON.parse(content.slice(0, content.lastIndexOf('\n\nCandidate '))) as {
      forget_targets: { handle: string; name: string }[];
      draft_sentences: { sentence: number; text: string }[];
    };
    assert.deepEqual(data.draft_sentences, [
      { sentence: 1, text: 'Drones fly far.' },
      { sentence: 2, text: 'The project is run from Lisbon.' },
      { sentence: 3, text: 'Batteries limit range.' },
    ]);
    assert.deepEqual(
      data.forget_targets.map((t) => [t.handle, t.name]),
      [['T1', 'Project Falcon']],
    );
  });

  test('the j calls differ only after their shared prefix, so the server can reuse its cache', () => {
    const [a, b] = [messages(1), messages(2)];
    assert.equal(a[0]!.content, b[0]!.content);
    const cut = a[1]!.content.lastIndexOf('\n\nCandidate ');
    assert.equal(a[1]!.content.slice(0, cut), b[1]!.content.slice(0, cut));
    assert.notEqual(a[1]!.content, b[1]!.content);
  });
});
