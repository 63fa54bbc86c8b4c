export * from './types';
export {
  generateDataset,
  generateForTargets,
  DEFAULT_GENERATE_OPTIONS,
  maskName,
  leakTermsOf,
  type GenerateOptions,
  type TargetsDatasetOptions,
} from './generator';
export { parseTofuFile, tofuDataset, TofuFormatError, type TofuRecord, type TofuInput } from './tofu';
export { findLeaks, containsFact, decodings, looksLikeRefusal, rougeLRecall, stripRedactions } from './detect';
export { runEvaluation, promptOf, type EvalRun, type EvalRunOptions } from './runner';
export {
  groupMetrics,
  metricsByKind,
  systemMetrics,
  type ChoiceAccuracy,
  type KindMetrics,
  type SystemKey,
  type SystemMetrics,
} from './metrics';
export { buildReport, maskPlainAnswers, reportSystems, type EvalReport, type ReportSystem } from './report';
export { renderTable } from './reportTable';
export { renderHtml, REPORT_CSP } from './reportHtml';
export { parseDatasetJson, DatasetFormatError } from './datasetFile';
export { parseJsonValues } from './jsonValues';
export { attackQuestions, type AttackInput } from './qaAttacks';
export { AGENT_INJECTIONS, FORMATS, PREFIXES, SUBSTITUTIONS } from './generator';
export { parseQaFile, qaDataset, isShortAnswer, type QaRecord, type QaInput } from './qaFile';
export { CHOICE_LETTERS, chanceOf, formatChoiceQuestion, parseChoice } from './multipleChoice';
