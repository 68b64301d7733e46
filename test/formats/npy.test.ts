import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '../../src-main/formats/format-error.ts';
import { readNpy, toNumbers, writeNpy, type NdArray, type NpyDtype } from '../../src-main/formats/npy.ts';
import { pythonModules, runPython } from './python.ts';
import { gate } from '../support/fixtures.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const CONF = CONFORMANCE;
const fixtures = readdirSync(CONF, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(CONF, d.name)).filter((f) => f.endsWith('.npy')).map((f) => join(CONF, d.name, f)));
const py = gate(pythonModules('numpy'));

describe('readNpy on the conformance fixtures', () => {
  it('finds fixtures', () => expect(fixtures.length).toBeGreaterThanOrEqual(8));
  it.skipIf(py.skip)('matches numpy for every fixture (dtype, shape, every value)' + py.note, () => {
    const ref = runPython(`
import sys, json, numpy as np
out = {}
for p in sys.argv[1:]:
    a = np.load(p, allow_pickle=False)
    out[p] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'values': a.ravel().tolist()}
print(json.dumps(out))`, fixtures);
    for (const p of fixtures) {
      const a = readNpy(readFileSync(p), p);
      expect(a.dtype, p).toBe(ref[p].dtype);
      expect(a.shape, p).toEqual(ref[p].shape);
      expect(Array.from(toNumbers(a)), p).toEqual(ref[p].values);
    }
  });
});

describe('readNpy on Fortran-order files (ai8xize.py saves a (C, H, W) known answer that way)', () => {
  it.skipIf(py.skip)('gives the same C-order values as numpy for ranks 2 to 4' + py.note, () => {
    const dir = mkdtempSync(join(tmpdir(), 'qatwb-npy-f-'));
    const shapes = [[2, 3], [4, 26, 1], [3, 2, 5], [2, 3, 2, 2]];
    const ref = runPython(`
import sys, json, numpy as np
out = []
for i, s in enumerate(json.loads(sys.argv[2])):
    a = np.asfortranarray(np.arange(np.prod(s), dtype=np.int64).reshape(s) * 7 - 40)
    p = f'{sys.argv[1]}/f{i}.npy'
    np.save(p, a)
    out.append({'path': p, 'values': a.ravel(order='C').tolist(), 'fortran': bool(a.flags['F_CONTIGUOUS'])})
print(json.dumps(out))`, [dir, JSON.stringify(shapes)]);
    shapes.forEach((shape, i) => {
      const bytes = readFileSync(ref[i].path);
      expect(new TextDecoder().decode(bytes.subarray(10, 80))).toMatch(/'fortran_order': True/);
      const a = readNpy(bytes, 'f.npy');
      expect(a.shape).toEqual(shape);
      expect(Array.from(toNumbers(a))).toEqual(ref[i].values);
    });
  });
});

const samples: Record<NpyDtype, number[] | bigint[]> = {
  int8: [-128, -1, 0, 1, 127, 5],
  uint8: [0, 1, 128, 255, 7, 9],
  int16: [-32768, -1, 0, 1, 32767, 300],
  int32: [-2147483648, -1, 0, 1, 2147483647, 70000],
  int64: [-(2n ** 63n), -1n, 0n, 1n, 2n ** 63n - 1n, 2n ** 40n],
  float32: [-1.5, 0, 1e-3, 3.25, Infinity, -0],
  float64: [Math.PI, -1e300, 0, 5e-324, -Infinity, 1 / 3],
  bool: [0, 1, 1, 0, 0, 1],
};
function make(dtype: NpyDtype, shape: number[]): NdArray {
  const v = samples[dtype];
  const data = ({ int8: Int8Array, uint8: Uint8Array, int16: Int16Array, int32: Int32Array, int64: BigInt64Array,
    float32: Float32Array, float64: Float64Array, bool: Uint8Array }[dtype] as any).from(v) as NdArray["data"];
  return { dtype, shape, data };
}

