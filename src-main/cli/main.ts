// Entry of the `qatwb` CLI (plain Node, no Electron): dispatches to a subcommand.
import { COMMON_FLAGS, UsageError, parseArgs } from './args.ts';
import type { CommandIo } from './command.ts';
import { commands } from './commands/index.ts';
import { ApiError } from '../api/contract.ts';
import { processIo } from './stdio.ts';

const HELP = `qatwb — QAT Workbench command line

Usage: qatwb <command> [options]   (qatwb <command> --help for its options)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(16)}${c.summary}`)
  .join('\n')}

Common options:
  --json    print one JSON document on stdout (machine output)
  --help    show help
`;

export async function main(argv: string[], io: CommandIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    io.err(`Unknown command "${name}". Run "qatwb --help" for the list.`);
    return 2;
  }
  const { command } = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.summary}\n\nUsage:\n${command.usage}`);
    return 0;
  }
  try {
    const args = parseArgs(rest, { values: command.options, flags: [...COMMON_FLAGS, ...(command.booleans ?? [])] });
    return await command.run(args, io);
  } catch (error) {
    const json = rest.includes('--json');
    if (error instanceof UsageError) {
      if (json) io.out(JSON.stringify({ error: { code: 'usage', message: error.message } }));
      io.err(`qatwb ${name}: ${error.message}\nUsage:\n${command.usage}`);
      return 2;
    }
    const wire = error instanceof ApiError ? error.toJSON() : { code: 'internal', message: (error as Error).message ?? String(error) };
    if (json) io.out(JSON.stringify({ error: wire }));
    io.err(`qatwb ${name}: ${wire.message}`);
    if (!(error instanceof ApiError) && process.env.QATWB_DEBUG) io.err((error as Error).stack ?? '');
    return 1;
  }
}
