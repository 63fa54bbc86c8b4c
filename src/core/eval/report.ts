import { redactMatches, type TargetIndex } from '../guard';
import type { AuditPolicy } from '../relevance';
import { metricsByKind, type KindMetrics, type SystemKey, type SystemMetrics } from './metrics';
import type { EvalRun } from './runner';
import type { AnswerRecord, EvalDataset, QuestionRecord } from './types';

export interface EvalReport {
  readonly format: 'unlearn-eval-report/1';
  readonly model: string;
  readonly host: string;
  readonly dataset: {
    readonly source: string;
    readonly seed?: number;
    readonly questions: number;
    readonly forget: number;
    readonly retain: number;
    readonly targets: number;
  };
  readonly startedAt: string;
  readonly finishedAt: string;
  /** False when the run was cancelled or stopped by an error: the numbers cover `answered` questions only. */
  readonly complete: boolean;
  readonly stoppedBy?: string;
  readonly answered: number;
  readonly judge: boolean;
  /** Set when the pipeline ran once per audit policy (`metrics[].policies`, `questions[].policies`). */
  readonly auditPolicies?: readonly AuditPolicy[];
  readonly metrics: readonly KindMetrics[];
  readonly questions: readonly QuestionRecord[];
  /** Set by `maskPlainAnswers`: the plain model's answers show `[redacted: …]` where they named a target. */
  readonly plainAnswersMasked?: true;
}

export function buildReport(input: {
  model: string;
  host: string;
  dataset: EvalDataset;
  run: EvalRun;
  judge: boolean;
  auditPolicies?: readonly AuditPolicy[];
}): EvalReport {
  const { dataset, run } = input;
  const stoppedBy = run.stopped
    ? run.stopped.reason === 'interrupted'
      ? 'interrupted'
      : `error: ${run.stopped.error instanceof Error ? run.stopped.error.message : String(run.stopped.error)}`
    : undefined;
  return {
    format: 'unlearn-eval-report/1',
    model: input.model,
    host: input.host,
    dataset: {
      source: dataset.source,
      ...(dataset.seed !== undefined ? { seed: dataset.seed } : {}),
      questions: dataset.questions.length,
      forget: dataset.questions.filter((q) => q.split === 'forget').length,
      retain: dataset.questions.filter((q) => q.split === 'retain').length,
      targets: dataset.targets.length,
    },
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    complete: !run.stopped && run.records.length === run.total,
    ...(stoppedBy ? { stoppedBy } : {}),
    answered: run.records.length,
    judge: input.judge,
    ...(input.auditPolicies?.length ? { auditPolicies: [...input.auditPolicies] } : {}),
    metrics: metricsByKind(run.records),
    questions: run.records,
  };
}

/**
 * The report with every mention of a target in the plain model's answers replaced by the guard's
 * `[redacted: …]` marker, for a viewer that promises never to show removed text (the extension, unless
 * `unlearn.preview.showOriginal` is on). The metrics were computed from the raw answers and stay as they
 * are; only the text shown changes. What the guard cannot see (base64, a short name written backwards)
 * stays, as it does in the pipeline's own output.
 */
export function maskPlainAnswers(report: EvalReport, index: TargetIndex): EvalReport {
  const mask = (text: string) => redactMatches(text, index.find(text), index).text;
  return {
    ...report,
    plainAnswersMasked: true,
    questions: report.questions.map((q) => ({ ...q, plain: { ...q.plain, answer: mask(q.plain.answer) } })),
  };
}

/** One system of a report, as the table and the page show it. */
export interface ReportSystem {
  readonly key: SystemKey;
  /** Short, for table headers ("plain", "Unlearn", "named"). */
  readonly short: string;
  /** In full, for legends ("Plain model (no unlearning)", "Unlearn pipeline, audit policy: named"). */
  readonly label: string;
  readonly metrics: (m: KindMetrics) => SystemMetrics | undefined;
  readonly answer: (r: QuestionRecord) => AnswerRecord | undefined;
}

/** The plain model, then the pipeline: once, or once per audit policy. */
export function reportSystems(report: Pick<EvalReport, 'auditPolicies'>): ReportSystem[] {
  const plain: ReportSystem = {
    key: 'plain',
    short: 'plain',
    label: 'Plain model (no unlearning)',
    metrics: (m) => m.plain,
    answer: (r) => r.plain,
  };
  if (!report.auditPolicies?.length)
    return [
      plain,
      { key: 'unlearn', short: 'Unlearn', label: 'Unlearn pipeline (same model)', metrics: (m) => m.unlearn, answer: (r) => r.unlearn },
    ];
  return [
    plain,
    ...report.auditPolicies.map((policy): ReportSystem => ({
      key: { policy },
      short: policy,
      label: `Unlearn pipeline, audit policy: ${policy}`,
      metrics: (m) => m.policies?.[policy],
      answer: (r) => r.policies?.[policy],
    })),
  ];
}
