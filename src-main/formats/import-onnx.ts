// ONNX float model (PyTorch torch.onnx.export, Keras via tf2onnx; opsets 11-17) → IR Model whose
// layers are ai8x fused operations, with the float weights as the training starting point
// (Layer.init). The graph is walked in its (topological) node order; each value is either a
// constant (initializers, Constant, shape arithmetic) or an activation that some IR layer produced
// plus what is still pending on it (a pool, which moves into the next layer as ai8x's pool-before-op;
// a flatten; a zero pad for the next conv). Conv / Gemm / MatMul start a layer; BatchNormalization,
// Relu / Abs and a bias Add fuse into the layer they follow. Anything the device cannot run is
// refused with one ImportError naming the node, the layer and the fix; nothing half-imported.
import type { Activation, DataShape, Device, Diagnostic, Layer, Model, Pool } from '../ir/graph.ts';
import { validateModel } from '../ir/validate.ts';
import { opSpec } from '../ir/ops/registry.ts';
import { onnxModelType } from './onnx.ts';
import { ImportError } from './import-error.ts';

export interface OnnxImportOptions {
  /** File name for messages. */
  file?: string;
  /** Input shape without the batch: [C, L] or [C, H, W]; needed when the file's shape is dynamic. */
  inputShape?: number[];
  device?: Device;
  /** Architecture name (default: from the file name or the graph name). */
  arch?: string;
  dataset?: string;
}

export interface NetworkImport {
  model: Model;
  warnings: Diagnostic[];
  /** For each layer, the source node(s) it came from. */
  sources: string[];
}

export const OPSET_RANGE = [11, 17] as const;
/** ai8x training keeps BatchNorm eps at 1e-5 (training/layers/batch-norm.ts BN_EPS). */
const AI8X_BN_EPS = 1e-5;

interface Attr { name: string; type?: number; i?: number; f?: number; s?: Uint8Array; ints?: number[]; floats?: number[]; t?: TensorObj }
interface TensorObj {
  name?: string; dims?: number[]; data_type?: number; raw_data?: Uint8Array; float_data?: number[]; int32_data?: number[];
  int64_data?: number[]; double_data?: number[]; data_location?: number;
}
interface NodeObj { op_type?: string; name?: string; domain?: string; input?: string[]; output?: string[]; attribute?: Attr[] }
interface ValueInfo { name?: string; type?: { tensor_type?: { elem_type?: number; shape?: { dim?: { dim_value?: number; dim_param?: string }[] } } } }
interface GraphObj { node?: NodeObj[]; initializer?: TensorObj[]; input?: ValueInfo[]; output?: ValueInfo[]; name?: string }

/** An activation: the output of layer `src` (−1: network input), with what is pending on it. */
interface Act {
  kind: 'act';
  src: number;
  /** Logical shape (after a pending pool; flattened: channels = features, dims []). */
  shape: DataShape;
  /** The layer's op output with nothing applied yet (BN, bias, activation can still fuse). */
  raw: boolean;
  pool?: { pool: Pool; node: string; before: DataShape };
  /** Zero padding for the next conv (from a Pad node), per side. */
  pad?: { amount: number; node: string };
  /** Flattened; `from` is the shape before the flatten; `hwc`: flattened channel-last (Keras order). */
  flat?: { from: DataShape; hwc?: boolean };
  /** Transposed to channel-last (Keras via tf2onnx before its Flatten); only a flatten may follow. */
  channelLast?: boolean;
}
interface Const { kind: 'const'; dims: number[]; data: (number | null)[] | Float32Array }
type Value = Act | Const;

const FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11;

