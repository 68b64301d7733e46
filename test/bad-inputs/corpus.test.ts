// The hostile-file corpus (generate.ts, ≥ 60 files) through every command that reads that kind:
// simulate, plan, import and check for model files and inputs, train for data sets. Each run must
// exit non-zero with a message naming the file and the field, without a stack trace, within 10 s;
// each command's process (one per command, running all its files) must peak below 1 GB RSS. A
// sample runs as real `qatwb` processes under /usr/bin/time for their own peak RSS.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeNpy } from '../../src-main/formats/npy.ts';
import { conformance, REPO_ROOT } from '../support/fixtures.ts';
import { generateCorpus, type Kind } from './generate.ts';

const root = mkdtempSync(join(tmpdir(), 'qatwb-bad-'));
const corpus = generateCorpus(join(root, 'files'));
const good = { ckpt: conformance('mnist-qat8', 'checkpoint.pth.tar'), yaml: conformance('mnist-qat8', 'network.yaml'), input: conformance('mnist-qat8', 'sample.input.npy') };
const goodX = join(root, 'good.x.npy');
const goodY = join(root, 'good.y.npy');
writeFileSync(goodX, writeNpy({ dtype: 'float32', shape: [40, 1, 128], data: Float32Array.from({ length: 40 * 128 }, (_, i) => (i % 7) / 7) }));
writeFileSync(goodY, writeNpy({ dtype: 'int64', shape: [40], data: BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i % 2)) }));

/** An artifacts folder whose `slot` is the hostile file (a link to it) and the rest good. */
function artifacts(slot: 'checkpoint.pth.tar' | 'network.yaml', file: string): string {
  const dir = join(root, `art-${basename(file)}`);
  mkdirSync(dir);
  for (const [n, src] of [['checkpoint.pth.tar', good.ckpt], ['network.yaml', good.yaml], ['sample.input.npy', good.input]] as const) {
    if (n === slot) symlinkSync(file, join(dir, n));
    else copyFileSync(src, join(dir, n));
  }
  return dir;
}

const VALUES_ONLY = new Set(['nan-input.npy', 'inf-input.npy', 'out-of-range.npy']);
type Run = { id: string; argv: string[]; file: string; field: RegExp };
const byCommand = new Map<string, Run[]>();
const add = (cmd: string, name: string, argv: string[], file: string, field: RegExp) => {
  if (!byCommand.has(cmd)) byCommand.set(cmd, []);
  byCommand.get(cmd)!.push({ id: `${cmd} ${name}`, argv: [cmd, ...argv], file, field });
};
const train = ['--epochs', '1', '--qat-start', '1', '--model', 'ecgnet', '--json'];
const readers: Record<Kind, (c: (typeof corpus)[number]) => void> = {
  checkpoint: (c) => {
    add('simulate', c.name, ['--checkpoint', c.path, '--network', good.yaml, '--input', good.input], c.path, c.field);
    add('plan', c.name, ['--checkpoint', c.path, '--network', good.yaml, '--input', good.input], c.path, c.field);
    add('import', c.name, ['--model', good.yaml, '--checkpoint', c.path, '--input-shape', '1,28,28', '--out', join(root, 'import-out')], c.path, c.field);
    add('check', c.name, ['--port', '/dev/null', '--artifacts', artifacts('checkpoint.pth.tar', c.path)], 'checkpoint.pth.tar', c.field);
  },
  yaml: (c) => {
    add('simulate', c.name, ['--checkpoint', good.ckpt, '--network', c.path, '--input', good.input], c.path, c.field);
    add('plan', c.name, ['--checkpoint', good.ckpt, '--network', c.path, '--input', good.input], c.path, c.field);
    add('import', c.name, ['--model', c.path, '--checkpoint', good.ckpt, '--input-shape', '1,28,28', '--out', join(root, 'import-out')], c.path, c.field);
    add('check', c.name, ['--port', '/dev/null', '--artifacts', artifacts('network.yaml', c.path)], 'network.yaml', c.field);
  },
  input: (c) => {
    add('simulate', c.name, ['--checkpoint', good.ckpt, '--network', good.yaml, '--input', c.path], c.path, c.field);
    // plan reads only the input's shape: bad values are no error there.
    if (!VALUES_ONLY.has(c.name)) add('plan', c.name, ['--checkpoint', good.ckpt, '--network', good.yaml, '--input', c.path], c.path, c.field);
    add('check', c.name, ['--port', '/dev/null', '--artifacts', conformance('mnist-qat8'), '--source', c.path], c.path, /./);
  },
  csv: (c) => add('train', c.name, ['--data', c.path, ...train], c.path, c.field),
  'npy-x': (c) => add('train', c.name, ['--data', c.path, '--labels', goodY, ...train], c.path, c.field),
  'npy-y': (c) => add('train', c.name, ['--data', goodX, '--labels', c.path, ...train], c.path, c.field),
};
for (const c of corpus) readers[c.kind](c);

