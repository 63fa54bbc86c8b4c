import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentRoleOf,
  buildCriticScoresMessages,
  buildRewriteMessages,
  callStructured,
  criticScoresSchema,
  REWRITE_SYSTEM_PROMPT,
  rewriteOptions,
  toCriticReply,
  toJsonSchema,
} from '../../../../src/core/agents';
import { assignHandles, parseTargets } from '../../../../src/core/targets';
import { FakeLlm } from '../../../support/fakeLlm';

const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'], description: 'the secret drone project' }]);
const handled = assignHandles(targets);
const base = { question: 'What does Project Falcon build?', history: [], targets: handled, of: 3 };

describe('rewrite agent (one candidate per call)', () => {
  test('the j calls share the system prompt and everything but the last line, so the prompt cache serves them', () => {
    const [a, b, c] = [1, 2, 3].map((candidate) => buildRewriteMessages({ ...base, draft: 'Falcon builds drones.', candidate }));
    for (const m of [a!, b!, c!]) assert.equal(m[0]!.content, REWRITE_SYSTEM_PROMPT);
    const prefix = (text: string) => text.slice(0, text.lastIndexOf('\n'));
    assert.equal(prefix(a![1]!.content), prefix(b![1]!.content));
    assert.equal(prefix(b![1]!.content), prefix(c![1]!.content));
    assert.notEqual(a![1]!.content, b![1]!.content);
    assert.match(c![1]!.content, /Candidate 3 of 3\./);
  });

  test('is recognised as the rewrite role and carries the draft only when there is one', () => {
    const withDraft = buildRewriteMessages({ ...base, draft: 'Falcon builds drones.', candidate: 1 });
    const without = buildRewriteMessages({ ...base, candidate: 1 });
    assert.equal(agentRoleOf(withDraft), 'rewrite');
    assert.match(withDraft[1]!.content, /"draft_answer": "Falcon builds drones\."/);
    assert.doesNotMatch(without[1]!.content, /draft_answer/);
    assert.match(without[1]!.content, /"name": "Project Falcon"/);
  });

  test('each candidate gets its own seed; several candidates sample with some temperature', () => {
    assert.deepEqual(rewriteOptions({ candidate: 2, of: 3, seed: 40, numCtx: 8192 }), { temperature: 0.7, seed: 42, num_ctx: 8192 });
    assert.deepEqual(rewriteOptions({ candidate: 1, of: 1 }), { temperature: 0 });
    assert.equal(rewriteOptions({ candidate: 1, of: 3, temperature: 0.2 }).temperature, 0.2);
  });
});

describe('scores-only critic', () => {
  test('its schema fixes one forget and one utility score per candidate, so Ollama’s grammar enforces the count', () => {
    const json = toJsonSchema(criticScoresSchema(3)) as { properties: Record<string, { minItems: number; maxItems: number }> };
    assert.equal(json.properties.forget!.minItems, 3);
    assert.equal(json.properties.forget!.maxItems, 3);
    assert.equal(json.properties.utility!.maxItems, 3);
  });

  test('a reply with the wrong count is retried; a good one converts to the ranked shape', async () => {
    const llm = new FakeLlm({
      critic: [
        { forget: [5, 4], utility: [3, 3] },
        { forget: [5, 4, 1], utility: [3, 5, 2] },
      ],
    });
    const messages = buildCriticScoresMessages({ question: base.question, candidates: ['a', 'b', 'c'], targets: handled });
    assert.equal(agentRoleOf(messages), 'critic');
    const r = await callStructured(llm, { label: 'critic', schema: criticScoresSchema(3), messages }, { model: 'm' });
    assert.equal(r.responses.length, 2);
    assert.deepEqual(toCriticReply(r.value).scores, [
      { candidate: 1, forget: 5, utility: 3 },
      { candidate: 2, forget: 4, utility: 5 },
      { candidate: 3, forget: 1, utility: 2 },
    ]);
  });

  test('its reply is shorter than the per-entry critic’s for the same scores', () => {
    const compact = JSON.stringify({ forget: [5, 5, 4], utility: [3, 4, 5] });
    const verbose = JSON.stringify(toCriticReply({ forget: [5, 5, 4], utility: [3, 4, 5] }));
    assert.ok(compact.length * 2 < verbose.length, `${compact.length} vs ${verbose.length} characters`);
  });
});
