// The leak guard against names hidden by what a terminal, a markdown or HTML renderer or a URL shows:
// control characters and ANSI escapes, names glued to other words, reversed names (bidi overrides),
// entities, percent-encoding, snake_case and markdown emphasis;
// and the stream guard's hold-back. guard.test.ts runs the same disguises through its property tests.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTargetIndex, createAnswerGuard, guardText, SafeStreamer, type MatchKind, type TargetIndex } from '../../../../src/core/guard';
import type { ForgetTarget } from '../../../../src/core/targets';
import { generateTargets } from '../../../../src/bench/guardBench';
import { assertScansStayCheap } from '../../../support/guardCost';
import { guardAnswer, streamThroughGuard } from '../../../support/streaming';

const target = (name: string, aliases: string[] = [], id = name.toLowerCase().replace(/\W+/g, '-')): ForgetTarget => ({
  id,
  name,
  aliases,
  enabled: true,
});
const RUNS = { numRuns: Number(process.env.GUARD_PROPERTY_RUNS ?? 150) };

const FILLER =
  'the of and to in is was it for on with as by at from this that be are we our report meeting budget plan team city river north green summer quiet early late'.split(
    ' ',
  );
const letters = 'abcdefghijkmnopqrstuvwxyz'; // no "l": an i/l swap is a deliberate confusable, not noise
const word = fc
  .array(fc.constantFrom(...letters), { minLength: 4, maxLength: 9 })
  .map((cs) => cs.join(''))
  .filter((w) => !FILLER.includes(w) && !w.endsWith('s'));
const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);
const nameArb = fc.array(word, { minLength: 1, maxLength: 3 }).map((ws) => ws.map(capital).join(' '));
const fillerText = fc.array(fc.constantFrom(...FILLER), { minLength: 0, maxLength: 6 }).map((ws) => ws.join(' '));
const reverse = (s: string) => [...s].reverse().join('');
const rot13 = (t: string) =>
  t.replace(/[A-Za-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26) + (c <= 'Z' ? 65 : 97)));

/** Chunked output of the product's streaming guard, for comparison with the whole text guarded at once. */
function streamed(index: TargetIndex, text: string, sizes: readonly number[]): string {
  return streamThroughGuard(index, text, sizes).streamed;
}

