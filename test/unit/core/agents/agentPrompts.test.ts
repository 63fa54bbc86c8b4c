import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agentRoleOf,
  buildCriticScoresMessages,
  buildDetectMessages,
  buildRewriteMessages,
  buildVanillaMessages,
  callStructured,
  criticScoresSchema,
  detectedHandles,
  ROLE_SIGNATURE,
  rewriteOptions,
  taskData,
  toCriticReply,
  toJsonSchema,
} from '../../../../src/core/agents';
import type { ChatMessage } from '../../../../src/core/llm';
import { assignHandles, parseTargets } from '../../../../src/core/targets';
import { FakeLlm } from '../../../support/fakeLlm';

const { targets } = parseTargets([
  { name: 'Project Falcon', aliases: ['Falcon'], description: 'the secret drone project' },
  { name: 'Marta Quist' },
]);
const handled = assignHandles(targets);
/** The vanilla prompt as sent: every agent's thread starts with it. */
const prompt = buildVanillaMessages('What does Project Falcon build?', [
  { role: 'user', content: 'Hi there.' },
  { role: 'assistant', content: 'Hello! How can I help?' },
]);
const withDraft: ChatMessage[] = [...prompt, { role: 'assistant', content: 'Falcon builds drones. They fly far.' }];

describe('rewrite agent (called once, when the question names a target)', () => {
  test('continues the vanilla prompt as sent, with its task as the only new message', () => {
    const m = buildRewriteMessages({ thread: prompt, targets: handled });
    assert.deepEqual(m.slice(0, -1), prompt, 'the question and the turns go as sent, unmarked');
    assert.equal(m.length, prompt.length + 1);
    assert.equal(agentRoleOf(m), 'rewrite');
    const task = m.at(-1)!;
    assert.equal(task.role, 'user');
    assert.ok(task.content.startsWith(ROLE_SIGNATURE.rewrite));
    assert.match(task.content, /Write the answer directly in markdown: no JSON/);
    const data = taskData(task) as { forget_targets: { handle: string; name: string; aliases?: string[] }[] };
    assert.deepEqual(
      data.forget_targets.map((t) => [t.handle, t.name, t.aliases]),
      [
        ['T1', 'Project Falcon', ['Falcon']],
        ['T2', 'Marta Quist', undefined],
      ],
    );
  });

  test('its one candidate samples at temperature 0 unless set, seeded from the request; several would differ', () => {
    assert.deepEqual(rewriteOptions({ candidate: 1, of: 1 }), { temperature: 0 });
    assert.deepEqual(rewriteOptions({ candidate: 1, of: 1, seed: 40, numCtx: 8192 }), { temperature: 0, seed: 41, num_ctx: 8192 });
    assert.equal(rewriteOptions({ candidate: 1, of: 1, temperature: 0.2 }).temperature, 0.2);
    assert.deepEqual(rewriteOptions({ candidate: 2, of: 3, seed: 40 }), { temperature: 0.7, seed: 42 });
  });
});

describe('detection agent', () => {
  test('continues the thread; it reads the answer only when the thread ends with one', () => {
    const after = buildDetectMessages({ thread: withDraft, withAnswer: true, targets: handled });
    const before = buildDetectMessages({ thread: prompt, withAnswer: false, targets: handled });
    assert.deepEqual(after.slice(0, -1), withDraft);
    assert.deepEqual(before.slice(0, -1), prompt);
    for (const m of [after, before]) {
      assert.equal(agentRoleOf(m), 'detect');
      assert.deepEqual(
        (taskData(m.at(-1)) as { forget_targets: { handle: string }[] }).forget_targets.map((t) => t.handle),
        ['T1', 'T2'],
      );
      // It quotes no untrusted text, so it states no marking rule.
      assert.doesNotMatch(m.at(-1)!.content, /Untrusted text quoted here/);
    }
    assert.match(after.at(-1)!.content, /does the last question above or your answer to it touch/);
    // Before any draft, it reads the question alone, in the light of the earlier turns.
    assert.match(before.at(-1)!.content, /does the last question above \(read with the earlier turns\) touch/);
    assert.doesNotMatch(before.at(-1)!.content, /your answer/);
  });

  test('a touched handle that does not exist is ignored, and each handle counts once', () => {
    const found = detectedHandles(
      {
        touched: [
          { target: 'T9', how: 'named' },
          { target: 'T2', how: 'described' },
          { target: 'T2', how: 'named' },
        ],
      },
      handled,
    );
    assert.deepEqual([...found], [['T2', 'described']]);
  });
});

describe('scores-only critic', () => {
  /** The thread the critic continues: the draft, the edit task, and the edit reply with its candidates. */
  const editTask: ChatMessage = { role: 'user', content: `${ROLE_SIGNATURE.edit}. Edit the answer above.` };
  const editReply: ChatMessage = {
    role: 'assistant',
    content: JSON.stringify({
      touched: [],
      candidates: [
        { drop: [1], replace: [] },
        { drop: [9], replace: [] },
        { drop: [2], replace: [] },
      ],
    }),
  };
  const thread = [...withDraft, editTask, editReply];

  test('continues after the edit reply and scores the usable candidates by number, without their texts', () => {
    const m = buildCriticScoresMessages({ thread, candidates: [1, 3] });
    assert.deepEqual(m.slice(0, -1), thread);
    assert.equal(m.length, thread.length + 1);
    // An edit task earlier in its thread does not make it the edit agent's call: the last task decides.
    assert.equal(agentRoleOf(m), 'critic');
    assert.deepEqual(taskData(m.at(-1)), { score_candidates: [1, 3] });
    assert.match(m.at(-1)!.content, /For candidates 1, 3 give two integer scores/);
    assert.doesNotMatch(m.at(-1)!.content, /Untrusted text quoted here/);
    assert.doesNotMatch(m.at(-1)!.content, /Falcon builds drones/);
  });

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
    const messages = buildCriticScoresMessages({ thread, candidates: [1, 2, 3] });
    const r = await callStructured(llm, { label: 'critic', schema: criticScoresSchema(3), messages }, { model: 'm' });
    assert.equal(r.responses.length, 2);
    // The retry is still the critic's call: the same thread, its reply, and the request to fix it.
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['critic', 'critic'],
    );
    assert.deepEqual(llm.calls[1]!.request.messages.slice(0, messages.length), messages);
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

describe('which agent sent a call', () => {
  test('the last user message’s signature decides; a call without one is the vanilla agent’s', () => {
    assert.equal(agentRoleOf(prompt), 'vanilla');
    // A signature in an earlier turn is conversation, not a task.
    const quoted = buildVanillaMessages('And what does that mean?', [
      { role: 'user', content: `${ROLE_SIGNATURE.critic}. Score this.` },
      { role: 'assistant', content: 'I am not sure what you mean.' },
    ]);
    assert.equal(agentRoleOf(quoted), 'vanilla');
    assert.equal(agentRoleOf(withDraft), 'vanilla');
  });
});
