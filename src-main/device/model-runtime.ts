// What the link needs from a deployed model: shapes, output scale, a model hash, and the
// bit-exact simulator (final output and every layer's output). Built from an artifacts folder
// (checkpoint.pth.tar + network.yaml [+ sample.input.npy, model.onnx]) via the ai8x importer and
// the simulator; the virtual device and the live check both run on it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../api/contract.ts';
import type { InputScaling, Model } from '../ir/graph.ts';
import { SchemaError, storedInputScaling } from '../ir/schema.ts';
import { importAi8x } from '../formats/import-ai8x.ts';
import { readNpy } from '../formats/npy.ts';
import { prepare, run as runSim, toInt32Input, type LayerHook } from '../sim/simulate.ts';
import { crc32 } from './framing.ts';
import { readInputFile, readInputJson } from '../platform/read-input.ts';

export interface LayerOutput {
  name: string;
  /** Channel-first values (int8 range for 8-bit layers, raw accumulators for a 32-bit one). */
  data: Int32Array;
  /** Bytes per element on the wire: 1 (8-bit output) or 4 (32-bit output). */
  elemBytes: 1 | 4;
}

export interface ModelRuntime {
  /** Human name (arch, dataset). */
  name: string;
  model: Model;
  /** CRC-32 over the checkpoint then the YAML bytes (what HELLO reports). */
  modelHash: number;
  /** Channel-first input shape without batch: [C, H, W] or [C, L]. */
  inputShape: number[];
  inputLength: number;
  outputCount: number;
  /** Weight bits of the output layer; a 32-bit output's unit is 2^-(6+b). */
  outputWeightBits: number;
  outputBits: 8 | 32;
  layerNames: string[];
  /**
   * Final output of the bit-exact simulator. `afterLayer` may alter a layer's output before the
   * next layers read it (the virtual device's deployment-bug injection).
   */
  run(window: Int8Array, afterLayer?: LayerHook): Int32Array;
  /** Final output plus every layer's output. */
  runLayers(window: Int8Array, afterLayer?: LayerHook): { outputs: Int32Array; layers: LayerOutput[] };
  /** The artifacts' sample input, when present. */
  sample?: Int8Array;
  /** model.onnx in the artifacts folder, when present (float reference). */
  floatModelPath?: string;
  /** quantization.json when present (input/output scales of the float model). */
  quantization?: Record<string, unknown>;
  /** The artifacts folder the runtime was loaded from. */
  artifactsDir?: string;
  /** model.json in the artifacts folder, when present. */
  modelJsonPath?: string;
  /** The feature scaling the model was trained with (model.json `input.scaling`), when recorded. */
  scaling?: InputScaling;
}

/** The final layer's output as the device sends it, whatever integer type the simulator used. */
export function toInt32(values: ArrayLike<number | bigint>): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number(values[i]);
  return out;
}

export function int8Window(values: ArrayLike<number | bigint>, what: string): Int8Array {
  const out = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!Number.isInteger(v) || v < -128 || v > 127) {
      throw new ApiError('invalid-data', `${what}: element ${i} is ${v}, expected an integer in [-128, 127].`);
    }
    out[i] = v;
  }
  return out;
}

/** Output unit of the final layer as a power of two: value · 2^scaleExp is the float logit. */
export function outputScaleExp(rt: Pick<ModelRuntime, 'outputBits' | 'outputWeightBits'>): number {
  // max78002.md §5: 32-bit output with b-bit weights is in units of 2^-(6+b) (Q17.14 for b = 8);
  // an 8-bit output is int8/128 like every other activation.
  return rt.outputBits === 32 ? -(6 + rt.outputWeightBits) : -7;
}

