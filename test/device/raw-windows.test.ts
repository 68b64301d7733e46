// Input scaling travels with the model: a network trained on a CSV of raw sensor values (min-max of
// the training file) records its scaling in model.json; `qatwb check` and `qatwb virtual-device`
// scale raw windows with it, so the host, the simulator, the float model and the device see the
// same int8 codes as training did. Real `qatwb train`, real ptys, real ONNX Runtime.
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src-main/data/csv.ts';
import { readNpy, writeNpy } from '../../src-main/formats/npy.ts';
import { deserializeModel } from '../../src-main/ir/schema.ts';
import { loadRuntime } from '../../src-main/device/model-runtime.ts';
import { loadWindowSource } from '../../src-main/device/sensor-source.ts';
import { startVirtualDevice } from './virtual-device-process.ts';
import { REPO_ROOT } from '../support/fixtures.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/qatwb.mjs', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'qatwb-raw-'));
const out = join(tmp, 'run');
const rawCsv = join(tmp, 'beats-mv.csv');
/** The same rows scaled to int8 codes the way training scales them (data/csv.ts), as an int8 .npy. */
const codesNpy = join(tmp, 'beats-codes.npy');
let rows: number;

interface Summary {
  windows: number; bitExactRate: number; top1AgreementFloat: number | null; windowsLost: number; source: string;
  input: { raw: boolean; scaling: { kind: string; min: number; max: number } | null };
  float: { present: boolean };
}

