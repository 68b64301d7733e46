// ai8x-synthesis network description YAML (max78002.md §3): strict reader into a per-layer
// configuration, and a writer from an IR Model (with placement) that ai8xize.py accepts.
// Unknown keys are errors, as in the izer; every error is a FormatError naming file, layer and key.
import { parseDocument } from 'yaml';
import type { Activation, DataFormat, EltwiseOp, Layer, Model, OpKind, Pool, WeightBits } from '../ir/graph.ts';
import { FormatError, describe } from './format-error.ts';
import { isElementWise, opHasWeights } from '../ir/ops/registry.ts';
import { ELTWISE_LABELS, ELTWISE_NAMES, IZER_OPS, OPERATION_LABELS, OPERATION_NAMES } from './izer-ops.ts';

/** One YAML layer after alias resolution and value checks; absent = not given in the file. */
export interface YamlLayer {
  name?: string;
  /** Input processors mask as 64-bit value. */
  processors?: bigint;
  outputProcessors?: bigint;
  inOffset?: number;
  outOffset?: number;
  inChannels?: number;
  outChannels?: number;
  inDim?: number[];
  inSequences?: (number | string)[];
  /** Resolved op; `opGiven` false when `operation` was missing (izer default Conv2d). */
  op: OpKind;
  opGiven: boolean;
  eltwise?: EltwiseOp;
  operands?: number;
  poolFirst?: boolean;
  /** [kh, kw]; Conv1d [k, 1]. */
  kernelSize?: [number, number];
  stride?: number;
  pad?: number;
  dilation?: number;
  groups?: number;
  pool?: Pool;
  activation?: Activation;
  quantization?: WeightBits | 'binary';
  outputShift?: number;
  outputWidth?: 8 | 32;
  dataFormat?: DataFormat;
  flatten?: boolean;
  writeGap?: number;
  isOutput?: boolean;
  /** Every key as written (after alias resolution), for keys the IR does not model. */
  other: Record<string, unknown>;
}

export interface NetworkConfig {
  arch: string;
  dataset: string;
  layers: YamlLayer[];
  outputMap?: bigint;
  /** Global keys kept as given (unload, data_buffer, ...). */
  other: Record<string, unknown>;
}

const GLOBAL_KEYS = ['arch', 'dataset', 'layers', 'output_map', 'unload', 'data_buffer', 'bias', 'weights', 'snoop'];

/** Per-layer keys the izer parser accepts, alias → canonical name. */
const LAYER_KEYS: Record<string, string> = Object.fromEntries([
  ...['name', 'sequence', 'next_sequence', 'processors', 'output_processors', 'in_offset', 'out_offset', 'in_channels',
    'in_dim', 'in_crop', 'in_sequences', 'in_channel_skip', 'out_channels', 'eltwise', 'operands', 'pool_first',
    'kernel_size', 'stride', 'pad', 'dilation', 'max_pool', 'avg_pool', 'pool_stride', 'pool_dilation', 'quantization',
    'output_shift', 'output_width', 'data_format', 'flatten', 'streaming', 'write_gap', 'output', 'weight_source',
    'buffer_shift', 'buffer_insert', 'output_pad', 'bypass', 'calcx4', 'readahead', 'tcalc', 'snoop_sequence',
    'simulated_sequence'].map((k) => [k, k]),
  ['operation', 'operation'], ['op', 'operation'], ['operator', 'operation'], ['convolution', 'operation'],
  ['activate', 'activate'], ['activation', 'activate'],
  ['groups', 'groups'], ['conv_groups', 'groups'],
  ['in_skip', 'in_skip'], ['read_gap', 'in_skip'],
  ['bias_group', 'bias_group'], ['bias_quadrant', 'bias_group'],
]);


export interface ReadResult {
  config: NetworkConfig;
  /** Non-fatal findings (e.g. missing `operation`), as the izer would warn. */
  warnings: string[];
}

