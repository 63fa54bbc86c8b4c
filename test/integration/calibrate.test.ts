// `unlearn calibrate` against the scripted Ollama server: the shipped question set is embedded over real
// HTTP, recall and false-shortlist rates are printed before and after fitting, the report files are
// written, and the fit is stored where the next `unlearn ask` with the same model and cache finds it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askCommand } from '../../src/cli/ask';
import { calibrateCommand } from '../../src/cli/calibrate';
import type { CliIo } from '../../src/cli/io';
import { startScriptedOllama, type ScriptedOllama } from '../support/scriptedOllama';
import { startScriptedOpenAI } from '../support/scriptedOpenAI';
import { REALISTIC_BUNCHING } from '../support/scriptedEmbeddings';

// Bunched similarities, as a real model gives: what calibration is for.
const EMBEDDER = { name: 'embeddinggemma:latest', embeddingDims: 768, embeddingBunching: REALISTIC_BUNCHING };
/** A user target: its examples join the positives. */
const MINE = {
  name: 'Harbourlight Initiative',
  description: 'An internal research programme building a tidal energy prototype for the port authority.',
  examples: ['When will the tidal prototype be tested at the harbour?', 'Which laboratory runs the experiment on wave power?'],
};

function io(dir: string, ollama: ScriptedOllama) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: { OLLAMA_HOST: ollama.host, XDG_CACHE_HOME: join(dir, 'xdg') },
    cwd: dir,
    signal: new AbortController().signal,
  };
  return { io: value, out, err };
}

describe('unlearn calibrate against the scripted Ollama server', () => {
  let ollama: ScriptedOllama;
  before(async () => {
    ollama = await startScriptedOllama({ models: ['llama3.2:latest', EMBEDDER] });
  });
  after(async () => ollama.close());

  test('prints before and after, writes calibration.json and the HTML report, and the next ask uses the fit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-calibrate-'));
    const targets = join(dir, 'targets.json');
    await writeFile(targets, JSON.stringify([MINE]));
    const cal = io(dir, ollama);
    const code = await calibrateCommand(
      ['--embedding-model', 'embeddinggemma', '--targets', targets, '--out', 'report', '--cache-dir', 'cache', '-q'],
      cal.io,
    );
    assert.equal(code, 0, cal.err.join(''));
    const printed = cal.out.join('');
    assert.match(printed, /on \d+ questions: \d+ about 22 subjects \(2 from your targets' examples\), 209 about none/);
    const before = printed.split('\n').find((l) => l.trim().startsWith('before '))!;
    const afterLine = printed.split('\n').find((l) => l.trim().startsWith('after '))!;
    assert.ok(before && afterLine, printed);
    assert.equal(before.match(/\d+\.\d%/g)?.length, 8, before);

    const json = JSON.parse(await readFile(join(dir, 'report', 'calibration.json'), 'utf8'));
    assert.equal(json.model, 'embeddinggemma');
    assert.equal(json.positives + json.negatives, json.questions);
    assert.equal(json.fromExamples, 2);
    // The fit is no worse on its own objective than the shipped numbers, and it moved them.
    const objective = (m: { together: { recall: number; falseRate: number } }) => m.together.recall - m.together.falseRate;
    assert.ok(
      objective(json.after) >= objective(json.before),
      JSON.stringify({ before: json.before.together, after: json.after.together }),
    );
    assert.notDeepEqual(json.after.thresholds, json.before.thresholds);
    assert.equal(json.fitted.floor, json.after.thresholds.floor);
    // The sure band binds at most 1% of the questions about nothing.
    assert.ok(json.after.sure.falseRate <= 0.01, String(json.after.sure.falseRate));
    const html = await readFile(join(dir, 'report', 'calibration.html'), 'utf8');
    assert.equal((html.match(/<svg /g) ?? []).length, 3);
    assert.match(html, /fitted margin/);

    // The next ask with the same model and cache reads the stored fit; another cache does not have it.
    // The question touches no target: the vanilla answer is the only call.
    ollama.setScript({ vanilla: 'Nothing about it here.' });
    const ask = async (cacheDir: string) => {
      const run = io(dir, ollama);
      const c = await askCommand(
        ['How do I reverse a linked list?', '--targets', targets, '--embedding-model', 'embeddinggemma', '--cache-dir', cacheDir, '--json'],
        run.io,
      );
      assert.equal(c, 0, run.err.join(''));
      return JSON.parse(run.out.join('')).relevance.semantic.calibration;
    };
    const calibrated = await ask('cache');
    assert.equal(calibrated.floor, json.fitted.floor);
    assert.equal(calibrated.margin, json.fitted.margin);
    assert.equal(calibrated.relativeToBest, json.fitted.relativeToBest);
    assert.equal(calibrated.fitted.questions, json.questions);
    const shipped = await ask('other-cache');
    assert.equal(shipped.fitted, undefined);
    assert.equal(shipped.floor, json.before.thresholds.floor);
  });

  test('--dry-run stores nothing; a missing model is exit 4 with the pull hint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-calibrate-'));
    const dry = io(dir, ollama);
    assert.equal(await calibrateCommand(['--embedding-model', 'embeddinggemma', '--cache-dir', 'cache', '--dry-run', '-q'], dry.io), 0);
    assert.match(dry.out.join(''), /Not stored/);
    const { readdir } = await import('node:fs/promises');
    assert.ok(!(await readdir(join(dir, 'cache'))).some((f) => f.endsWith('.calibration.json')));

    const missing = io(dir, ollama);
    assert.equal(await calibrateCommand(['--embedding-model', 'nomic-embed-text', '-q'], missing.io), 4);
    assert.match(missing.err.join(''), /nomic-embed-text/);
  });

  test('usage errors: no embedding model, a bad recall goal, a folder without the set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'unlearn-calibrate-'));
    for (const argv of [
      ['--embedding-model', 'none'],
      ['--recall-goal', '1.5'],
      ['--dataset', '.'],
    ]) {
      const run = io(dir, ollama);
      assert.equal(await calibrateCommand(argv, run.io), 2, argv.join(' '));
      assert.match(run.err.join(''), /unlearn calibrate: /);
    }
  });

  test('--provider openai embeds the set through /v1/embeddings of the base URL, never an Ollama path', async () => {
    const server = await startScriptedOpenAI({ models: ['llama3.2', { ...EMBEDDER, name: 'embeddinggemma' }] });
    try {
      const dir = await mkdtemp(join(tmpdir(), 'unlearn-calibrate-'));
      const run = io(dir, ollama);
      const code = await calibrateCommand(
        [
          '--provider',
          'openai',
          '--base-url',
          server.host,
          '--embedding-model',
          'embeddinggemma',
          '--cache-dir',
          'cache',
          '--dry-run',
          '-q',
        ],
        run.io,
      );
      assert.equal(code, 0, run.err.join(''));
      assert.match(run.out.join(''), /after /);
      const paths = new Set(server.requests.map((r) => r.path));
      assert.ok(paths.has('/v1/embeddings'), [...paths].join(' '));
      assert.ok(
        [...paths].every((p) => p.startsWith('/v1/')),
        [...paths].join(' '),
      );

      const wrong = io(dir, ollama);
      assert.equal(await calibrateCommand(['--provider', 'openai', '--embedding-model', 'embeddinggemma', '-q'], wrong.io), 2);
      assert.match(wrong.err.join(''), /--provider openai needs --base-url/);
    } finally {
      await server.close();
    }
  });
});
