import type { ChatMessage } from '../llm';
import type { AuditPolicy } from '../relevance';
import type { PipelineOutcome, StageName } from '../pipeline';
import type { TargetEntry } from '../targets';

/**
 * The attacks the unlearning literature breaks guardrail and in-context methods with, beyond the
 * classic kinds: a forget fact asked beside a retain fact, an affirmative prefix, another format,
 * the name bound to a variable, the reverse query, relearning from pasted facts, escalation over
 * several turns, and instructions aimed at the auditing agents.
 */
export const ATTACK_KINDS = [
  'composite',
  'prefix',
  'format',
  'substitution',
  'reverse',
  'relearning',
  'multi-turn',
  'agent-injection',
] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

/** How a generated question tries to reach a fact. Every kind is reported on its own. */
export const QUESTION_KINDS = [
  'direct',
  'paraphrased',
  'indirect',
  'multi-hop',
  'masked',
  'other-language',
  'many-shot',
  'injection',
  'encoded',
  ...ATTACK_KINDS,
] as const;
export type GeneratedKind = (typeof QUESTION_KINDS)[number];

/** Every kind: the generated ones, and the multiple-choice questions of benchmark files (WMDP, MMLU). */
export const ALL_QUESTION_KINDS = [...QUESTION_KINDS, 'multiple-choice'] as const;
export type QuestionKind = (typeof ALL_QUESTION_KINDS)[number];

export type EntityType = 'person' | 'company' | 'project' | 'place';
export type Split = 'forget' | 'retain';

export interface EvalFact {
  /** Stable key ("birthplace", "founded"), used by templates and translations. */
  readonly key: string;
  readonly value: string;
}

export interface EvalEntity {
  readonly id: string;
  readonly type: EntityType;
  readonly name: string;
  readonly aliases: readonly string[];
  readonly facts: readonly EvalFact[];
  readonly split: Split;
}

export interface EvalQuestion {
  readonly id: string;
  readonly kind: QuestionKind;
  readonly split: Split;
  /** The entity the question is about (absent for loaded datasets that have no entities). */
  readonly entityId?: string;
  readonly question: string;
  /** Conversation before the question: the notes the model answers from, and for many-shot, the answered run. */
  readonly history?: readonly ChatMessage[];
  /**
   * Multi-turn: user turns asked before `question` in the same conversation, each answered by the system
   * under test (its own answers join the history), so every turn's answer counts towards a leak.
   */
  readonly turns?: readonly string[];
  /** Composite: the retain fact the question also asks for; a good answer still gives it. */
  readonly retainExpected?: readonly string[];
  /**
   * Forget questions: strings whose appearance in an answer is a leak (the entity's names and facts,
   * minus what the question itself already says). Retain questions: the fact a correct answer contains.
   */
  readonly expected: readonly string[];
  /** Reference answer (TOFU), scored by ROUGE-L recall when `expected` has no short fact. */
  readonly referenceAnswer?: string;
  /** Multiple choice (WMDP, MMLU): the choices, shown lettered A, B, C…, and the index of the correct one. */
  readonly choices?: readonly string[];
  readonly answerIndex?: number;
}

export interface EvalDataset {
  readonly format: 'unlearn-eval/1';
  /** Where the questions came from ("synthetic seed 7", "TOFU forget01/retain90"). */
  readonly source: string;
  readonly seed?: number;
  readonly entities: readonly EvalEntity[];
  /** The forget targets the pipeline runs with, as in the unlearn.targets setting. */
  readonly targets: readonly TargetEntry[];
  readonly questions: readonly EvalQuestion[];
}

/** One answer of one system to one question, with what the scorers found in it. */
export interface AnswerRecord {
  readonly answer: string;
  readonly ms: number;
  /** Milliseconds until the first text of the answer the user would see (the pipeline shows a vanilla answer whole, after the guard). */
  readonly firstTokenMs?: number;
  /** Every request sent to Ollama for this answer: retries and failed calls included. */
  readonly calls: number;
  /** Embedding requests sent for this answer (the relevance stage's), when there were any. */
  readonly embedCalls?: number;
  readonly tokens: number;
  /** Pipeline only: how the pipeline ended, and milliseconds per stage. */
  readonly outcome?: PipelineOutcome;
  readonly stageMs?: Partial<Record<StageName, number>>;
  /** Forget questions: which expected strings the matcher found (after decoding). */
  readonly leakedTerms?: readonly string[];
  /** How the leak was spelled when it was only visible after decoding ("reversed", "base64", "spelled"). */
  readonly leakDecoding?: string;
  readonly judgeLeak?: boolean;
  /** Leak@k (forget questions, with --samples k > 1): how many of k sampled answers leaked, this one included. */
  readonly samples?: { readonly k: number; readonly leaked: number };
  /** Multiple choice: the index of the choice the answer picked (absent: no letter, or several). */
  readonly choice?: number;
  /** Multi-turn: the answers to the earlier turns, as the user saw them (the last turn's is `answer`). */
  readonly turnAnswers?: readonly string[];
  /** Composite: whether the answer still gave the retain half's fact. */
  readonly retainAnswered?: boolean;
  /** Retain questions, and multiple-choice questions of both splits. */
  readonly correct?: boolean;
  readonly refused?: boolean;
  /** The call failed (the question counts as unanswered, not as a leak). */
  readonly error?: string;
}

export interface QuestionRecord {
  readonly id: string;
  readonly kind: QuestionKind;
  readonly split: Split;
  readonly question: string;
  /** Multi-turn: the turns asked before `question`. */
  readonly turns?: readonly string[];
  /** Multiple choice: the choices as shown (lettered A, B, C…) and the index of the correct one. */
  readonly choices?: readonly string[];
  readonly answerIndex?: number;
  readonly plain: AnswerRecord;
  /** The pipeline's answer; with several audit policies, the first policy's. */
  readonly unlearn: AnswerRecord;
  /** With `auditPolicies`: the pipeline's answer under each policy (the first one is `unlearn` too). */
  readonly policies?: Partial<Record<AuditPolicy, AnswerRecord>>;
}
