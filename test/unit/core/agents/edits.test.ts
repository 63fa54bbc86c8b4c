import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentRoleOf,
  applyEdits,
  buildEditMessages,
  buildVanillaMessages,
  composeEdits,
  createDataMark,
  editCandidatesSchema,
  editProblem,
  editSchema,
  maxReplacementLength,
  readEdits,
  ROLE_SIGNATURE,
  taskData,
  toJsonSchema,
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
  /** The request's thread up to the draft: the vanilla prompt as sent, then the draft as the model wrote it. */
  const thread = [
    ...buildVanillaMessages('What does it do?', [
      { role: 'user', content: 'Tell me about drones.' },
      { role: 'assistant', content: 'Drones are aircraft.' },
    ]),
    { role: 'assistant' as const, content: 'Drones fly far. The project is run from Lisbon. Batteries limit range.' },
  ];
  const messages = (candidates: number, mark = createDataMark(() => 0)) =>
    buildEditMessages({ thread, targets: handled, draft, candidates, mark });

  test('continues the thread as it is, with its task as the only new message', () => {
    const m = messages(3);
    assert.deepEqual(m.slice(0, -1), thread);
    assert.equal(m.length, thread.length + 1);
    assert.equal(m.at(-1)!.role, 'user');
    assert.ok(m.at(-1)!.content.startsWith(ROLE_SIGNATURE.edit));
    assert.equal(agentRoleOf(m), 'edit');
  });

  test('carries the targets by handle and the number of sets as data, and numbers the sentences by their first words', () => {
    const task = messages(
      3,
      createDataMark(() => 0),
    ).at(-1)!;
    const data = taskData(task) as { forget_targets: { handle: string; name: string; description: string }[]; candidate_sets: number };
    assert.deepEqual(data.forget_targets, [{ handle: 'T1', name: 'Project Falcon', description: 'the drone project' }]);
    assert.equal(data.candidate_sets, 3);
    // The draft itself is the turn above: the task quotes only each sentence's first words, marked.
    assert.match(task.content, /\n1: Dronesˆflyˆfar\.\n2: Theˆprojectˆisˆrun …\n3: Batteriesˆlimitˆrange\.$/u);
    assert.ok(!task.content.includes('Lisbon'), 'the task does not repeat the draft');
  });

  test('asks for j sets, each in its own way, in order', () => {
    const ways = (j: number) => /in this order:\n((?:\d+: .*\n)+)/.exec(messages(j).at(-1)!.content)![1]!.trim().split('\n');
    assert.deepEqual(
      ways(1).map((w) => w.slice(0, 3)),
      ['1: '],
    );
    const five = ways(5);
    assert.deepEqual(
      five.map((w) => w.slice(0, 3)),
      ['1: ', '2: ', '3: ', '4: ', '5: '],
    );
    assert.equal(new Set(five.slice(0, 4).map((w) => w.slice(3))).size, 4);
    assert.match(messages(1).at(-1)!.content, /Write 1 candidate set of edits/);
    assert.match(messages(5).at(-1)!.content, /Write 5 candidate sets of edits/);
  });

  test('states the marking rule only when the request marks its text', () => {
    const mark = createDataMark(() => 0);
    assert.ok(messages(3, mark).at(-1)!.content.includes(mark.rule));
    const plain = buildEditMessages({ thread, targets: handled, draft, candidates: 3 });
    assert.doesNotMatch(plain.at(-1)!.content, /Untrusted text quoted here/);
    assert.match(plain.at(-1)!.content, /\n2: The project is run …\n/);
  });

  test('its schema fixes j sets and closed touch kinds, so Ollama’s grammar enforces both', () => {
    const json = toJsonSchema(editCandidatesSchema(3)) as { properties: { candidates: { minItems: number; maxItems: number } } };
    assert.deepEqual([json.properties.candidates.minItems, json.properties.candidates.maxItems], [3, 3]);
    const ok = { touched: [{ target: 'T1', how: 'described' }], candidates: [0, 1, 2].map(() => ({ drop: [], replace: [] })) };
    assert.equal(editCandidatesSchema(3).safeParse(ok).success, true);
    assert.equal(editCandidatesSchema(3).safeParse({ ...ok, candidates: ok.candidates.slice(1) }).success, false);
    assert.equal(editCandidatesSchema(3).safeParse({ ...ok, touched: [{ target: 'Project Falcon', how: 'named' }] }).success, false);
    assert.equal(editCandidatesSchema(3).safeParse({ ...ok, touched: [{ target: 'T1', how: 'guessed' }] }).success, false);
  });

  test('a reply stands while one candidate reads; with none, every problem is named for the retry', () => {
    const check = editProblem(draft);
    const reply = (...candidates: Partial<EditReply>[]) => ({
      touched: [],
      candidates: candidates.map((c) => ({ drop: [], replace: [], ...c })),
    });
    assert.equal(check(reply({ drop: [9] }, { drop: [2] })), undefined);
    assert.equal(
      check(reply({ drop: [9] }, { drop: [1, 1] })),
      'candidate 1: sentence 9 does not exist: the draft has 3 sentences; candidate 2: sentence 1 is edited more than once',
    );
  });
});
