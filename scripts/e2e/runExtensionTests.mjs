// Runs an extension-host test module (a file exporting `run(): Promise<void>`, as for
// @vscode/test-electron) inside code-server, i.e. real VS Code on this machine, and exits with its
// result: 0 when run() resolved, 1 when it rejected, 2 when the run itself could not happen.
//
//   node scripts/e2e/runExtensionTests.mjs --extensionDevelopmentPath <repo> --extensionTestsPath <dist/…/index.js>
//       [--workspace <folder>] [--timeout <seconds>]
//
// How (shared/docs/e2e-notes.md): code-server started with `--vscode-option enable-smoke-test-driver`
// takes the development extension and the test module from the page URL's `payload`; the workbench
// reports the module's output through window.codeAutomationLog and its end through
// window.codeAutomationExit(code), which the page exposes to this script. Every run gets a fresh
// user-data dir, extensions dir, config and workspace copy, so settings written by one run are not seen
// by the next.
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { format, parseArgs } from 'node:util';
import { launchBrowser, openWorkbench } from './browser.mjs';
import { startCodeServer, writeUserSettings } from './codeServer.mjs';
import { ensureCodeServer, repoRoot } from './installCodeServer.mjs';
import { installShutdownHandlers, onCleanup, stopAll } from './processes.mjs';

const LABEL = 'extension tests (code-server)';
/** The workbench's own console lines (connection set-up, no gallery, no GitHub), kept out of the terminal. */
const WORKBENCH_NOISE =
  /^(\[(AgentHost|ChatModelSelection|AccountPolicyGate|remote-connection|reconnection-grace-time|RemoteAgentHostProtocol|Service Worker|AgentHost:remote)[^\]]*\]|Creating a socket|Resolving connection token|Resolved connection token|Updating additional builtin|Creation of workbench contribution|getaddrinfo ENOTFOUND|Timed out waiting for authentication provider|WebSocket close with status|An unknown error occurred|Canceled: Canceled|\[DefaultAccount\])|^\s+at .*workbench\.js/;

function options() {
  const { values } = parseArgs({
    options: {
      extensionDevelopmentPath: { type: 'string', default: repoRoot },
      extensionTestsPath: { type: 'string' },
      workspace: { type: 'string' },
      timeout: { type: 'string', default: '480' },
      keep: { type: 'boolean', default: false },
    },
  });
  if (!values.extensionTestsPath) throw new Error('--extensionTestsPath is required (a module exporting run())');
  const abs = (p) => (isAbsolute(p) ? p : resolve(process.cwd(), p));
  return {
    extensionDevelopmentPath: abs(values.extensionDevelopmentPath),
    extensionTestsPath: abs(values.extensionTestsPath),
    workspace: values.workspace ? abs(values.workspace) : undefined,
    timeoutMs: Number(values.timeout) * 1000,
    keep: values.keep,
  };
}

/** Runs the suite; resolves to the exit code the workbench reported. */
export async function runExtensionTests({
  extensionDevelopmentPath,
  extensionTestsPath,
  workspace,
  timeoutMs = 480_000,
  keep = false,
  log = console.log,
  consoleLog = join(repoRoot, 'test-results', 'extension-tests', 'workbench-console.log'),
}) {
  for (const p of [extensionDevelopmentPath, extensionTestsPath])
    if (!existsSync(p)) throw new Error(`${p} does not exist (built? npm run build)`);
  const paths = ensureCodeServer({ log });
  const runDir = mkdtempSync(join(tmpdir(), 'unlearn-cs-ext-'));
  if (!keep) onCleanup(() => rmSync(runDir, { recursive: true, force: true }));
  const folder = join(runDir, 'workspace');
  if (workspace) cpSync(workspace, folder, { recursive: true });
  else {
    mkdirSync(join(folder, '.vscode'), { recursive: true });
    writeFileSync(join(folder, '.vscode', 'settings.json'), '{}\n');
  }
  const server = await startCodeServer({ paths, dir: join(runDir, 'server'), smokeTestDriver: true });
  writeUserSettings(server.userDataDir, {});
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionDevelopmentPath)],
    ['extensionTestsPath', remote(extensionTestsPath)],
    ['skipWelcome', 'true'],
  ];
  const url = `${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;

  const browser = await launchBrowser();
  const page = await browser.newPage();
  let settle;
  const exited = new Promise((r) => (settle = r));
  // The workbench forwards its whole console here, the extension host's (mocha's reporter) included.
  // Everything goes to a file; the terminal gets what is not the workbench's own chatter about the
  // missing network and GitHub sign-in.
  mkdirSync(dirname(consoleLog), { recursive: true });
  const full = createWriteStream(consoleLog);
  onCleanup(() => new Promise((r) => full.end(r)));
  let finished = false;
  const counts = { passing: undefined, failing: 0, pending: 0 };
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    // console.log's arguments as given: mocha's reporter passes printf-style formats ('%s', '%d').
    const parts = Array.isArray(args) ? args : [args];
    const text = format(...parts.map((a) => (typeof a === 'string' || typeof a === 'number' ? a : JSON.stringify(a))));
    const summary = /^\s*(\d+) (passing|failing|pending)\b/.exec(text);
    if (summary) counts[summary[2]] = Number(summary[1]);
    full.write(`[${type}] ${text}\n`);
    if (finished || WORKBENCH_NOISE.test(text)) return;
    if (type === 'error') console.error(text);
    else log(text);
  });
  await page.exposeFunction('codeAutomationExit', (code) => {
    finished = true;
    settle(Number(code));
  });
  page.on('pageerror', (error) => full.write(`[pageerror] ${error.message}\n`));
  const started = Date.now();
  await openWorkbench(page, url);
  const timer = new Promise((r) => setTimeout(() => r('timeout'), timeoutMs));
  const code = await Promise.race([exited, timer]);
  if (code === 'timeout')
    throw new Error(
      `the test module did not finish within ${timeoutMs / 1000} s (workbench console: ${consoleLog}; code-server log: ${server.logFile})`,
    );
  log(
    `${LABEL}: run() ${code === 0 ? 'resolved' : 'rejected'} after ${((Date.now() - started) / 1000).toFixed(1)} s (exit ${code}); full workbench console: ${consoleLog}`,
  );
  // The plain closing line CI reads, when the suite was mocha (its "N passing" / "N failing").
  if (counts.passing !== undefined)
    log(`extension-host: ${counts.passing} passed, ${counts.failing} failed${counts.pending ? `, ${counts.pending} skipped` : ''}`);
  return code;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  let code = 2;
  try {
    const opts = options();
    installShutdownHandlers({ timeoutMs: opts.timeoutMs + 300_000, label: LABEL });
    code = await runExtensionTests(opts);
  } catch (error) {
    console.error(`${LABEL}: could not run: ${error instanceof Error ? error.message : String(error)}`);
    code = 2;
  } finally {
    await stopAll();
  }
  process.exit(code);
}
