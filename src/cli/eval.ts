import { EXIT, type CliIo } from './io';

// Placeholder until the eval command lands; it says so instead of pretending to work.
export async function evalCommand(_argv: string[], io: CliIo): Promise<number> {
  io.stderr('unlearn eval: not available in this build yet\n');
  return EXIT.failure;
}
