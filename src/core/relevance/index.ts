export * from './relevance';
export { buildKeywordIndex, backgroundIdf, KEYWORD_THRESHOLD, KEYWORD_SURE, type KeywordHit, type KeywordIndex } from './keywordIndex';
export { keywordTokens, foldPlural } from './tokenize';
export { DEFAULT_EMBEDDING_MODEL, embeddingProfile, prepareVector, type EmbeddingProfile } from './embeddingProfiles';
export { embeddingKey, FileEmbeddingCache, MemoryEmbeddingCache, type EmbeddingCache } from './embeddingCache';
export {
  TargetEmbeddings,
  NEUTRAL_PROBES,
  MAX_EXAMPLE_ROWS,
  EMBED_BATCH,
  SURE_MARGINS,
  documentText,
  spaceOf,
  type SemanticHit,
  type EmbeddingBuildProgress,
} from './targetEmbeddings';
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
