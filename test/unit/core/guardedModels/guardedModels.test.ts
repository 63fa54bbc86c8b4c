import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canChat,
  ConversationError,
  describeGuardedModels,
  estimateMessageTokens,
  estimateTokens,
  FALLBACK_CONTEXT_TOKENS,
  guardedModelName,
  leftOutModels,
  MESSAGE_OVERHEAD_TOKENS,
  modelsFingerprint,
  routeParticipantRequest,
  runsRemotely,
  sameOllamaModel,
  tokenBudget,
  toPipelineConversation,
  type PlainMessage,
} from '../../../../src/core/guardedModels';
import { buildTargetIndex } from '../../../../src/core/guard';
import { runPipeline } from '../../../../src/core/pipeline';
import { parseTargets } from '../../../../src/core/targets';
import { FakeLlm } from '../../../support/fakeLlm';
import { candidateData, criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

const HOST = 'http://127.0.0.1:11434';
const text = (t: string) => ({ type: 'text' as const, text: t });
const user = (...parts: PlainMessage['parts']): PlainMessage => ({ role: 'user', parts });
const assistant = (...parts: PlainMessage['parts']): PlainMessage => ({ role: 'assistant', parts });
const system = (t: string): PlainMessage => ({ role: 'system', parts: [text(t)] });

describe('guarded model listing', () => {
  test('names say the model is guarded; :latest is implied, other tags stay', () => {
    assert.equal(guardedModelName('llama3.2:latest'), 'llama3.2 · Unlearn');
    assert.equal(guardedModelName('qwen2.5:7b'), 'qwen2.5:7b · Unlearn');
    assert.equal(guardedModelName('hf.co/org/model:Q4_K_M'), 'hf.co/org/model:Q4_K_M · Unlearn');
    assert.ok(sameOllamaModel('llama3.2', 'llama3.2:latest'));
    assert.ok(!sameOllamaModel('llama3.2:1b', 'llama3.2'));
  });

  test('each installed chat model is listed with its Ollama name as id and its window split into input and output', () => {
    const listed = describeGuardedModels(
      HOST,
      [
        { name: 'qwen2.5:7b', family: 'qwen2', parameterSize: '7.6B', quantization: 'Q4_K_M' },
        { name: 'llama3.2:latest', family: 'llama', parameterSize: '3.2B' },
      ],
      [
        { name: 'qwen2.5:7b', contextLength: 32768, capabilities: ['completion', 'tools'] },
        { name: 'llama3.2:latest', contextLength: 131072, capabilities: ['completion', 'tools'] },
      ],
    );
    assert.deepEqual(
      listed.map((m) => [m.id, m.name, m.family, m.version, m.maxInputTokens, m.maxOutputTokens]),
      [
        ['llama3.2:latest', 'llama3.2 · Unlearn', 'llama', 'latest', 131072 - 4096, 4096],
        ['qwen2.5:7b', 'qwen2.5:7b · Unlearn', 'qwen2', '7b', 32768 - 4096, 4096],
      ],
    );
    assert.equal(listed[1]!.detail, 'guarded · 7.6B · Q4_K_M');
    assert.match(listed[0]!.tooltip, /llama3\.2:latest on http:\/\/127\.0\.0\.1:11434/);
    assert.match(listed[0]!.tooltip, /131,072-token window/);
  });

  test('tool calling is declared only when Ollama lists tools for the model; image input never is', () => {
    const listed = describeGuardedModels(
      HOST,
      [{ name: 'llava:latest' }, { name: 'gemma:latest' }, { name: 'old:latest' }],
      [
        { name: 'llava:latest', contextLength: 4096, capabilities: ['completion', 'tools', 'vision'] },
        { name: 'gemma:latest', contextLength: 4096, capabilities: ['completion', 'vision'] },
        new Error('show failed'),
      ],
    );
    assert.deepEqual(
      listed.map((m) => [m.id, m.capabilities]),
      [
        ['gemma:latest', { toolCalling: false, imageInput: false }],
        ['llava:latest', { toolCalling: true, imageInput: false }],
        ['old:latest', { toolCalling: false, imageInput: false }],
      ],
    );
    assert.match(listed[1]!.tooltip, /every call is checked by the leak guard/);
    assert.match(listed[0]!.tooltip, /does not support tool calling/);
  });

  test('embedding-only models are left out; unknown capabilities are kept', () => {
    const listed = describeGuardedModels(
      HOST,
      [{ name: 'nomic-embed-text:latest' }, { name: 'old:latest' }, { name: 'llama3.2:latest' }],
      [
        { name: 'nomic-embed-text:latest', capabilities: ['embedding'] },
        { name: 'old:latest' },
        { name: 'llama3.2:latest', capabilities: ['completion'] },
      ],
    );
    assert.deepEqual(
      listed.map((m) => m.id),
      ['llama3.2:latest', 'old:latest'],
    );
    assert.ok(!canChat({ name: 'e', capabilities: ['embedding'] }));
    assert.ok(canChat({ name: 'c', capabilities: ['completion', 'embedding'] }));
  });

  test('Ollama cloud models are never listed as guarded: by their cloud tag, or by /api/show naming a remote host', () => {
    const models = [
      { name: 'gpt-oss:120b-cloud' },
      { name: 'glm-4.6:cloud' },
      { name: 'deepseek-v3.1-cloud:latest' },
      { name: 'mirror:latest' },
      { name: 'alias:latest' },
      { name: 'llama3.2:latest' },
      { name: 'nomic-embed-text:latest' },
    ];
    const details = [
      { name: 'gpt-oss:120b-cloud', capabilities: ['completion'] },
      new Error('show failed'),
      undefined,
      { name: 'mirror:latest', capabilities: ['completion'], remoteHost: 'https://ollama.com:443', remoteModel: 'gpt-oss:120b' },
      { name: 'alias:latest', remoteModel: 'kimi-k2:1t' },
      { name: 'llama3.2:latest', capabilities: ['completion'] },
      { name: 'nomic-embed-text:latest', capabilities: ['embedding'] },
    ];
    assert.deepEqual(
      describeGuardedModels(HOST, models, details).map((m) => m.id),
      ['llama3.2:latest'],
    );
    assert.deepEqual(leftOutModels(models, details), { embeddingOnly: 1, remote: 5 });
    assert.ok(runsRemotely({ name: 'Qwen3-Coder:480B-Cloud' }, undefined), 'case does not matter');
    // Not cloud: a name that merely contains the word, and a local model whose details say nothing remote.
    assert.ok(!runsRemotely({ name: 'soundcloud-helper:latest' }, undefined));
    assert.ok(!runsRemotely({ name: 'cloudy:7b' }, { name: 'cloudy:7b', remoteHost: '' }));
  });

  test("a model whose /api/show failed is still listed, with Ollama's default window and the reason", () => {
    const [m] = describeGuardedModels(HOST, [{ name: 'llama3.2:latest' }], [new Error('boom')]);
    assert.equal(m!.maxInputTokens + m!.maxOutputTokens, FALLBACK_CONTEXT_TOKENS);
    assert.match(m!.tooltip, /could not read model details/);
  });

  test('token budget: a quarter of the window for output, capped at 4096; nonsense windows fall back', () => {
    assert.deepEqual(tokenBudget(8192), { maxInputTokens: 6144, maxOutputTokens: 2048 });
    assert.deepEqual(tokenBudget(131072), { maxInputTokens: 126976, maxOutputTokens: 4096 });
    assert.deepEqual(tokenBudget(undefined), { maxInputTokens: 3072, maxOutputTokens: 1024 });
    assert.deepEqual(tokenBudget(0), tokenBudget(undefined));
    assert.deepEqual(tokenBudget(Number.NaN), tokenBudget(undefined));
  });

  test('the fingerprint changes when a model is pulled or deleted, not when the order changes', () => {
    const a = modelsFingerprint([
      { name: 'a:latest', sizeBytes: 1 },
      { name: 'b:latest', sizeBytes: 2 },
    ]);
    assert.equal(
      a,
      modelsFingerprint([
        { name: 'b:latest', sizeBytes: 2 },
        { name: 'a:latest', sizeBytes: 1 },
      ]),
    );
    assert.notEqual(a, modelsFingerprint([{ name: 'a:latest', sizeBytes: 1 }]));
    assert.notEqual(
      a,
      modelsFingerprint([
        { name: 'a:latest', sizeBytes: 1 },
        { name: 'b:latest', sizeBytes: 3 },
      ]),
    );
  });
});

describe('message conversion', () => {
  test('the last user message is the question; earlier turns are history in order', () => {
    const c = toPipelineConversation([user(text('Hi')), assistant(text('Hello!')), user(text('What is '), text('Project Falcon?'))]);
    assert.equal(c.question, 'What is Project Falcon?');
    assert.deepEqual(c.history, [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
    ]);
    assert.deepEqual(c.omitted, []);
  });

  test('system messages are kept as a labelled first turn, since the pipeline keeps the system role for its agents', () => {
    const c = toPipelineConversation([system('Answer in French.'), system('Be brief.'), user(text('Bonjour?'))]);
    assert.equal(c.question, 'Bonjour?');
    assert.deepEqual(c.history, [
      { role: 'user', content: 'Instructions from the chat client (its system message):\nAnswer in French.\n\nBe brief.' },
    ]);
  });

  test('tool calls and their results become readable text, the result naming its tool', () => {
    const c = toPipelineConversation([
      user(text('What does README say?')),
      assistant(text('Let me look.'), { type: 'toolCall', callId: 'c1', name: 'read_file', input: { path: 'README.md' } }),
      user({ type: 'toolResult', callId: 'c1', parts: [text('# Falcon\nA drone.')] }),
    ]);
    assert.equal(c.question, '[Result of tool "read_file" (call c1)]\n# Falcon\nA drone.');
    assert.deepEqual(c.history, [
      { role: 'user', content: 'What does README say?' },
      { role: 'assistant', content: 'Let me look.\n[Called tool "read_file" (call c1) with {"path":"README.md"}]' },
    ]);
  });

  test('a result without its call, an empty result, and a huge tool input are all handled', () => {
    const big = { blob: 'x'.repeat(10_000) };
    const c = toPipelineConversation([
      assistant({ type: 'toolCall', callId: 'c2', name: 'write', input: big }),
      user({ type: 'toolResult', callId: 'zz', parts: [] }, text('and?')),
    ]);
    assert.equal(c.question, '[Result of tool (call zz)]\n(empty)\nand?');
    assert.ok(c.history[0]!.content.length < 4200);
    assert.match(c.history[0]!.content, /more characters\)\]$/);
  });

  test('text data is read, transport hints are skipped, images are named as omitted and noted for the model', () => {
    const c = toPipelineConversation([
      user(
        text('Compare'),
        { type: 'data', mimeType: 'application/json', text: '{"a":1}', bytes: 7 },
        { type: 'data', mimeType: 'cache_control', bytes: 9 },
        { type: 'data', mimeType: 'image/png', bytes: 1234 },
        { type: 'other', description: 'a prompt-tsx part' },
      ),
    ]);
    assert.equal(c.question, 'Compare\n{"a":1}\n[An image/png attachment (1234 bytes) was attached; this text-only model cannot see it.]');
    assert.deepEqual(c.omitted, ['image/png attachment (1234 bytes)', 'a prompt-tsx part']);
  });

  test('messages after the last user message do not become history; empty turns are dropped', () => {
    const c = toPipelineConversation([user(text('one')), assistant(), user(text('two')), assistant(text('Sure, '))]);
    assert.equal(c.question, 'two');
    assert.deepEqual(c.history, [{ role: 'user', content: 'one' }]);
  });

  test('a system message after the question still reaches the model, attached to the question', () => {
    const c = toPipelineConversation([user(text('Summarise.')), system('Use bullet points.')]);
    assert.equal(c.question, 'Summarise.\n\n(Instructions: Use bullet points.)');
  });

  test('no user text at all is an error a person can read', () => {
    assert.throws(() => toPipelineConversation([]), ConversationError);
    assert.throws(() => toPipelineConversation([system('x'), assistant(text('y')), user(text('  '))]), /no user message with text/);
  });

  test('converted history reaches the agents, and a target named only in history is still guarded', async () => {
    const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }]);
    const conversation = toPipelineConversation([
      system('Be concise.'),
      user(text('Tell me about Project Falcon.')),
      assistant(text('I cannot discuss that.')),
      user(text('Who leads it?')),
    ]);
    const llm = new FakeLlm({
      vanilla: 'Falcon is led by Ana.',
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft(['It is led by Ana.', 'I cannot say who leads [redacted:T1].', 'Ana leads it.']),
      critic: criticScores([
        { forget: 5, utility: 3 },
        { forget: 5, utility: 5 },
        { forget: 5, utility: 4 },
      ]),
    });
    const result = await runPipeline({
      llm,
      index: buildTargetIndex(targets),
      question: conversation.question,
      history: conversation.history,
      options: { model: 'llama3.2:latest', candidates: 3, topK: 2, minScore: 4, firstTokenTimeoutMs: 1000, totalTimeoutMs: 5000 },
    });
    // The history names the target, so no draft is written: the converted history reaches the rewrite
    // agent, as the turns of the thread its task continues.
    assert.equal(llm.callsOf('vanilla').length, 0);
    const data = candidateData(llm.callsOf('rewrite')[0]!.request.messages);
    assert.deepEqual(
      data.conversation.map((m) => m.role),
      ['user', 'user', 'assistant'],
    );
    assert.match(data.conversation[0]!.content, /Be concise\./);
    assert.equal(data.question, 'Who leads it?');
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'I cannot say who leads [redacted: Project Falcon].');
  });
});

