import { isCommonWord } from '../text';
import { isCaseSensitive, termsOf, type ForgetTarget } from './target';

/**
 * The target's names and aliases that are ordinary English words ("Will", "Mark", "Max") and still match
 * in any case, so every "will" in every answer would be redacted. Front ends warn about them and offer
 * `caseSensitive`. Multi-word terms are never ordinary words: "Will Turner" is not said by chance.
 */
export function commonWordTerms(target: ForgetTarget): string[] {
  return termsOf(target).filter((term) => {
    const word = term.normalize('NFKC').trim();
    return !/\s/.test(word) && isCommonWord(word) && !isCaseSensitive(target, term);
  });
}