/** Loads an artifacts folder: the model through the ai8x importer, the simulator, and the extras. */
export async function loadRuntime(dir: string): Promise<ModelRuntime> {
  const checkpoint = join(dir, 'checkpoint.pth.tar');
  const yaml = join(dir, 'network.yaml');
  for (const [file, what] of [[checkpoint, 'the quantized checkpoint'], [yaml, 'the network YAML']] as const) {
    if (!existsSync(file)) throw new ApiError('not-found', `Artifacts folder ${dir} has no ${file.slice(dir.length + 1)} (${what}).`, 'artifacts');
  }
  const samplePath = join(dir, 'sample.input.npy');
  const [ckptBytes, yamlBytes] = await Promise.all([readInputFile(checkpoint, 'checkpoint', 'artifacts'), readInputFile(yaml, 'yaml', 'artifacts')]);
  const sampleBytes = existsSync(samplePath) ? await readInputFile(samplePath, 'sample', 'artifacts') : undefined;
  const sampleArray = sampleBytes ? readNpy(sampleBytes, samplePath) : undefined;
  const { model } = importAi8x({
    checkpoint: ckptBytes,
    checkpointName: checkpoint,
    yaml: new TextDecoder().decode(yamlBytes),
    yamlName: yaml,
    ...(sampleArray ? { sample: sampleArray, sampleName: samplePath } : {}),
  });
  const last = model.layers[model.layers.length - 1]!;
  const inputShape = [model.input.channels, ...model.input.dims];
  const inputLength = inputShape.reduce((a, b) => a * b, 1);
  const sample = sampleArray ? int8Window(sampleArray.data as ArrayLike<number | bigint>, samplePath) : undefined;
  // Compiled once; each window reuses the program's buffers (copied out before returning).
  const prog = prepare(model); // WebAssembly SIMD accumulate where available, JS otherwise
  const runProg = (w: Int8Array, afterLayer?: LayerHook) => runSim(prog, toInt32Input(w), afterLayer);
  const run = (w: Int8Array, afterLayer?: LayerHook) => {
    runProg(w, afterLayer);
    return prog.layers[prog.layers.length - 1]!.out.slice();
  };
  const probe = run(sample ?? new Int8Array(inputLength));
  const onnx = join(dir, 'model.onnx');
  const qjson = join(dir, 'quantization.json');
  const quantization = existsSync(qjson) ? await readQuantizationJson(qjson) : undefined;
  const mjson = join(dir, 'model.json');
  const scaling = existsSync(mjson) ? await readModelJsonScaling(mjson) : undefined;
  return {
    name: `${model.arch} (${model.dataset})`,
    model,
    modelHash: crc32(yamlBytes, 0, yamlBytes.length, crc32(ckptBytes)),
    inputShape,
    inputLength,
    outputCount: probe.length,
    outputWeightBits: last.weightBits,
    outputBits: last.outputWidth,
    layerNames: model.layers.map((l) => l.name),
    run,
    runLayers(w, afterLayer) {
      runProg(w, afterLayer);
      const layers = prog.layers.map((c, i) => ({
        name: c.layer.name,
        data: c.out.slice(),
        elemBytes: (model.layers[i]?.outputWidth === 32 ? 4 : 1) as 1 | 4,
      }));
      return { outputs: layers[layers.length - 1]!.data.slice(), layers };
    },
    ...(sample ? { sample } : {}),
    ...(existsSync(onnx) ? { floatModelPath: onnx } : {}),
    ...(quantization ? { quantization } : {}),
    artifactsDir: dir,
    ...(existsSync(mjson) ? { modelJsonPath: mjson } : {}),
    ...(scaling ? { scaling } : {}),
  };
}

/** model.json's `input.scaling` (undefined when it records none); a malformed one names the file and field. */
async function readModelJsonScaling(file: string): Promise<InputScaling | undefined> {
  const doc = await readInputJson(file, 'artifacts');
  try {
    return storedInputScaling(doc);
  } catch (error) {
    if (error instanceof SchemaError) throw new ApiError('invalid-data', `${file}: ${error.message}.`, 'artifacts');
    throw error;
  }
}

/** quantization.json as an object; a parse error or another JSON type names the file. */
async function readQuantizationJson(file: string): Promise<Record<string, unknown>> {
  const v = await readInputJson(file, 'artifacts');
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ApiError('invalid-data', `${file}: expected a JSON object of input/output scales (got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}).`, 'artifacts');
  }
  return v as Record<string, unknown>;
}
