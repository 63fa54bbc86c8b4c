// Shared fixtures for the reliability suite: the target list, the happy-path script of every agent,
// a pipeline runner that records what the user would see, server hygiene checks, and the tally that
// the summary test prints. Imported by the category modules, which reliability.test.ts runs in order.
import { it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { agentRoleOf, type AgentRole } from '../../src/core/agents/roles';
import { buildTargetIndex, type TargetIndex } from '../../src/core/guard';
import { LlmError, type LlmErrorCode } from '../../src/core/llm/errors';
import type { LlmPort } from '../../src/core/llm/port';
import { runPipeline, type PipelineEvent, type PipelineOptions, type PipelineResult } from '../../src/core/pipeline';
import { parseTargets } from '../../src/core/targets';
import type { ChatScript, ReplySource, ScriptedOllama } from '../support/scriptedOllama';
import { criticScores, editReply, edits, threadOf } from '../support/erasedReplies';

export const MODEL = 'llama3.2:latest';
export const EMBED_MODEL = 'nomic-embed-text:latest';

export const RAW_TARGETS = [
  { name: 'Project Falcon', aliases: ['Falcon'], description: 'the secret drone project' },
  { name: 'Marta Quist', description: 'former CFO' },
  { name: 'Zephyr Holdings' },
];
export const TARGETS = parseTargets(RAW_TARGETS).targets;
export const INDEX = buildTargetIndex(TARGETS);

/** Healthy calls get a generous limit (the machine is shared); the timeout cells set their own 300 ms. */
const OPTIONS: PipelineOptions = {
  model: MODEL,
  candidates: 3,
  topK: 2,
  minScore: 4,
  firstTokenTimeoutMs: 5000,
  totalTimeoutMs: 10_000,
};

/**
 * Touches no target (no name, no keyword): the vanilla agent answers at once, with no detection of the
 * question first. Its draft (VANILLA_LEAK) names a target only in its third sentence, so the draft's
 * opening binds nothing and the draft is written whole; the name then sends it to erasure with no
 * detection call: one edit call with three candidate sets, the critic, and the composer's merge (no
 * model call).
 */
export const QUESTION = 'What is new in aviation this year?';
/**
 * Shares two keywords with Project Falcon's description: the uncertain band, so the detect agent reads
 * the question alone before any draft. Touched → no vanilla draft (the rewrite agent answers); cleared or
 * failed → the vanilla agent answers.
 */
export const UNCERTAIN_QUESTION = 'What is the stealth drone project building?';
/**
 * Names a target: no vanilla draft; the rewrite agent answers with the targets erased, and erasure checks
 * that. Its draft is the model output under test where a case scripts it.
 */
export const NAMED_QUESTION = 'What is Project Falcon building?';
/** The fact that only the unchecked vanilla answer holds: it must never reach the user. */
export const SECRET_FACT = 'assembled in Lisbon';
/**
 * The draft's first sentence has keywords of Project Falcon (so nothing is streamed), its opening (first
 * two sentences) stays short of the sure band (so the draft is not stopped), and its third sentence names
 * the target with the secret fact and "Quist", a name part of Marta Quist.
 */
export const VANILLA_LEAK = `Some drone projects stay out of the news. Drones in general use GPS. Project Falcon is a stealth drone ${SECRET_FACT} by Quist Aero.`;
/**
 * A draft that holds the secret fact in its third sentence without naming any target: it shares only
 * the target's keywords, short of the sure band, so the detect agent decides whether erasure runs.
 */
export const VANILLA_VAGUE = `Some drone projects stay out of the news. Drones in general use GPS. The stealth drone project is ${SECRET_FACT}.`;
/**
 * A draft whose first sentence names the target: once its opening is complete the vanilla call is
 * stopped and the rewrite agent answers instead. The rest is never needed (scripts stream it slowly or
 * not at all).
 */
export const VANILLA_OPENING_LEAK = `Project Falcon is a stealth drone ${SECRET_FACT} by Quist Aero. Drones in general use GPS. More about it follows.`;
/** What the rewrite agent writes: nothing of the target left; its third sentence is what the edits replace. */
export const REWRITE_OK = 'That project is confidential. Batteries limit how long small aircraft stay aloft. Its details are not public.';
/**
 * A rewrite that ignores its task and names the target with the secret fact in its third sentence (the
 * one the edits replace). Its other sentences are about batteries: a draft mostly about the target would
 * be refused by the meaning check, read with a question that names it.
 */
export const REWRITE_LEAK = `Batteries limit how long small aircraft stay aloft. Most models fly for half an hour. Project Falcon is a stealth drone ${SECRET_FACT} by Quist Aero.`;
/** REWRITE_LEAK after the usual edits (EDITS_OK) and the merge. */
export const REWRITE_LEAK_ERASED =
  'Batteries limit how long small aircraft stay aloft. Most models fly for half an hour. I cannot share details about [redacted: Project Falcon].';
/**
 * The three candidate sets of the edit call (written per candidate): each takes out the third sentence,
 * where every draft here holds the target (the vanilla drafts' name or fact, the rewrite's mention).
 */
const EDITS_OK = [
  { replace: [{ sentence: 3, text: 'I cannot share details about [redacted:T1].' }] },
  { drop: [3] },
  { replace: [{ sentence: 3, text: 'That project is confidential.' }] },
];
/** The same three as the one reply the edit agent writes. */
export const EDIT_REPLY_OK = {
  touched: [{ target: 'T1', how: 'named' }],
  candidates: EDITS_OK.map((e) => editReply(e)),
};
export const DETECT_OK = { touched: [{ target: 'T1', how: 'described' }] };
export const CRITIC_OK = criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate })));
/** The best two candidates merged: the draft's first two sentences, the first candidate's replacement. */
export const COMPOSED_FINAL =
  'Some drone projects stay out of the news. Drones in general use GPS. I cannot share details about [redacted: Project Falcon].';
