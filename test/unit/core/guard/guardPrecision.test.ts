import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTargetIndex } from '../../../../src/core/guard';
import { parseTargets } from '../../../../src/core/targets';
import { PRECISION_TARGETS, runPrecisionBench } from '../../../../src/bench/precisionBench';
import { guardAnswer, streamThroughGuard } from '../../../support/streaming';

const index = buildTargetIndex(parseTargets(PRECISION_TARGETS).targets);

function matches(text: string): string[] {
  return index.find(text).map((m) => `${m.term}/${m.kind}:${text.slice(m.start, m.end)}`);
}

describe('leak guard precision: short names are not read out of code, escapes or foreign words', () => {
  // Each one was a false match on the markdown and JavaScript under node_modules.
  const innocent = [
    'see </a>\n* <a href="x">',
    'return arr[3*e+1];',
    'commit 4da496e fixed it',
    '{let o=[],i,s=[],u=!1,a=!n.expandLastArg}',
    'const x = i++:a===n;',
    'pm={root:le[0],paragraph:le[0]}',
    'if(!An(t))return;',
    '(ar(n)||$a(n,t))&&s.push(We)',
    'l.addBlockName(n,i,1,e,o),l',
    'e.push(["comment",a,m,y-d,f,n-p,y])',
    "qs.parse('a=d&a[b]=c')",
    "'a%252Eb=1&c%252Ed=2'",
    'name: "ISO ημερομηνία και ώρα"',
    'var td=Le(),rd=nd(td)',
    'o>t&&(t=o)}return t',
    'It will rain and we mark it.',
  ];
  for (const text of innocent) {
    test(`no match in ${JSON.stringify(text)}`, () => assert.deepEqual(matches(text), []));
  }

  // The same short names disguised in prose are still caught, whole and streamed.
  const disguised: [string, string][] = [
    ['Ask I.a.n about it.', 'Ian/spaced:I.a.n'],
    ['Ask I - a - n about it.', 'Ian/spaced:I - a - n'],
    ['Then 3ve, of course.', 'Eve/leet:3ve'],
    ['We met (L1sa) there.', 'Lisa/leet:L1sa'],
    ['I saw L1s@ today', 'Lisa/leet:L1s@'],
    ['Ask W1ll now.', 'Will/leet:W1ll'],
    ["That is E v e's.", 'Eve/spaced:E v e'],
    ['Call Z3d Industries', 'Zed Industries/leet:Z3d Industries'],
    ['Say hi to A*a!', 'Ada/masked:A*a'],
    ['The Аda file', 'Ada/confusable:Аda'],
    ['"0tto" said', 'Otto/leet:0tto'],
  ];
  for (const [text, expected] of disguised) {
    test(`caught: ${JSON.stringify(text)}`, () => {
      assert.deepEqual(matches(text), [expected]);
      const whole = guardAnswer(index, text);
      for (const size of [1, 2, 5]) assert.equal(streamThroughGuard(index, text, [size]).streamed, whole, `chunks of ${size}`);
    });
  }

  test('documented limit: a short name disguised inside code, with mixed gaps, or among letters of its look-alike script is missed', () => {
    // SECURITY.md, "Known guard limits": the price of precision for names of at most 4 letters.
    for (const text of ['x=3ve;', 'call(I.a.n)', 'Ask I.a-n now', 'Say Λεο και']) assert.deepEqual(matches(text), [], text);
    // Exactly spelled, the same names are caught anywhere, and longer names keep every disguise in code.
    assert.deepEqual(matches('x=Eve;'), ['Eve/exact:Eve']);
    assert.deepEqual(matches('x=N0rthw1nd;'), ['Northwind/leet:N0rthw1nd']);
  });

  test('a stream holds a short disguise until the characters after it say whether it is code', () => {
    const text = 'pm={root:le[0],paragraph:le[0]} and 3ve.';
    const whole = guardAnswer(index, text);
    assert.ok(whole.startsWith('pm={root:le[0],paragraph:le[0]} and [redacted: Eve Moneypenny]'));
    for (const size of [1, 3]) assert.equal(streamThroughGuard(index, text, [size]).streamed, whole);
  });
});

describe('precision benchmark', () => {
  test('counts non-exact matches per MB of markdown and JavaScript under node_modules, exact ones apart', async () => {
    const root = await mkdtemp(join(tmpdir(), 'unlearn-precision-'));
    await mkdir(join(root, 'node_modules', 'pkg'), { recursive: true });
    await writeFile(join(root, 'node_modules', 'pkg', 'README.md'), 'Ask I.a.n or Ian.\n' + 'plain prose. '.repeat(1000));
    await writeFile(join(root, 'node_modules', 'pkg', 'index.js'), 'const x = arr[3*e+1]; // Ada\n');
    await writeFile(join(root, 'node_modules', 'pkg', 'index.min.js'), 'I.a.n');
    const report = runPrecisionBench({ root, proseBytes: 1e6, codeBytes: 1e6 });
    const [prose, code] = report.corpora;
    assert.deepEqual([prose!.files, prose!.nonExact, prose!.exact], [1, 1, 1]);
    assert.deepEqual(prose!.byKind, { spaced: 1 });
    assert.deepEqual([code!.files, code!.nonExact, code!.exact], [1, 0, 1], 'minified files are left out');
    // A corpus under the minimum size never passes.
    assert.deepEqual(
      report.goals.map((g) => g.pass),
      [false, false],
    );
    assert.match(report.goals[0]!.detail, /too small/);
  });
});
