export * from './relevance';
export { buildKeywordIndex, backgroundIdf, KEYWORD_THRESHOLD, type KeywordHit, type KeywordIndex } from './keywordIndex';
export { keywordTokens, foldPlural, contentStems, STOP_WORDS } from './tokenize';
export {
  DEFAULT_EMBEDDING_MODEL,
  embeddingProfile,
  prepareVector,
  parseFittedThresholds,
  withFitted,
  type EmbeddingProfile,
  type FittedThresholds,
} from './embeddingProfiles';
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
  calibrate,
  calibrationSummary,
  fittedThresholds,
  parseCalibrationQuestions,
  saveCalibration,
  withUserTargets,
  DEFAULT_RECALL_GOAL,
  SURE_FALSE_GOAL,
  type CalibrationQuestion,
  type CalibrationResult,
  type CalibrationSet,
  type CalibrationMeasure,
  type MeaningThresholds,
  type Rates,
} from './calibrate';
export { calibrationHtml } from './calibrationHtml';
export { loadCalibrationSet } from './calibrationSet';
