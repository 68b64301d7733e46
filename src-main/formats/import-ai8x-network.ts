// An ai8x-training network (YAML + checkpoint) as a starting point for fine-tuning: a quantized
// `-q.pth.tar` (integer weights, brought back to the float scale they came from) or an unquantized
// float / QAT checkpoint (float weights, with its unfused BatchNorm kept for the float phase). The
// structure comes from import-ai8x.ts (what ai8x-synthesis reads); this adds the float starting point.
import type { Device, FloatBatchNorm, Layer, WeightBits } from '../ir/graph.ts';
import { quantizeLayer } from '../quant/quantize.ts';
import { FormatError } from './format-error.ts';
import { ImportError } from './import-error.ts';
import { modelFromAi8x } from './import-ai8x.ts';
import type { NetworkImport } from './import-onnx.ts';
import { readNetworkYaml } from './network-yaml.ts';
import type { NdArray } from './npy.ts';
import { readTorchCheckpoint } from './torch-checkpoint.ts';
import { validateModel } from '../ir/validate.ts';
import { opSpec } from '../ir/ops/registry.ts';
import { IZER_OPS } from './izer-ops.ts';

export interface Ai8xNetworkRequest {
  yaml: string;
  yamlName?: string;
  checkpoint: Uint8Array;
  checkpointName?: string;
  /** [C, L] or [C, H, W]; else the YAML's in_dim. */
  inputShape?: number[];
  device?: Device;
}

const BN_KEY = /^(.*)\.bn\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;
const num = (a: NdArray, k: number): number => Number(a.data[k]);
const floatsOf = (a: NdArray): Float32Array => Float32Array.from(a.data as ArrayLike<number | bigint>, Number);

/** Integer params → the float weights and bias quantize.py made them from (exact up to rounding). */
export function dequantize(layer: Layer): { weight: Float32Array; bias: Float32Array | null } {
  const p = layer.params!;
  const scale = 2 ** layer.outputShift / 2 ** (layer.weightBits - 1);
  return { weight: Float32Array.from(p.weights, (w) => w * scale), bias: p.bias ? Float32Array.from(p.bias, (b) => b * scale) : null };
}

export function importAi8xNetwork(req: Ai8xNetworkRequest): NetworkImport {
  const cf = req.checkpointName ?? 'checkpoint.pth.tar';
  const yf = req.yamlName ?? 'network.yaml';
  try {
    return importInner(req, cf, yf);
  } catch (error) {
    if (error instanceof FormatError) {
      throw new ImportError('ai8x-mismatch', `${error.file}: ${error.field}`, '', `${error.field}: expected ${error.expected}${error.detail ? ` (got ${error.detail})` : ''}.`,
        'give the YAML and checkpoint of the same network (same layer order, kernel sizes and channels).', error.file);
    }
    throw error;
  }
}

