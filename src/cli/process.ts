import { EXIT, type CliIo } from './io';

/**
 * Runs a command on this process's arguments and streams: the first Ctrl-C aborts the command's signal
 * (it stops at the next model call and exits 130), a second one exits at once. Shared by the `unlearn`
 * CLI and the separately bundled benchmark.
 */
export function runCli(command: (argv: string[], io: CliIo) => Promise<number>, name = 'unlearn'): void {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    controller.abort();
  });
  command(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    stdoutIsTTY: process.stdout.isTTY,
    stderrIsTTY: process.stderr.isTTY,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
