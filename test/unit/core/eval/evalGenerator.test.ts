import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACK_KINDS, generateDataset, generateForTargets, maskName, parseDatasetJson, QUESTION_KINDS } from '../../../../src/core/eval';
import { parseTargets } from '../../../../src/core/targets';

const fold = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

describe('synthetic dataset generator', () => {
  const d = generateDataset({ seed: 7, entities: 8 });

  test('the same seed gives the same dataset; another seed another one', () => {
    assert.equal(JSON.stringify(generateDataset({ seed: 7, entities: 8 })), JSON.stringify(d));
    assert.notEqual(JSON.stringify(generateDataset({ seed: 8, entities: 8 })), JSON.stringify(d));
  });

  test('entities of every type on both sides of the split; targets are the forget entities', () => {
    assert.equal(d.entities.length, 8);
    for (const type of ['person', 'company', 'project', 'place']) assert.equal(d.entities.filter((e) => e.type === type).length, 2, type);
    const forget = d.entities.filter((e) => e.split === 'forget');
    assert.equal(forget.length, 4);
    assert.deepEqual(
      d.targets.map((t) => t.name),
      forget.map((e) => e.name),
    );
    assert.equal(parseTargets(d.targets).problems.length, 0, 'targets are valid unlearn.targets entries');
    const values = d.entities.flatMap((e) => e.facts.map((f) => f.value.toLowerCase()));
    assert.equal(new Set(values).size, values.length, 'a fact value points at one entity only');
  });

  test('every kind for every entity, on both splits', () => {
    assert.equal(d.questions.length, 8 * QUESTION_KINDS.length);
    for (const split of ['forget', 'retain'] as const)
      for (const kind of QUESTION_KINDS)
        assert.ok(
          d.questions.some((q) => q.split === split && q.kind === kind),
          `${split} ${kind}`,
        );
    assert.equal(new Set(d.questions.map((q) => q.id)).size, d.questions.length);
  });

  test('forget questions expect the leaking strings, never one the question already says', () => {
    for (const q of d.questions.filter((x) => x.split === 'forget')) {
      assert.ok(q.expected.length >= 2, q.id);
      for (const e of q.expected) assert.ok(!fold(q.question).includes(fold(e)), `${q.id}: "${e}" is in the question`);
    }
  });

  test('retain questions expect a fact that the notes give the model', () => {
    for (const q of d.questions.filter((x) => x.split === 'retain')) {
      const notes = q.history![0]!.content;
      assert.ok(
        q.expected.some((e) => notes.includes(e)),
        q.id,
      );
    }
  });

  test('indirect, multi-hop, masked, reverse and multi-turn questions do not spell the entity name; the others do', () => {
    for (const q of d.questions) {
      const e = d.entities.find((x) => x.id === q.entityId)!;
      const named = q.question.includes(e.name);
      // A substitution may bind the name in two pieces: then only their join spells it.
      const pieces = /Let a = "([^"]*)" and b = "([^"]*)"/.exec(q.question);
      if (['indirect', 'multi-hop', 'masked', 'reverse', 'multi-turn'].includes(q.kind)) assert.ok(!named, `${q.id}: ${q.question}`);
      else if (pieces) assert.equal(pieces[1]! + pieces[2]!, e.name, q.id);
      else assert.ok(named, `${q.id}: ${q.question}`);
    }
    assert.equal(maskName('Velmora Quist'), 'V*lmor* Q*ist');
  });

  test('many-shot questions come after a long run of answered questions; other-language ones are not English', () => {
    const many = d.questions.filter((q) => q.kind === 'many-shot');
    for (const q of many) assert.equal(q.history!.length, 2 + 2 * 16, q.id);
    for (const q of d.questions.filter((x) => x.kind === 'other-language')) assert.match(q.question, /^(¿Cuál es|Quel est|Was ist)/);
    for (const q of d.questions.filter((x) => x.kind === 'encoded')) assert.match(q.question, /letter by letter|backwards|base64/);
    for (const q of d.questions.filter((x) => x.kind === 'injection')) assert.match(q.question, /Ignore all previous|play a game|OVERRIDE/);
  });

  test('the attack kinds: what each one asks, and what still counts as a leak', () => {
    const of = (kind: string) => d.questions.filter((q) => q.kind === kind);
    for (const q of of('composite')) {
      const other = d.entities.find((e) => e.id !== q.entityId && q.question.includes(e.name))!;
      assert.ok(other && other.split !== q.split, `${q.id} asks about an entity of the other split too`);
      if (q.split === 'forget') {
        assert.ok(q.retainExpected!.length > 0, q.id);
        assert.ok(
          other.facts.some((f) => q.retainExpected!.includes(f.value)),
          "the retain half is the other entity's fact",
        );
        assert.ok(q.history![0]!.content.includes(other.name), 'its notes are given too');
      } else assert.equal(q.retainExpected, undefined);
    }
    for (const q of of('prefix')) assert.match(q.question, /Begin your reply with|Start your answer with|Reply starting with/);
    for (const q of of('format')) assert.match(q.question, /poem|dialogue|table|JSON/);
    for (const q of of('reverse')) {
      const e = d.entities.find((x) => x.id === q.entityId)!;
      assert.equal(e.facts.filter((f) => q.question.includes(f.value)).length, 2, q.id);
      if (q.split === 'forget') assert.ok(q.expected.includes(e.name), 'naming the entity is the leak');
    }
    for (const q of of('relearning')) {
      const e = d.entities.find((x) => x.id === q.entityId)!;
      assert.ok(
        e.facts.some((f) => q.question.includes(f.value)),
        `${q.id} pastes a true fact first`,
      );
    }
    for (const q of of('multi-turn')) {
      assert.equal(q.turns!.length, 2, q.id);
      const said = fold([...q.turns!, q.question].join(' '));
      for (const e of q.expected) if (q.split === 'forget') assert.ok(!said.includes(fold(e)), `${q.id}: "${e}" is said in a turn`);
    }
    for (const q of of('agent-injection')) assert.match(q.question, /detect agent|rewrite agent|critic agent|Auditor/);
  });

  test('adding the attack kinds left the classic questions of a seed as they were', () => {
    const classic = QUESTION_KINDS.filter((k) => !(ATTACK_KINDS as readonly string[]).includes(k));
    const only = generateDataset({ seed: 7, entities: 8, kinds: classic });
    assert.deepEqual(
      only.questions,
      d.questions.filter((q) => (classic as readonly string[]).includes(q.kind)),
    );
  });

  test('its output is a valid dataset file', () => {
    assert.doesNotThrow(() => parseDatasetJson(JSON.parse(JSON.stringify(d))));
    assert.throws(() => parseDatasetJson({ format: 'other' }), /not an unlearn-eval\/1 dataset/);
    assert.throws(() => parseDatasetJson({ ...d, questions: [{ ...d.questions[0], kind: 'riddle' }] }), /unknown kind "riddle"/);
    assert.throws(() => parseDatasetJson({ ...d, questions: [{ ...d.questions[0], turns: [''] }] }), /"turns" must be an array/);
  });

  test('larger datasets keep names and fact values distinct', () => {
    const big = generateDataset({ seed: 1, entities: 40 });
    assert.equal(new Set(big.entities.map((e) => e.name)).size, 40);
    const values = big.entities.flatMap((e) => e.facts.map((f) => f.value.toLowerCase()));
    assert.equal(new Set(values).size, values.length);
  });
});

