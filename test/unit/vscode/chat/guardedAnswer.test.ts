/**
 * The one guarded-answer path (src/vscode/chat/guardedAnswer.ts) that `@unlearn` and the guarded models share:
 * notes before the answer, the sanitized answer, the log, and the VS Code wording of a too-long question.
 * It imports no `vscode`, so it runs here on the port-level fake.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LlmError } from '../../../../src/core/llm/errors';
import { parseTargets } from '../../../../src/core/targets';
import { TOO_LONG } from '../../../../src/core/pipeline';
import { answerGuarded, type AnswerNote, type GuardedAnswerRequest } from '../../../../src/vscode/chat/guardedAnswer';
import { FakeLlm, type FakeScript } from '../../../support/fakeLlm';
import { criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../../support/erasedReplies';

const { targets } = parseTargets([{ name: 'Project Falcon', aliases: ['Falcon'] }]);
const settings = { model: 'llama3.2', candidates: 3, topK: 2, contextLength: 8192 };

function ask(script: FakeScript, extra: Partial<GuardedAnswerRequest> & { host?: string; trace?: boolean } = {}) {
  const fake = new FakeLlm(script);
  const llm = extra.host ? Object.assign(Object.create(fake) as FakeLlm, { host: extra.host }) : fake;
  const notes: AnswerNote[] = [];
  const markdown: string[] = [];
  const lines: string[] = [];
  const promise = answerGuarded({
    source: '@unlearn',
    llm,
    model: 'llama3.2',
    settings,
    question: 'What is Project Falcon building?',
    history: [],
    targets,
    targetHealth: { invalidEntries: 0, unreadableStores: 0 },
    signal: new AbortController().signal,
    log: {
      info: (l) => lines.push(`info ${l}`),
      warn: (l) => lines.push(`warn ${l}`),
      trace: (l) => (extra.trace ? lines.push(`trace ${l()}`) : undefined),
    },
    onNote: (n) => notes.push(n),
    onMarkdown: (m) => markdown.push(m),
    ...extra,
  });
  return { fake, notes, lines, promise, text: () => markdown.join('') };
}

describe('the guarded-answer path shared by @unlearn and the guarded models', () => {
  test('an answer that names a target: only the erased, sanitized answer is written, and the log holds counts only', async () => {
    const r = ask({
      vanilla: 'Project Falcon builds drones. See https://evil.example/x',
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft(['I cannot share details about [redacted:T1]. <img src=https://evil.example/p.png>', 'No.', 'Nothing.']),
      // Scored apart: the merge of the best two takes the best one's sentence.
      critic: criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate }))),
    });
    const result = await r.promise;
    assert.equal(result.outcome, 'erased');
    assert.equal(
      r.text(),
      'I cannot share details about **\\[redacted: Project Falcon\\]**. &lt;img src=https:\\/\\/evil.example/p.png&gt;',
    );
    assert.deepEqual(r.notes, []);
    // The question names the target: the rewrite agent writes the draft, one edit call, the critic.
    assert.deepEqual(
      r.fake.calls.map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    assert.ok(
      r.lines.some((l) => /^info @unlearn: erased, 3 model calls, 1 redactions/.test(l)),
      r.lines.join('\n'),
    );
    assert.ok(!r.lines.some((l) => /Falcon|drones/.test(l)), r.lines.join('\n'));
  });

  test('with trace on, the question and the answer go to the log, marked as trace', async () => {
    const r = ask({ vanilla: 'Hello.' }, { question: 'Say hello', trace: true });
    await r.promise;
    assert.ok(r.lines.includes('trace question: Say hello'));
    assert.ok(r.lines.includes('trace answer: Hello.'));
  });

  test('the notes come before the answer, in order: a remote host, a cloud model, skipped targets', async () => {
    const r = ask(
      { vanilla: 'Hello.' },
      {
        host: 'http://10.1.2.3:11434',
        model: 'gpt-oss:120b-cloud',
        question: 'Say hello',
        targetHealth: { invalidEntries: 2, unreadableStores: 0 },
      },
    );
    await r.promise;
    assert.deepEqual(
      r.notes.map((n) => n.kind),
      ['remote-host', 'cloud-model', 'broken-targets'],
    );
    assert.match(r.notes[0]!.markdown, /10\\\.1\\\.2\\\.3.*not this machine \(`unlearn\.ollamaHost`\)/);
    assert.match(r.notes[1]!.markdown, /Ollama cloud model/);
    assert.match(r.notes[2]!.markdown, /^⚠ 2 entries of `unlearn\.targets` are invalid/);
    assert.ok(r.lines.some((l) => l.startsWith('warn @unlearn: 2 entries of unlearn.targets are invalid')));
    assert.equal(r.fake.calls[0]!.request.model, 'gpt-oss:120b-cloud');
  });

  test('a model reached through vscode.lm is not called a remote Ollama host', async () => {
    const r = ask({ vanilla: 'Hello.' }, { host: 'vscode.lm:copilot', question: 'Say hello' });
    await r.promise;
    assert.deepEqual(r.notes, []);
  });

  test('a question too long for the window: core refuses, and VS Code names its setting after the answer', async () => {
    const r = ask({ vanilla: 'never asked' }, { settings: { ...settings, contextLength: 256 }, question: 'Tell me. '.repeat(300) });
    const result = await r.promise;
    assert.equal(result.answer, TOO_LONG);
    assert.doesNotMatch(TOO_LONG, /unlearn\.|--/, 'core names no front end');
    assert.equal(r.fake.calls.length, 0);
    assert.match(r.text(), /context window is 256 tokens: raise the `unlearn\.contextLength` setting/);
  });

  test('a failing model call is thrown for the caller to present; nothing of an answer was written', async () => {
    const r = ask({ vanilla: { fail: new LlmError('unreachable', 'down', { suspect: 'host' }) } }, { question: 'What is being built?' });
    await assert.rejects(r.promise, (e: unknown) => (e as { code?: string }).code === 'unreachable');
    assert.equal(r.text(), '');
  });
});