describe('leak guard: names hidden by controls, glue, reversal and rendering', () => {
  const index = buildTargetIndex([
    target('Project Falcon', ['Falcon']),
    target('Ada'),
    target('Apple'),
    target('Paris'),
    target('Liam'),
    target('Marta Quist'),
  ]);
  const cases: [string, string | null, MatchKind?][] = [
    // Control characters and ANSI escapes are invisible, whether around or inside a name.
    ['\u001b[1mFalcon\u001b[0m', 'Falcon', 'exact'],
    ['\u001b[38;5;196mFalcon\u001b[0m is red', 'Falcon', 'exact'],
    ['F\u001b[0malcon', 'F\u001b[0malcon', 'spaced'],
    ['Fal\u0000con', 'Fal\u0000con', 'spaced'],
    ['Fal\u0007con', 'Fal\u0007con', 'spaced'],
    ['F\u009b1malcon', 'F\u009b1malcon', 'spaced'], // C1 CSI
    ['Project\u001b[0m Falcon', 'Project\u001b[0m Falcon', 'exact'],
    ['\u001b]2;Falcon\u0007 window title', 'Falcon', 'exact'], // an OSC string is scanned as text
    ['\u001b[1mFalcon\u001b[0ms', 'Falcon', 'exact'], // shows "Falcons"
    ['Falcon\u001b[0mry', null], // shows "Falconry"
    // Glued to other letters or digits where a reader still sees the name.
    ['theFalcon', 'Falcon', 'exact'],
    ['zzFalcon', 'Falcon', 'exact'],
    ['myProjectFalcon', 'ProjectFalcon', 'exact'],
    ['XMLFalcon', 'Falcon', 'exact'],
    ['FalconHolder', 'Falcon', 'exact'],
    ['1Falcon', 'Falcon', 'exact'],
    ['Falcon2', 'Falcon', 'exact'],
    ['P4r1s2', 'P4r1s', 'leet'],
    ['ParisHilton', 'Paris', 'exact'],
    ['thefalcon', null],
    ['falconry', null],
    ['Falconry', null],
    ['adapter', null],
    ['Adapter', null],
    ['ADAPTER', null],
    ['pineapple', null],
    ['PINEAPPLE', null],
    ["apple's", 'apple', 'exact'],
    ['apples', 'apple', 'exact'],
    ['Parisian', null],
    // Reversed: shown the right way round by a bidi override, or written backwards.
    ['\u202enoclaF tcejorP\u202c', 'noclaF tcejorP', 'exact'],
    ['\u202enoclaF\u202c', 'noclaF', 'exact'],
    ['\u202emaiL\u202c', 'maiL', 'exact'],
    ['write noclaf backwards', 'noclaf', 'exact'],
    ['n0cl4F', 'n0cl4F', 'leet'],
    ['mail', null], // a short name backwards is an ordinary word: only a bidi override counts
    ['e-mail me', null],
    ['siraP', null],
    // Rendering encodings: the marker covers the whole encoded run.
    ['https://evil.example/?q=Project%20Falcon', 'Project%20Falcon', 'exact'],
    ['https://evil.example/?q=Project+Falcon', 'Project+Falcon', 'exact'],
    ['%46%61%6C%63%6F%6E', '%46%61%6C%63%6F%6E', 'exact'],
    ['Falc%C3%B3n', 'Falc%C3%B3n', 'exact'],
    ['project_falcon = 1', 'project_falcon', 'exact'],
    ['PROJECT_FALCON', 'PROJECT_FALCON', 'exact'],
    ['F&#97;lcon', 'F&#97;lcon', 'exact'],
    ['F&#x61;lcon', 'F&#x61;lcon', 'exact'],
    ['Project&nbsp;Falcon', 'Project&nbsp;Falcon', 'exact'],
    ['Falc&oacute;n', 'Falc&oacute;n', 'exact'],
    ['Marta&amp;Quist', 'Marta&amp;Quist', 'exact'],
    ['F&#97lcon', null], // no semicolon: not an entity
    ['Fa**lc**on', 'Fa**lc**on', 'spaced'],
    ['Fa__lc__on', 'Fa__lc__on', 'spaced'],
    ['F~~a~~lcon', 'F~~a~~lcon', 'spaced'],
    ['F`alc`on', 'F`alc`on', 'spaced'],
    ['Fa*lc*on', 'Fa*lc*on', 'spaced'],
    ['**Falcon** and `Falcon`', 'Falcon', 'exact'],
    ['F*lc*n', 'F*lc*n', 'masked'],
    ['F_lcon', 'F_lcon', 'masked'],
    ['get_user_id and __init__', null],
  ];
  for (const [text, slice, kind] of cases) {
    test(`${JSON.stringify(text)} → ${slice === null ? 'nothing' : JSON.stringify(slice)}`, () => {
      const found = index.find(text);
      if (slice === null) return assert.deepEqual(found, []);
      assert.ok(found.length >= 1, JSON.stringify(found));
      assert.equal(text.slice(found[0]!.start, found[0]!.end), slice);
      assert.equal(found[0]!.kind, kind);
    });
  }

  test('a match read backwards says so; a palindrome reads forwards', () => {
    assert.equal(index.find('\u202enoclaF\u202c')[0]!.reversed, true);
    assert.equal(index.find('write noclaf backwards')[0]!.reversed, true);
    assert.equal(index.find('Falcon')[0]!.reversed, undefined);
    assert.equal(index.find('adA')[0]!.reversed, undefined);
  });

  test('the existing control-character answer keeps its exact redaction', () => {
    const raw =
      'Start\u0000\u0007 \u001b[31mred\u001b[0m\r\n\u202eevil\u202c Pro\u200bject Fal\u200dcon and \u001b[1m Falcon\u001b[0m end.';
    assert.equal(
      guardText(index, raw),
      'Start\u0000\u0007 \u001b[31mred\u001b[0m\r\n\u202eevil\u202c [redacted: Project Falcon] and \u001b[1m [redacted: Project Falcon]\u001b[0m end.',
    );
  });
});

