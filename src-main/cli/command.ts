// What one `qatwb` subcommand is. Each lives in commands/<name>.ts and is listed in commands/index.ts.
import type { ParsedArgs } from './args.ts';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage lines printed by `qatwb <name> --help`. */
  usage: string;
  /** Options that take a value. Anything not declared here or in `booleans` is refused (exit 2). */
  options: readonly string[];
  /** Options that take no value (besides --json and --help, which every command accepts). */
  booleans?: readonly string[];
  /** Returns the process exit code. With `--json`, print one JSON document on stdout. */
  run(args: ParsedArgs, io: CommandIo): Promise<number>;
}
