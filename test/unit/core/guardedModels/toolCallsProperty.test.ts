// Property test of the tool-call guard: whatever JSON a model writes as a call's arguments, with target
// names (plain or disguised) anywhere in it, the call either goes out spelling no target (its strings one
// by one, and its arguments as serialized) with the shape it had, or is blocked and says which target.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTargetIndex } from '../../../../src/core/guard';
import { guardToolCall } from '../../../../src/core/guardedModels';
import { parseTargets } from '../../../../src/core/targets';

const RUNS = { numRuns: Number(process.env.GUARD_PROPERTY_RUNS ?? 150) };
const index = buildTargetIndex(parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }, { name: 'Marta Quist' }]).targets);

/** Ways a model might write a name into an argument: plain, disguised, encoded, inside JSON or code. */
const NAMED = [
  'Falcon',
  'Project Falcon',
  'Marta Quist',
  'F4lc0n',
  'F a l c o n',
  'F*lc*n',
  'Fal\u200bcon',
  'Fal\u001b[0mcon',
  'ＦＡＬＣＯＮ',
  Buffer.from('Project Falcon').toString('base64'),
  '{"owner":"Marta Quist"}',
  'const falconId = 3;',
  'nocla F',
];
const PLAIN = ['src/app.ts', 'npm test', 'fix the login bug', 'hello world', '42', '', 'a\tb\nc', '{"a":1}'];

const text = fc
  .tuple(fc.constantFrom(...PLAIN), fc.option(fc.constantFrom(...NAMED), { nil: undefined }), fc.constantFrom(...PLAIN))
  .map(([a, name, b]) => (name === undefined ? a : `${a} ${name} ${b}`));
const key = fc.oneof(fc.constantFrom('path', 'content', 'query', 'command', 'edits', 'meta'), fc.constantFrom('Falcon', 'owner'));
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(key, tie('node'), { maxKeys: 3 }),
  ),
})).node;
const args = fc.dictionary(key, value, { minKeys: 1, maxKeys: 4 });

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) strings(x, out.concat(k));
  return out;
}

function shape(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(shape).join(',')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}:${shape(x)}`)
      .join(',')}}`;
  return v === null ? 'null' : typeof v;
}

describe('tool-call guard, property', () => {
  test('a call that goes out spells no target and keeps its shape; a blocked one names what blocked it', () => {
    const seen = { pass: 0, masked: 0, blocked: 0 };
    fc.assert(
      fc.property(args, (input) => {
        const guarded = guardToolCall({ name: 'tool', arguments: input }, index);
        seen[guarded.kind]++;
        if (guarded.kind === 'blocked') {
          assert.ok(guarded.targets.length > 0, 'a blocked call names its target');
          return;
        }
        const out = guarded.call.arguments;
        assert.equal(shape(out), shape(input));
        for (const s of strings(out)) assert.deepEqual(index.find(s), [], `"${s}" still spells a target`);
        assert.deepEqual(index.find(JSON.stringify(out)), []);
        if (guarded.kind === 'pass') assert.equal(out, input, 'nothing to mask: the very same arguments');
      }),
      RUNS,
    );
    // The generator reaches every outcome, so none of them is checked vacuously.
    assert.ok(seen.pass > 0 && seen.masked > 0 && seen.blocked > 0, JSON.stringify(seen));
  });
});