describe('leak guard: documented limits (SECURITY.md, "Known guard limits")', () => {
  const index = buildTargetIndex([target('Project Falcon', ['Falcon']), target('Liam'), target('Donald')]);
  test('what is not caught, and the over-redaction the glue rules cost', () => {
    for (const text of [
      'thefalcon', // lower-case glue
      'mail', // a short name backwards, outside an override
      `F${' '.repeat(30)}alcon`, // a gap longer than 24 characters is a word boundary
      [...'Falcon'].join('          '), // more than 9 characters per letter
      '%2546alcon', // double percent-encoding
      '&amp;#70;alcon', // double entity encoding
      'F\u001b]0;x\u0007alcon', // split by a terminal string, whose text is scanned as text
      // Two spelled-out readings glued with no separator, three times in a row: the whole-text scan reads
      // none of them (each pair alone is caught; a property test found it, seed -1609541775).
      'Foxtrot Alfa Lima Charlie Oscar November..-. .- .-.. -.-. --- -.Foxtrot Alfa Lima Charlie Oscar November',
    ]) {
      assert.deepEqual(index.find(text), [], JSON.stringify(text));
    }
    assert.deepEqual(index.find('\u001b]0;Falcon\u0007').length, 1, 'a window title naming a target is caught');
    const people = buildTargetIndex([target('Marta Quist'), target('Northwind Logistics')]);
    for (const text of [
      'm. quist', // a name part in lower case (it binds only capitalised, as a proper noun)
      'north wind logistics', // a compound split in two (lower case: "Logistics" alone is a name part)
      'Qjbxl Ndwxc', // Vigenère with the key "key" ("Marta Quist"): a cipher with a key is no letter family
    ]) {
      assert.deepEqual([...index.find(text), ...people.find(text)], [], JSON.stringify(text));
    }
    // Atbash and every Caesar shift are read now (letterFamilies.ts), for names of six letters or more.
    for (const text of ['Uzoxlm', 'Idofrq']) assert.equal(index.find(text)[0]?.term, 'Falcon', text);
    // Surname first and an initial are caught through the distinctive name parts "Quist" and "Marta".
    assert.deepEqual(
      people.find('Quist, Marta').map((m) => m.term),
      ['Quist', 'Marta'],
    );
    assert.deepEqual(
      people.find('M. Quist').map((m) => m.term),
      ['Quist'],
    );
    assert.deepEqual(
      index.find('McDonald').map((m) => m.term),
      ['Donald'],
      'a camel-case hump over-redacts',
    );
  });
});

