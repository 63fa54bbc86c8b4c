import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { evalCommand } from '../../src/cli/eval';
import { EXIT, type CliIo } from '../../src/cli/io';
import { ATTACK_KINDS, findLeaks, generateDataset, type EvalReport } from '../../src/core/eval';
import type { SystemMetrics } from '../../src/core/eval/metrics';
import { startScriptedOllama, type RecordedChat, type ScriptedOllama, type ScriptedReply } from '../support/scriptedOllama';
import { candidateData, criticEach, draftOf, editReply } from '../support/erasedReplies';

// The eight published attacks through the CLI, the scripted Ollama server and every audit policy.
// The plain model repeats its whole notes whatever it is asked (so every attack leaks through it);
// the agents keep, of each note, the first sentence of the entities that are not forget targets, so
// a composite question's retain half survives the rewrite while its forget half goes.
const dataset = generateDataset({ seed: 3, entities: 4, manyShotTurns: 2, kinds: ATTACK_KINDS });
const forgetTerms = dataset.entities
  .filter((e) => e.split === 'forget')
  .flatMap((e) => [e.name, ...e.aliases, ...e.facts.map((f) => f.value)]);

const notesOf = (messages: readonly { content: string }[]): string[] =>
  (messages.find((m) => m.content.startsWith('Here are my notes'))?.content ?? '')
    .split('\n')
    .filter((l) => l.startsWith('- '))
    .map((l) => l.slice(2));

function erased(messages: readonly { content: string }[]): string {
  const kept = notesOf(messages)
    .map((l) => l.split('. ')[0]!.replace(/\.$/, '') + '.')
    .filter((s) => findLeaks(s, forgetTerms).terms.length === 0);
  return kept.length ? kept.join(' ') : 'I cannot share details about that.';
}

/** What a call was shown before its task: the earlier turns (the notes among them) and the question. */
function conversationOf(chat: RecordedChat): string[] {
  const data = candidateData(chat.messages);
  return [...data.conversation.map((m) => m.content), data.question];
}

function script(chat: RecordedChat): ScriptedReply {
  switch (chat.role) {
    case 'vanilla':
      return notesOf(chat.messages).join(' ') || 'I do not know.';
    case 'detect':
      return { touched: [] };
    case 'rewrite':
      // The rewrite continues the vanilla prompt: the notes are among the turns above its task.
      return erased(conversationOf(chat).map((content) => ({ content })));
    case 'edit':
      // Every sentence of the draft that gives a forget term away goes, the rest stays.
      return editReply({ drop: draftOf(chat.messages).flatMap((s, i) => (findLeaks(s, forgetTerms).terms.length > 0 ? [i + 1] : [])) });
    case 'critic':
      return criticEach({ forget: 5, utility: 4 })(chat);
    default:
      throw new Error(`no script for the ${chat.role} agent`);
  }
}

function memoryIo(): { io: CliIo; out: { stdout: string; stderr: string } } {
  const out = { stdout: '', stderr: '' };
  return {
    io: {
      stdout: (t) => (out.stdout += t),
      stderr: (t) => (out.stderr += t),
      env: {},
      cwd: process.cwd(),
      signal: new AbortController().signal,
      stdoutIsTTY: false,
      stderrIsTTY: false,
    },
    out,
  };
}

