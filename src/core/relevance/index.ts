export * from './relevance';
export { buildKeywordIndex, backgroundIdf, KEYWORD_THRESHOLD, KEYWORD_SURE } from './keywordIndex';
export { foldPlural, keywordTokens } from './tokenize';
export { DEFAULT_EMBEDDING_MODEL, embeddingProfile, prepareVector } from './embeddingProfiles';
export { FileEmbeddingCache, MemoryEmbeddingCache, type EmbeddingCache } from './embeddingCache';
export { TargetEmbeddings, NEUTRAL_PROBES, SURE_MARGINS } from './targetEmbeddings';
export { explainQuestion } from './explainQuestion';
export {
  MeaningCheck,
  splitSentences,
  completeUpTo,
  sentenceText,
  applySentenceHits,
  QUESTION_WEIGHT,
  REFUSE_SHARE,
  type SentenceSpan,
  type SentenceHit,
  type Checked,
} from './meaningCheck';
export { encodingRequest, longUnreadableRun, type EncodingRequest } from './encodingRequest';
