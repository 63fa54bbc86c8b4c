import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { deriveTargetId, formatProblems, parseTargets } from '../../../../src/core/targets';

describe('parseTargets', () => {
  test('only name is required; defaults are filled in without touching the source', () => {
    const raw = [{ name: 'Project Falcon', aliases: ['Falcon'] }];
    const copy = structuredClone(raw);
    const { targets, problems } = parseTargets(raw);
    assert.deepEqual(problems, []);
    assert.deepEqual(targets, [{ id: deriveTargetId('Project Falcon'), name: 'Project Falcon', aliases: ['Falcon'], enabled: true }]);
    assert.deepEqual(raw, copy);
  });

  test('keeps explicit ids, descriptions and the enabled flag', () => {
    const { targets } = parseTargets([{ id: 'f1', name: 'Falcon', description: ' drone project ', enabled: false }]);
    assert.deepEqual(targets, [{ id: 'f1', name: 'Falcon', aliases: [], description: 'drone project', enabled: false }]);
  });

  test('not an array is one problem at the root', () => {
    const { targets, problems } = parseTargets({ name: 'x' });
    assert.equal(targets.length, 0);
    assert.deepEqual(problems, [{ index: -1, path: '', message: 'expected an array of targets, got an object', severity: 'error' }]);
  });

  test('every problem is reported with its path; only entries without a usable name are skipped', () => {
    const { targets, problems, sourceIndex } = parseTargets([
      { name: 'Good One' },
      { name: 'x' },
      { name: 'Ok', aliases: ['fine', 7] },
      'just a string',
      { name: 'Extra', colour: 'red' },
      { name: 'Second Good', enabled: 'yes' },
      { name: 'Last Good' },
    ]);
    assert.deepEqual(
      targets.map((t) => t.name),
      ['Good One', 'Ok', 'Extra', 'Second Good', 'Last Good'],
    );
    assert.deepEqual(
      problems.map((p) => `${p.path} ${p.severity}`),
      ['[1].name error', '[2].aliases[1] warning', '[3] error', '[4].colour warning', '[5].enabled warning'],
    );
    assert.deepEqual(targets[1]!.aliases, ['fine']);
    // A malformed flag never switches a target off.
    assert.equal(targets[3]!.enabled, true);
    assert.equal(sourceIndex.get(targets[1]!.id), 2);
    assert.equal(sourceIndex.get(targets[3]!.id), 5);
    assert.equal(sourceIndex.get(targets[4]!.id), 6);
    const lines = formatProblems(problems);
    assert.match(lines[0]!, /^unlearn\.targets\[1\]\.name: must have at least 2 characters/);
    assert.match(lines[4]!, /^unlearn\.targets\[5\]\.enabled: warning: must be true or false, got a string; the target stays enabled/);
  });

  test('a usable name is guarded whatever else in its entry is malformed; the bad parts are ignored and reported', () => {
    const raw = [
      { name: 'Marta Quist', aliases: ['MQ', 'M', '  ', '(q)', 'Quist'] },
      { name: 'Zephyr Holdings', enabled: 'false' },
      { name: 'Lisbon Works', description: 7, enabled: null },
      { name: 'Osprey Unit', aliases: 'Osprey', description: 'x'.repeat(3000) },
      { id: 42, name: 'Heron Lab', enabled: false },
      { name: 'Kite Corp', aliases: Array.from({ length: 105 }, (_, i) => `Kite ${i}`) },
    ];
    const copy = structuredClone(raw);
    const { targets, problems, sourceIndex } = parseTargets(raw);
    assert.deepEqual(raw, copy, 'the source is never rewritten');
    assert.deepEqual(
      targets.map((t) => [t.name, t.enabled]),
      [
        ['Marta Quist', true],
        ['Zephyr Holdings', true],
        ['Lisbon Works', true],
        ['Osprey Unit', true],
        ['Heron Lab', false],
        ['Kite Corp', true],
      ],
    );
    assert.deepEqual(targets[0]!.aliases, ['MQ', 'Quist']);
    assert.deepEqual(targets[3]!.aliases, []);
    assert.equal(targets[3]!.description, undefined);
    assert.equal(targets[4]!.id, deriveTargetId('Heron Lab'));
    assert.equal(targets[5]!.aliases.length, 100);
    assert.deepEqual([...sourceIndex.values()], [0, 1, 2, 3, 4, 5]);
    assert.ok(problems.every((p) => p.severity === 'warning'));
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        '[0].aliases[1]',
        '[0].aliases[2]',
        '[0].aliases[3]',
        '[1].enabled',
        '[2].description',
        '[2].enabled',
        '[3].aliases',
        '[3].description',
        '[4].id',
        '[5].aliases',
      ],
    );
    assert.match(problems[0]!.message, /at least 2 characters .*; this alias is ignored$/);
    assert.match(problems[2]!.message, /at least 2 letters or digits/);
    assert.match(problems[6]!.message, /^expected an array of strings, got a string; no alias of this entry is guarded$/);
    assert.match(problems[9]!.message, /at most 100 aliases; the 5 after the 100th are ignored/);
    // Messages about a malformed part say what it is, not what it holds (it may be a name).
    assert.ok(problems.every((p) => !p.message.includes('Osprey') && !p.message.includes('"false"')));
  });

  test('an entry without a usable name is still skipped with an error, even when the rest is fine', () => {
    const { targets, problems } = parseTargets([
      { aliases: ['Falcon'] },
      { name: 'F', aliases: ['Falcon'], enabled: true },
      [{ name: 'Nested' }],
      null,
    ]);
    assert.deepEqual(targets, []);
    assert.deepEqual(
      problems.map((p) => `${p.path} ${p.severity}`),
      ['[0].name error', '[1].name error', '[2] error', '[3] error'],
    );
    assert.equal(problems[2]!.message, 'expected an object with a "name", got an array');
  });

  test('names and aliases need 2 letters or digits (after NFKC): symbols around a single letter do not count', () => {
    const { targets, problems } = parseTargets([
      { name: '(a+)+$' },
      { name: '+++' },
      { name: 'C++' },
      { name: ' ..x.. ' },
      { name: 'R&D' },
      { name: '王伟' },
      { name: 'A1' },
      { name: 'Ｆａ' },
      { name: 'x²' },
      { name: 'Δέλτα', aliases: ['(a)', 'Δ.', 'ΔΛ'] },
    ]);
    assert.deepEqual(
      targets.map((t) => t.name),
      ['R&D', '王伟', 'A1', 'Ｆａ', 'x²', 'Δέλτα'],
    );
    assert.deepEqual(targets.at(-1)!.aliases, ['ΔΛ']);
    assert.deepEqual(
      problems.map((p) => `${p.path} ${p.severity}`),
      ['[0].name error', '[1].name error', '[2].name error', '[3].name error', '[9].aliases[0] warning', '[9].aliases[1] warning'],
    );
    for (const p of problems)
      assert.match(p.message, /^must have at least 2 letters or digits, symbols not counted \(.*would redact ordinary text\)/);
  });

  test('duplicates by name (case- and width-insensitive) or id are reported, the first kept', () => {
    const { targets, problems } = parseTargets([
      { name: 'Falcon' },
      { name: 'FALCON' },
      { id: 'a', name: 'One' },
      { id: 'a', name: 'Two' },
      { name: 'Ｆａｌｃｏｎ' },
    ]);
    assert.deepEqual(
      targets.map((t) => t.name),
      ['Falcon', 'One'],
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['[1].name', '[3].id', '[4].name'],
    );
    assert.match(problems[0]!.message, /duplicate of entry \[0\]/);
  });

  test('rejects names that are too long or not well-formed UTF-16', () => {
    const { problems } = parseTargets([{ name: 'a'.repeat(1_000_000) }, { name: 'bad \ud800 name' }]);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['[0].name', '[1].name'],
    );
    assert.match(problems[1]!.message, /surrogate/);
  });

  test('an alias equal to the name is folded away', () => {
    const { targets } = parseTargets([{ name: 'Falcon', aliases: ['falcon', 'Falco', 'FALCO'] }]);
    assert.deepEqual(targets[0]!.aliases, ['Falco']);
  });

  test('null and undefined mean no targets', () => {
    assert.deepEqual(parseTargets(undefined).targets, []);
    assert.deepEqual(parseTargets(null).problems, []);
  });

  test('derived ids are stable and distinct', () => {
    assert.equal(deriveTargetId('Project Falcon'), deriveTargetId('Project Falcon'));
    assert.notEqual(deriveTargetId('Project Falcon'), deriveTargetId('Project Falcon 2'));
    assert.match(deriveTargetId('Crème Brûlée'), /^creme-brulee-[0-9a-z]+$/);
  });
});

test('examples: kept trimmed; a malformed example is dropped with a warning and the target stays guarded', () => {
  const parsed = parseTargets([
    { name: 'Harry Potter', examples: ['  Who is the headmaster of Hogwarts? ', 'What house is Hermione in?'] },
    { name: 'Project Falcon', examples: ['ok question', 42, ''] },
    { name: 'Northwind', examples: 'not a list' },
  ]);
  assert.deepEqual(parsed.targets[0]!.examples, ['Who is the headmaster of Hogwarts?', 'What house is Hermione in?']);
  assert.deepEqual(parsed.targets[1]!.examples, ['ok question']);
  assert.equal(parsed.targets[2]!.examples, undefined);
  assert.equal(parsed.targets.length, 3);
  assert.deepEqual(
    parsed.problems.map((p) => [p.path, p.severity]),
    [
      ['[1].examples[1]', 'warning'],
      ['[1].examples[2]', 'warning'],
      ['[2].examples', 'warning'],
    ],
  );
});
