import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  buildTargetIndex,
  clearIndexCache,
  foldedString,
  getCachedIndex,
  guardText,
  type GuardMatch,
  type MatchKind,
  type TargetIndex,
} from '../../../../src/core/guard';
import { parseTargets, type ForgetTarget } from '../../../../src/core/targets';
import { generateTargets } from '../../../../src/bench/guardBench';
import { assertScansStayCheap } from '../../../support/guardCost';
import { buildSimpleIndex } from '../../../support/simpleIndex';
import { streamThroughGuard } from '../../../support/streaming';

const target = (name: string, aliases: string[] = [], id = name.toLowerCase().replace(/\W+/g, '-')): ForgetTarget => ({
  id,
  name,
  aliases,
  enabled: true,
});

/** Ordinary words the random names are kept apart from. */
const FILLER =
  'the of and to in is was it for on with as by at from this that be are we our their about after before over under report meeting budget plan team city river north south green summer quiet early late morning evening'.split(
    ' ',
  );
const FILLER_SET = new Set(FILLER);

const letters = 'abcdefghijkmnopqrstuvwxyz'; // no "l": an i/l swap is a deliberate confusable, not noise
const word = fc
  .array(fc.constantFrom(...letters), { minLength: 4, maxLength: 9 })
  .map((cs) => cs.join(''))
  .filter((w) => !FILLER_SET.has(w) && !w.endsWith('s'));
const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);
const nameArb = fc.array(word, { minLength: 1, maxLength: 3 }).map((ws) => ws.map(capital).join(' '));
const fillerText = fc.array(fc.constantFrom(...FILLER), { minLength: 0, maxLength: 8 }).map((ws) => ws.join(' '));

const RUNS = { numRuns: Number(process.env.GUARD_PROPERTY_RUNS ?? 150) };

function only(index: TargetIndex, text: string): GuardMatch[] {
  return index.find(text);
}

const spans = (ms: readonly GuardMatch[]) => ms.map((m) => `${m.targetId}@${m.start}-${m.end}`);

/** Applies a disguise to a name; returns the spelled text and the kind the guard should report. */
/** `at` is where the match lies in `text` (default: all of it); `noPlural` when a plain "s" right after would read as part of the name. */
type Disguise = (name: string, rnd: Rnd) => { text: string; kind: MatchKind; at?: readonly [number, number]; noPlural?: boolean };

/** A small seeded generator (mulberry32), so each disguise is reproducible from fast-check's seed. */
interface Rnd {
  nextInt(lo: number, hi: number): number;
  nextBoolean(): boolean;
}
function rng(seed: number): Rnd {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { nextInt: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), nextBoolean: () => next() < 0.5 };
}

const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[rnd.nextInt(0, xs.length - 1)]!;
const mapLetters = (name: string, f: (c: string, i: number) => string) => [...name].map((c, i) => (c === ' ' ? c : f(c, i))).join('');

const CYRILLIC: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', i: 'і' };
const GREEK: Record<string, string> = { o: 'ο', a: 'α', i: 'ι', v: 'ν', u: 'υ' };
const LEET: Record<string, string[]> = {
  a: ['4', '@'],
  e: ['3'],
  i: ['1', '!', '|'],
  o: ['0'],
  s: ['5', '$'],
  t: ['7', '+'],
  b: ['8'],
  g: ['9'],
  z: ['2'],
};