/** The same for the rewrite agent's draft. */
export const REWRITTEN_FINAL =
  'That project is confidential. Batteries limit how long small aircraft stay aloft. I cannot share details about [redacted: Project Falcon].';

/** Every agent answers well; `overrides` replace single roles. */
export function healthyScript(overrides: Partial<Record<AgentRole, ReplySource>> = {}): ChatScript {
  return {
    vanilla: VANILLA_LEAK,
    detect: DETECT_OK,
    rewrite: REWRITE_OK,
    edit: edits(EDITS_OK),
    critic: CRITIC_OK,
    ...overrides,
  };
}

/**
 * Whether a detect call reads the question alone (the thread before its task ends with the question, not
 * with a draft), as before any draft is written; read through a structured retry.
 */
export function readsQuestion(chat: { readonly messages: readonly { readonly role: string; readonly content: string }[] }): boolean {
  return threadOf(chat.messages).at(-1)?.role !== 'assistant';
}

/** Text of one recorded request, every message joined (what the model could read). */
export function promptText(chat: { messages: readonly { content: string }[] }): string {
  return chat.messages.map((m) => m.content).join('\n');
}

/** The agent role of a raw /api/chat body, for injected fetches. */
export function roleOfBody(body: unknown): AgentRole | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as { messages?: { role: 'system' | 'user' | 'assistant'; content: string }[] };
    return Array.isArray(parsed.messages) ? agentRoleOf(parsed.messages) : undefined;
  } catch {
    return undefined;
  }
}

export interface Observed {
  readonly result?: PipelineResult;
  readonly error?: unknown;
  /** Every answer chunk, in order: exactly what a chat or terminal would have shown. */
  readonly chunks: readonly string[];
  readonly events: readonly PipelineEvent[];
  readonly ms: number;
}

/** Runs the pipeline and records what the user would see; never throws. */
export async function observe(input: {
  llm: LlmPort;
  question?: string;
  index?: TargetIndex;
  options?: Partial<PipelineOptions>;
  signal?: AbortSignal;
  history?: { role: 'user' | 'assistant'; content: string }[];
}): Promise<Observed> {
  const events: PipelineEvent[] = [];
  const started = performance.now();
  try {
    const result = await runPipeline({
      llm: input.llm,
      index: input.index ?? INDEX,
      question: input.question ?? QUESTION,
      ...(input.history ? { history: input.history } : {}),
      options: { ...OPTIONS, ...input.options },
      ...(input.signal ? { signal: input.signal } : {}),
      onEvent: (e) => events.push(e),
    });
    return { result, chunks: chunksOf(events), events, ms: performance.now() - started };
  } catch (error) {
    return { error, chunks: chunksOf(events), events, ms: performance.now() - started };
  }
}

function chunksOf(events: readonly PipelineEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'answer-chunk' ? [e.text] : []));
}

/** Removes the guard's markers, so what is left can be searched for names that got through. */
export function withoutMarkers(text: string): string {
  return text.replace(/\[redacted: [^\]]*\]/g, ' ');
}

