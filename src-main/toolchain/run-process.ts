// The only place that starts a child process. Argument arrays only (never a shell string), an
// explicit minimal environment, its own process group so cancel and timeout end the whole tree,
// output split into lines as it arrives, and failures diagnosed into a ToolchainError with a fix.
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Progress } from '../api/contract.ts';
import { diagnoseFailure, tail } from './error-map.ts';
import { endGroup, isGroupAlive, signalGroup } from './process-tree.ts';
import type { ProgressParser } from './tools/progress-parser.ts';
import { ToolchainError, type ToolName } from './toolchain-error.ts';

/** Longest line kept as one: longer output without a line end is cut into lines of this size. */
export const MAX_LINE_CHARS = 64 * 1024;

/** What a step that runs a tool takes from its caller: a time limit, cancel, its output lines and progress. */
export interface ToolRunHooks {
  timeoutMs?: number;
  signal?: AbortSignal;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  onProgress?: (p: Progress) => void;
}

export interface RunOptions extends ToolRunHooks {
  tool: ToolName;
  /** Executable path (or a bare name looked up on the PATH given in `env`). */
  file: string;
  args: readonly string[];
  cwd: string;
  /** Variables the tool needs, on top of the minimal base (PATH, HOME, temp, locale, Windows basics). */
  env?: Record<string, string | undefined>;
  /** Between SIGTERM and SIGKILL on cancel/timeout. */
  graceMs?: number;
  progress?: ProgressParser;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: readonly number[];
  /** Lines kept in memory for diagnosis and the result (default 20,000; the oldest are dropped). */
  maxLines?: number;
}

export interface RunResult {
  exitCode: number;
  lines: string[];
  durationMs: number;
  command: string[];
}

/** runProcess for a step: the caller's hooks, its time limit or the step's `defaultTimeoutMs`. */
export function runStep(hooks: ToolRunHooks, defaultTimeoutMs: number, o: Omit<RunOptions, keyof ToolRunHooks>): Promise<RunResult> {
  return runProcess({ ...o, timeoutMs: hooks.timeoutMs ?? defaultTimeoutMs, signal: hooks.signal, onLine: hooks.onLine, onProgress: hooks.onProgress });
}

// Inherited from the parent only by name: everything else a tool sees is set explicitly.
const BASE_ENV_NAMES = [
  'PATH', 'HOME', 'USER', 'LOGNAME', 'TMPDIR', 'TEMP', 'TMP',
  // Windows needs these for DLL lookup, sockets and user folders.
  'SystemRoot', 'SYSTEMROOT', 'windir', 'ComSpec', 'PATHEXT', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'HOMEDRIVE', 'HOMEPATH',
];

export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BASE_ENV_NAMES) {
    const v = process.env[name];
    if (v !== undefined) env[name] = v;
  }
  // Untranslated tool messages, so error-map.ts patterns match on every machine.
  env.LC_ALL = 'C';
  env.LANG = 'C';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** The command line as one printable string, for logs and bundles only (never executed). */
export function formatCommand(file: string, args: readonly string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [file, ...args].map(q).join(' ');
}