const DISGUISES: Record<string, Disguise> = {
  case: (n, r) => ({ text: mapLetters(n, (c) => (r.nextBoolean() ? c.toUpperCase() : c.toLowerCase())), kind: 'exact' }),
  accents: (n, r) => ({
    text: mapLetters(n, (c) => (r.nextInt(0, 2) === 0 ? c + pick(r, ['\u0301', '\u0308', '\u0300']) : c)).normalize(
      r.nextBoolean() ? 'NFC' : 'NFD',
    ),
    kind: 'exact',
  }),
  fullwidth: (n) => ({ text: mapLetters(n, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), kind: 'confusable' }),
  cyrillic: (n, r) => {
    const swappable = [...n.toLowerCase()].some((c) => CYRILLIC[c]);
    const table = swappable ? CYRILLIC : GREEK;
    let changed = false;
    const text = mapLetters(n.toLowerCase(), (c) => {
      const alt = table[c];
      if (alt && (r.nextBoolean() || !changed)) {
        changed = true;
        return alt;
      }
      return c;
    });
    return { text, kind: changed ? 'confusable' : 'exact' };
  },
  leet: (n, r) => {
    let changed = false;
    const text = mapLetters(n, (c) => {
      const alts = LEET[c.toLowerCase()];
      if (alts && (r.nextBoolean() || !changed)) {
        changed = true;
        return pick(r, alts);
      }
      return c;
    });
    return { text, kind: changed ? 'leet' : 'exact' };
  },
  spaced: (n, r) => {
    const sep = pick(r, [' ', '.', '-', ' . ', '\u200B']);
    return {
      text: n
        .split(' ')
        .map((w) => [...w].join(sep))
        .join(sep === '\u200B' ? ' ' : sep),
      kind: 'spaced',
    };
  },
  zeroWidth: (n, r) => {
    const chars = [...n];
    const at = r.nextInt(1, chars.length - 1);
    if (chars[at] === ' ' || chars[at - 1] === ' ') return { text: n, kind: 'exact' };
    chars.splice(at, 0, pick(r, ['\u200B', '\u200C', '\u200D', '\u2060', '\u00AD']));
    return { text: chars.join(''), kind: 'spaced' };
  },
  masked: (n, r) => {
    const letterCount = [...n].filter((c) => c !== ' ').length;
    const positions = [...n].map((c, i) => (c !== ' ' && i > 0 && n[i - 1] !== ' ' ? i : -1)).filter((i) => i > 0);
    const budget = Math.min(Math.floor(letterCount / 3), positions.length);
    const chosen = new Set<number>();
    for (let k = 0; k < budget && chosen.size < r.nextInt(1, budget); k++) chosen.add(pick(r, positions));
    if (chosen.size === 0) return { text: n, kind: 'exact' };
    const mask = pick(r, ['*', '_', '•']);
    return { text: [...n].map((c, i) => (chosen.has(i) ? mask : c)).join(''), kind: 'masked' };
  },
  // Rendering disguises: what a terminal, a markdown or HTML renderer or a URL shows as the name.
  ansi: (n, r) => {
    const codes = ['\u001b[1m', '\u001b[31m', '\u001b[38;5;196m', '\u001b[4;1m', '\u001b(B', '\u001b[K', '\u009b0m'];
    if (r.nextBoolean()) {
      const open = pick(r, codes);
      return { text: `${open}${n}\u001b[0m`, kind: 'exact', at: [open.length, open.length + n.length] };
    }
    return { text: insertInWord(n, r, pick(r, codes)), kind: 'spaced' };
  },
  control: (n, r) => ({
    text: insertInWord(n, r, pick(r, ['\u0000', '\u0007', '\u0001', '\u0008', '\u000e', '\u007f', '\u0080', '\u009c'])),
    kind: 'spaced',
  }),
  camelGlue: (n, r) => {
    if (r.nextBoolean()) {
      const glue = pick(r, ['the', 'zz', 'my', 'get', 'XML', 'API']);
      return { text: glue + n, kind: 'exact', at: [glue.length, glue.length + n.length] };
    }
    return { text: n + pick(r, ['Xy', 'Api', 'Holder', 'ZZ']), kind: 'exact', at: [0, n.length] };
  },
  digitGlue: (n, r) => {
    const digits = String(r.nextInt(0, 999));
    return r.nextBoolean()
      ? { text: digits + n, kind: 'exact', at: [digits.length, digits.length + n.length] }
      : { text: n + digits, kind: 'exact', at: [0, n.length] };
  },
  bidiReversed: (n) => ({ text: `\u202e${[...n].reverse().join('')}\u202c`, kind: 'exact', at: [1, 1 + n.length] }),
  reversed: (n) =>
    n.replace(/ /g, '').length >= 6 ? { text: [...n].reverse().join(''), kind: 'exact', noPlural: true } : { text: n, kind: 'exact' },
  percent: (n, r) => {
    const chars = [...n];
    const at = r.nextInt(0, chars.length - 1);
    if (chars[at] !== ' ') {
      const hex = chars[at]!.charCodeAt(0).toString(16);
      chars[at] = '%' + (r.nextBoolean() ? hex.toUpperCase() : hex);
    }
    return { text: chars.join('').replace(/ /g, '%20'), kind: 'exact' };
  },
  plus: (n) => ({ text: n.replace(/ /g, '+'), kind: 'exact' }),
  snakeCase: (n) => ({ text: n.toLowerCase().replace(/ /g, '_'), kind: 'exact' }),
  entity: (n, r) => {
    const chars = [...n].map((c) => (c === ' ' && r.nextBoolean() ? '&nbsp;' : c));
    const at = r.nextInt(0, chars.length - 1);
    if (/^[a-z]$/i.test(chars[at]!)) {
      const code = chars[at]!.charCodeAt(0);
      chars[at] = r.nextBoolean() ? `&#${code};` : `&#x${code.toString(16)};`;
    }
    return { text: chars.join(''), kind: 'exact' };
  },
  markdown: (n, r) => {
    const words = n.split(' ');
    const w = r.nextInt(0, words.length - 1);
    const word = words[w]!;
    const i = r.nextInt(1, word.length - 2);
    const j = r.nextInt(i + 1, word.length - 1);
    const d = pick(r, ['**', '*', '__', '~~', '`', '***']);
    words[w] = word.slice(0, i) + d + word.slice(i, j) + d + word.slice(j);
    return { text: words.join(' '), kind: 'spaced' };
  },
};

