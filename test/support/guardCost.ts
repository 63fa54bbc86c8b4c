import assert from 'node:assert/strict';
import type { TargetIndex } from '../../src/core/guard';

/**
 * Hostile text must not make a scan blow up (quadratic or exponential work shows as seconds, not
 * milliseconds): each text is scanned once to warm up, then timed, against a bound far above normal.
 */
export function assertScansStayCheap(index: TargetIndex, texts: Record<string, string>, boundMs = 1000): void {
  for (const [label, text] of Object.entries(texts)) {
    index.find(text);
    const started = performance.now();
    index.find(text);
    const ms = performance.now() - started;
    assert.ok(ms < boundMs, `${label}: ${ms.toFixed(0)} ms`);
  }
}
