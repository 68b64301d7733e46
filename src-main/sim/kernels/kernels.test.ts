// Kernel unit tests on hand-computed tiny cases, plus random cases against naive direct
// definitions written independently here (scatter form for ConvTranspose2d).
import { describe, expect, it } from 'vitest';
import { requantize } from '../output-stage.ts';
import { pool, type PoolArgs } from './pool.ts';
import { eltwise } from './eltwise.ts';
import { conv2d, conv2dOutSize, conv2dScratch, type Conv2dArgs } from './conv2d.ts';
import { conv1d, conv1dOutLength, type Conv1dArgs } from './conv1d.ts';
import { convTranspose2d, prepareConvTranspose2d, type ConvTranspose2dArgs } from './convtranspose2d.ts';
import { linear } from './linear.ts';

const rq = (acc: number[], shift: number, act: 'none' | 'relu' | 'abs' = 'none'): number[] => {
  const out = new Int32Array(acc.length);
  requantize(Int32Array.from(acc), out, acc.length, shift, act);
  return Array.from(out);
};

let seed = 12345;
const rand = (lo: number, hi: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return lo + (seed % (hi - lo + 1));
};

describe('output stage', () => {
  it('rounds half toward +infinity at shift 0 (acc/128)', () => {
    expect(rq([64, -64, -65, 192, 63, 0], 0)).toEqual([1, 0, -1, 2, 0, 0]);
  });
  it('rounds exactly with negative shifts (acc/1024 at s = −3)', () => {
    expect(rq([512, -512, -513, 1535, 1536, -1536], -3)).toEqual([1, 0, -1, 1, 2, -1]);
  });
  it('scales up with positive shifts and clamps to int8', () => {
    expect(rq([1, 63, 64, -64, -65], 7)).toEqual([1, 63, 64, -64, -65]);
    expect(rq([5, -3], 8)).toEqual([10, -6]);
    expect(rq([100000, -100000], 0)).toEqual([127, -128]);
  });
  it('applies ReLU after the clamp and Abs with |−128| → 127', () => {
    expect(rq([-100000, -128, 300, 100000], 0, 'relu')).toEqual([0, 0, 2, 127]);
    expect(rq([-100000, -640, 640, -65], 0, 'abs')).toEqual([127, 5, 5, 1]);
  });
  it('stays exact at the extremes (|acc| near 2^31, |s| = 15)', () => {
    expect(rq([2 ** 30, -(2 ** 30)], -15)).toEqual([127, -128]);
    expect(rq([3 * 2 ** 21 - 1, 3 * 2 ** 21, -3 * 2 ** 21, -3 * 2 ** 21 - 1], -15)).toEqual([1, 2, -1, -2]);
  });
});

describe('pool', () => {
  const args = (kind: 'max' | 'avg', rounding = false): PoolArgs => ({ kind, channels: 1, inH: 2, inW: 2, sizeH: 2, sizeW: 2, strideH: 2, strideW: 2, outH: 1, outW: 1, rounding });
  const run = (src: number[], a: PoolArgs): number => { const d = new Int32Array(1); pool(Int32Array.from(src), d, a); return d[0]!; };
  it('average truncates toward zero (−1.75 → −1, 1.75 → 1)', () => {
    expect(run([-1, -2, -2, -2], args('avg'))).toBe(-1);
    expect(run([1, 2, 2, 2], args('avg'))).toBe(1);
    expect(run([-128, -128, -128, -127], args('avg'))).toBe(-127);
  });
  it('average rounds half away from zero with rounding (the izer\'s rounded pool)', () => {
    expect(run([-1, -2, -2, -2], args('avg', true))).toBe(-2);
    expect(run([1, 1, 2, 2], args('avg', true))).toBe(2);
    expect(run([0, 0, 1, 1], args('avg', true))).toBe(1);
    expect(run([0, 0, -1, -1], args('avg', true))).toBe(-1);
    expect(run([2, 2, 3, 3], args('avg', true))).toBe(3);
    expect(run([-2, -2, -3, -3], args('avg', true))).toBe(-3);
    expect(run([1, 1, 1, 2], args('avg', true))).toBe(1);
    expect(run([0, 0, 0, -1], args('avg', true))).toBe(0);
  });
  it('max 2x2/2 (fast path) equals the general loop on odd sizes', () => {
    const src = Int32Array.from({ length: 2 * 5 * 7 }, () => rand(-128, 127));
    const a: PoolArgs = { kind: 'max', channels: 2, inH: 5, inW: 7, sizeH: 2, sizeW: 2, strideH: 2, strideW: 2, outH: 2, outW: 3, rounding: false };
    const d = new Int32Array(12);
    pool(src, d, a);
    const ref: number[] = [];
    for (let c = 0; c < 2; c++) for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) {
      const b = c * 35 + 2 * y * 7 + 2 * x;
      ref.push(Math.max(src[b]!, src[b + 1]!, src[b + 7]!, src[b + 8]!));
    }
    expect(Array.from(d)).toEqual(ref);
  });
  it('max takes the largest, with floor((n − size)/stride) + 1 windows', () => {
    const d = new Int32Array(2);
    pool(Int32Array.from([1, -5, 9, 4, 0, 3, -1, 7, 2, 8, 6, 5, 9, 9, 9]), d, { kind: 'max', channels: 1, inH: 1, inW: 15, sizeH: 1, sizeW: 4, strideH: 1, strideW: 4, outH: 1, outW: 3, rounding: false });
    expect(Array.from(d)).toEqual([9, 7]);
  });
});

