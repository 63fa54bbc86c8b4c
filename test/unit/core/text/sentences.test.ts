import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { joinSentences, splitSentences } from '../../../../src/core/text';

const texts = (t: string) => splitSentences(t).sentences.map((s) => s.text);

describe('sentences', () => {
  test('prose is cut after each full stop, question or exclamation mark that a new sentence follows', () => {
    assert.deepEqual(texts('Drones fly. Do they? Yes! They do…'), ['Drones fly.', 'Do they?', 'Yes!', 'They do…']);
  });

  test('a full stop followed by a lower-case word does not end a sentence (e.g. an abbreviation)', () => {
    assert.deepEqual(texts('Use e.g. a map. Then fly.'), ['Use e.g. a map.', 'Then fly.']);
  });

  test('every line ends a sentence, and list bullets, numbers, headings and quotes stay apart from the text', () => {
    const split = splitSentences('# Title\n\n- First item. Second part.\n2. Numbered\n> quoted');
    assert.deepEqual(
      split.sentences.map((s) => [s.marker, s.text]),
      [
        ['# ', 'Title'],
        ['- ', 'First item.'],
        ['', 'Second part.'],
        ['2. ', 'Numbered'],
        ['> ', 'quoted'],
      ],
    );
  });

  test('lines inside a fenced code block are one sentence each, never cut at a full stop', () => {
    assert.deepEqual(texts('Code:\n```js\nconst a = b. C;\n```\nDone.'), ['Code:', '```js', 'const a = b. C;', '```', 'Done.']);
  });

  test('CJK full stops end a sentence without a space', () => {
    assert.deepEqual(texts('无人机会飞。它们很快。'), ['无人机会飞。', '它们很快。']);
  });

  test('any text joins back exactly from its sentences', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'B', ' ', '.', '!', '\n', '- ', '1. ', '```', '#', '。', '\t') }), (t) => {
        assert.equal(joinSentences(splitSentences(t)), t);
      }),
      { numRuns: 500 },
    );
  });
});