type Result = { id: string; code: number; err: string; ms: number };
function runAll(cmd: string): { results: Map<string, Result>; maxRssKb: number } {
  const list = byCommand.get(cmd)!;
  const spec = join(root, `${cmd}.json`);
  writeFileSync(spec, JSON.stringify(list.map(({ id, argv }) => ({ id, argv }))));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'runner.ts'), spec], { encoding: 'utf8', timeout: 10_000 * list.length, maxBuffer: 64 << 20 });
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const results = new Map<string, Result>(lines.filter((l) => l.id).map((l) => [l.id, l]));
  return { results, maxRssKb: lines.find((l) => l.maxRssKb)?.maxRssKb ?? Infinity };
}

describe('hostile files', () => {
  it('the corpus has at least 60 files of every kind the readers take', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.kind))).toEqual(new Set(['checkpoint', 'yaml', 'input', 'csv', 'npy-x', 'npy-y']));
  });
  for (const cmd of ['simulate', 'plan', 'import', 'check', 'train']) {
    it(`qatwb ${cmd}: non-zero exit, file and field named, no stack trace, < 10 s each, peak RSS < 1 GB`, () => {
      const { results, maxRssKb } = runAll(cmd);
      const problems: string[] = [];
      for (const run of byCommand.get(cmd)!) {
        const r = results.get(run.id);
        if (!r) { problems.push(`${run.id}: no result (the process died or timed out)`); continue; }
        const name = basename(run.file);
        if (r.code === 0) problems.push(`${run.id}: exit code 0`);
        if (!r.err.includes(name)) problems.push(`${run.id}: message does not name ${name}: ${r.err.split('\n')[0]}`);
        if (!run.field.test(r.err)) problems.push(`${run.id}: message does not name the field ${run.field}: ${r.err.split('\n')[0]}`);
        if (/\n\s+at .+:\d+:\d+\)?$/m.test(r.err) || r.err.includes('UNCAUGHT')) problems.push(`${run.id}: stack trace`);
        if (r.ms > 10_000) problems.push(`${run.id}: ${(r.ms / 1000).toFixed(1)} s`);
      }
      expect(problems).toEqual([]);
      expect(maxRssKb * 1024).toBeLessThan(1 << 30);
    }, 600_000);
  }
  it.skipIf(!existsSync('/usr/bin/time'))('a sample as real qatwb processes: peak RSS < 1 GB each, < 10 s', () => {
    const sample = ['dag-60.pth.tar', 'stride0-8x64mb.pth.tar', 'lists-2m.pth.tar', 'devzero.npy', 'billion-laughs.yaml'];
    for (const name of sample) {
      const c = corpus.find((x) => x.name === name)!;
      const run = [...byCommand.get('simulate')!].find((r) => r.id === `simulate ${name}`)!;
      const t0 = Date.now();
      const r = spawnSync('/usr/bin/time', ['-v', process.execPath, join(REPO_ROOT, 'bin/qatwb.mjs'), ...run.argv], { encoding: 'utf8', timeout: 20_000 });
      const ms = Date.now() - t0;
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]) * 1024;
      expect(r.status, `${name}: ${r.stderr.slice(0, 400)}`).toBe(1);
      expect(r.stderr).toContain(c.name);
      expect(rss, name).toBeLessThan(1 << 30);
      expect(ms, name).toBeLessThan(10_000);
    }
  }, 120_000);
});
void execFileSync;
