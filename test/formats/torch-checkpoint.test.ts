import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NdArray } from '../../src-main/formats/npy.ts';
import { readTorchCheckpoint, writeTorchCheckpoint } from '../../src-main/formats/torch-checkpoint.ts';
import { readZip } from '../../src-main/formats/zip.ts';
import { pythonModules, runPython } from './python.ts';
import { gate } from '../support/fixtures.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const CONF = CONFORMANCE;
const py = gate(pythonModules('torch'));

/** Python that prints a checkpoint's tensors (and scalars) as JSON with exact values. */
const DUMP = `
import sys, json, math, torch
def enc(x):
    if isinstance(x, float) and not math.isfinite(x): return repr(x)
    return x
def dump(p, weights_only):
    # The fixtures hold optimizer_type = torch.optim.SGD, which torch >= 2.6's default weights_only refuses.
    c = torch.load(p, map_location='cpu', weights_only=weights_only)
    sd = c['state_dict'] if 'state_dict' in c else c
    return {
      'type': type(sd).__name__,
      'keys': list(sd.keys()),
      'tensors': {k: {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape),
                      'values': [enc(v) for v in t.flatten().tolist()]} for k, t in sd.items()},
      'epoch': c.get('epoch'), 'arch': c.get('arch'),
      'extras': c.get('extras'),
    }
`;

function jsValues(a: NdArray): unknown[] {
  return Array.from(a.data as ArrayLike<number | bigint>, (v) =>
    typeof v === 'bigint' ? Number(v) : a.dtype === 'bool' ? v !== 0 : Number.isFinite(v) ? v : String(v === Infinity ? 'inf' : v === -Infinity ? '-inf' : 'nan'));
}

describe('readTorchCheckpoint on the conformance checkpoints', () => {
  const cases = [
    { dir: 'mnist-qat8', keys: 31, epoch: 194, arch: 'ai85net5', weight: 'conv1.op.weight', shape: [60, 1, 3, 3] },
    { dir: 'mnist-extrasmall', keys: 25, epoch: 190, arch: 'ai85netextrasmall', weight: 'conv1.op.weight', shape: [8, 1, 3, 3] },
    { dir: 'ecg1d-mixed', keys: 40, epoch: 100, arch: 'ai87ecgnet', weight: 'conv1.op.weight', shape: [16, 1, 5] },
  ];
  for (const c of cases) {
    it(`${c.dir}: key count, order, epoch, arch, every tensor value${py.note}`, () => {
      const p = join(CONF, c.dir, 'checkpoint.pth.tar');
      const ck = readTorchCheckpoint(readFileSync(p), 'checkpoint.pth.tar');
      expect(ck.stateDict.size).toBe(c.keys);
      expect(ck.epoch).toBe(c.epoch);
      expect(ck.arch).toBe(c.arch);
      expect(ck.stateDict.get(c.weight)!.shape).toEqual(c.shape);
      expect((ck.extras as Map<string, unknown>).get('clipping_method')).toBe('MAX_BIT_SHIFT');
      if (py.skip) return;
      const ref = runPython(`${DUMP}\nprint(json.dumps(dump(sys.argv[1], False)))`, [p]);
      expect([...ck.stateDict.keys()]).toEqual(ref.keys);
      for (const [k, a] of ck.stateDict) {
        expect(a.dtype, k).toBe(ref.tensors[k].dtype);
        expect(a.shape, k).toEqual(ref.tensors[k].shape);
        expect(jsValues(a), k).toEqual(ref.tensors[k].values);
      }
    });
  }
  it('reads the optimizer state and compression schedule of the MNIST checkpoint too', () => {
    const ck = readTorchCheckpoint(readFileSync(join(CONF, 'mnist-qat8', 'checkpoint.pth.tar')));
    const root = ck.root as Map<string, unknown>;
    expect(String(root.get('optimizer_type'))).toBe('torch.optim.sgd.SGD');
    const opt = root.get('optimizer_state_dict') as Map<string, unknown>;
    const state = opt.get('state') as Map<number, Map<string, NdArray>>;
    expect(state.get(5)!.get('momentum_buffer')!.shape).toEqual([60, 1, 3, 3]);
    const masks = (root.get('compression_sched') as Map<string, unknown>).get('masks_dict') as Map<string, unknown>;
    expect(masks.get('conv1.weight_bits')).toBeNull();
  });
});

