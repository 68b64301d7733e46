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

/** `io` absent: the CLI runs as this process (stdio, and signal handling for the command). */
export async function main(argv: string[], given?: CommandIo): Promise<number> {
  const io = given ?? processIo();
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
  const interrupt = new AbortController();
  const stopListening = !given && !command.ownsSignals ? onInterrupt(io, interrupt) : undefined;
  try {
    const args = parseArgs(rest, { values: command.options, flags: [...COMMON_FLAGS, ...(command.booleans ?? [])], optionalValues: command.optionalValues ?? [], positionals: command.positionals ?? 0 });
    const code = await command.run(args, stopListening ? stopListening.io : io);
    return interrupt.signal.aborted ? 130 : code;
  } catch (error) {
    if (interrupt.signal.aborted) {
      io.err(`qatwb ${name}: interrupted; the tools it started were ended.`);
      return 130;
    }
    const json = rest.includes('--json');
    if (error instanceof UsageError) {
      if (json) io.out(JSON.stringify({ error: { code: 'usage', message: error.message } }));
      io.err(`qatwb ${name}: ${error.message}\nUsage:\n${command.usage}`);
      return 2;
    }
    // Details (a tool failure's evidence, ...) are for the commands that print them; here only code, message, field.
    const { details: _details, ...wire } = error instanceof ApiError ? error.toJSON() : { code: 'internal', message: (error as Error).message ?? String(error) };
    if (json) io.out(JSON.stringify({ error: wire }));
    io.err(`qatwb ${name}: ${wire.message}`);
    if (!(error instanceof ApiError) && process.env.QATWB_DEBUG) io.err((error as Error).stack ?? '');
    return 1;
  } finally {
    stopListening?.stop();
  }
}

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Signal handling for a command run as a process. A command that read `io.signal` gets it aborted
 * and ends its child process trees itself (Node's default would exit at once and orphan make, sh
 * and their children); one that never read it is ended at once, as without a handler. A second
 * signal always exits at once.
 */
function onInterrupt(io: CommandIo, controller: AbortController): { io: CommandIo; stop(): void } {
  let used = false;
  const wrapped: CommandIo = { out: io.out, err: io.err };
  Object.defineProperty(wrapped, 'signal', { enumerable: true, get: () => ((used = true), controller.signal) });
  const handler = (sig: NodeJS.Signals) => {
    if (!used || controller.signal.aborted) process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
    controller.abort(new ApiError('cancelled', `Interrupted (${sig}).`));
  };
  for (const s of INTERRUPTS) process.on(s, handler);
  return { io: wrapped, stop: () => { for (const s of INTERRUPTS) process.off(s, handler); } };
}
