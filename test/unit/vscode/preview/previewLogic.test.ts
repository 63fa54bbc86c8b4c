import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PREVIEW_DOCS, PreviewDocStore } from '../../../../src/vscode/preview/previewLogic';

describe('preview document store', () => {
  test('turning showOriginal off drops the originals and only them', () => {
    const docs = new PreviewDocStore<string>();
    docs.set('unlearn-preview:/Redacted%20answer%201.md', 'I cannot share that.', 'unlearned');
    docs.set('unlearn-preview:/Original%20answer%201.md', 'Project Falcon builds drones.', 'original');
    docs.set('unlearn-preview:/Original%202', 'Ask Falcon about it.', 'original');
    docs.set('unlearn-preview:/Redacted%202', 'Ask [redacted] about it.', 'unlearned');
    assert.deepEqual(docs.dropOriginals().sort(), ['unlearn-preview:/Original%202', 'unlearn-preview:/Original%20answer%201.md']);
    assert.equal(docs.get('unlearn-preview:/Original%20answer%201.md'), undefined);
    assert.equal(docs.get('unlearn-preview:/Redacted%20answer%201.md'), 'I cannot share that.');
    assert.equal(docs.size, 2);
    assert.deepEqual(docs.dropOriginals(), []);
  });

  test('an entry replaced by an answer is no longer an original', () => {
    const docs = new PreviewDocStore<string>();
    docs.set('k', 'before', 'original');
    docs.set('k', 'after', 'unlearned');
    assert.deepEqual(docs.dropOriginals(), []);
    assert.equal(docs.get('k'), 'after');
  });

  test('a closed document is deleted', () => {
    const docs = new PreviewDocStore<string>();
    docs.set('k', 'text', 'unlearned');
    assert.equal(docs.delete('k'), true);
    assert.equal(docs.get('k'), undefined);
    assert.equal(docs.delete('k'), false);
  });

  test('the store is capped: the oldest entries go first, a re-set entry counts as new', () => {
    const docs = new PreviewDocStore<number>(3);
    assert.deepEqual(docs.set('a', 1, 'original'), []);
    docs.set('b', 2, 'unlearned');
    docs.set('c', 3, 'unlearned');
    docs.set('a', 4, 'original');
    assert.deepEqual(docs.set('d', 5, 'unlearned'), ['b']);
    assert.equal(docs.size, 3);
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((k) => docs.get(k)),
      [4, undefined, 3, 5],
    );
    const big = new PreviewDocStore<number>();
    for (let i = 0; i < MAX_PREVIEW_DOCS * 3; i++) big.set(`k${i}`, i, i % 2 ? 'original' : 'unlearned');
    assert.equal(big.size, MAX_PREVIEW_DOCS);
    assert.equal(big.get(`k${MAX_PREVIEW_DOCS * 3 - 1}`), MAX_PREVIEW_DOCS * 3 - 1);
  });
});
