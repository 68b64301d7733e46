// The comparison's arithmetic: per-class report against hand counts, logit error, collapse rules.
import { describe, expect, it } from 'vitest';
import { classReport, collapseReasons, logitError } from './comparison.ts';

describe('comparison', () => {
  it('per-class precision / recall / F1, macro-F1 and the confusion matrix', () => {
    // true:  0 0 0 1 1 2 ; predicted: 0 1 0 1 0 0
    const r = classReport([0, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 2], ['adl', 'fall', 'other']);
    expect(r.confusion).toEqual([[2, 1, 0], [1, 1, 0], [1, 0, 0]]);
    expect(r.perClass[0]).toMatchObject({ label: 'adl', precision: 2 / 4, recall: 2 / 3, support: 3 });
    expect(r.perClass[1]).toMatchObject({ precision: 1 / 2, recall: 1 / 2, f1: 1 / 2 });
    expect(r.perClass[2]).toMatchObject({ precision: 0, recall: 0, f1: 0 });
    expect(r.macroF1).toBeCloseTo(((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3) + 0.5 + 0) / 3, 12);
  });

  it('MAE / MSE / SQNR of logits', () => {
    const e = logitError([1, -2, 3, 0], [1.5, -2, 2, 0]);
    expect(e.mae).toBeCloseTo(1.5 / 4, 12);
    expect(e.mse).toBeCloseTo(1.25 / 4, 12);
    expect(e.sqnrDb).toBeCloseTo(10 * Math.log10(14 / 1.25), 12);
    expect(logitError([1, 2], [1, 2]).sqnrDb).toBeNull();
  });

  it('collapse: loss within 1 % of ln(classes) for 3 epochs in a row, or one class for everything', () => {
    const ln2 = Math.log(2);
    const curve = (losses: number[]) => losses.map((loss, epoch) => ({ epoch, loss }));
    expect(collapseReasons(curve([0.9, ln2 * 1.005, ln2 * 0.996, ln2 * 1.009]), 2, [0, 1])).toEqual([
      expect.stringMatching(/within 1 % of ln\(2\) = 0\.693 .* for 3 epochs, up to epoch 4/),
    ]);
    // Two stuck epochs, then one outside the band: not a collapse.
    expect(collapseReasons(curve([ln2, ln2, ln2 * 1.02, ln2]), 2, [0, 1])).toEqual([]);
    expect(collapseReasons([], 4, [3, 3, 3])).toEqual(['every test prediction is class 3']);
  });
});
