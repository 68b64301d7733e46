// "Install ai8x-synthesis" from the app: clone the repository (URL or local path) at a pinned
// version into a folder, make a Python virtual environment that can also see the system's
// packages (so a distribution's PyTorch serves offline), and install only the requirements that
// environment cannot import yet. Every step is a child process with its output streamed to the
// log, progress reported, and cancel honoured; a cancelled or failed install removes the folder
// it created, so a retry starts clean.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { z } from 'zod';
import type { INSTALL_STEPS, ToolchainProgressData } from '../../api/toolchain.api.ts';
import { runProcess, type ToolRunHooks } from '../run-process.ts';
import { ToolchainError } from '../toolchain-error.ts';
import { gitCommit } from '../versions.ts';

type InstallStep = (typeof INSTALL_STEPS)[number];

/**
 * The upstream ai8x-synthesis version the workbench is tested against (test/izer): a tag or branch
 * name is cloned shallowly; a commit is cloned in full and checked out.
 */
export const IZER_PINNED_REF = 'ab4f4c01f205c7d9f0233c4438425144c433f44b';
export const IZER_UPSTREAM = 'https://github.com/analogdevicesinc/ai8x-synthesis.git';

/** Module each line of the izer's requirements.txt provides, for the ones ai8xize.py imports. */
const REQUIREMENT_MODULES: Record<string, string> = {
  gitpython: 'git', pygithub: 'github', pyyaml: 'yaml', numpy: 'numpy', onnx: 'onnx', rich: 'rich', torch: 'torch', xxhash: 'xxhash',
};
/** Modules ai8xize.py imports when it starts (a missing one stops it before any output). */
export const IZER_PYTHON_MODULES = Object.values(REQUIREMENT_MODULES);

export interface InstallIzerRequest extends Omit<ToolRunHooks, 'timeoutMs'> {
  /** Git URL or local path of an ai8x-synthesis repository. */
  from: string;
  /** Tag, branch or commit; default IZER_PINNED_REF. */
  ref?: string;
  /** Folder to create (must not exist, or be empty). */
  dir: string;
  /** Python that makes the virtual environment (default: the distribution's /usr/bin/python3, else python3). */
  python?: string;
  git?: string;
}

export interface InstallIzerResult {
  izerDir: string;
  /** The virtual environment's Python: what Settings → Python should be. */
  python: string;
  ref: string;
  commit: string;
  /** Requirements pip installed (empty when the system packages already provided everything). */
  installed: string[];
  /** Modules the environment already imported (from the system packages). */
  satisfied: string[];
  log: string;
  durationMs: number;
}

const isCommit = (ref: string) => /^[0-9a-f]{40}$/i.test(ref);

/** The distribution's Python where there is one (its packages, e.g. python3-torch, then serve the venv). */
export function defaultBasePython(): string {
  return process.platform !== 'win32' && existsSync('/usr/bin/python3') ? '/usr/bin/python3' : process.platform === 'win32' ? 'python' : 'python3';
}

