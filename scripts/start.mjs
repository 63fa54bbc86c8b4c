// `npm start`: build the extension, pack it as a .vsix and open the sample workspace with it, ready
// for a local Ollama at http://127.0.0.1:11434.
//
// - With a desktop VS Code (`code` on PATH): installs the .vsix into it and opens sample-workspace/.
// - Without one: starts code-server (real VS Code in the browser, installed once from the npm registry
//   into .cache/code-server/) on 127.0.0.1 with fresh settings under .cache/start/, opens a copy of
//   sample-workspace/ there and prints the URL. Ctrl-C stops it.
//
//   npm start [-- --code-server] [--port 8080] [--folder <dir>] [--ollama-host http://127.0.0.1:11434]
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildVsix, installExtension, startCodeServer, writeUserSettings } from './e2e/codeServer.mjs';
import { ensureCodeServer, repoRoot } from './e2e/installCodeServer.mjs';
import { installShutdownHandlers, stopAll } from './e2e/processes.mjs';

const { values } = parseArgs({
  options: {
    'code-server': { type: 'boolean', default: false },
    port: { type: 'string', default: '0' },
    folder: { type: 'string' },
    'ollama-host': { type: 'string' },
  },
});
const say = (line) => console.log(`npm start: ${line}`);

function desktopCode() {
  if (values['code-server']) return undefined;
  const found = spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  // code-server's own `code` helper only works inside its terminal; only a desktop VS Code counts.
  return path && !path.includes('code-server') ? path : undefined;
}

async function main() {
  const vsix = buildVsix(join(repoRoot, '.cache', 'start', 'vsix'), say);
  say(`extension packed: ${vsix}`);

  const code = desktopCode();
  if (code) {
    const folder = resolve(values.folder ?? join(repoRoot, 'sample-workspace'));
    const installed = spawnSync(code, ['--install-extension', vsix, '--force'], { stdio: 'inherit' });
    if (installed.status !== 0) throw new Error(`${code} --install-extension failed (exit ${installed.status})`);
    spawnSync(code, [folder], { stdio: 'inherit' });
    say(`opened ${folder} in VS Code (${code}). Start Ollama with "ollama serve" and ask @unlearn in the chat view.`);
    return;
  }

  const paths = ensureCodeServer({ log: say });
  const dir = join(repoRoot, '.cache', 'start');
  const serverDir = join(dir, 'server');
  rmSync(serverDir, { recursive: true, force: true });
  let folder = values.folder ? resolve(values.folder) : join(dir, 'sample-workspace');
  if (!values.folder) {
    // A fresh copy each start, so trying things out never edits the committed sample.
    rmSync(folder, { recursive: true, force: true });
    cpSync(join(repoRoot, 'sample-workspace'), folder, { recursive: true });
  }
  const userDataDir = join(serverDir, 'user-data');
  const extensionsDir = join(serverDir, 'extensions');
  installExtension(paths, { userDataDir, extensionsDir, vsix });
  // code-server is a remote window: machine-scoped settings such as unlearn.ollamaHost live in Machine/.
  writeUserSettings(userDataDir, {}, values['ollama-host'] ? { 'unlearn.ollamaHost': values['ollama-host'] } : {});
  const server = await startCodeServer({ paths, dir: serverDir, port: Number(values.port) });
  folder = resolve(folder);
  console.log('');
  say(`Unlearn is running in code-server. Open this in a browser:\n\n    ${server.url}/?folder=${encodeURIComponent(folder)}\n`);
  say(`workspace: ${folder}`);
  say(
    `Ollama: ${values['ollama-host'] ?? 'http://127.0.0.1:11434 (the default; --ollama-host to change)'}; code-server log: ${server.logFile}`,
  );
  say('Ctrl-C to stop.');
  await new Promise((resolveExit) => server.child.once('exit', resolveExit));
  say('code-server exited.');
}

installShutdownHandlers({ timeoutMs: Infinity, label: 'npm start' });
let exitCode = 0;
try {
  await main();
} catch (error) {
  console.error(`npm start: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await stopAll();
}
process.exit(exitCode);
