/** What every `xrm` command is: a name, help text, its options, and a run function. */
import type { ParseArgsConfig } from 'node:util';

/** Where a command writes; tests pass their own. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | undefined>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line(s) and option descriptions, shown by `xrm <command> --help`. */
  readonly help: string;
  readonly options: OptionSpecs;
  /** Resolves to the process exit code. */
  run(options: OptionValues, positionals: readonly string[], io: Io): Promise<number>;
}

/** A failure the user can act on: printed as `xrm: <message>`, exit code 1, no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