/** Inserts `s` between two letters of one word of the name. */
function insertInWord(n: string, r: Rnd, s: string): string {
  const gaps = [...n].map((c, i) => (i > 0 && c !== ' ' && n[i - 1] !== ' ' ? i : -1)).filter((i) => i > 0);
  const at = pick(r, gaps);
  return n.slice(0, at) + s + n.slice(at);
}

const SUFFIXES = ['', '', "'s", '’s', 's', '.', ',', '!', '?', ')'];

describe('leak guard: disguises of random names are caught, with exact spans', () => {
  for (const [label, disguise] of Object.entries(DISGUISES)) {
    test(`${label}`, () => {
      fc.assert(
        fc.property(nameArb, fillerText, fillerText, fc.constantFrom(...SUFFIXES), fc.integer(), (name, before, after, suffix, seed) => {
          const rnd = rng(seed);
          const { text: spelled, kind, at = [0, spelled.length], noPlural } = disguise(name, rnd);
          const prefix = before ? before + ' ' : '';
          const text = `${prefix}${spelled}${noPlural && suffix === 's' ? '' : suffix} ${after}`.trimEnd();
          const index = buildTargetIndex([target(name)]);
          const found = only(index, text);
          assert.equal(found.length, 1, `one match in ${JSON.stringify(text)}, got ${JSON.stringify(found)}`);
          const m = found[0]!;
          assert.equal(m.start, prefix.length + at[0], `start in ${JSON.stringify(text)}`);
          assert.equal(m.end, prefix.length + at[1], `end in ${JSON.stringify(text)}`);
          assert.equal(m.kind, kind, `kind for ${JSON.stringify(spelled)}`);
          assert.equal(m.term, name);
        }),
        RUNS,
      );
    });
  }
});