/** Parses and checks network YAML text. Throws FormatError(file, field, expected). */
export function readNetworkYaml(text: string, file = 'network.yaml'): ReadResult {
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new FormatError(file, `line ${(e.linePos?.[0]?.line ?? 0)}`, 'valid YAML', e.message.split('\n')[0]);
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Unresolved aliases, alias bombs over the limit: the document is not usable YAML.
    throw new FormatError(file, '(document)', 'valid YAML without unresolved or excessive aliases', (e as Error).message.split('\n')[0]);
  }
  if (!isRecord(root)) throw new FormatError(file, '(document)', 'a mapping with arch, dataset and layers', describe(root));
  for (const key of Object.keys(root))
    if (!GLOBAL_KEYS.includes(key)) throw new FormatError(file, key, `a known global key (${GLOBAL_KEYS.join(', ')})`, `unknown key '${key}'`);
  const arch = root.arch;
  if (typeof arch !== 'string' || arch === '') throw new FormatError(file, 'arch', 'the architecture name (text)', describe(arch));
  const dataset = root.dataset;
  if (typeof dataset !== 'string' || dataset === '') throw new FormatError(file, 'dataset', 'the data set name (text)', describe(dataset));
  if (!Array.isArray(root.layers) || root.layers.length === 0) throw new FormatError(file, 'layers', 'a non-empty list of layers', describe(root.layers));
  const warnings: string[] = [];
  const layers = root.layers.map((raw, i) => readLayer(raw, i, file, warnings));
  const other: Record<string, unknown> = {};
  for (const k of ['unload', 'data_buffer', 'bias', 'weights', 'snoop']) if (k in root) other[k] = root[k];
  const config: NetworkConfig = { arch, dataset, layers, other };
  if (root.output_map !== undefined) config.outputMap = readMask(root.output_map, file, 'output_map');
  return { config, warnings };
}

