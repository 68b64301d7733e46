// In-flight pooling before a layer's op (max78002.md §5.1): max, or average truncated toward zero
// (floor for positive, ceil for negative means); with rounding (avgPoolRounds) half away from zero,
// as the izer computes it.
// Planar data C×H×W (1-D: C×L with W = 1); output floor((n − size)/stride) + 1 per side.
import { roundHalfAway } from '../../quant/fixed-point.ts';

export interface PoolArgs {
  kind: 'max' | 'avg';
  channels: number;
  inH: number;
  inW: number;
  sizeH: number;
  sizeW: number;
  strideH: number;
  strideW: number;
  outH: number;
  outW: number;
  /** Round the average (half away from zero) instead of truncating. */
  rounding: boolean;
}

export function pool(src: Int32Array, dst: Int32Array, a: PoolArgs): void {
  if (a.kind === 'max') maxPool(src, dst, a);
  else avgPool(src, dst, a);
}

function maxPool(src: Int32Array, dst: Int32Array, a: PoolArgs): void {
  const { channels, inH, inW, sizeH, sizeW, strideH, strideW, outH, outW } = a;
  const inPlane = inH * inW;
  let d = 0;
  if (sizeH === 2 && sizeW === 2 && strideH === 2 && strideW === 2) {
    // The common 2x2/2 case: four loads, no inner loops.
    for (let c = 0; c < channels; c++) {
      for (let oy = 0; oy < outH; oy++) {
        let r0 = c * inPlane + 2 * oy * inW;
        for (let ox = 0; ox < outW; ox++, r0 += 2) {
          const a0 = src[r0]!, a1 = src[r0 + 1]!, b0 = src[r0 + inW]!, b1 = src[r0 + inW + 1]!;
          const m0 = a0 > a1 ? a0 : a1, m1 = b0 > b1 ? b0 : b1;
          dst[d++] = m0 > m1 ? m0 : m1;
        }
      }
    }
    return;
  }
  for (let c = 0; c < channels; c++) {
    const sb = c * inPlane;
    for (let oy = 0; oy < outH; oy++) {
      const rb = sb + oy * strideH * inW;
      for (let ox = 0; ox < outW; ox++) {
        let r = -2147483648;
        for (let ky = 0; ky < sizeH; ky++) {
          const row = rb + ky * inW + ox * strideW;
          for (let kx = 0; kx < sizeW; kx++) { const v = src[row + kx]!; if (v > r) r = v; }
        }
        dst[d++] = r;
      }
    }
  }
}

function avgPool(src: Int32Array, dst: Int32Array, a: PoolArgs): void {
  const { channels, inH, inW, sizeH, sizeW, strideH, strideW, outH, outW, rounding } = a;
  const n = sizeH * sizeW;
  const inPlane = inH * inW;
  let d = 0;
  for (let c = 0; c < channels; c++) {
    const sb = c * inPlane;
    for (let oy = 0; oy < outH; oy++) {
      const rb = sb + oy * strideH * inW;
      for (let ox = 0; ox < outW; ox++) {
        let s = 0;
        for (let ky = 0; ky < sizeH; ky++) {
          const row = rb + ky * inW + ox * strideW;
          for (let kx = 0; kx < sizeW; kx++) s += src[row + kx]!;
        }
        let r = rounding ? roundHalfAway(s / n) : Math.trunc(s / n);
        if (r > 127) r = 127; else if (r < -128) r = -128;
        dst[d++] = r;
      }
    }
  }
}
