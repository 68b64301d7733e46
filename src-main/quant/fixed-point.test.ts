import { describe, expect, it } from 'vitest';
import { absQuantile, gridLevels, gridMax, intRange, roundHalfEven } from './fixed-point.ts';

describe('fixed-point arithmetic', () => {
  it('rounds half to even like torch.round, never to −0', () => {
    const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [2.4999, 2], [-2.5001, -3], [7, 7]];
    for (const [x, want] of cases) expect(roundHalfEven(x), `round(${x})`).toBe(want);
    expect(Object.is(roundHalfEven(-0.5), 0)).toBe(true);
    expect(Object.is(roundHalfEven(-0.2), 0)).toBe(true);
  });

  it('takes quantiles of |a ∪ b| by linear interpolation, the maximum at q = 1', () => {
    expect(absQuantile([1, -2, 3], [-4], 1)).toBe(4);
    expect(absQuantile([1, -2, 3], [-4], 0.5)).toBe(2.5);
    expect(absQuantile([-8, 0, 2, 6], null, 0.25)).toBe(1.5);
    expect(absQuantile([], null, 0.5)).toBe(0);
    expect(absQuantile([], [], 1)).toBe(0);
  });

  it('describes the b-bit grid: levels from −1, top, integer range', () => {
    expect(gridLevels(2)).toEqual([-1, -0.5, 0, 0.5]);
    expect(gridLevels(1)).toEqual([-1, 0]);
    expect(gridLevels(8)).toHaveLength(256);
    expect(gridLevels(8).at(-1)).toBe(gridMax(8));
    expect([8, 4, 2, 1].map(intRange)).toEqual([{ lo: -128, hi: 127 }, { lo: -8, hi: 7 }, { lo: -2, hi: 1 }, { lo: -1, hi: 0 }]);
  });
});
