// Conformance: every case in /work/shared/conformance reproduced integer for integer by the
// simulator (through the library and once through the CLI), and every resources.json reproduced
// exactly by the planner. Files are read with the project's own .npy and .pth.tar readers.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importAi8x } from '../../src-main/formats/import-ai8x.ts';
import { readNpy, type NdArray } from '../../src-main/formats/npy.ts';
import { simulate, simulateBatch } from '../../src-main/sim/simulate.ts';
import { planModel } from '../../src-main/planner/plan.ts';
import { validateModel } from '../../src-main/ir/validate.ts';
import { writeNetworkYaml } from '../../src-main/formats/network-yaml.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const ROOT = CONFORMANCE;
const REPO = join(import.meta.dirname, '../..');
const cases = readdirSync(ROOT).filter((d) => existsSync(join(ROOT, d, 'network.yaml')));

const ints = (a: NdArray): number[] => Array.from(a.data as ArrayLike<number | bigint>, Number);

function open(dir: string) {
  const sample = readNpy(readFileSync(join(dir, 'sample.input.npy')), 'sample.input.npy');
  return importAi8x({
    checkpoint: readFileSync(join(dir, 'checkpoint.pth.tar')),
    yaml: readFileSync(join(dir, 'network.yaml'), 'utf8'),
    sample,
  });
}

describe('conformance fixtures', () => {
  it('has the three known networks', () => {
    expect(cases.sort()).toEqual(['ecg1d-mixed', 'mnist-extrasmall', 'mnist-qat8']);
  });

  for (const name of cases) {
    const dir = join(ROOT, name);
    const inputs = readdirSync(dir).filter((f) => f.endsWith('.input.npy'));
    describe(name, () => {
      const { model, warnings } = open(dir);

      it('imports without warnings and passes validation', () => {
        expect(warnings).toEqual([]);
        expect(validateModel(model)).toEqual([]);
      });

      for (const f of inputs) {
        const c = f.replace('.input.npy', '');
        it(`reproduces ${c}.expected.npy exactly`, () => {
          const x = readNpy(readFileSync(join(dir, f)), f);
          const expected = readNpy(readFileSync(join(dir, `${c}.expected.npy`)), `${c}.expected.npy`);
          const r = simulate(model, Int32Array.from(ints(x)));
          expect(Array.from(r.output)).toEqual(ints(expected));
          expect(r.shape.channels).toBe(expected.shape[0]);
        });
      }

      it('gives the same result in a batch as one by one, and every layer when asked', () => {
        const xs = inputs.map((f) => ints(readNpy(readFileSync(join(dir, f)), f)));
        const batch = simulateBatch(model, Int32Array.from(xs.flat()));
        xs.forEach((x, k) => {
          const one = simulate(model, Int32Array.from(x), { allLayers: true });
          expect(Array.from(batch.outputs.subarray(k * batch.outputSize, (k + 1) * batch.outputSize))).toEqual(Array.from(one.output));
          expect(one.layers).toHaveLength(model.layers.length);
          expect(Array.from(one.layers!.at(-1)!.data)).toEqual(Array.from(one.output));
        });
      });

      it('round-trips through our YAML writer: re-import gives the same model and outputs', () => {
        const yaml = writeNetworkYaml(model);
        const sample = readNpy(readFileSync(join(dir, 'sample.input.npy')), 'sample.input.npy');
        const again = importAi8x({ checkpoint: readFileSync(join(dir, 'checkpoint.pth.tar')), yaml, sample });
        expect(again.warnings).toEqual([]);
        expect(again.model).toEqual(model);
        const x = Int32Array.from(ints(sample));
        expect(Array.from(simulate(again.model, x).output)).toEqual(Array.from(simulate(model, x).output));
      });

      it('reproduces resources.json exactly', () => {
        const res = JSON.parse(readFileSync(join(dir, 'resources.json'), 'utf8')) as { device: 'MAX78002'; weightMemoryBytes: number; biasMemoryBytes: number };
        const plan = planModel(model, { device: res.device });
        expect({ weightMemoryBytes: plan.weightMemoryBytes, biasMemoryBytes: plan.biasMemoryBytes }).toEqual({
          weightMemoryBytes: res.weightMemoryBytes,
          biasMemoryBytes: res.biasMemoryBytes,
        });
        expect(plan.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      });
    });
  }

  it('reproduces a fixture through the CLI (qatwb simulate writes int64 (C,1,1) .npy; plan --json)', () => {
    const dir = join(ROOT, 'ecg1d-mixed');
    const out = join(mkdtempSync(join(tmpdir(), 'qatwb-conf-')), 'out.npy');
    const sim = spawnSync(process.execPath, [join(REPO, 'bin/qatwb.mjs'), 'simulate', '--checkpoint', join(dir, 'checkpoint.pth.tar'), '--network', join(dir, 'network.yaml'),
      '--input', join(dir, 'sample.input.npy'), '--out', out, '--device', 'MAX78002', '--json'], { encoding: 'utf8', cwd: REPO });
    expect(sim.status, sim.stderr).toBe(0);
    const doc = JSON.parse(sim.stdout) as { shape: number[]; output: number[] };
    const got = readNpy(readFileSync(out), 'out.npy');
    const expected = readNpy(readFileSync(join(dir, 'sample.expected.npy')), 'expected');
    expect(got.dtype).toBe('int64');
    expect(got.shape).toEqual(expected.shape);
    expect(ints(got)).toEqual(ints(expected));
    expect(doc.output).toEqual(ints(expected));

    const plan = spawnSync(process.execPath, [join(REPO, 'bin/qatwb.mjs'), 'plan', '--checkpoint', join(dir, 'checkpoint.pth.tar'), '--network', join(dir, 'network.yaml'),
      '--input', join(dir, 'sample.input.npy'), '--json'], { encoding: 'utf8', cwd: REPO });
    expect(plan.status, plan.stderr).toBe(0);
    const p = JSON.parse(plan.stdout) as { weightMemoryBytes: number; biasMemoryBytes: number; layers: unknown[]; errors: unknown[]; warnings: unknown[] };
    const res = JSON.parse(readFileSync(join(dir, 'resources.json'), 'utf8'));
    expect([p.weightMemoryBytes, p.biasMemoryBytes, p.layers.length, p.errors]).toEqual([res.weightMemoryBytes, res.biasMemoryBytes, 5, []]);
  });

  it('reports a bad input through the CLI with exit code 1 and a JSON error naming file and field', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [join(REPO, 'bin/qatwb.mjs'), ...args], { encoding: 'utf8', cwd: REPO });
    const mnist = join(ROOT, 'mnist-qat8'), ecg = join(ROOT, 'ecg1d-mixed');
    const r = run(['simulate', '--checkpoint', join(mnist, 'checkpoint.pth.tar'), '--network', join(ecg, 'network.yaml'), '--input', join(ecg, 'sample.input.npy'), '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'invalid-model', field: 'arch' } });
    expect(r.stderr).toMatch(/checkpoint\.pth\.tar: arch: .*does not match/);
    const usage = run(['simulate', '--network', join(ecg, 'network.yaml')]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/--checkpoint is required/);
  });
});
