import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askCommand } from '../../../../src/cli/ask';
import { EXIT, type CliIo } from '../../../../src/cli/io';
import { buildTargetIndex, getCachedIndex, guardText } from '../../../../src/core/guard';
import { commonWordTerms, parseTargets, type ForgetTarget } from '../../../../src/core/targets';
import { FakeLlm } from '../../../support/fakeLlm';

function targetsOf(raw: unknown): ForgetTarget[] {
  const parsed = parseTargets(raw);
  return parsed.targets;
}

const WILL = { name: 'Will Turner', aliases: ['Will'] };

function kindsIn(targets: ForgetTarget[], text: string): string[] {
  return buildTargetIndex(targets)
    .find(text)
    .map((m) => `${m.kind}:${text.slice(m.start, m.end)}`);
}

describe('caseSensitive terms in the target schema', () => {
  test('true marks every term; a list marks the terms it names, in any case; unknown entries are warned about', () => {
    assert.deepEqual(targetsOf([{ ...WILL, caseSensitive: true }])[0]!.caseSensitive, ['Will Turner', 'Will']);
    const listed = parseTargets([{ ...WILL, caseSensitive: ['will', 'Bill'] }]);
    assert.deepEqual(listed.targets[0]!.caseSensitive, ['Will']);
    assert.equal(listed.problems.length, 1);
    assert.equal(listed.problems[0]!.path, '[0].caseSensitive[1]');
    assert.equal(listed.problems[0]!.severity, 'warning');
    assert.equal(targetsOf([{ ...WILL, caseSensitive: false }])[0]!.caseSensitive, undefined);
  });

  test('a malformed caseSensitive is ignored with a warning: the target stays guarded in any case', () => {
    const parsed = parseTargets([{ ...WILL, caseSensitive: 'yes' }]);
    assert.equal(parsed.targets.length, 1);
    assert.equal(parsed.targets[0]!.caseSensitive, undefined);
    assert.deepEqual(
      parsed.problems.map((p) => [p.path, p.severity]),
      [['[0].caseSensitive', 'warning']],
    );
    assert.equal(buildTargetIndex(parsed.targets).find('you will see').length, 1);
  });
});

describe('the guard honours caseSensitive', () => {
  const strict = targetsOf([{ ...WILL, caseSensitive: ['Will'] }]);
  const loose = targetsOf([WILL]);

  test('an innocent lower-case "will" is not redacted when the alias is case-sensitive; without it, it is', () => {
    const text = 'It will rain, and the WILL-o-wisp will not.';
    assert.equal(guardText(buildTargetIndex(strict), text), 'It will rain, and the [redacted: Will Turner]-o-wisp will not.');
    assert.equal(buildTargetIndex(loose).find(text).length, 3);
  });

  test('the capitalised "Will" is still redacted, and so are its disguises that keep the capital', () => {
    assert.deepEqual(kindsIn(strict, 'Ask Will about it.'), ['exact:Will']);
    assert.deepEqual(kindsIn(strict, 'Ask W1ll about it.'), ['leet:W1ll']);
    assert.deepEqual(kindsIn(strict, 'Ask W i l l about it.'), ['spaced:W i l l']);
    assert.deepEqual(kindsIn(strict, 'Ask Wіll about it.'), ['confusable:Wіll']); // Cyrillic і
    // Without the capital the disguise is no proper noun either.
    assert.deepEqual(kindsIn(strict, 'it w1ll be w i l l then'), []);
    // Documented limit: upside-down text has no capitals, so a case-sensitive term is not read in it.
    assert.deepEqual(kindsIn(strict, 'see llıʍ now'), []);
    assert.equal(kindsIn(loose, 'see llıʍ now').length, 1);
  });

  test('only the listed term is case-sensitive: the full name still matches in any case', () => {
    assert.deepEqual(kindsIn(strict, 'we met will turner'), ['exact:will turner']);
  });

  test('the lexical matcher (mentionedTargets) follows the same rule', () => {
    assert.deepEqual(buildTargetIndex(strict).mentionedTargets('what will happen?'), []);
    assert.deepEqual(
      buildTargetIndex(strict)
        .mentionedTargets('what did Will say?')
        .map((t) => t.name),
      ['Will Turner'],
    );
  });

  test('the cached index is rebuilt when only caseSensitive changes', () => {
    assert.equal(getCachedIndex(loose).find('you will').length, 1);
    assert.equal(getCachedIndex(strict).find('you will').length, 0);
  });
});

describe('commonWordTerms', () => {
  test('names the single-word terms that are ordinary English words and still match in any case', () => {
    const [t] = targetsOf([{ name: 'Mark Hollis', aliases: ['Mark', 'Hollis', 'Max'] }]);
    assert.deepEqual(commonWordTerms(t!), ['Mark', 'Max']);
    const [marked] = targetsOf([{ name: 'Mark Hollis', aliases: ['Mark', 'Hollis', 'Max'], caseSensitive: ['mark'] }]);
    assert.deepEqual(commonWordTerms(marked!), ['Max']);
    assert.deepEqual(commonWordTerms(targetsOf([{ name: 'Project Falcon', aliases: ['Falcon', 'Xyloquent'] }])[0]!), []);
  });
});

describe('unlearn ask warns about ordinary-word terms', () => {
  async function run(entries: unknown) {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-cli-'));
    const file = join(dir, 'targets.json');
    await writeFile(file, JSON.stringify(entries));
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'unlearn-cache-')) },
      cwd: dir,
      signal: new AbortController().signal,
    };
    const llm = new FakeLlm({ vanilla: 'It will rain tomorrow.' });
    const code = await askCommand(['Do you think it will rain?', '--targets', file, '-q'], io, { connect: () => llm });
    return { code, out: out.join(''), err: err.join(''), llm };
  }

  test('one stderr line names the term and says how to mark it', async () => {
    const r = await run([WILL]);
    assert.equal(r.code, EXIT.ok);
    const warnings = r.err.split('\n').filter((l) => l.includes('ordinary word'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /"Will" is an ordinary word/);
    assert.match(warnings[0]!, /"caseSensitive": true/);
  });

  test('no warning once the term is case-sensitive, and the answer\'s "will" is left alone', async () => {
    const r = await run([{ ...WILL, caseSensitive: ['Will'] }]);
    assert.equal(r.code, EXIT.ok);
    assert.doesNotMatch(r.err, /ordinary word/);
    assert.equal(r.out, 'It will rain tomorrow.\n');
    // Nothing named the target, so the answer took one model call and no audit.
    assert.equal(r.llm.calls.length, 1);
  });
});
