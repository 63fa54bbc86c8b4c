import { EXIT, type CliIo } from './io';
import { askCommand } from './ask';
import { benchCommand } from './bench';
import { calibrateCommand } from './calibrate';
import { evalCommand } from './eval';
import { runCli } from './process';

const USAGE = `unlearn — ask a local Ollama model without revealing your forget targets

Usage:
  unlearn ask "question" [--targets FILE] [--model M] [--host URL] [--embedding-model M] [--audit-policy P] [--json]
  unlearn eval <generate|run> [options]     (unlearn eval --help)
  unlearn bench [options]                   (unlearn bench --help)
  unlearn calibrate [--embedding-model M] [--targets FILE] [--out DIR]   (unlearn calibrate --help)

Exit codes: 0 answered, 1 other failure, 2 usage or input error, 3 Ollama unreachable, 4 model missing.`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'ask':
      return askCommand(rest, io);
    case 'eval':
      return evalCommand(rest, io);
    case 'bench':
      return benchCommand(rest, io);
    case 'calibrate':
      return calibrateCommand(rest, io);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      (command ? io.stdout : io.stderr)(USAGE + '\n');
      return command ? EXIT.ok : EXIT.usage;
    default:
      io.stderr(`unlearn: unknown command "${command}"\n\n${USAGE}\n`);
      return EXIT.usage;
  }
}

if (require.main === module) runCli(main);
