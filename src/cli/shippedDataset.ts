/** Finds a dataset folder shipped next to the program. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * datasets/<name> next to the program, recognised by its `marker` file: two folders up from src/cli under
 * tsx, one up from dist/ when bundled.
 */
export function shippedDataset(name: string, marker: string): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'datasets', name);
    if (existsSync(join(candidate, marker))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}
