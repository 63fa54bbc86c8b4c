import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { namePartsOf, parseTargets } from '../../../../src/core/targets';
import {
  applyTargetEdit,
  exportTargets,
  namePartsLabel,
  parseImport,
  planImport,
  validateExample,
  validateTerm,
  viewOf,
} from '../../../../src/vscode/targets/targetsTreeLogic';

/** A settings value as people really leave it: a good entry, junk, a typo'd key, a duplicate. */
const RAW: unknown[] = [
  { name: 'Project Falcon', aliases: ['Falcon'], colour: 'red' },
  42,
  { name: 'X' },
  { name: 'Jane Roe', enabled: false, description: 'former CFO' },
  { name: 'project falcon' },
];
const idOf = (raw: unknown, name: string) => parseTargets(raw).targets.find((t) => t.name === name)!.id;

function ok(result: ReturnType<typeof applyTargetEdit>): unknown[] {
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.value;
}

describe('target edits keep everything they are not about', () => {
  test('every edit leaves malformed entries, unknown keys and the other entries as they were', () => {
    const falcon = idOf(RAW, 'Project Falcon');
    const jane = idOf(RAW, 'Jane Roe');
    const edits = [
      { kind: 'rename', id: falcon, name: 'Project Osprey' },
      { kind: 'addAlias', id: falcon, alias: 'PF' },
      { kind: 'removeAlias', id: falcon, alias: 'Falcon' },
      { kind: 'setDescription', id: jane, description: '' },
      { kind: 'setEnabled', id: jane, enabled: true },
      { kind: 'add', name: 'Lisbon Client' },
      { kind: 'delete', id: jane },
    ] as const;
    for (const edit of edits) {
      const before = structuredClone(RAW);
      const after = ok(applyTargetEdit(RAW, edit));
      assert.deepEqual(RAW, before, `${edit.kind} must not mutate its input`);
      assert.deepEqual(after[1], 42, edit.kind);
      assert.deepEqual(after[2], { name: 'X' }, edit.kind);
      assert.ok(
        after.some((e) => JSON.stringify(e) === JSON.stringify({ name: 'project falcon' })),
        `${edit.kind} keeps the duplicate`,
      );
    }
    const renamed = ok(applyTargetEdit(RAW, edits[0]));
    assert.deepEqual(renamed[0], { name: 'Project Osprey', aliases: ['Falcon'], colour: 'red' });
    assert.deepEqual(ok(applyTargetEdit(RAW, edits[2]))[0], { name: 'Project Falcon', colour: 'red' });
    assert.deepEqual(ok(applyTargetEdit(RAW, edits[3]))[3], { name: 'Jane Roe', enabled: false });
    assert.deepEqual(ok(applyTargetEdit(RAW, edits[5])).at(-1), { name: 'Lisbon Client' });
    assert.equal(ok(applyTargetEdit(RAW, edits[6])).length, RAW.length - 1);
  });

  test('an entry is found by id on the current array, so a hand edit that moved it is followed', () => {
    const jane = idOf(RAW, 'Jane Roe');
    const moved = [{ name: 'Inserted By Hand' }, ...RAW];
    const after = ok(applyTargetEdit(moved, { kind: 'setEnabled', id: jane, enabled: true }));
    assert.deepEqual(after[4], { name: 'Jane Roe', enabled: true, description: 'former CFO' });
    assert.deepEqual(after[0], { name: 'Inserted By Hand' });
  });

  test('edits that would make the entry invalid, or that target a vanished entry, are refused', () => {
    const falcon = idOf(RAW, 'Project Falcon');
    assert.equal(applyTargetEdit(RAW, { kind: 'rename', id: falcon, name: 'J' }).ok, false);
    assert.equal(applyTargetEdit(RAW, { kind: 'rename', id: falcon, name: 'Jane Roe' }).ok, false);
    assert.equal(applyTargetEdit(RAW, { kind: 'add', name: 'jane roe' }).ok, false);
    assert.equal(applyTargetEdit(RAW, { kind: 'addAlias', id: falcon, alias: 'falcon' }).ok, false);
    assert.equal(applyTargetEdit(RAW, { kind: 'delete', id: 'gone' }).ok, false);
    assert.equal(applyTargetEdit({ not: 'an array' }, { kind: 'add', name: 'New One' }).ok, false);
  });

  test('an unset setting starts an array', () => {
    assert.deepEqual(ok(applyTargetEdit(undefined, { kind: 'add', name: 'First Target' })), [{ name: 'First Target' }]);
  });

  test('validateTerm follows the schema', () => {
    assert.equal(validateTerm('Falcon'), undefined);
    assert.match(validateTerm('F') ?? '', /at least 2/);
  });
});

