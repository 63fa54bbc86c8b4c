/** The shapes of calibration: the labelled set, measured rates, fitted thresholds and the report. */
import type { ForgetTarget } from '../targets';

/** One labelled question: `subject` is the target it touches; a negative touches none. */
export interface CalibrationQuestion {
  readonly question: string;
  readonly subject?: string;
  /** For a negative: coding, general or near-miss. */
  readonly negative?: string;
  /** Where it came from: the shipped set, or a target's own sample question (held out while scored). */
  readonly source?: 'set' | 'examples';
}

export interface CalibrationSet {
  readonly targets: readonly ForgetTarget[];
  readonly questions: readonly CalibrationQuestion[];
}

/** Recall on positives and false-shortlist rate on negatives. */
export interface Rates {
  readonly recall: number;
  readonly falseRate: number;
}

/** The thresholds of the meaning signal that calibration chooses. */
export interface MeaningThresholds {
  readonly floor: number;
  readonly margin: number;
  readonly relativeToBest: number;
  /** How far above a target's threshold the sure band starts. */
  readonly sure: number;
  /** Standard deviations beyond the expected largest noise draw a hit must stand out (see OUTLIER_SLACK). */
  readonly outlierSlack: number;
}

export interface CalibrationMeasure {
  readonly thresholds: MeaningThresholds;
  readonly keyword: Rates;
  readonly meaning: Rates;
  /** Names, keywords and meaning together: what a request gets. */
  readonly together: Rates;
  /** The sure band alone: recall of binding evidence, and negatives bound by mistake. */
  readonly sure: Rates;
}

/** Scores behind the report's histograms: one number per question. */
export interface CalibrationScores {
  /** Positive: similarity to its subject's best row; negative: the best over all targets. */
  readonly positiveSimilarity: readonly number[];
  readonly negativeSimilarity: readonly number[];
  /** The same, as similarity minus the row's unrelated level (probe or centroid): where the margin applies. */
  readonly positiveOverBase: readonly number[];
  readonly negativeOverBase: readonly number[];
  readonly positiveKeyword: readonly number[];
  readonly negativeKeyword: readonly number[];
}

export interface CalibrationResult {
  readonly model: string;
  readonly family: string;
  readonly dims: number;
  readonly space: string;
  readonly questions: number;
  readonly positives: number;
  readonly negatives: number;
  readonly subjects: number;
  /** Positives that came from the targets' own sample questions. */
  readonly fromExamples: number;
  readonly recallGoal: number;
  readonly sureFalseGoal: number;
  readonly keywordThreshold: number;
  readonly keywordSure: number;
  readonly before: CalibrationMeasure;
  readonly after: CalibrationMeasure;
  /** Whether the fitted thresholds reach the recall goal (if not, the best recall found). */
  readonly goalReached: boolean;
  readonly scores: CalibrationScores;
  /** Per negative kind, false-shortlist rate after fitting. */
  readonly falseByKind: Readonly<Record<string, number>>;
  /** Positives missed after fitting (for the report), at most 40. */
  readonly missed: readonly { readonly subject: string; readonly question: string; readonly fromExamples?: true }[];
  /** Negatives shortlisted after fitting, with the target they hit, at most 40. */
  readonly falseHits: readonly { readonly question: string; readonly target: string; readonly kind: string; readonly userTarget?: true }[];
  readonly fittedAt: string;
}