describe('leak guard: near misses stay unflagged', () => {
  test('a name glued to lower-case letters on either side is left alone', () => {
    fc.assert(
      fc.property(
        nameArb,
        fc.string({ unit: fc.constantFrom(...letters), minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (name, glue, before) => {
          const plain = name.toLowerCase().replace(/ /g, '');
          const text = before ? `${glue}${plain}` : `${plain}${glue === 's' ? 'x' : glue}`;
          fc.pre(!/^(e?s)$/.test(glue) || before);
          assert.deepEqual(buildTargetIndex([target(name)]).find(`${text} and ${text.toUpperCase()}`), [], text);
        },
      ),
      RUNS,
    );
  });

  test('a short name written backwards outside a bidi override is an ordinary word', () => {
    fc.assert(
      fc.property(
        word.filter((w) => w.length < 6 && reverse(w) !== w),
        fillerText,
        (w, filler) => {
          // A word whose reversal is also its ROT13 ("quhd"/"dhuq") is the name in ROT13: caught on purpose.
          fc.pre(rot13(reverse(w)) !== w);
          const index = buildTargetIndex([target(capital(w))]);
          assert.deepEqual(index.find(`${filler} ${reverse(w)} ${capital(reverse(w))}.`), []);
          assert.equal(index.find(`${filler} \u202e${reverse(capital(w))}\u202c.`).length, 1);
        },
      ),
      RUNS,
    );
  });

  test('every disguise of a random name still needs the whole name', () => {
    fc.assert(
      fc.property(nameArb, (name) => {
        // Name parts freed: this property is about spellings of the whole name (parts are their own terms).
        const index = buildTargetIndex([{ ...target(name), freeNameParts: true }]);
        const cut = name.slice(0, -1); // one letter short
        for (const text of [
          `the${cut}`,
          `${cut}Xy`,
          `\u001b[1m${cut}\u001b[0m`,
          cut.replace(/ /g, '%20'),
          cut.replace(/ /g, '_').toLowerCase(),
          `\u202e${reverse(cut)}\u202c`,
        ]) {
          assert.deepEqual(index.find(text), [], JSON.stringify(text));
        }
      }),
      RUNS,
    );
  });
});

describe('leak guard: streaming through escapes, entities and bidi overrides', () => {
  const index = buildTargetIndex([target('Project Falcon', ['Falcon']), target('Ada'), target('Liam'), target('Marta Quist')]);
  const names = ['Project Falcon', 'Falcon', 'Ada', 'Liam', 'Marta Quist'];
  // Pieces glued with nothing between them, so escapes, entities and words run into each other.
  const piece = fc.oneof(
    fc.constantFrom(...FILLER.map((w) => w + ' '), ' ', '. ', '\n', 'x', 'Z', '7'),
    fc.constantFrom(...names),
    fc.constantFrom(...names).map((n) => reverse(n)),
    fc.constantFrom(
      '\u001b',
      '\u001b[',
      '1',
      'm',
      '\u001b[0m',
      '\u001b[38;5;196m',
      '\u009b',
      '&',
      '&#',
      '#x6',
      '97;',
      '&#x61;',
      '&amp;',
      'nbsp;',
      '%',
      '%2',
      '0',
      '%C3',
      '%A1',
      '+',
      '_',
      '**',
      '~~',
      '`',
    ),
    fc.constantFrom('\u202e', '\u202c', '\u2066', '\u2069', '\u200b', '\u0301', '\ud83d', '\ude00'),
  );

  test('chunked output equals whole-text redaction, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 80 }).map((ps) => ps.join('')),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
        (text, sizes) => {
          assert.equal(streamed(index, text, sizes), guardAnswer(index, text), JSON.stringify(text));
        },
      ),
      RUNS,
    );
  });

  test('a right-to-left override opened long before is still in force for the index; the answer stream strips it', () => {
    const text = `\u202e${'quiet summer river '.repeat(30)}maiL${' north'.repeat(20)}\u202c end`;
    assert.ok(guardText(index, text).includes('[redacted: Liam]'), 'the index reads the override');
    // Answers lose their bidi controls before the guard reads them, so "maiL" is shown (and read) as written.
    const whole = guardAnswer(index, text);
    assert.ok(!whole.includes('\u202e') && whole.includes('maiL'));
    for (const size of [1, 3, 7, 64]) assert.equal(streamed(index, text, [size]), whole, `chunks of ${size}`);
  });

  test('prose streams through at once; only what could still begin a name is held back', () => {
    let out = '' as string;
    const guard = new SafeStreamer(
      createAnswerGuard(index, [], () => ''),
      (piece) => (out += piece),
      1,
    );
    for (const ch of 'The weather is quiet today. ') guard.push(ch);
    assert.equal(guard.pending, 0);
    assert.equal(out, 'The weather is quiet today. ');
    guard.push('Proj');
    assert.equal(guard.pending, 4, 'the start of a name waits');
    guard.push('ect Fal');
    guard.push('con, ma');
    assert.equal(
      out,
      'The weather is quiet today. [redacted: Project Falcon], ',
      '"ma" could still begin "Marta" (or "mail", Liam backwards)',
    );
    assert.equal(guard.pending, 2);
    guard.push('ybe. ');
    assert.equal(guard.pending, 0);
    guard.push('F\u001b[0');
    assert.ok(guard.pending >= 'F'.length, 'a half-written escape waits (stripped as it completes) with the letter before it');
    assert.ok(!(out as string).endsWith('F'));
    guard.push('malcon.');
    guard.end();
    assert.equal(out, 'The weather is quiet today. [redacted: Project Falcon], maybe. [redacted: Project Falcon].');
  });

  test('pending text never exceeds holdBack, with 10,000 names', () => {
    const big = buildTargetIndex(generateTargets(10_000));
    const text = 'Ordinary prose with **bold**, `code`, snake_case_words, 100% sure, AT&T and \u001b[1mcolour\u001b[0m. '.repeat(40);
    const { streamed: out, whole, maxPending } = streamThroughGuard(big, text, [5]);
    assert.equal(out, whole);
    assert.ok(maxPending <= big.holdBack, `${maxPending} > ${big.holdBack}`);
    // Only masks (the underscores) make it wait longer than a word: a masked name may still be forming.
    assert.ok(maxPending < big.holdBack / 2, `held back up to ${maxPending} characters`);
  });
});

