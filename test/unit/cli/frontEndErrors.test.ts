/**
 * Core errors carry a code and facts; each front end words the fix for its own users. The same errors
 * here, as VS Code says them (errors/errorPresenterLogic.ts) and as the CLI says them (reportError), and the CLI's bench
 * command, which no longer carries the benchmark itself.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmError } from '../../../src/core/llm/errors';
import { describeChatError, describeListingError } from '../../../src/vscode/errors/errorPresenterLogic';
import { reportError } from '../../../src/cli/ask';
import { benchCommand } from '../../../src/cli/bench';
import { parseCommandLine, HELP_FLAG, PIPELINE_FLAGS } from '../../../src/cli/args';
import { EXIT, type CliIo } from '../../../src/cli/io';

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
    stdoutIsTTY: false,
    stderrIsTTY: false,
  };
}

const notOllama = new LlmError('http', 'Not an Ollama API at http://127.0.0.1:8080: the vanilla call got HTTP 404.', {
  host: 'http://127.0.0.1:8080',
  status: 404,
  suspect: 'host',
});
const refused = new LlmError('unreachable', 'Cannot reach Ollama at http://127.0.0.1:9. Is it running?', {
  host: 'http://127.0.0.1:9',
  suspect: 'host',
});

describe('each front end words the fix', () => {
  test('VS Code: a host under suspicion → the message names unlearn.ollamaHost and offers to open it', () => {
    const d = describeChatError(notOllama, 'http://127.0.0.1:8080', 'llama3.2');
    assert.match(d.message, /Not an Ollama API.*Check the `unlearn\.ollamaHost` setting\./);
    assert.deepEqual(d.buttons[0], { title: 'Open unlearn.ollamaHost', command: 'unlearn.openSetting', arguments: ['unlearn.ollamaHost'] });
    const other = describeChatError(new LlmError('http', 'HTTP 500'), 'h', 'm');
    assert.doesNotMatch(other.message, /ollamaHost/, 'an error the host did not cause names no host setting');
    assert.ok(!other.buttons.some((b) => b.command === 'unlearn.openSetting'));
  });

  test('VS Code: a missing model names the pull command with its short name', () => {
    const d = describeChatError(new LlmError('model-missing', '404'), 'h', 'mistral:latest');
    assert.match(d.message, /ollama pull mistral\b/);
    assert.doesNotMatch(d.message, /ollama pull mistral:latest/);
  });

  test('VS Code: a failed listing says so, with the same fix', () => {
    const d = describeListingError(refused, 'http://127.0.0.1:9');
    assert.match(d.message, /^Unlearn cannot list guarded models: cannot reach Ollama at http:\/\/127\.0\.0\.1:9\./);
    assert.match(d.message, /unlearn\.ollamaHost/);
    assert.equal(d.code, 'unreachable');
  });

  test('CLI: the same errors name --host, never a VS Code setting; exit codes by code', () => {
    for (const [error, code] of [
      [refused, EXIT.unreachable],
      [notOllama, EXIT.failure],
    ] as const) {
      const io = captureIo();
      assert.equal(reportError(io, error), code);
      const text = io.err.join('');
      assert.match(text, /check --host/);
      assert.doesNotMatch(text, /unlearn\.ollamaHost/);
    }
    const io = captureIo();
    reportError(io, new LlmError('timeout', 'slow'));
    assert.doesNotMatch(io.err.join(''), /--host/, 'a timeout is not the host');
  });
});

describe('unlearn bench without the benchmark bundle', () => {
  test('says how to get it, exit 1, when dist/bench.js is not next to the CLI', async () => {
    const io = captureIo();
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-bench-'));
    assert.equal(await benchCommand(['--quick'], io, dir), EXIT.failure);
    assert.match(io.err.join(''), /npm run bench/);
  });

  test('loads the bundle beside the CLI and hands it the arguments', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-bench-'));
    await writeFile(
      join(dir, 'bench.js'),
      'exports.benchCommand = async (argv, io) => { io.stdout("ran " + argv.join(" ")); return 0; };\n',
    );
    const io = captureIo();
    assert.equal(await benchCommand(['--quick', '--out', 'x.json'], io, dir), EXIT.ok);
    assert.deepEqual(io.out, ['ran --quick --out x.json']);
  });
});

describe('the CLI reads every command line the same way', () => {
  const config = (args: string[]) => ({ args, options: { ...PIPELINE_FLAGS, ...HELP_FLAG } });
  const text = (io: CliIo) => ({ io, help: 'HELP', usage: (m: string) => (io.stderr(m), EXIT.usage) });

  test('values, --help (exit 0) and an unknown flag (usage, exit 2)', () => {
    const io = captureIo();
    const parsed = parseCommandLine(config(['--model', 'qwen', '--num-ctx', '4096']), text(io));
    assert.ok(typeof parsed !== 'number');
    assert.equal(parsed.values.model, 'qwen');
    assert.equal(parsed.values['num-ctx'], '4096');
    assert.equal(parseCommandLine(config(['-h']), text(io)), EXIT.ok);
    assert.deepEqual(io.out, ['HELP\n']);
    assert.equal(parseCommandLine(config(['--nope']), text(io)), EXIT.usage);
    assert.match(io.err.join(''), /--nope/);
  });
});
