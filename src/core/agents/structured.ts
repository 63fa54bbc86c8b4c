import { z } from 'zod';
import { LlmError, type ChatMessage, type ChatResponse, type JsonSchema, type LlmPort } from '../llm';

/** A call whose reply must fit a schema: sent with Ollama's `format`, parsed, validated, retried once. */
export interface StructuredCall<T> {
  readonly label: string;
  readonly messages: readonly ChatMessage[];
  readonly schema: z.ZodType<T>;
  /** Checks that the schema cannot express (e.g. one score per candidate). Returns a problem or undefined. */
  readonly check?: (value: T) => string | undefined;
}

export interface StructuredResult<T> {
  readonly value: T;
  readonly responses: readonly ChatResponse[];
}

export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema) as JsonSchema;
  delete json.$schema;
  return json;
}

/**
 * Sends the call; a reply that is not valid JSON or does not fit is retried once with the problem
 * stated, then fails with an `LlmError` of code `malformed`. Transport errors propagate unchanged.
 */
export async function callStructured<T>(
  llm: LlmPort,
  call: StructuredCall<T>,
  request: {
    model: string;
    signal?: AbortSignal;
    firstTokenTimeoutMs?: number;
    totalTimeoutMs?: number;
    seed?: number;
    /** Sampling temperature (default 0: one right answer is wanted; candidates that should differ raise it). */
    temperature?: number;
    /** Ollama's context window, sent as `num_ctx` on every attempt. */
    numCtx?: number;
    /** Ollama's `keep_alive` (how long the model stays loaded after this call). */
    keepAlive?: number | string;
    /** Whether a prompt fits the context window; a retry that would not fit drops the echo of the bad reply. */
    fits?: (messages: readonly ChatMessage[]) => boolean;
  },
): Promise<StructuredResult<T>> {
  const format = toJsonSchema(call.schema);
  const responses: ChatResponse[] = [];
  let messages = [...call.messages];
  let problem = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await llm.chat({
      model: request.model,
      messages,
      format,
      options: {
        temperature: request.temperature ?? 0,
        ...(request.seed !== undefined ? { seed: request.seed + attempt } : {}),
        ...(request.numCtx !== undefined ? { num_ctx: request.numCtx } : {}),
      },
      signal: request.signal,
      firstTokenTimeoutMs: request.firstTokenTimeoutMs,
      totalTimeoutMs: request.totalTimeoutMs,
      label: call.label,
      ...(request.keepAlive !== undefined ? { keepAlive: request.keepAlive } : {}),
    });
    responses.push(response);
    const parsed = parseReply(response.content, call);
    if (parsed.ok) return { value: parsed.value, responses };
    problem = parsed.problem;
    if (attempt === 1) break;
    const again: ChatMessage = {
      role: 'user',
      content: `That reply could not be used: ${problem}. Reply again with only a JSON object that fits the required schema.`,
    };
    messages = [...call.messages, { role: 'assistant', content: response.content.slice(0, 4000) }, again];
    if (request.fits && !request.fits(messages)) {
      // Without the echo the model still learns what was wrong; a retry that Ollama would cut from the
      // front could lose the agent's instructions, so one that still does not fit is not sent.
      messages = [
        ...call.messages,
        {
          role: 'user',
          content: `Your previous reply could not be used: ${problem}. Reply again with only a JSON object that fits the required schema.`,
        },
      ];
      if (!request.fits(messages)) {
        throw new LlmError(
          'malformed',
          `The ${call.label} agent's reply could not be read (${problem}), and a retry would not fit the context window.`,
          { label: call.label },
        );
      }
    }
  }
  throw new LlmError('malformed', `The ${call.label} agent's reply could not be read twice in a row (${problem}).`, { label: call.label });
}

function parseReply<T>(content: string, call: StructuredCall<T>): { ok: true; value: T } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(stripFence(content));
  } catch {
    return { ok: false, problem: 'it is not valid JSON' };
  }
  const result = call.schema.safeParse(json);
  if (!result.success) {
    const first = result.error.issues[0];
    return { ok: false, problem: `it does not fit the schema (${first?.path.join('.') || 'root'}: ${first?.message})` };
  }
  const checkProblem = call.check?.(result.data);
  return checkProblem ? { ok: false, problem: checkProblem } : { ok: true, value: result.data };
}

/** Some models wrap JSON in a markdown fence even with `format` set. */
function stripFence(text: string): string {
  const trimmed = text.trim();
  const fence = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/.exec(trimmed);
  return fence ? fence[1]! : trimmed;
}
