// Fast accumulate for Conv2d, Conv1d and Linear layers on the WebAssembly SIMD GEMM (wasm-gemm.ts):
// the input is transposed into a zero-bordered HWC int16 plane in wasm memory, unfolded into patch
// rows (im2col: one contiguous memmove of kw·C values per kernel row, since HWC keeps a kernel
// row's channels together), multiplied against weights pre-packed in (ky, kx, c) order since
// compile time. For 8-bit layers with total shift ≤ 7 the output stage (β·128, round, clamp,
// activation) also runs in wasm; otherwise the JS side adds β·128 while copying the int32 results.
// Each op says how it is a GEMM (machine.ts `prepareKernel`, `GemmView`); ConvTranspose2d runs
// as the stride-1 convolution over its stretched, zero-stuffed input.
import type { Layer } from '../ir/graph.ts';
import { totalShift } from '../ir/validate.ts';
import type { AccumulateHook, GemmView, Program } from './machine.ts';
import { instantiateGemm } from './wasm-gemm.ts';

interface Prepared extends GemmView {
  nPix: number;
  /** nPix rounded up to even (the kernel works on pixel pairs). */
  nPixPad: number;
  K: number;
  k8: number;
  nOB: number;
  wPtr: number;
  /** Byte offset of the layer's zero-bordered HWC input plane; padded width. */
  hwcPtr: number;
  padW: number;
  pw: number;
  /** Byte offset of β·128 per (padded) output channel, for the fused output stage. */
  biasPtr: number;
  /** Fused output stage (8-bit output, total shift ≤ 7): r = 7 − s, lower clamp, abs. */
  fused: { r: number; lo: number; abs: number } | null;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** An accelerator for `prog`, or null when WebAssembly SIMD is unavailable. */
export function createWasmAccelerator(prog: Program): AccumulateHook | null {
  const g = instantiateGemm();
  if (!g) return null;
  const preps = new Map<number, Prepared>();
  let wBytes = 0, pBytes = 0, outBytes = 0, hwcBytes = 0, biasBytes = 0;
  prog.layers.forEach((c, i) => {
    const p = c.kernel?.gemm;
    if (!p) return;
    const K = p.inC * p.kh * p.kw;
    const k8 = Math.ceil(K / 8);
    const nOB = Math.ceil(p.outC / 4);
    const nPix = p.outH * p.outW;
    const padW = p.kind === 'conv2d' ? p.pad : 0;
    const pw = p.inW + 2 * padW;
    // Pixel pairs for the GEMM, and whole 4-lane vectors per row for the output stage.
    const nPixPad = Math.ceil(nPix / 4) * 4;
    const shift = totalShift(c.layer);
    const fused = c.layer.outputWidth === 8 && shift <= 7
      ? { r: 7 - shift, lo: c.layer.activation === 'relu' ? 0 : -128, abs: c.layer.activation === 'abs' ? 1 : 0 }
      : null;
    preps.set(i, { ...p, K, k8, nOB, nPix, nPixPad, wPtr: wBytes, hwcPtr: hwcBytes, padW, pw, biasPtr: biasBytes, fused });
    biasBytes += nOB * 16;
    wBytes += align(nOB * 4 * k8 * 16, 16);
    if (p.kind !== 'linear') hwcBytes += align((p.inH + 2 * p.pad) * pw * p.inC * 2, 16);
    pBytes = Math.max(pBytes, nPixPad * k8 * 16);
    outBytes = Math.max(outBytes, nOB * 4 * nPixPad * 4);
  });
  if (preps.size === 0) return null;
  const wBase = 0, pBase = align(wBytes, 64), outBase = align(pBase + pBytes, 64), hwcBase = align(outBase + outBytes, 64);
  const biasBase = align(hwcBase + hwcBytes, 64);
  const need = biasBase + biasBytes;
  const pages = Math.ceil(need / 65536) - g.memory.buffer.byteLength / 65536;
  if (pages > 0) g.memory.grow(pages);
  const i16 = new Int16Array(g.memory.buffer);
  const i32 = new Int32Array(g.memory.buffer);
  // Pack weights: block ob, chunk k: rows o = 4·ob + j, elements k·8 .. k·8+7 (zero beyond K / outC),
  // element kk = (ky·kw + kx)·C + c ↔ PyTorch w[o][c][ky][kx] (linear: kk = feature).
  for (const p of preps.values()) {
    const w = p.weights;
    const base = (wBase + p.wPtr) >> 1;
    for (let ob = 0; ob < p.nOB; ob++)
      for (let k = 0; k < p.k8; k++)
        for (let j = 0; j < 4; j++) {
          const o = ob * 4 + j;
          const dst = base + ((ob * p.k8 + k) * 4 + j) * 8;
          for (let e = 0; e < 8; e++) {
            const kk = k * 8 + e;
            if (o >= p.outC || kk >= p.K) { i16[dst + e] = 0; continue; }
            const c = kk % p.inC, tap = (kk - c) / p.inC;
            i16[dst + e] = p.kind === 'linear' ? w[o * p.K + kk]! : w[(o * p.inC + c) * p.kh * p.kw + tap]!;
          }
        }
  }
  for (const p of preps.values())
    if (p.bias) for (let o = 0; o < p.outC; o++) i32[((biasBase + p.biasPtr) >> 2) + o] = p.bias[o]! * 128;
  const pIdx = pBase >> 1;
  const outIdx = outBase >> 2;

  return (_layer: Layer, index: number, src: Int32Array, acc: Int32Array, out: Int32Array): boolean | 'out' => {
    const p = preps.get(index);
    if (!p) return false;
    if (p.input) src = p.input(src);
    const row = p.k8 * 8;
    if (p.kind === 'linear') {
      for (let f = 0; f < p.K; f++) i16[pIdx + f] = src[f]!;
      for (let f = p.K; f < row; f++) i16[pIdx + f] = 0;
    } else {
      const { inC, inH, inW, kh, kw, pad, dil, outH, outW, padW, pw } = p;
      // CHW → zero-bordered HWC (the border was zeroed once and is never written).
      const hb = (hwcBase + p.hwcPtr) >> 1;
      const plane = inH * inW;
      for (let ch = 0; ch < inC; ch++) {
        const cb = ch * plane;
        for (let y = 0; y < inH; y++) {
          let d = hb + ((y + pad) * pw + padW) * inC + ch;
          const sb = cb + y * inW;
          for (let x = 0; x < inW; x++, d += inC) i16[d] = src[sb + x]!;
        }
      }
      // im2col: per output pixel and kernel row, kw·C contiguous values (dilation 1) or kw runs of C.
      const run = dil === 1 ? kw * inC : inC;
      const runs = dil === 1 ? 1 : kw;
      let pix = 0;
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++, pix++) {
          let d = pIdx + pix * row;
          for (let ky = 0; ky < kh; ky++) {
            for (let r = 0; r < runs; r++) {
              const s0 = hb + ((oy + ky * dil) * pw + ox + r * dil) * inC;
              if (run >= 24) i16.copyWithin(d, s0, s0 + run);
              else for (let e = 0; e < run; e++) i16[d + e] = i16[s0 + e]!;
              d += run;
            }
          }
          for (let e = p.K; e < row; e++) i16[d++] = 0;
        }
      }
    }
    if (p.nPixPad !== p.nPix) i16.fill(0, pIdx + p.nPix * row, pIdx + p.nPixPad * row);
    g.gemm(pBase, wBase + p.wPtr, outBase, p.nPixPad, p.nOB, p.k8);
    const n = p.nPix;
    if (p.fused) {
      g.requant(outBase, p.outC, p.nPixPad, biasBase + p.biasPtr, p.fused.r, p.fused.lo, p.fused.abs);
      if (n === p.nPixPad) out.set(i32.subarray(outIdx, outIdx + p.outC * n));
      else for (let o = 0; o < p.outC; o++) out.set(i32.subarray(outIdx + o * p.nPixPad, outIdx + o * p.nPixPad + n), o * n);
      return 'out';
    }
    if (n === p.nPixPad) acc.set(i32.subarray(outIdx, outIdx + p.outC * n));
    else for (let o = 0; o < p.outC; o++) acc.set(i32.subarray(outIdx + o * p.nPixPad, outIdx + o * p.nPixPad + n), o * n);
    if (p.bias) {
      for (let o = 0; o < p.outC; o++) {
        const b = p.bias[o]! * 128;
        for (let k = o * n, e = k + n; k < e; k++) acc[k] = acc[k]! + b;
      }
    }
    return true;
  };
}
