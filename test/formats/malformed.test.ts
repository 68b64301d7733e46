// Malformed pickles and checkpoints: each must fail with a FormatError that names the file and
// the field (entry + byte offset + opcode for pickles). npy and zip cases live in their own tests.
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src-main/formats/format-error.ts';
import type { NdArray } from '../../src-main/formats/npy.ts';
import { readPickle } from '../../src-main/formats/pickle.ts';
import { PyCall, PyGlobalRef, PyPersistent, PyTuple, writePickle, type PyValue } from '../../src-main/formats/pickle-write.ts';
import { readTorchCheckpoint, writeTorchCheckpoint } from '../../src-main/formats/torch-checkpoint.ts';
import { readZip, writeZip } from '../../src-main/formats/zip.ts';

function formatError(fn: () => unknown): FormatError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(FormatError);
  return err as FormatError;
}
const bytes = (...v: (number | string)[]) => Uint8Array.from(v.flatMap((x) => (typeof x === 'string' ? [...x].map((c) => c.charCodeAt(0)) : [x])));

describe('readPickle refuses malformed pickles', () => {
  const cases: [string, Uint8Array, RegExp, RegExp][] = [
    ['unknown global os.system (GLOBAL)', bytes(0x80, 2, 'c', 'os\nsystem\n', 'X', 3, 0, 0, 0, 'ls', 0x85, 'R', '.'), /^pickle@2 \(GLOBAL\)$/, /unknown global os\.system, not executed/],
    ['unknown global via STACK_GLOBAL', bytes(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, '.'), /^pickle@18 \(STACK_GLOBAL\)$/, /builtins\.eval/],
    ['bad opcode', bytes(0x80, 2, 0xff, '.'), /^pickle@2/, /unknown opcode 0xff/],
    ['INST opcode (instantiates a class)', bytes(0x80, 2, '(', 'i', 'os\nsystem\n', '.'), /^pickle@3 \(INST\)$/, /INST is not supported/],
    ['truncated pickle (string cut)', bytes(0x80, 2, 'X', 10, 0, 0, 0, 'abc'), /^pickle@2 \(BINUNICODE\)$/, /truncated/],
    ['no STOP', bytes(0x80, 2, 'N'), /^pickle@3$/, /STOP/],
    ['stack underflow', bytes(0x80, 2, 's', '.'), /^pickle@2 \(SETITEM\)$/, /empty stack/],
    ['memo key never stored', bytes(0x80, 2, 'h', 9, '.'), /^pickle@2 \(BINGET\)$/, /memo key 9/],
    ['persistent id without a loader', bytes(0x80, 2, 'N', 'Q', '.'), /^pickle@3 \(BINPERSID\)$/, /persistent/],
    ['protocol 9', bytes(0x80, 9, 'N', '.'), /^pickle@0 \(PROTO\)$/, /protocol 2\.\.5/],
    ['invalid UTF-8 string', bytes(0x80, 2, 'X', 2, 0, 0, 0, 0xc3, 0x28, '.'), /BINUNICODE/, /UTF-8/],
    ['APPEND to a dict', bytes(0x80, 2, '}', 'N', 'a', '.'), /APPEND/, /a list/],
  ];
  for (const [name, b, field, msg] of cases) {
    it(name, () => {
      const e = formatError(() => readPickle(b, 'evil.pkl'));
      expect(e.file).toBe('evil.pkl');
      expect(e.field).toMatch(field);
      expect(e.message).toMatch(/^evil\.pkl: pickle@\d+/);
      expect(e.message).toMatch(msg);
    });
  }
});