describe('leak guard: named examples', () => {
  const index = buildTargetIndex([
    target('Project Falcon', ['Falcon']),
    target('Ada'),
    target('Apple'),
    target('Paris'),
    target('PayPal'),
    target('Marta Quist'),
  ]);
  const cases: [string, string | null, MatchKind?][] = [
    ['Project Falcon ships soon', 'Project Falcon', 'exact'],
    ['PROJECT-FALCON', 'PROJECT-FALCON', 'exact'],
    ['Project \n\n -- Falcon', 'Project \n\n -- Falcon', 'exact'],
    ['F a l c o n', 'F a l c o n', 'spaced'],
    ['F.a.l.c.o.n', 'F.a.l.c.o.n', 'spaced'],
    ['F-a-l-c-o-n', 'F-a-l-c-o-n', 'spaced'],
    ['F\u200Balcon', 'F\u200Balcon', 'spaced'],
    ['F*lc*n', 'F*lc*n', 'masked'],
    ['F_lcon', 'F_lcon', 'masked'],
    ['P4r1s', 'P4r1s', 'leet'],
    ['P@ri$!', 'P@ri$', 'leet'],
    ['Раris', 'Раris', 'confusable'],
    ['ＰＡＲＩＳ', 'ＰＡＲＩＳ', 'confusable'],
    ['Ρaris', 'Ρaris', 'confusable'], // Greek capital rho
    ['PayPaI', 'PayPaI', 'confusable'], // capital I for l
    ["apple's pie", 'apple', 'exact'],
    ['two apples', 'apple', 'exact'],
    ['Ada.', 'Ada', 'exact'],
    ['**Falcon**', 'Falcon', 'exact'],
    ['Márta Quíst', 'Márta Quíst', 'exact'],
    ['Ma\u0301rta Quist', 'Ma\u0301rta Quist', 'exact'],
    ['adapter', null],
    ['pineapple', null],
    ['Adam and adapters', null],
    ['Parisian', null],
    ['applesauce', null],
    ['all ali', null],
    ['get_user_id', null],
    ['Falconry', null],
  ];
  for (const [text, slice, kind] of cases) {
    test(`${JSON.stringify(text)} → ${slice === null ? 'nothing' : JSON.stringify(slice)}`, () => {
      const found = index.find(text);
      if (slice === null) return assert.deepEqual(found, []);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(text.slice(found[0]!.start, found[0]!.end), slice);
      assert.equal(found[0]!.kind, kind);
    });
  }

  test('surrogate pairs, combining marks and NFKC expansions keep exact offsets', () => {
    const idx = buildTargetIndex([target('Fiona'), target('Zoe')]);
    const text = '😀😀 ﬁona met 𝐙𝐨𝐞 and Zoe\u0308\u0301!';
    const found = idx.find(text);
    assert.deepEqual(
      found.map((m) => text.slice(m.start, m.end)),
      ['ﬁona', '𝐙𝐨𝐞', 'Zoe\u0308\u0301'],
    );
    assert.deepEqual(
      found.map((m) => m.kind),
      ['confusable', 'confusable', 'exact'],
    );
  });

  test('overlapping names: the longest names the target and the span covers both', () => {
    const idx = buildTargetIndex([target('New York'), target('York City Bank')]);
    const text = 'in New York City Bank today';
    const found = idx.find(text);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.term, 'York City Bank');
    assert.equal(text.slice(found[0]!.start, found[0]!.end), 'New York City Bank');
    assert.deepEqual(
      idx.mentionedTargets(text).map((t) => t.name),
      ['New York', 'York City Bank'],
    );
  });

  test('disabled targets are not matched but still resolve by id', () => {
    const idx = buildTargetIndex([{ ...target('Zephyr'), enabled: false }]);
    assert.deepEqual(idx.find('Zephyr'), []);
    assert.equal(idx.byId('zephyr')?.name, 'Zephyr');
  });
});

