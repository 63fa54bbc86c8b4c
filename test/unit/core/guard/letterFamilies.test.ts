// Property tests, one per letter-transform family (issue 25): a random name written through a random
// transform of the family, between ordinary words, is masked with exactly the disguised span, whole or
// streamed in small chunks; another word through the same transform is left alone. The transforms come
// from the family's own table (letterFamilies.ts), the one the guard's readings are generated from.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildTargetIndex } from '../../../../src/core/guard';
import { LETTER_FAMILIES, SHIFT_TRANSFORMS, type FamilyTransform } from '../../../../src/core/guard/letterFamilies';
import type { ForgetTarget } from '../../../../src/core/targets';
import { guardAnswer, streamThroughGuard } from '../../../support/streaming';

const RUNS = { numRuns: Number(process.env.GUARD_PROPERTY_RUNS ?? 40) };
const letters = 'abcdefghijkmnopqrstuvwxyz'; // no "l": an i/l swap is a deliberate confusable, not noise
const FILLER = ['the', 'report', 'was', 'late', 'and', 'our', 'team', 'met', 'early', 'today'];
const anyWord = fc
  .array(fc.constantFrom(...letters), { minLength: 6, maxLength: 9 })
  .map((cs) => cs.join(''))
  .filter((w) => !w.endsWith('s'));
/**
 * Words of consonant-vowel syllables ("bakemo"): Pig Latin cannot be read back unambiguously when the
 * letters after the moved consonants end in a consonant that joins them into a longer English onset
 * ("Labs" → "abslay", read "slab"); the family's documented limit, tested apart below.
 */
const syllableWord = fc
  .array(fc.tuple(fc.constantFrom(...'bcdfghjkmnprtvz'), fc.constantFrom(...'aeiou')), { minLength: 3, maxLength: 4 })
  .map((ss) => ss.map(([c, v]) => c + v).join(''));
const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);
const words = fc.array(fc.constantFrom(...FILLER), { minLength: 1, maxLength: 4 }).map((ws) => ws.join(' '));
const target = (name: string): ForgetTarget => ({ id: name.toLowerCase(), name, aliases: [], enabled: true });

function checkFamily(family: string, word: fc.Arbitrary<string>, layout = false): void {
  const transforms = LETTER_FAMILIES[family]!;
  // Names of one or two words; a line layout puts the disguise on lines of its own.
  const name = fc.tuple(word, fc.option(word, { nil: undefined })).map(([a, b]) => (b ? `${capital(a)} ${capital(b)}` : capital(a)));
  fc.assert(
    fc.property(fc.constantFrom(...transforms), name, word, words, words, (t: FamilyTransform, n, other, pre, post) => {
      fc.pre(!n.toLowerCase().includes(other.slice(0, 5)) && !other.includes(n.toLowerCase().slice(0, 5)));
      const index = buildTargetIndex([target(n)]);
      const sep = layout ? '\n' : ' ';
      const text = `${pre}${sep}${t.encode(n)}${sep}${post}.`;
      const whole = guardAnswer(index, text);
      assert.ok(index.find(text).length > 0, `${t.name}: ${JSON.stringify(text)} is read as the name`);
      if (t.name.startsWith('tags'))
        // Tag characters are invisible: the answer guard strips them before anything is shown.
        assert.equal(whole, text.replace(/[\u{e0000}-\u{e007f}]/gu, ''));
      else if (layout)
        // The marker runs from the first letter to the last; a list marker or cell edge around them stays.
        assert.match(whole, new RegExp(`^${pre}\\n[-*>|\\d. \`]{0,4}\\[redacted: ${n}\\][*| \`]{0,4}\\n${post}\\.$`), JSON.stringify(text));
      else assert.equal(whole, `${pre}${sep}[redacted: ${n}]${sep}${post}.`, `${t.name}: ${JSON.stringify(text)}`);
      for (const size of [1, 5]) {
        const { streamed } = streamThroughGuard(index, text, [size]);
        assert.equal(streamed, whole, `${t.name} in chunks of ${size}`);
      }
      const innocent = `${pre}${sep}${t.encode(capital(other))}${sep}${post}.`;
      assert.equal(guardAnswer(index, innocent).includes('[redacted'), false, `${t.name}: ${JSON.stringify(innocent)} is no target`);
    }),
    RUNS,
  );
}

describe('leak guard: letter-transform families, random names', () => {
  test('shift: every Caesar shift, Atbash and Atbash with a shift (50 transforms, ROT13 read on its own)', () => {
    assert.equal(SHIFT_TRANSFORMS.length, 50);
    checkFamily('shift', anyWord);
  });
  test('positions: letters as alphabet positions from 1 or 0, with several separators', () => checkFamily('positions', anyWord));
  test('repeat: letters doubled or tripled, or padded with a filler', () => checkFamily('repeat', anyWord));
  test('syllable: infix games and Pig Latin', () => checkFamily('syllable', syllableWord));
  test('unicode: letter blocks (Braille, regional indicators, tags, enclosed, mathematical…)', () => checkFamily('unicode', anyWord));
  test('layout: one letter per line, list item, table cell or quote', () => checkFamily('layout', anyWord, true));

  test('documented limits: an ambiguous Pig Latin word, a key cipher and a two-step encoding are not read', () => {
    const index = buildTargetIndex([target('Gredrind Labs'), target('Velmora Quist')]);
    // "Labskaus" → "abskauslay" reads back as "slabskau": the moved "l" joins the "s" before it into an onset.
    assert.equal(guardAnswer(buildTargetIndex([target('Labskaus')]), 'It is Abskauslay.'), 'It is Abskauslay.');
    // Vigenère (key "key"): each letter shifted by a different amount.
    assert.equal(guardAnswer(index, 'It is Fiphsph Uyskx.').includes('[redacted'), false);
    // A shift of base64 (two steps).
    const b64 = Buffer.from('Velmora Quist').toString('base64');
    const shifted = b64.replace(/[a-z]/gi, (c) =>
      String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 3) % 26) + (c <= 'Z' ? 65 : 97)),
    );
    assert.equal(guardAnswer(index, `It is ${shifted}.`).includes('[redacted'), false);
  });
});