export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): NetworkImport {
  const file = opts.file ?? 'model.onnx';
  const refuse = (code: string, node: string, layer: string, problem: string, fix: string): never => {
    throw new ImportError(code, node, layer, problem, fix, file);
  };
  const doc = decode(bytes, file);
  const opset = (doc.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  if (opset === undefined || opset < OPSET_RANGE[0] || opset > OPSET_RANGE[1])
    refuse('opset', '', '', `the file uses ONNX opset ${opset ?? 'none'}; the import reads opsets ${OPSET_RANGE[0]} to ${OPSET_RANGE[1]}.`,
      `export again with opset_version=13 (torch.onnx.export) or --opset 13 (tf2onnx).`);
  const g = doc.graph!;
  const warnings: Diagnostic[] = [];
  const warn = (message: string, layer = -1): void => { warnings.push({ severity: 'warning', rule: 'onnx-import', layer, message }); };
  const values = new Map<string, Value>();
  for (const t of g.initializer ?? []) values.set(t.name ?? '', { kind: 'const', ...tensorOf(t, file) });
  const inputs = (g.input ?? []).filter((v) => !values.has(v.name ?? ''));
  if (inputs.length !== 1)
    refuse('inputs', '', '', `the graph has ${inputs.length} inputs (${inputs.map((v) => v.name).join(', ') || 'none'}); a network for the device has exactly one.`,
      'export the model with a single input tensor.');
  const inputInfo = inputs[0]!;
  const input = inputShape(inputInfo, opts.inputShape, refuse);
  const oneD = input.dims.length === 1;
  values.set(inputInfo.name ?? '', { kind: 'act', src: -1, shape: input, raw: false });

  const consumers = new Map<string, number>();
  for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const o of g.output ?? []) consumers.set(o.name ?? '', (consumers.get(o.name ?? '') ?? 0) + 1);

  const layers: Layer[] = [];
  const sources: string[] = [];
  /** For each layer, which node to blame for a rule: its op node, its pool node. */
  const blame: { op: string; pool?: string }[] = [];
  const usedNames = new Set<string>();
  const nameFor = (base: string): string => {
    let n = base.replace(/\.(weight|bias)$/, '').replace(/[^A-Za-z0-9_]/g, '_').replace(/^_+|_+$/g, '') || 'layer';
    if (/^\d/.test(n)) n = `l${n}`;
    let name = n;
    for (let k = 2; usedNames.has(name); k++) name = `${n}_${k}`;
    usedNames.add(name);
    return name;
  };
  const baseLayer = (name: string, op: Layer['op'], inCh: number, outCh: number): Layer => ({
    name, op, inChannels: inCh, outChannels: outCh, kernel: [1, 1], pad: 0, stride: 1, flatten: false,
    activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false,
  });
  /** Adds a layer reading `from`; returns the activation it produces. */
  const push = (layer: Layer, from: Act, node: string, out: DataShape): Act => {
    const index = layers.length;
    if (from.src !== index - 1) layer.inputs = [from.src];
    if (from.pool) layer.pool = from.pool.pool;
    layers.push(layer);
    sources.push(node);
    blame.push({ op: node, ...(from.pool ? { pool: from.pool.node } : {}) });
    return { kind: 'act', src: index, shape: out, raw: true };
  };
  /** A pending pool that cannot go into the next op becomes a pooling-only layer. */
  const settlePool = (v: Act): Act => {
    if (!v.pool) return v;
    const layer = baseLayer(nameFor(`pool_${layers.length}`), 'passthrough', v.pool.before.channels, v.pool.before.channels);
    return push(layer, v, v.pool.node, v.shape);
  };

  const nodes = g.node ?? [];
  for (const n of nodes) {
    const op = n.op_type ?? '';
    const node = n.name || `${op}(${(n.output ?? [])[0] ?? '?'})`;
    if (n.domain && n.domain !== 'ai.onnx')
      refuse('unsupported-op', node, '', `the op ${n.domain}.${op} is from a custom domain the device cannot run.`, 'export with standard ONNX ops only.');
    const attrs = new Map((n.attribute ?? []).map((a) => [a.name, a]));
    const ins = (n.input ?? []).map((name) => (name ? values.get(name) : undefined));
    const out = (n.output ?? [])[0] ?? '';
    const set = (v: Value) => values.set(out, v);
    const act = (k: number): Act => {
      const v = ins[k];
      if (!v) refuse('graph', node, '', `input ${k} (${(n.input ?? [])[k]}) is not produced by an earlier node.`, 'check that the file is a complete, topologically sorted ONNX graph.');
      if (v!.kind !== 'act') refuse('unsupported-op', node, '', `${op} on a constant is not part of a network the device can run.`, 'remove this computation from the model (fold it into the weights).');
      if ((v as Act).channelLast && !['Flatten', 'Reshape', 'Shape'].includes(op))
        refuse('transpose', node, '', `${op} on channel-last (transposed) data; the device keeps data channel-first.`, 'transpose only right before the flatten of the classifier.');
      return v as Act;
    };
    const cst = (k: number, what: string): Const => {
      const v = ins[k];
      if (!v || v.kind !== 'const')
        refuse('dynamic-weights', node, '', `its ${what} (${(n.input ?? [])[k] ?? 'missing'}) is not a constant in the file.`, 'export the model with its weights as initializers (torch.onnx.export with export_params=True).');
      return v as Const;
    };
    const layerOf = (v: Act): Layer | undefined => (v.src >= 0 ? layers[v.src] : undefined);
    const canFuse = (v: Act, name: string): boolean => v.raw && !v.pool && !v.flat && (consumers.get(name) ?? 0) === 1;

    switch (op) {
      case 'Identity': case 'Dropout': {
        const v = ins[0];
        if (!v) refuse('graph', node, '', 'its input is not produced by an earlier node.', 'check that the file is a complete ONNX graph.');
        set(v!);
        break;
      }
      case 'Constant': {
        const a = attrs.get('value');
        if (a?.t) set({ kind: 'const', ...tensorOf(a.t, file) });
        else if (attrs.get('value_ints')) set({ kind: 'const', dims: [attrs.get('value_ints')!.ints!.length], data: attrs.get('value_ints')!.ints!.map(Number) });
        else if (attrs.get('value_int')) set({ kind: 'const', dims: [], data: [Number(attrs.get('value_int')!.i ?? 0)] });
        else if (attrs.get('value_float')) set({ kind: 'const', dims: [], data: [attrs.get('value_float')!.f ?? 0] });
        else if (attrs.get('value_floats')) set({ kind: 'const', dims: [attrs.get('value_floats')!.floats!.length], data: attrs.get('value_floats')!.floats! });
        else refuse('unsupported-op', node, '', 'a Constant of a kind the import does not read (sparse or string).', 'export with dense numeric constants.');
        break;
      }
      case 'Shape': {
        const v = act(0);
        set({ kind: 'const', dims: [v.flat ? 2 : v.shape.dims.length + 2], data: v.flat ? [null, v.shape.channels] : [null, v.shape.channels, ...v.shape.dims] });
        break;
      }
      case 'Gather': case 'Unsqueeze': case 'Squeeze': case 'Concat': case 'Cast': case 'Slice':
        set(shapeArithmetic(op, ins, attrs, node, refuse));
        break;
      case 'Conv': {
        let v = act(0);
        const w = cst(1, 'weight');
        const rank = w.dims.length;
        if (rank === 5) refuse('conv3d', node, '', 'a 3-D convolution (Conv3d); the device runs 1-D and 2-D convolutions only.', 'use Conv1d or Conv2d (e.g. fold the depth axis into channels).');
        if (rank !== 3 && rank !== 4) refuse('conv-rank', node, '', `a convolution with a ${rank}-D weight.`, 'use Conv1d or Conv2d.');
        if (v.flat) refuse('conv-after-flatten', node, '', 'a convolution after a flatten.', 'convolve before flattening.');
        if ((rank === 3) !== (v.shape.dims.length === 1))
          refuse('conv-dims', node, '', `a ${rank - 2}-D convolution on ${v.shape.dims.length}-D data.`, 'match the convolution to the data (Conv1d on C×L, Conv2d on C×H×W).');
        const group = Number(attrs.get('group')?.i ?? 1);
        const k = w.dims.slice(2);
        const name = nameFor((n.input ?? [])[1] ?? node);
        if (group !== 1)
          refuse('grouped-conv', node, name, `a grouped convolution (group ${group}); the workbench maps only group 1.`, 'use an ordinary convolution (groups=1).');
        const strides = attrs.get('strides')?.ints?.map(Number) ?? k.map(() => 1);
        if (strides.some((s) => s !== 1))
          refuse('conv-stride', node, name, `convolution stride ${strides.join('x')}; the device convolves with stride 1 only.`, 'use stride 1 and downsample with a pooling layer (MaxPool/AvgPool) before the next convolution.');
        const autoPad = textAttr(attrs.get('auto_pad')) || 'NOTSET';
        let pads = attrs.get('pads')?.ints?.map(Number) ?? k.map(() => 0).concat(k.map(() => 0));
        if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
          if (k.some((x) => x % 2 === 0)) refuse('conv-pad', node, name, `'same' padding with an even kernel ${k.join('x')} pads unequally.`, 'use an odd kernel size.');
          pads = [...k.map((x) => (x - 1) / 2), ...k.map((x) => (x - 1) / 2)];
        } else if (autoPad !== 'NOTSET' && autoPad !== 'VALID') refuse('conv-pad', node, name, `auto_pad ${autoPad}.`, 'use explicit symmetric padding.');
        if (v.pad) pads = pads.map((p) => p + v.pad!.amount);
        if (!pads.every((p) => p === pads[0]))
          refuse('conv-pad', node, name, `unequal padding ${pads.join(',')}; the device pads every side of a layer equally.`, 'use the same padding on every side (padding=k//2 for odd kernels).');
        const dil = attrs.get('dilations')?.ints?.map(Number) ?? k.map(() => 1);
        if (!dil.every((d) => d === dil[0])) refuse('conv-dilation', node, name, `unequal dilations ${dil.join('x')}.`, 'use the same dilation on both axes.');
        const [outCh, inCh] = w.dims as [number, number];
        if (inCh !== v.shape.channels)
          refuse('shape', node, name, `the weight expects ${inCh} input channels but the data has ${v.shape.channels}.`, 'check the exported model.');
        const layer = baseLayer(name, rank === 3 ? 'conv1d' : 'conv2d', inCh, outCh);
        layer.kernel = rank === 3 ? [k[0]!, 1] : [k[0]!, k[1]!];
        layer.pad = pads[0] ?? 0;
        if (dil[0] !== 1) layer.dilation = dil[0]!;
        const bias = ins[2] ? cst(2, 'bias') : null;
        layer.hasBias = bias !== null;
        layer.init = { weight: floats(w.data), bias: bias ? floats(bias.data) : null };
        const dims = v.shape.dims.map((d, i) => d + 2 * layer.pad - dil[0]! * (k[i]! - 1));
        if (dims.some((d) => d < 1)) refuse('shape', node, name, `the kernel ${k.join('x')} does not fit the ${v.shape.dims.join('x')} data.`, 'use a smaller kernel or more padding.');
        v = { ...v };
        delete v.pad;
        set(push(layer, v, node, { channels: outCh, dims }));
        break;
      }
      case 'BatchNormalization': {
        const v = act(0);
        const l = layerOf(v);
        const inName = (n.input ?? [])[0] ?? '';
        if (!l || !opSpec(l.op).batchNorm || !canFuse(v, inName) || l.batchNorm)
          refuse('batchnorm-placement', node, l?.name ?? '', 'BatchNorm that does not directly follow a convolution; ai8x has BatchNorm only right after Conv1d/Conv2d.',
            'put BatchNorm right after a convolution, or fold it into the preceding layer before export.');
        if (Number(attrs.get('training_mode')?.i ?? 0) !== 0 || (n.output ?? []).length > 1)
          refuse('batchnorm-training', node, l!.name, 'BatchNorm exported in training mode.', 'call model.eval() before torch.onnx.export.');
        const eps = attrs.get('epsilon')?.f ?? 1e-5;
        const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => floats(cst(k, ['', 'scale', 'bias', 'mean', 'variance'][k]!).data));
        // ai8x divides the BN output by 4 (and folds with γ/4, β/4): scale γ, β by 4 to keep the function;
        // its eps is 1e-5, so move the difference into the running variance.
        l!.batchNorm = true;
        if (!l!.hasBias) {
          l!.hasBias = true;
          l!.init!.bias = new Float32Array(l!.outChannels);
        }
        l!.init!.bn = {
          gamma: gamma!.map((x) => x * 4), beta: beta!.map((x) => x * 4), runningMean: mean!,
          runningVar: variance!.map((x) => Math.max(0, x + eps - AI8X_BN_EPS)),
        };
        set({ ...v, raw: true });
        break;
      }
      case 'Relu': case 'Abs': {
        const v = act(0);
        const activation: Activation = op === 'Relu' ? 'relu' : 'abs';
        const l = layerOf(v);
        const inName = (n.input ?? [])[0] ?? '';
        if (l && canFuse(v, inName) && l.activation === 'none') {
          l.activation = activation;
          set({ ...v, raw: false });
        } else if (l && v.pool?.pool.kind === 'max' && !v.flat && activation === 'relu' && l.activation === 'none' && (consumers.get(inName) ?? 0) === 1) {
          // max(relu(x)) = relu(max(x)): the activation moves into the layer before the pool.
          l.activation = 'relu';
          set({ ...v, raw: false });
        } else if (l && l.activation === activation && !v.raw) {
          set(v); // applied twice: idempotent
        } else {
          refuse('activation-placement', node, l?.name ?? '', `${op} here cannot be part of a device layer (the device applies an activation only at the end of a convolution or linear layer${v.pool?.pool.kind === 'avg' ? ', and ReLU after an average pool differs from ReLU before it' : ''}).`,
            'apply the activation directly after a Conv/Linear (before pooling).');
        }
        break;
      }
      case 'MaxPool': case 'AveragePool': case 'GlobalMaxPool': case 'GlobalAveragePool': {
        let v = act(0);
        if (v.flat) refuse('pool-after-flatten', node, '', 'pooling after a flatten.', 'pool before flattening.');
        if (v.pad) refuse('pool-padding', node, '', `zero padding (${v.pad.node}) in front of a pool; the device pools without padding.`, 'remove the padding, or pool a size that divides the data.');
        const global = op.startsWith('Global');
        const k = global ? [...v.shape.dims] : attrs.get('kernel_shape')?.ints?.map(Number) ?? [];
        const s = global ? k : attrs.get('strides')?.ints?.map(Number) ?? k.map(() => 1);
        const pads = attrs.get('pads')?.ints?.map(Number) ?? [];
        const autoPad = textAttr(attrs.get('auto_pad')) || 'NOTSET';
        if (pads.some((p) => p !== 0) || (autoPad !== 'NOTSET' && autoPad !== 'VALID'))
          refuse('pool-padding', node, '', `a pool with padding ${pads.join(',') || autoPad}; the device pools without padding.`, 'use padding=0 in the pooling layer.');
        if ((attrs.get('dilations')?.ints ?? []).some((d) => Number(d) !== 1))
          refuse('pool-dilation', node, '', 'a dilated pool.', 'use dilation 1 for pooling.');
        if (k.length !== v.shape.dims.length) refuse('pool-dims', node, '', `a ${k.length}-D pool on ${v.shape.dims.length}-D data.`, 'match the pool to the data.');
        const floorDims = v.shape.dims.map((d, i) => Math.floor((d - k[i]!) / s[i]!) + 1);
        const ceilDims = v.shape.dims.map((d, i) => Math.ceil((d - k[i]!) / s[i]!) + 1);
        if (Number(attrs.get('ceil_mode')?.i ?? 0) === 1 && ceilDims.join() !== floorDims.join())
          refuse('pool-ceil', node, '', `ceil_mode pooling gives ${ceilDims.join('x')} where the device gives ${floorDims.join('x')}.`, 'use ceil_mode=False, or a size the pool divides.');
        if (floorDims.some((d) => d < 1)) refuse('shape', node, '', `the pool ${k.join('x')} is larger than the ${v.shape.dims.join('x')} data.`, 'use a smaller pool.');
        if (v.pool) v = settlePool(v); // two pools in a row: the first becomes a pooling-only layer
        const pool: Pool = { kind: op.includes('Max') ? 'max' : 'avg', size: oneD ? [k[0]!, 1] : [k[0]!, k[1]!], stride: oneD ? [s[0]!, 1] : [s[0]!, s[1]!] };
        set({ ...v, pool: { pool, node, before: v.shape }, shape: { channels: v.shape.channels, dims: floorDims } });
        break;
      }
      case 'Pad': {
        const v = act(0);
        const mode = textAttr(attrs.get('mode')) || 'constant';
        const pads = ins[1] ? cst(1, 'pads').data.map((x) => Number(x)) : (attrs.get('pads')?.ints ?? []).map(Number);
        const value = ins[2] ? Number(cst(2, 'constant value').data[0] ?? 0) : 0;
        if (pads.every((p) => p === 0)) { set(v); break; }
        if (mode !== 'constant' || value !== 0)
          refuse('pad', node, '', `${mode} padding with value ${value}; the device pads with zeros only.`, 'use zero (constant) padding.');
        const half = pads.length / 2;
        const batchChan = [pads[0], pads[1], pads[half], pads[half + 1]];
        const spatial = [...pads.slice(2, half), ...pads.slice(half + 2)];
        if (batchChan.some((p) => p !== 0) || !spatial.every((p) => p === spatial[0]))
          refuse('pad', node, '', `padding ${pads.join(',')} is not the same on every side of the data.`, 'pad every spatial side equally (or use the convolution\'s own padding).');
        set({ ...v, pad: { amount: spatial[0]!, node } });
        break;
      }
      case 'Transpose': {
        const v = act(0);
        const perm = (attrs.get('perm')?.ints ?? []).map(Number).join(',');
        const rank = v.shape.dims.length + 2;
        const toFirst = rank === 4 ? '0,3,1,2' : '0,2,1';
        const toLast = rank === 4 ? '0,2,3,1' : '0,2,1';
        if (v.src === -1 && layers.length === 0 && perm === toFirst && !v.pool && !v.flat && (consumers.get((n.input ?? [])[0] ?? '') ?? 0) === 1) {
          // Keras (tf2onnx) takes channel-last input and transposes it first: the device's input is channel-first.
          const fileDims = [input.channels, ...input.dims];
          input.channels = fileDims[fileDims.length - 1]!;
          input.dims = fileDims.slice(0, -1);
          warn(`${node}: the model takes channel-last input (Keras); the workbench feeds channel-first samples ${[input.channels, ...input.dims].join('×')}.`);
          set({ ...v, shape: { channels: input.channels, dims: [...input.dims] } });
        } else if (perm === toLast && !v.flat && !v.channelLast) {
          set({ ...v, channelLast: true, raw: false });
        } else {
          refuse('transpose', node, '', `Transpose (perm ${perm || 'reversed'}) inside the network; the device keeps data channel-first.`,
            'transpose only the input (channel-last → channel-first) or right before the flatten of the classifier.');
        }
        break;
      }
      case 'Flatten': case 'Reshape': {
        const v = act(0);
        const positions = v.shape.dims.reduce((a, b) => a * b, 1);
        const features = v.flat ? v.shape.channels : v.shape.channels * positions;
        if (op === 'Flatten') {
          const axis = Number(attrs.get('axis')?.i ?? 1);
          if (axis !== 1) refuse('reshape', node, '', `Flatten with axis ${axis}.`, 'flatten from axis 1 (keep the batch axis).');
        } else {
          const target = cst(1, 'shape').data;
          const cur = v.flat ? [v.shape.channels] : [v.shape.channels, ...v.shape.dims];
          const rest = Array.from(target).slice(1);
          const batchOk = target[0] === null || target[0] === 0 || target[0] === -1 || target[0] === 1;
          const same = rest.length === cur.length && rest.every((d, i) => d === cur[i] || (d === 0 && i === 0));
          if (batchOk && same) { set(v); break; }
          const isFlat = rest.length === 1 && (rest[0] === -1 || rest[0] === features);
          if (!batchOk || !isFlat)
            refuse('reshape', node, '', `Reshape to (${Array.from(target).map((d) => (d === null ? 'N' : d)).join(', ')}) is not a flatten; the device reshapes only by flattening before a Linear layer.`,
              'reshape only as x.view(x.size(0), -1) / Flatten right before the first Linear layer.');
        }
        const flatV: Act = { ...v, shape: { channels: features, dims: [] }, flat: { from: v.flat?.from ?? v.shape, ...(v.channelLast ? { hwc: true } : {}) }, raw: false };
        delete flatV.channelLast;
        set(flatV);
        break;
      }
      case 'Gemm': case 'MatMul': {
        let v = act(0);
        const w = cst(1, 'weight');
        if (w.dims.length !== 2) refuse('matmul', node, '', `a MatMul with a ${w.dims.length}-D weight.`, 'use a 2-D weight (a Linear layer).');
        const transA = Number(attrs.get('transA')?.i ?? 0), transB = op === 'Gemm' ? Number(attrs.get('transB')?.i ?? 0) : 0;
        if (transA) refuse('matmul', node, '', 'Gemm with transA=1.', 'export a plain Linear layer.');
        const alpha = op === 'Gemm' ? attrs.get('alpha')?.f ?? 1 : 1, beta = op === 'Gemm' ? attrs.get('beta')?.f ?? 1 : 1;
        const [rows, cols] = w.dims as [number, number];
        const [inF, outF] = transB ? [cols, rows] : [rows, cols];
        const name = nameFor((n.input ?? [])[1] ?? node);
        // A pool cannot share a layer with flatten: it becomes a pooling-only layer first.
        if (v.pool) {
          const flat = v.flat;
          const unflat: Act = { ...v, shape: flat?.from ?? v.shape };
          delete unflat.flat;
          const settled = settlePool(unflat);
          v = flat ? { ...settled, flat: { from: settled.shape, ...(flat.hwc ? { hwc: true } : {}) }, shape: { channels: features(settled.shape), dims: [] }, raw: false } : settled;
        }
        const from = v.flat?.from ?? v.shape;
        const positions = from.dims.reduce((a, b) => a * b, 1);
        if (!v.flat && positions !== 1)
          refuse('linear-needs-flatten', node, name, `a Linear layer on ${[from.channels, ...from.dims].join('x')} data without a flatten.`, 'flatten (x.view(N, -1)) before the Linear layer.');
        if (inF !== from.channels * positions)
          refuse('shape', node, name, `the weight expects ${inF} input features but the data has ${from.channels * positions}.`, 'check the exported model.');
        const weight = new Float32Array(inF * outF);
        // The IR flattens channel-major (c·HW + s); a Keras (channel-last) flatten orders features s·C + c.
        const hw = positions, cIn = from.channels;
        const onnxFeature = (f: number) => (v.flat?.hwc ? (f % hw) * cIn + Math.floor(f / hw) : f);
        for (let o = 0; o < outF; o++) for (let f = 0; f < inF; f++) { const g = onnxFeature(f); weight[o * inF + f] = Number(w.data[transB ? o * inF + g : g * outF + o]) * alpha; }
        const layer = baseLayer(name, 'linear', from.channels, outF);
        layer.flatten = positions > 1;
        const c = op === 'Gemm' && ins[2] ? cst(2, 'bias') : null;
        if (c && c.data.length !== outF && c.data.length !== 1) refuse('matmul', node, name, `a bias of ${c.data.length} values for ${outF} outputs.`, 'use one bias per output.');
        layer.hasBias = c !== null;
        layer.init = { weight, bias: c ? Float32Array.from({ length: outF }, (_, o) => Number(c.data[c.data.length === 1 ? 0 : o]) * beta) : null };
        const src: Act = { ...v };
        delete src.pool;
        set(push(layer, src, node, { channels: outF, dims: [1, 1] }));
        break;
      }
      case 'Add': case 'Sum': {
        const [a, b] = [ins[0], ins[1]];
        if (!a || !b) refuse('graph', node, '', 'an Add whose inputs are not produced by earlier nodes.', 'check the exported model.');
        if (a!.kind === 'act' && b!.kind === 'act') {
          let x = settlePool(a as Act), y = settlePool(b as Act);
          if (x.flat || y.flat) refuse('eltwise', node, '', 'an element-wise Add of flattened data.', 'add before flattening.');
          if (x.shape.channels !== y.shape.channels || x.shape.dims.join() !== y.shape.dims.join())
            refuse('eltwise', node, '', `an Add of ${fmt(x.shape)} and ${fmt(y.shape)} data; element-wise operands must have equal shapes.`, 'add tensors of the same shape.');
          if (x.src === y.src) refuse('eltwise', node, '', 'an Add of a tensor with itself.', 'use a scaled layer instead.');
          x = { ...x }; y = { ...y };
          const layer = baseLayer(nameFor(`add_${layers.length}`), 'add', x.shape.channels, x.shape.channels);
          layer.operands = 2;
          const res = push(layer, x, node, x.shape);
          layer.inputs = [x.src, y.src];
          set({ ...res, raw: false });
          break;
        }
        const [v, c] = a!.kind === 'act' ? [a as Act, b as Const] : [b as Act, a as Const];
        const l = layerOf(v);
        const inName = (n.input ?? [])[a!.kind === 'act' ? 0 : 1] ?? '';
        const per = l ? l.outChannels : 0;
        const okShape = c.data.length === per && (c.dims.length <= 1 || c.dims.filter((d) => d !== 1).length <= 1);
        if (!l || opSpec(l.op).elementwise || !canFuse(v, inName) || l.batchNorm || !okShape || (l.hasBias && l.init?.bias === null))
          refuse('unsupported-op', node, l?.name ?? '', 'an Add of a constant that is not a bias of the layer before it.', 'remove the constant (e.g. input normalization) from the model; the workbench scales inputs itself.');
        const bias = floats(c.data);
        l!.init!.bias = l!.init!.bias ? l!.init!.bias.map((x, i) => x + bias[i]!) : bias;
        l!.hasBias = true;
        set({ ...v });
        break;
      }
      case 'Softmax': case 'LogSoftmax': {
        const v = act(0);
        if (!(g.output ?? []).some((o) => o.name === out))
          refuse('unsupported-op', node, '', `${op} inside the network; the device has no ${op}.`, 'remove it (use it only on the host after the network).');
        warn(`${node}: ${op} at the output is left out; the device outputs the logits (apply ${op} on the host).`);
        set(v);
        break;
      }
      default:
        refuse('unsupported-op', node, '', `the op ${op} cannot run on the MAX7800x accelerator.`,
          `replace it with ops the device has: Conv1d/Conv2d (+BatchNorm, ReLU/Abs), Max/AvgPool, Flatten, Linear, Add.`);
    }
  }

  const outs = g.output ?? [];
  if (outs.length !== 1) refuse('outputs', '', '', `the graph has ${outs.length} outputs; the import reads networks with one output.`, 'export the model with a single output.');
  let result = values.get(outs[0]!.name ?? '');
  if (!result || result.kind !== 'act' || result.src < 0)
    refuse('outputs', '', '', 'the graph output is not produced by any layer.', 'export a model whose output is computed from its input.');
  result = settlePool(result as Act);
  if (result.src !== layers.length - 1)
    refuse('outputs', sources[result.src] ?? '', layers[result.src]?.name ?? '', 'the output is not the last layer; later layers would not affect it.', 'remove the layers that do not lead to the output.');
  const last = layers[layers.length - 1]!;
  if (opSpec(last.op).hasWeights && last.activation === 'none') last.outputWidth = 32;
  const used = new Set(layers.flatMap((l, i) => l.inputs ?? [i - 1]));
  layers.forEach((l, i) => { if (i < layers.length - 1 && !used.has(i)) warn(`layer ${l.name} (${sources[i]}) does not lead to the output.`, i); });

  const model: Model = {
    arch: opts.arch ?? archName(opts.file ?? g.name ?? 'imported'),
    dataset: opts.dataset ?? 'custom',
    device: opts.device ?? 'MAX78002',
    input: { channels: input.channels, dims: input.dims, format: input.dims.length === 2 ? 'CHW' : 'HWC' },
    layers,
  };
  const errors = validateModel(model).filter((d) => d.severity === 'error');
  if (errors.length) {
    const d = errors[0]!;
    const b = d.layer >= 0 ? blame[d.layer] : undefined;
    const nodeName = b ? (d.rule.startsWith('pool') && b.pool ? b.pool : b.op) : '';
    refuse(`rule:${d.rule}`, nodeName, d.layerName ?? '', `${d.message.replace(/^Layer \d+ \([^)]*\): /, '')}${errors.length > 1 ? ` (${errors.length - 1} more problem${errors.length > 2 ? 's' : ''} after this one)` : ''}`, d.fix ?? 'change the model.');
  }
  return { model, warnings, sources };
}

