// BatchNorm folding at QAT start (ai8x fuse_bn_layers, max78002.md §1.13): the pre-QAT BN output
// is divided by 4, so w' = w·(γ/4)/√(var+eps) and b' = (b−mean)·(γ/4)/√(var+eps) + β/4.

export interface BatchNormParams {
  /** γ per output channel (ones for 'NoAffine'). */
  gamma: Float32Array;
  /** β per output channel (zeros for 'NoAffine'). */
  beta: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  /** 1e-5 in ai8x training; batchnormfuser.py uses 1e-20. */
  eps: number;
}

/**
 * Fold BN into a conv's weight and bias. `weight` is in PyTorch layout with the output channel
 * first ([out][in][k...]); `bias` may be null (treated as zeros). Returns new arrays.
 */
export function foldBatchNorm(
  weight: Float32Array,
  bias: Float32Array | null,
  bn: BatchNormParams,
): { weight: Float32Array; bias: Float32Array } {
  const outChannels = bn.gamma.length;
  if (weight.length % outChannels !== 0) {
    throw new Error(`foldBatchNorm: weight length ${weight.length} is not a multiple of ${outChannels} channels`);
  }
  const perChannel = weight.length / outChannels;
  const w = new Float32Array(weight.length);
  const b = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const factor = bn.gamma[o]! / 4 / Math.sqrt(bn.runningVar[o]! + bn.eps);
    for (let i = 0; i < perChannel; i++) w[o * perChannel + i] = weight[o * perChannel + i]! * factor;
    b[o] = ((bias?.[o] ?? 0) - bn.runningMean[o]!) * factor + bn.beta[o]! / 4;
  }
  return { weight: w, bias: b };
}
