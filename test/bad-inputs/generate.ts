// The hostile-file corpus: writes every case into a folder and returns the catalogue (what kind of
// input each file is, and the field its error must name). Generated rather than committed: several
// cases are sparse multi-hundred-megabyte files, pipes and links to devices, which git cannot hold.
// `node --import tsx test/bad-inputs/generate.ts DIR` writes them for a look by hand.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeNpy } from '../../src-main/formats/npy.ts';
import { PyCall, PyGlobalRef, PyPersistent, PyTuple, writePickle, type PyValue } from '../../src-main/formats/pickle-write.ts';
import { writeTorchCheckpoint } from '../../src-main/formats/torch-checkpoint.ts';
import { readZip, writeZip } from '../../src-main/formats/zip.ts';
import { INPUT_CAPS } from '../../src-main/platform/read-input.ts';
import { conformance } from '../support/fixtures.ts';
import { dagPickle, deepPickle, manyListsPickle, selfListPickle } from './hostile.ts';

/** checkpoint / yaml: an ai8x model part; input: a model input .npy; data: a training data set. */
export type Kind = 'checkpoint' | 'yaml' | 'input' | 'csv' | 'npy-x' | 'npy-y';

export interface Case {
  name: string;
  kind: Kind;
  /** What the error must name besides the file (a field, or what was wrong). */
  field: RegExp;
}

const enc = (s: string) => new TextEncoder().encode(s);
const goodCkpt = () => new Uint8Array(readFileSync(conformance('mnist-qat8', 'checkpoint.pth.tar')));
const goodYaml = () => readFileSync(conformance('mnist-qat8', 'network.yaml'), 'utf8');
const od = () => new PyCall(new PyGlobalRef('collections', 'OrderedDict'), new PyTuple([]));
const storage = (key: string, numel: number, type = 'FloatStorage') => new PyPersistent(new PyTuple(['storage', new PyGlobalRef('torch', type), key, 'cpu', numel]));
const tensor = (s: PyValue, offset: number, size: number[], stride: number[]) =>
  new PyCall(new PyGlobalRef('torch._utils', '_rebuild_tensor_v2'), new PyTuple([s, offset, new PyTuple(size), new PyTuple(stride), false, od()]));
const archive = (pkl: Uint8Array, extra: { name: string; data: Uint8Array }[] = []) =>
  writeZip([{ name: 'archive/data.pkl', data: pkl }, ...extra, { name: 'archive/version', data: enc('3\n') }]);
const stateDict = (entries: [string, PyValue][]) => writePickle(new Map<PyValue, PyValue>([['state_dict', new PyCall(new PyGlobalRef('collections', 'OrderedDict'), new PyTuple([]), entries)]]));
/** The good checkpoint with one tensor's values replaced (float32 storage), CRCs kept valid. */
function goodWithTensorValues(fill: number): Uint8Array {
  const entries = [...readZip(goodCkpt())];
  const pkl = entries.find(([n]) => n.endsWith('data.pkl'))!;
  const data = entries.filter(([n]) => /\/data\/\d+$/.test(n));
  const first = data[0]!;
  const f = new Float32Array(first[1].length / 4).fill(fill);
  return writeZip(entries.map(([name, d]) => ({ name, data: name === first[0] ? new Uint8Array(f.buffer) : name === pkl[0] ? d : d })));
}
function npyHeader(header: string, major = 1): Uint8Array {
  const pad = 64 - ((10 + header.length + 1) % 64);
  const h = header + ' '.repeat(pad % 64) + '\n';
  const b = new Uint8Array((major === 1 ? 10 : 12) + h.length);
  b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const v = new DataView(b.buffer);
  if (major === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  b.set(enc(h), major === 1 ? 10 : 12);
  return b;
}
const cat = (...parts: Uint8Array[]) => { const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0)); let k = 0; for (const p of parts) { out.set(p, k); k += p.length; } return out; };

