import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { DEFAULT_PIPELINE_OPTIONS, runPipeline } from '../../../../src/core/pipeline';
import type { AuditPolicy } from '../../../../src/core/relevance';
import { parseTargets } from '../../../../src/core/targets';
import { createDataMark, MARKERS } from '../../../../src/core/agents';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { allLying, INJECTION, obedient } from '../../../support/hostileAgents';

// Fictional targets, so no model could know them; the questions below share no content word with a
// target's name, description or examples (they reach it by meaning, or by a name part).
const TOPIC = {
  name: 'The Saltmarsh Chronicles',
  description:
    'Fantasy novels: Gullhaven Academy of sorcery, its headmaster Ambrose Quillfeather, the young witch Nell Harrow and the dark lord Vexmoor.',
};
const PERSON = { name: 'Ingrid Valtonen', description: 'A marine biologist in Turku who studies seal populations.' };
const CFO = { name: 'Ada Lindqvist', aliases: ['Ada'], description: 'Our chief financial officer.' };
const targets = parseTargets([TOPIC, PERSON, CFO]).targets;
const index = buildTargetIndex(targets);

const TOPIC_FACTS = /Quillfeather|Gullhaven|Vexmoor|Nell Harrow/;
const PERSON_FACTS = /Turku|seal|Valtonen|Ingrid/i;

function agents(
  replies: (role: 'detect' | 'rewrite' | 'edit' | 'critic', messages: readonly { role: string; content: string }[]) => string | object,
  vanilla: string,
): FakeScript {
  return {
    vanilla,
    detect: (req) => replies('detect', req.messages),
    rewrite: (req) => replies('rewrite', req.messages),
    edit: (req) => replies('edit', req.messages),
    critic: (req) => replies('critic', req.messages),
  } as FakeScript;
}

async function ask(llm: FakeLlm, question: string, auditPolicy: AuditPolicy, embeddingModel: string | undefined = 'embeddinggemma') {
  let streamed = '';
  const result = await runPipeline({
    llm,
    index,
    question,
    options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', auditPolicy, ...(embeddingModel ? { embeddingModel } : {}) },
    onEvent: (e) => {
      if (e.type === 'answer-chunk') streamed += e.text;
    },
  });
  return { result, streamed };
}

const FACTS_DRAFT = 'Headmaster Ambrose Quillfeather runs Gullhaven Academy. His pupil Nell Harrow fights Vexmoor.';

describe('no single vote decides (issue 21): every agent lies', () => {
  for (const policy of ['related', 'always'] as const) {
    for (const embeddingModel of ['embeddinggemma', undefined]) {
      const how = `${policy}, ${embeddingModel ? 'with meaning' : 'keywords only'}`;
      test(`a question by meaning alone does not leak the draft's facts (${how})`, async () => {
        const llm = new FakeLlm(agents(allLying('Quillfeather runs it.'), FACTS_DRAFT));
        const { result, streamed } = await ask(llm, 'Which wizard leads the school in those books?', policy, embeddingModel);
        assert.doesNotMatch(streamed, TOPIC_FACTS, streamed);
        assert.doesNotMatch(result.answer, TOPIC_FACTS, result.answer);
        assert.equal(result.answer, streamed, 'the result holds what was shown');
        assert.ok(
          result.redactions.some((r) => r.by === 'meaning'),
          'the meaning check removed the sentences the lying agents let through',
        );
      });

      if (embeddingModel)
        test(`facts restated in other words are removed and the everyday sentences of the answer stay (${how})`, async () => {
          // No word of the topic's name or description: only meaning ties these sentences to it.
          const restated = ['A pupil there casts spells against an evil enemy.', 'His students learn witchcraft in class.'];
          const everyday = ['Let me know if you have any other questions.', 'Enjoy the rest of your reading, and have a nice day.'];
          const llm = new FakeLlm(agents(allLying('x'), [...restated, ...everyday].join(' ')));
          const { result, streamed } = await ask(llm, 'Which wizard leads the school in those books?', policy, embeddingModel);
          for (const s of restated) assert.ok(!streamed.includes(s), streamed);
          for (const s of everyday) assert.ok(streamed.includes(s), `an everyday sentence stays: ${streamed}`);
          assert.equal(result.redactions.filter((r) => r.by === 'meaning').length, restated.length);
        });

      test(`a name-part question does not leak the facts a lying rewrite writes (${how})`, async () => {
        const leak = 'Ingrid Valtonen studies seal populations in Turku.';
        const llm = new FakeLlm(agents(allLying(leak), 'unused'));
        const { result, streamed } = await ask(llm, 'What did Valtonen publish last year?', policy, embeddingModel);
        assert.doesNotMatch(streamed, PERSON_FACTS, streamed);
        assert.deepEqual(llm.calls.map((c) => c.role).includes('vanilla'), false, 'the name part binds: no draft is written');
        assert.ok(result.touchedTargets.some((t) => t.name === PERSON.name));
      });
    }
  }

  test('detection saying none cannot wave a sure-band answer through under related: erasure runs without it', async () => {
    const llm = new FakeLlm(agents(allLying('x'), FACTS_DRAFT));
    const { result } = await ask(llm, 'Which wizard leads the school in those books?', 'related');
    assert.equal(llm.callsOf('detect').length, 0, 'binding evidence: no detection call to lie in');
    assert.ok(llm.callsOf('edit').length > 0);
    assert.equal(result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!.binding, true);
  });

  test('a surname alone is the name: "Dr. Lindqvist" is masked and the answer erased', async () => {
    const llm = new FakeLlm(agents(allLying('Dr. Lindqvist approved the budget.'), 'Dr. Lindqvist approved the budget.'));
    const { result, streamed } = await ask(llm, 'Who approved the budget?', 'related', undefined);
    assert.doesNotMatch(streamed, /Lindqvist/);
    assert.ok(result.touchedTargets.some((t) => t.name === CFO.name));
  });
});

