// Everything the e2e scripts start is registered here and stopped here: on success, on a thrown error,
// on Ctrl-C / SIGTERM / SIGHUP, and when the global deadline passes. Children run in their own process
// group (detached), so stopping one stops whatever it spawned too (code-server's extension host, the
// file watcher, Chromium's helpers).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** @type {Set<{ name: string, child: import('node:child_process').ChildProcess }>} */
const running = new Set();
/** @type {Array<() => Promise<void> | void>} */
const cleanups = [];
/** @type {Array<() => Promise<void> | void>} */
const beforeStop = [];
let stopping = null;

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM to the whole group, SIGKILL after `graceMs` if anything of it is left. */
export async function stopGroup(child, graceMs = 5_000) {
  const pid = child.pid;
  if (!pid) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) signalGroup(pid, 'SIGKILL');
}

/**
 * Starts a tracked process in its own process group; its output goes to `logFile` (and, line by line,
 * to `onLine` if given).
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, logFile?: string, onLine?: (line: string) => void }} [options]
 */
export function startProcess(name, command, args, { cwd, env, logFile, onLine } = {}) {
  const child = spawn(command, args, { cwd, env: env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { name, child };
  running.add(entry);
  child.on('exit', () => running.delete(entry));
  const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
  let partial = '';
  const feed = (chunk) => {
    file?.write(chunk);
    if (!onLine) return;
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', feed);
  child.on('close', () => file?.end());
  return child;
}

/**
 * Runs `fn` at shutdown, newest first: after the processes are stopped (removing their folders), or
 * with `{ beforeStop: true }` before (closing the browser while the server it talks to is still up).
 */
export function onCleanup(fn, { beforeStop: early = false } = {}) {
  (early ? beforeStop : cleanups).push(fn);
}

async function runAll(fns) {
  for (const fn of fns.reverse()) {
    try {
      await fn();
    } catch (error) {
      console.error(`e2e: cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/** Stops every tracked process and runs the cleanups; safe to call more than once. */
export function stopAll() {
  stopping ??= (async () => {
    await runAll(beforeStop);
    await Promise.all([...running].map(({ child }) => stopGroup(child)));
    await runAll(cleanups);
  })();
  return stopping;
}

/**
 * Installs the safety nets for a script's lifetime: signals stop everything and exit; a global deadline
 * fails the run instead of letting it hang; a last synchronous SIGKILL on exit for anything still there.
 * @param {{ timeoutMs: number, label: string }} options `timeoutMs: Infinity` for no limit (npm start)
 */
export function installShutdownHandlers({ timeoutMs, label }) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      console.error(`\n${label}: ${signal} received, stopping what was started…`);
      void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  if (Number.isFinite(timeoutMs)) {
    const timer = setTimeout(() => {
      console.error(`${label}: FAILED — still running after the global limit of ${Math.round(timeoutMs / 1000)} s; stopping everything.`);
      void stopAll().finally(() => process.exit(124));
    }, timeoutMs);
    timer.unref();
  }
  process.once('exit', () => {
    for (const { child } of running) if (child.pid) signalGroup(child.pid, 'SIGKILL');
  });
}
