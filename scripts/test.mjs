// `npm test`: builds the renderer (the browser tests serve it), runs every vitest suite (unit,
// integration, browser), and prints a plain closing line "N passed, N failed, N skipped", preceded
// by each skipped test and why (the reason is in its title, see test/support/fixtures.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { relative } from 'node:path';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
const npx = (args) => run(process.execPath, ['node_modules/.bin/' + args[0], ...args.slice(1)].map(String));

mkdirSync('test-results', { recursive: true });
const build = npx(['vite', 'build', '--config', 'vite.renderer.config.ts', '--logLevel', 'warn']);
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const extra = process.argv.slice(2);
const res = npx(['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json', ...extra]);
let passed = 0;
let failed = 0;
let skipped = 0;
const skippedList = [];
try {
  const report = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
  passed = report.numPassedTests;
  failed = report.numFailedTests;
  // A file that fails before any test runs (import error) counts once.
  for (const file of report.testResults ?? []) {
    if (file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed')) failed += 1;
  }
  skipped = report.numPendingTests + (report.numTodoTests ?? 0);
  for (const file of report.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'skipped' || t.status === 'pending' || t.status === 'todo') {
        skippedList.push(`${relative(process.cwd(), file.name)} › ${t.fullName ?? t.title}`);
      }
    }
  }
} catch {
  failed = 1;
}
if (skippedList.length) console.log(`Skipped:\n${skippedList.map((l) => `  - ${l}`).join('\n')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(res.status === 0 && failed === 0 ? 0 : 1);
