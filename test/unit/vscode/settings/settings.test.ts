import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTargets } from '../../../../src/core/targets';
import { buildTargetIndex } from '../../../../src/core/guard';
import { importProblemsLog, parseImport, planImport } from '../../../../src/vscode/targets/targetsTreeLogic';
import { DEFAULT_PIPELINE_OPTIONS } from '../../../../src/core/pipeline/types';
import {
  clampInteger,
  DEFAULT_MODEL,
  idClashes,
  mergeStoreTargets,
  NUMERIC_LIMITS,
  pipelineOptions,
  resolveSettings,
  type SettingsReader,
} from '../../../../src/vscode/settings/settingsLogic';

type Values = Record<string, unknown>;

/** A reader over two layers: user settings, and what a workspace file adds on top. */
function reader(user: Values, workspace: Values = {}): SettingsReader {
  return {
    userOnly: (key) => user[key],
    effective: (key) => (key in workspace ? workspace[key] : user[key]),
  };
}

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { scope?: string; minimum?: number; maximum?: number; default?: unknown }> } };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
};
const schema = pkg.contributes.configuration.properties;

describe('settings a workspace cannot choose', () => {
  test('the model and showOriginal come from user settings only; a workspace value is ignored', () => {
    const s = resolveSettings(
      reader(
        { model: 'llama3.2' },
        { model: 'gpt-oss:120b-cloud', 'preview.showOriginal': true, ollamaHost: 'http://evil.example:11434', trace: true },
      ),
    );
    assert.equal(s.model, 'llama3.2');
    assert.equal(s.showOriginal, false);
    assert.equal(s.host, 'http://127.0.0.1:11434');
    assert.equal(s.trace, false);
  });

  test('a user-set model and showOriginal are used; blanks and junk fall back to the defaults', () => {
    const s = resolveSettings(reader({ model: '  qwen3:4b ', 'preview.showOriginal': true }));
    assert.equal(s.model, 'qwen3:4b');
    assert.equal(s.showOriginal, true);
    assert.equal(resolveSettings(reader({ model: '   ' })).model, DEFAULT_MODEL);
    assert.equal(resolveSettings(reader({ model: 42, 'preview.showOriginal': 'yes' })).model, DEFAULT_MODEL);
    assert.equal(resolveSettings(reader({ 'preview.showOriginal': 'yes' })).showOriginal, false);
  });

  test('package.json makes them machine-scoped and restricted in untrusted workspaces', () => {
    for (const key of ['unlearn.ollamaHost', 'unlearn.model', 'unlearn.preview.showOriginal', 'unlearn.trace']) {
      assert.equal(schema[key]?.scope, 'machine', key);
      assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations.includes(key), key);
    }
    assert.equal(schema['unlearn.model']?.default, DEFAULT_MODEL);
  });
});

describe('numeric settings are clamped to their schema ranges', () => {
  test('the limits are the ones package.json declares', () => {
    for (const key of ['candidates', 'topK', 'contextLength'] as const) {
      const p = schema[`unlearn.${key}`]!;
      assert.equal(NUMERIC_LIMITS[key].min, p.minimum, key);
      assert.equal(NUMERIC_LIMITS[key].max, p.maximum, key);
      assert.equal(NUMERIC_LIMITS[key].fallback, p.default, key);
    }
  });

  test('parallelCalls: "auto" by default, or a number from 1 to 16, as package.json declares', () => {
    const p = schema['unlearn.parallelCalls'] as unknown as {
      default: unknown;
      anyOf: { enum?: string[]; minimum?: number; maximum?: number }[];
    };
    assert.equal(p.default, 'auto');
    assert.deepEqual(p.anyOf[0]!.enum, ['auto']);
    assert.deepEqual([p.anyOf[1]!.minimum, p.anyOf[1]!.maximum], [NUMERIC_LIMITS.parallelCalls.min, NUMERIC_LIMITS.parallelCalls.max]);
    assert.equal(resolveSettings(reader({})).parallelCalls, 'auto');
    assert.equal(resolveSettings(reader({}, { parallelCalls: 'auto' })).parallelCalls, 'auto');
    assert.equal(resolveSettings(reader({}, { parallelCalls: 'many' })).parallelCalls, 'auto');
    assert.equal(resolveSettings(reader({}, { parallelCalls: 64 })).parallelCalls, 16);
    assert.equal(resolveSettings(reader({ parallelCalls: 1 })).parallelCalls, 1);
    // 'auto' takes the measured slots; a number wins over any measurement; unmeasured 'auto' leaves the pipeline's default.
    const base = { model: 'm', candidates: 3, topK: 2, contextLength: 8192 };
    assert.equal(pipelineOptions({ ...base, parallelCalls: 'auto' }, 'm', 1).parallelCalls, 1);
    assert.equal(pipelineOptions({ ...base, parallelCalls: 2 }, 'm', 1).parallelCalls, 2);
    assert.equal(pipelineOptions({ ...base, parallelCalls: 'auto' }).parallelCalls, DEFAULT_PIPELINE_OPTIONS.parallelCalls);
  });

  test('a workspace asking for 100000 candidates gets the maximum, not 100000', () => {
    const s = resolveSettings(reader({}, { candidates: 100000, topK: 5000, contextLength: 1e12 }));
    assert.equal(s.candidates, 10);
    assert.equal(s.topK, 10);
    assert.equal(s.contextLength, 1_048_576);
  });

  test('below the minimum is clamped up, fractions are cut, topK never exceeds candidates', () => {
    const s = resolveSettings(reader({}, { candidates: -4, topK: 0, contextLength: -1 }));
    assert.deepEqual([s.candidates, s.topK, s.contextLength], [1, 1, 0]);
    const f = resolveSettings(reader({}, { candidates: 4.9, topK: 7, contextLength: 4096.5 }));
    assert.deepEqual([f.candidates, f.topK, f.contextLength], [4, 4, 4096]);
    assert.equal(resolveSettings(reader({}, { contextLength: 0 })).contextLength, 0);
  });

  test('junk types fall back to the defaults', () => {
    for (const junk of ['5', null, true, [3], { n: 3 }, Number.NaN, undefined]) {
      const s = resolveSettings(reader({}, { candidates: junk, topK: junk, contextLength: junk }));
      assert.deepEqual([s.candidates, s.topK, s.contextLength], [3, 2, 8192], String(junk));
    }
    assert.equal(clampInteger(Infinity, NUMERIC_LIMITS.candidates), 10);
    assert.equal(clampInteger(-Infinity, NUMERIC_LIMITS.contextLength), 0);
  });
});