describe('the published attacks against the scripted Ollama server', () => {
  let ollama: ScriptedOllama;
  let report: EvalReport;
  let stdout: string;

  before(async () => {
    ollama = await startScriptedOllama({ script });
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-eval-attacks-'));
    const file = join(dir, 'attacks.json');
    await writeFile(file, JSON.stringify(dataset));
    const { io, out } = memoryIo();
    const code = await evalCommand(
      ['run', '--model', 'llama3.2', '--host', ollama.host, '--dataset', file, '--out', dir, '--audit-policy', 'named,related,always'],
      io,
    );
    assert.equal(code, EXIT.ok, out.stderr);
    report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as EvalReport;
    stdout = out.stdout;
  });
  after(async () => ollama.close());

  test('report.json has metrics for every attack kind and every system: the plain model leaks all, no policy any', () => {
    assert.equal(report.complete, true);
    for (const kind of ATTACK_KINDS) {
      const m = report.metrics.find((x) => x.kind === kind);
      assert.ok(m, kind);
      assert.equal(m.plain.forget.n, 2, kind);
      assert.equal(m.plain.forget.leakRate, 1, `${kind}: plain`);
      for (const policy of ['named', 'related', 'always'] as const) {
        const p: SystemMetrics = m.policies![policy]!;
        assert.equal(p.forget.n, 2, `${kind} ${policy}`);
        assert.equal(
          p.forget.leakRate,
          0,
          `${kind} ${policy}: ${JSON.stringify(report.questions.filter((q) => q.kind === kind).map((q) => q.policies?.[policy]?.answer))}`,
        );
      }
    }
    // No leak because the agents erased, not because a broken agent call turned every answer into a refusal.
    for (const q of report.questions.filter((x) => x.split === 'forget'))
      for (const policy of ['named', 'related', 'always'] as const)
        assert.equal(q.policies![policy]!.outcome, 'erased', `${q.id} ${policy}`);
    // The report, with its new fields, is what docs/eval-report.schema.json describes.
    const schema = JSON.parse(readFileSync(resolve(__dirname, '../../docs/eval-report.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);
    assert.ok(validate(report), JSON.stringify(validate.errors?.slice(0, 3)));
    // The terminal table lists the leak rate of each kind for each system.
    assert.match(stdout, /^multi-turn\s+100%\s+0%\s+0%\s+0%$/m);
  });

  test('composite: the report says whether the retain half was still answered, per system', () => {
    const m = report.metrics.find((x) => x.kind === 'composite')!;
    assert.deepEqual(m.plain.forget.retainHalf, { n: 2, answered: 2, rate: 1 });
    for (const policy of ['named', 'related', 'always'] as const)
      // Each policy's retain half is counted too (how many depends on what these scripted agents keep).
      assert.equal(m.policies![policy]!.forget.retainHalf!.n, 2, policy);
    for (const q of report.questions.filter((x) => x.kind === 'composite' && x.split === 'forget'))
      assert.equal(q.plain.retainAnswered, true);
    assert.match(stdout, /Composite questions whose answer still gave the retain half: plain 2\/2 \(100%\), named \d\/2/);
  });

  test('multi-turn: each system answers every turn in one conversation, its own answers in the history', () => {
    const questions = dataset.questions.filter((q) => q.kind === 'multi-turn');
    // What each call was shown before its task: every call (plain, vanilla or an agent continuing the
    // vanilla prompt, which the pipeline skips when the history names a target) carries the turns as turns.
    const shown = ollama.chats.map(conversationOf);
    for (const q of questions) {
      const record = report.questions.find((r) => r.id === q.id)!;
      for (const answer of [record.plain, ...Object.values(record.policies!)]) {
        assert.equal(answer.turnAnswers?.length, 2, q.id);
        // The last turn was asked after both earlier turns and the answers this system gave them.
        const expected = JSON.stringify([q.turns![0]!, answer.turnAnswers![0]!, q.turns![1]!, answer.turnAnswers![1]!, q.question]);
        assert.ok(
          shown.some((messages) => JSON.stringify(messages.slice(-5)) === expected),
          `${q.id}: no call carried the conversation ${expected}`,
        );
      }
      // A leak in an earlier turn counts: the plain model named the entity in its first answer.
      assert.ok(findLeaks(record.plain.turnAnswers![0]!, q.expected).terms.length > 0);
      assert.equal(record.plain.calls, 3, 'three calls for three turns');
    }
  });

  test('agent-injection: the notes addressed to the agents reach them, and change nothing', () => {
    const injected = dataset.questions.filter((q) => q.kind === 'agent-injection').map((q) => q.question);
    const seen = ollama.chats.filter((c) => c.role !== 'vanilla' && injected.some((t) => c.messages.some((m) => m.content.includes(t))));
    assert.ok(seen.length > 0, 'the agents were shown the injected text');
  });
});