describe('leak guard: innocent text', () => {
  test('near-miss words (longer words, prefixes, one letter changed, truncated) are not flagged', () => {
    const nearMiss = (w: string) =>
      fc.oneof(
        fc
          .tuple(fc.constantFrom(...letters), fc.string({ unit: fc.constantFrom(...letters), maxLength: 4 }))
          .map(([a, b]) => `${w}${a === 's' ? 'x' : a}${b}`)
          .filter((x) => x !== w + 'es'),
        fc.string({ unit: fc.constantFrom(...letters), minLength: 1, maxLength: 4 }).map((p) => `${p}${w}`),
        fc.nat({ max: w.length - 1 }).chain((i) =>
          fc
            .constantFrom(...letters)
            .filter((c) => c !== w[i])
            .map((c) => w.slice(0, i) + c + w.slice(i + 1)),
        ),
        fc.constant(w.slice(0, -1)),
      );
    fc.assert(
      fc.property(
        word.chain((w) => fc.tuple(fc.constant(w), fc.array(nearMiss(w), { minLength: 1, maxLength: 6 }), fillerText)),
        ([w, misses, filler]) => {
          const index = buildTargetIndex([target(capital(w))]);
          const text = `${filler} ${misses.join(' ')}. ${capital(misses[0]!)}, ${misses.map((m) => m.toUpperCase()).join(' ')}`;
          assert.deepEqual(index.find(text), [], `${w} in ${JSON.stringify(text)}`);
        },
      ),
      RUNS,
    );
  });

  test('one-character and regex-syntax names are harmless', () => {
    const odd = ['.*', '(', ')', '[a-z]+', '\\', '$^', '|', '?', 'x', 'C++', 'a.b', '**', '__'];
    const index = buildTargetIndex(odd.map((n, i) => target(n, [], `odd-${i}`)));
    const text = 'A quick x-ray of C++ code: a.b (or a b) matches [a-z]+ and .* here; ** bold __ under. ' + 'ab '.repeat(100);
    const found = index.find(text);
    assert.ok(found.length <= 6, JSON.stringify(found));
    for (const m of found) assert.ok(['x', 'C++', 'a.b', '[a-z]+'].includes(m.term), m.term);
    assert.deepEqual(buildTargetIndex([target('.*')]).find('anything at all'), []);
    assert.deepEqual(buildTargetIndex([target('x')]).find('x1 ax xa 7'), []);
    assert.deepEqual(
      buildTargetIndex([target('x')])
        .find('an x here')
        .map((m) => m.start),
      [3],
    );
  });
});

describe('leak guard: names whose letters are separated by symbols', () => {
  const { targets } = parseTargets([
    { name: 'a.*b' },
    { name: '(x|y)+$' },
    { name: 'A+B Corp' },
    { name: '[a-z]+' },
    { name: 'node.js' },
    { name: '(ab+)+$' },
  ]);
  const index = buildTargetIndex(targets);

  test('are masked when written exactly', () => {
    for (const text of ['a.*b', '(x|y)+$', 'A+B Corp', 'node.js'])
      assert.notEqual(guardText(index, `see ${text} here`), `see ${text} here`, text);
    assert.equal(guardText(index, 'see A+B Corp here'), 'see [redacted: A+B Corp] here');
    assert.equal(guardText(index, 'see a.*b here'), 'see [redacted: a.*b] here');
  });

  test('do not fire on what they would match as regular expressions', () => {
    for (const text of ['aXYZb', 'xyxyxy', 'hello', 'nodexjs', 'abbbbb']) assert.equal(guardText(index, text), text, text);
    assert.equal(guardText(index, 'see [a-z]+ here'), 'see [[redacted: [a-z]+]]+ here');
  });

  test('scan in linear time, also on the classic catastrophic-backtracking input', () => {
    for (const evil of [`a${'b'.repeat(50_000)}!`, '(x|y)'.repeat(20_000), 'a.*'.repeat(20_000), '+$'.repeat(30_000)]) {
      const started = performance.now();
      index.find(evil);
      const ms = performance.now() - started;
      assert.ok(ms < 1000, `${evil.slice(0, 12)}…: ${ms.toFixed(0)} ms`);
    }
  });
});

