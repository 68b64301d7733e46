// Integer Linear: acc[o] = Σ_f x[f]·w[o][f] + β·128 over the channel-major flattened input
// (planar C×H×W data is already in c·HW + hw order, like x.view(N, −1)).

export interface LinearArgs {
  inFeatures: number;
  outFeatures: number;
  /** Weights [out][in]. */
  weights: Int8Array;
  bias: Int32Array | null;
}

export function linear(src: Int32Array, acc: Int32Array, a: LinearArgs): void {
  const n = a.inFeatures;
  for (let o = 0; o < a.outFeatures; o++) {
    let s = a.bias ? a.bias[o]! * 128 : 0;
    const wb = o * n;
    for (let f = 0; f < n; f++) s += src[f]! * a.weights[wb + f]!;
    acc[o] = s;
  }
}