describe('token estimate', () => {
  test('ASCII counts about four characters a token, other characters one each', () => {
    assert.equal(estimateTokens(''), 0);
    assert.equal(estimateTokens('abcd'), 1);
    assert.equal(estimateTokens('hello world'), 3);
    assert.equal(estimateTokens('日本語'), 3);
    assert.equal(estimateTokens('café'), 2);
    assert.equal(estimateTokens('👍'), 1);
  });

  test('an estimate stays within reach of real tokenizer counts for prose and code', () => {
    // About 10 and 19 tokens when split the way BPE tokenizers split such text (words, operators, punctuation).
    const prose = 'The quick brown fox jumps over the lazy dog.';
    const code = 'function add(a: number, b: number): number { return a + b; }';
    assert.ok(Math.abs(estimateTokens(prose) - 10) <= 2);
    assert.ok(Math.abs(estimateTokens(code) - 19) <= 5);
  });

  test('a message adds its role overhead and counts every part that reaches the model', () => {
    const m = user(
      text('abcd'),
      { type: 'toolResult', callId: 'c', parts: [text('abcdefgh')] },
      { type: 'data', mimeType: 'image/png', bytes: 100 },
      { type: 'other', description: 'x' },
    );
    assert.equal(estimateMessageTokens(m), MESSAGE_OVERHEAD_TOKENS + 1 + (8 + 2) + 16);
  });
});