describe('leak guard: agreement and streaming', () => {
  const plainText = (names: string[]) =>
    fc
      .array(
        fc.oneof(
          fc.constantFrom(...FILLER),
          fc.constantFrom(...names),
          fc.constantFrom(...names).map((n) => n.toUpperCase()),
        ),
        { minLength: 1, maxLength: 30 },
      )
      .chain((ws) =>
        fc
          .array(fc.constantFrom(' ', ', ', '. ', ' (', ') ', '; '), { minLength: ws.length, maxLength: ws.length })
          .map((seps) => ws.map((w, i) => w + seps[i]).join('')),
      );

  test('on plain text the fast index agrees with the simple reference index', () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(nameArb, { minLength: 1, maxLength: 6, selector: (n) => n.toLowerCase() })
          .chain((names) => fc.tuple(fc.constant(names), plainText(names))),
        ([names, text]) => {
          const targets = names.map((n) => target(n));
          const fast = buildTargetIndex(targets).find(text);
          const simple = buildSimpleIndex(targets).find(text);
          // Names that share words can overlap; the fast index then widens the span, so compare non-overlapping cases.
          fc.pre(simple.every((m, i) => i === 0 || simple[i - 1]!.end < m.start));
          assert.deepEqual(spans(fast), spans(simple), text);
          for (const m of fast) assert.equal(foldedString(text.slice(m.start, m.end)), foldedString(m.term));
        },
      ),
      RUNS,
    );
  });

  test('chunked streaming output equals whole-text redaction', () => {
    const names = ['Project Falcon', 'Falcon', 'Ada', 'Marta Quist', 'Paris'];
    const index = buildTargetIndex([target('Project Falcon', ['Falcon']), target('Ada'), target('Marta Quist'), target('Paris')]);
    const piece = fc.oneof(
      fc.constantFrom(...FILLER, 'adapter', 'pineapple', '😀', 'é', '\u0301', '\u200B', ' ', '. ', '*', '_'),
      // Pieces of escapes, entities, percent escapes, bidi controls and markdown, so chunks cut through them.
      fc.constantFrom(
        '\u001b',
        '\u001b[',
        '1m',
        '\u001b[0m',
        '&',
        '&#',
        '97;',
        '&#x61;',
        '&amp;',
        '%',
        '%2',
        '0',
        '%20',
        '+',
        '\u202e',
        '\u202c',
        '**',
        '__',
        '~~',
        '`',
        'noclaF',
        'tcejorP',
        'adA',
        'the',
        'XML',
        '7',
      ),
      fc.constantFrom(...names),
      fc
        .tuple(fc.constantFrom(...names), fc.constantFrom(...Object.values(DISGUISES)), fc.integer())
        .map(([n, d, seed]) => d(n, rng(seed)).text),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 60 }).map((ps) => ps.join(' ')),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
        (text, sizes) => {
          const { streamed, whole } = streamThroughGuard(index, text, sizes);
          assert.equal(streamed, whole, JSON.stringify(text));
        },
      ),
      RUNS,
    );
  });

  test('the stream holds back at most holdBack characters and catches a name split across chunks', () => {
    const index = buildTargetIndex([target('Project Falcon')]);
    const text = 'Status of Proj' + 'ect Fal' + 'con: on track. ' + 'More words follow here. '.repeat(30);
    const { streamed, maxPending } = streamThroughGuard(index, text, [5]);
    assert.ok(maxPending <= index.holdBack, `${maxPending} > ${index.holdBack}`);
    assert.ok(streamed.startsWith('Status of [redacted: Project Falcon]: on track.'), streamed.slice(0, 60));
  });
});

describe('leak guard: hostile text stays cheap', () => {
  test('underscores, masks and invisible characters in bulk scan quickly against 20,000 names', () => {
    const index = buildTargetIndex(generateTargets(20_000));
    const texts = {
      code: 'const get_user_id = my_var_name + other_thing_here * x_y_z; // __init__ **bold** '.repeat(200),
      underscores: 'a_b_c_d_e_f_g '.repeat(1200),
      stars: '*'.repeat(16_384),
      invisible: ('F' + '\u200B'.repeat(50)).repeat(300),
      marks: ('a' + '\u0301'.repeat(40) + ' ').repeat(400),
    };
    assertScansStayCheap(index, texts);
  });
});

describe('leak guard: index cache', () => {
  test('rebuilds only when the target list changes', () => {
    clearIndexCache();
    const { targets } = parseTargets([{ name: 'Project Falcon' }, { name: 'Ada' }]);
    const a = getCachedIndex(targets);
    assert.equal(getCachedIndex(targets), a, 'same array');
    assert.equal(getCachedIndex(parseTargets([{ name: 'Project Falcon' }, { name: 'Ada' }]).targets), a, 'equal list');
    const b = getCachedIndex(parseTargets([{ name: 'Project Falcon' }, { name: 'Ada', aliases: ['Countess'] }]).targets);
    assert.notEqual(b, a, 'alias added');
    assert.equal(b.find('the Countess').length, 1);
    const c = getCachedIndex(parseTargets([{ name: 'Project Falcon' }, { name: 'Ada', aliases: ['Countess'], enabled: false }]).targets);
    assert.notEqual(c, b, 'disabled');
  });
});
