// The bit-exact MAX7800x simulator core: compiles a Model with integer parameters into a program
// with preallocated buffers, then runs inputs through it layer by layer exactly as the izer's
// model of the accelerator does (max78002.md §5): gather inputs → pool first → element-wise →
// op accumulate (+β·128) → output stage. Pure: typed arrays only, no allocation per inference.
import type { DataShape, Layer, LayerParams, Model, OpKind } from '../ir/graph.ts';
import { inferLayerShapes, totalShift } from '../ir/validate.ts';
import { isElementWise, opHasWeights, opSpec } from '../ir/ops/registry.ts';
import { CONVTRANSPOSE_OUTPUT_PADDING } from '../ir/ops/convtranspose2d.ts';
import { pool, type PoolArgs } from './kernels/pool.ts';
import { avgPoolRounds } from '../quant/fixed-point.ts';
import { eltwise } from './kernels/eltwise.ts';
import { passthrough } from './kernels/passthrough.ts';
import { conv2d, conv2dScratch, type Conv2dArgs } from './kernels/conv2d.ts';
import { conv1d } from './kernels/conv1d.ts';
import { linear } from './kernels/linear.ts';
import { convTranspose2d, prepareConvTranspose2d, stretch, type ConvTranspose2dArgs } from './kernels/convtranspose2d.ts';
import { requantize } from './output-stage.ts';

export class SimError extends Error {
  override name = 'SimError';
  constructor(readonly layer: number, message: string) {
    super(message);
  }
}

/**
 * A faster path for one layer (e.g. WebAssembly SIMD): fills `acc` (bias included) and returns
 * true, or also applies the output stage into `out` and returns 'out', or returns false to fall
 * back to the JS kernels.
 */
export type AccumulateHook = (layer: Layer, index: number, src: Int32Array, acc: Int32Array, out: Int32Array) => boolean | 'out';

interface CompiledLayer {
  layer: Layer;
  sources: number[];
  input: DataShape;
  pooled: DataShape;
  output: DataShape;
  poolArgs: PoolArgs | null;
  /** Buffers: pooled operands, combined input, accumulator, output. */
  pooledBufs: Int32Array[];
  gathered: Int32Array | null;
  /** Element-wise combination before pooling (poolFirst: false). */
  unpooled: Int32Array | null;
  combined: Int32Array;
  acc: Int32Array;
  out: Int32Array;
  /** The op's accumulate; null for weightless ops (their data is copied through). */
  kernel: OpKernel | null;
  shift: number;
}

/** A layer's op, set up once per program. */
export interface OpKernel {
  /** acc = the op over src, bias (β·128) included. */
  accumulate(src: Int32Array, acc: Int32Array): void;
  /** The same op as a product of im2col patches and the weights, for a GEMM engine. */
  gemm: GemmView;
}

/**
 * An op as a matrix product: patches of kh×kw taps over inC channels of an inH×inW plane (zero
 * border `pad`: both dims for conv2d, the length only for conv1d; linear: one patch of inC
 * features), times weights [outC][inC][kh·kw] (linear: [outC][inC]), giving outC×outH×outW.
 */
export interface GemmView {
  kind: 'conv2d' | 'conv1d' | 'linear';
  inC: number; inH: number; inW: number; kh: number; kw: number; pad: number; dil: number;
  outH: number; outW: number; outC: number;
  weights: Int8Array;
  bias: Int32Array | null;
  /** Rewrites the input first (ConvTranspose2d: the stretched, zero-stuffed plane). */
  input?(src: Int32Array): Int32Array;
}

export interface Program {
  model: Model;
  inputShape: DataShape;
  inputSize: number;
  layers: CompiledLayer[];
  /** Optional fast accumulate (set by the caller). */
  accelerate?: AccumulateHook;
}

const size = (s: DataShape): number => s.channels * s.dims.reduce((a, b) => a * b, 1);
const hw = (s: DataShape): [number, number] => (s.dims.length === 1 ? [s.dims[0]!, 1] : [s.dims[0]!, s.dims[1]!]);

/** What an op's kernel set-up needs: the layer, its integer parameters, pooled input and output size. */
interface KernelSetup {
  layer: Layer;
  params: LayerParams;
  /** Pooled input height (1-D: length) and width (1-D: 1). */
  pH: number;
  pW: number;
  pooled: DataShape;
  output: DataShape;
}

const copyThrough = (): null => null;

