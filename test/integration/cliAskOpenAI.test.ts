// The built CLI with --provider openai, run as a user would, against the scripted OpenAI-compatible
// server: the whole pipeline over /v1/chat/completions, relevance over /v1/embeddings, the key from
// $UNLEARN_API_KEY, and the messages that name the flags to fix.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isParallelismProbe } from '../../src/core/llm/parallelism';
import { criticEach, edits } from '../support/erasedReplies';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scriptedOpenAI';

const CLI = resolve(__dirname, '../../dist/cli.js');
const MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const EMBED = 'BAAI/bge-small-en-v1.5';
const KEY = 'sk-team-key-for-tests';

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('unlearn ask --provider openai (built CLI) against the scripted OpenAI-compatible server', () => {
  let server: ScriptedOpenAI;
  let targets: string;
  let cacheDir: string;
  const base = () => ['--provider', 'openai', '--base-url', server.host, '--model', MODEL, '--targets', targets, '--cache-dir', cacheDir];

  before(async () => {
    assert.ok(existsSync(CLI), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
    server = await startScriptedOpenAI({ models: [MODEL, EMBED], apiKey: KEY });
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-cli-openai-'));
    targets = join(dir, 'targets.json');
    cacheDir = join(dir, 'cache');
    await writeFile(
      targets,
      JSON.stringify([{ name: 'Project Falcon', aliases: ['Falcon'], description: 'a stealth drone programme run from Lisbon' }]),
    );
  });
  after(() => server.close());
  beforeEach(() => {
    server.reset();
    server.authorizations.length = 0;
  });

  test('answers through the whole pipeline: the target the model names is masked, the rest kept, exit 0', async () => {
    server.setScript({
      vanilla: 'Project Falcon is a stealth drone assembled in Lisbon. Most batteries last about an hour.',
      // Erasure as edits: each candidate replaces the sentence that names the target with a placeholder.
      edit: edits([{ replace: [{ sentence: 1, text: '[redacted:T1] is confidential.' }] }]),
      critic: criticEach({ forget: 5, utility: 5 }),
    });
    // The question shares no word with the target: the draft is written, and it names the target.
    const r = await runCli(['ask', 'What is the team working on this year?', ...base(), '--embedding-model', 'none'], {
      UNLEARN_API_KEY: KEY,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[redacted: Project Falcon] is confidential. Most batteries last about an hour.\n');
    // The CLI measures the server's slots first (its probe requests are not agent calls).
    assert.deepEqual(
      server.chats.filter((c) => !isParallelismProbe(c.messages)).map((c) => c.role),
      ['vanilla', 'edit', 'critic'],
    );
    assert.ok(server.requests.every((q) => q.path === '/v1/chat/completions' || q.path === '/v1/models'));
    assert.ok(server.authorizations.every((a) => a === `Bearer ${KEY}`));
    assert.ok(!r.stderr.includes(KEY), 'the key reached stderr');
  });

  test('a question whose keywords alone bind a target, with no embedding model: no draft is started, the rewrite agent answers', async () => {
    server.setScript({
      vanilla: 'Project Falcon is a stealth drone assembled in Lisbon.',
      rewrite: 'That programme is confidential. Most batteries last about an hour.',
      edit: edits([{}]),
      critic: criticEach({ forget: 5, utility: 5 }),
    });
    const r = await runCli(
      ['ask', 'What is the stealth drone programme run from Lisbon building?', ...base(), '--embedding-model', 'none', '--json'],
      {
        UNLEARN_API_KEY: KEY,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.outcome, 'erased');
    assert.equal(result.answer, 'That programme is confidential. Most batteries last about an hour.');
    assert.deepEqual(
      server.chats.filter((c) => !isParallelismProbe(c.messages)).map((c) => c.role),
      ['rewrite', 'edit', 'critic'],
    );
    assert.ok(result.relevance.shortlist[0].signals.some((s: { kind: string; binding?: boolean }) => s.kind === 'keyword' && s.binding));
  });

  test('--embedding-model embeds the targets and the question through /v1/embeddings', async () => {
    server.setScript({ default: 'Paris is the capital of France.' });
    const r = await runCli(['ask', 'What is the capital of France?', ...base(), '--embedding-model', EMBED, '--json'], {
      UNLEARN_API_KEY: KEY,
    });
    assert.equal(r.code, 0, r.stderr);
    const embeds = server.requests.filter((q) => q.path === '/v1/embeddings');
    assert.ok(embeds.length >= 1, 'no /v1/embeddings request');
    assert.ok(embeds.every((q) => (q.body as { model?: string }).model === EMBED));
    assert.ok(
      server.embedded.some((t) => t.includes('capital of France')),
      'the question was not embedded',
    );
    const result = JSON.parse(r.stdout);
    assert.equal(result.provider, 'openai');
    assert.equal(result.answer, 'Paris is the capital of France.');
  });

  test('--embedding-base-url sends /v1/embeddings to a second server (one model per server, as vLLM serves)', async () => {
    const embedder = await startScriptedOpenAI({ models: [EMBED], apiKey: KEY });
    try {
      // The chat server does not hold the embedding model: embeddings sent there would fail.
      server.setModels([MODEL]);
      server.setScript({ default: 'Paris is the capital of France.' });
      const r = await runCli(
        ['ask', 'What is the capital of France?', ...base(), '--embedding-model', EMBED, '--embedding-base-url', embedder.host],
        { UNLEARN_API_KEY: KEY },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'Paris is the capital of France.\n');
      assert.ok(!server.requests.some((q) => q.path === '/v1/embeddings'), 'embeddings went to the chat server');
      assert.ok(
        embedder.embedded.some((t) => t.includes('capital of France')),
        'the question was not embedded by the second server',
      );
      assert.ok(embedder.authorizations.every((a) => a === `Bearer ${KEY}`));
      assert.ok(!/embedding/i.test(r.stderr), `a relevance notice: ${r.stderr}`);
    } finally {
      server.setModels([MODEL, EMBED]);
      await embedder.close();
    }
  });

  test('no $UNLEARN_API_KEY → the server refuses; stderr says where the key goes; exit 1', async () => {
    server.setScript({ default: 'never shown' });
    const r = await runCli(['ask', 'Hello?', ...base(), '--embedding-model', 'none']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /refused the API key \(HTTP 401/);
    assert.match(r.stderr, /set the API key in \$UNLEARN_API_KEY/);
  });

  test('--provider openai without a base URL is a usage error, not a fall back to Ollama', async () => {
    const r = await runCli(['ask', 'Hello?', '--provider', 'openai', '--model', MODEL]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--provider openai needs --base-url URL/);
  });

  test('nothing listening at the base URL → exit 3 naming --base-url', async () => {
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((done) => probe.close(() => done()));
    const r = await runCli([
      'ask',
      'Hello?',
      '--provider',
      'openai',
      '--base-url',
      `http://127.0.0.1:${port}/v1`,
      '--model',
      MODEL,
      '--embedding-model',
      'none',
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /Cannot reach the OpenAI-compatible server at http:\/\/127\.0\.0\.1:\d+\/v1/);
    assert.match(r.stderr, /check --base-url/);
  });
});
