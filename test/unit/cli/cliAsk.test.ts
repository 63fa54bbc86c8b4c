import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askCommand } from '../../../src/cli/ask';
import { main } from '../../../src/cli/main';
import { EXIT, type CliIo } from '../../../src/cli/io';
import { LlmError } from '../../../src/core/llm/errors';
import { FakeLlm, type FakeScript } from '../../support/fakeLlm';
import { criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';

function capture(cwd = process.cwd(), tty: { stdout?: boolean; stderr?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    // Embeddings are cached under a fresh folder, never the user's ~/.cache.
    env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'unlearn-cache-')) },
    cwd,
    signal: new AbortController().signal,
    stdoutIsTTY: tty.stdout,
    stderrIsTTY: tty.stderr,
  };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

async function targetsFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'unlearn-cli-'));
  const path = join(dir, 'targets.json');
  await writeFile(path, content);
  return path;
}

const erasing: FakeScript = {
  vanilla: 'Project Falcon builds drones.',
  rewrite: NEUTRAL_DRAFT,
  edit: replaceDraft(['That is confidential.', 'No comment.', 'I cannot discuss [redacted:T1], it is off limits.']),
  // Scored apart: the merge of the best two takes the best one's sentence (candidate 3's).
  critic: criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: candidate }))),
};

