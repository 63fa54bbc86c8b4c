/** Bidi: the explicit embedding state, and whether a right-to-left override shows letters in reverse order. */

import { F_RLO } from './foldFlags';

/**
 * The explicit bidi state at a point of the text: the open embeddings, overrides and isolates, one
 * character each (the control that opened it), innermost last. Empty at the start of a paragraph.
 */
export type BidiState = string;

export const isParagraphEnd = (cp: number): boolean =>
  cp === 0x0a || cp === 0x0d || cp === 0x2029 || cp === 0x85 || (cp >= 0x1c && cp <= 0x1e);
/** The controls that open or close an embedding, override or isolate (not the marks LRM, RLM, ALM). */
export const isExplicitBidiControl = (cp: number): boolean => (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);

export function nextBidi(state: BidiState, cp: number): BidiState {
  if (isParagraphEnd(cp)) return '';
  if (cp === 0x202c) {
    // PDF closes the innermost embedding or override, but not an isolate.
    const top = state.charCodeAt(state.length - 1);
    return state.length > 0 && top >= 0x202a && top <= 0x202e ? state.slice(0, -1) : state;
  }
  if (cp === 0x2069) {
    // PDI closes the innermost isolate and everything opened inside it.
    for (let k = state.length - 1; k >= 0; k--) if (state.charCodeAt(k) >= 0x2066) return state.slice(0, k);
    return state;
  }
  return state.length < 125 ? state + String.fromCharCode(cp) : state;
}

export const rloOf = (state: BidiState): number => (state.length > 0 && state.charCodeAt(state.length - 1) === 0x202e ? F_RLO : 0);
