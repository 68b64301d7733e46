// Validation metrics of product.md (device output y vs reference r, error e = r − y), kept as
// running sums so they roll over thousands of windows in O(outputs) per window. Pure.

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

export interface ComparisonSummary {
  windows: number;
  /** Share of windows whose arg-max class is the same. */
  top1Agreement: number | null;
  /** Mean over windows of r·y / (‖r‖‖y‖). */
  cosineMean: number | null;
  cosineMin: number | null;
  /** ‖e‖ / ‖r‖ over all windows. */
  l2r: number | null;
  /** 10·log10(Σr² / Σe²), dB (Infinity when e = 0). */
  sqnrDb: number | null;
  rmse: number | null;
  mae: number | null;
  maxAbsError: number | null;
  /** 1 − Σe² / Σ(r − mean r)². */
  nse: number | null;
  /** confusion[refClass][yClass]. */
  confusion: number[][];
}

/** Rolling comparison of one output stream against a reference stream. */
export class Comparison {
  private n = 0;
  private agree = 0;
  private cosSum = 0;
  private cosMin = Infinity;
  private sumR2 = 0;
  private sumE2 = 0;
  private sumAbsE = 0;
  private maxAbs = 0;
  private sumR = 0;
  private count = 0;
  readonly confusion: number[][];

  constructor(readonly classes: number) {
    this.confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  }

  /** Adds one window; returns its own figures for the per-window record. */
  add(r: ArrayLike<number>, y: ArrayLike<number>): { cosine: number; maxAbsError: number; agree: boolean; refClass: number; yClass: number } {
    if (r.length !== y.length) throw new RangeError(`Reference has ${r.length} values, output ${y.length}.`);
    let dot = 0, rr = 0, yy = 0, ee = 0, mx = 0;
    for (let i = 0; i < r.length; i++) {
      const a = r[i]!, b = y[i]!, e = a - b;
      dot += a * b; rr += a * a; yy += b * b; ee += e * e;
      const ae = Math.abs(e);
      if (ae > mx) mx = ae;
      this.sumAbsE += ae;
      this.sumR += a;
    }
    const cosine = rr === 0 && yy === 0 ? 1 : rr === 0 || yy === 0 ? 0 : dot / Math.sqrt(rr * yy);
    const refClass = argmax(r);
    const yClass = argmax(y);
    this.n++;
    this.count += r.length;
    this.sumR2 += rr;
    this.sumE2 += ee;
    this.cosSum += cosine;
    this.cosMin = Math.min(this.cosMin, cosine);
    if (mx > this.maxAbs) this.maxAbs = mx;
    if (refClass === yClass) this.agree++;
    if (refClass < this.classes && yClass < this.classes) this.confusion[refClass]![yClass]!++;
    return { cosine, maxAbsError: mx, agree: refClass === yClass, refClass, yClass };
  }

  summary(): ComparisonSummary {
    const n = this.n;
    if (n === 0) {
      return { windows: 0, top1Agreement: null, cosineMean: null, cosineMin: null, l2r: null, sqnrDb: null, rmse: null, mae: null, maxAbsError: null, nse: null, confusion: this.confusion };
    }
    const variance = this.sumR2 - (this.sumR * this.sumR) / this.count;
    return {
      windows: n,
      top1Agreement: this.agree / n,
      cosineMean: this.cosSum / n,
      cosineMin: this.cosMin,
      l2r: this.sumR2 > 0 ? Math.sqrt(this.sumE2 / this.sumR2) : null,
      sqnrDb: this.sumE2 === 0 ? Infinity : this.sumR2 > 0 ? 10 * Math.log10(this.sumR2 / this.sumE2) : null,
      rmse: Math.sqrt(this.sumE2 / this.count),
      mae: this.sumAbsE / this.count,
      maxAbsError: this.maxAbs,
      nse: variance > 0 ? 1 - this.sumE2 / variance : null,
      confusion: this.confusion,
    };
  }
}

/** Accuracy of predicted classes against labels (a row of the three-row report). */
export class LabelAccuracy {
  private n = 0;
  private hits = 0;
  readonly confusion: number[][];
  constructor(readonly classes: number) {
    this.confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  }
  add(label: number, predicted: number): void {
    this.n++;
    if (label === predicted) this.hits++;
    if (label >= 0 && label < this.classes && predicted < this.classes) this.confusion[label]![predicted]!++;
  }
  summary(): { windows: number; accuracy: number | null; confusion: number[][] } {
    return { windows: this.n, accuracy: this.n ? this.hits / this.n : null, confusion: this.confusion };
  }
}

/** Device-reported latency, µs. */
export class LatencyStats {
  private values: number[] = [];
  add(us: number): void {
    this.values.push(us);
  }
  summary(): { meanUs: number | null; p50Us: number | null; p95Us: number | null; maxUs: number | null } {
    const v = [...this.values].sort((a, b) => a - b);
    if (v.length === 0) return { meanUs: null, p50Us: null, p95Us: null, maxUs: null };
    const q = (p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))]!;
    return { meanUs: v.reduce((a, b) => a + b, 0) / v.length, p50Us: q(0.5), p95Us: q(0.95), maxUs: v[v.length - 1]! };
  }
}