describe('unlearn ask', () => {
  test('stdout carries only the guarded answer; progress goes to stderr', async () => {
    const file = await targetsFile(JSON.stringify([{ name: 'Project Falcon', aliases: ['Falcon'] }]));
    const c = capture();
    const code = await askCommand(['What does Project Falcon build?', '--targets', file], c.io, { connect: () => new FakeLlm(erasing) });
    assert.equal(code, EXIT.ok);
    assert.equal(c.out(), 'I cannot discuss [redacted: Project Falcon], it is off limits.\n');
    assert.match(
      c.err(),
      /^Finding forget targets…\nChecking what the request is about…\nWriting an answer without 1 target…\nChecking the answer for 1 target: 3 sets of edits…\nScoring 3 candidates…\nChecking the answer…\n/,
    );
  });

  test('--json prints the full result with stages, redactions and token counts', async () => {
    const file = await targetsFile(JSON.stringify([{ name: 'Project Falcon', aliases: ['Falcon'] }]));
    const c = capture();
    const code = await askCommand(['About Falcon?', '--targets', file, '--json', '--model', 'm1'], c.io, {
      connect: () => new FakeLlm(erasing),
    });
    assert.equal(code, EXIT.ok);
    const result = JSON.parse(c.out());
    assert.equal(result.model, 'm1');
    assert.equal(result.outcome, 'erased');
    assert.equal(result.redactions.length, 1);
    assert.deepEqual(
      result.stages.map((s: { stage: string }) => s.stage),
      ['retrieve', 'relevance', 'rewrite', 'edit', 'critic', 'guard'],
    );
    assert.ok(result.promptTokens > 0);
    assert.equal(c.err(), '');
  });

  test('invalid entries are reported with their path and skipped, valid ones still apply', async () => {
    const file = await targetsFile(JSON.stringify([{ name: 'x' }, { name: 'Project Falcon', aliases: ['Falcon'] }]));
    const c = capture();
    const code = await askCommand(['About Falcon?', '--targets', file], c.io, { connect: () => new FakeLlm(erasing) });
    assert.equal(code, EXIT.ok);
    assert.match(c.err(), /targets\.json\[0\]\.name: must have at least 2 characters/);
    assert.ok(!c.out().includes('Falcon '));
  });

  // What a hostile answer could do to a terminal: set the title, clear the screen, move the cursor and
  // overwrite the line, hide text (a hyperlink), reorder text (bidi), ring the bell.
  const HOSTILE =
    'Sure.\u001b]0;pwned\u0007\u001b[2J\u001b[H Done\rOVERWRITTEN \u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ \u202eexe.txt\u202c\u0007\u009b31m!\n\tend';

  test('on a terminal, escape sequences, controls and bidi characters of the answer are removed', async () => {
    const c = capture(process.cwd(), { stdout: true, stderr: true });
    assert.equal(await askCommand(['hello'], c.io, { connect: () => new FakeLlm({ vanilla: HOSTILE }) }), EXIT.ok);
    assert.equal(c.out(), 'Sure. DoneOVERWRITTEN click exe.txt!\n\tend\n');
  });

  test("piped (not a terminal), the answer is the pipeline's, already free of control, escape and bidi sequences", async () => {
    const c = capture(process.cwd(), { stdout: false, stderr: true });
    assert.equal(await askCommand(['hello'], c.io, { connect: () => new FakeLlm({ vanilla: HOSTILE }) }), EXIT.ok);
    assert.equal(c.out(), 'Sure. DoneOVERWRITTEN click exe.txt!\n\tend\n');
  });

  test('--json on a terminal: the answer parses back as the pipeline gave it, and no raw control or bidi character is printed', async () => {
    const c = capture(process.cwd(), { stdout: true });
    assert.equal(await askCommand(['hello', '--json'], c.io, { connect: () => new FakeLlm({ vanilla: HOSTILE }) }), EXIT.ok);
    // eslint-disable-next-line no-control-regex -- looking for exactly those characters
    assert.doesNotMatch(c.out(), /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.equal(JSON.parse(c.out()).answer, 'Sure. DoneOVERWRITTEN click exe.txt!\n\tend');
  });

  test('an error message from the server is cleaned on a terminal stderr', async () => {
    const c = capture(process.cwd(), { stderr: true });
    const code = await askCommand(['hello'], c.io, {
      connect: () => new FakeLlm({ vanilla: { fail: new LlmError('http', 'HTTP 500: \u001b[2Jboom\u202e') } }),
    });
    assert.equal(code, EXIT.failure);
    assert.ok(c.err().endsWith('\nunlearn: HTTP 500: boom\n'), c.err());
  });

  test('usage errors exit 2 with a message', async () => {
    for (const [argv, message] of [
      [[], /give the question/],
      [['a', 'b'], /give the question/],
      [['q', '--candidates', '0'], /--candidates must be a whole number/],
      [['q', '--bogus'], /Unknown option/],
      [['q', '--targets', '/nonexistent/t.json'], /cannot read targets file .*ENOENT/],
    ] as const) {
      const c = capture();
      assert.equal(await askCommand([...argv], c.io, { connect: () => new FakeLlm({}) }), EXIT.usage, String(argv));
      assert.match(c.err(), message);
    }
  });

  test('a targets file that is not JSON or not an array exits 2', async () => {
    for (const content of ['{oops', '{"name": "x"}']) {
      const c = capture();
      const code = await askCommand(['q', '--targets', await targetsFile(content)], c.io, { connect: () => new FakeLlm({}) });
      assert.equal(code, EXIT.usage);
      assert.match(c.err(), /not valid JSON|expected an array/);
    }
  });

  test('exit codes: 3 unreachable, 4 model missing, 1 other failures', async () => {
    const cases: [LlmError, number][] = [
      [new LlmError('unreachable', 'Cannot reach Ollama at http://127.0.0.1:1'), EXIT.unreachable],
      [new LlmError('model-missing', 'run `ollama pull nope`'), EXIT.modelMissing],
      [new LlmError('http', 'HTTP 500'), EXIT.failure],
    ];
    for (const [error, expected] of cases) {
      const c = capture();
      const code = await askCommand(['hello'], c.io, { connect: () => new FakeLlm({ vanilla: { fail: error } }) });
      assert.equal(code, expected);
      assert.ok(c.err().includes(error.message));
      assert.equal(c.out(), '');
    }
  });

  test('unknown commands exit 2 and --help exits 0', async () => {
    const bad = capture();
    assert.equal(await main(['frobnicate'], bad.io), EXIT.usage);
    assert.match(bad.err(), /unknown command "frobnicate"/);
    const help = capture();
    assert.equal(await main(['--help'], help.io), EXIT.ok);
    assert.match(help.out(), /unlearn ask/);
  });
});