describe.skipIf(py.skip)('checkpoints we write are read by real torch.load' + py.note, () => {
  const sd = new Map<string, NdArray>([
    ['conv1.output_shift', { dtype: 'float32', shape: [1], data: Float32Array.of(-1) }],
    ['conv1.op.weight', { dtype: 'float32', shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i - 9) }],
    ['conv1.op.bias', { dtype: 'float32', shape: [2], data: Float32Array.of(0.5, -1e-7) }],
    ['f64', { dtype: 'float64', shape: [3], data: Float64Array.of(Math.PI, -0, 1e300) }],
    ['i64', { dtype: 'int64', shape: [2, 2], data: BigInt64Array.of(-(2n ** 40n), 0n, 1n, 2n ** 50n) }],
    ['i32', { dtype: 'int32', shape: [2], data: Int32Array.of(-2147483648, 2147483647) }],
    ['i16', { dtype: 'int16', shape: [1], data: Int16Array.of(-300) }],
    ['i8', { dtype: 'int8', shape: [3], data: Int8Array.of(-128, 0, 127) }],
    ['u8', { dtype: 'uint8', shape: [2], data: Uint8Array.of(0, 255) }],
    ['b', { dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) }],
    ['scalar', { dtype: 'float32', shape: [], data: Float32Array.of(7) }],
    ['empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
  ]);
  // torch 1.13's weights_only unpickler has no BINFLOAT, so float extras are checked with weights_only=False
  // only (torch 2.13 reads them with weights_only=True too: QATWB_TEST_PYTHON=<venv python> to check).
  const extrasFor = (weightsOnly: string): Record<string, number | string | boolean> => weightsOnly === 'True'
    ? { clipping_method: 'MAX_BIT_SHIFT', best_epoch: 12, flag: true }
    : { clipping_method: 'MAX_BIT_SHIFT', best_top1: 99.25, best_epoch: 12, flag: true, big: 2 ** 40 };
  for (const weightsOnly of ['True', 'False']) {
    it(`weights_only=${weightsOnly}: same keys in order, dtypes, shapes, exact values, epoch/arch/extras`, () => {
      const extras = extrasFor(weightsOnly);
      const p = join(mkdtempSync(join(tmpdir(), 'ckpt-')), 'q.pth.tar');
      writeFileSync(p, writeTorchCheckpoint({ epoch: 7, arch: 'ai85net5', state_dict: sd, extras }, 'qat_best'));
      const ref = runPython(`${DUMP}\nprint(json.dumps(dump(sys.argv[1], ${weightsOnly})))`, [p]);
      expect(ref.type).toBe('OrderedDict');
      expect(ref.keys).toEqual([...sd.keys()]);
      expect(ref.epoch).toBe(7);
      expect(ref.arch).toBe('ai85net5');
      expect(ref.extras).toEqual(extras);
      for (const [k, a] of sd) {
        expect(ref.tensors[k].dtype, k).toBe(a.dtype);
        expect(ref.tensors[k].shape, k).toEqual(a.shape);
        expect(ref.tensors[k].values, k).toEqual(jsValues(a));
      }
    });
  }
  it('aligns storages to 64 bytes and reads back with our reader', () => {
    const bytes = writeTorchCheckpoint({ epoch: 1, arch: 'x', state_dict: sd });
    for (const [name, d] of readZip(bytes)) if (name.includes('/data/')) expect(d.byteOffset % 64, name).toBe(0);
    const back = readTorchCheckpoint(bytes);
    expect([...back.stateDict.keys()]).toEqual([...sd.keys()]);
    for (const [k, a] of sd) {
      expect(back.stateDict.get(k)!.shape).toEqual(a.shape);
      expect(jsValues(back.stateDict.get(k)!)).toEqual(jsValues(a));
    }
  });
});

