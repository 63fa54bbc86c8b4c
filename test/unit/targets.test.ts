import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { deriveTargetId, formatProblems, parseTargets } from '../../src/core/targets';

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

  test('every problem is reported with its path, and only the invalid entries are skipped', () => {
    const { targets, problems, sourceIndex } = parseTargets([
      { name: 'Good One' },
      { name: 'x' },
      { name: 'Ok', aliases: ['fine', 7] },
      'just a string',
      { name: 'Extra', colour: 'red' },
      { name: 'Second Good', enabled: 'yes' },
      { name: 'Last Good' },
    ]);
    assert.deepEqual(targets.map((t) => t.name), ['Good One', 'Extra', 'Last Good']);
    assert.deepEqual(problems.map((p) => `${p.path} ${p.severity}`), ['[1].name error', '[2].aliases[1] error', '[3] error', '[4].colour warning', '[5].enabled error']);
    assert.equal(sourceIndex.get(targets[2]!.id), 6);
    assert.match(formatProblems(problems)[0]!, /^unlearn\.targets\[1\]\.name: must have at least 2 characters/);
  });

  test('duplicates by name (case- and width-insensitive) or id are reported, the first kept', () => {
    const { targets, problems } = parseTargets([{ name: 'Falcon' }, { name: 'FALCON' }, { id: 'a', name: 'One' }, { id: 'a', name: 'Two' }, { name: 'Ｆａｌｃｏｎ' }]);
    assert.deepEqual(targets.map((t) => t.name), ['Falcon', 'One']);
    assert.deepEqual(problems.map((p) => p.path), ['[1].name', '[3].id', '[4].name']);
    assert.match(problems[0]!.message, /duplicate of entry \[0\]/);
  });

  test('rejects names that are too long or not well-formed UTF-16', () => {
    const { problems } = parseTargets([{ name: 'a'.repeat(1_000_000) }, { name: 'bad \ud800 name' }]);
    assert.deepEqual(problems.map((p) => p.path), ['[0].name', '[1].name']);
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