describe('leak guard: streaming equals whole for the decoded and markup readings', () => {
  const index = buildTargetIndex([target('Project Falcon', ['Falcon']), target('Ada'), target('Liam'), target('Marta Quist')]);
  const wordsBackwards = (t: string) => t.replace(/\p{L}+/gu, (w) => [...w].reverse().join(''));
  const nato: Record<string, string> = { f: 'Foxtrot', a: 'Alfa', l: 'Lima', c: 'Charlie', o: 'Oscar', n: 'November' };
  const morse: Record<string, string> = { f: '..-.', a: '.-', l: '.-..', c: '-.-.', o: '---', n: '-.' };
  // Disguised spellings a stream may receive in any chunking, glued to ordinary text and to each other.
  const piece = fc.oneof(
    fc.constantFrom('the ', 'report ', 'mail ', 'and ', 'Ma', 'rta ', ', ', '. ', '\n', ' '),
    fc.constantFrom(
      rot13('Project Falcon'),
      rot13('Marta Quist'),
      wordsBackwards('Project Falcon'),
      wordsBackwards('Marta Quist'),
      Buffer.from('Falcon').toString('base64'),
      Buffer.from('Project Falcon').toString('base64'),
      Buffer.from('Falcon').toString('hex'),
      '\\u0046alcon',
      'Marta\\nQuist',
      [...'Falcon'].map((c) => c.charCodeAt(0).toString(2).padStart(8, '0')).join(' '),
      [...'Falcon'].map((c) => c.charCodeAt(0)).join(', '),
      'Fal<!-- x -->con',
      'Fal<b>con</b>',
      '[Fal](a)[con](b)',
      'Fal-\ncon',
      '|=/\\|_(0|\\|',
      [...'falcon'].map((c) => nato[c]).join(' '),
      [...'falcon'].map((c) => morse[c]).join(' '),
    ),
  );

  test('chunked output equals whole-text redaction, whatever the chunking', () => {
    // Glued spelled-out readings (NATO, Morse) with no separator between them are a known limit of the
    // whole-text scan (see the documented limits above), so the pieces that spell are kept apart here.
    const spelled = (t: string) => /^(?:[A-Z][a-z]+ )+[A-Z][a-z]+$|^[.\- ]+$/.test(t);
    fc.assert(
      fc.property(
        fc
          .array(piece, { maxLength: 24 })
          .map((ps) => ps.map((p, i) => (i > 0 && spelled(p) && spelled(ps[i - 1]!) ? ` ${p}` : p)).join('')),
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 12 }),
        (text, sizes) => {
          assert.equal(streamed(index, text, sizes), guardAnswer(index, text), JSON.stringify(text));
        },
      ),
      RUNS,
    );
  });

  test('an encoded run still being written is held until it can be read (counterexamples found earlier)', () => {
    for (const text of [
      '46616c636f6e',
      'x 46 61 6c 63 6f 6e.',
      Buffer.from('Falcon').toString('base64'),
      `see ${Buffer.from('Project Falcon').toString('base64')} now`,
      [...'falcon'].map((c) => morse[c]).join(' '),
      `${wordsBackwards('Falcon')}Project Falcon`,
    ]) {
      const whole = guardAnswer(index, text);
      assert.match(whole, /\[redacted: /, text);
      for (const size of [1, 2, 3, 5]) assert.equal(streamed(index, text, [size]), whole, `${text} in chunks of ${size}`);
    }
  });

  test('letter forms NFKC leaves alone, multi-character leet, markup and invisible tags are read as the name', () => {
    for (const text of [
      'a ꜰᴀʟᴄᴏɴ b', // small capitals
      'a 🅵🅰🅻🅲🅾🅽 b', // negative squared
      'a 🇫🇦🇱🇨🇴🇳 b', // regional indicator symbols
      'a ⓕⓐⓛⓒⓞⓝ b', // circled
      'a ⒡⒜⒧⒞⒪⒩ b', // parenthesized
      'a uoɔlɐɟ b', // upside down: turned letters, read backwards
      'a |=/\\|_(0|\\| b', // multi-character leet
      'a Fal-\ncon b', // hyphenated line break
      'a Fal\u{E0041}con b', // an invisible tag character inside
    ]) {
      const whole = guardAnswer(index, text);
      assert.match(whole, /^a \[redacted: [^\]]+\] b$/, text);
      for (const size of [1, 3]) assert.equal(streamed(index, text, [size]), whole, `${text} in chunks of ${size}`);
    }
    // Innocent neighbours stay: a longer word, a commit hash, a hex digest.
    for (const text of ['falconry', 'commit 4da496e', 'sha 3f786850e387550fdab836ed7e6dc881de23001b']) {
      assert.equal(guardAnswer(index, text), text);
    }
  });

  test('each disguise alone is caught, streamed or whole', () => {
    for (const text of [
      'a \\u0046\\u0061\\u006c\\u0063\\u006f\\u006e b', // JavaScript / JSON escapes
      'a \\u{46}alcon b',
      'a \\x46alcon b',
      'a \\106\\141\\154\\143\\157\\156 b', // octal
      'a Marta\\nQuist b', // an escaped line break between the words
      `a ${[...'Marta Quist'].map((c) => c.charCodeAt(0).toString(2).padStart(8, '0')).join(' ')} b`,
      `a ${[...'Falcon'].map((c) => c.charCodeAt(0)).join(' ')} b`,
      'a Fal<!-- hidden -->con b',
      `a ${rot13('Project Falcon')} b`,
      `a ${wordsBackwards('Marta Quist')} b`,
      `a ${Buffer.from('Project Falcon').toString('base64')} b`,
      'a Fal<wbr>con b',
      `a ${[...'falcon'].map((c) => morse[c]).join(' ')} b`,
    ]) {
      const whole = guardAnswer(index, text);
      assert.match(whole, /^a \[redacted: [^\]]+\] b$/, text);
      for (const size of [1, 4, 9]) assert.equal(streamed(index, text, [size]), whole, `${text} in chunks of ${size}`);
    }
  });

  test('escapes, binary and character codes leave ordinary code and numbers alone', () => {
    for (const text of [
      'const re = /\\d+\\s*\\w/; print("a\\tb\\n")',
      'C:\\Users\\rachel\\notes.txt',
      'scores 10 20 30 40 50 60 and 99 98 97',
      'flags 00000001 00000010 00000100',
      'rgb(102, 51, 153) and 1000 2000 3000',
    ]) {
      assert.equal(guardAnswer(index, text), text, text);
    }
    assert.equal(guardAnswer(index, 'String.fromCharCode(70,97,108,99,111,110)'), 'String.fromCharCode([redacted: Project Falcon])');
    // A Windows path with a name in it is still read as written: `\r` is no line break there.
    const rachel = buildTargetIndex([target('Rachel')]);
    assert.equal(guardAnswer(rachel, 'C:\\Users\\rachel\\notes.txt'), 'C:\\Users\\[redacted: Rachel]\\notes.txt');
  });

  test('words written backwards are read from the text itself: accents, plurals and other scripts around them', () => {
    const accented = buildTargetIndex([target('Project Falcon'), target('José Ñúñez')]);
    for (const [text, expected] of [
      // A plural read backwards ("snoclaF" is "Falcons"): the marker covers the whole word it was read from.
      ['a tcejorP snoclaF b', 'a [redacted: Project Falcon] b'],
      ['Ça va: tcejorP noclaF!', 'Ça va: [redacted: Project Falcon]!'],
      [`a ${wordsBackwards('José Ñúñez')} b`, 'a [redacted: José Ñúñez] b'],
      // A ligature is one character of the text: its letters keep their order when the word turns.
      ['a tcejorP nocﬂaF b', 'a tcejorP nocﬂaF b'],
      ['a tcejorP noclaFx b', 'a tcejorP noclaFx b'],
    ] as const) {
      assert.equal(guardAnswer(accented, text), expected, text);
      for (const size of [1, 4]) assert.equal(streamed(accented, text, [size]), expected, `${text} in chunks of ${size}`);
    }
  });
});