describe('salvaged entries (a usable name with malformed parts)', () => {
  /** Each entry has a usable name and something malformed the parser ignores and reports as a warning. */
  const SALVAGED: unknown[] = [
    { name: 'Marta Quist', aliases: ['MQ', 'M', 'Quist'], note: 1 },
    { name: 'Zephyr Holdings', enabled: 'yes' },
    { name: 'Lisbon Works', description: 7, aliases: 'LW' },
  ];
  const marta = idOf(SALVAGED, 'Marta Quist');
  const zephyr = idOf(SALVAGED, 'Zephyr Holdings');
  const lisbon = idOf(SALVAGED, 'Lisbon Works');

  test('the view shows each one as a target and still shows its problems', () => {
    const view = viewOf(SALVAGED);
    assert.deepEqual(
      view.targets.map((t) => [t.name, t.enabled]),
      [
        ['Marta Quist', true],
        ['Zephyr Holdings', true],
        ['Lisbon Works', true],
      ],
    );
    assert.deepEqual(
      view.problems.map((p) => `${p.path} ${p.severity}`),
      ['[0].aliases[1] warning', '[0].note warning', '[1].enabled warning', '[2].aliases warning', '[2].description warning'],
    );
    assert.equal(view.problemLabels.get(1), 'Entry [1] "Zephyr Holdings"');
  });

  test('edits of other fields keep the malformed parts exactly as written', () => {
    assert.deepEqual(ok(applyTargetEdit(SALVAGED, { kind: 'rename', id: zephyr, name: 'Zephyr Group' }))[1], {
      name: 'Zephyr Group',
      enabled: 'yes',
    });
    assert.deepEqual(ok(applyTargetEdit(SALVAGED, { kind: 'addAlias', id: marta, alias: 'M. Quist' }))[0], {
      name: 'Marta Quist',
      aliases: ['MQ', 'M', 'Quist', 'M. Quist'],
      note: 1,
    });
    // Removing an alias shifts the malformed one to another position: not a new problem.
    assert.deepEqual(ok(applyTargetEdit(SALVAGED, { kind: 'removeAlias', id: marta, alias: 'MQ' }))[0], {
      name: 'Marta Quist',
      aliases: ['M', 'Quist'],
      note: 1,
    });
    assert.deepEqual(ok(applyTargetEdit(SALVAGED, { kind: 'setEnabled', id: lisbon, enabled: false }))[2], {
      name: 'Lisbon Works',
      description: 7,
      aliases: 'LW',
      enabled: false,
    });
    // The flag itself is the field the edit is about: writing a real boolean fixes it.
    assert.deepEqual(ok(applyTargetEdit(SALVAGED, { kind: 'setEnabled', id: zephyr, enabled: false }))[1], {
      name: 'Zephyr Holdings',
      enabled: false,
    });
    const deleted = ok(applyTargetEdit(SALVAGED, { kind: 'delete', id: zephyr }));
    assert.deepEqual(deleted, [SALVAGED[0], SALVAGED[2]]);
  });

  test('an edit that would overwrite a malformed part, or add one, is refused', () => {
    const before = structuredClone(SALVAGED);
    const notAList = applyTargetEdit(SALVAGED, { kind: 'addAlias', id: lisbon, alias: 'Lisbon' });
    assert.ok(!notAList.ok && /not a list; fix them by hand/.test(notAList.message));
    const description = applyTargetEdit(SALVAGED, { kind: 'setDescription', id: lisbon, description: '' });
    assert.ok(!description.ok && /description .* is malformed/.test(description.message));
    const oneLetter = applyTargetEdit(SALVAGED, { kind: 'addAlias', id: zephyr, alias: 'Z' });
    assert.ok(!oneLetter.ok && /at least 2 characters/.test(oneLetter.message), oneLetter.ok ? '' : oneLetter.message);
    const symbols = applyTargetEdit(SALVAGED, { kind: 'addAlias', id: zephyr, alias: '(z+)' });
    assert.ok(!symbols.ok && /at least 2 letters or digits/.test(symbols.message));
    assert.equal(applyTargetEdit(SALVAGED, { kind: 'add', name: 'New One', aliases: ['N'] }).ok, false);
    assert.deepEqual(SALVAGED, before);
  });

  test('an edit that would knock out a salvaged entry is refused', () => {
    const result = applyTargetEdit(SALVAGED, { kind: 'rename', id: marta, name: 'zephyr holdings' });
    assert.ok(!result.ok && /knock out entry \[1\]/.test(result.message), result.ok ? '' : result.message);
  });

  test('import keeps a salvaged entry as written (its name is guarded, its problem shows in the view)', () => {
    const plan = planImport([], [{ name: 'Heron Lab', aliases: ['H'] }, { name: 'H' }], 'in.json');
    assert.deepEqual(plan.entries, [{ name: 'Heron Lab', aliases: ['H'] }]);
    assert.deepEqual(plan.problems.length, 1);
  });
});

