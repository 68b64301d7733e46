// Reader budgets: hostile files that are tiny on disk but explode in time or memory (a pickle DAG
// whose levels point twice at the one below, pickles nested deeper than any checkpoint, stride-0
// tensor views expanded far beyond their storage) must fail fast with a FormatError naming the
// file and field, not hang or allocate gigabytes.
import { describe, expect, it } from 'vitest';
import { FormatError, describe as describeValue } from '../../src-main/formats/format-error.ts';
import { readPickle } from '../../src-main/formats/pickle.ts';
import { PyCall, PyGlobalRef, PyPersistent, PyTuple, writePickle, type PyValue } from '../../src-main/formats/pickle-write.ts';
import { readTorchCheckpoint } from '../../src-main/formats/torch-checkpoint.ts';
import { writeZip } from '../../src-main/formats/zip.ts';
import { dagPickle, deepPickle, selfListPickle } from '../bad-inputs/hostile.ts';

function formatError(fn: () => unknown): FormatError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(FormatError);
  return err as FormatError;
}
const checkpointWith = (pkl: Uint8Array, extra: { name: string; data: Uint8Array }[] = []) =>
  writeZip([{ name: 'archive/data.pkl', data: pkl }, ...extra, { name: 'archive/version', data: new TextEncoder().encode('3\n') }]);

describe('error rendering is bounded', () => {
  it('describes a 60-level pickle DAG (2^60 paths) in a few characters, at once', () => {
    const dag = readPickle(dagPickle(60), 'dag.pkl');
    const t0 = performance.now();
    const s = describeValue(dag);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(s.length).toBeLessThanOrEqual(80);
    expect(s.startsWith('[[[')).toBe(true);
  });
  it('describes cyclic values and Maps without throwing', () => {
    const a: unknown[] = [1];
    a.push(a);
    expect(describeValue(a)).toBe('[1,<cycle>]');
    expect(describeValue(new Map<unknown, unknown>([['k', 2n]]))).toBe('{"k":2n}');
  });
});

describe('readTorchCheckpoint budgets', () => {
  it('a ~550-byte checkpoint whose root is a 60-level DAG fails at once, naming file and field', () => {
    const file = checkpointWith(dagPickle(60));
    expect(file.length).toBeLessThan(1200);
    const t0 = performance.now();
    const e = formatError(() => readTorchCheckpoint(file, 'dag.pth.tar'));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e.message).toMatch(/^dag\.pth\.tar: <root>: expected a state_dict/);
  });
  it('pickles nested deeper than the limit are refused with the depth in the message', () => {
    const e = formatError(() => readPickle(deepPickle(5000), 'deep.pkl'));
    expect(e.file).toBe('deep.pkl');
    expect(e.field).toMatch(/^pickle@\d+ \(STOP\)$/);
    expect(e.message).toMatch(/nesting depth of at most \d+/);
  });
  it('a list that contains itself is refused (cycles would hang any later walk)', () => {
    const e = formatError(() => readPickle(selfListPickle(), 'cycle.pkl'));
    expect(e.message).toMatch(/without cycles/);
  });
  it('stride-0 views expanding a 1-element storage past the element budget are refused', () => {
    const storage = new PyPersistent(new PyTuple(['storage', new PyGlobalRef('torch', 'FloatStorage'), '0', 'cpu', 1]));
    const od = new PyCall(new PyGlobalRef('collections', 'OrderedDict'), new PyTuple([]));
    // Each tensor is 2^24 elements (64 MiB) from 4 bytes of storage; eight of them would be 512 MiB.
    const tensors: [PyValue, PyValue][] = [];
    for (let k = 0; k < 8; k++) {
      tensors.push([`w${k}`, new PyCall(new PyGlobalRef('torch._utils', '_rebuild_tensor_v2'),
        new PyTuple([storage, 0, new PyTuple([1 << 24]), new PyTuple([0]), false, od]))]);
    }
    const root = new PyCall(new PyGlobalRef('collections', 'OrderedDict'), new PyTuple([]), tensors);
    const file = checkpointWith(writePickle(root), [{ name: 'archive/data/0', data: new Uint8Array(4) }]);
    expect(file.length).toBeLessThan(2000);
    const e = formatError(() => readTorchCheckpoint(file, 'stride0.pth.tar'));
    expect(e.field).toMatch(/^archive\/data\.pkl\.tensor\[storage 0\]$/);
    expect(e.message).toMatch(/elements in all tensors/);
  });
});
