// Contract of the model service: open an existing ai8x model (checkpoint + network YAML + sample),
// validate it, plan it on a MAX7800x, simulate it bit-exactly, and export its network YAML.
// Models live in the service's memory, addressed by `modelId`. Requests are path-based.
import { z } from 'zod';
import { call, job, service } from './contract.ts';
import type { StoredModel } from '../ir/schema.ts';
import { WEIGHT_BITS, type BitsStep } from '../ir/graph.ts';
import type { BitsSettings } from '../ir/bits-policy.ts';

/** The IR's WeightBits (ir/graph.ts), the one type of a layer's weight bits, as a schema. */
export const WeightBits = z.literal(WEIGHT_BITS);

/** The IR's BitsStep (ir/graph.ts): from this QAT epoch on (0 = the QAT start), these bits, this lr. */
export const BitsStepDto = z.strictObject({
  fromQatEpoch: z.number().int().min(0),
  bits: WeightBits,
  learningRate: z.number().positive().optional(),
}) satisfies z.ZodType<BitsStep>;
/** A layer's own step (Layer.bitsSchedule): no learning rate. */
export const LayerBitsStepDto = z.strictObject({ fromQatEpoch: z.number().int().min(0), bits: WeightBits });

/**
 * A built-in network of src-main/ir/zoo.ts by its key (`ai85net5`, `ai85netextrasmall`, `ecgnet`),
 * rebuilt for the data, with its bit policy (ir/bits-policy.ts BitsSettings: the IR's per-layer
 * `weightBits`/`bitsSchedule` and `bitsSchedule`). A project keeps it as its ModelRef; training takes it as is.
 */
export const ZooModelRef = z.strictObject({
  kind: z.literal('zoo'),
  arch: z.string().min(1),
  layers: z.record(z.string(), z.strictObject({ weightBits: WeightBits, bitsSchedule: z.array(LayerBitsStepDto).optional() })).optional(),
  bitsSchedule: z.array(BitsStepDto).optional(),
}) satisfies z.ZodType<BitsSettings & { kind: 'zoo'; arch: string }>;
export type ZooModelRef = z.infer<typeof ZooModelRef>;

export const DeviceName = z.enum(['MAX78000', 'MAX78002']);

export const DiagnosticDto = z.object({
  severity: z.enum(['error', 'warning']),
  /** Stable rule id, e.g. `processors-count`. */
  rule: z.string(),
  /** Layer index, −1 for the whole model. */
  layer: z.number().int(),
  layerName: z.string().optional(),
  /** Plain words, naming the layer. */
  message: z.string(),
  /** What to change. */
  fix: z.string().optional(),
});
export type DiagnosticDto = z.infer<typeof DiagnosticDto>;

const Shape = z.object({ channels: z.number().int(), dims: z.array(z.number().int()) });

/** The envelope of a stored model; ir/schema.ts's deserializeModel checks every layer field. */
const StoredModelEnvelope = z.looseObject({
  schema: z.literal('qatwb.model'),
  version: z.number().int(),
  arch: z.string(),
  dataset: z.string(),
  device: DeviceName,
  input: z.object({ channels: z.number().int(), dims: z.array(z.number().int()), format: z.enum(['HWC', 'CHW']) }),
  layers: z.array(z.looseObject({ name: z.string(), op: z.string() })),
});

/** The IR Model in its versioned JSON form (ir/schema.ts StoredModel); parameters as base64. */
export const StoredModelDto = z.custom<StoredModel>((v) => StoredModelEnvelope.safeParse(v).success, {
  message: 'a qatwb.model document (schema, version, arch, dataset, device, input, layers with name and op)',
});

const ModelRef = {
  /** Id returned by `importAi8x` or `load`. */
  modelId: z.string().min(1),
};