const conv2dGemm = (a: Conv2dArgs, out: DataShape): GemmView => ({
  kind: 'conv2d', inC: a.inC, inH: a.inH, inW: a.inW, kh: a.kh, kw: a.kw, pad: a.pad, dil: a.dilation,
  outH: out.dims[0]!, outW: out.dims[1]!, outC: a.outC, weights: a.weights, bias: a.bias,
});

/**
 * The simulator facet of every op: sets up the layer's kernel once per program, with its GEMM view
 * for the WebAssembly path (wasm-accelerate.ts). Weightless ops have none: their data is copied
 * through after pooling / combining. A Record over OpKind, so a new op does not compile until it
 * has a kernel here.
 */
const prepareKernel: Record<OpKind, (k: KernelSetup) => OpKernel | null> = {
  conv2d({ layer, params, pH, pW, output }) {
    const a: Conv2dArgs = { inC: layer.inChannels, inH: pH, inW: pW, outC: layer.outChannels, kh: layer.kernel[0], kw: layer.kernel[1], pad: layer.pad, dilation: layer.dilation ?? 1, weights: params.weights, bias: params.bias };
    const scratch = new Int32Array(conv2dScratch(a));
    return { accumulate: (src, acc) => conv2d(src, acc, scratch, a), gemm: conv2dGemm(a, output) };
  },
  conv1d({ layer, params, pH, output }) {
    const a = { inC: layer.inChannels, inL: pH, outC: layer.outChannels, k: layer.kernel[0], pad: layer.pad, dilation: layer.dilation ?? 1, weights: params.weights, bias: params.bias };
    const scratch = new Int32Array(pH + 2 * layer.pad);
    return {
      accumulate: (src, acc) => conv1d(src, acc, scratch, a),
      gemm: { kind: 'conv1d', inC: a.inC, inH: a.inL, inW: 1, kh: a.k, kw: 1, pad: a.pad, dil: a.dilation, outH: output.dims[0]!, outW: 1, outC: a.outC, weights: a.weights, bias: a.bias },
    };
  },
  linear({ layer, params, pooled }) {
    const a = { inFeatures: size(pooled), outFeatures: layer.outChannels, weights: params.weights, bias: params.bias };
    return {
      accumulate: (src, acc) => linear(src, acc, a),
      gemm: { kind: 'linear', inC: a.inFeatures, inH: 1, inW: 1, kh: 1, kw: 1, pad: 0, dil: 1, outH: 1, outW: 1, outC: a.outFeatures, weights: a.weights, bias: a.bias },
    };
  },
  convtranspose2d({ layer, params, pH, pW, output }) {
    const args: ConvTranspose2dArgs = { inC: layer.inChannels, inH: pH, inW: pW, outC: layer.outChannels, k: layer.kernel[0], stride: layer.stride, pad: layer.pad, outputPadding: CONVTRANSPOSE_OUTPUT_PADDING, weights: params.weights, bias: params.bias };
    const prep = prepareConvTranspose2d(args);
    const stretched = new Int32Array(layer.inChannels * prep.h * prep.w);
    const scratch = new Int32Array(conv2dScratch(prep.conv));
    return {
      accumulate: (src, acc) => convTranspose2d(src, acc, stretched, scratch, args, prep),
      // The stride-1 convolution over the stretched input with the flipped weights.
      gemm: { ...conv2dGemm(prep.conv, output), input: (src) => { stretch(src, stretched, args, prep); return stretched; } },
    };
  },
  passthrough: copyThrough,
  add: copyThrough,
  sub: copyThrough,
  or: copyThrough,
  xor: copyThrough,
};

