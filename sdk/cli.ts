/**
 * The `xrm` command line: `xrm <command> [options]`. Commands live in sdk/cli/ and are listed in
 * COMMANDS; adding one (e.g. `codegen`) is a new module and one line here.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CliError, type Command, type Io } from './cli/command.ts';
import { codegenCommand } from './cli/codegen-command.ts';
import { seedCommand } from './cli/seed-command.ts';
import { typesCommand } from './cli/types-command.ts';

export const COMMANDS: readonly Command[] = [typesCommand, codegenCommand, seedCommand];

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: xrm <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `xrm <command> --help` for a command's options.",
    '',
  ].join('\n');
}

/** Runs one command line (without the node and script arguments); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(overview());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`xrm: unknown command "${name}"\n\n${overview()}`);
    return 1;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout(`${command.help}\n`);
      return 0;
    }
    return await command.run(values, positionals, io);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof CliError || code?.startsWith('ERR_PARSE_ARGS_')) {
      io.stderr(`xrm ${command.name}: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
