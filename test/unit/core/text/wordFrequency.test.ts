import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCommonWord, perMillion, wordRank } from '../../../../src/core/text/wordFrequency';

test('ordinary words rank high, names and coinages low or not at all', () => {
  assert.ok(wordRank('the')! < 10);
  assert.ok(isCommonWord('Will'));
  assert.ok(isCommonWord('mark'));
  assert.ok(!isCommonWord('Falcon'));
  assert.equal(wordRank('Hogwarts'), undefined);
  assert.equal(wordRank('Lindqvist'), undefined);
});

test('frequency falls with rank, and an unlisted word is rarest', () => {
  const words = ['the', 'school', 'falcon', 'Lindqvist'];
  const f = words.map(perMillion);
  for (let i = 1; i < f.length; i++) assert.ok(f[i]! < f[i - 1]!, `${words[i]} should be rarer than ${words[i - 1]}`);
  assert.ok(f[3]! > 0);
});
