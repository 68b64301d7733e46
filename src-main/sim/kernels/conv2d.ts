// Integer Conv2d accumulation (max78002.md §5.3): acc[o][y][x] = Σ_c Σ_ky Σ_kx d·w + β·128 with
// zero padding. Weight-stationary: each tap adds w × a shifted row of a zero-padded input plane,
// so the inner loop is a contiguous multiply-add with no bounds checks and no allocation.

export interface Conv2dArgs {
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kh: number;
  kw: number;
  pad: number;
  dilation: number;
  /** Weights [out][in][kh][kw]. */
  weights: Int8Array;
  /** β per output channel (or null). */
  bias: Int32Array | null;
}

export function conv2dOutSize(a: Conv2dArgs): [number, number] {
  return [a.inH + 2 * a.pad - a.dilation * (a.kh - 1), a.inW + 2 * a.pad - a.dilation * (a.kw - 1)];
}

/** Size of the padded scratch plane the kernel needs (one input channel). */
export function conv2dScratch(a: Conv2dArgs): number {
  return (a.inH + 2 * a.pad) * (a.inW + 2 * a.pad);
}

export function conv2d(src: Int32Array, acc: Int32Array, scratch: Int32Array, a: Conv2dArgs): void {
  const [outH, outW] = conv2dOutSize(a);
  const pw = a.inW + 2 * a.pad;
  const plane = outH * outW;
  for (let o = 0; o < a.outC; o++) {
    const b = a.bias ? a.bias[o]! * 128 : 0;
    acc.fill(b, o * plane, (o + 1) * plane);
  }
  scratch.fill(0);
  const kArea = a.kh * a.kw;
  for (let c = 0; c < a.inC; c++) {
    // Copy channel c into the padded plane (borders stay zero).
    const sb = c * a.inH * a.inW;
    for (let y = 0; y < a.inH; y++) {
      const srow = sb + y * a.inW;
      scratch.set(src.subarray(srow, srow + a.inW), (y + a.pad) * pw + a.pad);
    }
    for (let o = 0; o < a.outC; o++) {
      const wb = (o * a.inC + c) * kArea;
      const ab = o * plane;
      for (let ky = 0; ky < a.kh; ky++) {
        for (let kx = 0; kx < a.kw; kx++) {
          const w = a.weights[wb + ky * a.kw + kx]!;
          if (w === 0) continue;
          const off = ky * a.dilation * pw + kx * a.dilation;
          for (let y = 0; y < outH; y++) {
            let s = off + y * pw;
            let d = ab + y * outW;
            const end = d + outW;
            while (d < end) acc[d++]! += w * scratch[s++]!;
          }
        }
      }
    }
  }
}
