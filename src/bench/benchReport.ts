/** What every timed bench section reports: its rows, the goals checked on them, and its real run time. */
export interface BenchReport<Row, Goal> {
  /** Tokens of each plain answer the section's scripted model writes. */
  readonly answerTokens: number;
  readonly rows: readonly Row[];
  readonly goals: readonly Goal[];
  readonly realSeconds: number;
}
