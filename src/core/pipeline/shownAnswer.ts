import type { ForgetTarget } from '../targets';
import { MARKER, withoutMarkerNames, type Redaction } from '../guard';
import {
  applySentenceHits,
  longUnreadableRun,
  MeaningCheck,
  REFUSE_SHARE,
  type AuditPolicy,
  type QueryVectors,
  type SentenceHit,
} from '../relevance';
import { REFUSAL } from './runRecord';
import { SentenceGate, type SentenceJudge } from './sentenceGate';
import type { PipelineResult } from './types';
import type { StreamRun } from './vanillaStream';

/**
 * The output step: the final answer is held back and read sentence by sentence by the meaning check
 * before it is shown. What it needs of the request's run, beside what the vanilla stream needs.
 */
export interface ShownRun extends StreamRun {
  readonly report: { readonly shortlist: readonly { readonly target: ForgetTarget; readonly binding?: boolean }[] } | undefined;
  /** Targets detection found touched, once it ran. */
  readonly detected: ReadonlySet<string> | undefined;
  readonly policy: AuditPolicy;
  /** The start of the vanilla answer already streamed to the user. */
  readonly prefix: string;
  /** Set when the question asks for an encoding or a letter game (see pipeline.ts). */
  readonly encodingAsk: unknown;
  /** While set, the run's answer text goes through this gate instead of straight to the user. */
  gate: SentenceGate | undefined;
  /** Time the meaning check spent scoring, not waiting for the embedding model (for the bench). */
  meaningMs: number;
  /** The result with the stages run after it was built (the meaning check) counted in. */
  retotal(r: PipelineResult): PipelineResult;
}

/**
 * Runs `work` (erasure, or detection that let the answer stand) with its answer held back, then the
 * meaning check on the final text against the shortlisted targets, and only then shows it. The text
 * erasure streamed is not shown as it arrives: a rewrite that repeats the draft and a critic that
 * scores it 5 of 5 (one injectable model) must not decide what the user sees.
 */
export async function showChecked(
  run: ShownRun,
  asked: Promise<QueryVectors> | undefined,
  work: () => Promise<PipelineResult>,
): Promise<PipelineResult> {
  const targets = run.report?.shortlist.map((e) => e.target) ?? [];
  const prefix = run.prefix;
  // `named` reads names only, by choice: it has no keyword or meaning signal to check with.
  const checking = run.policy !== 'named' && targets.length > 0;
  if (!checking && !prefix) return work();
  const names = new Map(targets.map((t) => [t.id, t.name]));
  const nameOf = (id: string) => names.get(id) ?? id;
  const meaning: SentenceJudge = checking ? meaningJudge(run, asked, targets) : (batch) => Promise.resolve(batch.map(() => undefined));
  const judge: SentenceJudge = run.encodingAsk && checking ? unreadableJudge(meaning, targets[0]!.id) : meaning;
  // A streamed start of the draft is on the screen: what follows is shown after it, not again.
  const gate = new SentenceGate(judge, (text) => run.input.onEvent?.({ type: 'answer-chunk', text }), 'replace', nameOf, prefix);
  run.gate = gate;
  let result: PipelineResult;
  try {
    result = await work();
  } finally {
    run.gate = undefined;
  }
  const { spans, hits, emitted } = await gate.end();
  if (!hits.some(Boolean) && !prefix) return run.retotal(result);
  // What was shown is the streamed start and the gate's text: the result's answer with the judged
  // sentences replaced, less what repeated the start. The markers keep their order, so the
  // redactions are placed by finding them in the text shown.
  const applied = applySentenceHits(gate.received, result.redactions, spans, hits, nameOf);
  const answer = prefix + emitted;
  const touched = [...result.touchedTargets];
  for (const h of hits) if (h && !touched.some((t) => t.id === h.targetId)) touched.push({ id: h.targetId, name: nameOf(h.targetId) });
  const checked = { ...result, answer, redactions: placeMarkers(answer, applied.redactions), touchedTargets: touched };
  if (applied.removedShare > REFUSE_SHARE && !emitted.endsWith(REFUSAL)) {
    // Most of the answer was about a target: what is left would mislead, so the refusal follows as
    // its own paragraph (the markers already shown name no fact), and the result says so.
    run.input.onEvent?.({ type: 'answer-chunk', text: `\n\n${REFUSAL}` });
    return run.retotal({
      ...checked,
      answer: `${answer}\n\n${REFUSAL}`,
      outcome: 'refused',
      refusalReason: `the meaning check found ${applied.removed} of ${spans.length} sentences about a forget target`,
    });
  }
  return run.retotal(checked);
}

