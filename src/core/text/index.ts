export { isCommonWord, wordRank, perMillion } from './wordFrequency';
export { stripControls, ControlStripper, sanitizeUserText, isBidiFormatChar, isControl } from './controls';
