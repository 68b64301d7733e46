// The float forward pass of a trained model in plain TypeScript (no tfjs, float64 accumulation),
// channel-first like PyTorch: ai8x float mode, or with `qat` exactly what the QAT forward computes
// (max78002.md §1.3, §1.8, §1.9), so that for 8-bit weights the wide output × 2^14 is the
// accelerator's 32-bit result.
import type { Layer, Model, OpKind, WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { quantizeAvgPool, quantizeParams, quantizeWide } from '../quant/fake-quant.ts';
import { ACTIVATION, avgPoolRounds, quantizeValue, WIDE_OUTPUT } from '../quant/fixed-point.ts';

export interface PredictOptions {
  /** Fake-quantize like QAT: per-layer output shifts and weight bits. */
  qat?: { shifts: number[]; bits: WeightBits[] };
}

interface Data {
  c: number;
  h: number;
  w: number;
  v: Float64Array;
}

/** The op's output before the activation, from the pooled input and the (fake-quantized) parameters. */
type Forward = (layer: Layer, d: Data, weight: Float32Array, bias: Float32Array | null) => Data;

const unsupported = (layer: Layer): never => {
  throw new Error(`predictFloat: ${layer.name}: op '${layer.op}' is not supported`);
};

/**
 * The float-forward facet of every op: `copy` passes the pooled data on as is (no parameters, no
 * activation), `unsupported` refuses the op. A Record over OpKind, so a new op does not compile
 * until it has a forward pass here.
 */
const FORWARD: Record<OpKind, Forward | 'copy' | 'unsupported'> = {
  // Conv1d runs as a 1×k convolution over 1×L data.
  conv1d: (l, d, w, b) => conv(d, w, b, l.outChannels, [1, l.kernel[0]], [0, l.pad], [1, l.dilation ?? 1]),
  conv2d: (l, d, w, b) => conv(d, w, b, l.outChannels, l.kernel, [l.pad, l.pad], [l.dilation ?? 1, l.dilation ?? 1]),
  linear: (l, d, w, b) => dense(d, w, b, l.outChannels),
  convtranspose2d: 'unsupported',
  // A pooling-only layer (ai8x MaxPool/AvgPool module): the pooled data as is.
  passthrough: 'copy',
  add: 'unsupported',
  sub: 'unsupported',
  or: 'unsupported',
  xor: 'unsupported',
};

/** Logits (the last layer's output, flattened channel-major) for n samples: n × features. */
export function predictFloat(
  model: Model,
  params: FloatLayerParams[],
  x: Float32Array,
  n: number,
  options: PredictOptions = {},
): Float32Array {
  const oneD = model.input.dims.length === 1;
  const h0 = oneD ? 1 : model.input.dims[0]!;
  const w0 = oneD ? model.input.dims[0]! : model.input.dims[1]!;
  const per = model.input.channels * h0 * w0;
  if (x.length < n * per) throw new Error(`predictFloat: x has ${x.length} values, expected ${n} × ${per}`);
  const byName = new Map(params.map((p) => [p.name, p]));
  const prepared = model.layers.map((layer, i) => {
    const forward = FORWARD[layer.op];
    if (forward === 'copy') return { layer, forward, weight: new Float32Array(0), bias: null, shift: 0 };
    if (forward === 'unsupported') return unsupported(layer);
    const p = byName.get(layer.name);
    if (!p) throw new Error(`predictFloat: params: no entry for layer '${layer.name}'`);
    const qat = options.qat;
    if (!qat) return { layer, forward, weight: p.weight, bias: p.bias, shift: 0 };
    const bits = qat.bits[i]!;
    const shift = qat.shifts[i]!;
    return {
      layer,
      forward,
      weight: quantizeParams(p.weight, bits, shift),
      bias: p.bias ? quantizeParams(p.bias, bits, shift) : null,
      shift,
    };
  });
  let out: Float32Array | undefined;
  for (let s = 0; s < n; s++) {
    let d: Data = { c: model.input.channels, h: h0, w: w0, v: Float64Array.from(x.subarray(s * per, (s + 1) * per)) };
    for (const l of prepared) d = runLayer(l.layer, l.forward, d, l.weight, l.bias, l.shift, !!options.qat, avgPoolRounds(model.avgPoolRounding, l.layer.op), oneD);
    out ??= new Float32Array(n * d.v.length);
    out.set(d.v, s * d.v.length);
  }
  return out ?? new Float32Array(0);
}

function runLayer(
  layer: Layer, forward: Forward | 'copy', input: Data, weight: Float32Array, bias: Float32Array | null, shift: number,
  qat: boolean, avgRounding: boolean, oneD: boolean,
): Data {
  let d = input;
  if (layer.pool) d = pool(d, layer, oneD, qat, avgRounding);
  if (forward === 'copy') return d;
  const y = forward(layer, d, weight, bias);
  const wide = layer.outputWidth === 32;
  const scale = qat && !wide ? 2 ** shift : 1;
  const v = y.v;
  for (let i = 0; i < v.length; i++) {
    let a = v[i]! * scale;
    if (layer.activation === 'relu') a = a > 0 ? a : 0;
    else if (layer.activation === 'abs') a = Math.abs(a);
    if (wide) v[i] = qat ? quantizeWide(a) : Math.min(Math.max(a, WIDE_OUTPUT.lo), WIDE_OUTPUT.hi);
    else v[i] = qat ? quantizeValue(a, 8) : Math.min(Math.max(a, ACTIVATION.lo), ACTIVATION.hi);
  }
  return y;
}

/** Fully connected over all C·H·W features, channel-major (flatten). */
function dense(d: Data, weight: Float32Array, bias: Float32Array | null, o: number): Data {
  const features = d.v.length;
  const v = new Float64Array(o);
  for (let k = 0; k < o; k++) {
    let acc = bias ? bias[k]! : 0;
    const row = k * features;
    for (let f = 0; f < features; f++) acc += d.v[f]! * weight[row + f]!;
    v[k] = acc;
  }
  return { c: o, h: 1, w: 1, v };
}

/** Stride-1 convolution with zero padding [ph, pw] and dilation [dh, dw]. */
function conv(
  d: Data, weight: Float32Array, bias: Float32Array | null, co: number,
  [kh, kw]: [number, number], [ph, pw]: [number, number], [dh, dw]: [number, number],
): Data {
  const ho = d.h + 2 * ph - dh * (kh - 1);
  const wo = d.w + 2 * pw - dw * (kw - 1);
  const v = new Float64Array(co * ho * wo);
  const ci = d.c;
  for (let o = 0; o < co; o++) {
    const b = bias ? bias[o]! : 0;
    const out = v.subarray(o * ho * wo, (o + 1) * ho * wo);
    out.fill(b);
    for (let c = 0; c < ci; c++) {
      const plane = c * d.h * d.w;
      for (let a = 0; a < kh; a++) {
        for (let bb = 0; bb < kw; bb++) {
          const wv = weight[((o * ci + c) * kh + a) * kw + bb]!;
          if (wv === 0) continue;
          const dx = bb * dw - pw;
          for (let i = 0; i < ho; i++) {
            const r = i + a * dh - ph;
            if (r < 0 || r >= d.h) continue;
            const rowIn = plane + r * d.w;
            const rowOut = i * wo;
            const j0 = Math.max(0, -dx);
            const j1 = Math.min(wo, d.w - dx);
            for (let j = j0; j < j1; j++) out[rowOut + j]! += d.v[rowIn + j + dx]! * wv;
          }
        }
      }
    }
  }
  return { c: co, h: ho, w: wo, v };
}

function pool(d: Data, layer: Layer, oneD: boolean, qat: boolean, avgRounding: boolean): Data {
  const p = layer.pool!;
  const [sh, sw] = oneD ? [1, p.size[0]] : p.size;
  const [th, tw] = oneD ? [1, p.stride[0]] : p.stride;
  const ho = Math.floor((d.h - sh) / th) + 1;
  const wo = Math.floor((d.w - sw) / tw) + 1;
  const v = new Float64Array(d.c * ho * wo);
  for (let c = 0; c < d.c; c++) {
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < wo; j++) {
        let acc = p.kind === 'max' ? -Infinity : 0;
        for (let a = 0; a < sh; a++) {
          for (let b = 0; b < sw; b++) {
            const val = d.v[(c * d.h + i * th + a) * d.w + j * tw + b]!;
            acc = p.kind === 'max' ? Math.max(acc, val) : acc + val;
          }
        }
        if (p.kind === 'avg') {
          // float32 mean like torch, then the QAT floor (or rounding) at 1/128 and the clamp.
          const mean = Math.fround(acc / (sh * sw));
          acc = qat ? quantizeAvgPool(mean, avgRounding) : Math.min(Math.max(mean, ACTIVATION.lo), ACTIVATION.hi);
        }
        v[(c * ho + i) * wo + j] = acc;
      }
    }
  }
  return { c: d.c, h: ho, w: wo, v };
}
