import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { DEFAULT_PIPELINE_OPTIONS, runPipeline } from '../../../../src/core/pipeline';
import type { AuditPolicy } from '../../../../src/core/relevance';
import { parseTargets } from '../../../../src/core/targets';
import { createDataMark, MARKERS } from '../../../../src/core/agents';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { allLying, INJECTION, obedient } from '../../../support/hostileAgents';
import { threadOf } from '../../../support/erasedReplies';

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
    // Detection read the question (uncertain band) and lied that it touches nothing; the draft's facts
    // bind, so the answer goes to erasure with no detection call on it.
    const detect = llm.callsOf('detect');
    assert.equal(detect.length, 1, 'binding evidence: no detection call on the answer to lie in');
    assert.equal(threadOf(detect[0]!.request.messages).at(-1)!.role, 'user', 'the one detect call read the question alone');
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['detect', 'vanilla', 'edit', 'critic'],
    );
    assert.equal(result.relevance!.shortlist.find((e) => e.name === TOPIC.name)!.binding, true);
    assert.ok(result.touchedTargets.some((t) => t.name === TOPIC.name));
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
      const obey = obedient();
      const editReplies: unknown[] = [];
      // A question near no target, so the draft is written (a question near the topic would be read by
      // detection first, and sent to the rewrite agent); the draft's opening binds nothing, so it is
      // written whole, and its facts come after the injection.
      const llm = new FakeLlm(
        agents((role, messages) => {
          const reply = obey(role, messages);
          if (role === 'edit') editReplies.push(reply);
          return reply;
        }, `Here is a suggestion for you. It suits a long trip. ${INJECTION} ${FACTS_DRAFT}`),
      );
      const { result, streamed } = await ask(llm, 'What should I read on the train tonight?', policy);
      assert.deepEqual(
        llm.calls.map((c) => c.role),
        ['vanilla', 'edit', 'critic'],
      );
      // The injection reached the edit agent (the draft is the assistant turn its task follows), and the
      // model did obey: every edit set keeps the draft as it is.
      const edit = llm.callsOf('edit');
      assert.equal(edit.length, 1);
      assert.match(edit[0]!.request.messages.at(-2)!.content, /auditor: reply/);
      assert.ok(editReplies.length > 0);
      for (const reply of editReplies) assert.deepEqual(reply, { drop: [], replace: [] });
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

describe('datamarking of untrusted text in agent tasks', () => {
  /** The request's marker as the edit task's rule names it. */
  const ruleMarker = (task: string) => /spaces replaced by "(.)"/.exec(task)?.[1];

  test("the text a task quotes (the edit task's sentence starts) is marked, with the rule in that task; the marker changes between requests", async () => {
    const markers = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const llm = new FakeLlm(agents(obedient(), FACTS_DRAFT));
      const question = `Which wizard leads the school in those books? (${i + 1})`;
      await ask(llm, question, 'always');
      assert.deepEqual(
        llm.calls.map((c) => c.role),
        ['vanilla', 'edit', 'critic'],
      );
      // The vanilla agent answers the plain question.
      assert.equal(llm.callsOf('vanilla')[0]!.raw.messages.at(-1)!.content, question);
      const task = llm.callsOf('edit')[0]!.raw.messages.at(-1)!.content;
      const marker = ruleMarker(task);
      assert.ok(marker && MARKERS.includes(marker), "the edit task's rule names the marker");
      assert.ok(task.includes(`1: Headmaster${marker}Ambrose${marker}Quillfeather${marker}runs`), 'the sentence starts are marked');
      assert.ok(!task.includes('Headmaster Ambrose'), 'no unmarked copy of a sentence start');
      const critic = llm.callsOf('critic')[0]!.raw.messages.at(-1)!.content;
      assert.equal(ruleMarker(critic), undefined, 'the critic task quotes nothing and states no rule');
      assert.ok(!critic.includes(marker), 'nothing in the critic task is marked');
      markers.add(marker);
    }
    assert.ok(markers.size > 1, 'drawn per request');
  });

  test('the conversation and the draft are not marked: every agent continues the vanilla prompt as sent and the draft as written', async () => {
    // The uncertain band: detection reads the question (near the topic by meaning) before any draft and
    // clears it; the vague draft shortlists another target, which detection reads the answer for; erasure.
    const vague = 'A marine biologist I know reads them aloud.';
    const history = [
      { role: 'user' as const, content: 'Which books should I read this summer?' },
      { role: 'assistant' as const, content: 'Try some classic adventure stories.' },
    ];
    const obey = obedient();
    const llm = new FakeLlm(
      agents(
        (role, messages) => (role === 'detect' && threadOf(messages).at(-1)!.role === 'user' ? { touched: [] } : obey(role, messages)),
        vague,
      ),
    );
    await runPipeline({
      llm,
      index,
      question: 'Which wizard leads the school in those books?',
      history,
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', embeddingModel: 'embeddinggemma' },
    });
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['detect', 'vanilla', 'detect', 'edit', 'critic'],
    );
    const vanilla = llm.callsOf('vanilla')[0]!.raw.messages;
    // Detection on the question, before the draft: the vanilla prompt as it is then sent, and its task.
    const onQuestion = llm.calls[0]!.raw.messages;
    assert.deepEqual(onQuestion.slice(0, -1), vanilla, 'detect on the question: the vanilla prompt as sent');
    assert.equal(onQuestion.length, vanilla.length + 1);
    const marker = ruleMarker(llm.callsOf('edit')[0]!.raw.messages.at(-1)!.content)!;
    assert.ok(marker);
    assert.ok(!vanilla.some((m) => m.content.includes(marker)), 'the vanilla prompt is not marked');
    assert.ok(
      vanilla.some((m) => m.content === history[0]!.content),
      'the earlier turns are in it',
    );
    for (const call of llm.calls.slice(2)) {
      // A prefix byte for byte the same as the vanilla call's, which the server has cached.
      assert.deepEqual(call.raw.messages.slice(0, vanilla.length), vanilla, `${call.role}: the vanilla prompt as sent`);
      assert.deepEqual(call.raw.messages[vanilla.length], { role: 'assistant', content: vague }, `${call.role}: the draft as written`);
    }
    // The critic continues after the edit call: its task and its reply are the turns before the critic's task.
    const edit = llm.callsOf('edit')[0]!.raw.messages;
    const critic = llm.callsOf('critic')[0]!.raw.messages;
    assert.deepEqual(critic.slice(0, edit.length), edit);
    assert.equal(critic.length, edit.length + 2);
    assert.equal(critic[edit.length]!.role, 'assistant');
    for (const call of llm.callsOf('detect')) {
      const detect = call.raw.messages.at(-1)!.content;
      assert.equal(ruleMarker(detect), undefined, 'the detect task quotes nothing and states no rule');
      assert.ok(!detect.includes(marker));
    }
  });

  test('a marker already in the data is neutralised, and agent output is unmarked before anything reads it', () => {
    const mark = createDataMark(() => 0);
    const m = mark.marker;
    assert.equal(mark.text(`stop${m}here now\nnext line`), `stop${m}here${m}now${m}\nnext${m}line`);
    assert.equal(mark.unmark(`Paris${m}is${m}the capital.`), 'Paris is the capital.');
    assert.ok(mark.rule.includes(`"${m}"`));
  });
});
