// The training recipes through the real CLI: class weights on an imbalanced fall set (fall recall
// and the collapse warning), a progressive bits schedule (one row per width, sizes = the planner's),
// and the comparison files.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFallCsv } from '../../../test/support/fall-data.ts';
import { deserializeModel } from '../../ir/schema.ts';
import { planModel } from '../../planner/plan.ts';

const qatwb = (args: string[]) => spawnSync(process.execPath, ['bin/qatwb.mjs', ...args], { encoding: 'utf8', timeout: 600_000 });
interface Row { name: string; bits: number; accuracy: number; perClass: { label: string; precision: number; recall: number; f1: number }[]; macroF1: number; weightBytes: number; mae: number; mse: number; sqnrDb: number | null; collapsed: boolean }

describe('qatwb train recipes', () => {
  it('class weights raise the fall recall on an imbalanced set; the one-class model is flagged as collapsed', () => {
    const csv = writeFallCsv({ count: 400, fallShare: 0.12, seed: 7 });
    const common = ['train', '--data', csv, '--float-epochs', '3', '--qat-epochs', '1', '--batch-size', '16', '--json'];
    const plain = qatwb(common);
    const weighted = qatwb([...common, '--class-weights']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(weighted.status, weighted.stderr).toBe(0);
    const a = JSON.parse(plain.stdout);
    const b = JSON.parse(weighted.stdout);
    const fallRecall = (r: { rows: Row[] }, row: string) => r.rows.find((x) => x.name === row)!.perClass.find((c) => c.label === 'fall')!.recall;
    for (const row of ['float (end of float phase)', 'QAT 8-bit']) expect(fallRecall(b, row)).toBeGreaterThan(fallRecall(a, row) + 0.3);
    expect(a.rows.map((r: Row) => r.name)).toEqual(['float (end of float phase)', 'PTQ 8-bit', 'QAT 8-bit']);
    // The unweighted model calls everything ADL: accuracy ≈ the ADL share, and flagged.
    expect(fallRecall(a, 'QAT 8-bit')).toBe(0);
    expect(a.collapsed).toBe(true);
    expect(a.collapseWarnings.join('\n')).toMatch(/QAT 8-bit: every test prediction is class 0/);
    expect(plain.stderr).toMatch(/warning: collapsed: /);
    expect(b.collapsed).toBe(false);
    for (const r of b.rows as Row[]) {
      expect(r.macroF1).toBeCloseTo(r.perClass.reduce((s, c) => s + c.f1, 0) / 2, 12);
      for (const c of r.perClass) expect(c.f1).toBeCloseTo(c.precision + c.recall ? (2 * c.precision * c.recall) / (c.precision + c.recall) : 0, 12);
    }
    expect(b.scaling).toMatchObject({ kind: 'minmax' });
    expect(b.scaling.max).toBeGreaterThan(b.scaling.min);
  });

  it('a progressive schedule 8→4→2 gives one row per width, sizes equal to the planner, and exports the table', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'qatwb-sched-')), 'run');
    const r = qatwb(['train', '--data', 'resources/examples/synthetic-beats.csv', '--float-epochs', '2', '--qat-epochs', '3',
      '--bits-schedule', '8@0,4@1:5e-4,2@2:2e-4', '--lr-schedule', 'cosine', '--batch-size', '16', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.rows.map((x: Row) => [x.name, x.bits])).toEqual([
      ['float (end of float phase)', 32], ['PTQ 8-bit', 8], ['QAT 8-bit', 8], ['QAT 4-bit', 4], ['QAT 2-bit', 2],
    ]);
    // Sizes: what the planner counts for this network at each width (model.json is the deployed 2-bit one).
    const deployed = deserializeModel(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')));
    for (const row of res.rows.slice(1) as Row[]) {
      const m = { ...deployed, layers: deployed.layers.map((l) => ({ ...l, weightBits: row.bits as 8 | 4 | 2 | 1, placement: undefined })) };
      expect(row.weightBytes, row.name).toBe(planModel(m).weightMemoryBytes);
    }
    const plan = qatwb(['plan', '--checkpoint', join(out, 'checkpoint.pth.tar'), '--network', join(out, 'network.yaml'), '--input', join(out, 'sample.input.npy'), '--json']);
    expect(plan.status, plan.stderr).toBe(0);
    expect(res.rows[4].weightBytes).toBe(JSON.parse(plan.stdout).weightMemoryBytes);
    expect(res.rows[2].weightBytes).toBeGreaterThan(res.rows[3].weightBytes);
    expect(res.rows[3].weightBytes).toBeGreaterThan(res.rows[4].weightBytes);
    // Logit error against the float model: zero for the float row, positive for the integer rows.
    expect([res.rows[0].mae, res.rows[0].sqnrDb]).toEqual([0, null]);
    for (const row of res.rows.slice(1) as Row[]) {
      expect(row.mae).toBeGreaterThan(0);
      expect(row.mse).toBeGreaterThan(0);
      expect(Number.isFinite(row.sqnrDb)).toBe(true);
    }
    // PTQ 8-bit is the float model rounded: close to it (SQNR well above the 2-bit QAT row's).
    expect(res.rows[1].sqnrDb).toBeGreaterThan(20);
    // The schedule is the network's: model.json carries it, with the final width on every layer.
    expect(deployed.bitsSchedule).toEqual([{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 1, bits: 4, learningRate: 5e-4 }, { fromQatEpoch: 2, bits: 2, learningRate: 2e-4 }]);
    expect(deployed.layers.map((l) => l.weightBits)).toEqual(deployed.layers.map(() => 2));
    const q = JSON.parse(readFileSync(join(out, 'quantization.json'), 'utf8'));
    // The scaling the data was trained with travels with the model.
    expect(q.input.scaling).toEqual(res.scaling);
    expect(q.input.scaling).toMatchObject({ kind: 'minmax' });
    expect(q.epochs.map((e: { bits?: number; phase: string }) => e.phase === 'qat' ? e.bits : 'float')).toEqual(['float', 'float', 8, 4, 2]);
    expect(q.epochs.map((e: { lr: number }) => e.lr).slice(2)).toEqual([0.0003, 5e-4, 2e-4]);
    const exported = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'));
    expect(exported.rows).toEqual(res.rows);
    const csv = readFileSync(join(out, 'comparison.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('row,bits,accuracy,macro_f1,weight_bytes,mae,mse,sqnr_db,class,precision,recall,f1,support');
    expect(csv.length).toBe(1 + 5 * 5); // five rows × five classes
    expect(csv.filter((l) => l.startsWith('QAT 2-bit,2,')).length).toBe(5);
  });

  it('a chain 8 → 4 → 2 with --from-run, kept in a project: rows of every width, sizes = the planner, listed by qatwb runs', () => {
    const project = mkdtempSync(join(tmpdir(), 'qatwb-chain-'));
    const base = ['--batch-size', '16', '--project', project, '--json'];
    const r8 = qatwb(['train', '--data', 'resources/examples/synthetic-beats.csv', '--float-epochs', '2', '--qat-epochs', '1', ...base]);
    expect(r8.status, r8.stderr).toBe(0);
    const a = JSON.parse(r8.stdout);
    const r4 = qatwb(['train', '--from-run', a.outDir, '--bits', '4', '--qat-epochs', '1', '--qat-lr', '5e-4', ...base]);
    expect(r4.status, r4.stderr).toBe(0);
    const b = JSON.parse(r4.stdout);
    const r2 = qatwb(['train', '--from-run', b.outDir, '--bits', '2', '--qat-epochs', '1', ...base]);
    expect(r2.status, r2.stderr).toBe(0);
    const c = JSON.parse(r2.stdout);
    expect(c.rows.map((x: Row) => [x.name, x.bits])).toEqual([
      ['float (end of float phase)', 32], ['PTQ 8-bit', 8], ['QAT 8-bit', 8], ['QAT 4-bit', 4], ['QAT 2-bit', 2],
    ]);
    // The carried rows are the source runs' own measurements.
    expect(c.rows.slice(0, 4)).toEqual(b.rows);
    expect(b.rows.slice(0, 3)).toEqual(a.rows);
    // Each width's size is the planner's figure for that run's export.
    for (const [res, row] of [[a, 2], [b, 3], [c, 4]] as const) {
      const plan = qatwb(['plan', '--checkpoint', join(res.outDir, 'checkpoint.pth.tar'), '--network', join(res.outDir, 'network.yaml'), '--input', join(res.outDir, 'sample.input.npy'), '--json']);
      expect(plan.status, plan.stderr).toBe(0);
      expect(c.rows[row].weightBytes).toBe(JSON.parse(plan.stdout).weightMemoryBytes);
    }
    expect(c.layers.every((l: { bits: number }) => l.bits === 2)).toBe(true);
    // Each link continued the one before: QAT 4-bit started after the 8-bit run's epochs.
    expect(b.qatStart).toBe(3);
    expect(c.epochsDone).toBe(5);

    const runs = qatwb(['runs', '--project', project, '--json']);
    expect(runs.status, runs.stderr).toBe(0);
    const listed = JSON.parse(runs.stdout).runs as { runId: string; status: string; fromRun: string | null; bits: number; dir: string; phases: { float: number; qat: number }; widths: number[]; epochsDone: number; epochsPlanned: number }[];
    // What the run list shows: the epochs each run trains per phase (a chain: QAT only), its widths, its epochs counted from the chain's start.
    expect(listed.map((r) => [r.phases.float, r.phases.qat, r.widths, r.epochsDone, r.epochsPlanned])).toEqual([[0, 1, [2], 5, 5], [0, 1, [4], 4, 4], [2, 1, [8], 3, 3]]);
    expect(listed.map((r) => [r.runId, r.status, r.bits])).toEqual([[c.runId, 'done', 2], [b.runId, 'done', 4], [a.runId, 'done', 8]]);
    expect(listed.map((r) => r.fromRun)).toEqual([b.outDir, a.outDir, null]);
    expect(listed.map((r) => r.dir)).toEqual([c.outDir, b.outDir, a.outDir].map((d: string) => d));
    expect(a.outDir).toBe(join(project, 'runs', a.runId));
  });
});