export async function installIzer(req: InstallIzerRequest): Promise<InstallIzerResult> {
  const started = Date.now();
  const dir = resolve(req.dir);
  const ref = req.ref ?? IZER_PINNED_REF;
  const git = req.git ?? 'git';
  const log = `${dir}.install.log`;
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${dir} already exists and is not empty.`, fix: 'Choose an empty or new folder, or use "Use an existing checkout" for a folder that already holds ai8x-synthesis.' });
  }
  const from = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.from) || /^[\w.-]+@[\w.-]+:/.test(req.from) ? req.from : resolve(req.from);
  if (from === resolve(req.from) && !existsSync(from)) {
    throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${from} does not exist.`, fix: 'Give the URL of the ai8x-synthesis repository or the folder of a local clone.' });
  }
  await mkdir(dirname(dir), { recursive: true });
  await appendFile(log, `# qatwb: install ai8x-synthesis ${ref} from ${from} into ${dir} (${new Date().toISOString()})\n`);
  const onLine = (line: string, stream: 'stdout' | 'stderr') => {
    void appendFile(log, `${stream === 'stderr' ? '! ' : ''}${line}\n`).catch(() => undefined);
    req.onLine?.(line, stream);
  };
  const progress = (fraction: number, step: InstallStep, message: string) =>
    req.onProgress?.({ phase: 'install-izer', fraction, message, data: { kind: 'install', step } satisfies z.input<typeof ToolchainProgressData> });
  const common = { signal: req.signal, onLine, timeoutMs: 60 * 60_000 };
  let created = false;
  try {
    progress(0, 'clone', `Cloning ${from}`);
    created = true;
    const cloneArgs = isCommit(ref) ? ['clone', '--progress', '--no-checkout', from, dir] : ['clone', '--progress', '--depth', '1', '--branch', ref, from, dir];
    await runProcess({
      ...common, tool: 'other', file: git, args: cloneArgs, cwd: dirname(dir),
      // git writes "Receiving objects:  45% (…)" with carriage returns; each becomes a progress step.
      progress: (line) => {
        const m = line.match(/^(Receiving objects|Resolving deltas):\s+(\d+)%/);
        return m ? { phase: 'install-izer', fraction: 0.05 + (m[1] === 'Receiving objects' ? 0.4 : 0.05) * (Number(m[2]) / 100), message: line.trim(), data: { kind: 'install', step: 'clone' } satisfies z.input<typeof ToolchainProgressData> } : undefined;
      },
      onProgress: req.onProgress,
    });
    if (isCommit(ref)) await runProcess({ ...common, tool: 'other', file: git, args: ['-c', 'advice.detachedHead=false', 'checkout', '--detach', ref], cwd: dir });
    if (!existsSync(join(dir, 'ai8xize.py'))) {
      throw new ToolchainError({ tool: 'other', reason: 'bad-input', message: `${from} at ${ref} has no ai8xize.py: it is not ai8x-synthesis.`, fix: `Give the ai8x-synthesis repository (${IZER_UPSTREAM}) or a clone of it.` });
    }

    progress(0.5, 'venv', 'Making the Python environment');
    await runProcess({ ...common, tool: 'python', file: req.python ?? defaultBasePython(), args: ['-m', 'venv', '--system-site-packages', join(dir, 'venv')], cwd: dir });
    const python = join(dir, 'venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python3');

    progress(0.6, 'requirements', 'Checking the Python packages');
    const wanted = await requirementsFor(dir);
    const missing = await missingModules(python, wanted.map((w) => w.module), common);
    const installed = wanted.filter((w) => missing.includes(w.module)).map((w) => w.line);
    if (installed.length > 0) {
      progress(0.65, 'requirements', `Installing ${installed.join(', ')}`);
      await runProcess({ ...common, tool: 'python', file: python, args: ['-m', 'pip', 'install', '--progress-bar', 'off', ...installed], cwd: dir });
    }

    progress(0.9, 'verify', 'Starting ai8xize.py --help');
    await runProcess({ ...common, tool: 'ai8xize', file: python, args: ['ai8xize.py', '--help'], cwd: dir, timeoutMs: 120_000 });
    const result: InstallIzerResult = {
      izerDir: dir, python, ref, commit: gitCommit(dir) ?? ref, installed,
      satisfied: wanted.filter((w) => !missing.includes(w.module)).map((w) => w.module), log, durationMs: Date.now() - started,
    };
    progress(1, 'done', `ai8x-synthesis ${ref} is ready in ${dir}`);
    await appendFile(log, `# qatwb: done in ${result.durationMs} ms\n`);
    return result;
  } catch (error) {
    await appendFile(log, `# qatwb: failed: ${(error as Error).message}\n`).catch(() => undefined);
    if (created) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** The pinned requirement lines of the checkout whose module ai8xize.py imports. */
async function requirementsFor(dir: string): Promise<{ line: string; module: string }[]> {
  const file = join(dir, 'requirements.txt');
  const text = existsSync(file) ? await readFile(file, 'utf8') : '';
  const out: { line: string; module: string }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    const name = line.match(/^([A-Za-z0-9_.-]+)/)?.[1]?.toLowerCase();
    if (name && REQUIREMENT_MODULES[name]) out.push({ line, module: REQUIREMENT_MODULES[name] });
  }
  // A checkout without requirements.txt still needs what ai8xize.py imports.
  for (const [pkg, module] of Object.entries(REQUIREMENT_MODULES)) if (!out.some((o) => o.module === module)) out.push({ line: pkg, module });
  return out;
}

/** Modules the given Python cannot find (find_spec: no import, so torch costs nothing). */
export async function missingModules(python: string, modules: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  const code = 'import importlib.util,sys; print("missing:" + ",".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))';
  const r = await runProcess({ tool: 'python', file: python, args: ['-c', code, ...modules], cwd: tmpdir(), timeoutMs: 60_000, signal: opts.signal });
  const line = r.lines.find((l) => l.startsWith('missing:')) ?? 'missing:';
  return line.slice('missing:'.length).split(',').filter(Boolean);
}

export interface ExistingCheckout {
  izerDir: string;
  python?: string;
  commit?: string;
}

/** "Use an existing checkout": the folder must hold ai8xize.py; its venv's Python is taken if present. */
export function inspectCheckout(dir0: string): ExistingCheckout {
  const dir = resolve(dir0);
  if (!existsSync(join(dir, 'ai8xize.py'))) {
    throw new ToolchainError({ tool: 'ai8xize', reason: 'not-found', message: `${dir} has no ai8xize.py.`, fix: 'Pick the ai8x-synthesis folder itself (the one holding ai8xize.py), or install it from here.' });
  }
  const rel = process.platform === 'win32' ? ['venv/Scripts/python.exe', '.venv/Scripts/python.exe'] : ['venv/bin/python3', 'venv/bin/python', '.venv/bin/python3'];
  const python = rel.map((r) => join(dir, r)).find((p) => existsSync(p));
  const commit = gitCommit(dir);
  return { izerDir: dir, ...(python ? { python } : {}), ...(commit ? { commit } : {}) };
}