const fmt = (s: DataShape): string => [s.channels, ...s.dims].join('x');
const features = (s: DataShape): number => s.channels * s.dims.reduce((a, b) => a * b, 1);

function archName(file: string): string {
  const base = file.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
  return base.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase() || 'imported';
}

function textAttr(a: Attr | undefined): string {
  return a?.s ? new TextDecoder().decode(a.s) : '';
}

function floats(data: Float32Array | (number | null)[]): Float32Array {
  return data instanceof Float32Array ? data.slice() : Float32Array.from(data, (x) => Number(x));
}

interface DecodedModel { opset_import?: { domain?: string; version?: number }[]; graph?: GraphObj }

function decode(bytes: Uint8Array, file: string): DecodedModel {
  const notOnnx = (why: string): never => {
    throw new ImportError('not-onnx', '', '', `the file is not a readable ONNX model (${why}).`, 'export the model again (torch.onnx.export / tf2onnx); the file may be truncated.', file);
  };
  let doc: DecodedModel;
  try {
    const type = onnxModelType();
    doc = type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as DecodedModel;
  } catch (error) {
    return notOnnx((error as Error).message);
  }
  if (!doc.graph || !(doc.graph.node ?? []).length) notOnnx('no graph or no nodes');
  return doc;
}

/** An aligned copy (protobufjs hands out Buffer views into a shared pool). */
function own(u: Uint8Array): ArrayBuffer {
  const c = new Uint8Array(u.length);
  c.set(u);
  return c.buffer;
}

