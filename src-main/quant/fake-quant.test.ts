import { describe, expect, it } from 'vitest';
import { quantizeAvgPool, quantizeParams, quantizeWide } from './fake-quant.ts';
import { gridMax, quantile, quantizeValue } from './fixed-point.ts';
import { outputShift } from './output-shift.ts';
import { foldBatchNorm } from './fold-batchnorm.ts';

describe('quantizeValue (ai8x Quantize + Clamp)', () => {
  // [bits, x, expected]: ±0.5 ulp ties round up (floor(x·s + 0.5)), clamps at −1 and gridMax.
  const cases: [number, number, number][] = [
    [8, 0.5 / 128, 1 / 128], [8, -0.5 / 128, 0], [8, 0.49 / 128, 0], [8, -0.51 / 128, -1 / 128],
    [8, 127.5 / 128, 127 / 128], [8, 2, 127 / 128], [8, -1.2, -1], [8, -1, -1],
    [4, 0.5 / 8, 1 / 8], [4, -0.5 / 8, 0], [4, 0.9, 7 / 8], [4, -0.99, -1], [4, 3.49 / 8, 3 / 8],
    [2, 0.25, 0.5], [2, 0.2, 0], [2, 0.75, 0.5], [2, -0.75, -0.5], [2, -0.76, -1],
    [1, 0.4, 0], [1, 0.5, 0], [1, -0.5, 0], [1, -0.51, -1], [1, 5, 0],
  ];
  it.each(cases)('bits %i: q(%f) = %f', (bits, x, want) => {
    expect(quantizeValue(x, bits)).toBe(want);
  });
  it('grid maxima', () => {
    expect([8, 4, 2, 1].map(gridMax)).toEqual([127 / 128, 7 / 8, 1 / 2, 0]);
  });
  it('scales weights by 2^-shift before quantizing', () => {
    const q = quantizeParams(Float32Array.from([0.1, -0.3, 0.02]), 8, -2);
    expect(Array.from(q)).toEqual([quantizeValue(0.4, 8), quantizeValue(-1.2, 8), quantizeValue(0.08, 8)]);
  });
  it('wide output rounds to 2^-14 and clamps at ±2^15', () => {
    expect(quantizeWide(0.5 / 16384)).toBe(1 / 16384);
    expect(quantizeWide(-0.5 / 16384)).toBe(0);
    expect(quantizeWide(40000)).toBe(32768);
    expect(quantizeWide(-40000)).toBe(-32768);
  });
  it('avg pool truncates toward zero at 1/128 (a negative mean goes up, as on the device) and clamps', () => {
    expect(quantizeAvgPool(1.9 / 128)).toBe(1 / 128);
    expect(quantizeAvgPool(-1.9 / 128)).toBe(-1 / 128);
    expect(quantizeAvgPool(-0.1 / 128) === 0).toBe(true); // −0: the same number
    expect(quantizeAvgPool(-3)).toBe(-1);
    expect(quantizeAvgPool(2)).toBe(127 / 128);
  });
  it('avg pool with rounding rounds half away from zero at 1/128, as the izer computes it', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map((v) => quantizeAvgPool(v / 128, true) * 128)).toEqual([1, 2, 3, -1, -2, -3, 2, -3]);
    expect(quantizeAvgPool(-0.4 / 128, true) === 0).toBe(true);
  });
});

describe('outputShift (OutputShiftLimit)', () => {
  it.each([
    // Small weights get a negative shift (scaled up by 2^−shift to fill the grid).
    [0.9, 0], [1, 0], [1.5, 1], [0.5, -1], [0.3, -1], [0.25, -2], [0.124, -3], [100000, 15], [1e-9, -15],
  ])('max |w| = %f → shift %i', (limit, want) => {
    expect(outputShift(Float32Array.from([limit / 2, -limit]), null, 1)).toBe(want);
  });
  it('includes the bias and uses the quantile', () => {
    expect(outputShift(Float32Array.from([0.1]), Float32Array.from([-0.6]), 1)).toBe(0);
    const w = Float32Array.from({ length: 101 }, (_, i) => i / 100); // 0..1
    expect(quantile(Float64Array.from(w).sort(), 0.5)).toBeCloseTo(0.5, 12);
    expect(outputShift(w, null, 0.2)).toBe(-2); // limit 0.2 → −floor(log2 5) = −2
  });
});

describe('foldBatchNorm', () => {
  it('w·(γ/4)/√(var+eps), (b−mean)·(γ/4)/√(var+eps) + β/4', () => {
    const f = foldBatchNorm(Float32Array.from([1, 2, 3, 4]), Float32Array.from([0.5, -0.5]), {
      gamma: Float32Array.from([2, 4]), beta: Float32Array.from([1, -2]),
      runningMean: Float32Array.from([0.1, 0.2]), runningVar: Float32Array.from([4, 1]), eps: 0,
    });
    expect(Array.from(f.weight)).toEqual([0.25, 0.5, 3, 4].map(Math.fround));
    expect(f.bias[0]).toBeCloseTo(0.4 * 0.25 + 0.25, 6);
    expect(f.bias[1]).toBeCloseTo(-0.7 * 1 - 0.5, 6);
  });
});
