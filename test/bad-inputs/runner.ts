// Runs many `qatwb` invocations in one process, through the CLI's own entry (main), so the corpus
// does not pay Node + tsx start-up per file. Reads [{id, argv}] as JSON from the file named by
// argv[2]; writes one JSON line per run to stdout ({id, code, err, ms}), then {maxRssKb}.
import { readFileSync } from 'node:fs';
import { main } from '../../src-main/cli/main.ts';

const runs = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { id: string; argv: string[] }[];
for (const r of runs) {
  const err: string[] = [];
  const out: string[] = [];
  const t0 = performance.now();
  let code: number;
  try {
    code = await main(r.argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  } catch (e) {
    code = -1;
    err.push(`UNCAUGHT ${(e as Error).stack ?? e}`);
  }
  process.stdout.write(JSON.stringify({ id: r.id, code, err: err.join('\n').slice(0, 4000), out: out.join('\n').slice(0, 1000), ms: performance.now() - t0 }) + '\n');
}
process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }) + '\n');
process.exit(0);
