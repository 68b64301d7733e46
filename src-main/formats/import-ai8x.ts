// "Open an existing ai8x model": a quantized ai8x checkpoint (.pth.tar) plus its network YAML
// (plus optionally the sample input) → an IR Model with integer parameters and placement. Follows
// what ai8x-synthesis does with them (max78002.md §2.3): sequential matching of `*.weight` keys to
// the YAML layers that have weights, weight bits YAML > `<L>.weight_bits` > 8, β = floor(bias /
// 2^(b−1)), shift from `<L>.output_shift`, refusal of unfused BatchNorm and of an arch mismatch.
import type { Activation, DataShape, Device, Diagnostic, Layer, Model, OpKind, Pool, WeightBits } from '../ir/graph.ts';
import { FormatError } from './format-error.ts';
import type { NdArray } from './npy.ts';
import { readNetworkYaml, type NetworkConfig, type YamlLayer } from './network-yaml.ts';
import { readTorchCheckpoint } from './torch-checkpoint.ts';
import { intRange } from '../quant/fixed-point.ts';
import { isElementWise, opHasWeights, opSpec } from '../ir/ops/registry.ts';
import { IZER_OPS, labelList } from './izer-ops.ts';

/** The parts of a training checkpoint the import reads. */
export interface CheckpointData {
  arch?: string;
  epoch?: number;
  stateDict: Map<string, NdArray>;
}

export interface ImportAi8xRequest {
  checkpoint: Uint8Array;
  checkpointName?: string;
  yaml: string;
  yamlName?: string;
  /** The sample input (C,H,W) or (C,L); fixes the input size. */
  sample?: NdArray;
  sampleName?: string;
  /** Input dims ([H, W] or [L]) when no sample is given. */
  inputDims?: number[];
  device?: Device;
}

export interface ImportResult {
  model: Model;
  warnings: Diagnostic[];
}

export function importAi8x(req: ImportAi8xRequest): ImportResult {
  const ckptName = req.checkpointName ?? 'checkpoint.pth.tar';
  const ckpt = readTorchCheckpoint(req.checkpoint, ckptName);
  const { config, warnings } = readNetworkYaml(req.yaml, req.yamlName ?? 'network.yaml');
  const res = modelFromAi8x({ arch: ckpt.arch, epoch: ckpt.epoch, stateDict: ckpt.stateDict }, config, { ...req, checkpointName: ckptName });
  res.warnings.unshift(...warnings.map((m): Diagnostic => ({ severity: 'warning', rule: 'yaml', layer: -1, message: m })));
  return res;
}


