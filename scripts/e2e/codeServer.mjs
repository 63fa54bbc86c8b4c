// code-server for the e2e scripts and `npm start`: a fresh user-data, extensions and config per run,
// bound to 127.0.0.1 on a free port it picks itself, the extension installed from a .vsix.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from './installCodeServer.mjs';
import { startProcess, stopGroup } from './processes.mjs';

/**
 * User settings that make code-server's workbench usable without a person and without GitHub
 * (see shared/docs/e2e-notes.md): no trust dialog, chat usable without a Copilot sign-in, no welcome tab, no
 * parent-folder git prompt. The Unlearn walkthrough still opens on the extension's first activation.
 */
export const BASE_USER_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'chat.allowAnonymousAccess': true,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  // The workspace copy under .cache/ sits inside this repository: no "open the repository in the
  // parent folder?" prompt, no background fetches, no recommendation toasts over a newcomer's first look.
  'git.openRepositoryInParentFolders': 'never',
  'git.autofetch': false,
  'extensions.ignoreRecommendations': true,
};

function tail(text, lines = 30) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function env24(paths) {
  return { ...process.env, PATH: `${dirname(paths.node)}:${process.env.PATH}` };
}

/**
 * Writes the user settings (browser side) and the remote "machine" settings. code-server is a remote
 * window: settings with `"scope": "machine"` (like unlearn.ollamaHost) are read only from
 * UD/Machine/settings.json there, and silently ignored in UD/User/settings.json.
 */
export function writeUserSettings(userDataDir, settings, machineSettings = {}) {
  const file = join(userDataDir, 'User', 'settings.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify({ ...BASE_USER_SETTINGS, ...settings }, null, 2)}\n`);
  const machine = join(userDataDir, 'Machine', 'settings.json');
  mkdirSync(dirname(machine), { recursive: true });
  writeFileSync(machine, `${JSON.stringify(machineSettings, null, 2)}\n`);
  return file;
}

/** `code-server --install-extension` into the given dirs (no server needed); throws with its output. */
export function installExtension(paths, { userDataDir, extensionsDir, vsix }) {
  const r = spawnSync(
    paths.node,
    [paths.codeServer, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'],
    {
      env: env24(paths),
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 || !/successfully installed/i.test(out))
    throw new Error(`code-server could not install ${vsix} (exit ${r.status}):\n${tail(out)}`);
  return out;
}

/**
 * Starts code-server and resolves once it answers /healthz.
 * @param {object} options
 * @param {{ node: string, codeServer: string }} options.paths from ensureCodeServer()
 * @param {string} options.dir a fresh folder for this run (user-data, extensions, config, log)
 * @param {boolean} [options.smokeTestDriver] accept `?payload=` (extension tests) and call codeAutomation* hooks
 * @param {number} [options.port] 0 (default): a free port chosen by code-server
 * @param {(line: string) => void} [options.log]
 * @param {number} [options.startupTimeoutMs]
 */
export async function startCodeServer({
  paths,
  dir,
  port: wantedPort = 0,
  smokeTestDriver = false,
  log = () => {},
  startupTimeoutMs = 60_000,
}) {
  const userDataDir = join(dir, 'user-data');
  const extensionsDir = join(dir, 'extensions');
  const configFile = join(dir, 'config.yaml');
  const logFile = join(dir, 'code-server.log');
  mkdirSync(userDataDir, { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  // Our own --config, or code-server reads (and may write) ~/.config/code-server/config.yaml.
  if (!existsSync(configFile)) writeFileSync(configFile, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');

  const args = [
    paths.codeServer,
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${wantedPort}`,
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];

  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    let port;
    const child = startProcess('code-server', paths.node, args, {
      env: env24(paths),
      logFile,
      onLine: (line) => {
        const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (m) port = Number(m[1]);
        log(line);
      },
    });
    let exited = null;
    child.once('exit', (code, signal) => (exited = { code, signal }));
    const deadline = Date.now() + startupTimeoutMs;
    let healthy = false;
    while (!exited && Date.now() < deadline) {
      if (port) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
          if (res.ok) {
            healthy = true;
            break;
          }
        } catch {
          // not up yet
        }
      }
      await sleep(200);
    }
    if (healthy) {
      return {
        port,
        url: `http://127.0.0.1:${port}`,
        userDataDir,
        extensionsDir,
        logFile,
        child,
        stop: () => stopGroup(child),
      };
    }
    const logText = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    lastError = new Error(
      `code-server did not become healthy (attempt ${attempt}/3: ${exited ? `exited with ${exited.code ?? exited.signal}` : `no answer within ${startupTimeoutMs / 1000} s`}); its log ${logFile}:\n${tail(logText)}`,
    );
    await stopGroup(child);
    log(`e2e: ${lastError.message.split('\n')[0]}; retrying`);
  }
  throw lastError;
}

function runNpm(args, what) {
  const r = spawnSync('npm', args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${tail(`${r.stdout ?? ''}${r.stderr ?? ''}`)}`);
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/**
 * Builds the extension and packs it into a .vsix in `outDir` with the project's own `npm run package`
 * (the .vsix it writes into the repository root is moved here), so the end-to-end run installs exactly
 * what a user would. A failing package script fails the run.
 */
export function buildVsix(outDir, log = console.log) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  mkdirSync(outDir, { recursive: true });
  const name = `${pkg.name}-${pkg.version}.vsix`;
  const target = join(outDir, name);
  rmSync(target, { force: true });
  rmSync(join(repoRoot, name), { force: true });
  log('e2e: npm run package');
  runNpm(['run', 'package'], 'npm run package');
  if (!existsSync(join(repoRoot, name))) throw new Error(`npm run package succeeded but wrote no ${name} into the repository root`);
  renameSync(join(repoRoot, name), target);
  return target;
}