type Maker = { name: string; kind: Kind; field: RegExp; write(path: string): void };
const bytes = (name: string, kind: Kind, field: RegExp, data: () => Uint8Array | string): Maker => ({ name, kind, field, write: (p) => writeFileSync(p, data()) });
const sparse = (name: string, kind: Kind, size: number): Maker => ({ name, kind, field: /expected at most \d+(\.\d)? [KM]B/, write: (p) => { writeFileSync(p, ''); truncateSync(p, size); } });
const link = (name: string, kind: Kind, target: string): Maker => ({ name, kind, field: /expected a regular file \(got a device\)/, write: (p) => symlinkSync(target, p) });
const fifo = (name: string, kind: Kind): Maker => ({ name, kind, field: /expected a regular file \(got a named pipe\)/, write: (p) => execFileSync('mkfifo', [p]) });
const folder = (name: string, kind: Kind): Maker => ({ name, kind, field: /expected a regular file \(got a folder\)/, write: (p) => mkdirSync(p) });

const MAKERS: Maker[] = [
  // --- checkpoints: pickles that explode, tensors that lie, archives that lie ---
  bytes('dag-60.pth.tar', 'checkpoint', /<root>: expected a state_dict/, () => archive(dagPickle(60))),
  bytes('dag-40.pth.tar', 'checkpoint', /<root>: expected a state_dict/, () => archive(dagPickle(40))),
  bytes('deep-5000.pth.tar', 'checkpoint', /nesting depth of at most 64/, () => archive(deepPickle(5000))),
  bytes('cycle.pth.tar', 'checkpoint', /without cycles/, () => archive(selfListPickle())),
  bytes('lists-2m.pth.tar', 'checkpoint', /<root>: expected a state_dict/, () => archive(manyListsPickle(2_000_000))),
  bytes('lists-9m.pth.tar', 'checkpoint', /data\.pkl: expected a pickle of at most 8 MB/, () => archive(manyListsPickle(9_000_000))),
  bytes('stride0-8x64mb.pth.tar', 'checkpoint', /tensor\[storage 0\]: expected at most \d+ elements/, () =>
    archive(stateDict(Array.from({ length: 8 }, (_, k) => [`w${k}`, tensor(storage('0', 1), 0, [1 << 24], [0])] as [string, PyValue])), [{ name: 'archive/data/0', data: new Uint8Array(4) }])),
  bytes('stride0-2e30.pth.tar', 'checkpoint', /tensor\[storage 0\]: expected at most \d+ elements/, () =>
    archive(stateDict([['w', tensor(storage('0', 1), 0, [1 << 15, 1 << 15], [0, 0])]]), [{ name: 'archive/data/0', data: new Uint8Array(4) }])),
  bytes('numel-lie.pth.tar', 'checkpoint', /archive\/data\/0: expected 4000000000 bytes/, () =>
    archive(stateDict([['w', tensor(storage('0', 1_000_000_000), 0, [4], [1])]]), [{ name: 'archive/data/0', data: new Uint8Array(16) }])),
  bytes('shape-2e40.pth.tar', 'checkpoint', /tensor\[storage 0\]: expected a view inside the 4-element storage/, () =>
    archive(stateDict([['w', tensor(storage('0', 4), 0, [2 ** 40], [1])]]), [{ name: 'archive/data/0', data: new Uint8Array(16) }])),
  bytes('offset-huge.pth.tar', 'checkpoint', /tensor\[storage 0\]: expected a view inside/, () =>
    archive(stateDict([['w', tensor(storage('0', 4), 2 ** 50, [1], [1])]]), [{ name: 'archive/data/0', data: new Uint8Array(16) }])),
  bytes('missing-storage.pth.tar', 'checkpoint', /archive\/data\/7: expected the storage entry/, () =>
    archive(stateDict([['w', tensor(storage('7', 4), 0, [4], [1])]]))),
  bytes('os-system.pth.tar', 'checkpoint', /unknown global os\.system, not executed/, () =>
    archive(Uint8Array.from([0x80, 2, ...enc('cos\nsystem\n'), 0x58, 2, 0, 0, 0, ...enc('id'), 0x85, 0x52, 0x2e]))),
  bytes('builtins-eval.pth.tar', 'checkpoint', /unknown global builtins\.eval/, () =>
    archive(Uint8Array.from([0x80, 4, 0x8c, 8, ...enc('builtins'), 0x8c, 4, ...enc('eval'), 0x93, 0x2e]))),
  bytes('long4-huge.pth.tar', 'checkpoint', /integer of at most 64 bytes/, () =>
    archive(Uint8Array.from([0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f, 0x2e]))),
  bytes('unicode8-lie.pth.tar', 'checkpoint', /BINUNICODE8/, () =>
    archive(Uint8Array.from([0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x2e]))),
  bytes('memo-missing.pth.tar', 'checkpoint', /memo key 200/, () => archive(Uint8Array.from([0x80, 2, 0x68, 200, 0x2e]))),
  bytes('zip-count-lie.pth.tar', 'checkpoint', /end-of-central-directory\.entries/, () => {
    const z = archive(writePickle(new Map<PyValue, PyValue>()));
    const v = new DataView(z.buffer);
    v.setUint16(z.length - 22 + 8, 0xfffe, true);
    v.setUint16(z.length - 22 + 10, 0xfffe, true);
    return z;
  }),
  bytes('zip-cd-offset-lie.pth.tar', 'checkpoint', /central-directory/, () => {
    const z = archive(writePickle(new Map<PyValue, PyValue>()));
    new DataView(z.buffer).setUint32(z.length - 22 + 16, 0x7ffffff0, true);
    return z;
  }),
  bytes('zip-deflated.pth.tar', 'checkpoint', /method: expected a stored \(uncompressed\) entry/, () => {
    const z = archive(writePickle(new Map<PyValue, PyValue>()));
    const v = new DataView(z.buffer);
    const cd = v.getUint32(z.length - 22 + 16, true);
    v.setUint16(cd + 10, 8, true); // claims deflate: a zip bomb's method
    return z;
  }),
  bytes('zip-size-lie.pth.tar', 'checkpoint', /size/, () => {
    const z = archive(writePickle(new Map<PyValue, PyValue>()));
    const v = new DataView(z.buffer);
    const cd = v.getUint32(z.length - 22 + 16, true);
    v.setUint32(cd + 20, 0x7fffffff, true);
    v.setUint32(cd + 24, 0x7fffffff, true);
    return z;
  }),
  bytes('crc-bad.pth.tar', 'checkpoint', /crc32: expected CRC-32/, () => { const z = goodCkpt(); z[200] = z[200]! ^ 0xff; return z; }),
  bytes('truncated.pth.tar', 'checkpoint', /end-of-central-directory|truncated/, () => goodCkpt().subarray(0, 3000)),
  bytes('empty.pth.tar', 'checkpoint', /end-of-central-directory: expected a zip archive/, () => new Uint8Array()),
  bytes('legacy.pth.tar', 'checkpoint', /format: expected the torch\.save zip format/, () => Uint8Array.from([0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e])),
  bytes('nan-weights.pth.tar', 'checkpoint', /NaN|finite|integer/i, () => goodWithTensorValues(NaN)),
  bytes('inf-weights.pth.tar', 'checkpoint', /Infinity|finite|integer|range/i, () => goodWithTensorValues(Infinity)),
  bytes('huge-weights.pth.tar', 'checkpoint', /range|integer|expected/i, () => goodWithTensorValues(1e30)),
  bytes('wrong-arch.pth.tar', 'checkpoint', /state_dict|expected/, () => writeTorchCheckpoint({ epoch: 1, arch: 'x', state_dict: new Map([['nonsense.weight', { dtype: 'float32', shape: [1], data: Float32Array.of(1) }]]) })),
  link('devzero.pth.tar', 'checkpoint', '/dev/zero'),
  fifo('pipe.pth.tar', 'checkpoint'),
  folder('folder.pth.tar', 'checkpoint'),
  sparse('sparse-huge.pth.tar', 'checkpoint', INPUT_CAPS.checkpoint + 1),
  // --- network YAML ---
  bytes('billion-laughs.yaml', 'yaml', /aliases|YAML/, () => {
    let y = 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 1; i < 10; i++) y += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(',')}]\n`;
    return y + 'arch: x\ndataset: y\nlayers: *a9\n';
  }),
  bytes('deep-flow.yaml', 'yaml', /YAML|layers|expected/, () => `arch: x\ndataset: y\nlayers: ${'['.repeat(20000)}${']'.repeat(20000)}\n`),
  bytes('nan-shift.yaml', 'yaml', /output_shift/, () => goodYaml().replace(/(\n\s*-\s*)(?=\S)/, '$1output_shift: .nan\n    ')),
  bytes('inf-shift.yaml', 'yaml', /output_shift/, () => goodYaml().replace(/(\n\s*-\s*)(?=\S)/, '$1output_shift: .inf\n    ')),
  bytes('huge-processors.yaml', 'yaml', /processors/, () => goodYaml().replace(/processors:\s*\S+/, 'processors: 0xffffffffffffffffffffffffffffffffffff')),
  bytes('negative-offset.yaml', 'yaml', /out_offset/, () => goodYaml().replace(/out_offset:\s*\S+/, 'out_offset: -4')),
  bytes('duplicate-keys.yaml', 'yaml', /YAML|unique|duplicate/i, () => 'arch: a\narch: b\ndataset: y\nlayers: []\n'),
  bytes('python-tag.yaml', 'yaml', /YAML|tag|expected/i, () => 'arch: !!python/object/apply:os.system ["id"]\ndataset: y\nlayers: []\n'),
  bytes('layers-not-list.yaml', 'yaml', /layers/, () => 'arch: x\ndataset: y\nlayers: 5\n'),
  bytes('binary-garbage.yaml', 'yaml', /YAML|expected/, () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)),
  bytes('many-layers.yaml', 'yaml', /expected at most 512 KB for a yaml file/, () => `arch: x\ndataset: y\nlayers:\n${'  - {processors: 0x1, out_offset: 0, op: conv2d, kernel_size: 3x3, pad: 1}\n'.repeat(20000)}`),
  link('devzero.yaml', 'yaml', '/dev/zero'),
  sparse('sparse-huge.yaml', 'yaml', INPUT_CAPS.yaml + 1),
  // --- model input .npy (simulate / plan --input, check --source) ---
  bytes('shape-lie.npy', 'input', /data: expected \d+ data bytes/, () => cat(npyHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (1000000, 1, 28, 28), }"), new Uint8Array(64))),
  bytes('shape-overflow.npy', 'input', /data: expected -1 data bytes|header\.shape|data/, () => cat(npyHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }"), new Uint8Array(8))),
  bytes('negative-dim.npy', 'input', /header\.shape/, () => cat(npyHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (-1, 28), }"), new Uint8Array(8))),
  bytes('header-len-lie.npy', 'input', /header: expected \d+ header bytes/, () => { const b = npyHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", 2); new DataView(b.buffer).setUint32(8, 0xfffffff0, true); return b; }),
  bytes('object-dtype.npy', 'input', /header\.descr/, () => cat(npyHeader("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), new Uint8Array(8))),
  bytes('fortran-5.npy', 'input', /header\.fortran_order: expected True or False/, () => cat(npyHeader("{'descr': '<i8', 'fortran_order': 5, 'shape': (1, 28, 28), }"), new Uint8Array(8 * 784))),
  bytes('big-endian.npy', 'input', /header\.descr/, () => cat(npyHeader("{'descr': '>i8', 'fortran_order': False, 'shape': (1, 28, 28), }"), new Uint8Array(8 * 784))),
  bytes('nan-input.npy', 'input', /dtype: expected integer/, () => writeNpy({ dtype: 'float32', shape: [1, 28, 28], data: new Float32Array(784).fill(NaN) })),
  bytes('inf-input.npy', 'input', /dtype: expected integer/, () => writeNpy({ dtype: 'float64', shape: [1, 28, 28], data: new Float64Array(784).fill(Infinity) })),
  bytes('out-of-range.npy', 'input', /data\[0\]: expected a value in -128\.\.127/, () => writeNpy({ dtype: 'int64', shape: [1, 28, 28], data: new BigInt64Array(784).fill(1n << 40n) })),
  bytes('wrong-shape.npy', 'input', /shape: expected 1 input channels/, () => writeNpy({ dtype: 'int64', shape: [3, 5], data: new BigInt64Array(15) })),
  bytes('deep-header.npy', 'input', /header/, () => cat(npyHeader(`{'descr': '<i8', 'fortran_order': False, 'shape': ${'('.repeat(3000)}1,${'),'.repeat(2999)}), }`, 2), new Uint8Array(8))),
  bytes('magic-only.npy', 'input', /magic/, () => Uint8Array.from([0x93, 0x4e, 0x55])),
  link('devzero.npy', 'input', '/dev/zero'),
  fifo('pipe.npy', 'input'),
  sparse('sparse-huge.npy', 'input', INPUT_CAPS.sample + 1),
  // --- training data (qatwb train --data) ---
  bytes('nan.csv', 'csv', /NaN|finite|number/i, () => `${Array.from({ length: 4 }, (_, i) => `f${i}`).join(',')},label\n` + Array.from({ length: 40 }, (_, r) => `${r % 3 ? 'NaN' : '1'},inf,-inf,1e999,${r % 2}`).join('\n') + '\n'),
  bytes('ragged.csv', 'csv', /row|column|line/i, () => 'a,b,c,label\n1,2,3,0\n1,2\n1,2,3,4,5,6,7\n'),
  bytes('one-long-line.csv', 'csv', /row|column|line|label|sample/i, () => `${'1,'.repeat(2_000_000)}0`),
  bytes('wide.csv', 'csv', /row|column|line|label|sample/i, () => `${Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',')}\n${'1,'.repeat(99_999)}0\n`),
  bytes('binary.csv', 'csv', /row|column|line|label|number|UTF|text/i, () => Uint8Array.from({ length: 8192 }, (_, i) => (i * 31 + 7) & 0xff)),
  bytes('empty.csv', 'csv', /empty|row|header|sample/i, () => ''),
  link('devzero.csv', 'csv', '/dev/zero'),
  bytes('x-shape-lie.npy', 'npy-x', /data: expected \d+ data bytes/, () => cat(npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 1, 28, 28), }"), new Uint8Array(64))),
  bytes('x-nan.npy', 'npy-x', /NaN|finite/i, () => writeNpy({ dtype: 'float32', shape: [40, 1, 8], data: new Float32Array(320).fill(NaN) })),
  bytes('y-nan.npy', 'npy-y', /label|class|integer/i, () => writeNpy({ dtype: 'float32', shape: [40], data: Float32Array.from({ length: 40 }, (_, i) => (i === 0 ? NaN : i % 2)) })),
  bytes('y-negative.npy', 'npy-y', /label|class/i, () => writeNpy({ dtype: 'int64', shape: [40], data: BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i % 2 ? -5 : 0)) })),
  bytes('y-count-lie.npy', 'npy-y', /label|count|samples|40|3/i, () => writeNpy({ dtype: 'int64', shape: [3], data: BigInt64Array.of(0n, 1n, 0n) })),
];

/** Writes every case into `dir`; returns the catalogue with paths. */
export function generateCorpus(dir: string): (Case & { path: string })[] {
  mkdirSync(dir, { recursive: true });
  return MAKERS.map((m) => {
    const path = join(dir, m.name);
    m.write(path);
    return { name: m.name, kind: m.kind, field: m.field, path };
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = resolve(process.argv[2] ?? 'test-results/bad-inputs');
  const list = generateCorpus(out);
  console.log(`${list.length} hostile files in ${out}`);
}
