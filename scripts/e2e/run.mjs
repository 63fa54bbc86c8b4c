// `npm run test:e2e`: the extension in real VS Code (code-server), driven in headless Chromium, against
// the scripted Ollama server. Installs code-server if needed, builds and installs the .vsix, opens a
// copy of sample-workspace/, runs test/e2e/scenarios.mjs and saves screenshots in test-results/e2e/.
// Everything it starts is stopped at the end, on failure, on Ctrl-C and at the global limit.
//
//   npm run test:e2e [-- --only <text>] [--keep]      (--keep leaves the run folder for a look)
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { launchBrowser, openWorkbench } from './browser.mjs';
import { buildVsix, installExtension, startCodeServer, writeUserSettings } from './codeServer.mjs';
import { ensureCodeServer, repoRoot } from './installCodeServer.mjs';
import { installShutdownHandlers, onCleanup, stopAll } from './processes.mjs';

const LABEL = 'test:e2e';
const GLOBAL_LIMIT_MS = 15 * 60_000; // an install from scratch included; a run with code-server cached takes 2–3 min
const SCENARIO_LIMIT_MS = 150_000;
const resultsDir = join(repoRoot, 'test-results', 'e2e');
const buildDir = join(repoRoot, '.cache', 'e2e');

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const say = (line) => console.log(`[${elapsed().padStart(7)}] ${line}`);

/**
 * The scripted servers are TypeScript; esbuild turns them into modules this script can import. The
 * OpenAI-compatible one (scriptedOpenAI.ts) re-exports the scripted Ollama's vocabulary, so one module
 * serves both: `startScriptedOllama`, `startScriptedOpenAI`, `reply`, `fault`.
 */
async function loadScriptedServers() {
  const outfile = join(buildDir, 'scriptedServers.mjs');
  await esbuild.build({
    stdin: {
      contents:
        "export * from './test/support/scriptedOllama';\nexport { startScriptedOpenAI } from './test/support/scriptedOpenAI';\nexport { draftOf, criticCandidates } from './test/support/erasedReplies';\n",
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return import(`${outfile}?t=${Date.now()}`);
}

function selected(scenario, only) {
  return !only || scenario.name.toLowerCase().includes(only.toLowerCase());
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

async function main() {
  const { values } = parseArgs({ options: { only: { type: 'string' }, keep: { type: 'boolean', default: false } } });
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });

  const paths = ensureCodeServer({ log: say });
  say('code-server ready');
  const vsix = buildVsix(join(buildDir, 'vsix'), say);
  say(`built ${vsix}`);

  const support = await loadScriptedServers();
  const { falconScript, scenarios, MODEL, EMBEDDING_MODEL } = await import('../../test/e2e/scenarios.mjs');
  const ollama = await support.startScriptedOllama({
    // The embedding model too, so relevance by meaning works as with a real Ollama (768 dimensions, cut to 256).
    models: [
      { name: MODEL, contextLength: 8192, family: 'llama' },
      { name: EMBEDDING_MODEL, embeddingDims: 768 },
    ],
    script: falconScript(support),
  });
  onCleanup(() => ollama.close());
  say(`scripted Ollama at ${ollama.host}`);

  const runDir = mkdtempSync(join(tmpdir(), 'unlearn-e2e-'));
  if (!values.keep) onCleanup(() => rmSync(runDir, { recursive: true, force: true }));
  const workspace = join(runDir, 'sample-workspace');
  cpSync(join(repoRoot, 'sample-workspace'), workspace, { recursive: true });
  // A scenario may need the workspace in another state when the extension first activates (the
  // walkthrough's "add your first target" step needs no targets yet); it restores what it changed.
  for (const scenario of scenarios) if (selected(scenario, values.only)) await scenario.prepareWorkspace?.(workspace);

  const serverDir = join(runDir, 'server');
  const userDataDir = join(serverDir, 'user-data');
  const extensionsDir = join(serverDir, 'extensions');
  mkdirSync(extensionsDir, { recursive: true });
  installExtension(paths, { userDataDir, extensionsDir, vsix });
  const machineFile = writeUserSettings(
    userDataDir,
    {},
    { 'unlearn.ollamaHost': ollama.host, 'unlearn.model': MODEL, 'unlearn.embeddingModel': EMBEDDING_MODEL },
  ).replace(/User([\\/])settings\.json$/, 'Machine$1settings.json');
  /** The machine-scoped settings (provider, host, model): a scenario that changes them puts them back. */
  const machineSettings = {
    read: () => JSON.parse(readFileSync(machineFile, 'utf8')),
    write: (values) => writeFileSync(machineFile, `${JSON.stringify(values, null, 2)}\n`),
  };
  say('extension installed from the .vsix; user settings written');
  const server = await startCodeServer({ paths, dir: serverDir });
  say(`code-server at ${server.url} (log: ${server.logFile})`);

  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`[pageerror] ${e.message}`));
  onCleanup(() => writeFileSync(join(resultsDir, 'browser-console.log'), `${consoleLines.join('\n')}\n`), { beforeStop: true });
  await openWorkbench(page, `${server.url}/?folder=${encodeURIComponent(workspace)}`);
  say('workbench loaded');
  await page.screenshot({ path: join(resultsDir, '00-workbench.png') });

  let passed = 0;
  let failed = 0;
  let n = 0;
  for (const scenario of scenarios) {
    n++;
    if (!selected(scenario, values.only)) continue;
    const prefix = String(n).padStart(2, '0');
    const shots = [];
    const t = {
      page,
      ollama,
      support,
      workspace,
      machineSettings,
      step: (text) => say(`   · ${text}`),
      shot: async (name) => {
        const file = join(resultsDir, `${prefix}-${name}.png`);
        await page.screenshot({ path: file });
        shots.push(file);
      },
    };
    say(`▶ ${scenario.name}`);
    const t0 = Date.now();
    try {
      await withTimeout(scenario.run(t), SCENARIO_LIMIT_MS, `the scenario "${scenario.name}"`);
      passed++;
      say(`✔ ${scenario.name} (${((Date.now() - t0) / 1000).toFixed(1)} s; ${shots.map((s) => s.slice(repoRoot.length + 1)).join(', ')})`);
    } catch (error) {
      failed++;
      const file = join(resultsDir, `${prefix}-FAILED.png`);
      await page.screenshot({ path: file }).catch(() => {});
      say(`✘ ${scenario.name}: ${error instanceof Error ? error.message : String(error)}`);
      say(`   screenshot at failure: ${file.slice(repoRoot.length + 1)}`);
    }
  }
  say(`screenshots and browser console in ${resultsDir.slice(repoRoot.length + 1)}/`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed || !passed ? 1 : 0;
}

installShutdownHandlers({ timeoutMs: GLOBAL_LIMIT_MS, label: LABEL });
let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`${LABEL}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  code = 1;
} finally {
  await stopAll();
}
say(`done (exit ${code})`);
process.exit(code);
