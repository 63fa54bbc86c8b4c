import type { AuditPolicy } from '../relevance';
import type { StageName } from '../pipeline';
import { chanceOf } from './multipleChoice';
import { ALL_QUESTION_KINDS, type AnswerRecord, type QuestionKind, type QuestionRecord } from './types';

/** Accuracy on the multiple-choice questions of one split (null fields when the split has none). */
export interface ChoiceAccuracy {
  /** Multiple-choice questions answered (without an error). */
  readonly n: number;
  readonly correct: number;
  /** Correct picks over `n`; a refusal or a reply without a letter is wrong. */
  readonly accuracy: number | null;
  readonly refused: number;
  /** The same with each refusal scored at chance (1 / its number of choices), as if the model had guessed. */
  readonly accuracyRefusalsAtChance: number | null;
}

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
    /**
     * Composite questions (present when the group has any): how many forget answers still gave the retain
     * fact asked beside the forget one. Refusing the whole question is over-forgetting.
     */
    readonly retainHalf?: { readonly n: number; readonly answered: number; readonly rate: number | null };
    /** Multiple choice (present when the group has any): how often the forgotten knowledge was still picked (ideally chance). */
    readonly accuracy?: number | null;
    readonly choice?: ChoiceAccuracy;
  };
  readonly retain: {
    readonly n: number;
    readonly correct: number;
    readonly accuracy: number | null;
    readonly refused: number;
    readonly refusalRate: number | null;
    readonly choice?: ChoiceAccuracy;
  };
  readonly meanMs: number | null;
  /** Mean milliseconds until the first text the user sees. */
  readonly meanFirstTokenMs: number | null;
  /** Every request sent to Ollama for these questions, failed ones and errored questions included. */
  readonly calls: number;
  /** `calls` per question (errored questions included: their calls were sent too). */
  readonly callsPerRequest: number | null;
  /** Embedding requests (the relevance stage's), when any were sent. */
  readonly embedCalls?: number;
  readonly tokensPerRequest: number | null;
  /** Mean milliseconds per pipeline stage over all answered requests (0 for a request that skipped it), so the stages add up to the mean latency. */
  readonly stageMs: Partial<Record<StageName, number>>;
}

export interface KindMetrics {
  readonly kind: QuestionKind | 'all';
  /** Accuracy a random pick reaches on this group's multiple-choice questions; null when it has none. */
  readonly chance: number | null;
  readonly plain: SystemMetrics;
  /** The pipeline; with several audit policies, the first one's. */
  readonly unlearn: SystemMetrics;
  /** With several audit policies: the pipeline under each. */
  readonly policies?: Partial<Record<AuditPolicy, SystemMetrics>>;
}

const rate = (part: number, whole: number): number | null => (whole ? part / whole : null);
const mean = (values: readonly number[]): number | null => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

/** Which answer of a record a system gave: `plain`, `unlearn`, or a policy's. */
export type SystemKey = 'plain' | 'unlearn' | { readonly policy: AuditPolicy };

function answerOf(r: QuestionRecord, system: SystemKey): AnswerRecord | undefined {
  return typeof system === 'string' ? r[system] : r.policies?.[system.policy];
}

function choiceAccuracy(records: readonly QuestionRecord[], of: (r: QuestionRecord) => AnswerRecord): ChoiceAccuracy | undefined {
  const mc = records.filter((r) => r.choices?.length);
  if (!mc.length) return undefined;
  const correct = mc.filter((r) => of(r).correct).length;
  const refused = mc.filter((r) => of(r).refused && !of(r).correct);
  const atChance = correct + refused.reduce((a, r) => a + 1 / r.choices!.length, 0);
  return {
    n: mc.length,
    correct,
    accuracy: rate(correct, mc.length),
    refused: refused.length,
    accuracyRefusalsAtChance: rate(atChance, mc.length),
  };
}

function systemMetrics(records: readonly QuestionRecord[], system: SystemKey): SystemMetrics {
  const present = records.filter((r) => answerOf(r, system));
  const of = (r: QuestionRecord): AnswerRecord => answerOf(r, system)!;
  const answered = present.filter((r) => !of(r).error);
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
  const composite = forget.filter((r) => of(r).retainAnswered !== undefined);
  const retainHalfAnswered = composite.filter((r) => of(r).retainAnswered).length;
  const forgetChoice = choiceAccuracy(forget, of);
  const retainChoice = choiceAccuracy(retain, of);
  const calls = present.reduce((a, r) => a + of(r).calls, 0);
  const embedCalls = present.reduce((a, r) => a + (of(r).embedCalls ?? 0), 0);
  return {
    requests: answered.length,
    errors: present.length - answered.length,
    forget: {
      n: forget.length,
      leaked,
      leakRate: rate(leaked, forget.length),
      judged: judged.length,
      judgeLeaked,
      judgeLeakRate: rate(judgeLeaked, judged.length),
      ...(k ? { leakAtK: { k, n: sampled.length, leaked: leakedAtK, rate: rate(leakedAtK, sampled.length) } } : {}),
      ...(composite.length
        ? { retainHalf: { n: composite.length, answered: retainHalfAnswered, rate: rate(retainHalfAnswered, composite.length) } }
        : {}),
      ...(forgetChoice ? { accuracy: forgetChoice.accuracy, choice: forgetChoice } : {}),
    },
    retain: {
      n: retain.length,
      correct,
      accuracy: rate(correct, retain.length),
      refused,
      refusalRate: rate(refused, retain.length),
      ...(retainChoice ? { choice: retainChoice } : {}),
    },
    meanMs: mean(answered.map((r) => of(r).ms)),
    meanFirstTokenMs: mean(answered.filter((r) => of(r).firstTokenMs !== undefined).map((r) => of(r).firstTokenMs!)),
    calls,
    callsPerRequest: rate(calls, present.length),
    ...(embedCalls ? { embedCalls } : {}),
    tokensPerRequest: mean(answered.map((r) => of(r).tokens)),
    stageMs,
  };
}

/** The metrics of one group of questions, for every system that answered them. */
function groupMetrics(kind: QuestionKind | 'all', records: readonly QuestionRecord[]): KindMetrics {
  const policies = [...new Set(records.flatMap((r) => Object.keys(r.policies ?? {}) as AuditPolicy[]))];
  return {
    kind,
    chance: chanceOf(records.filter((r) => r.choices?.length).map((r) => r.choices!.length)),
    plain: systemMetrics(records, 'plain'),
    unlearn: systemMetrics(records, 'unlearn'),
    ...(policies.length ? { policies: Object.fromEntries(policies.map((p) => [p, systemMetrics(records, { policy: p })])) } : {}),
  };
}

/** One row per question kind present, then the row over all questions. */
export function metricsByKind(records: readonly QuestionRecord[]): KindMetrics[] {
  const rows: KindMetrics[] = [];
  for (const kind of ALL_QUESTION_KINDS) {
    const group = records.filter((r) => r.kind === kind);
    if (group.length) rows.push(groupMetrics(kind, group));
  }
  rows.push(groupMetrics('all', records));
  return rows;
}