export const LayerPlanDto = z.object({
  index: z.number().int(),
  name: z.string(),
  op: z.string(),
  inChannels: z.number().int(),
  outChannels: z.number().int(),
  inputShape: Shape,
  outputShape: Shape.nullable(),
  passes: z.number().int(),
  processorsNeeded: z.number().int(),
  /** Hex processors mask, offsets in bytes inside each data-memory instance. */
  placement: z.object({ processors: z.string(), outputProcessors: z.string().optional(), inOffset: z.number().int(), outOffset: z.number().int() }),
  inBytesPerInstance: z.number().int(),
  outBytesPerInstance: z.number().int(),
  weightBytes: z.number().int(),
  biasBytes: z.number().int(),
  kernelWords: z.number().int(),
});

export const PlanDto = z.object({
  device: DeviceName,
  layers: z.array(LayerPlanDto),
  /** Bytes, as ai8xize.py reports them. */
  weightMemoryBytes: z.number().int(),
  weightMemoryCapacity: z.number().int(),
  biasMemoryBytes: z.number().int(),
  biasMemoryCapacity: z.number().int(),
  errors: z.array(DiagnosticDto),
  warnings: z.array(DiagnosticDto),
});
export type PlanDto = z.infer<typeof PlanDto>;

/** What a simulation's progress carries: inputs simulated so far, of how many. */
export const SimulateProgressData = z.object({ done: z.number().int(), total: z.number().int() });

/** A file sent with the request: its name (extension decides the format) and content as base64. */
const UploadDto = z.strictObject({ name: z.string().min(1).max(200), base64: z.string().max(64 * 1024 * 1024) });

