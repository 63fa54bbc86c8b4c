export * from './relevance';
export { buildKeywordIndex, backgroundIdf, KEYWORD_THRESHOLD } from './keywordIndex';
export { foldPlural, keywordTokens, contentStems } from './tokenize';
export { DEFAULT_EMBEDDING_MODEL, embeddingProfile, prepareVector } from './embeddingProfiles';
export { FileEmbeddingCache, MemoryEmbeddingCache, type EmbeddingCache } from './embeddingCache';
export { TargetEmbeddings, NEUTRAL_PROBES } from './targetEmbeddings';
export { explainQuestion } from './explainQuestion';
export {
  MeaningCheck,
  splitSentences,
  completeUpTo,
  applySentenceHits,
  REFUSE_SHARE,
  type SentenceSpan,
  type SentenceHit,
} from './meaningCheck';
export {
  calibrate,
  calibrationSummary,
  fittedThresholds,
  parseCalibrationQuestions,
  saveCalibration,
  withUserTargets,
  DEFAULT_RECALL_GOAL,
  type CalibrationQuestion,
  type CalibrationResult,
  type CalibrationSet,
  type CalibrationMeasure,
} from './calibrate';
export { calibrationHtml } from './calibrationHtml';
export { loadCalibrationSet } from './calibrationSet';
export { encodingRequest, longUnreadableRun, type EncodingRequest } from './encodingRequest';
