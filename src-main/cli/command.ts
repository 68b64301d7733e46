// What one `qatwb` subcommand is. Each lives in commands/<name>.ts and is listed in commands/index.ts.
import type { ParsedArgs } from './args.ts';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  /**
   * Aborted on Ctrl-C, SIGTERM or SIGHUP when the CLI runs as a process. A command that starts
   * child processes passes it on, so they (and their children) end with it; a command that never
   * reads it is simply ended by the signal.
   */
  signal?: AbortSignal;
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
  /** The command installs its own signal handlers (a server that shuts down in order). */
  ownsSignals?: boolean;
  /** Options that work bare or with an inline value (`--name` or `--name=value`). */
  optionalValues?: readonly string[];
  /** Words the command takes besides options (a subcommand path); default none. */
  positionals?: number;
  /** Returns the process exit code. With `--json`, print one JSON document on stdout. */
  run(args: ParsedArgs, io: CommandIo): Promise<number>;
}