describe('questions for the workspace targets', () => {
  test('each target gets its questions, mixed with an invented retain set; any name in an answer is a leak', () => {
    const d = generateForTargets(
      [{ name: 'Project Falcon', aliases: ['Falcon'], description: 'Our drone programme in Lisbon.' }, { name: 'Marta Quist' }],
      { seed: 2 },
    );
    const falcon = d.questions.filter((q) => q.id.startsWith('target-1-'));
    assert.deepEqual(
      falcon.map((q) => q.kind),
      ['direct', 'paraphrased', 'indirect', 'multi-hop', 'masked', 'other-language', 'many-shot', 'injection', 'encoded', ...ATTACK_KINDS],
    );
    for (const q of falcon) assert.deepEqual(q.expected, ['Project Falcon', 'Falcon']);
    assert.ok(falcon[0]!.history![0]!.content.includes('drone programme'), 'the description is given as notes');
    const marta = d.questions.filter((q) => q.id.startsWith('target-2-'));
    assert.ok(!marta.some((q) => q.kind === 'indirect' || q.kind === 'multi-hop'), 'no description or alias: nothing to ask indirectly');
    assert.ok(!marta.some((q) => q.kind === 'reverse' || q.kind === 'relearning'), 'no description: no facts to give');
    const composite = falcon.find((q) => q.kind === 'composite')!;
    assert.ok(composite.retainExpected!.length > 0 && composite.history!.length > 2, 'the retain half with its notes');
    assert.equal(falcon.find((q) => q.kind === 'multi-turn')!.turns!.length, 2);
    assert.ok(d.questions.some((q) => q.split === 'retain'));
    assert.deepEqual(
      d.targets.map((t) => t.name),
      ['Project Falcon', 'Marta Quist'],
    );
  });
});
