import { createAnswerGuard, finalizeAnswer, SafeStreamer, type TargetIndex } from '../../src/core/guard';

/**
 * Streams `text` through the product's streaming guard (the answer guard's `SafeStreamer`, re-scanning
 * at every piece) in pieces of the given sizes, cycled; returns what it showed, what redacting the whole
 * text at once gives, and the most characters it held back at any point.
 */
export function streamThroughGuard(
  index: TargetIndex,
  text: string,
  sizes: readonly number[],
): { streamed: string; whole: string; maxPending: number; streamer: SafeStreamer } {
  let streamed = '';
  let maxPending = 0;
  const streamer = new SafeStreamer(
    createAnswerGuard(index, [], () => ''),
    (piece) => (streamed += piece),
    1,
  );
  for (let at = 0, k = 0; at < text.length; k++) {
    const size = sizes[k % sizes.length]!;
    streamer.push(text.slice(at, at + size));
    maxPending = Math.max(maxPending, streamer.pending);
    at += size;
  }
  streamer.end();
  return { streamed, whole: guardAnswer(index, text), maxPending, streamer };
}

/** The whole text as the answer guard shows it (control characters stripped, every match marked). */
export function guardAnswer(index: TargetIndex, text: string): string {
  return finalizeAnswer(text, index, [], () => '').text;
}
