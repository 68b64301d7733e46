// What the toolchain's CLI commands share: saved settings plus flag overrides, tool output lines
// on stderr (stdout stays one JSON document with --json), and ToolchainError printed with its fix.
import { resolve } from 'node:path';
import { optString, type ParsedArgs } from '../cli/args.ts';
import type { CommandIo } from '../cli/command.ts';
import type { ToolchainSettings } from '../api/toolchain.api.ts';
import { ApiError, type CallOptions, type Progress } from '../api/contract.ts';
import type { Services } from '../api/index.ts';
import { withServices } from '../cli/connect.ts';
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

/** The app state folder the toolchain commands read saved settings from. */
export async function cliStateDir(args: ParsedArgs): Promise<string> {
  const { defaultStateDir } = await import('../server/state-dir.ts');
  return resolve(optString(args, 'state-dir') ?? defaultStateDir());
}

/** The tool flags given, as settings over the saved ones (never saved). */
export function cliOverrides(args: ParsedArgs): Partial<ToolchainSettings> {
  const abs = (k: string) => {
    const v = optString(args, k);
    return v === undefined ? undefined : resolve(v);
  };
  const python = optString(args, 'python');
  const overrides: Partial<ToolchainSettings> = {
    izerDir: abs('izer'),
    python: python && (python.includes('/') || python.includes('\\')) ? resolve(python) : python,
    maximPath: abs('maxim-path'),
    armGcc: abs('arm-gcc'),
    make: abs('make'),
    openocd: abs('openocd'),
    openocdScripts: abs('openocd-scripts'),
  };
  return Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
}

/** Tool output lines on stderr as `[tool] line`, unless --quiet. */
export function echoLine(args: ParsedArgs, io: CommandIo): ((tool: string, line: string) => void) | undefined {
  return args.options.has('quiet') ? undefined : (tool, line) => io.err(`[${tool}] ${line}`);
}

/** Job progress on stderr in whole-percent steps (a progress bar's redraws do not flood the terminal); none with --quiet or --json. */
export function echoProgress(args: ParsedArgs, io: CommandIo): ((p: Progress) => void) | undefined {
  if (args.options.has('quiet') || args.options.has('json')) return undefined;
  let lastFraction = -1;
  return (p) => {
    const f = p.fraction === undefined ? -1 : Math.floor(p.fraction * 100);
    if (f === lastFraction) return;
    lastFraction = f;
    io.err(`-- ${p.phase}${f >= 0 ? ` ${f}%` : ''}${p.message ? `: ${p.message}` : ''}`);
  };
}

/**
 * Runs a toolchain command through the toolchain service, the tool flags over the saved settings:
 * the service's `log` events are echoed as tool lines, and `job` holds the call's progress and
 * Ctrl-C signal.
 */
export async function withToolchain<T>(
  args: ParsedArgs, io: CommandIo, overrides: Partial<ToolchainSettings>,
  body: (toolchain: Services['toolchain'], job: CallOptions) => Promise<T>,
): Promise<T> {
  const onLine = echoLine(args, io);
  const onProgress = echoProgress(args, io);
  return withServices(['toolchain'], { stateDir: await cliStateDir(args), toolOverrides: { ...cliOverrides(args), ...overrides } }, async ({ api, on }) => {
    const stop = onLine ? on('toolchain', 'log', (p) => { const { tool, line } = p as { tool: string; line: string }; onLine(tool, line); }) : undefined;
    try {
      return await body(api.toolchain, { ...(io.signal ? { signal: io.signal } : {}), ...(onProgress ? { onProgress } : {}) });
    } finally {
      stop?.();
    }
  });
}

/** The flag that points the CLI at a tool the app's Settings would otherwise name. */
const FLAG_OF: Partial<Record<ToolchainError['tool'], string>> = {
  ai8xize: '--izer PATH', python: '--python PATH', gcc: '--arm-gcc PATH', make: '--make PATH (or --maxim-path PATH)', openocd: '--openocd PATH / --openocd-scripts PATH',
};

/** A tool failure as it arrives: thrown here (ToolchainError) or through the services (its wire form, details included). */
function toolFailure(error: unknown): (Record<string, unknown> & { tool: string; reason: string; evidence?: string }) | undefined {
  const d = error instanceof ApiError ? error.details : undefined;
  return d && typeof d.tool === 'string' && typeof d.reason === 'string' ? (d as Record<string, unknown> & { tool: string; reason: string; evidence?: string }) : undefined;
}

/** Runs a command body; a tool failure becomes {error:{code, tool, reason, fix, ...}} (with --json) and exit code 1. */
export async function runCli(args: ParsedArgs, io: CommandIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const details = toolFailure(error);
    if (!details) throw error;
    const { code, message } = error as ApiError;
    if (args.options.has('json')) io.out(JSON.stringify({ error: { code, ...details } }));
    io.err(message);
    const flag = FLAG_OF[details.tool as ToolchainError['tool']];
    if (details.reason === 'not-found' && flag) io.err(`  (on the command line: ${flag})`);
    if (details.evidence) io.err(`  (from: ${details.evidence})`);
    return 1;
  }
}
