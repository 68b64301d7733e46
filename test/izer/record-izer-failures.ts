// Re-records test/fixtures/toolchain/outputs/izer-real-*.txt from the real ai8x-synthesis:
//   node --import tsx test/izer/record-izer-failures.ts
// Each file is the izer's console output (stdout then stderr) for one case of izer-failures.ts;
// lines longer than 300 characters (the kernel map dump) are cut, marked with "…".
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { izerArgs } from '../../src-main/toolchain/steps/synthesize.ts';
import { izerDir, PYTHON } from '../support/fixtures.ts';
import { FAILURES } from './izer-failures.ts';

const OUT = resolve(import.meta.dirname, '../fixtures/toolchain/outputs');

for (const c of FAILURES) {
  const e = await c.make();
  const args = izerArgs({ python: PYTHON, izerDir: izerDir(), artifacts: e.artifacts, testDir: join(e.dir, 'izer'), prefix: 'net' });
  const r = spawnSync(PYTHON, args, { cwd: izerDir(), encoding: 'utf8', env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' } });
  const text = (r.stdout + r.stderr).replaceAll(e.dir, '/tmp/export').split('\n').map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l)).join('\n');
  writeFileSync(join(OUT, `izer-real-${c.name}.txt`), text);
  console.log(`${c.name}: exit ${r.status}, ${text.split('\n').length} lines`);
}
