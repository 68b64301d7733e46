// Float model → ONNX (opset 13, IR version 8), written with protobufjs over the vendored
// onnx.proto subset. What "float model" means here (and in predictFloat without QAT): the ai8x
// float-mode forward pass with the trained float parameters (BatchNorm folded, ai8x float scale),
// no weight or activation quantization. Per layer: pool → op (Conv / Flatten+Gemm) → activation →
// Clip to [−1, 127/128] (the implicit Hardtanh of every non-wide ai8x layer); a wide (32-bit) last
// layer has no activation and only the ±2^15 clamp. The output shift needs no node: without quantization the
// weight scaling 2^−shift and the output scaling 2^shift cancel exactly.
// Input: float32 [N, C, H, W] (1-D: [N, C, L]) in the training range int8/128; output: float
// logits [N, classes]. The device's 32-bit output equals logit · 2^(6+b) for b-bit last-layer weights.
import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-schema.ts';
import type { Layer, Model, OpKind } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { isElementWise } from '../ir/ops/registry.ts';

const OPSET = 13;
const IR_VERSION = 8;
const FLOAT = 1;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

let modelType: protobuf.Type | undefined;
/** The ModelProto type from the vendored schema (parsed once). */
export function onnxModelType(): protobuf.Type {
  if (!modelType) {
    modelType = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

interface Attr { name: string; type: number; i?: number; f?: number; ints?: number[] }
interface NodeObj { op_type: string; name: string; input: string[]; output: string[]; attribute: Attr[] }
interface TensorObj { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

const ints = (name: string, v: number[]): Attr => ({ name, type: ATTR.INTS, ints: v });
const int = (name: string, v: number): Attr => ({ name, type: ATTR.INT, i: v });

function tensor(name: string, dims: number[], data: Float32Array): TensorObj {
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

/** The float tensor between layers: C and the spatial dims ([] after a Gemm). */
interface Flow { cur: string; shape: { c: number; dims: number[] } }

/** What an op's lowering works with: the layer, the tensor so far and the graph being built. */
interface Lowering extends Flow {
  layer: Layer;
  params(): FloatLayerParams;
  add(op_type: string, name: string, input: string[], attribute?: Attr[]): string;
  init(t: TensorObj): void;
  fail(what: string): never;
}

/** Conv over 1 or 2 spatial dims; `kernel` gives the ONNX kernel_shape of the layer. */
const convNode = (kernel: (l: Layer) => number[]) => ({ layer, cur, shape, params, add, init, fail }: Lowering): Flow => {
  const n = layer.name;
  const p = params();
  const k = kernel(layer);
  if (k.length !== shape.dims.length) fail(`a ${k.length}-D kernel on ${shape.dims.length}-D data.`);
  const wDims = [layer.outChannels, layer.inChannels, ...k];
  if (p.weight.length !== wDims.reduce((a, b) => a * b, 1)) fail(`${p.weight.length} weights; expected ${wDims.join('×')}.`);
  init(tensor(`${n}.weight`, wDims, p.weight));
  const input = [cur, `${n}.weight`];
  if (p.bias) init(tensor(`${n}.bias`, [layer.outChannels], p.bias)), input.push(`${n}.bias`);
  const dil = layer.dilation ?? 1;
  return {
    cur: add('Conv', `${n}_conv`, input, [
      ints('kernel_shape', k), ints('pads', [...k.map(() => layer.pad), ...k.map(() => layer.pad)]),
      ints('strides', k.map(() => layer.stride)), ints('dilations', k.map(() => dil)), int('group', 1),
    ]),
    shape: { c: layer.outChannels, dims: shape.dims.map((d, i) => d + 2 * layer.pad - dil * (k[i]! - 1)) },
  };
};

/** Flatten + Gemm over all C·H·W features. */
function gemmNode({ layer, cur, shape, params, add, init, fail }: Lowering): Flow {
  const n = layer.name;
  const p = params();
  const features = shape.c * shape.dims.reduce((a, b) => a * b, 1);
  if (p.weight.length !== layer.outChannels * features) fail(`${p.weight.length} weights; expected ${layer.outChannels}×${features}.`);
  const flat = add('Flatten', `${n}_flatten`, [cur], [int('axis', 1)]);
  init(tensor(`${n}.weight`, [layer.outChannels, features], p.weight));
  const input = [flat, `${n}.weight`];
  if (p.bias) init(tensor(`${n}.bias`, [layer.outChannels], p.bias)), input.push(`${n}.bias`);
  return { cur: add('Gemm', `${n}_gemm`, input, [int('transB', 1)]), shape: { c: layer.outChannels, dims: [] } };
}

const unsupported = (what: string) => ({ fail }: Lowering): never => fail(`${what} not supported by the float export.`);

/**
 * The ONNX facet of every op: the nodes for the op itself (pooling before and activation and clamp
 * after are common to all). A Record over OpKind, so a new op does not compile until it says how it
 * lowers, or that the float export refuses it.
 */
const ONNX_LOWERING: Record<OpKind, (x: Lowering) => Flow> = {
  conv1d: convNode((l) => [l.kernel[0]]),
  conv2d: convNode((l) => l.kernel),
  convtranspose2d: unsupported('ConvTranspose2d is'),
  linear: gemmNode,
  passthrough: ({ cur, shape }) => ({ cur, shape }),
  add: unsupported('element-wise operations are'),
  sub: unsupported('element-wise operations are'),
  or: unsupported('element-wise operations are'),
  xor: unsupported('element-wise operations are'),
};

export interface OnnxExportOptions {
  /** Producer version written into the model; default "0.1.0". */
  producerVersion?: string;
}

/** Serialises the float model; throws naming the layer for ops the float export cannot express. */
export function writeOnnx(model: Model, params: readonly FloatLayerParams[], options: OnnxExportOptions = {}): Uint8Array {
  const byName = new Map(params.map((p) => [p.name, p]));
  const oneD = model.input.dims.length === 1;
  const nodes: NodeObj[] = [];
  const inits: TensorObj[] = [];
  inits.push(tensor('clamp_min', [], Float32Array.of(-1)), tensor('clamp_max', [], Float32Array.of(127 / 128)));
  inits.push(tensor('wide_min', [], Float32Array.of(-32768)), tensor('wide_max', [], Float32Array.of(32768)));
  let cur = 'input';
  let shape = { c: model.input.channels, dims: [...model.input.dims] };
  const add = (op_type: string, name: string, input: string[], attribute: Attr[] = []): string => {
    const out = `${name}_out`;
    nodes.push({ op_type, name, input, output: [out], attribute });
    return out;
  };
  model.layers.forEach((layer, li) => {
    const fail = (what: string): never => {
      throw new Error(`ONNX export: layer ${li} "${layer.name}": ${what}`);
    };
    if (layer.inputs && !(layer.inputs.length === 1 && layer.inputs[0] === li - 1)) fail('non-sequential inputs (in_sequences) are not supported by the float export.');
    // A fused element-wise operation (`eltwise` on a convolution) is refused like a stand-alone one.
    if (isElementWise(layer)) fail('element-wise operations are not supported by the float export.');
    const n = layer.name;
    if (layer.pool) {
      const k = oneD ? [layer.pool.size[0]] : layer.pool.size;
      const s = oneD ? [layer.pool.stride[0]] : layer.pool.stride;
      cur = add(layer.pool.kind === 'max' ? 'MaxPool' : 'AveragePool', `${n}_pool`, [cur], [ints('kernel_shape', k), ints('strides', s)]);
      shape = { c: shape.c, dims: shape.dims.map((d, i) => Math.floor((d - k[i]!) / s[i]!) + 1) };
    }
    ({ cur, shape } = ONNX_LOWERING[layer.op]({
      layer, cur, shape, add, fail,
      params: () => byName.get(n) ?? fail('no float parameters.'),
      init: (t) => { inits.push(t); },
    }));
    if (layer.outputWidth === 32) {
      if (layer.activation !== 'none') fail('a wide (32-bit) layer cannot have an activation.');
      // ai8x clamps a wide float output to ±2^15 (never reached by sane logits; kept for fidelity).
      cur = add('Clip', `${n}_clamp`, [cur, 'wide_min', 'wide_max']);
      return;
    }
    if (layer.activation === 'relu') cur = add('Relu', `${n}_relu`, [cur]);
    else if (layer.activation === 'abs') cur = add('Abs', `${n}_abs`, [cur]);
    cur = add('Clip', `${n}_clamp`, [cur, 'clamp_min', 'clamp_max']);
  });
  // Name the graph output plainly: rename the last node's output.
  const last = nodes[nodes.length - 1]!;
  last.output = ['output'];
  const outDims = shape.dims.length ? [shape.c, ...shape.dims] : [shape.c];
  const valueInfo = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  });
  const lastLayer = model.layers[model.layers.length - 1]!;
  const obj = {
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'qat-workbench',
    producer_version: options.producerVersion ?? '0.1.0',
    doc_string:
      `${model.arch} float model (ai8x float forward, BN folded, no quantization; clamp to [-1, 127/128] after every non-wide layer). ` +
      'Input: int8 sample / 128. Output: float logits.',
    metadata_props: [
      { key: 'arch', value: model.arch },
      { key: 'dataset', value: model.dataset },
      { key: 'input_scale', value: '128' },
      { key: 'device_output_scale', value: String(lastLayer.outputWidth === 32 ? 2 ** (6 + lastLayer.weightBits) : 128) },
    ],
    graph: {
      name: model.arch,
      node: nodes,
      initializer: inits,
      input: [valueInfo('input', ['N', model.input.channels, ...model.input.dims])],
      output: [valueInfo('output', ['N', ...outDims])],
    },
  };
  const type = onnxModelType();
  return type.encode(type.fromObject(obj)).finish();
}
