import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTargets } from '../../src/core/targets';
import { applyTargetEdit, exportTargets, parseImport, planImport, validateTerm, viewOf } from '../../src/vscode/targetsEdit';

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
      assert.ok(after.some((e) => JSON.stringify(e) === JSON.stringify({ name: 'project falcon' })), `${edit.kind} keeps the duplicate`);
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

describe('import and export', () => {
  test('JSON arrays, {targets}, settings.json shapes and plain lines', () => {
    assert.deepEqual(parseImport('[{"name":"A1"},"B2"]', 'f.json'), [{ name: 'A1' }, { name: 'B2' }]);
    assert.deepEqual(parseImport('{"targets":[{"name":"A1"}]}', 'f.json'), [{ name: 'A1' }]);
    assert.deepEqual(parseImport('{"unlearn.targets":["A1"], "editor.fontSize": 3}', 'settings.json'), [{ name: 'A1' }]);
    assert.deepEqual(parseImport('\uFEFF# people\nJane Roe\r\n\n  Project Falcon  \n', 'f.txt'), [{ name: 'Jane Roe' }, { name: 'Project Falcon' }]);
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
    assert.deepEqual(view.targets.map((t) => t.name), ['Project Falcon', 'Jane Roe']);
    assert.equal(view.problemLabels.get(1), 'Entry [1]');
    assert.equal(view.problemLabels.get(2), 'Entry [2] "X"');
    assert.ok(view.problems.some((p) => p.index === 0 && p.severity === 'warning'));
  });
});
