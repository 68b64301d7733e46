// Fuzz: random bytes and random mutations of valid files must make each reader either return or
// throw FormatError — never another error type (RangeError, TypeError, out-of-memory) and never
// hang. Bounded runs; the seed is printed by fast-check on failure for replay.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { FormatError } from '../../src-main/formats/format-error.ts';
import { readNpy, writeNpy } from '../../src-main/formats/npy.ts';
import { readPickle } from '../../src-main/formats/pickle.ts';
import { readTorchCheckpoint, writeTorchCheckpoint } from '../../src-main/formats/torch-checkpoint.ts';
import { readZip, writeZip } from '../../src-main/formats/zip.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

// FUZZ_RUNS=5000 for a longer local run.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function onlyFormatErrors(read: (b: Uint8Array) => unknown) {
  return (b: Uint8Array) => {
    const t0 = performance.now();
    try {
      read(b);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
    // A single input taking seconds would mean an unguarded loop over a pathological length.
    expect(performance.now() - t0).toBeLessThan(2000);
  };
}

/** Arbitrary mutations of `seed`: byte overwrites, truncation, insertion of random bytes. */
function mutations(seed: Uint8Array) {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), v: fc.constant(0) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let b = new Uint8Array(seed);
    for (const e of edits) {
      const at = b.length ? e.at % b.length : 0;
      if (e.kind === 'set' && b.length) b[at] = e.v;
      else if (e.kind === 'cut') b = b.slice(0, at);
      else { const n = new Uint8Array(b.length + 1); n.set(b.subarray(0, at)); n[at] = e.v; n.set(b.subarray(at), at + 1); b = n; }
    }
    return b;
  });
}

const npy = writeNpy({ dtype: 'int16', shape: [2, 3], data: Int16Array.of(1, -2, 3, -4, 5, -6) });
const ckpt = writeTorchCheckpoint({
  epoch: 3, arch: 'n',
  state_dict: new Map([
    ['a', { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4) }],
    ['b', { dtype: 'int64', shape: [1], data: BigInt64Array.of(5n) }],
  ]),
  extras: { x: 1.5, s: 'q' },
});
const pkl = readZip(ckpt).get('archive/data.pkl')!;
const fixture = new Uint8Array(readFileSync(join(CONFORMANCE, 'ecg1d-mixed/checkpoint.pth.tar')));
const fixturePkl = readZip(fixture).get('ecg2_q.pth/data.pkl')!;
/** Checkpoint with a mutated data.pkl but valid CRCs, so the pickle and tensor code is reached. */
const rezip = (base: Uint8Array, pklName: string) => (p: Uint8Array) =>
  writeZip([...readZip(base)].map(([name, data]) => ({ name, data: name === pklName ? p : data })));

const opts = { numRuns: RUNS };
const random = fc.uint8Array({ maxLength: 4096 });

describe('fuzz: readers return or throw FormatError', () => {
  it('readNpy: random bytes, random-after-magic, mutations', () => {
    fc.assert(fc.property(random, onlyFormatErrors((b) => readNpy(b))), opts);
    const magic = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59);
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.uint8Array({ maxLength: 512 }), (v, rest) => {
      const b = new Uint8Array(8 + rest.length);
      b.set(magic); b[6] = v; b.set(rest, 8);
      onlyFormatErrors((x) => readNpy(x))(b);
    }), opts);
    fc.assert(fc.property(mutations(npy), onlyFormatErrors((b) => readNpy(b))), opts);
  });
  it('readZip: random bytes and mutations of a checkpoint', () => {
    fc.assert(fc.property(random, onlyFormatErrors((b) => readZip(b))), opts);
    fc.assert(fc.property(mutations(ckpt), onlyFormatErrors((b) => readZip(b))), opts);
  });
  it('readPickle: random bytes and mutations of real pickles', () => {
    fc.assert(fc.property(random, onlyFormatErrors((b) => readPickle(b))), opts);
    fc.assert(fc.property(mutations(pkl), onlyFormatErrors((b) => readPickle(b, 'x', { persistentLoad: (p) => p }))), opts);
    fc.assert(fc.property(mutations(fixturePkl), onlyFormatErrors((b) => readPickle(b))), opts);
  });
  it('readTorchCheckpoint: random bytes, mutated archives, mutated pickles inside valid archives', () => {
    fc.assert(fc.property(random, onlyFormatErrors((b) => readTorchCheckpoint(b))), opts);
    fc.assert(fc.property(mutations(ckpt), onlyFormatErrors((b) => readTorchCheckpoint(b))), opts);
    fc.assert(fc.property(mutations(pkl).map(rezip(ckpt, 'archive/data.pkl')), onlyFormatErrors((b) => readTorchCheckpoint(b))), opts);
    fc.assert(fc.property(mutations(fixturePkl).map(rezip(fixture, 'ecg2_q.pth/data.pkl')), onlyFormatErrors((b) => readTorchCheckpoint(b))), { numRuns: 150 });
  });
  it('readTorchCheckpoint: structured pickles that share and nest containers through the memo (DAGs, cycles, depth)', () => {
    // Opcodes that build containers and reuse them: the shapes that made the reader hang or explode
    // (2^n paths, self-containing lists) come out of these in a few dozen bytes.
    const op = fc.oneof(
      fc.constantFrom([0x5d], [0x7d], [0x28], [0x61], [0x65], [0x32], [0x30], [0x74], [0x85], [0x86], [0x73], [0x75], [0x4e]),
      fc.integer({ min: 0, max: 7 }).map((k) => [0x71, k]), // BINPUT k
      fc.integer({ min: 0, max: 7 }).map((k) => [0x68, k]), // BINGET k
    );
    const program = fc.array(op, { maxLength: 400 }).map((ops) => Uint8Array.from([0x80, 2, ...ops.flat(), 0x2e]));
    fc.assert(fc.property(program, (p) => {
      onlyFormatErrors((b) => readPickle(b, 'x'))(p);
      onlyFormatErrors((b) => readTorchCheckpoint(b, 'x.pth.tar'))(rezip(ckpt, 'archive/data.pkl')(p));
    }), opts);
  });
});
