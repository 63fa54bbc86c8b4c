// Bad-input catalogue, part 1: malformed `unlearn.targets` values. Each entry has one specific,
// tested outcome; nothing crashes, the parser never writes to what it was given (the settings store
// relies on that to lose nothing), and parse + index build + scan stay bounded.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex, guardText } from '../../src/core/guard';
import { formatProblems, parseTargets, type ParsedTargets } from '../../src/core/targets';
import { reliabilityCase } from './support';

/** Parses a deep-frozen copy, so any write to the input would throw, and checks the input is unchanged. */
function parseUntouched(raw: unknown): ParsedTargets {
  const before = JSON.stringify(raw);
  const parsed = parseTargets(deepFreeze(raw));
  assert.equal(JSON.stringify(raw), before, 'parseTargets changed its input');
  return parsed;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const timed = <T>(fn: () => T): { value: T; ms: number } => {
  const started = performance.now();
  const value = fn();
  return { value, ms: performance.now() - started };
};

export function badTargets(): void {
  describe('bad-input catalogue: malformed unlearn.targets', () => {
    reliabilityCase(
      'bad targets',
      'not an array (object, string, number, boolean) → one error at the root, no targets, input untouched',
      () => {
        for (const [raw, got] of [
          [{ name: 'Project Falcon' }, 'an object'],
          ['Project Falcon', 'string "Project Falcon"'],
          [42, 'number 42'],
          [true, 'boolean true'],
        ] as const) {
          const { targets, problems } = parseUntouched(raw);
          assert.equal(targets.length, 0);
          assert.deepEqual(problems, [{ index: -1, path: '', message: `expected an array of targets, got ${got}`, severity: 'error' }]);
        }
        // Unset (null / undefined) is not an error: there is simply nothing to forget.
        assert.deepEqual(parseUntouched(null).problems, []);
      },
    );

    reliabilityCase(
      'bad targets',
      'wrong types in entries → a problem at the exact path; entries without a usable name skipped, the others kept in order',
      () => {
        const { targets, problems, sourceIndex } = parseUntouched([
          null,
          'Project Falcon',
          { name: 42 },
          { name: 'Marta Quist', aliases: 'MQ' },
          { name: 'Zephyr Holdings', enabled: 'yes' },
          { name: 'Lisbon Works', description: 7 },
          { name: 'Valid One', aliases: ['V-One'] },
        ]);
        // A malformed alias list, flag or description is ignored (a warning); the name stays guarded.
        assert.deepEqual(
          targets.map((t) => t.name),
          ['Marta Quist', 'Zephyr Holdings', 'Lisbon Works', 'Valid One'],
        );
        assert.deepEqual(
          targets.map((t) => sourceIndex.get(t.id)),
          [3, 4, 5, 6],
        );
        assert.deepEqual(
          problems.map((p) => `${p.path} ${p.severity}`),
          ['[0] error', '[1] error', '[2].name error', '[3].aliases warning', '[4].enabled warning', '[5].description warning'],
        );
        for (const line of formatProblems(problems)) assert.match(line, /^unlearn\.targets\[\d\]/);
      },
    );

    reliabilityCase(
      'bad targets',
      'empty and blank names → "at least 2 characters", skipped; an empty alias is dropped, its name kept',
      () => {
        const { targets, problems } = parseUntouched([{ name: '' }, { name: '   ' }, { name: 'Ok Name', aliases: [''] }]);
        assert.deepEqual(
          targets.map((t) => [t.name, t.aliases]),
          [['Ok Name', []]],
        );
        assert.deepEqual(
          problems.map((p) => `${p.path} ${p.severity}`),
          ['[0].name error', '[1].name error', '[2].aliases[0] warning'],
        );
        for (const p of problems) assert.match(p.message, /at least 2 characters/);
      },
    );

    reliabilityCase(
      'bad targets',
      'duplicates by name (case, width, NFKC) or id → the first kept, later ones reported with the entry they repeat',
      () => {
        const { targets, problems } = parseUntouched([
          { name: 'Project Falcon' },
          { name: 'PROJECT FALCON' },
          { name: 'Ｐｒｏｊｅｃｔ Ｆａｌｃｏｎ' },
          { id: 'm', name: 'Marta Quist' },
          { id: 'm', name: 'Other Name' },
        ]);
        assert.deepEqual(
          targets.map((t) => t.name),
          ['Project Falcon', 'Marta Quist'],
        );
        assert.deepEqual(
          problems.map((p) => `${p.path}: ${p.message}`),
          [
            '[1].name: duplicate of entry [0] ("PROJECT FALCON")',
            '[2].name: duplicate of entry [0] ("Ｐｒｏｊｅｃｔ Ｆａｌｃｏｎ")',
            '[4].id: id "m" is already used by entry [3]',
          ],
        );
      },
    );

    reliabilityCase('bad targets', 'one-character names and aliases → rejected (they would redact ordinary text)', () => {
      const { targets, problems } = parseUntouched([{ name: 'X' }, { name: 'Xavier Holt', aliases: ['X'] }]);
      assert.deepEqual(
        targets.map((t) => [t.name, t.aliases]),
        [['Xavier Holt', []]],
      );
      assert.deepEqual(
        problems.map((p) => p.path),
        ['[0].name', '[1].aliases[0]'],
      );
      assert.match(problems[0]!.message, /would redact ordinary text/);
    });

    reliabilityCase(
      'bad targets',
      'names in regex syntax → accepted as literal text, never compiled: no false hits, no catastrophic backtracking',
      () => {
        const { targets, problems } = parseUntouched([
          { name: 'a.*b' },
          { name: '(x|y)+$' },
          { name: '[a-z]+' },
          { name: 'node.js' },
          { name: '(ab+)+$' },
        ]);
        assert.deepEqual(problems, []);
        assert.equal(targets.length, 5);
        const index = buildTargetIndex(targets);
        // What the patterns would match as regexes is ordinary text here.
        for (const text of ['aXYZb', 'xyxyxy', 'hello', 'nodexjs']) assert.equal(guardText(index, text), text, text);
        assert.equal(guardText(index, 'I like node.js a lot'), 'I like [redacted: node.js] a lot');
        assert.equal(guardText(index, 'see [a-z]+ here'), 'see [[redacted: [a-z]+]]+ here');
        // (ab+)+$ against "abbb…!" is the classic exponential case for a backtracking engine.
        const evil = `a${'b'.repeat(50_000)}!`;
        const { ms } = timed(() => index.find(evil));
        assert.ok(ms < 2000, `scan took ${Math.round(ms)} ms`);
      },
    );

    reliabilityCase(
      'bad targets',
      'a name whose letters are separated by symbols (a.*b, (x|y)+$, A+B Corp) → masked when written exactly; no letter of it stays visible',
      () => {
        const { targets } = parseTargets([{ name: 'a.*b' }, { name: '(x|y)+$' }, { name: 'A+B Corp' }]);
        const index = buildTargetIndex(targets);
        assert.equal(guardText(index, 'see a.*b here'), 'see [redacted: a.*b] here');
        assert.equal(guardText(index, 'see A+B Corp here'), 'see [redacted: A+B Corp] here');
        const regexName = guardText(index, 'see (x|y)+$ here');
        assert.doesNotMatch(regexName.replace(/\[redacted: [^\]]*\]/g, ''), /[xy]/, regexName);
      },
    );

    reliabilityCase(
      'bad targets',
      'a name or alias with a single letter among symbols ("(a+)+$") → rejected like a one-character name, ordinary text untouched',
      () => {
        const { targets, problems } = parseUntouched([
          { name: '(a+)+$' },
          { name: '  -7-  ' },
          { name: '***' },
          { name: 'Marta Quist', aliases: ['(a+)+$', 'M.', 'M.Q.'] },
        ]);
        assert.deepEqual(
          targets.map((t) => [t.name, t.aliases]),
          [['Marta Quist', ['M.Q.']]],
        );
        assert.deepEqual(
          problems.map((p) => `${p.path} ${p.severity}`),
          ['[0].name error', '[1].name error', '[2].name error', '[3].aliases[0] warning', '[3].aliases[1] warning'],
        );
        for (const p of problems) assert.match(p.message, /at least 2 letters or digits, symbols not counted .*would redact ordinary text/);
        const index = buildTargetIndex(targets);
        for (const text of ['a lot of a and 7 or M', 'a'.repeat(1000)]) assert.equal(guardText(index, text), text);
        assert.equal(guardText(index, 'Ask M.Q. or Marta Quist'), 'Ask [redacted: Marta Quist]. or [redacted: Marta Quist]');
      },
    );

    reliabilityCase(
      'bad targets',
      '1 MB name, alias or description → "at most …" in bounded time, nothing built from it (the other names still guarded)',
      () => {
        const mb = 'x'.repeat(1 << 20);
        const { value, ms } = timed(() =>
          parseUntouched([{ name: mb }, { name: 'Ok Name', aliases: [mb] }, { name: 'Other Name', description: mb }]),
        );
        assert.ok(ms < 1000, `parse took ${Math.round(ms)} ms`);
        assert.deepEqual(
          value.targets.map((t) => [t.name, t.aliases, t.description]),
          [
            ['Ok Name', [], undefined],
            ['Other Name', [], undefined],
          ],
        );
        assert.deepEqual(
          value.problems.map((p) => `${p.path} ${p.severity}: ${p.message}`),
          [
            '[0].name error: must be at most 200 characters',
            '[1].aliases[0] warning: must be at most 200 characters; this alias is ignored',
            '[2].description warning: Too big: expected string to have <=2000 characters; the description is ignored',
          ],
        );
        // A problem message never repeats the megabyte.
        for (const line of formatProblems(value.problems)) assert.ok(line.length < 300);
      },
    );

    reliabilityCase(
      'bad targets',
      '100,000 entries → parse, index build and a scan stay bounded and find exactly the targets in the text',
      () => {
        const raw = Array.from({ length: 100_000 }, (_, i) => ({
          name: `Codename ${i.toString(36)} Q${i}`,
          ...(i % 10 === 0 ? { aliases: [`Alias Q${i}`] } : {}),
        }));
        const parse = timed(() => parseUntouched(raw));
        assert.equal(parse.value.targets.length, 100_000);
        assert.deepEqual(parse.value.problems, []);
        const build = timed(() => buildTargetIndex(parse.value.targets));
        const text = `${'Ordinary words about drones and budgets. '.repeat(2500)}Codename 255r Q99999 met Alias Q50000 and codename 1 q1.`;
        const scan = timed(() => build.value.mentionedTargets(text).map((t) => t.name));
        assert.deepEqual(scan.value, ['Codename 1 Q1', 'Codename 12kw Q50000', 'Codename 255r Q99999']);
        // Budgets for a shared 2-core machine; typical: parse ~2 s, build ~1 s, scan of 100 KB ~0.1 s.
        assert.ok(parse.ms < 15_000, `parse took ${Math.round(parse.ms)} ms`);
        assert.ok(build.ms < 15_000, `build took ${Math.round(build.ms)} ms`);
        assert.ok(scan.ms < 3000, `scan took ${Math.round(scan.ms)} ms`);
      },
      { timeout: 60_000 },
    );

    reliabilityCase(
      'bad targets',
      'invalid UTF-16 (lone surrogates) → the name is rejected; text with lone surrogates is still scanned and guarded',
      () => {
        const { targets, problems } = parseUntouched([
          { name: 'Bad \ud800 Name' },
          { name: 'Project Falcon', aliases: ['Fal\udc00con'] },
          { name: 'Marta Quist', description: 'lone \ud800 here' },
        ]);
        assert.deepEqual(
          problems.map((p) => `${p.path} ${p.severity}: ${p.message}`),
          [
            '[0].name error: contains an unpaired UTF-16 surrogate',
            '[1].aliases[0] warning: contains an unpaired UTF-16 surrogate; this alias is ignored',
          ],
        );
        assert.deepEqual(
          targets.map((t) => [t.name, t.aliases]),
          [
            ['Project Falcon', []],
            ['Marta Quist', []],
          ],
        );
        const index = buildTargetIndex(targets);
        assert.equal(guardText(index, '\udc00Marta Quist\ud800'), '\udc00[redacted: Marta Quist]\ud800');
      },
    );

    reliabilityCase('bad targets', 'a "__proto__" key → reported as unknown, no prototype pollution, the target still guarded', () => {
      const raw = JSON.parse('[{"name": "Project Falcon", "__proto__": {"polluted": true}}]') as unknown;
      const { targets, problems } = parseUntouched(raw);
      assert.deepEqual(
        targets.map((t) => t.name),
        ['Project Falcon'],
      );
      assert.deepEqual(
        problems.map((p) => `${p.path} ${p.severity}`),
        ['[0].__proto__ warning'],
      );
      assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    });

    reliabilityCase(
      'bad targets',
      'an entry with a valid name but a malformed alias, description or flag still guards its name; each bad part is reported at its path',
      () => {
        const { targets, problems, sourceIndex } = parseUntouched([
          { name: 'Marta Quist', aliases: ['MQ', 'M'] },
          { name: 'Zephyr Holdings', enabled: 'yes' },
          { name: 'Lisbon Works', description: 7 },
          { name: 'Project Falcon', enabled: 0, aliases: ['Falcon', 42] },
        ]);
        assert.deepEqual(
          targets.map((t) => [t.name, t.aliases, t.enabled]),
          [
            ['Marta Quist', ['MQ'], true],
            ['Zephyr Holdings', [], true],
            ['Lisbon Works', [], true],
            // `enabled: 0` may have meant "off": a malformed flag still counts as enabled (fail-closed).
            ['Project Falcon', ['Falcon'], true],
          ],
        );
        assert.deepEqual(
          targets.map((t) => sourceIndex.get(t.id)),
          [0, 1, 2, 3],
        );
        assert.deepEqual(
          problems.map((p) => `${p.path} ${p.severity}`),
          ['[0].aliases[1] warning', '[1].enabled warning', '[2].description warning', '[3].aliases[1] warning', '[3].enabled warning'],
        );
        const index = buildTargetIndex(targets);
        assert.equal(
          guardText(index, 'MQ met Zephyr Holdings in Lisbon Works about Falcon.'),
          '[redacted: Marta Quist] met [redacted: Zephyr Holdings] in [redacted: Lisbon Works] about [redacted: Project Falcon].',
        );
        // The dropped one-letter alias does not turn into a rule that masks ordinary text.
        assert.equal(guardText(index, 'M is for Monday.'), 'M is for Monday.');
      },
    );
  });
}
