// The Aho–Corasick automaton against a naive search: every occurrence of every pattern, forwards and
// backwards, and the prefix the end state stands for. Small alphabets keep failure links busy (and every
// shallow state in a dense, fully resolved row); a wide one leaves only the root dense.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Automaton } from '../../../../src/core/guard';

const RUNS = { numRuns: Number(process.env.GUARD_PROPERTY_RUNS ?? 150) };

function build(patterns: number[][]): { automaton: Automaton; ids: Int32Array } {
  const offsets = new Int32Array(patterns.length + 1);
  patterns.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
  const ids = new Int32Array(patterns.length);
  return { automaton: new Automaton(Int32Array.from(patterns.flat()), offsets, patterns.length, ids), ids };
}

/** Every (pattern index, end) a naive search finds in `text`, as sorted strings. */
function naive(patterns: number[][], text: number[]): string[] {
  const out: string[] = [];
  patterns.forEach((p, i) => {
    for (let end = p.length; end <= text.length; end++) if (p.every((c, j) => text[end - p.length + j] === c)) out.push(`${i}@${end}`);
  });
  return out.sort();
}

/** Every hit the automaton reports, expanded to each input pattern with that sequence. */
function found(automaton: Automaton, ids: Int32Array, text: number[], backward: boolean): string[] {
  const codes = Int32Array.from(text);
  const out: string[] = [];
  const onMatch = (pattern: number, end: number) => ids.forEach((id, i) => id === pattern && out.push(`${i}@${end}`));
  if (backward) automaton.scanBackward(codes, codes.length, onMatch);
  else automaton.scan(codes, codes.length, onMatch);
  return out.sort();
}

/** Longest suffix of `text` that is a proper prefix of some pattern with a continuation, as the end state says. */
function longestOpenPrefix(patterns: number[][], text: number[]): number {
  for (let d = Math.min(text.length, 254); d > 0; d--) {
    const suffix = text.slice(text.length - d);
    if (patterns.some((p) => p.length > d && suffix.every((c, j) => p[j] === c))) return d;
  }
  return 0;
}

describe('automaton', () => {
  for (const [label, alphabet] of [
    ['three symbols (dense rows, long failure chains)', [1, 2, 3]],
    ['letters', Array.from({ length: 26 }, (_, i) => 0x61 + i)],
    ['a wide alphabet (only the root is dense)', Array.from({ length: 80 }, (_, i) => 0x4e00 + i * 7)],
  ] as const) {
    const symbol = fc.constantFrom(...alphabet);
    const patterns = fc.array(fc.array(symbol, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 30 });
    const text = fc.array(fc.oneof(symbol, fc.constant(0x20)), { maxLength: 80 });

    test(`${label}: every occurrence, forwards and backwards, and the open prefix at the end`, () => {
      fc.assert(
        fc.property(patterns, text, (ps, t) => {
          const { automaton, ids } = build(ps);
          assert.deepEqual(found(automaton, ids, t, false), naive(ps, t));
          // Backwards, `end` counts codes read from the end: the text reversed, searched forwards.
          assert.deepEqual(found(automaton, ids, t, true), naive(ps, [...t].reverse()));
          const state = automaton.scan(Int32Array.from(t), t.length, () => {});
          assert.equal([...automaton.prefixDepths(state)][0] ?? 0, longestOpenPrefix(ps, t));
        }),
        RUNS,
      );
    });
  }
});
