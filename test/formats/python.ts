// Runs the Debian python3 (the one with numpy and torch; the pyenv python3 on PATH has neither)
// as the independent reference for our readers and writers.
import { spawnSync } from 'node:child_process';

/** QATWB_TEST_PYTHON picks another interpreter, e.g. a venv with a newer torch, to re-run the checks. */
export const PYTHON = process.env.QATWB_TEST_PYTHON ?? '/usr/bin/python3';

/** Does /usr/bin/python3 import these modules? Used to skip with a clear reason when it doesn't. */
export function pythonHas(...modules: string[]): boolean {
  const r = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  return r.status === 0;
}

/** Run a script, return its stdout parsed as JSON; throws with stderr on failure. */
export function runPython(script: string, args: string[] = []): any {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
