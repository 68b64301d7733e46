// Integer ConvTranspose2d as the izer models it: the input is stretched by the stride (zeros
// between samples), padded by dil·(k−1)−pad before and that + output_padding after, then
// convolved (stride 1) with the weights flipped in both spatial axes and in/out swapped.
import { conv2d, type Conv2dArgs } from './conv2d.ts';

export interface ConvTranspose2dArgs {
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  /** 3 on the hardware. */
  k: number;
  stride: number;
  pad: number;
  outputPadding: number;
  /** Weights [in][out][k][k] (PyTorch ConvTranspose2d layout). */
  weights: Int8Array;
  bias: Int32Array | null;
}

export interface PreparedConvTranspose {
  /** Stretched, padded input size. */
  h: number;
  w: number;
  before: number;
  conv: Conv2dArgs;
}

export function prepareConvTranspose2d(a: ConvTranspose2dArgs): PreparedConvTranspose {
  const flipped = new Int8Array(a.outC * a.inC * a.k * a.k);
  for (let i = 0; i < a.inC; i++)
    for (let o = 0; o < a.outC; o++)
      for (let y = 0; y < a.k; y++)
        for (let x = 0; x < a.k; x++)
          flipped[((o * a.inC + i) * a.k + y) * a.k + x] = a.weights[((i * a.outC + o) * a.k + (a.k - 1 - y)) * a.k + (a.k - 1 - x)]!;
  const before = a.k - 1 - a.pad;
  const h = (a.inH - 1) * a.stride + 1 + 2 * before + a.outputPadding;
  const w = (a.inW - 1) * a.stride + 1 + 2 * before + a.outputPadding;
  return { h, w, before, conv: { inC: a.inC, inH: h, inW: w, outC: a.outC, kh: a.k, kw: a.k, pad: 0, dilation: 1, weights: flipped, bias: a.bias } };
}

/** `stretched` must hold inC·h·w values, `scratch` h·w. */
export function convTranspose2d(src: Int32Array, acc: Int32Array, stretched: Int32Array, scratch: Int32Array, a: ConvTranspose2dArgs, p: PreparedConvTranspose): void {
  stretch(src, stretched, a, p);
  conv2d(stretched, acc, scratch, p.conv);
}

/** The zero-stuffed, zero-padded input the equivalent stride-1 convolution reads (inC·h·w values). */
export function stretch(src: Int32Array, stretched: Int32Array, a: ConvTranspose2dArgs, p: PreparedConvTranspose): void {
  stretched.fill(0);
  for (let c = 0; c < a.inC; c++)
    for (let y = 0; y < a.inH; y++)
      for (let x = 0; x < a.inW; x++)
        stretched[c * p.h * p.w + (p.before + y * a.stride) * p.w + p.before + x * a.stride] = src[(c * a.inH + y) * a.inW + x]!;
}