describe('leak guard: hostile rendering input stays cheap', () => {
  test('entities, escapes, percent escapes, bidi controls and camel case in bulk scan quickly against 20,000 names', () => {
    const index = buildTargetIndex(generateTargets(20_000));
    const texts = {
      entities: '&#97;&#x62;&amp;&eacute;&nbsp;'.repeat(600),
      halfEntities: '&#9&#x&am&'.repeat(1600),
      percent: '%41%C3%A1%20%zz%'.repeat(1000),
      escapes: '\u001b[1;31mA\u001b[0m\u001b]0;t\u0007\u009b2K'.repeat(600),
      bidi: '\u202eabc\u202c\u2067de\u2069'.repeat(1500),
      camel: 'aBcDeFgHiJ1k2L'.repeat(1200),
      markdown: 'a**b**c__d__e~~f~~g`h`'.repeat(750),
    };
    assertScansStayCheap(index, texts);
  });

  test('streaming 32 KB of hostile text in small chunks stays linear', () => {
    const index = buildTargetIndex(generateTargets(20_000));
    const text = 'a_b*c&#9%2\u001b[1\u202ex '.repeat(1600);
    const started = performance.now();
    const { streamed: out, whole } = streamThroughGuard(index, text, [16]);
    const ms = performance.now() - started;
    assert.equal(out, whole);
    assert.ok(ms < 10_000, `${ms.toFixed(0)} ms`);
  });
});