export const modelApi = service(
  {
    ping: call('Checks that the model service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
    importAi8x: call(
      'Opens an existing ai8x model: quantized checkpoint + network YAML (+ sample input).',
      z.strictObject({
        /** Path of the quantized .pth.tar (quantize.py output or QAT checkpoint after quantize). */
        checkpointPath: z.string().min(1),
        /** Path of the ai8x-synthesis network YAML. */
        networkPath: z.string().min(1),
        /** Path of the sample input .npy (C,H,W) or (C,L), or a batch (N,C,...) whose first sample is taken; fixes the input size. */
        samplePath: z.string().min(1).optional(),
        /** Input dims when no sample is given: [H, W] or [L]. */
        inputDims: z.array(z.number().int().positive()).min(1).max(2).optional(),
        /** Target device; default MAX78002. */
        device: DeviceName.optional(),
      }),
      z.object({ modelId: z.string(), model: StoredModelDto, warnings: z.array(DiagnosticDto), diagnostics: z.array(DiagnosticDto) }),
    ),
    get: call('Returns an opened model.', z.strictObject(ModelRef), z.object({ model: StoredModelDto })),
    validate: call('Checks a model against the device rules.', z.strictObject(ModelRef), z.object({ diagnostics: z.array(DiagnosticDto) })),
    plan: call(
      'Plans processors, offsets and memory on a device and checks every hardware rule.',
      z.strictObject({
        ...ModelRef,
        /** Plan for this device (default: the model's). */
        device: DeviceName.optional(),
        /** Ignore the placement from the YAML and compute fresh masks and ping-pong offsets. */
        replacePlacement: z.boolean().optional(),
      }),
      PlanDto,
    ),
    simulate: job(
      'Runs the bit-exact simulator on one input (C,...) or a batch (N,C,...) .npy.',
      z.strictObject({
        ...ModelRef,
        /** Input .npy: int8 values in [-128, 127], one sample (C,H,W)/(C,L) or a batch with a leading N. */
        inputPath: z.string().min(1),
        /** Write the outputs here as int64 .npy ((C,1,1) or (N,C,1,1)), atomically. */
        outputPath: z.string().min(1).optional(),
        /** Return every layer's output too (single input only). */
        allLayers: z.boolean().optional(),
        /** Average pooling rounds instead of truncating (izer --avg-pool-rounding); default: the model's setting. */
        avgPoolRounding: z.boolean().optional(),
        /** Accumulate engine: auto (WebAssembly SIMD where available), js or wasm. Default auto. */
        engine: z.enum(['auto', 'js', 'wasm']).optional(),
        /** Return this many output values, the inputs' outputs one after another (default: the first input's, at most 4,096). */
        outputValues: z.number().int().positive().max(65536).optional(),
      }),
      z.object({
        /** Number of inputs run. */
        count: z.number().int(),
        /** Output shape of one input: [C, ...dims]. */
        shape: z.array(z.number().int()),
        /** The outputs of the first input (at most 4,096 values), or as many as `outputValues` asked for. */
        output: z.array(z.number().int()),
        /** The input was a batch (a leading N), also when N is 1; the output file then has the N too. */
        batch: z.boolean(),
        /** Argmax per input (classification), for batches at most 10,000. */
        argmax: z.array(z.number().int()),
        layers: z.array(z.object({ name: z.string(), shape: z.array(z.number().int()), data: z.array(z.number().int()) })).optional(),
        outputPath: z.string().optional(),
        /** Wall time of the simulation, ms. */
        elapsedMs: z.number(),
      }),
      SimulateProgressData,
    ),
    load: call(
      'Loads a model from its IR JSON: given inline (e.g. a built-in network) or as a model.json path (e.g. a training export).',
      z.strictObject({
        /** The model in its stored JSON form. */
        model: StoredModelDto.optional(),
        /** Absolute path of a model.json (qatwb.model); used when `model` is absent. */
        path: z.string().min(1).optional(),
      }),
      z.object({ modelId: z.string(), model: StoredModelDto, diagnostics: z.array(DiagnosticDto) }),
    ),
    importNetwork: call(
      'Imports your own network (ONNX float model, ai8x network YAML + checkpoint, or model.json) as ai8x layers with its float weights, writes it as model.json (atomically) and opens it. A network the device cannot run is refused with one message naming the source node, the layer and the fix.',
      z.strictObject({
        /** The .onnx, .json (qatwb.model) or ai8x network .yaml/.yml file on the services' computer. */
        path: z.string().min(1).optional(),
        /** Or the file's content sent from the browser (web mode upload): kept in `imports/` beside `saveTo`. */
        upload: UploadDto.optional(),
        /** The ai8x checkpoint for a network YAML. */
        checkpointPath: z.string().min(1).optional(),
        checkpointUpload: UploadDto.optional(),
        /** [C, L] or [C, H, W] when the file's input size is dynamic. */
        inputShape: z.array(z.number().int().positive()).min(2).max(3).optional(),
        device: DeviceName.optional(),
        /** Where to write the model.json (e.g. inside the project folder). */
        saveTo: z.string().min(1),
      }),
      z.object({ modelId: z.string(), model: StoredModelDto, warnings: z.array(DiagnosticDto), diagnostics: z.array(DiagnosticDto), path: z.string() }),
    ),
    saveNetwork: call(
      'Writes a network (e.g. the builder\'s) as model.json, atomically, and opens it.',
      z.strictObject({ model: StoredModelDto, path: z.string().min(1) }),
      z.object({ modelId: z.string(), model: StoredModelDto, diagnostics: z.array(DiagnosticDto), path: z.string() }),
    ),
    setLayerBits: call(
      'Changes the bit policy of an opened model: layers\' final weight bits (by layer name) and the bit schedule (ir/bits-policy.ts); returns the model and its fresh plan, and writes it to `saveTo` when given.',
      z.strictObject({
        ...ModelRef,
        /** New final weight bits (1/2/4/8) by layer name; other layers keep theirs. */
        bits: z.record(z.string(), z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)])).optional(),
        /** A new bit schedule (null: none); the layers that followed the old one follow it. */
        bitsSchedule: z.array(BitsStepDto).max(8).nullable().optional(),
        /** The network's model.json to write the edited model to (atomically). */
        saveTo: z.string().min(1).optional(),
      }),
      z.object({ model: StoredModelDto, plan: PlanDto }),
    ),
    exportYaml: call(
      'Writes the network YAML for ai8xize.py (planned placement included), atomically.',
      z.strictObject({ ...ModelRef, path: z.string().min(1), device: DeviceName.optional() }),
      z.object({ path: z.string() }),
    ),
  },
  {},
);
