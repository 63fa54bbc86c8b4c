import { EXIT, type CliIo } from './io';

// Placeholder until the bench command lands; it says so instead of pretending to work.
export async function benchCommand(_argv: string[], io: CliIo): Promise<number> {
  io.stderr('unlearn bench: not available in this build yet\n');
  return EXIT.failure;
}