function readLayer(raw: unknown, i: number, file: string, warnings: string[]): YamlLayer {
  const at = (key: string): string => `layers[${i}].${key}`;
  if (!isRecord(raw)) throw new FormatError(file, `layers[${i}]`, 'a mapping of layer keys', describe(raw));
  const v: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const canon = LAYER_KEYS[key];
    if (!canon) throw new FormatError(file, at(key), 'a known layer key (see the ai8x-synthesis README, "Network Loader Configuration Language")', `unknown key '${key}'`);
    if (canon in v) throw new FormatError(file, at(key), `only one of the aliases of '${canon}'`, 'given twice');
    v[canon] = value;
  }
  const int = (key: string, lo: number, hi: number): number | undefined => {
    const x = v[key];
    if (x === undefined) return undefined;
    const n = typeof x === 'bigint' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi)
      throw new FormatError(file, at(key), `an integer from ${lo} to ${hi}`, describe(x));
    return n;
  };
  const bool = (key: string): boolean | undefined => {
    const x = v[key];
    if (x === undefined) return undefined;
    if (typeof x !== 'boolean') throw new FormatError(file, at(key), 'true or false', describe(x));
    return x;
  };
  const L: YamlLayer = { op: 'conv2d', opGiven: false, other: {} };
  if (v.name !== undefined) {
    if (typeof v.name !== 'string' && typeof v.name !== 'bigint') throw new FormatError(file, at('name'), 'a layer name', describe(v.name));
    L.name = String(v.name);
  }
  if (v.operation !== undefined) {
    const op = OPERATION_NAMES.get(String(v.operation).toLowerCase());
    if (!op) throw new FormatError(file, at('operation'), OPERATION_LABELS, describe(v.operation));
    L.op = op;
    L.opGiven = true;
  } else warnings.push(`${file}: layers[${i}]: no operation given; assuming Conv2d as the izer does.`);
  if (v.processors !== undefined) L.processors = readMask(v.processors, file, at('processors'));
  if (v.output_processors !== undefined) L.outputProcessors = readMask(v.output_processors, file, at('output_processors'));
  setIf(L, 'inOffset', int('in_offset', 0, 0x7ffff));
  setIf(L, 'outOffset', int('out_offset', 0, 0x7ffff));
  setIf(L, 'inChannels', int('in_channels', 1, 4096));
  setIf(L, 'outChannels', int('out_channels', 1, 4096));
  // in_dim: an int is a 1-D length L, a list is [H, W].
  if (v.in_dim !== undefined) L.inDim = Array.isArray(v.in_dim) ? readPair(v.in_dim, file, at('in_dim'), 1, 65535, false) : [readPair(v.in_dim, file, at('in_dim'), 1, 65535, true)[0]!];
  if (v.in_sequences !== undefined) {
    const list = Array.isArray(v.in_sequences) ? v.in_sequences : [v.in_sequences];
    L.inSequences = list.map((x, j) => {
      if (typeof x === 'bigint') return Number(x);
      if (typeof x === 'string' && x !== '') return x;
      throw new FormatError(file, `${at('in_sequences')}[${j}]`, 'a layer number or name', describe(x));
    });
  }
  if (v.eltwise !== undefined) {
    const e = ELTWISE_NAMES.get(String(v.eltwise).toLowerCase());
    if (!e) throw new FormatError(file, at('eltwise'), ELTWISE_LABELS, describe(v.eltwise));
    L.eltwise = e;
  }
  setIf(L, 'operands', int('operands', 1, 16));
  setIf(L, 'poolFirst', bool('pool_first'));
  const izer = IZER_OPS[L.op];
  if (v.kernel_size !== undefined && !izer.kernelSizeKey)
    throw new FormatError(file, at('kernel_size'), 'no kernel_size on a Linear/MLP layer (the izer refuses it: "Cannot configure `kernel_size` for fully connected layers")', String(v.kernel_size));
  if (v.kernel_size !== undefined) L.kernelSize = readKernel(v.kernel_size, file, at('kernel_size'), izer.dims === 1);
  setIf(L, 'stride', int('stride', 1, 16));
  setIf(L, 'pad', int('pad', 0, 16));
  setIf(L, 'dilation', int('dilation', 1, 2047));
  setIf(L, 'groups', int('groups', 1, 4096));
  if (v.max_pool !== undefined && v.avg_pool !== undefined)
    throw new FormatError(file, at('avg_pool'), 'either max_pool or avg_pool, not both', 'both given');
  const poolKey = v.max_pool !== undefined ? 'max_pool' : v.avg_pool !== undefined ? 'avg_pool' : undefined;
  const oneD = izer.dims === 1;
  if (poolKey) {
    const size = readPair(v[poolKey], file, at(poolKey), 1, 1024, oneD) as [number, number];
    const stride = v.pool_stride !== undefined ? readPair(v.pool_stride, file, at('pool_stride'), 1, 1024, oneD) as [number, number] : size;
    L.pool = { kind: poolKey === 'max_pool' ? 'max' : 'avg', size, stride };
  } else if (v.pool_stride !== undefined) {
    // Stride without size: subsampling, i.e. a 1x1 pool with that stride (max78002.md §5).
    const stride = readPair(v.pool_stride, file, at('pool_stride'), 1, 1024, oneD) as [number, number];
    L.pool = { kind: 'max', size: oneD ? [1, 1] : [1, 1], stride };
  }
  if (v.activate !== undefined) {
    const a = String(v.activate).toLowerCase();
    if (a !== 'relu' && a !== 'abs' && a !== 'none') throw new FormatError(file, at('activate'), 'ReLU, Abs or None', describe(v.activate));
    L.activation = a;
  }
  if (v.quantization !== undefined) {
    const q = v.quantization;
    if (typeof q === 'string' && q.toLowerCase() === 'binary') L.quantization = 'binary';
    else if (typeof q === 'bigint' && [1n, 2n, 4n, 8n].includes(q)) L.quantization = Number(q) as WeightBits;
    else throw new FormatError(file, at('quantization'), '1, 2, 4, 8 or binary', describe(q));
  }
  setIf(L, 'outputShift', int('output_shift', -22, 15));
  const width = int('output_width', 8, 32);
  if (width !== undefined) {
    if (width !== 8 && width !== 32) throw new FormatError(file, at('output_width'), '8 or 32', String(width));
    L.outputWidth = width;
  }
  if (v.data_format !== undefined) {
    const f = String(v.data_format).toLowerCase();
    const fmt = f === 'hwc' || f === 'little' ? 'HWC' : f === 'chw' || f === 'big' ? 'CHW' : undefined;
    if (!fmt) throw new FormatError(file, at('data_format'), 'HWC (little) or CHW (big)', describe(v.data_format));
    if (i !== 0) throw new FormatError(file, at('data_format'), 'data_format only on the first layer', `layer ${i}`);
    L.dataFormat = fmt;
  }
  setIf(L, 'flatten', bool('flatten'));
  setIf(L, 'writeGap', int('write_gap', 0, 64));
  setIf(L, 'isOutput', bool('output'));
  const modelled = new Set(['name', 'operation', 'processors', 'output_processors', 'in_offset', 'out_offset', 'in_channels', 'out_channels',
    'in_dim', 'in_sequences', 'eltwise', 'operands', 'pool_first', 'kernel_size', 'stride', 'pad', 'dilation', 'groups', 'max_pool',
    'avg_pool', 'pool_stride', 'activate', 'quantization', 'output_shift', 'output_width', 'data_format', 'flatten', 'write_gap', 'output']);
  for (const [k, x] of Object.entries(v)) if (!modelled.has(k)) L.other[k] = typeof x === 'bigint' ? Number(x) : x;
  return L;
}

