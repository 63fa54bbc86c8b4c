import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EXIT, type CliIo } from './io';

/** The benchmark bundle's file name, next to dist/cli.js when built from a source checkout. */
const BENCH_BUNDLE = 'bench.js';

/**
 * `unlearn bench`: the benchmark is built as its own bundle (dist/bench.js) so its reference matchers
 * never ship in the CLI. Present beside the CLI (a source checkout after `npm run build`), it runs here;
 * otherwise this says how to get it.
 */
export async function benchCommand(argv: string[], io: CliIo, dir: string = __dirname): Promise<number> {
  const bundle = join(dir, BENCH_BUNDLE);
  if (!existsSync(bundle)) {
    io.stderr(
      `unlearn bench: the benchmark is not part of this build (no ${bundle}). In a source checkout of Unlearn, run "npm run bench" (or "npm run build" and then this command again).\n`,
    );
    return EXIT.failure;
  }
  // A runtime path, not a bundled import: esbuild must leave the benchmark out of dist/cli.js.
  const bench = createRequire(bundle)(bundle) as { benchCommand(argv: string[], io: CliIo): Promise<number> };
  return bench.benchCommand(argv, io);
}
