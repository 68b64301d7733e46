// Where tests find what they need: fixtures relative to the checkout, external tools through one
// lookup, and one rule for a missing requirement. A required suite never skips quietly: in strict
// mode (CI, or a machine `.ci/run` provisioned) a missing requirement is a failure that says what to
// install; elsewhere the suite is skipped with the reason in its title, which `npm test` prints.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES = join(REPO_ROOT, 'test/fixtures');
/** Real ai8x-synthesis outputs (bit-exact references), kept in the repository. */
export const CONFORMANCE = join(FIXTURES, 'conformance');
/** The renderer build the browser tests serve: $QATWB_RENDERER_DIR, else out/renderer. */
export const RENDERER_DIR = resolve(REPO_ROOT, process.env.QATWB_RENDERER_DIR ?? 'out/renderer');
export const CONFORMANCE_CASES = ['mnist-qat8', 'mnist-extrasmall', 'ecg1d-mixed'] as const;

export function conformance(name: (typeof CONFORMANCE_CASES)[number], file?: string): string {
  return file ? join(CONFORMANCE, name, file) : join(CONFORMANCE, name);
}

/** True where a missing requirement must fail rather than skip. */
export const STRICT = process.env.CI === 'true' || process.env.QATWB_STRICT === '1' || existsSync(join(REPO_ROOT, '.ci/provisioned'));

export interface Requirement {
  ok: boolean;
  /** Why it is missing and how to install it (empty when ok). */
  reason: string;
}

const memo = new Map<string, boolean>();
function probe(key: string, cmd: string, args: string[]): boolean {
  if (!memo.has(key)) {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
    memo.set(key, r.status === 0);
  }
  return memo.get(key)!;
}

/** Debian's Python (where python3-torch lives), not whatever python3 comes first on PATH. */
export const PYTHON = process.env.QATWB_TEST_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

const APT_PY = 'apt-get install python3-torch python3-numpy python3-yaml python3-onnx python3-rich python3-xxhash python3-git python3-github python3-matplotlib python3-tqdm';

export const need = {
  python(): Requirement {
    return probe('python', PYTHON, ['-c', 'pass']) ? { ok: true, reason: '' } : { ok: false, reason: `no Python (${PYTHON}); install: apt-get install python3` };
  },
  numpy(): Requirement {
    return probe('numpy', PYTHON, ['-c', 'import numpy']) ? { ok: true, reason: '' } : { ok: false, reason: 'no numpy; install: apt-get install python3-numpy' };
  },
  torch(): Requirement {
    return probe('torch', PYTHON, ['-c', 'import torch']) ? { ok: true, reason: '' } : { ok: false, reason: 'no PyTorch; install: apt-get install python3-torch' };
  },
  onnx(): Requirement {
    return probe('onnx', PYTHON, ['-c', 'import onnx']) ? { ok: true, reason: '' } : { ok: false, reason: 'no python onnx; install: apt-get install python3-onnx' };
  },
  /** The real ai8x-synthesis and the Python packages it imports. */
  izer(): Requirement {
    const dir = izerDir();
    if (!existsSync(join(dir, 'ai8xize.py'))) {
      return { ok: false, reason: `no ai8x-synthesis at ${dir}; set QATWB_IZER or put ../shared/tools/ai8x-synthesis beside the checkout` };
    }
    const deps = 'import torch, numpy, yaml, rich, xxhash, git, github, matplotlib, tqdm';
    return probe('izer', PYTHON, ['-c', deps]) ? { ok: true, reason: '' } : { ok: false, reason: `ai8x-synthesis needs Python packages; install: ${APT_PY}` };
  },
  /** The built renderer the browser tests serve (`npm test` builds it first). */
  renderer(): Requirement {
    return existsSync(join(RENDERER_DIR, 'index.html')) ? { ok: true, reason: '' } : { ok: false, reason: `the renderer is not built in ${RENDERER_DIR}; run npm run build:renderer (npm test does it)` };
  },
  command(name: string, aptPackage: string): Requirement {
    return probe(`cmd:${name}`, 'sh', ['-c', `command -v ${name}`]) ? { ok: true, reason: '' } : { ok: false, reason: `no ${name}; install: apt-get install ${aptPackage}` };
  },
};

/** The real ai8x-synthesis checkout: $QATWB_IZER, else ../shared/tools/ai8x-synthesis beside the checkout. */
export function izerDir(): string {
  return process.env.QATWB_IZER ? resolve(process.env.QATWB_IZER) : resolve(REPO_ROOT, '../shared/tools/ai8x-synthesis');
}

/**
 * For `describe.skipIf(...)`/`it.skipIf(...)` on a required suite: returns true (skip) only outside
 * strict mode; in strict mode a missing requirement throws, so the file fails with the install hint.
 */
export function missing(...reqs: Requirement[]): boolean {
  const bad = reqs.filter((r) => !r.ok);
  if (bad.length === 0) return false;
  const why = bad.map((r) => r.reason).join('; ');
  if (STRICT) throw new Error(`required test dependency missing: ${why}`);
  return true;
}

/** Skip flag and title note in one: `describe.skipIf(g.skip)('title' + g.note, ...)`. */
export function gate(...reqs: Requirement[]): { skip: boolean; note: string } {
  return { skip: missing(...reqs), note: skipNote(...reqs) };
}

/** Title suffix naming why a suite may be skipped, so the summary can say it. */
export function skipNote(...reqs: Requirement[]): string {
  const bad = reqs.filter((r) => !r.ok);
  return bad.length ? ` [skipped: ${bad.map((r) => r.reason).join('; ')}]` : '';
}
