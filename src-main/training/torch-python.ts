// Which Python runs the PyTorch engine: Settings → PyTorch Python (or the CLI's --python),
// else the first with torch among the ai8x-training virtual environment, the izer's Python and
// python3 on the PATH. Probing imports torch (a few seconds), so results are kept per path.
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ToolchainSettings } from '../api/toolchain.api.ts';
import { findOnPath, hostContext, locateIzer, locatePython } from '../toolchain/locate.ts';
import { runProcess } from '../toolchain/run-process.ts';
import { ToolchainError } from '../toolchain/toolchain-error.ts';

export interface TorchPython {
  path: string;
  source: string;
}

/** Candidates in order of preference, without probing. */
export function torchPythonCandidates(settings: ToolchainSettings, home = homedir()): TorchPython[] {
  const out: TorchPython[] = [];
  const abs = (p: string) => (p.includes('/') || p.includes('\\') ? resolve(p) : p);
  if (settings.torchPython) out.push({ path: abs(settings.torchPython), source: 'settings' });
  const win = process.platform === 'win32';
  for (const dir of [join(home, 'ai8x-training'), join(home, 'src', 'ai8x-training'), join(home, 'ai8x', 'ai8x-training')]) {
    for (const venv of ['venv', '.venv']) {
      const p = win ? join(dir, venv, 'Scripts', 'python.exe') : join(dir, venv, 'bin', 'python3');
      if (existsSync(p)) out.push({ path: p, source: 'ai8x-training venv' });
    }
  }
  const ctx = hostContext(settings, home);
  const izerPython = locatePython(ctx, locateIzer(ctx));
  if (izerPython) out.push({ path: izerPython.path, source: `izer Python (${izerPython.source})` });
  const onPath = findOnPath(ctx, win ? 'python' : 'python3');
  if (onPath) out.push({ path: onPath, source: 'PATH' });
  if (!win && existsSync('/usr/bin/python3')) out.push({ path: '/usr/bin/python3', source: 'system' });
  const seen = new Set<string>();
  return out.filter((c) => !seen.has(c.path) && seen.add(c.path));
}

const probed = new Map<string, Promise<boolean>>();

/** True when `python` can import torch and numpy. */
export function hasTorch(python: string): Promise<boolean> {
  let p = probed.get(python);
  if (!p) {
    p = runProcess({ tool: 'pytorch', file: python, args: ['-c', 'import torch, numpy'], cwd: tmpdir(), timeoutMs: 60_000 }).then(() => true, () => false);
    probed.set(python, p);
  }
  return p;
}

/** The Python for a run: the chosen one as given (not probed: its errors are the clearest), else the first candidate with torch. */
export async function resolveTorchPython(settings: ToolchainSettings): Promise<TorchPython> {
  // A Python the person chose (Settings, or --python) is used as given: the engine says clearly if it
  // cannot run it, where falling back to another one would train somewhere they did not ask for.
  const candidates = torchPythonCandidates(settings);
  const chosen = candidates.find((c) => c.source === 'settings');
  if (chosen) return chosen;
  for (const c of candidates) if (await hasTorch(c.path)) return c;
  throw new ToolchainError({
    tool: 'pytorch',
    reason: 'not-found',
    message: `No Python with PyTorch found (tried ${candidates.map((c) => c.path).join(', ') || 'none'}).`,
    fix: 'Install PyTorch (pip install torch numpy, or the ai8x-training virtual environment) and set Settings → PyTorch Python, or pick the embedded engine.',
  });
}