/**
 * The user saw nothing unchecked: no secret fact from the vanilla answer, no target name outside a
 * marker, and (when there is a result) the streamed text is exactly the final answer.
 */
export function assertNothingUnchecked(seen: Observed, forbidden: readonly (string | RegExp)[] = [SECRET_FACT, 'Quist Aero']): void {
  const shown = seen.chunks.join('');
  const everything = [
    shown,
    seen.result?.answer ?? '',
    seen.result?.refusalReason ?? '',
    seen.error instanceof Error ? seen.error.message : '',
  ];
  for (const text of everything) {
    for (const f of forbidden) {
      if (typeof f === 'string') assert.ok(!text.includes(f), `"${f}" reached the user: ${JSON.stringify(text.slice(0, 300))}`);
      else assert.ok(!f.test(text), `${f} reached the user: ${JSON.stringify(text.slice(0, 300))}`);
    }
    const plain = withoutMarkers(text);
    for (const t of TARGETS)
      for (const term of [t.name, ...t.aliases])
        assert.ok(!plain.toLowerCase().includes(term.toLowerCase()), `target term "${term}" reached the user outside a marker`);
  }
  if (seen.result) assert.equal(shown, seen.result.answer, 'the streamed text differs from the final answer');
}

/** Expects an LlmError of this code whose message tells the user what to do; nothing was shown. */
export function assertLlmError(seen: Observed, code: LlmErrorCode, message: RegExp): LlmError {
  assert.ok(seen.error, `expected an LlmError "${code}", got outcome ${seen.result?.outcome} (${seen.result?.refusalReason ?? ''})`);
  assert.ok(seen.error instanceof LlmError, `expected an LlmError, got ${String(seen.error)}`);
  assert.equal(seen.error.code, code, seen.error.message);
  assert.match(seen.error.message, message);
  assert.deepEqual(seen.chunks, [], 'an answer was shown before the error');
  return seen.error;
}

/** Polls until `condition` holds, or fails saying `what` after `ms`. */
export async function waitUntil(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) assert.fail(what);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Nothing is left open on the server: no request in flight, no stream, and no more connections than
 * the client's keep-alive pool may hold idle. A request's agent calls run one after another, beside at
 * most an embed call, so one client keeps one or two; a case with a second client (an injected fetch)
 * may add two more. A socket leaked by an abandoned call would stay busy and show up in
 * `activeRequests`, and over a run the count would grow.
 */
export async function assertServerClean(ollama: ScriptedOllama, maxIdleConnections = 4): Promise<void> {
  await ollama.waitForIdle(3000);
  assert.equal(ollama.activeRequests, 0, 'a request is still open on the server');
  assert.equal(ollama.openStreams, 0, 'a stream is still open on the server');
  const until = Date.now() + 2000;
  while (ollama.openConnections > maxIdleConnections && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(
    ollama.openConnections <= maxIdleConnections,
    `${ollama.openConnections} connections still open (at most ${maxIdleConnections} idle keep-alive expected)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Tally for the summary test

export type Category = 'fault matrix' | 'bad targets' | 'hostile prompts' | 'hostile output' | 'concurrency' | 'secret list';

const tally = new Map<string, { registered: number; passed: number }>();

function entry(category: string) {
  let e = tally.get(category);
  if (!e) tally.set(category, (e = { registered: 0, passed: 0 }));
  return e;
}

/**
 * A named reliability case; counted by category when it passes. With `todo` (why: a known bug in src) it
 * runs and reports, but neither counts nor fails the suite until the bug is fixed and the option removed.
 */
export function reliabilityCase(
  category: Category,
  name: string,
  fn: (t: TestContext) => Promise<void> | void,
  options: { timeout?: number; todo?: string } = {},
): void {
  if (options.todo) {
    it(name, { timeout: options.timeout ?? 15_000, todo: options.todo }, fn);
    return;
  }
  entry(category).registered++;
  it(name, { timeout: options.timeout ?? 15_000 }, async (t) => {
    await fn(t);
    entry(category).passed++;
  });
}

export function tallyLines(): { lines: string[]; registered: number; passed: number } {
  let registered = 0;
  let passed = 0;
  const lines = [...tally.entries()].map(([category, e]) => {
    registered += e.registered;
    passed += e.passed;
    return `${category}: ${e.passed}/${e.registered} passed`;
  });
  return { lines, registered, passed };
}