describe('writeNpy', () => {
  const dtypes = Object.keys(samples) as NpyDtype[];
  it('round-trips every dtype and several ranks', () => {
    for (const dtype of dtypes) {
      for (const shape of [[6], [2, 3], [1, 2, 3], [3, 1, 2, 1]]) {
        const a = make(dtype, shape);
        const bytes = writeNpy(a);
        const hl = bytes[8]! | (bytes[9]! << 8);
        expect((10 + hl) % 64, 'data aligned to 64').toBe(0);
        const b = readNpy(bytes);
        expect(b.dtype).toBe(dtype);
        expect(b.shape).toEqual(shape);
        expect(Array.from(b.data as any)).toEqual(Array.from(a.data as any));
      }
    }
  });
  it('round-trips a 0-d and an empty array', () => {
    const s = readNpy(writeNpy({ dtype: 'float32', shape: [], data: Float32Array.of(2.5) }));
    expect(s.shape).toEqual([]);
    expect(Array.from(s.data as Float32Array)).toEqual([2.5]);
    const e = readNpy(writeNpy({ dtype: 'int64', shape: [0, 3], data: new BigInt64Array(0) }));
    expect(e.shape).toEqual([0, 3]);
    expect(e.data.length).toBe(0);
  });
  it.skipIf(py.skip)('writes files numpy reads with identical dtype, shape and values' + py.note, () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    const paths: string[] = [];
    for (const dtype of dtypes) {
      const p = join(dir, `${dtype}.npy`);
      writeFileSync(p, writeNpy(make(dtype, [2, 3])));
      paths.push(p);
    }
    const ref = runPython(`
import sys, json, numpy as np
out = {}
for p in sys.argv[1:]:
    a = np.load(p, allow_pickle=False)
    out[p] = {'dtype': str(a.dtype), 'shape': list(a.shape), 'values': [repr(x) for x in a.ravel().tolist()]}
print(json.dumps(out))`, paths);
    const py = (x: number | bigint, dtype: NpyDtype) => dtype === 'bool' ? (x ? 'True' : 'False')
      : typeof x === 'bigint' ? String(x)
      : dtype.startsWith('float') ? (Number.isFinite(x) ? null : x > 0 ? 'inf' : '-inf') : String(x);
    for (const [k, dtype] of dtypes.entries()) {
      const r = ref[paths[k]!];
      expect(r.dtype).toBe(dtype);
      expect(r.shape).toEqual([2, 3]);
      const want = make(dtype, [6]);
      (r.values as string[]).forEach((s, i) => {
        const x = (want.data as any)[i];
        const p = py(x, dtype);
        if (p === null) expect(Number(s), `${dtype}[${i}]`).toBe(Number(x));
        else expect(s, `${dtype}[${i}]`).toBe(p);
      });
    }
  });
  it.skipIf(py.skip)('reads numpy format 2.0 and 3.0 files' + py.note, () => {
    const dir = mkdtempSync(join(tmpdir(), 'npy-'));
    runPython(`
import sys, json, numpy as np
from numpy.lib import format as f
a = np.arange(12, dtype='<i2').reshape(3, 4)
for v in ((2, 0), (3, 0)):
    with open(sys.argv[1] + '/v%d.npy' % v[0], 'wb') as fh:
        f.write_array(fh, a, version=v)
print('{}')`, [dir]);
    for (const v of [2, 3]) {
      const a = readNpy(readFileSync(join(dir, `v${v}.npy`)));
      expect(a.shape).toEqual([3, 4]);
      expect(Array.from(a.data as Int16Array)).toEqual([...Array(12).keys()]);
    }
  });
  it('toNumbers refuses int64 beyond 2^53', () => {
    expect(() => toNumbers({ dtype: 'int64', shape: [1], data: BigInt64Array.of(2n ** 60n) })).toThrow(FormatError);
  });
});

/** A v1 .npy with a hand-written header (padded like numpy) and `data` bytes. */
function rawNpy(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  const h = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 255, h.length >> 8]);
  for (let k = 0; k < h.length; k++) out[10 + k] = h.charCodeAt(k);
  out.set(data, total);
  return out;
}

describe('readNpy refuses malformed files with a FormatError naming file and field', () => {
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['bad magic', new TextEncoder().encode('PK\x03\x04 not numpy at all'), 'magic', /NumPy magic/],
    ['fortran order not a bool', rawNpy("{'descr': '<f4', 'fortran_order': 1, 'shape': (2, 2), }", new Uint8Array(16)), 'header.fortran_order', /True or False/],
    ['object dtype', rawNpy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16)), 'header.descr', /object/],
    ['big-endian', rawNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), 'header.descr', /big-endian/],
    ['data too short', rawNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 28, 28), }", new Uint8Array(100)), 'data', /truncated/],
    ['data too long', rawNpy("{'descr': '|i1', 'fortran_order': False, 'shape': (3,), }", new Uint8Array(4)), 'data', /3 data bytes/],
    ['header not a dict', rawNpy("['descr', '<f4']"), 'header', /not a dict/],
    ['structured dtype', rawNpy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4)), 'header.descr', /<i8/],
    ['negative shape', rawNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (-1,), }"), 'header.shape', /non-negative/],
    ['version 9', (() => { const b = rawNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (0,), }"); b[6] = 9; return b; })(), 'version', /1, 2 or 3/],
    ['header length past end', rawNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (0,), }").subarray(0, 40), 'header', /header bytes/],
  ];
  for (const [name, bytes, field, msg] of cases) {
    it(name, () => {
      let err: unknown;
      try { readNpy(bytes, 'sample.npy'); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(FormatError);
      const fe = err as FormatError;
      expect(fe.file).toBe('sample.npy');
      expect(fe.field).toBe(field);
      expect(fe.message).toMatch(/^sample\.npy: /);
      expect(fe.message).toContain(field);
      expect(fe.message).toMatch(msg);
    });
  }
});
