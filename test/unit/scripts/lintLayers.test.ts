import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';

// Lints small sources as if they were files of src/, with the project's own eslint.config.mjs, so these tests
// fail if the layer rule is dropped from the config, not only if the rule's code breaks.
const root = resolve(__dirname, '../../..');
let eslint: ESLint;

before(() => {
  eslint = new ESLint({ cwd: root });
});

/** Rule ids ESLint reports for `code` placed at `file` (relative to the repo root). */
async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const probe = 1;\n`, { filePath: join(root, file) });
  return result.messages.map((m) => `${m.ruleId ?? 'parse'}${m.messageId ? `:${m.messageId}` : ''}`);
}

describe('layer rule (scripts/lint/layers.mjs in eslint.config.mjs)', () => {
  test('a lower core folder importing a higher one fails', async () => {
    assert.deepEqual(await problems('src/core/text/probe.ts', "import { runPipeline } from '../pipeline';\nvoid runPipeline;"), [
      'unlearn/layers:upward',
    ]);
  });

  test('a type-only import counts too (relevance once took AuditPolicy from pipeline/types)', async () => {
    assert.deepEqual(
      await problems(
        'src/core/relevance/probe.ts',
        "import type { PipelineOptions } from '../pipeline/types';\nexport type P = PipelineOptions;",
      ),
      ['unlearn/layers:upward'],
    );
  });

  test('re-exports and dynamic imports are checked like imports', async () => {
    assert.deepEqual(await problems('src/core/guard/probe.ts', "export { runVanilla } from '../agents';"), ['unlearn/layers:upward']);
    assert.deepEqual(await problems('src/core/llm/probe.ts', "export const load = () => import('../eval');"), ['unlearn/layers:upward']);
  });

  test('the depth of the importing file does not matter', async () => {
    assert.deepEqual(await problems('src/core/guard/parts/probe.ts', "import { runVanilla } from '../../agents';\nvoid runVanilla;"), [
      'unlearn/layers:upward',
    ]);
  });

  test('peers on one layer do not import each other; the core never imports a front end', async () => {
    assert.deepEqual(await problems('src/core/eval/probe.ts', "import { GUARDED_VENDOR } from '../guardedModels';\nvoid GUARDED_VENDOR;"), [
      'unlearn/layers:upward',
    ]);
    assert.deepEqual(await problems('src/cli/probe.ts', "import { runGuardBench } from '../bench/guardBench';\nvoid runGuardBench;"), [
      'unlearn/layers:upward',
    ]);
    assert.deepEqual(await problems('src/core/pipeline/probe.ts', "import { EXIT } from '../../cli/io';\nvoid EXIT;"), [
      'unlearn/layers:upward',
    ]);
  });

  test('imports down the layers pass, and so does the bench running the CLI', async () => {
    assert.deepEqual(await problems('src/core/pipeline/probe.ts', "import { relevanceOf } from '../relevance';\nvoid relevanceOf;"), []);
    assert.deepEqual(
      await problems('src/core/guard/parts/probe.ts', "import { parseTargets } from '../../targets';\nvoid parseTargets;"),
      [],
    );
    assert.deepEqual(await problems('src/vscode/probe.ts', "import { runPipeline } from '../core/pipeline';\nvoid runPipeline;"), []);
    assert.deepEqual(await problems('src/bench/probe.ts', "import { EXIT } from '../cli/io';\nvoid EXIT;"), []);
  });

  test('another core folder is imported through its index.ts, not its inner files', async () => {
    assert.deepEqual(
      await problems('src/core/pipeline/probe.ts', "import { redactionMarker } from '../guard/marker';\nvoid redactionMarker;"),
      ['unlearn/layers:inner'],
    );
    assert.deepEqual(
      await problems('src/vscode/chat/probe.ts', "import type { LlmPort } from '../../core/llm/port';\nexport type P = LlmPort;"),
      ['unlearn/layers:inner'],
    );
    assert.deepEqual(
      await problems('src/core/pipeline/probe.ts', "import { redactionMarker } from '../guard/index';\nvoid redactionMarker;"),
      [],
    );
  });

  test('inside its own folder a file imports inner files freely', async () => {
    assert.deepEqual(await problems('src/core/guard/probe.ts', "import { redactionMarker } from './marker';\nvoid redactionMarker;"), []);
  });

  test('only src/vscode may import vscode', async () => {
    const code = "import * as vscode from 'vscode';\nvoid vscode;";
    assert.deepEqual(await problems('src/core/targets/probe.ts', code), ['no-restricted-imports:pathWithCustomMessage']);
    assert.deepEqual(await problems('src/bench/probe.ts', code), ['no-restricted-imports:pathWithCustomMessage']);
    assert.deepEqual(await problems('src/vscode/probe.ts', code), []);
  });
});
