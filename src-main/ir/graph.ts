// The model IR: one description of a network as the MAX7800x CNN accelerator runs it, read by
// training, the simulator, the planner, the exporters and the graph view. Pure data (JSON-safe
// except the integer weight arrays), no behaviour; validation and shape inference live in
// ir/validate.ts and ir/ops/<op>.ts.

export type Device = 'MAX78000' | 'MAX78002';
export const DEVICES: readonly Device[] = ['MAX78000', 'MAX78002'];

/** Input layout of the first layer: HWC packs 4 channels per 32-bit word, CHW 4 samples. */
export type DataFormat = 'HWC' | 'CHW';

/** What the accelerator computes in a layer (max78002.md §3.1 `operation`). */
export type OpKind =
  | 'conv1d'
  | 'conv2d'
  | 'convtranspose2d'
  | 'linear'
  /** `op: none`: data is copied (optionally pooled), no weights. */
  | 'passthrough'
  /** Stand-alone element-wise layer over `operands` inputs, no weights. */
  | 'add'
  | 'sub'
  | 'or'
  | 'xor';

export const OP_KINDS: readonly OpKind[] = [
  'conv1d', 'conv2d', 'convtranspose2d', 'linear', 'passthrough', 'add', 'sub', 'or', 'xor',
];

export type Activation = 'relu' | 'abs' | 'none';
export type PoolKind = 'max' | 'avg';
export type EltwiseOp = 'add' | 'sub' | 'or' | 'xor';
export type WeightBits = 1 | 2 | 4 | 8;
export const WEIGHT_BITS: readonly WeightBits[] = [1, 2, 4, 8];

/**
 * One width of a progressive bit schedule (QAT policy): from this QAT epoch on (0 = the QAT start)
 * the layers that follow the schedule train at `bits`. The last step's width is the final one, so it
 * is the `weightBits` of every layer that follows the schedule (ir/bits-policy.ts).
 */
export interface BitsStep {
  fromQatEpoch: number;
  bits: WeightBits;
  /** Learning rate while this width trains (model-level steps only); absent: the QAT phase's. */
  learningRate?: number;
}

/** Pooling done in flight before the layer's op. 1-D data uses [size, 1] / [stride, 1]. */
export interface Pool {
  kind: PoolKind;
  /** Pool window [H, W] (1-D: [L, 1]). */
  size: [number, number];
  /** Pool stride [H, W] (1-D: [L, 1]). */
  stride: [number, number];
}

/** Integer parameters of a layer as the accelerator stores them. */
export interface LayerParams {
  /**
   * Integer weights in the b-bit range [-2^(b-1), 2^(b-1)-1], PyTorch layout:
   * conv2d [out][in][kh][kw], conv1d [out][in][k], convtranspose2d [in][out][kh][kw],
   * linear [out][in] (in = flattened C*H*W, channel-major).
   */
  weights: Int8Array;
  /**
   * Bias register values β (izer: floor(bias_ckpt / 2^(b-1))), one per output channel, or null
   * when the layer has no bias. The accumulator adds β·128.
   */
  bias: Int32Array | null;
}

/** Placement of a layer on the accelerator (max78002.md §3.2, §3.3); filled by the planner or YAML. */
export interface Placement {
  /** 64-bit mask of processors that read this layer's input, as hex `0x...` (16 digits). */
  processors: string;
  /** Optional explicit output processors mask, hex. */
  outputProcessors?: string;
  /** Byte offset of the input inside each data-memory instance. */
  inOffset: number;
  /** Byte offset of the output inside each data-memory instance. */
  outOffset: number;
}