function setIf<K extends keyof YamlLayer>(l: YamlLayer, key: K, value: YamlLayer[K] | undefined): void {
  if (value !== undefined) l[key] = value;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Processor masks: integer, or hex text where dots and `0x` are ignored; must fit 64 bits. */
export function readMask(x: unknown, file: string, field: string): bigint {
  let n: bigint | undefined;
  if (typeof x === 'bigint') n = x;
  else if (typeof x === 'number' && Number.isSafeInteger(x)) n = BigInt(x);
  else if (typeof x === 'string') {
    const hex = x.trim().replace(/^0x/i, '').replace(/\./g, '');
    if (/^[0-9a-f]{1,16}$/i.test(hex)) n = BigInt(`0x${hex}`);
  }
  if (n === undefined || n < 0n || n >= 1n << 64n)
    throw new FormatError(file, field, 'a 64-bit processor mask in hex (0x0000000000000001)', describe(typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
  return n;
}

/** An int or [H, W] list; 1-D layers expand an int to [n, 1]. */
function readPair(x: unknown, file: string, field: string, lo: number, hi: number, oneD: boolean): number[] {
  const list = Array.isArray(x) ? x : [x];
  if (list.length < 1 || list.length > 2) throw new FormatError(file, field, 'an integer or a list [H, W]', describe(x));
  const nums = list.map((e) => {
    const n = typeof e === 'bigint' ? Number(e) : NaN;
    if (!Number.isInteger(n) || n < lo || n > hi) throw new FormatError(file, field, `integers from ${lo} to ${hi}`, describe(x));
    return n;
  });
  if (nums.length === 1) return oneD ? [nums[0]!, 1] : [nums[0]!, nums[0]!];
  return nums;
}

function readKernel(x: unknown, file: string, field: string, oneD: boolean): [number, number] {
  if (typeof x === 'bigint' && x >= 1n && x <= 9n) return oneD ? [Number(x), 1] : [Number(x), Number(x)];
  if (typeof x === 'string') {
    const m = /^\s*(\d)\s*x\s*(\d)\s*$/i.exec(x);
    if (m) return [Number(m[1]), Number(m[2])];
  }
  throw new FormatError(file, field, oneD ? 'a kernel size 1 to 9' : 'a kernel size like 3x3 or 1x1', describe(typeof x === 'bigint' ? Number(x) : x));
}

// ---- writer ----

function hex64(mask: string | bigint): string {
  const n = typeof mask === 'bigint' ? mask : BigInt(mask);
  return `0x${n.toString(16).padStart(16, '0')}`;
}

function yamlScalar(s: string): string {
  return /^[A-Za-z_][\w.-]*$/.test(s) ? s : JSON.stringify(s);
}

/** Network YAML for ai8xize.py from a Model whose layers all carry a placement. */
export function writeNetworkYaml(model: Model): string {
  const lines = ['---', `# Written by QAT Workbench for ${model.device}`, `arch: ${yamlScalar(model.arch)}`, `dataset: ${yamlScalar(model.dataset)}`, '', 'layers:'];
  model.layers.forEach((l: Layer, i) => {
    if (!l.placement) throw new Error(`Layer ${i} (${l.name}) has no placement; plan the model before writing YAML.`);
    const kv: [string, string | number][] = [];
    kv.push(['name', yamlScalar(l.name)]);
    kv.push(['processors', hex64(l.placement.processors)]);
    if (l.placement.outputProcessors) kv.push(['output_processors', hex64(l.placement.outputProcessors)]);
    kv.push(['in_offset', `0x${l.placement.inOffset.toString(16).padStart(4, '0')}`]);
    kv.push(['out_offset', `0x${l.placement.outOffset.toString(16).padStart(4, '0')}`]);
    if (l.inDim) kv.push(['in_dim', l.inDim.length === 1 ? l.inDim[0]! : `[${l.inDim.join(', ')}]`]);
    if (l.inputs && l.inputs.length > 0) kv.push(['in_sequences', `[${l.inputs.map((s) => (s === -1 ? 'input' : String(s))).join(', ')}]`]);
    const izer = IZER_OPS[l.op];
    kv.push(['operation', izer.name]);
    if (l.eltwise) kv.push(['eltwise', IZER_OPS[l.eltwise].name]);
    if (l.operands !== undefined && isElementWise(l)) kv.push(['operands', l.operands]);
    if (l.poolFirst === false) kv.push(['pool_first', 'false']);
    kv.push(...izer.keys(l));
    if (l.pool) {
      const oneD = izer.dims === 1 || model.input.dims.length === 1 && l.pool.size[1] === 1 && l.pool.stride[1] === 1;
      const pair = (p: [number, number]): string | number => (oneD || p[0] === p[1] ? p[0] : `[${p[0]}, ${p[1]}]`);
      kv.push([l.pool.kind === 'max' ? 'max_pool' : 'avg_pool', pair(l.pool.size)]);
      kv.push(['pool_stride', pair(l.pool.stride)]);
    }
    kv.push(['activate', l.activation === 'relu' ? 'ReLU' : l.activation === 'abs' ? 'Abs' : 'None']);
    if (opHasWeights(l.op)) kv.push(['quantization', l.weightBits]);
    // The izer uses a YAML output_shift *instead of* the checkpoint's (then adds 8 − bits), so an
    // extra shift is written as the whole trained + extra value.
    if (l.extraShift) kv.push(['output_shift', l.outputShift + l.extraShift]);
    if (l.outputWidth === 32) kv.push(['output_width', 32]);
    if (l.flatten) kv.push(['flatten', 'true']);
    if (l.isOutput) kv.push(['output', 'true']);
    if (i === 0) kv.push(['data_format', model.input.format]);
    lines.push(`  - ${kv.map(([k, x]) => `${k}: ${x}`).join('\n    ')}`);
  });
  return lines.join('\n') + '\n';
}
