/** What leaves through a tool call: every string of its arguments passes the leak guard (toolCalls.ts). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { ARGUMENT_MASK, guardToolCall } from '../../../../src/core/guardedModels';
import { parseTargets } from '../../../../src/core/targets';

const index = buildTargetIndex(parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }, { name: 'Marta Quist' }]).targets);
const call = (args: Record<string, unknown>, name = 'edit_file') => ({ id: 'c1', name, arguments: args });

describe('guarding a tool call', () => {
  test('arguments that name nothing go out exactly as written, the same object', () => {
    const args = { path: 'src/app.ts', content: 'export const port = 8080;\n', options: { create: true, mode: 420 } };
    const guarded = guardToolCall(call(args), index);
    assert.equal(guarded.kind, 'pass');
    assert.equal(guarded.kind === 'pass' && guarded.call.arguments, args);
  });

  test('a name in a string value is masked without a name, at any depth, keeping every other value', () => {
    const guarded = guardToolCall(
      call({
        path: 'docs/status.md',
        edits: [
          { line: 3, text: 'Owner: Marta Quist' },
          { line: 9, text: 'unchanged' },
        ],
        meta: { summary: 'Falcon milestones', draft: false },
      }),
      index,
    );
    assert.equal(guarded.kind, 'masked');
    if (guarded.kind !== 'masked') return;
    assert.deepEqual(guarded.call.arguments, {
      path: 'docs/status.md',
      edits: [
        { line: 3, text: `Owner: ${ARGUMENT_MASK}` },
        { line: 9, text: 'unchanged' },
      ],
      meta: { summary: `${ARGUMENT_MASK} milestones`, draft: false },
    });
    assert.equal(guarded.masked, 2);
    assert.deepEqual([...guarded.targets].sort(), ['Marta Quist', 'Project Falcon']);
    assert.ok(!JSON.stringify(guarded.call.arguments).includes('redacted:'), 'the mask names no target');
  });

  test('disguised spellings in a terminal command are masked too', () => {
    const guarded = guardToolCall(call({ command: 'git commit -m "F4lc0n: ship it"' }, 'run_in_terminal'), index);
    assert.equal(guarded.kind, 'masked');
    assert.equal(guarded.kind === 'masked' && guarded.call.arguments.command, `git commit -m "${ARGUMENT_MASK}: ship it"`);
  });

  test('JSON inside a string is masked when it stays the same JSON, and blocks the call when it would not', () => {
    const settings = JSON.stringify({ project: 'Project Falcon', owners: ['a', 'b'] }, null, 2);
    const ok = guardToolCall(call({ path: 'settings.json', content: settings }), index);
    assert.equal(ok.kind, 'masked');
    const content = ok.kind === 'masked' ? String(ok.call.arguments.content) : '';
    assert.deepEqual(JSON.parse(content), { project: ARGUMENT_MASK, owners: ['a', 'b'] });

    // Here the name is a key inside the string: a mask would change the keys the file has.
    const keyed = JSON.stringify({ 'Project Falcon': { budget: 3 } });
    const blocked = guardToolCall(call({ path: 'budget.json', content: keyed }), index);
    assert.equal(blocked.kind, 'blocked');
    assert.match(blocked.kind === 'blocked' ? blocked.why : '', /would break the JSON/);
  });

  test('a name in an argument name blocks the call, and says which target', () => {
    const blocked = guardToolCall(call({ labels: { 'Marta Quist': 'reviewer' } }), index);
    assert.deepEqual(blocked.kind === 'blocked' && [blocked.name, blocked.targets], ['edit_file', ['Marta Quist']]);
  });

  test('a masked value the schema would reject (enum, pattern, length) blocks the call', () => {
    const schema = {
      type: 'object',
      properties: { project: { type: 'string', enum: ['Falcon', 'Heron'] }, ticket: { type: 'string', pattern: '^[A-Z]+-\\d+$' } },
    };
    assert.equal(guardToolCall(call({ project: 'Falcon' }, 'create_ticket'), index, schema).kind, 'blocked');
    assert.equal(guardToolCall(call({ ticket: 'FALCON-12' }, 'create_ticket'), index, schema).kind, 'blocked');
    // A field the schema leaves free is masked.
    assert.equal(guardToolCall(call({ title: 'Falcon login bug' }, 'create_ticket'), index, schema).kind, 'masked');
    const short = { type: 'object', properties: { tag: { type: 'string', maxLength: 8 } } };
    assert.equal(guardToolCall(call({ tag: 'Falcon' }), index, short).kind, 'blocked');
  });

  test('an encoded name (base64 content) blocks the call rather than corrupt the bytes', () => {
    const blocked = guardToolCall(call({ path: 'a.bin', base64: Buffer.from('Project Falcon roadmap').toString('base64') }), index);
    assert.equal(blocked.kind, 'blocked');
    assert.match(blocked.kind === 'blocked' ? blocked.why : '', /encoding/);
  });

  test('a name split over two arguments is caught when they are read together', () => {
    // Name parts freed, so only reading the two arguments together can find the name.
    const whole = buildTargetIndex([{ id: 'mq', name: 'Marta Quist', aliases: [], enabled: true, freeNameParts: true }]);
    const blocked = guardToolCall(call({ first: 'Marta', last: 'Quist' }, 'add_contact'), whole);
    assert.equal(blocked.kind, 'blocked');
    assert.deepEqual(blocked.kind === 'blocked' && blocked.targets, ['Marta Quist']);
    // With its name parts (the default), each argument alone is the name and is masked.
    const parts = guardToolCall(call({ first: 'Marta', last: 'Quist' }, 'add_contact'), index);
    assert.notEqual(parts.kind, 'pass');
  });

  test('a "__proto__" key in the arguments stays a key when a value beside it is masked', () => {
    const args = JSON.parse('{"__proto__": {"x": 1}, "note": "Falcon"}') as Record<string, unknown>;
    const guarded = guardToolCall(call(args), index);
    assert.equal(guarded.kind, 'masked');
    const out = guarded.kind === 'masked' ? guarded.call.arguments : {};
    assert.equal(JSON.stringify(out), `{"__proto__":{"x":1},"note":"${ARGUMENT_MASK}"}`);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
  });

  test('a name written as numbers (character codes in an array) blocks the call', () => {
    const codes = [...'Falcon'].map((c) => c.charCodeAt(0));
    const blocked = guardToolCall(call({ path: 'a.bin', bytes: codes }), index);
    assert.equal(blocked.kind, 'blocked');
    assert.deepEqual(blocked.kind === 'blocked' && blocked.targets, ['Project Falcon']);
    assert.equal(guardToolCall(call({ path: 'a.bin', bytes: [1, 2, 3, 250] }), index).kind, 'pass');
  });

  test('a name hidden by an escape sequence is caught; clean values keep their tabs and newlines', () => {
    const hidden = guardToolCall(call({ command: 'echo Fal\u001b[0mcon' }, 'run_in_terminal'), index);
    assert.equal(hidden.kind, 'masked');
    const clean = { content: 'a\tb\nc' };
    const kept = guardToolCall(call(clean), index);
    assert.equal(kept.kind === 'pass' && kept.call.arguments, clean);
  });
});
