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
import { criticScores, editReply, edits } from '../support/erasedReplies';

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
export const OPTIONS: PipelineOptions = {
  model: MODEL,
  candidates: 3,
  topK: 2,
  minScore: 4,
  firstTokenTimeoutMs: 5000,
  totalTimeoutMs: 10_000,
};

/**
 * Names no target, so the vanilla agent writes a draft (which names the target and holds the secret fact);
 * the draft names the target, so erasure follows with no detection call: one edit call with three
 * candidate sets, the critic, and the composer's merge (no model call). A question that names a target
 * has the rewrite agent write the draft instead (NAMED_QUESTION).
 */
export const QUESTION = 'What is the stealth drone project building?';
/**
 * Names a target: no vanilla draft; the rewrite agent answers with the targets erased, and erasure checks
 * that. Its draft is the model output under test where a case scripts it.
 */
export const NAMED_QUESTION = 'What is Project Falcon building?';
/** The fact that only the unchecked vanilla answer holds: it must never reach the user. */
export const SECRET_FACT = 'assembled in Lisbon';
export const VANILLA_LEAK = `Project Falcon is a stealth drone ${SECRET_FACT} by Quist Aero. Drones in general use GPS.`;
/**
 * A draft that holds the secret fact without naming any target: QUESTION and it share only the target's
 * keywords, short of the sure band, so the detect agent decides whether erasure runs.
 */
export const VANILLA_VAGUE = `The stealth drone project is ${SECRET_FACT}. Drones in general use GPS.`;
/** What the rewrite agent writes for NAMED_QUESTION: nothing of the target left, one useful sentence. */
export const REWRITE_OK = 'That project is confidential. Batteries limit how long small aircraft stay aloft.';
/** The three candidate sets of the edit call (written per candidate): each takes out the draft's first sentence. */
export const EDITS_OK = [
  { replace: [{ sentence: 1, text: 'I cannot share details about [redacted:T1].' }] },
  { drop: [1] },
  { replace: [{ sentence: 1, text: 'That project is confidential.' }] },
];
/** The same three as the one reply the edit agent writes. */
export const EDIT_REPLY_OK = {
  touched: [{ target: 'T1', how: 'named' }],
  candidates: EDITS_OK.map((e) => editReply(e)),
};
export const DETECT_OK = { touched: [{ target: 'T1', how: 'described' }] };
export const CRITIC_OK = criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate })));
/** The best two candidates merged: the first's replacement, the draft's second sentence. */
export const COMPOSED_FINAL = 'I cannot share details about [redacted: Project Falcon]. Drones in general use GPS.';
/** The same for the rewrite agent's draft. */
export const REWRITTEN_FINAL =
  'I cannot share details about [redacted: Project Falcon]. Batteries limit how long small aircraft stay aloft.';

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

/** A named reliability case; counted by category when it passes. */
export function reliabilityCase(
  category: Category,
  name: string,
  fn: (t: TestContext) => Promise<void> | void,
  options: { timeout?: number } = {},
): void {
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