function importInner(req: Ai8xNetworkRequest, cf: string, yf: string): NetworkImport {
  const ckpt = readTorchCheckpoint(req.checkpoint, cf);
  const { config, warnings: yamlWarnings } = readNetworkYaml(req.yaml, yf);
  const bn = new Map<string, Partial<Record<string, NdArray>>>();
  const sd = new Map<string, NdArray>();
  for (const [key, t] of ckpt.stateDict) {
    const m = BN_KEY.exec(key);
    if (m) bn.set(m[1]!, { ...bn.get(m[1]!), [m[2]!]: t });
    else sd.set(key, t);
  }
  const weightKeys = [...sd.keys()].filter((k) => k.endsWith('.weight'));
  const isInt = (t: NdArray) => Array.from(t.data as ArrayLike<number | bigint>).every((v) => Number.isInteger(Number(v)));
  const layerOfKey = (k: string) => k.split('.').slice(0, k.split('.').length >= 3 ? -2 : -1).join('.');
  const bitsOf = (k: string) => { const t = sd.get(`${layerOfKey(k)}.weight_bits`); return t ? num(t, 0) : 8; };
  const quantized = weightKeys.length > 0 && weightKeys.every((k) => bitsOf(k) > 0 && isInt(sd.get(k)!));
  if (quantized && bn.size)
    throw new ImportError('batchnorm-quantized', [...bn.keys()][0]!, [...bn.keys()][0]!, 'a quantized checkpoint that still holds BatchNorm.', 'quantize the QAT checkpoint (BatchNorm folded), or give the float checkpoint.', cf);

  // A float checkpoint goes through the same structure reader on a stand-in quantized copy.
  const yamlBits = new Map<number, WeightBits>();
  config.layers.forEach((y, i) => { if (typeof y.quantization === 'number') yamlBits.set(i, y.quantization as WeightBits); });
  const floats = new Map<string, { weight: Float32Array; bias: Float32Array | null }>();
  const standIn = new Map(sd);
  if (!quantized) {
    for (const k of weightKeys) {
      const L = layerOfKey(k);
      const w = sd.get(k)!;
      const biasKey = k.replace(/weight$/, 'bias');
      const b = sd.get(biasKey);
      const f = { weight: floatsOf(w), bias: b ? floatsOf(b) : null };
      if (!f.weight.every(Number.isFinite)) throw new ImportError('not-finite', k, L, 'the weights hold NaN or infinite values.', 'give a checkpoint of a training run that did not diverge.', cf);
      floats.set(L, f);
      const bits = 8 as WeightBits;
      const q = quantizeLayer({ name: L, ...f }, bits);
      standIn.set(k, { dtype: 'float32', shape: w.shape, data: Float32Array.from(q.params.weights) });
      if (b && q.params.bias) standIn.set(biasKey, { dtype: 'float32', shape: b.shape, data: Float32Array.from(q.params.bias, (v) => v * 2 ** (bits - 1)) });
      standIn.set(`${L}.weight_bits`, { dtype: 'float32', shape: [1], data: Float32Array.of(bits) });
      standIn.set(`${L}.output_shift`, { dtype: 'float32', shape: [1], data: Float32Array.of(q.info.outputShift) });
    }
    for (const [i] of yamlBits) delete config.layers[i]!.quantization; // the stand-in is 8-bit
  }
  const shape = req.inputShape;
  const res = modelFromAi8x({ arch: ckpt.arch, epoch: ckpt.epoch, stateDict: standIn }, config, {
    checkpointName: cf, yamlName: yf, device: req.device ?? 'MAX78002', ...(shape ? { inputDims: shape.slice(1) } : {}),
  });
  const model = res.model;
  if (shape && model.input.channels !== shape[0])
    throw new ImportError('input-shape', 'layers[0]', model.layers[0]?.name ?? '', `--input-shape has ${shape[0]} channels but the first layer reads ${model.input.channels}.`, `give --input-shape ${model.input.channels},${shape.slice(1).join(',')}.`, yf);
  for (const [i, l] of model.layers.entries()) {
    if (!l.params) continue;
    if (quantized) {
      l.init = dequantize(l);
      continue;
    }
    const f = floats.get(l.name)!;
    delete l.params;
    l.outputShift = 0;
    l.weightBits = yamlBits.get(i) ?? 8;
    l.init = { weight: f.weight, bias: f.bias };
    const b = bn.get(l.name);
    if (b) {
      if (!opSpec(l.op).batchNorm) throw new ImportError('batchnorm-placement', `${l.name}.bn`, l.name, `BatchNorm on a ${IZER_OPS[l.op].label} layer; ai8x has BatchNorm only after convolutions.`, `remove it or fold it into the ${l.name} weights.`, cf);
      const c = l.outChannels;
      const get = (k: string, fill: number) => (b[k] ? floatsOf(b[k]!) : new Float32Array(c).fill(fill));
      const stats: FloatBatchNorm = { gamma: get('weight', 1), beta: get('bias', 0), runningMean: get('running_mean', 0), runningVar: get('running_var', 1) };
      if (Object.values(stats).some((a) => a.length !== c))
        throw new ImportError('ai8x-mismatch', `${l.name}.bn`, l.name, `BatchNorm with a size other than the layer's ${c} output channels.`, 'give the checkpoint that matches the YAML.', cf);
      l.batchNorm = true;
      l.hasBias = true;
      l.init.bias ??= new Float32Array(c);
      l.init.bn = stats;
    }
  }
  const unused = [...bn.keys()].filter((k) => !model.layers.some((l) => l.name === k));
  if (unused.length) throw new ImportError('ai8x-mismatch', `${unused[0]}.bn`, '', `BatchNorm for ${unused.join(', ')}, which is no layer of ${yf}.`, 'give the checkpoint that matches the YAML.', cf);
  const errors = validateModel(model).filter((d) => d.severity === 'error');
  if (errors.length) {
    const d = errors[0]!;
    throw new ImportError(`rule:${d.rule}`, d.layer >= 0 ? `${yf}: layers[${d.layer}]` : yf, d.layerName ?? '', d.message.replace(/^Layer \d+ \([^)]*\): /, ''), d.fix ?? 'change the network.', yf);
  }
  const warnings = [...yamlWarnings.map((m) => ({ severity: 'warning' as const, rule: 'yaml', layer: -1, message: m })), ...res.warnings];
  return { model, warnings, sources: model.layers.map((_, i) => `${yf}: layers[${i}]`) };
}