beforeAll(async () => {
  // The example heartbeats in raw units (millivolts around a baseline), not [0, 1]: min-max scaling matters.
  const text = readFileSync(join(REPO_ROOT, 'resources/examples/synthetic-beats.csv'), 'utf8');
  const mv = text.trim().split('\n').map((line) => {
    const cells = line.split(',');
    const label = cells.pop()!;
    return [...cells.map((c) => (Number(c) * 3.7 - 1.25).toFixed(4)), label].join(',');
  });
  rows = mv.length;
  writeFileSync(rawCsv, mv.join('\n') + '\n');
  const ds = parseCsv(readFileSync(rawCsv, 'utf8'), { file: rawCsv });
  writeFileSync(codesNpy, writeNpy({ dtype: 'int8', shape: [ds.count, 1, 187], data: Int8Array.from(ds.x, (v) => Math.round(v * 128)) }));
  const r = spawnSync(process.execPath, [CLI, 'train', '--data', rawCsv, '--model', 'ecgnet', '--float-epochs', '2', '--qat-epochs', '1', '--batch-size', '16', '--out', out, '--json'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`qatwb train failed: ${r.stderr}`);
}, 600_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('input scaling in the export', () => {
  it('model.json records the min-max scaling of the training file, as quantization.json does', () => {
    const model = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    const q = JSON.parse(readFileSync(join(out, 'quantization.json'), 'utf8'));
    expect(model.input.scaling.kind).toBe('minmax');
    expect(model.input.scaling.min).toBeCloseTo(-1.25, 5);
    expect(model.input.scaling.max).toBeGreaterThan(1.5);
    expect(q.input.scaling).toEqual(model.input.scaling);
    expect(deserializeModel(model).input.scaling).toEqual(model.input.scaling);
  });

  it('the raw rows scaled with it are exactly the int8 windows training exported (test.windows.npy)', async () => {
    const rt = await loadRuntime(out);
    const set = await loadWindowSource(rawCsv, rt);
    expect(set.windows.length).toBe(rows);
    const codes = readNpy(readFileSync(codesNpy));
    expect(set.windows.flatMap((w) => Array.from(w))).toEqual(Array.from(codes.data as Int8Array));
    // Training's own test split, written with the export, is among them window for window.
    const test = readNpy(readFileSync(join(out, 'test.windows.npy')));
    const scaled = new Set(set.windows.map((w) => w.join(',')));
    const per = 187;
    const n = test.shape[0]!;
    expect(n).toBeGreaterThan(10);
    for (let i = 0; i < n; i++) expect(scaled.has(Array.from((test.data as Int8Array).subarray(i * per, (i + 1) * per)).join(',')), `test window ${i}`).toBe(true);
  });
});

describe('qatwb check with raw windows', () => {
  it('host mode: raw CSV windows give 100 % device == simulator, and the same ints as the pre-scaled windows', async () => {
    const vd = await startVirtualDevice(['--artifacts', out]);
    try {
      const check = async (source: string, csv: string) => {
        const { stdout } = await run(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', out, '--source', source, '--csv', csv, '--json'], { maxBuffer: 16 << 20 });
        return JSON.parse(stdout) as Summary;
      };
      const raw = await check(rawCsv, join(tmp, 'raw.csv.rows'));
      expect(raw.windows).toBe(rows);
      expect(raw.bitExactRate).toBe(1);
      expect(raw.windowsLost).toBe(0);
      expect(raw.input.raw).toBe(true);
      expect(raw.input.scaling!.kind).toBe('minmax');
      expect(raw.float.present).toBe(true);
      expect(raw.top1AgreementFloat!).toBeGreaterThan(0.9);
      const pre = await check(codesNpy, join(tmp, 'pre.csv.rows'));
      expect(pre.bitExactRate).toBe(1);
      expect(pre.input.raw).toBe(false);
      // Window by window the device, the simulator and the float model gave the same classes:
      // they saw the same int8 numbers.
      const cols = (f: string) => readFileSync(f, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').slice(0, 6).filter((_, i) => i !== 1 && i !== 2).join(',')); // index, device / simulator / float class
      expect(cols(join(tmp, 'raw.csv.rows'))).toEqual(cols(join(tmp, 'pre.csv.rows')));
    } finally {
      await vd.stop();
    }
  }, 120_000);

  it('live mode: a virtual device fed raw sensor values scales them itself; every window bit-exact', async () => {
    const vd = await startVirtualDevice(['--artifacts', out, '--sensor', rawCsv, '--rate', '200']);
    try {
      const { stdout } = await run(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', out, '--windows', '40', '--json']);
      const r = JSON.parse(stdout) as Summary;
      expect(r.source).toBe('device sensor');
      expect(r.windows).toBe(40);
      expect(r.bitExactRate).toBe(1);
      expect(r.input).toEqual({ raw: false, scaling: JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).input.scaling });
    } finally {
      await vd.stop();
    }
  }, 60_000);

  it('an export whose model.json has no input.scaling refuses raw windows, naming the file and the field', async () => {
    const old = join(tmp, 'old-export');
    cpSync(out, old, { recursive: true });
    const model = JSON.parse(readFileSync(join(old, 'model.json'), 'utf8'));
    delete model.input.scaling;
    writeFileSync(join(old, 'model.json'), JSON.stringify(model));
    expect(deserializeModel(model).input.scaling).toBeUndefined(); // an old model.json still loads
    const vd = await startVirtualDevice(['--artifacts', old]);
    try {
      const res = await run(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', old, '--source', rawCsv, '--json']).catch((e: { code: number; stdout: string }) => e);
      expect((res as { code: number }).code).not.toBe(0);
      const err = JSON.parse((res as { stdout: string }).stdout) as { error: { message: string } };
      expect(err.error.message).toContain(`${join(old, 'model.json')} has no input.scaling`);
      // Windows already scaled to int8 codes need no scaling and still check.
      const ok = JSON.parse((await run(process.execPath, [CLI, 'check', '--port', vd.path, '--artifacts', old, '--source', codesNpy, '--windows', '20', '--json'])).stdout) as Summary;
      expect(ok.bitExactRate).toBe(1);
      expect(ok.input).toEqual({ raw: false, scaling: null });
    } finally {
      await vd.stop();
    }
  }, 60_000);

  it('a malformed input.scaling is refused with the file and the field', async () => {
    const bad = join(tmp, 'bad-export');
    cpSync(out, bad, { recursive: true });
    const model = JSON.parse(readFileSync(join(bad, 'model.json'), 'utf8'));
    model.input.scaling = { kind: 'zscore', min: 0, max: 1 };
    writeFileSync(join(bad, 'model.json'), JSON.stringify(model));
    await expect(loadRuntime(bad)).rejects.toThrow(`${join(bad, 'model.json')}: model.input.scaling.kind: expected one of "unit", "minmax", "range", "int8".`);
    expect(() => deserializeModel(model)).toThrow(/model\.input\.scaling\.kind/);
  });
});
