/** Flags on folded characters and the span limits every matcher and stream shares. */

/** Flags on a compact character. The first four describe the gap before it, the others the character. */
export const F_SEP = 1; // a separator run (space, punctuation) lies between it and the previous compact char
export const F_IGN = 2; // an invisible character (zero-width, control, escape sequence) lies in that gap
export const F_CONF = 4; // came from a look-alike letter of another script or a compatibility form
export const F_LEET = 8; // a digit or symbol that may stand for a letter
export const F_MASK = 16; // a mask character (* _ •) that stands for any one letter
export const F_SYMBOL = 32; // not a letter or digit (leet symbol or mask): also counts as a word boundary
export const F_UPPER = 64; // the original character is an upper-case letter
export const F_LOWER = 128; // the original character is a lower-case letter
export const F_RLO = 256; // inside a right-to-left override (U+202E): displayed in reverse order
export const F_MARKUP = 512; // the gap holds a markdown delimiter that is a separator here (~ or `)
export const F_PLAIN_SEP = 1024; // the gap holds a separator other than a markdown delimiter
export const F_TURNED = 2048; // a turned (upside-down) letter: the text may be written upside down
/** Flags that describe the gap before a character rather than the character. */
export const GAP_FLAGS = F_SEP | F_IGN | F_MARKUP | F_PLAIN_SEP;

/** Skeleton code of mask characters; never part of a term, so the automaton never matches across it. */
export const MASK_SKELETON = 0x2a; // '*'

/**
 * Average stretch of original text (UTF-16 units) one compact character may take inside a match: a
 * match of n letters covers at most n × MAX_CHAR_SPAN units. This bounds how far a disguise may stretch
 * a name, and so how much a stream must hold back.
 */
export const MAX_CHAR_SPAN = 9;
/**
 * Longest distance between the starts of two neighbouring letters of a match (a letter, its marks, and
 * the separators, invisible characters or escape sequences before the next letter). A longer gap is a
 * word boundary.
 */
export const GAP_MAX = 24;
/** Longest encoded sequence decoded to one character (`&#x1F600;`, `%F0%9F%98%80`). */
export const SEQ_MAX = 12;
/** Longest ANSI escape sequence recognised (longer ones are not escape sequences). */
export const ESC_MAX = 24;
