// `npm run bench`: runs every benchmark in turn (each prints its figures and ratios against the
// baseline it measures in the same run). `npm run bench -- sim link` runs only those.
// bench:qat trains MNIST at three bit widths and takes 10-25 minutes on 2 cores.
import { spawnSync } from 'node:child_process';

const all = ['sim', 'link', 'train', 'ui', 'qat'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const name of chosen) {
  if (!all.includes(name)) {
    console.error(`unknown benchmark "${name}"; choose from ${all.join(', ')}`);
    process.exit(2);
  }
  console.log(`\n=== bench:${name} ===`);
  const res = spawnSync(process.execPath, ['node_modules/.bin/tsx', `bench/${name}.bench.ts`], { stdio: 'inherit' });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