describe.skipIf(py.skip)('our reader reads torch.save output written by python now' + py.note, () => {
  it('OrderedDict state_dict of several dtypes, shared storage views, non-contiguous and offset tensors, numpy scalars', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
    const ref = runPython(`
import sys, json, collections, torch, numpy as np
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
sd = collections.OrderedDict()
sd['z.weight'] = torch.nn.Parameter(torch.randn(3, 2, 3, 3))
sd['a.bias'] = torch.tensor([1.5, -2.25], dtype=torch.float64)
sd['m.long'] = torch.tensor([[-(2**40), 5]], dtype=torch.int64)
sd['m.int'] = torch.tensor([-7, 8, 9], dtype=torch.int32)
sd['m.short'] = torch.tensor([-300], dtype=torch.int16)
sd['m.char'] = torch.tensor([-128, 127], dtype=torch.int8)
sd['m.byte'] = torch.tensor([0, 255], dtype=torch.uint8)
sd['m.bool'] = torch.tensor([True, False])
sd['v.row'] = base[2]            # storage offset 12, shared storage
sd['v.t'] = base.t()             # non-contiguous
sd['v.slice'] = base[1:3, ::2]   # offset + strides
sd['s'] = torch.tensor(3.0)
sd['v.base'] = base
obj = {'epoch': 3, 'arch': 'net', 'state_dict': sd,
       'extras': {'best_top1': np.float64(97.5), 'n': np.int64(4), 'clipping_method': 'MAX'},
       'optimizer_type': torch.optim.Adam}
torch.save(obj, sys.argv[1] + '/py.pth.tar')
print(json.dumps({k: {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape),
                      'values': t.detach().flatten().tolist()} for k, t in sd.items()}))`, [dir]);
    const ck = readTorchCheckpoint(readFileSync(join(dir, 'py.pth.tar')), 'py.pth.tar');
    expect([...ck.stateDict.keys()]).toEqual(Object.keys(ref));
    for (const [k, a] of ck.stateDict) {
      expect(a.dtype, k).toBe(ref[k].dtype);
      expect(a.shape, k).toEqual(ref[k].shape);
      expect(jsValues(a), k).toEqual(ref[k].values);
    }
    expect(ck.epoch).toBe(3);
    const ex = ck.extras as Map<string, unknown>;
    expect(ex.get('best_top1')).toBe(97.5);
    expect(ex.get('n')).toBe(4);
  });
});

describe('a torch 2.13 torch.save file (committed fixture, made by test/fixtures/formats/README.md)', () => {
  it('reads every tensor exactly, incl. views, dtypes and numpy scalar extras', () => {
    const dir = new URL('../fixtures/formats/', import.meta.url).pathname;
    const ref = JSON.parse(readFileSync(join(dir, 'torch2.13-save.expected.json'), 'utf8'));
    const ck = readTorchCheckpoint(readFileSync(join(dir, 'torch2.13-save.pth.tar')), 'torch2.13-save.pth.tar');
    expect(ck.epoch).toBe(ref.epoch);
    expect(ck.arch).toBe(ref.arch);
    expect([...ck.stateDict.keys()]).toEqual(Object.keys(ref.tensors));
    for (const [k, a] of ck.stateDict) {
      expect(a.dtype, k).toBe(ref.tensors[k].dtype);
      expect(a.shape, k).toEqual(ref.tensors[k].shape);
      expect(jsValues(a), k).toEqual(ref.tensors[k].values);
    }
    expect((ck.extras as Map<string, unknown>).get('best_top1')).toBe(97.5);
    expect(String((ck.root as Map<string, unknown>).get('optimizer_type'))).toBe('torch.optim.adam.Adam');
  });
});