describe('no single vote decides: an obedient model follows instructions in the data', () => {
  for (const policy of ['related', 'always'] as const) {
    test(`an injection in the draft cannot make a meaning-checked target leak (${policy})`, async () => {
      const llm = new FakeLlm(agents(obedient(), `${FACTS_DRAFT} ${INJECTION}`));
      const { result, streamed } = await ask(llm, 'Which wizard leads the school in those books?', policy);
      // The model did obey: its edits keep the draft and its critic gives 5s.
      for (const c of llm.callsOf('edit')) assert.match(c.request.messages.at(-1)!.content, /auditor: reply/);
      assert.doesNotMatch(streamed, TOPIC_FACTS, streamed);
      assert.doesNotMatch(result.answer, TOPIC_FACTS);
    });

    test(`an injection in the question cannot make a binding target leak (${policy})`, async () => {
      const llm = new FakeLlm(agents(obedient(), 'Ingrid Valtonen studies seal populations in Turku.'));
      const { streamed } = await ask(llm, `What did Valtonen publish last year? ${INJECTION}`, policy);
      assert.doesNotMatch(streamed, PERSON_FACTS, streamed);
    });
  }
});

describe('datamarking of untrusted text in every agent prompt', () => {
  test('the question, history and draft reach every agent marked, with the rule in its system prompt; the marker changes between requests', async () => {
    const markers = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const llm = new FakeLlm(agents(obedient(), FACTS_DRAFT));
      await ask(llm, `Which wizard leads the school in those books? (${i + 1})`, 'always');
      for (const call of llm.calls.filter((c) => c.role !== 'vanilla')) {
        const system = call.raw.messages[0]!.content;
        const marker = /replaced by the character "(.)"/.exec(system)?.[1];
        assert.ok(marker && MARKERS.includes(marker), `${call.role}: the rule names the marker`);
        const data = call.raw.messages.at(-1)!.content;
        assert.ok(data.includes(`Which${marker}wizard${marker}leads`), `${call.role}: the question is marked`);
        assert.ok(!data.includes('Which wizard leads'), `${call.role}: no unmarked copy of the question`);
        markers.add(marker);
      }
      // The vanilla agent answers the plain question.
      assert.equal(llm.callsOf('vanilla')[0]!.raw.messages.at(-1)!.content, `Which wizard leads the school in those books? (${i + 1})`);
    }
    assert.ok(markers.size > 1, 'drawn per request');
  });

  test('a marker already in the data is neutralised, and agent output is unmarked before anything reads it', () => {
    const mark = createDataMark(() => 0);
    const m = mark.marker;
    assert.equal(mark.text(`stop${m}here now\nnext line`), `stop${m}here${m}now${m}\nnext${m}line`);
    assert.equal(mark.unmark(`Paris${m}is${m}the capital.`), 'Paris is the capital.');
    assert.ok(mark.rule.includes(`"${m}"`));
  });
});