function num(a: NdArray, k = 0): number {
  const v = a.data[k];
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** Splits a state_dict key on its last two dots, like the izer: `block.conv.op.weight` → block.conv / op / weight. */
function splitKey(key: string): { layer: string; op: string | null; param: string } | null {
  const parts = key.split('.');
  if (parts.length >= 3) return { layer: parts.slice(0, -2).join('.'), op: parts[parts.length - 2]!, param: parts[parts.length - 1]! };
  if (parts.length === 2) return { layer: parts[0]!, op: null, param: parts[1]! };
  return null;
}

export function modelFromAi8x(
  ckpt: CheckpointData,
  config: NetworkConfig,
  opts: Omit<ImportAi8xRequest, 'checkpoint' | 'yaml'> = {},
): ImportResult {
  const cf = opts.checkpointName ?? 'checkpoint.pth.tar';
  const yf = opts.yamlName ?? 'network.yaml';
  const warnings: Diagnostic[] = [];
  const warn = (layer: number, rule: string, message: string): void => { warnings.push({ severity: 'warning', rule, layer, message }); };
  const sd = ckpt.stateDict;

  if (ckpt.arch === undefined) warn(-1, 'no-arch', `${cf} has no 'arch'; the architecture cannot be checked against ${yf}.`);
  else if (ckpt.arch.toLowerCase() !== config.arch.toLowerCase())
    throw new FormatError(cf, 'arch', `'${config.arch}' as in ${yf} (network architecture of configuration file (${config.arch}) does not match network architecture of checkpoint file (${ckpt.arch})); export the YAML for this model or open the matching checkpoint`, `'${ckpt.arch}'`);
  if (ckpt.epoch === undefined) warn(-1, 'no-epoch', `${cf} has no 'epoch'; ai8xize.py requires it.`);
  for (const [key, t] of sd)
    if (key.endsWith('.weight') && t.shape.length === 1)
      throw new FormatError(cf, `state_dict.${key}`, `no 1-dimensional weights: the checkpoint contains 1-dimensional weights for \`${key}\`, i.e. unfused BatchNorm. Ensure the BatchNorm layers have been folded: use the QAT checkpoint (qat_best.pth.tar, BN is fused when QAT starts) or run batchnormfuser.py before quantize.py`, `shape (${t.shape.join(', ')})`);
  if ([...sd.keys()].some((k) => k.endsWith('.activation_threshold')))
    warn(-1, 'qatv2', `${cf} has 'activation_threshold' keys (QATv2 training); the simulator follows the Aug-2024 toolchain and may differ.`);

  // Sequential matching: the n-th `*.weight` key goes to the n-th YAML layer that has weights.
  const weightKeys = [...sd.keys()].filter((k) => splitKey(k)?.param === 'weight');
  const weighted = config.layers.map((l, i) => ({ l, i })).filter(({ l }) => opHasWeights(l.op) && !l.other.bypass && l.other.weight_source === undefined);
  if (weightKeys.length < weighted.length)
    throw new FormatError(cf, 'state_dict', `${weighted.length} weight tensors for the ${weighted.length} layers with weights in ${yf}`, `${weightKeys.length} (${weightKeys.join(', ')})`);
  if (weightKeys.length > weighted.length)
    warn(-1, 'extra-weights', `${cf} has ${weightKeys.length} weight tensors but ${yf} has ${weighted.length} layers with weights; ${weightKeys.slice(weighted.length).join(', ')} are ignored (as ai8xize.py does).`);
  const keyOf = new Map<number, string>(weighted.map(({ i }, n) => [i, weightKeys[n]!]));

  // Input shape: the sample fixes it (the izer has no other source).
  const first = config.layers[0]!;
  let inputDims: number[];
  let inputChannels: number | undefined;
  if (opts.sample) {
    const sn = opts.sampleName ?? 'sample.npy';
    const s = opts.sample;
    if (s.shape.length !== 2 && s.shape.length !== 3) throw new FormatError(sn, 'shape', 'channel-first (C, H, W) or (C, L) without a batch dimension', `(${s.shape.join(', ')})`);
    if (s.dtype !== 'int64') warn(-1, 'sample-dtype', `${sn} is ${s.dtype}; ai8xize.py requires int64.`);
    inputChannels = s.shape[0]!;
    inputDims = s.shape.slice(1);
  } else if (opts.inputDims) inputDims = opts.inputDims;
  else if (first.inDim) inputDims = first.inDim;
  else throw new FormatError(yf, 'layers[0].in_dim', 'an input size: give the sample input (.npy) or in_dim', 'none');

  const layers: Layer[] = [];
  const shapes: DataShape[] = [];
  const nameToIndex = new Map<string, number>();
  config.layers.forEach((y, i) => { if (y.name) nameToIndex.set(y.name, i); });
  const input: DataShape = { channels: inputChannels ?? -1, dims: inputDims };

  config.layers.forEach((y, i) => {
    const at = (k: string): string => `layers[${i}].${k}`;
    const sources = (y.inSequences ?? []).map((s, j) => {
      if (typeof s === 'number') return s;
      if (s === 'input') return -1;
      const idx = nameToIndex.get(s);
      if (idx === undefined) throw new FormatError(yf, `${at('in_sequences')}[${j}]`, 'an earlier layer number or name', `'${s}'`);
      return idx;
    });
    for (const s of sources) if (s < -1 || s >= i) throw new FormatError(yf, at('in_sequences'), `earlier layers (−1 … ${i - 1})`, String(s));
    const srcShapes = (sources.length ? sources : [i - 1]).map((s) => (s === -1 ? input : shapes[s]!));
    const isElt = isElementWise(y);
    let inShape: DataShape = srcShapes.length > 1 && !isElt
      ? { channels: srcShapes.reduce((a, s) => a + s.channels, 0), dims: srcShapes[0]!.dims }
      : srcShapes[0]!;
    // in_dim reshapes the incoming data (same positions); layer 0's in_dim may give the input size.
    if (y.inDim && !(i === 0 && !opts.sample && !opts.inputDims)) {
      const n = y.inDim.reduce((a, b) => a * b, 1), have = inShape.dims.reduce((a, b) => a * b, 1);
      if (n !== have) throw new FormatError(yf, at('in_dim'), `${have} positions, as the incoming ${[inShape.channels, ...inShape.dims].join('x')} data has`, y.inDim.join('x'));
      inShape = { channels: inShape.channels, dims: y.inDim };
    }
    const oneD = inShape.dims.length === 1;
    const pool = y.pool ? normPool(y.pool, oneD) : undefined;
    const pooledDims = pool ? inShape.dims.map((n, d) => Math.floor((n - pool.size[d]!) / pool.stride[d]!) + 1) : inShape.dims;
    const layer = buildLayer(y, i, keyOf.get(i), sd, cf, yf, inShape, pooledDims, pool, warn);
    if (i === 0 && inputChannels === undefined) input.channels = layer.inChannels;
    if (i === 0 && inputChannels !== undefined && opHasWeights(layer.op) && layer.inChannels !== inputChannels)
      throw new FormatError(opts.sampleName ?? 'sample.npy', 'shape', `${layer.inChannels} input channels first, as ${cf} layer ${layer.name} expects: (${layer.inChannels}, H, W) or (${layer.inChannels}, L)`, `(${opts.sample!.shape.join(', ')})`);
    const { dims: needs, name: opName } = IZER_OPS[layer.op];
    if (i === 0 && needs !== null && (needs === 1) !== oneD)
      throw new FormatError(opts.sampleName ?? 'sample.npy', 'shape', `${needs === 1 ? '(C, L)' : '(C, H, W)'} data for the ${opName} first layer`, `(${[input.channels, ...input.dims].join(', ')})`);
    if (sources.length) layer.inputs = sources;
    layers.push(layer);
    shapes.push(outShape(layer, pooledDims));
  });

  // Placement as written in the YAML (it wins over the planner's defaults).
  if (config.layers.every((y) => y.processors !== undefined)) {
    let prevOut = 0;
    config.layers.forEach((y, i) => {
      const inOffset = y.inOffset ?? (i === 0 ? 0 : prevOut);
      const outOffset = y.outOffset ?? 0;
      layers[i]!.placement = {
        processors: `0x${y.processors!.toString(16).padStart(16, '0')}`,
        ...(y.outputProcessors !== undefined ? { outputProcessors: `0x${y.outputProcessors.toString(16).padStart(16, '0')}` } : {}),
        inOffset, outOffset,
      };
      prevOut = outOffset;
    });
  } else if (config.layers.some((y) => y.processors !== undefined)) {
    warn(-1, 'partial-placement', `${yf} gives processors for some layers only; the planner places all layers.`);
  }

  const model: Model = {
    arch: config.arch,
    dataset: config.dataset,
    device: opts.device ?? 'MAX78002',
    input: { channels: input.channels, dims: input.dims, format: first.dataFormat ?? 'HWC' },
    layers,
  };
  return { model, warnings };
}

function normPool(p: Pool, oneD: boolean): Pool {
  return oneD ? { kind: p.kind, size: [p.size[0], 1], stride: [p.stride[0], 1] } : p;
}

/** The op's output shape (ir/ops); an impossible one is carried on as is and reported by validation. */
function outShape(l: Layer, pooled: number[]): DataShape {
  return opSpec(l.op).inferShape(l, { channels: l.inChannels, dims: pooled }) ?? { channels: l.outChannels, dims: pooled };
}

function buildLayer(
  y: YamlLayer, i: number, key: string | undefined, sd: Map<string, NdArray>, cf: string, yf: string,
  inShape: DataShape, pooledDims: number[], pool: Pool | undefined,
  warn: (layer: number, rule: string, message: string) => void,
): Layer {
  const at = (k: string): string => `layers[${i}].${k}`;
  const activation: Activation = y.activation ?? 'none';
  const base = {
    activation,
    ...(pool ? { pool } : {}),
    flatten: y.flatten ?? false,
    outputWidth: y.outputWidth ?? 8,
    ...(y.eltwise ? { eltwise: y.eltwise } : {}),
    ...(y.operands !== undefined ? { operands: y.operands } : {}),
    ...(y.poolFirst === false ? { poolFirst: false } : {}),
    ...(y.isOutput ? { isOutput: true } : {}),
    ...(y.inDim ? { inDim: y.inDim } : {}),
  } as const;

  if (!key) {
    return {
      ...base, name: y.name ?? `layer${i}`, op: y.op, inChannels: inShape.channels, outChannels: inShape.channels,
      kernel: [1, 1], pad: 0, stride: 1, weightBits: 8, outputShift: 0, hasBias: false,
      ...(y.operands === undefined && y.inSequences ? { operands: y.inSequences.length } : {}),
    };
  }
  const parts = splitKey(key)!;
  const w = sd.get(key)!;
  const rank = w.shape.length;
  const layout = IZER_OPS[y.op].weights;
  if (layout?.rank !== rank) {
    const matching = (Object.keys(IZER_OPS) as OpKind[]).filter((k) => IZER_OPS[k].weights?.rank === rank);
    throw new FormatError(yf, at('operation'), `an operation matching ${cf} ${key} of shape (${w.shape.join(', ')}) (${matching.length ? labelList(matching) : 'unsupported rank'}); check that the module order in the model equals the YAML layer order`, y.op);
  }
  // Kernel size check against the izer's default when the YAML gives none (Conv1d: 9!).
  const given = y.kernelSize ?? layout.defaultKernel;
  const actual = layout.kernel(w.shape);
  if (given[0] !== actual[0] || given[1] !== actual[1])
    throw new FormatError(yf, at('kernel_size'), `${rank === 3 ? actual[0] : `${actual[0]}x${actual[1]}`} as the weights of ${key} in ${cf} have${y.kernelSize ? '' : ` (the izer assumes ${layout.defaultKernelText} when kernel_size is missing)`}; set kernel_size: ${rank === 3 ? actual[0] : `${actual[0]}x${actual[1]}`}`, rank === 3 ? String(given[0]) : `${given[0]}x${given[1]}`);
  // Weight bits: YAML quantization > <L>.weight_bits > 8.
  if (y.quantization === 'binary') throw new FormatError(yf, at('quantization'), '1, 2, 4 or 8 (binary ±1 weights are not supported by the workbench yet)', 'binary');
  const wbT = sd.get(`${parts.layer}.weight_bits`);
  const ckptBits = wbT ? num(wbT) : 8;
  if (wbT && ckptBits === 0)
    throw new FormatError(cf, `state_dict.${parts.layer}.weight_bits`, 'a quantized checkpoint (weight_bits 1/2/4/8); this one is not quantized: run quantize.py on it (or train with QAT) first', '0');
  const bits = (y.quantization ?? ckptBits) as WeightBits;
  if (![1, 2, 4, 8].includes(bits)) throw new FormatError(cf, `state_dict.${parts.layer}.weight_bits`, '1, 2, 4 or 8', String(bits));
  const { lo, hi } = intRange(bits);
  const weights = new Int8Array(w.data.length);
  for (let k = 0; k < w.data.length; k++) {
    const v = num(w, k);
    if (!Number.isInteger(v))
      throw new FormatError(cf, `state_dict.${key}[${k}]`, 'integer weights (a quantized checkpoint); run quantize.py first — the izer would silently turn these weights into zeros', String(v));
    if (v < lo || v > hi)
      throw new FormatError(cf, `state_dict.${key}[${k}]`, `a ${bits}-bit weight (${lo}..${hi})${y.quantization ? ` as ${yf} ${at('quantization')} says` : ''}`, String(v));
    weights[k] = v;
  }
  const channels = layout.channels(w.shape);
  const outChannels = channels.out;
  const inChannels = channels.in ?? inShape.channels;
  if (channels.in === null) {
    // The second axis counts input features: the channels, or C·H·W with flatten.
    const positions = pooledDims.reduce((a, b) => a * b, 1);
    const features = y.flatten ? inShape.channels * positions : inShape.channels;
    if (w.shape[1] !== features)
      throw new FormatError(cf, `state_dict.${key}`, `${features} input features (${y.flatten ? `flatten of ${inShape.channels}x${pooledDims.join('x')}` : `${inShape.channels} channels`}) as ${yf} and the input size give`, `(${w.shape.join(', ')})`);
  }
  if (i > 0 && channels.in !== null && inChannels !== inShape.channels)
    throw new FormatError(cf, `state_dict.${key}`, `${inShape.channels} input channels (the output of the previous layer)`, `(${w.shape.join(', ')})`);
  if (y.outChannels !== undefined && y.outChannels !== outChannels)
    throw new FormatError(yf, at('out_channels'), `${outChannels} as the weights of ${key} in ${cf} have`, String(y.outChannels));
  if (y.inChannels !== undefined && y.inChannels !== inChannels && channels.in !== null)
    throw new FormatError(yf, at('in_channels'), `${inChannels} as the weights of ${key} in ${cf} have`, String(y.inChannels));
  // Bias: β = floor(bias_ckpt / 2^(wb − 1)) with the checkpoint's weight_bits (as the izer does).
  const biasKey = parts.op === null ? `${parts.layer}.bias` : `${parts.layer}.${parts.op}.bias`;
  const b = sd.get(biasKey);
  let bias: Int32Array | null = null;
  if (b) {
    if (b.data.length !== outChannels) throw new FormatError(cf, `state_dict.${biasKey}`, `${outChannels} values`, String(b.data.length));
    const div = 2 ** (ckptBits - 1);
    bias = new Int32Array(outChannels);
    for (let k = 0; k < outChannels; k++) {
      const beta = Math.floor(Math.trunc(num(b, k)) / div);
      if (beta < -128 || beta > 127)
        throw new FormatError(cf, `state_dict.${biasKey}[${k}]`, `a bias that fits 8 bits after dividing by ${div} (−128..127); retrain with QAT so the bias is clamped`, String(beta));
      bias[k] = beta;
    }
  }
  // Shift: YAML output_shift replaces the checkpoint value (izer checkpoint.py), then + (8 − bits) in hardware.
  const osT = sd.get(`${parts.layer}.output_shift`);
  const outputShift = (y.outputShift ?? (osT ? Math.trunc(num(osT)) : 0)) + 0; // + 0: no -0 from a stored -0.0
  if (y.outputShift !== undefined && osT) warn(i, 'yaml-shift', `${yf} layers[${i}].output_shift (${y.outputShift}) replaces the checkpoint's output_shift (${num(osT)}).`);
  return {
    ...base,
    name: parts.layer,
    op: y.op,
    inChannels,
    outChannels,
    kernel: actual,
    pad: layout.pad(y.pad),
    stride: layout.stride(y.stride),
    ...(y.dilation !== undefined && y.dilation !== 1 ? { dilation: y.dilation } : {}),
    weightBits: bits,
    outputShift,
    hasBias: bias !== null,
    params: { weights, bias },
  };
}
