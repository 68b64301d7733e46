// Integer Conv1d accumulation: acc[o][l] = Σ_c Σ_k d[c][l + k·dil − pad]·w[o][c][k] + β·128,
// zero padding. Same weight-stationary scheme as conv2d on a padded row.

export interface Conv1dArgs {
  inC: number;
  inL: number;
  outC: number;
  k: number;
  pad: number;
  dilation: number;
  /** Weights [out][in][k]. */
  weights: Int8Array;
  bias: Int32Array | null;
}

export function conv1dOutLength(a: Conv1dArgs): number {
  return a.inL + 2 * a.pad - a.dilation * (a.k - 1);
}

export function conv1d(src: Int32Array, acc: Int32Array, scratch: Int32Array, a: Conv1dArgs): void {
  const outL = conv1dOutLength(a);
  for (let o = 0; o < a.outC; o++) acc.fill(a.bias ? a.bias[o]! * 128 : 0, o * outL, (o + 1) * outL);
  scratch.fill(0);
  for (let c = 0; c < a.inC; c++) {
    scratch.set(src.subarray(c * a.inL, (c + 1) * a.inL), a.pad);
    for (let o = 0; o < a.outC; o++) {
      const wb = (o * a.inC + c) * a.k;
      const ab = o * outL;
      for (let t = 0; t < a.k; t++) {
        const w = a.weights[wb + t]!;
        if (w === 0) continue;
        let s = t * a.dilation;
        let d = ab;
        const end = ab + outL;
        while (d < end) acc[d++]! += w * scratch[s++]!;
      }
    }
  }
}
