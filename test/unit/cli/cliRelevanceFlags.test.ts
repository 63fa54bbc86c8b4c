import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askCommand } from '../../../src/cli/ask';
import { EXIT, type CliIo } from '../../../src/cli/io';
import { cacheDirOf, embeddingModelOf, parseAuditPolicy } from '../../../src/cli/relevanceFlags';
import { FakeLlm } from '../../support/fakeLlm';
import { criticScores, NEUTRAL_DRAFT, replaceDraft } from '../../support/erasedReplies';

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'unlearn-flags-'));
  const file = join(dir, 't.json');
  await writeFile(file, JSON.stringify([{ name: 'Ingrid Valtonen', description: 'A marine biologist in Turku who studies seals.' }]));
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: { XDG_CACHE_HOME: join(dir, 'cache') },
    cwd: dir,
    signal: new AbortController().signal,
  };
  return { file, io, out: () => out.join(''), err: () => err.join('') };
}

describe('unlearn ask: relevance flags', () => {
  test('--audit-policy takes related, always or named; anything else is a usage error', async () => {
    assert.equal(parseAuditPolicy(undefined), 'related');
    assert.equal(parseAuditPolicy('always'), 'always');
    const s = await setup();
    const code = await askCommand(['hi', '--targets', s.file, '--audit-policy', 'sometimes'], s.io, { connect: () => new FakeLlm({}) });
    assert.equal(code, EXIT.usage);
    assert.match(s.err(), /--audit-policy must be one of related, always, named/);
  });

  test('--embedding-model none: no embed call, and a surname still reaches the audit on keywords', async () => {
    const s = await setup();
    const llm = new FakeLlm({
      vanilla: 'She counted grey seals.',
      detect: { touched: [{ target: 'T1', how: 'described' }] },
      rewrite: NEUTRAL_DRAFT,
      edit: replaceDraft(['I cannot discuss that person.', 'No.', 'Sorry.']),
      // Scored apart: the merge of the best two takes the best one's sentence.
      critic: criticScores([1, 2, 3].map((candidate) => ({ forget: 5, utility: 6 - candidate }))),
    });
    const code = await askCommand(['What did Dr. Valtonen find?', '--targets', s.file, '--embedding-model', 'none'], s.io, {
      connect: () => llm,
    });
    assert.equal(code, EXIT.ok);
    assert.equal(llm.embedded.length, 0);
    assert.equal(s.out(), 'I cannot discuss that person.\n');
  });

  test('--audit-policy named keeps the one-call path for a question that does not spell a name', async () => {
    const s = await setup();
    const llm = new FakeLlm({ vanilla: 'She counted grey seals.' });
    const code = await askCommand(['What did the seal researcher find?', '--targets', s.file, '--audit-policy', 'named'], s.io, {
      connect: () => llm,
    });
    assert.equal(code, EXIT.ok);
    assert.deepEqual(
      llm.calls.map((c) => c.role),
      ['vanilla'],
    );
    assert.equal(llm.embedded.length, 0, 'named never embeds');
  });

  test('defaults: the embedding model from the environment, the cache under XDG_CACHE_HOME or ~/.cache', () => {
    assert.equal(embeddingModelOf(undefined, {}), 'embeddinggemma');
    assert.equal(embeddingModelOf(undefined, { UNLEARN_EMBEDDING_MODEL: 'all-minilm' }), 'all-minilm');
    assert.equal(embeddingModelOf('NONE', {}), undefined);
    const io = { cwd: '/w', env: { XDG_CACHE_HOME: '/c' } } as unknown as CliIo;
    assert.equal(cacheDirOf(undefined, io), join('/c', 'unlearn', 'embeddings'));
    assert.equal(cacheDirOf('rel', io), join('/w', 'rel'));
    assert.equal(
      cacheDirOf(undefined, { cwd: '/w', env: { HOME: '/h' } } as unknown as CliIo),
      join('/h', '.cache', 'unlearn', 'embeddings'),
    );
  });
});