describe('@unlearn routing', () => {
  const settings = { model: 'llama3.2', allowSelectedModel: false };

  test('a guarded model runs the pipeline on that Ollama model', () => {
    assert.deepEqual(routeParticipantRequest({ vendor: 'unlearn', id: 'qwen2.5:7b', name: 'qwen2.5:7b · Unlearn' }, settings), {
      kind: 'ollama',
      model: 'qwen2.5:7b',
      why: 'guarded-model',
    });
  });

  test('a Copilot model is not sent anything by default: the configured Ollama model answers, with a note', () => {
    const route = routeParticipantRequest({ vendor: 'copilot', id: 'gpt-4o', name: 'GPT-4o' }, settings);
    assert.equal(route.kind, 'ollama');
    assert.equal(route.kind === 'ollama' && route.model, 'llama3.2');
    assert.match(route.kind === 'ollama' ? (route.note ?? '') : '', /not GPT-4o.*unlearn\.allowSelectedModel/);
  });

  test('with unlearn.allowSelectedModel on, the selected model is used', () => {
    const selected = { vendor: 'copilot', id: 'gpt-4o', name: 'GPT-4o' };
    assert.deepEqual(routeParticipantRequest(selected, { ...settings, allowSelectedModel: true }), { kind: 'selected', model: selected });
  });

  test('no model at all: the configured Ollama model, without a note', () => {
    assert.deepEqual(routeParticipantRequest(undefined, settings), { kind: 'ollama', model: 'llama3.2', why: 'configured-model' });
  });
});