/**
 * The meaning check's judge for this request's shortlist: keywords at once, and meaning with one
 * embedding call per batch of sentences when an embedding model is in use.
 */
function meaningJudge(run: ShownRun, asked: Promise<QueryVectors> | undefined, targets: readonly ForgetTarget[]): SentenceJudge {
  const { question } = run.input;
  const recent = run.sent.slice(-1).map((m) => m.content);
  const model = run.input.options.embeddingModel;
  let check: Promise<MeaningCheck> | undefined;
  const prepare = async (): Promise<MeaningCheck> => {
    const index = model ? run.relevance.embeddingsFor(model) : undefined;
    const first = asked && index ? await asked : undefined;
    const questionVectors =
      first && 'vectors' in first ? first.vectors.filter((_, i) => first.parts[i] === 'question' || i === first.vectors.length - 1) : [];
    // Detection decides only the uncertain band: a target it cleared there (no binding evidence, not
    // `always`) is judged by its sentences alone, at the sure band. Binding targets never are.
    const binding = new Set(run.report?.shortlist.filter((e) => e.binding).map((e) => e.target.id));
    const cleared = (id: string) => run.policy !== 'always' && !binding.has(id) && run.detected !== undefined && !run.detected.has(id);
    return new MeaningCheck(
      run.relevance,
      targets,
      [question, ...recent],
      index && questionVectors.length ? { index, questionVectors } : undefined,
      cleared,
    );
  };
  return async (shown) => {
    const meaning = await (check ??= prepare());
    const sentences = shown.map((s) => withoutMarkerNames(s));
    let vectors: readonly Float32Array[] | undefined;
    if (meaning.usesMeaning) {
      const got = await run.embed(sentences.map((text) => ({ part: 'answer' as const, text })));
      const v = got ? await got : undefined;
      // A sentence with no words to embed is read by keywords alone; so is a batch the model failed.
      if (v && 'vectors' in v && v.vectors.length === sentences.length) vectors = v.vectors;
    }
    const started = performance.now();
    const hits = meaning.judge(sentences, vectors);
    run.meaningMs += performance.now() - started;
    return hits;
  };
}

/** Redactions placed on the markers of the text shown, in order (the last ones when the text holds fewer). */
function placeMarkers(text: string, redactions: readonly Redaction[]): Redaction[] {
  const found = [...text.matchAll(MARKER)];
  if (found.length === 0) return [];
  const sorted = [...redactions].sort((a, b) => a.start - b.start).slice(-found.length);
  return found.slice(-sorted.length).map((m, i) => ({ ...sorted[i]!, start: m.index, end: m.index + m[0].length }));
}

/**
 * The meaning judge, and for an encoding request, a sentence that still holds a long run the guard
 * cannot read as words counts as about the most relevant shortlisted target: the disguise asked for may
 * be one no reading knows.
 */
function unreadableJudge(meaning: SentenceJudge, targetId: string): SentenceJudge {
  return async (sentences) => {
    const hits = await meaning(sentences);
    return sentences.map(
      (s, i): SentenceHit | undefined =>
        hits[i] ?? (longUnreadableRun(s) ? { targetId, kind: 'unreadable', score: 1, threshold: 1 } : undefined),
    );
  };
}
