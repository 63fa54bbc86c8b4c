export { isCommonWord, wordRank, perMillion } from './wordFrequency';
export { stripControls, ControlStripper, sanitizeUserText, isBidiFormatChar, isControl } from './controls';
export { splitSentences, joinSentences, type Sentence, type Sentences } from './sentences';
export { defuseTemplateTokens } from './templateTokens';