describe('import and export', () => {
  test('JSON arrays, {targets}, settings.json shapes and plain lines', () => {
    assert.deepEqual(parseImport('[{"name":"A1"},"B2"]', 'f.json'), [{ name: 'A1' }, { name: 'B2' }]);
    assert.deepEqual(parseImport('{"targets":[{"name":"A1"}]}', 'f.json'), [{ name: 'A1' }]);
    assert.deepEqual(parseImport('{"unlearn.targets":["A1"], "editor.fontSize": 3}', 'settings.json'), [{ name: 'A1' }]);
    assert.deepEqual(parseImport('\uFEFF# people\nJane Roe\r\n\n  Project Falcon  \n', 'f.txt'), [
      { name: 'Jane Roe' },
      { name: 'Project Falcon' },
    ]);
    assert.ok('error' in (parseImport('[oops', 'f.json') as object));
    assert.ok('error' in (parseImport('{"x":1}', 'f.json') as object));
  });

  test('planImport adds new valid entries only, and reports the rest with their path', () => {
    const plan = planImport(RAW, [{ name: 'New One', extra: 1 }, { name: 'jane roe' }, { name: 'Z' }, 7, { name: 'New One' }], 'in.json');
    assert.deepEqual(plan.entries, [{ name: 'New One', extra: 1 }]);
    assert.deepEqual(plan.duplicates, ['jane roe']);
    // 'Z' (too short), 7 (not an object), and the file's own second "New One".
    assert.equal(plan.problems.length, 3);
    assert.match(plan.problems[0]!, /^in\.json\[2\]\.name/);
  });

  test('export is the raw array, malformed entries included', () => {
    assert.deepEqual(JSON.parse(exportTargets(RAW)), RAW);
  });

  test('the view labels problem entries by name when they have one', () => {
    const view = viewOf(RAW);
    assert.deepEqual(
      view.targets.map((t) => t.name),
      ['Project Falcon', 'Jane Roe'],
    );
    assert.equal(view.problemLabels.get(1), 'Entry [1]');
    assert.equal(view.problemLabels.get(2), 'Entry [2] "X"');
    assert.ok(view.problems.some((p) => p.index === 0 && p.severity === 'warning'));
  });
});