describe('eltwise', () => {
  it('adds, subtracts, ors and xors with an int8 clip and no shift', () => {
    const a = Int32Array.from([100, -100, 5, -1]), b = Int32Array.from([100, 100, 3, 1]);
    const d = new Int32Array(4);
    eltwise('add', [a, b], d); expect(Array.from(d)).toEqual([127, 0, 8, 0]);
    eltwise('sub', [a, b], d); expect(Array.from(d)).toEqual([0, -128, 2, -2]);
    eltwise('or', [a, b], d); expect(Array.from(d)).toEqual([100, -4, 7, -1]);
    eltwise('xor', [a, b], d); expect(Array.from(d)).toEqual([0, -8, 6, -2]);
  });
});

function naiveConv2d(x: number[], a: Conv2dArgs): number[] {
  const [oh, ow] = conv2dOutSize(a);
  const out: number[] = [];
  for (let o = 0; o < a.outC; o++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let s = a.bias ? a.bias[o]! * 128 : 0;
        for (let c = 0; c < a.inC; c++)
          for (let ky = 0; ky < a.kh; ky++)
            for (let kx = 0; kx < a.kw; kx++) {
              const iy = y + ky * a.dilation - a.pad, ix = xx + kx * a.dilation - a.pad;
              if (iy >= 0 && iy < a.inH && ix >= 0 && ix < a.inW) s += x[(c * a.inH + iy) * a.inW + ix]! * a.weights[((o * a.inC + c) * a.kh + ky) * a.kw + kx]!;
            }
        out.push(s);
      }
  return out;
}

describe('conv2d', () => {
  it('hand case: 3x3 ones kernel with pad 1 sums the neighbourhood, plus β·128', () => {
    const a: Conv2dArgs = { inC: 1, inH: 3, inW: 3, outC: 1, kh: 3, kw: 3, pad: 1, dilation: 1, weights: new Int8Array(9).fill(1), bias: Int32Array.from([2]) };
    const acc = new Int32Array(9);
    conv2d(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), acc, new Int32Array(conv2dScratch(a)), a);
    expect(Array.from(acc)).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => v + 256));
  });
  it.each([[1, 0, 1], [3, 1, 1], [3, 2, 1], [3, 0, 1], [3, 2, 2]])('matches the direct definition (k=%i, pad=%i, dilation=%i)', (k, pad, dil) => {
    const a: Conv2dArgs = { inC: 3, inH: 7, inW: 6, outC: 4, kh: k, kw: k, pad, dilation: dil, weights: Int8Array.from({ length: 4 * 3 * k * k }, () => rand(-128, 127)), bias: Int32Array.from({ length: 4 }, () => rand(-128, 127)) };
    const x = Array.from({ length: 3 * 7 * 6 }, () => rand(-128, 127));
    const [oh, ow] = conv2dOutSize(a);
    const acc = new Int32Array(4 * oh * ow);
    conv2d(Int32Array.from(x), acc, new Int32Array(conv2dScratch(a)), a);
    expect(Array.from(acc)).toEqual(naiveConv2d(x, a));
  });
});

