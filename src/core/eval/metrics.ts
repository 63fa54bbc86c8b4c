import type { StageName } from '../pipeline/types';
import { QUESTION_KINDS, type AnswerRecord, type QuestionKind, type QuestionRecord, type SystemName } from './types';

/** Numbers for one system over one group of questions. A rate is null when its group is empty. */
export interface SystemMetrics {
  /** Questions answered without an error. */
  readonly requests: number;
  readonly errors: number;
  readonly forget: {
    readonly n: number;
    readonly leaked: number;
    readonly leakRate: number | null;
    readonly judged: number;
    readonly judgeLeaked: number;
    readonly judgeLeakRate: number | null;
    readonly leakAtK?: { readonly k: number; readonly n: number; readonly leaked: number; readonly rate: number | null };
  };
  readonly retain: {
    readonly n: number;
    readonly correct: number;
    readonly accuracy: number | null;
    readonly refused: number;
    readonly refusalRate: number | null;
  };
  readonly meanMs: number | null;
  readonly callsPerRequest: number | null;
  readonly tokensPerRequest: number | null;
  /** Mean milliseconds per pipeline stage over all answered requests (0 for a request that skipped it), so the stages add up to the mean latency. */
  readonly stageMs: Partial<Record<StageName, number>>;
}

export interface KindMetrics {
  readonly kind: QuestionKind | 'all';
  readonly plain: SystemMetrics;
  readonly unlearn: SystemMetrics;
}

const rate = (part: number, whole: number): number | null => (whole ? part / whole : null);
const mean = (values: readonly number[]): number | null => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

export function systemMetrics(records: readonly QuestionRecord[], system: SystemName): SystemMetrics {
  const answered = records.filter((r) => !r[system].error);
  const of = (r: QuestionRecord): AnswerRecord => r[system];
  const forget = answered.filter((r) => r.split === 'forget');
  const retain = answered.filter((r) => r.split === 'retain');
  const leaked = forget.filter((r) => (of(r).leakedTerms?.length ?? 0) > 0).length;
  const judged = forget.filter((r) => of(r).judgeLeak !== undefined);
  const judgeLeaked = judged.filter((r) => of(r).judgeLeak === true).length;
  const sampled = forget.filter((r) => of(r).samples);
  const k = sampled.length ? Math.max(...sampled.map((r) => of(r).samples!.k)) : 0;
  const leakedAtK = sampled.filter((r) => of(r).samples!.leaked > 0).length;
  const correct = retain.filter((r) => of(r).correct).length;
  const refused = retain.filter((r) => of(r).refused).length;
  const stageMs: Partial<Record<StageName, number>> = {};
  const stageNames = new Set(answered.flatMap((r) => Object.keys(of(r).stageMs ?? {}) as StageName[]));
  for (const stage of stageNames) stageMs[stage] = mean(answered.map((r) => of(r).stageMs?.[stage] ?? 0)) ?? 0;
  return {
    requests: answered.length,
    errors: records.length - answered.length,
    forget: {
      n: forget.length,
      leaked,
      leakRate: rate(leaked, forget.length),
      judged: judged.length,
      judgeLeaked,
      judgeLeakRate: rate(judgeLeaked, judged.length),
      ...(k ? { leakAtK: { k, n: sampled.length, leaked: leakedAtK, rate: rate(leakedAtK, sampled.length) } } : {}),
    },
    retain: { n: retain.length, correct, accuracy: rate(correct, retain.length), refused, refusalRate: rate(refused, retain.length) },
    meanMs: mean(answered.map((r) => of(r).ms)),
    callsPerRequest: mean(answered.map((r) => of(r).calls)),
    tokensPerRequest: mean(answered.map((r) => of(r).tokens)),
    stageMs,
  };
}

/** One row per question kind present, then the row over all questions. */
export function metricsByKind(records: readonly QuestionRecord[]): KindMetrics[] {
  const rows: KindMetrics[] = [];
  for (const kind of QUESTION_KINDS) {
    const group = records.filter((r) => r.kind === kind);
    if (group.length) rows.push({ kind, plain: systemMetrics(group, 'plain'), unlearn: systemMetrics(group, 'unlearn') });
  }
  rows.push({ kind: 'all', plain: systemMetrics(records, 'plain'), unlearn: systemMetrics(records, 'unlearn') });
  return rows;
}