describe('sample questions (examples) of a topic target', () => {
  const TOPIC: unknown[] = [
    {
      name: 'Marlowe Observatory',
      description: 'The hilltop observatory and its comet survey',
      examples: ['Who built the hilltop telescope?'],
      owner: 'ops',
    },
    { name: 'Vexley Trust', examples: 'not a list' },
    { name: 'Quillon Labs', examples: ['When did the lab open?', 7] },
  ];
  const id = (name: string) => idOf(TOPIC, name);

  test('Add Example appends a trimmed question, keeps unknown keys and leaves the other entries alone', () => {
    const before = structuredClone(TOPIC);
    const after = ok(
      applyTargetEdit(TOPIC, { kind: 'addExample', id: id('Marlowe Observatory'), example: '  Which comets did the\n survey find? ' }),
    );
    assert.deepEqual(TOPIC, before, 'the input is not mutated');
    assert.deepEqual(after[0], {
      name: 'Marlowe Observatory',
      description: 'The hilltop observatory and its comet survey',
      examples: ['Who built the hilltop telescope?', 'Which comets did the survey find?'],
      owner: 'ops',
    });
    assert.deepEqual(after.slice(1), TOPIC.slice(1));
    assert.deepEqual(parseTargets(after).targets[0]!.examples, ['Who built the hilltop telescope?', 'Which comets did the survey find?']);
  });

  test('a target without examples gets its first one; removing the last drops the key', () => {
    const raw = [{ name: 'Harbour Tunnel' }];
    const tunnel = idOf(raw, 'Harbour Tunnel');
    const added = ok(applyTargetEdit(raw, { kind: 'addExample', id: tunnel, example: 'How deep is the crossing under the bay?' }));
    assert.deepEqual(added[0], { name: 'Harbour Tunnel', examples: ['How deep is the crossing under the bay?'] });
    const removed = ok(applyTargetEdit(added, { kind: 'removeExample', id: tunnel, example: 'How deep is the crossing under the bay?' }));
    assert.deepEqual(removed[0], { name: 'Harbour Tunnel' });
  });

  test('examples that are not a list are never overwritten', () => {
    const result = applyTargetEdit(TOPIC, { kind: 'addExample', id: id('Vexley Trust'), example: 'Who funds the trust?' });
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /not a list/);
  });

  test('Remove Example takes out only that question; a malformed neighbour stays as written', () => {
    const after = ok(applyTargetEdit(TOPIC, { kind: 'removeExample', id: id('Quillon Labs'), example: 'When did the lab open?' }));
    assert.deepEqual(after[2], { name: 'Quillon Labs', examples: [7] });
    assert.equal(applyTargetEdit(TOPIC, { kind: 'removeExample', id: id('Quillon Labs'), example: 'Never there' }).ok, false);
  });

  test('duplicates, empty or too long questions and a 21st example are refused', () => {
    const marlowe = id('Marlowe Observatory');
    assert.equal(applyTargetEdit(TOPIC, { kind: 'addExample', id: marlowe, example: 'who built the HILLTOP telescope?' }).ok, false);
    assert.equal(applyTargetEdit(TOPIC, { kind: 'addExample', id: marlowe, example: '   ' }).ok, false);
    assert.equal(applyTargetEdit(TOPIC, { kind: 'addExample', id: marlowe, example: 'x'.repeat(501) }).ok, false);
    const full = [{ name: 'Full Topic', examples: Array.from({ length: 20 }, (_, i) => `Question number ${i}?`) }];
    const result = applyTargetEdit(full, { kind: 'addExample', id: idOf(full, 'Full Topic'), example: 'One more?' });
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /at most 20/);
  });

  test('validateExample explains what to type', () => {
    assert.equal(validateExample('Who runs the hilltop telescope?'), undefined);
    assert.match(validateExample('') ?? '', /question/);
    assert.match(validateExample('y'.repeat(600)) ?? '', /500/);
  });
});

describe('name parts in the Forget Targets view', () => {
  test('a surname outside the word list is shown as a name part; common words and freed parts are not', () => {
    const [ada, falcon, freed] = parseTargets([
      { name: 'Ada Lindqvist', aliases: ['Ada'] },
      { name: 'Project Falcon' },
      { name: 'Kael Zorvath', freeNameParts: ['Kael'] },
    ]).targets;
    assert.equal(namePartsLabel(namePartsOf(ada!)), 'name parts: Lindqvist');
    assert.deepEqual(namePartsOf(falcon!), []);
    assert.equal(namePartsLabel(namePartsOf(freed!)), 'name parts: Zorvath');
  });
});