// Groups started here and not yet finished. Detached children would outlive the app if it quit
// mid-job; on exit they are ended (kill is synchronous, so it works inside the exit handler).
const running = new Set<number>();
let exitHookInstalled = false;
function track(pid: number): void {
  running.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of running) {
      try {
        signalGroup(p, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

export function runProcess(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const maxLines = opts.maxLines ?? 20_000;
  const graceMs = opts.graceMs ?? 3000;
  const lines: string[] = [];
  const command = [opts.file, ...opts.args];

  return new Promise<RunResult>((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(cancelled(opts.tool, lines));
      return;
    }
    const child = spawn(opts.file, [...opts.args], {
      cwd: opts.cwd,
      env: baseEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32', // own process group: one kill reaches the whole tree
      windowsHide: true,
      shell: false,
    });
    if (child.pid !== undefined) track(child.pid);
    let settled = false;
    let stopping: 'cancelled' | 'timeout' | undefined;
    let stopDone: Promise<void> | undefined;

    const push = (line: string, stream: 'stdout' | 'stderr') => {
      lines.push(line);
      if (lines.length > maxLines) lines.splice(0, lines.length - maxLines);
      opts.onLine?.(line, stream);
      const p = opts.progress?.(line);
      if (p) opts.onProgress?.(p);
    };
    const attach = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr') => {
      const decoder = new StringDecoder('utf8');
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        partial += decoder.write(chunk);
        // \r counts as a line end: progress bars redraw in place with it.
        const parts = partial.split(/\r\n|\n|\r/);
        partial = parts.pop() ?? '';
        for (const part of parts) for (let k = 0; k < part.length; k += MAX_LINE_CHARS) push(part.slice(k, k + MAX_LINE_CHARS), name);
        // A tool that prints without line ends (a binary dump, a runaway progress bar) must not
        // grow this buffer, or the rescans of it, without bound: long runs become lines of a cap.
        while (partial.length > MAX_LINE_CHARS) {
          push(partial.slice(0, MAX_LINE_CHARS), name);
          partial = partial.slice(MAX_LINE_CHARS);
        }
      });
      stream.on('end', () => {
        partial += decoder.end();
        if (partial.length > 0) push(partial, name);
        partial = '';
      });
    };
    attach(child.stdout!, 'stdout');
    attach(child.stderr!, 'stderr');

    const stop = (why: 'cancelled' | 'timeout') => {
      if (stopping || settled || child.pid === undefined) return;
      stopping = why;
      stopDone = endGroup(child.pid, graceMs);
    };
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;

    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      if (child.pid !== undefined) running.delete(child.pid);
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() => {
        const notFound = error.code === 'ENOENT';
        reject(
          new ToolchainError({
            tool: opts.tool,
            reason: notFound ? 'not-found' : 'not-executable',
            message: notFound
              ? `The program ${opts.file} was not found${opts.cwd ? ` (or the folder ${opts.cwd} does not exist)` : ''}.`
              : `The program ${opts.file} could not be started (${error.code ?? error.message}).`,
            fix: 'Set its path in Settings (run Doctor to see what is found), and check the file is executable.',
            tail: tail(lines),
          }),
        );
      });
    });

    child.on('close', (code, sig) => {
      const pid = child.pid;
      const after = async () => {
        // A tool that exits normally must not leave helpers running in its group.
        if (pid !== undefined && !stopping && process.platform !== 'win32' && isGroupAlive(pid)) await endGroup(pid, Math.min(graceMs, 1000));
        if (stopDone) await stopDone;
      };
      void after().then(() =>
        finish(() => {
          const durationMs = Date.now() - started;
          if (stopping === 'cancelled') return reject(cancelled(opts.tool, lines));
          if (stopping === 'timeout') {
            return reject(
              new ToolchainError({
                tool: opts.tool,
                reason: 'timeout',
                message: `${opts.tool} did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s and was stopped.`,
                fix: 'Check the log for where it stalled; raise the time limit in Settings if the job is simply long.',
                tail: tail(lines),
              }),
            );
          }
          const exitCode = code ?? (sig ? 128 + signalNumber(sig) : 1);
          if ((opts.okExitCodes ?? [0]).includes(exitCode) && code !== null) {
            return resolve({ exitCode, lines, durationMs, command });
          }
          reject(new ToolchainError(diagnoseFailure(opts.tool, lines, exitCode)));
        }),
      );
    });
  });
}

function cancelled(tool: ToolName, lines: string[]): ToolchainError {
  return new ToolchainError({ tool, reason: 'cancelled', message: `${tool} was cancelled.`, fix: 'Start it again when ready.', tail: tail(lines) });
}

function signalNumber(sig: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6 } as Record<string, number>)[sig] ?? 0;
}

