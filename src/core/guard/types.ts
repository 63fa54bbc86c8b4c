import type { ForgetTarget } from '../targets';

/** How a mention was spelled, for the preview's "why". */
export type MatchKind =
  | 'exact' // same letters after case/accent folding
  | 'confusable' // letters from other scripts or compatibility forms (Cyrillic "а", fullwidth "Ｆ")
  | 'leet' // digits or symbols for letters ("P4r1s")
  | 'spaced' // letters split by spaces, dots, dashes or zero-width characters
  | 'masked' // letters hidden by * or _ ("F*lc*n")
  | 'markup' // split by markup that renders as one word (an inline tag, link or emphasis edges, a hyphenated line break)
  | 'encoded'; // written in an encoding a reader decodes at once (base64, hex, ROT13, a spelling alphabet, Morse)

/** One place in a text where a target's name or alias appears. Offsets are UTF-16 indices into the original text. */
export interface GuardMatch {
  readonly targetId: string;
  /** The name or alias that matched (as written in the target), never the text found. */
  readonly term: string;
  readonly start: number;
  readonly end: number;
  readonly kind: MatchKind;
  /** Read backwards: written in reverse, or shown the right way round by a right-to-left override. */
  readonly reversed?: true;
  /** For an `encoded` match: which encoding ("base64", "hex", "ROT13", "NATO alphabet", "Morse", …). */
  readonly encoding?: string;
}

/**
 * An index over a list of targets, built once per target-list change and then used for every text.
 * `find` must be safe to call on untrusted text of any size.
 */
export interface TargetIndex {
  readonly targets: readonly ForgetTarget[];
  /** Non-overlapping matches, sorted by start; on overlap the longest match wins. */
  find(text: string): GuardMatch[];
  /** Targets mentioned anywhere in the given texts, in the order of the target list. */
  mentionedTargets(...texts: string[]): ForgetTarget[];
  /**
   * Characters a streaming scanner that holds back a fixed amount must keep so a term split across
   * chunks is still caught: no match, with the text that decides it, is longer. (The fast index's
   * `settle` tells, for a given text, exactly how much of it is final, usually all but a few characters.)
   */
  readonly holdBack: number;
  /**
   * For a text that may still continue: the offset before which `find`'s matches are final whatever
   * follows. Everything after it could still become part of a match. Lets a streaming scanner hold back
   * only that instead of `holdBack` characters. Optional (the reference index does not have it).
   */
  stableEnd?(text: string): number;
  byId(id: string): ForgetTarget | undefined;
}

/** A span of the output text that replaced a mention of a target. */
export interface Redaction {
  readonly targetId: string;
  readonly targetName: string;
  /** Span of the marker in the redacted text. */
  readonly start: number;
  readonly end: number;
  /** Why this span was redacted, in words a person reads (never the removed text). */
  readonly reason: string;
  /**
   * Which step acted: the deterministic guard, the agents' rewrite, or the deterministic meaning check
   * (a whole sentence about the target removed before it was shown).
   */
  readonly by: 'guard' | 'agents' | 'meaning';
  readonly kind?: MatchKind;
}