export function compile(model: Model): Program {
  const shapes = inferLayerShapes(model);
  const layers = model.layers.map((layer, i): CompiledLayer => {
    const sh = shapes[i]!;
    if (!sh.output) throw new SimError(i, `Layer ${i} (${layer.name}): ${sh.problem}.`);
    const isElt = isElementWise(layer);
    const needsParams = opHasWeights(layer.op);
    if (needsParams && !layer.params) throw new SimError(i, `Layer ${i} (${layer.name}) has no integer parameters; quantize or import the model first.`);
    const [inH, inW] = hw(sh.input);
    const [pH, pW] = hw(sh.pooled);
    const p = layer.pool;
    const poolArgs: PoolArgs | null = p ? {
      kind: p.kind, channels: sh.input.channels, inH, inW,
      sizeH: p.size[0], sizeW: sh.input.dims.length === 1 ? 1 : p.size[1],
      strideH: p.stride[0], strideW: sh.input.dims.length === 1 ? 1 : p.stride[1],
      outH: pH, outW: pW,
      rounding: avgPoolRounds(model.avgPoolRounding, layer.op),
    } : null;
    const operands = isElt ? sh.sources.length : 1;
    const c: CompiledLayer = {
      layer, sources: sh.sources, input: sh.input, pooled: sh.pooled, output: sh.output, poolArgs,
      pooledBufs: Array.from({ length: operands }, () => new Int32Array(size(sh.pooled))),
      gathered: !isElt && sh.sources.length > 1 ? new Int32Array(size(sh.input)) : null,
      unpooled: isElt && p && layer.poolFirst === false ? new Int32Array(size(sh.input)) : null,
      combined: new Int32Array(size(sh.pooled)),
      acc: new Int32Array(size(sh.output)),
      out: new Int32Array(size(sh.output)),
      kernel: null,
      shift: totalShift(layer),
    };
    const params = layer.params!;
    if (needsParams) {
      const want = opSpec(layer.op).weightCount(layer, sh.pooled);
      if (params.weights.length !== want) throw new SimError(i, `Layer ${i} (${layer.name}) has ${params.weights.length} weights; its shape needs ${want}.`);
      if (params.bias && params.bias.length !== layer.outChannels) throw new SimError(i, `Layer ${i} (${layer.name}) has ${params.bias.length} bias values for ${layer.outChannels} output channels.`);
    }
    c.kernel = prepareKernel[layer.op]({ layer, params, pH, pW, pooled: sh.pooled, output: sh.output });
    return c;
  });
  const inputShape = { channels: model.input.channels, dims: [...model.input.dims] };
  return { model, inputShape, inputSize: size(inputShape), layers };
}

/**
 * Called with each layer's finished output before later layers read it; may change it in place
 * (the virtual device injects deployment bugs this way, so they propagate as on a board).
 */
export type LayerHook = (index: number, out: Int32Array) => void;

/** Runs one input (planar C×dims int8 values); layer outputs stay in the program's buffers. */
export function run(prog: Program, input: Int32Array, afterLayer?: LayerHook): void {
  if (input.length !== prog.inputSize)
    throw new SimError(-1, `The input has ${input.length} values; the model expects ${prog.inputSize} (${[prog.inputShape.channels, ...prog.inputShape.dims].join('x')}).`);
  const outOf = (s: number): Int32Array => (s === -1 ? input : prog.layers[s]!.out);
  for (let i = 0; i < prog.layers.length; i++) {
    const c = prog.layers[i]!;
    const l = c.layer;
    const isElt = c.pooledBufs.length > 1;
    // Gather: one source, element-wise operands, or a channel concatenation.
    let src: Int32Array;
    if (c.gathered) {
      let off = 0;
      for (const s of c.sources) {
        const b = outOf(s);
        c.gathered.set(b, off);
        off += b.length;
      }
      src = c.gathered;
    } else src = outOf(c.sources[0]!);
    // Pool first (each operand), then combine element-wise.
    let data: Int32Array;
    if (isElt && c.poolArgs && l.poolFirst === false) {
      // Combine at full size, then pool the combination.
      const full = c.sources.map(outOf);
      eltwise(l.eltwise ?? (l.op as 'add'), full, c.unpooled!);
      pool(c.unpooled!, c.combined, c.poolArgs);
      data = c.combined;
    } else if (isElt) {
      c.sources.forEach((s, k) => {
        const b = outOf(s);
        if (c.poolArgs) pool(b, c.pooledBufs[k]!, c.poolArgs);
        else c.pooledBufs[k]!.set(b);
      });
      eltwise(l.eltwise ?? (l.op as 'add'), c.pooledBufs, c.combined);
      data = c.combined;
    } else if (c.poolArgs) {
      pool(src, c.pooledBufs[0]!, c.poolArgs);
      data = c.pooledBufs[0]!;
    } else data = src;

    if (!c.kernel) {
      passthrough(data, c.out);
    } else {
      const fast = prog.accelerate ? prog.accelerate(l, i, data, c.acc, c.out) : false;
      if (fast !== 'out') {
        if (!fast) c.kernel.accumulate(data, c.acc);
        if (l.outputWidth === 32) c.out.set(c.acc);
        else requantize(c.acc, c.out, c.out.length, c.shift, l.activation);
      }
    }
    afterLayer?.(i, c.out);
  }
}