export interface Layer {
  /** Module name in the checkpoint (`conv1`, `block.conv`), unique in the model. */
  name: string;
  op: OpKind;
  /** Input channels of the op (before flatten for linear+flatten: C of C×H×W). */
  inChannels: number;
  /** Output channels (linear: output features). */
  outChannels: number;
  /** Kernel [kh, kw]; conv1d [k, 1]; linear [1, 1]; passthrough/eltwise [1, 1]. */
  kernel: [number, number];
  /** Zero padding on each side (0..2). */
  pad: number;
  /** Convolution stride (1; convtranspose2d 2). */
  stride: number;
  /** Conv2d dilation on MAX78002 (default 1). */
  dilation?: number;
  /**
   * Reshape of the incoming data before pooling and the op (YAML `in_dim`): [H, W] or [L], with the
   * same number of positions (the memory layout is unchanged), e.g. to switch between 1-D and 2-D.
   */
  inDim?: number[];
  /** Pooling before the op, or absent. */
  pool?: Pool;
  /** Flatten C×H×W to C·H·W features before a linear op (channel-major). */
  flatten: boolean;
  activation: Activation;
  /** Weight (and bias) bit width: the final one when a bit schedule narrows it during QAT. */
  weightBits: WeightBits;
  /** This layer's own bit schedule (wins over the model's); its last width equals `weightBits`. */
  bitsSchedule?: Omit<BitsStep, 'learningRate'>[];
  /** Trained output shift (checkpoint `output_shift`); the hardware adds 8 - weightBits. */
  outputShift: number;
  /** Extra shift from the network YAML `output_shift`, added to outputShift. */
  extraShift?: number;
  /** 8-bit (shifted, clamped) or 32-bit raw accumulator output (last layer only). */
  outputWidth: 8 | 32;
  /** Does the op have a bias vector. */
  hasBias: boolean;
  /** Element-wise op fused in flight before a conv (YAML `eltwise`), with `operands` inputs. */
  eltwise?: EltwiseOp;
  /** Number of element-wise operands (2..16) for eltwise/stand-alone element-wise layers. */
  operands?: number;
  /**
   * Element-wise layers with pooling: pool each operand, then combine (true, the izer default), or
   * combine first and pool the result (false; YAML `pool_first: false`).
   */
  poolFirst?: boolean;
  /**
   * Layers whose outputs feed this one (YAML `in_sequences`), by index; -1 = network input.
   * Absent: the previous layer (or the network input for layer 0).
   */
  inputs?: number[];
  /** Also an output of the network (YAML `output: true`). */
  isOutput?: boolean;
  /** Placement on the accelerator; absent until planned. */
  placement?: Placement;
  /** Integer parameters; absent until trained/quantized or imported. */
  params?: LayerParams;
  /**
   * BatchNorm after the op during the float phase (ai8x Fused*BN*, conv layers with a bias only);
   * folded into the weights and bias when QAT starts.
   */
  batchNorm?: boolean;
  /** Float starting weights (an import, or a builder model saved after training); absent: random init. */
  init?: FloatInit;
}

/** Float starting point of a layer, PyTorch layout as LayerParams, ai8x float scale. */
export interface FloatInit {
  weight: Float32Array;
  bias: Float32Array | null;
  /** Float-phase BatchNorm state (ai8x BN: output divided by 4), when the layer has `batchNorm`. */
  bn?: FloatBatchNorm;
}

export interface FloatBatchNorm {
  gamma: Float32Array;
  beta: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

export interface ModelInput {
  /** Input channels. */
  channels: number;
  /** Spatial size: [H, W] for 2-D data, [L] for 1-D data. */
  dims: number[];
  /** Layout of the first layer's data in memory. */
  format: DataFormat;
  /**
   * How raw feature values become the int8 input, as the model was trained (docs/model-json.md):
   * absent on a model that was never trained on a data set (or saved before it was recorded).
   */
  scaling?: InputScaling;
}

/**
 * Feature scaling of a trained model: raw [min, max] maps to [0, 1], then ai8x.normalize gives the
 * int8 code round((u − 0.5)·256) clamped. `int8`: raw values are already codes (min −128, max 127);
 * `minmax` holds the training file's own range, `unit` is [0, 1], `range` a given one.
 */
export interface InputScaling {
  kind: 'unit' | 'minmax' | 'range' | 'int8';
  min: number;
  max: number;
}

export interface Model {
  /** Architecture name; must equal the checkpoint `arch` (case-insensitive) for the izer. */
  arch: string;
  /** Data set name (YAML `dataset`). */
  dataset: string;
  device: Device;
  input: ModelInput;
  layers: Layer[];
  /** Average pooling rounds instead of truncating (izer `--avg-pool-rounding`); default false. */
  avgPoolRounding?: boolean;
  /**
   * Progressive weight widths of the QAT phase, e.g. 8 → 4 → 2 (steps in QAT-epoch order, the first
   * at 0). Layers whose `weightBits` equal its last width follow it; the others keep their width.
   */
  bitsSchedule?: BitsStep[];
}

/** Shape of a layer's data: channels plus [H, W] or [L]. */
export interface DataShape {
  channels: number;
  dims: number[];
}

/** A model problem in plain words, with the layer and the fix. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable identifier of the rule, e.g. `processors-count`. */
  rule: string;
  /** Layer index, or -1 for the whole model. */
  layer: number;
  layerName?: string;
  message: string;
  fix?: string;
}