function tensorOf(t: TensorObj, file: string): { dims: number[]; data: Float32Array | number[] } {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const type = t.data_type ?? 0;
  const bad = (why: string): never => {
    throw new ImportError('tensor', t.name ?? '', '', `tensor ${t.name ?? '?'}: ${why}.`, 'export the weights inside the file as float32.', file);
  };
  if (t.data_location === 1) bad('its data is in an external file');
  const raw = t.raw_data && t.raw_data.length ? t.raw_data : undefined;
  let data: Float32Array | number[];
  if (type === FLOAT) {
    if (raw) {
      if (raw.length !== count * 4) bad(`${raw.length} bytes of raw data for ${count} float32 values`);
      data = new Float32Array(own(raw));
    } else data = Float32Array.from(t.float_data ?? []);
  } else if (type === DOUBLE) {
    data = raw ? Float32Array.from(new Float64Array(own(raw))) : Float32Array.from(t.double_data ?? []);
  } else if (type === INT64) {
    data = raw ? Array.from(new BigInt64Array(own(raw)), Number) : (t.int64_data ?? []).map(Number);
  } else if (type === INT32) {
    data = raw ? Array.from(new Int32Array(own(raw))) : (t.int32_data ?? []).map(Number);
  } else return bad(`data type ${type} is not float32, float64, int32 or int64`);
  if (data.length !== count) bad(`${data.length} values for shape (${dims.join(', ')})`);
  return { dims, data };
}

