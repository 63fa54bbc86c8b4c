import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, type CliIo } from './io';

/** The flags of every command that runs the pipeline, with the same meaning everywhere. */
export const PIPELINE_FLAGS = {
  model: { type: 'string' },
  provider: { type: 'string' },
  host: { type: 'string' },
  'base-url': { type: 'string' },
  'embedding-base-url': { type: 'string' },
  candidates: { type: 'string' },
  'top-k': { type: 'string' },
  parallel: { type: 'string' },
  'num-ctx': { type: 'string' },
  'embedding-model': { type: 'string' },
  'audit-policy': { type: 'string' },
} as const;

/** `-h`/`--help`, which every command takes. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h', default: false } } as const;

/** How a command talks back while its flags are read. */
export interface CommandText {
  readonly io: CliIo;
  readonly help: string;
  /** Prints the message and the usage; returns the usage exit code. */
  readonly usage: (message: string) => number;
}

/**
 * Reads a command's flags (its `options` must include HELP_FLAG): the parsed values, or the exit code
 * when there is nothing more to do — a flag it does not know (usage, exit 2) or `--help` (the help, exit 0).
 */
export function parseCommandLine<T extends ParseArgsConfig & { options: typeof HELP_FLAG }>(
  config: T,
  text: CommandText,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    return text.usage((error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    text.io.stdout(text.help + '\n');
    return EXIT.ok;
  }
  return parsed;
}
