import type { AgentRole } from '../../src/core/agents/roles';
import { LlmError } from '../../src/core/llm/errors';
import { isParallelismProbe } from '../../src/core/llm/parallelism';
import { scriptedEmbedding } from './scriptedEmbeddings';
import { readableMessages } from './scriptedOllama';
import { asCandidateCall, callRoleOf, candidateSets, combineCandidateReplies, isWholeEditReply } from './erasedReplies';
import type { ChatRequest, ChatResponse, LlmPort } from '../../src/core/llm/port';

/** What a scripted agent does on one call: reply with text or an object (JSON), fail, or wait for the abort. */
export type FakeReply = string | object | { fail: LlmError } | { hang: true };

/** Replies per role; an array is consumed call by call (the last entry repeats). */
export type FakeScript = Partial<Record<AgentRole, FakeReply | FakeReply[] | ((req: ChatRequest) => FakeReply)>>;

/** An in-process LlmPort for core unit tests: no server, scripted per agent role, records every call. */
export class FakeLlm implements LlmPort {
  readonly host = 'http://127.0.0.1:11434';
  /** Every call, with its messages as a model reads them (datamarking taken out); `raw` is the request as sent. */
  readonly calls: { role: AgentRole; request: ChatRequest; raw: ChatRequest }[] = [];
  private readonly used = new Map<AgentRole, number>();

  constructor(private readonly script: FakeScript) {}

  callsOf(role: AgentRole) {
    return this.calls.filter((c) => c.role === role);
  }

  /** The parallelism probe's requests (core/llm/parallelism.ts): answered as a server with `probeSlots` slots, apart from the script. */
  readonly probes: ChatRequest[] = [];
  probeSlots = 4;
  private probeRunning = 0;
  private readonly probeQueue: (() => void)[] = [];

  async chat(request: ChatRequest): Promise<ChatResponse> {
    if (isParallelismProbe(request.messages)) return this.probe(request);
    const role = callRoleOf(request.messages);
    const readable = { ...request, messages: readableMessages(request.messages) };
    this.calls.push({ role, request: readable, raw: request });
    request.signal?.throwIfAborted();
    const reply = this.next(role, readable);
    if (typeof reply === 'object' && 'fail' in reply) throw reply.fail;
    if (typeof reply === 'object' && 'hang' in reply) {
      await new Promise<never>((_, reject) => {
        const abort = () => reject(new LlmError('aborted', 'cancelled', { label: request.label }));
        if (request.signal?.aborted) abort();
        request.signal?.addEventListener('abort', abort, { once: true });
      });
    }
    const content = typeof reply === 'string' ? reply : JSON.stringify(reply);
    if (request.onToken) {
      for (let i = 0; i < content.length; i += 7) {
        request.signal?.throwIfAborted();
        request.onToken(content.slice(i, i + 7));
        await Promise.resolve();
      }
    }
    const promptChars = request.messages.reduce((n, m) => n + m.content.length, 0);
    return { content, promptTokens: Math.ceil(promptChars / 4), completionTokens: Math.ceil(content.length / 4), durationMs: 1 };
  }

  private async probe(request: ChatRequest): Promise<ChatResponse> {
    this.probes.push(request);
    const cancelled = () => new LlmError('aborted', 'cancelled', { label: request.label });
    const wait = (ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (request.signal?.aborted) return reject(cancelled());
        const timer = setTimeout(resolve, ms);
        request.signal?.addEventListener('abort', () => (clearTimeout(timer), reject(cancelled())), { once: true });
      });
    if (this.probeRunning >= this.probeSlots) {
      await new Promise<void>((resolve, reject) => {
        const go = () => resolve();
        this.probeQueue.push(go);
        request.signal?.addEventListener(
          'abort',
          () => {
            this.probeQueue.splice(this.probeQueue.indexOf(go), 1);
            reject(cancelled());
          },
          { once: true },
        );
      });
    }
    this.probeRunning++;
    try {
      await wait(1);
      request.onToken?.('1');
      await wait(10);
      return { content: '1 2 3', durationMs: 11 };
    } finally {
      this.probeRunning--;
      this.probeQueue.shift()?.();
    }
  }

  /** The reply for a call; an edit call's per-candidate script is asked once per candidate (see scriptedOllama's nextReply). */
  private next(role: AgentRole, request: ChatRequest): FakeReply {
    const j = role === 'edit' ? candidateSets(request.messages) : undefined;
    if (j === undefined) return this.pick(role, request);
    const first = this.pick(role, asCandidateCall(request, 1, j));
    if (isWholeEditReply(first) || (typeof first === 'object' && ('fail' in first || 'hang' in first))) return first;
    const replies = [first];
    for (let n = 2; n <= j; n++) replies.push(this.pick(role, asCandidateCall(request, n, j)));
    const failed = replies.find((r) => typeof r === 'object' && ('fail' in r || 'hang' in r));
    return failed ?? combineCandidateReplies(replies);
  }

  private pick(role: AgentRole, request: ChatRequest): FakeReply {
    const entry = this.script[role];
    if (entry === undefined) throw new Error(`FakeLlm: no script for the ${role} agent`);
    if (typeof entry === 'function') return entry(request);
    if (!Array.isArray(entry)) return entry;
    const n = this.used.get(role) ?? 0;
    this.used.set(role, n + 1);
    return entry[Math.min(n, entry.length - 1)]!;
  }

  async listModels() {
    return [{ name: 'llama3.2:latest' }];
  }
  async showModel(model: string) {
    return { name: model, contextLength: 8192 };
  }
  /** Texts embedded, in order. */
  readonly embedded: string[] = [];
  /** Same vectors as the scripted server's /api/embed: related texts near, unrelated ones far. */
  async embed(_model: string, input: readonly string[], signal?: AbortSignal) {
    signal?.throwIfAborted();
    this.embedded.push(...input);
    return input.map((t) => scriptedEmbedding(t, 256));
  }
  async pull() {}
  async version() {
    return '0.0.0-fake';
  }
}
