// Runs the Debian python3 (the one with numpy and torch; the pyenv python3 on PATH has neither)
// as the independent reference for our readers and writers.
import { spawnSync } from 'node:child_process';
import { PYTHON, type Requirement } from '../support/fixtures.ts';

export { PYTHON };

/** A requirement on Python modules, for `gate()`; the reason says what to install. */
export function pythonModules(...modules: string[]): Requirement {
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (r.status === 0) return { ok: true, reason: '' };
  const apt = modules.filter((m) => !['zipfile', 'zlib', 'pickle', 'json', 'sys'].includes(m)).map((m) => `python3-${m}`);
  return { ok: false, reason: `${PYTHON} cannot import ${modules.join(', ')}${apt.length ? `; install: apt-get install ${apt.join(' ')}` : ''}` };
}

/** Run a script, return its stdout parsed as JSON; throws with stderr on failure. */
export function runPython(script: string, args: string[] = []): any {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