describe('targets of several settings files', () => {
  const parse = (raw: unknown[]) => parseTargets(raw).targets;

  test('two folders with the same id: both targets are guarded and the clash is reported', () => {
    const a = parse([{ id: 'client', name: 'Acme Corp' }]);
    const b = parse([{ id: 'client', name: 'Globex' }]);
    const merged = mergeStoreTargets([
      { key: 'folder:a', targets: a },
      { key: 'folder:b', targets: b },
    ]);
    assert.deepEqual(
      merged.targets.map((t) => t.name),
      ['Acme Corp', 'Globex'],
    );
    assert.equal(new Set(merged.targets.map((t) => t.id)).size, 2, 'ids stay unique for the pipeline');
    assert.deepEqual(merged.clashes, [{ storeKey: 'folder:b', id: 'client' }]);
    const index = buildTargetIndex(merged.targets);
    assert.equal(index.find('Globex signed with Acme Corp').length, 2);
  });

  test('the same name with other aliases in a second file: those aliases are guarded too', () => {
    const a = parse([{ name: 'Project Falcon', aliases: ['Falcon'] }]);
    const b = parse([{ name: 'Project Falcon', aliases: ['PF-7'] }]);
    const merged = mergeStoreTargets([
      { key: 'workspace', targets: a },
      { key: 'folder:b', targets: b },
    ]);
    assert.equal(merged.targets.length, 2);
    assert.equal(merged.clashes.length, 1);
    const terms = buildTargetIndex(merged.targets)
      .find('Falcon and PF-7')
      .map((m) => m.term);
    assert.deepEqual(terms.sort(), ['Falcon', 'PF-7']);
  });

  test('a new id never takes one a later file uses; disabled targets are left out but still count as clashes for the view', () => {
    const a = parse([{ id: 'x', name: 'Alpha' }]);
    const b = parse([
      { id: 'x', name: 'Bravo' },
      { id: 'x~2', name: 'Charlie' },
    ]);
    const merged = mergeStoreTargets([
      { key: 'a', targets: a },
      { key: 'b', targets: b },
    ]);
    assert.deepEqual(
      merged.targets.map((t) => t.id),
      ['x', 'x~3', 'x~2'],
    );
    const c = parse([{ id: 'x', name: 'Delta', enabled: false }]);
    assert.deepEqual(
      mergeStoreTargets([
        { key: 'a', targets: a },
        { key: 'c', targets: c },
      ]).targets.map((t) => t.name),
      ['Alpha'],
    );
    assert.deepEqual(
      idClashes([
        { key: 'a', targets: a },
        { key: 'c', targets: c },
      ]),
      [{ storeKey: 'c', id: 'x', firstStoreKey: 'a' }],
    );
  });

  test('one file, or different ids: nothing changes', () => {
    const a = parse([{ name: 'Alpha' }, { name: 'Bravo', enabled: false }]);
    const merged = mergeStoreTargets([{ key: 'a', targets: a }]);
    assert.deepEqual(merged.targets, [a[0]]);
    assert.deepEqual(merged.clashes, []);
  });
});

describe('import problems in the log', () => {
  test('without trace: paths and a count, never the names the reasons quote', () => {
    const parsed = parseImport('Project Falcon\nproject falcon\nX\n', 'names.txt') as unknown[];
    const plan = planImport([], parsed, 'names.txt');
    assert.match(plan.problems.join('\n'), /project falcon/, 'the reasons do quote names');
    const log = importProblemsLog(plan);
    assert.equal(
      log.warn,
      'import problems: 2 entries not imported, at names.txt[1].name, names.txt[2].name (the reasons are logged only with unlearn.trace on)',
    );
    assert.doesNotMatch(log.warn, /falcon/i);
    assert.match(log.trace, /duplicate of entry \[0\] \("project falcon"\)/);
  });
});
