// Integer Conv2d accumulation (max78002.md §5.3): acc[o][y][x] = Σ_c Σ_ky Σ_kx d·w + β·128 with
// zero padding. Weight-stationary over a zero-padded input plane: each kernel tap adds w × the
// shifted plane into "wide" accumulators that keep the padded row pitch, so the inner loop runs
// over all output rows at once (no bounds checks, no allocation) and feeds four output channels
// per input load; the valid columns are copied out at the end.

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

/** Scratch the kernel needs: one padded input plane plus wide accumulators for every output channel. */
export function conv2dScratch(a: Conv2dArgs): number {
  const pw = a.inW + 2 * a.pad;
  return (a.inH + 2 * a.pad) * pw + Math.ceil(a.outC / 4) * 4 * conv2dOutSize(a)[0] * pw;
}

export function conv2d(src: Int32Array, acc: Int32Array, scratch: Int32Array, a: Conv2dArgs): void {
  const [outH, outW] = conv2dOutSize(a);
  const pw = a.inW + 2 * a.pad;
  const planeSize = (a.inH + 2 * a.pad) * pw;
  const wideSize = outH * pw;
  // The last output row needs only outW columns: reads stay inside the padded plane.
  const span = (outH - 1) * pw + outW;
  const padded = scratch.subarray(0, planeSize);
  const wide = scratch.subarray(planeSize);
  padded.fill(0);
  wide.fill(0);
  const kArea = a.kh * a.kw;
  const w = a.weights;
  for (let c = 0; c < a.inC; c++) {
    const sb = c * a.inH * a.inW;
    for (let y = 0; y < a.inH; y++) padded.set(src.subarray(sb + y * a.inW, sb + (y + 1) * a.inW), (y + a.pad) * pw + a.pad);
    for (let o = 0; o < a.outC; o += 4) {
      const n = Math.min(4, a.outC - o);
      const a0 = o * wideSize, a1 = a0 + wideSize, a2 = a1 + wideSize, a3 = a2 + wideSize;
      for (let ky = 0; ky < a.kh; ky++) {
        for (let kx = 0; kx < a.kw; kx++) {
          const t = ky * a.kw + kx;
          const w0 = w[(o * a.inC + c) * kArea + t]!;
          const w1 = n > 1 ? w[((o + 1) * a.inC + c) * kArea + t]! : 0;
          const w2 = n > 2 ? w[((o + 2) * a.inC + c) * kArea + t]! : 0;
          const w3 = n > 3 ? w[((o + 3) * a.inC + c) * kArea + t]! : 0;
          if ((w0 | w1 | w2 | w3) === 0) continue;
          const off = ky * a.dilation * pw + kx * a.dilation;
          for (let d = 0; d < span; d++) {
            const v = padded[off + d]!;
            wide[a0 + d]! += w0 * v;
            wide[a1 + d]! += w1 * v;
            wide[a2 + d]! += w2 * v;
            wide[a3 + d]! += w3 * v;
          }
        }
      }
    }
  }
  for (let o = 0; o < a.outC; o++) {
    const b = a.bias ? a.bias[o]! * 128 : 0;
    for (let y = 0; y < outH; y++) {
      const s0 = o * wideSize + y * pw, d0 = (o * outH + y) * outW;
      for (let x = 0; x < outW; x++) acc[d0 + x] = wide[s0 + x]! + b;
    }
  }
}