function inputShape(
  v: ValueInfo, given: number[] | undefined,
  refuse: (code: string, node: string, layer: string, problem: string, fix: string) => never,
): DataShape {
  const dims = v.type?.tensor_type?.shape?.dim ?? [];
  const elem = v.type?.tensor_type?.elem_type;
  if (elem !== undefined && elem !== FLOAT) refuse('input', v.name ?? '', '', `the input is of element type ${elem}, not float32.`, 'export with a float32 input.');
  const fileShape = dims.slice(1).map((d) => (d.dim_value ? Number(d.dim_value) : null));
  if (given) {
    if (given.length < 2 || given.length > 3 || given.some((d) => !Number.isInteger(d) || d < 1))
      refuse('input-shape', v.name ?? '', '', `--input-shape ${given.join(',')} is not C,L or C,H,W.`, 'give --input-shape C,L (1-D) or C,H,W (2-D).');
    if (dims.length && (fileShape.length !== given.length || fileShape.some((d, i) => d !== null && d !== given[i])))
      refuse('input-shape', v.name ?? '', '', `--input-shape ${given.join(',')} does not match the file's input (${fileShape.map((d) => d ?? '?').join(', ')}).`, 'give the shape the model was exported with.');
    return { channels: given[0]!, dims: given.slice(1) };
  }
  if (dims.length === 5) refuse('conv3d', v.name ?? '', '', 'a 5-D input (3-D data); the device runs 1-D (C×L) and 2-D (C×H×W) data.', 'use 1-D or 2-D data.');
  if (dims.length !== 2 && dims.length !== 3 && dims.length !== 4)
    refuse('input-shape', v.name ?? '', '', `the input has ${dims.length || 'no'} dimensions; expected (N, C, L), (N, C, H, W) or (N, features).`, 'export with a batch, channel and 1 or 2 spatial axes, or give --input-shape C,L or C,H,W.');
  if (fileShape.some((d) => d === null))
    refuse('dynamic-shape', v.name ?? '', '', `the input shape (N, ${fileShape.map((d) => d ?? '?').join(', ')}) is dynamic; the device needs fixed sizes.`, 'give --input-shape C,L or C,H,W, or export without dynamic axes other than the batch.');
  // (N, features): an MLP; the device sees the features as channels of 1×1 data.
  if (dims.length === 2) return { channels: fileShape[0]!, dims: [1, 1] };
  return { channels: fileShape[0]!, dims: fileShape.slice(1) as number[] };
}