describe('conv1d', () => {
  it.each([[5, 2, 1], [1, 0, 1], [9, 2, 1], [3, 1, 4]])('matches the direct definition (k=%i, pad=%i, dilation=%i)', (k, pad, dil) => {
    const a: Conv1dArgs = { inC: 3, inL: 20, outC: 2, k, pad, dilation: dil, weights: Int8Array.from({ length: 2 * 3 * k }, () => rand(-8, 7)), bias: null };
    const x = Array.from({ length: 60 }, () => rand(-128, 127));
    const outL = conv1dOutLength(a);
    const acc = new Int32Array(2 * outL);
    conv1d(Int32Array.from(x), acc, new Int32Array(20 + 2 * pad), a);
    const as2d: Conv2dArgs = { inC: 3, inH: 20, inW: 1, outC: 2, kh: k, kw: 1, pad, dilation: dil, weights: a.weights, bias: null };
    // The 2-D definition pads both axes; keep only the middle column.
    const ref = naiveConv2d(x, as2d);
    const w2 = 1 + 2 * pad;
    expect(Array.from(acc)).toEqual(ref.filter((_, i) => i % w2 === pad));
  });
});

describe('convtranspose2d', () => {
  it.each([0, 1, 2])('matches the scatter definition, stride 2, output_padding 1 (pad=%i)', (pad) => {
    const inC = 2, outC = 3, H = 3, W = 4, k = 3;
    const a: ConvTranspose2dArgs = { inC, inH: H, inW: W, outC, k, stride: 2, pad, outputPadding: 1, weights: Int8Array.from({ length: inC * outC * 9 }, () => rand(-128, 127)), bias: Int32Array.from([1, -1, 0]) };
    const x = Array.from({ length: inC * H * W }, () => rand(-128, 127));
    const oh = (H - 1) * 2 - 2 * pad + k + 1, ow = (W - 1) * 2 - 2 * pad + k + 1;
    const ref = new Array(outC * oh * ow).fill(0).map((_, i) => a.bias![Math.floor(i / (oh * ow))]! * 128);
    for (let c = 0; c < inC; c++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++)
      for (let o = 0; o < outC; o++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
        const oy = y * 2 + ky - pad, ox = xx * 2 + kx - pad;
        if (oy >= 0 && oy < oh && ox >= 0 && ox < ow) { const at = (o * oh + oy) * ow + ox; ref[at] = ref[at]! + x[(c * H + y) * W + xx]! * a.weights[((c * outC + o) * k + ky) * k + kx]!; }
      }
    const p = prepareConvTranspose2d(a);
    expect([p.conv.inH - 2, p.conv.inW - 2]).toEqual([oh, ow]);
    const acc = new Int32Array(outC * oh * ow);
    convTranspose2d(Int32Array.from(x), acc, new Int32Array(inC * p.h * p.w), new Int32Array(conv2dScratch(p.conv)), a, p);
    expect(Array.from(acc)).toEqual(ref);
  });
});

describe('linear', () => {
  it('1-bit and 2-bit weights: acc and the 8 − b shift give the hand-computed values', () => {
    const acc = new Int32Array(1);
    linear(Int32Array.from([10, -20, 30]), acc, { inFeatures: 3, outFeatures: 1, weights: Int8Array.from([-1, 0, -1]), bias: null });
    expect(acc[0]).toBe(-40);
    expect(rq([acc[0]!], 0 + 8 - 1)).toEqual([-40]); // 1-bit: shift 7 → y = acc
    linear(Int32Array.from([3, 4, 6]), acc, { inFeatures: 3, outFeatures: 1, weights: Int8Array.from([1, -2, -1]), bias: null });
    expect(acc[0]).toBe(-11);
    expect(rq([acc[0]!], 0 + 8 - 2)).toEqual([-5]); // 2-bit: floor(0.5 − 5.5) = −5
    linear(Int32Array.from([3, 4, 6]), acc, { inFeatures: 3, outFeatures: 1, weights: Int8Array.from([1, -2, -1]), bias: Int32Array.from([1]) });
    expect(acc[0]).toBe(117);
    expect(rq([acc[0]!], 6)).toEqual([59]);
  });
});
