// Argument dispatch for meshctl. Exit codes: 0 success, 1 the command found problems
// (e.g. invalid config), 2 the command line itself is wrong.
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: readonly string[], io: CliIo): Promise<number>;
}

export class UsageError extends Error {
  readonly code = 'TRL_CLI_USAGE';
}

const commands: readonly Command[] = [statusCommand, validateCommand];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'meshctl: the Trellis service mesh command line',
    '',
    'Usage: meshctl <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `meshctl <command> --help` for the options of one command.',
    '',
  ].join('\n');
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`meshctl: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`meshctl ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    throw error;
  }
}