/** Constant folding of the shape arithmetic PyTorch emits around Reshape (x.view(x.size(0), -1)). */
function shapeArithmetic(
  op: string, ins: (Value | undefined)[], attrs: Map<string | undefined, Attr>, node: string,
  refuse: (code: string, node: string, layer: string, problem: string, fix: string) => never,
): Const {
  const c = ins.map((v) => (v?.kind === 'const' ? v : undefined));
  const fail = (): never => refuse('unsupported-op', node, '', `${op} on data (not on a shape); the device cannot run it.`, 'remove it from the model.');
  const a = c[0] ?? fail();
  const arr = Array.from(a.data as ArrayLike<number | null>);
  const axesOf = (k: number) => (c[k] ? Array.from(c[k]!.data as ArrayLike<number>) : (attrs.get('axes')?.ints ?? []).map(Number));
  switch (op) {
    case 'Gather': {
      const idx = Array.from((c[1] ?? fail()).data as ArrayLike<number>).map((i) => (i < 0 ? i + arr.length : i));
      if (Number(attrs.get('axis')?.i ?? 0) !== 0 || a.dims.length > 1) fail();
      return { kind: 'const', dims: c[1]!.dims, data: idx.map((i) => arr[i] ?? null) };
    }
    case 'Unsqueeze': { const axes = axesOf(1); return { kind: 'const', dims: a.dims.length === 0 && axes.length === 1 ? [1] : [...a.dims, 1], data: arr }; }
    case 'Squeeze': { void axesOf(1); return { kind: 'const', dims: a.dims.filter((d) => d !== 1), data: arr }; }
    case 'Cast': return { kind: 'const', dims: a.dims, data: arr };
    case 'Concat': {
      const parts = c.map((v) => v ?? fail());
      const data = parts.flatMap((v) => Array.from(v.data as ArrayLike<number | null>));
      return { kind: 'const', dims: [data.length], data };
    }
    case 'Slice': {
      const starts = Array.from((c[1] ?? fail()).data as ArrayLike<number>), ends = Array.from((c[2] ?? fail()).data as ArrayLike<number>);
      if (a.dims.length !== 1) fail();
      const n = arr.length, s = starts[0]! < 0 ? starts[0]! + n : starts[0]!, e = Math.min(n, ends[0]! < 0 ? ends[0]! + n : ends[0]!);
      const data = arr.slice(s, e);
      return { kind: 'const', dims: [data.length], data };
    }
    default: return fail();
  }
}