const sd = new Map<string, NdArray>([['w', { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }]]);
const good = writeTorchCheckpoint({ epoch: 1, arch: 'net', state_dict: sd }, 'archive');
/** The good checkpoint with entries replaced (undefined = removed), re-zipped so CRCs stay valid. */
function edited(edits: Record<string, Uint8Array | undefined>): Uint8Array {
  const entries = [...readZip(good)].filter(([n]) => !(n in edits) || edits[n]).map(([name, data]) => ({ name, data: edits[name] ?? data }));
  for (const [name, data] of Object.entries(edits)) if (data && !entries.some((e) => e.name === name)) entries.push({ name, data });
  return writeZip(entries);
}
const tensor = (storage: PyValue, offset: number, size: number[], stride: number[]) => new PyCall(
  new PyGlobalRef('torch._utils', '_rebuild_tensor_v2'),
  new PyTuple([storage, offset, new PyTuple(size), new PyTuple(stride), false, new PyCall(new PyGlobalRef('collections', 'OrderedDict'), new PyTuple([]))]));
const storage = (key: string, numel: number, type = 'FloatStorage') =>
  new PyPersistent(new PyTuple(['storage', new PyGlobalRef('torch', type), key, 'cpu', numel]));
const withPickle = (v: PyValue) => edited({ 'archive/data.pkl': writePickle(v) });

describe('readTorchCheckpoint refuses malformed checkpoints', () => {
  const cases: [string, () => Uint8Array, RegExp, RegExp][] = [
    ['missing data.pkl', () => edited({ 'archive/data.pkl': undefined }), /^data\.pkl$/, /archive>\/data\.pkl/],
    ['storage key missing', () => edited({ 'archive/data/0': undefined }), /^archive\/data\/0$/, /storage entry named by the pickle.*missing/],
    ['storage shorter than numel', () => edited({ 'archive/data/0': new Uint8Array(8) }), /^archive\/data\/0$/, /16 bytes for 4 float32/],
    ['legacy (pre-1.6) torch.save format', () => bytes(0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'), /^format$/, /zip format/],
    ['state_dict is not a dict', () => withPickle(new Map<PyValue, PyValue>([['state_dict', [1, 2]]])), /^state_dict$/, /dict of tensors/],
    ['state_dict value not a tensor', () => withPickle(new Map<PyValue, PyValue>([['state_dict', new Map<PyValue, PyValue>([['w', 3]])]])), /^state_dict\.w$/, /a tensor/],
    ['tensor view outside its storage', () => withPickle(new Map<PyValue, PyValue>([['w', tensor(storage('0', 4), 2, [2, 2], [2, 1])]])), /^archive\/data\.pkl\.tensor\[storage 0\]$/, /inside the 4-element storage/],
    ['unsupported storage type (Half)', () => withPickle(new Map<PyValue, PyValue>([['w', tensor(storage('0', 4, 'HalfStorage'), 0, [4], [1])]])), /^archive\/data\.pkl@\d+ \(GLOBAL\)$/, /torch\.HalfStorage/],
    ['calling a reference-only global', () => withPickle(new PyCall(new PyGlobalRef('torch.optim.sgd', 'SGD'), new PyTuple([]))), /REDUCE/, /call of torch\.optim\.sgd\.SGD is not allowed/],
    ['malformed persistent id', () => withPickle(new Map<PyValue, PyValue>([['w', tensor(new PyPersistent(new PyTuple(['module', 1])), 0, [1], [1])]])), /persistent_id|BINPERSID/, /storage/],
  ];
  for (const [name, make, field, msg] of cases) {
    it(name, () => {
      const e = formatError(() => readTorchCheckpoint(make(), 'bad.pth.tar'));
      expect(e.file).toBe('bad.pth.tar');
      expect(e.field).toMatch(field);
      expect(e.message.startsWith(`bad.pth.tar: ${e.field}: expected `)).toBe(true);
      expect(e.message).toMatch(msg);
    });
  }
  it('a wrong-magic / non-zip file', () => {
    const e = formatError(() => readTorchCheckpoint(new TextEncoder().encode('definitely not a checkpoint file'), 'bad.pth.tar'));
    expect(e.field).toBe('end-of-central-directory');
  });
});
