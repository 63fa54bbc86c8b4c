export * from './relevance';
export { buildKeywordIndex, backgroundIdf, KEYWORD_THRESHOLD, type KeywordHit, type KeywordIndex } from './keywordIndex';
export { keywordTokens, foldPlural } from './tokenize';
export { DEFAULT_EMBEDDING_MODEL, embeddingProfile, prepareVector, type EmbeddingProfile } from './embeddingProfiles';
export { embeddingKey, FileEmbeddingCache, MemoryEmbeddingCache, type EmbeddingCache } from './embeddingCache';
export {
  TargetEmbeddings,
  NEUTRAL_PROBES,
  MAX_EXAMPLE_ROWS,
  EMBED_BATCH,
  documentText,
  spaceOf,
  type SemanticHit,
  type EmbeddingBuildProgress,
} from './targetEmbeddings';
export { explainQuestion } from './explainQuestion';
export {
  encodingRequest,
  longUnreadableRun,
  ENCODING_ASKS,
  UNREADABLE_RUN_MIN,
  type EncodingAsk,
  type EncodingRequest,
  type UnreadableRun,
} from './encodingRequest';
