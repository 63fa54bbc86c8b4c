/**
 * Agent mode's entry into the pipeline: the final text of a tool loop arrives as `draft` (no vanilla
 * call), and the tools' results as `evidence`, which the matcher and relevance read but no agent gets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTargetIndex } from '../../../../src/core/guard';
import { DEFAULT_PIPELINE_OPTIONS, runPipeline } from '../../../../src/core/pipeline';
import { parseTargets } from '../../../../src/core/targets';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { criticEach, draftOf, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

const TOPIC = {
  name: 'The Saltmarsh Chronicles',
  description:
    'The Saltmarsh Chronicles fantasy novels: Gullhaven Academy of sorcery, its headmaster Ambrose Quillfeather, the young witch Nell Harrow and the dark lord Vexmoor.',
};
const CLIENT = { name: 'Northwind Freight', aliases: ['Northwind'], description: 'A logistics client in Rotterdam.' };
const ERASED = 'I cannot share details about that.';
const index = buildTargetIndex(parseTargets([TOPIC, CLIENT]).targets);

function script(overrides: FakeScript = {}): FakeScript {
  return {
    detect: { touched: [{ target: 'T1', how: 'described' }] },
    rewrite: NEUTRAL_DRAFT,
    edit: replaceDraft([ERASED, 'That is not something I can discuss.', 'No comment.']),
    critic: criticEach({ forget: 5, utility: 3 }),
    ...overrides,
  };
}

function run(llm: FakeLlm, input: { question: string; draft?: string; evidence?: string[] }) {
  return runPipeline({ llm, index, ...input, options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2' } });
}

describe('pipeline: a given draft and tool evidence (Agent mode)', () => {
  test('a draft that touches nothing stands after the guard, with no model call at all', async () => {
    const llm = new FakeLlm(script());
    const result = await run(llm, {
      question: 'What does the build script do?',
      draft: 'It compiles the sources and runs the tests.',
      evidence: ['#!/bin/sh\nnpm run build && npm test'],
    });
    assert.equal(result.outcome, 'vanilla');
    assert.equal(result.answer, 'It compiles the sources and runs the tests.');
    assert.equal(llm.calls.length, 0);
  });

  test('a draft that names a target is erased from that draft: the edit agent sees it, no vanilla call', async () => {
    const llm = new FakeLlm(script());
    const result = await run(llm, { question: 'Who is our biggest client?', draft: 'Northwind Freight, by revenue.' });
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['edit', 'critic'],
    );
    assert.deepEqual(draftOf(llm.callsOf('edit')[0]!.request.messages), ['Northwind Freight, by revenue.']);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, ERASED);
  });

  test('a tool result that names a target makes the request touched, though question and draft name nothing', async () => {
    const question = 'Summarize the shipping spreadsheet.';
    const draft = 'The spreadsheet lists weekly container volumes from one port.';
    const evidence = ['client,port,containers\nNorthwind Freight,Rotterdam,42'];
    const untouched = new FakeLlm(script());
    assert.equal((await run(untouched, { question, draft })).outcome, 'vanilla', 'without the evidence the draft stands');

    const llm = new FakeLlm(script());
    const result = await run(llm, { question, draft, evidence });
    assert.equal(result.outcome, 'erased');
    assert.deepEqual(
      result.touchedTargets.map((t) => t.name),
      [CLIENT.name],
    );
    // Evidence is read, not sent: the edit prompts carry the question and the draft only.
    for (const c of llm.callsOf('edit')) assert.ok(!c.request.messages.some((m) => m.content.includes('containers\n')));
  });

  test('a tool result about a topic, by its keywords alone, brings the agents in', async () => {
    const question = 'Give me a short summary of chapter one.';
    const draft = 'A newcomer arrives at a school and meets her teacher.';
    const evidence = ['Chapter 1. Headmaster Ambrose Quillfeather welcomed Nell Harrow to Gullhaven Academy.'];
    const plain = new FakeLlm(script());
    assert.equal((await run(plain, { question, draft })).outcome, 'vanilla');
    assert.equal(plain.calls.length, 0);

    const llm = new FakeLlm(script());
    const result = await run(llm, { question, draft, evidence });
    // Its keywords are binding evidence (issue 21): erasure runs with no detection call to veto it.
    assert.equal(llm.calls[0]!.role, 'edit');
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, ERASED);
  });

  test('a question too long for the window: an untouched draft still stands; a touched one is refused, not shown', async () => {
    // An agent client's first message carries its instructions and attachments: longer than a small window.
    const question = `Explain the failing build. ${'Context line from the attached build log. '.repeat(400)}`;
    const options = { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', contextLength: 2048 };
    const untouched = new FakeLlm(script());
    const stands = await runPipeline({ llm: untouched, index, question, draft: 'A missing semicolon in main.ts.', options });
    assert.equal(stands.outcome, 'vanilla');
    assert.equal(stands.answer, 'A missing semicolon in main.ts.');

    const touched = new FakeLlm(script());
    const refused = await runPipeline({ llm: touched, index, question, draft: 'Northwind Freight broke it.', options });
    assert.equal(refused.outcome, 'refused');
    assert.ok(!refused.answer.includes('Northwind'));
    assert.equal(touched.calls.length, 0, 'no prompt that does not fit is sent');
  });

  test('with a draft, every earlier turn is read, however long the history', async () => {
    const history = [
      { role: 'user' as const, content: 'Remember: the client is Northwind Freight.' },
      ...Array.from({ length: 60 }, (_, i) => ({
        role: i % 2 ? ('assistant' as const) : ('user' as const),
        content: `Filler turn ${i}. `.repeat(40),
      })),
    ];
    const llm = new FakeLlm(script());
    const result = await runPipeline({
      llm,
      index,
      question: 'Which client was that again?',
      history,
      draft: 'The one you mentioned first.',
      options: { ...DEFAULT_PIPELINE_OPTIONS, model: 'llama3.2', contextLength: 2048 },
    });
    assert.notEqual(result.outcome, 'vanilla', 'the name in the first turn counts though no prompt could hold it');
    assert.ok(!result.answer.includes('Northwind'));
  });

  test('a name hidden in a tool result by an escape sequence still counts', async () => {
    const llm = new FakeLlm(script());
    const result = await run(llm, {
      question: 'What did the log say?',
      draft: 'One shipment was late.',
      evidence: ['late: North\u001b[0mwind order 7'],
    });
    assert.equal(result.outcome, 'erased');
  });
});
