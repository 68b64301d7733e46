// What the toolchain's CLI commands share: saved settings plus flag overrides, tool output lines
// on stderr (stdout stays one JSON document with --json), and ToolchainError printed with its fix.
import { resolve } from 'node:path';
import { optString, type ParsedArgs } from '../cli/args.ts';
import type { CommandIo } from '../cli/command.ts';
import type { ToolchainSettings } from '../api/toolchain.api.ts';
import type { FlowContext } from './flow.ts';
import { loadSettings, withOverrides } from './settings.ts';
import { ToolchainError } from './toolchain-error.ts';

export const TOOL_FLAGS = `  --izer PATH          ai8x-synthesis checkout (holds ai8xize.py)
  --python PATH        Python for the izer (default: its venv, else python3)
  --maxim-path PATH    MSDK folder (MAXIM_PATH)
  --arm-gcc PATH       arm-none-eabi-gcc
  --make PATH          GNU make
  --openocd PATH       OpenOCD executable
  --openocd-scripts P  OpenOCD scripts folder (holds target/max78002.cfg)
  --state-dir DIR      where saved settings live (default $QATWB_STATE_DIR or the user config folder)
  --quiet              do not echo tool output on stderr
  --json               print one JSON document on stdout`;

/** The value options behind TOOL_FLAGS (the toolchain commands accept them all), and its flags. */
export const TOOL_OPTIONS = ['izer', 'python', 'maxim-path', 'arm-gcc', 'make', 'openocd', 'openocd-scripts', 'state-dir'] as const;
export const TOOL_BOOLEANS = ['quiet'] as const;

export async function cliSettings(args: ParsedArgs): Promise<ToolchainSettings> {
  const { defaultStateDir } = await import('../server/state-dir.ts');
  const stateDir = resolve(optString(args, 'state-dir') ?? defaultStateDir());
  const abs = (k: string) => {
    const v = optString(args, k);
    return v === undefined ? undefined : resolve(v);
  };
  const python = optString(args, 'python');
  return withOverrides(await loadSettings(stateDir), {
    izerDir: abs('izer'),
    python: python && (python.includes('/') || python.includes('\\')) ? resolve(python) : python,
    maximPath: abs('maxim-path'),
    armGcc: abs('arm-gcc'),
    make: abs('make'),
    openocd: abs('openocd'),
    openocdScripts: abs('openocd-scripts'),
  });
}

export function cliContext(args: ParsedArgs, io: CommandIo, settings: ToolchainSettings): FlowContext {
  const quiet = args.options.has('quiet');
  let lastFraction = -1;
  return {
    settings,
    ...(io.signal ? { signal: io.signal } : {}),
    onLine: quiet ? undefined : (tool, line) => io.err(`[${tool}] ${line}`),
    onProgress: quiet || args.options.has('json')
      ? undefined
      : (p) => {
        // Only whole-percent steps, so a progress bar's redraws do not flood the terminal.
        const f = p.fraction === undefined ? -1 : Math.floor(p.fraction * 100);
        if (f === lastFraction) return;
        lastFraction = f;
        io.err(`-- ${p.phase}${f >= 0 ? ` ${f}%` : ''}${p.message ? `: ${p.message}` : ''}`);
      },
  };
}

/** The flag that points the CLI at a tool the app's Settings would otherwise name. */
const FLAG_OF: Partial<Record<ToolchainError['tool'], string>> = {
  ai8xize: '--izer PATH', python: '--python PATH', gcc: '--arm-gcc PATH', make: '--make PATH (or --maxim-path PATH)', openocd: '--openocd PATH / --openocd-scripts PATH',
};

/** Runs a command body; a ToolchainError becomes {error:{...}} (with --json) and exit code 1. */
export async function runCli(args: ParsedArgs, io: CommandIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof ToolchainError)) throw error;
    if (args.options.has('json')) io.out(JSON.stringify({ error: { code: error.code, ...error.details() } }));
    io.err(error.message);
    if (error.reason === 'not-found' && FLAG_OF[error.tool]) io.err(`  (on the command line: ${FLAG_OF[error.tool]})`);
    if (error.evidence) io.err(`  (from: ${error.evidence})`);
    return 1;
  }
}
