export * from './relevance';
export { buildKeywordIndex, backgroundIdf, KEYWORD_THRESHOLD } from './keywordIndex';
export { foldPlural } from './tokenize';
export { DEFAULT_EMBEDDING_MODEL, embeddingProfile, prepareVector } from './embeddingProfiles';
export { FileEmbeddingCache, MemoryEmbeddingCache, type EmbeddingCache } from './embeddingCache';
export { TargetEmbeddings, NEUTRAL_PROBES } from './targetEmbeddings';
export { explainQuestion } from './explainQuestion';
