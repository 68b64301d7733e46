// One entry point for "your own network" (Node edge: reads the files): a zoo name, an ONNX file, the
// app's own model.json, or an ai8x network YAML with its checkpoint. Returns the IR model (float
// starting weights in Layer.init where the source has them); anything that cannot run on the device
// is an ImportError naming the node, the layer and the fix.
import { readInputFile, type InputKind } from '../platform/read-input.ts';
import { basename, extname } from 'node:path';
import type { Device, Model } from '../ir/graph.ts';
import { zoo } from '../ir/zoo.ts';
import { deserializeModel, SchemaError } from '../ir/schema.ts';
import { validateModel } from '../ir/validate.ts';
import { ImportError } from '../formats/import-error.ts';
import { importOnnx, type NetworkImport } from '../formats/import-onnx.ts';
import { importAi8xNetwork } from '../formats/import-ai8x-network.ts';
import { FormatError } from '../formats/format-error.ts';

export const ZOO_NAMES = Object.keys(zoo) as (keyof typeof zoo)[];

export interface NetworkSpec {
  /** Zoo name, or a path to .onnx, model.json (.json) or an ai8x network .yaml/.yml. */
  model: string;
  /** ai8x checkpoint for a .yaml network. */
  checkpoint?: string;
  /** [C, L] or [C, H, W]. */
  inputShape?: number[];
  device?: Device;
}

export type NetworkKind = 'zoo' | 'onnx' | 'model-json' | 'ai8x';

export function networkKind(spec: string): NetworkKind {
  if ((ZOO_NAMES as string[]).includes(spec)) return 'zoo';
  const ext = extname(spec).toLowerCase();
  if (ext === '.onnx') return 'onnx';
  if (ext === '.json') return 'model-json';
  if (ext === '.yaml' || ext === '.yml') return 'ai8x';
  throw new ImportError('unknown-format', '', '', `"${spec}" is neither a built-in network (${ZOO_NAMES.join(', ')}) nor a .onnx, model .json or ai8x .yaml file.`,
    'give a zoo name, a .onnx file, a model.json, or a network .yaml with --checkpoint.', basename(spec));
}

/** The file's bytes, read with the budget of its kind (regular files only, capped). */
async function read(path: string, kind: InputKind): Promise<Buffer> {
  try {
    const b = await readInputFile(path, kind);
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  } catch (error) {
    // readInputFile's message starts with the path; ImportError adds the file itself.
    const problem = (error as Error).message.startsWith(`${path}: `) ? (error as Error).message.slice(path.length + 2) : (error as Error).message;
    throw new ImportError('io', '', '', problem, 'check the path.', path);
  }
}

export async function loadNetwork(spec: NetworkSpec): Promise<NetworkImport & { kind: NetworkKind }> {
  const kind = networkKind(spec.model);
  const device = spec.device ?? 'MAX78002';
  const file = basename(spec.model);
  if (kind !== 'ai8x' && spec.checkpoint)
    throw new ImportError('checkpoint', '', '', `--checkpoint goes with an ai8x network .yaml, not a ${kind} network.`, 'leave out --checkpoint (the weights are in the file), or give the network .yaml.', file);
  if (kind === 'zoo') {
    const model = zoo[spec.model as keyof typeof zoo](device);
    return { kind, model, warnings: [], sources: model.layers.map((l) => l.name) };
  }
  if (kind === 'onnx') {
    const bytes = await read(spec.model, 'onnx');
    return { kind, ...importOnnx(bytes, { file, device, ...(spec.inputShape ? { inputShape: spec.inputShape } : {}) }) };
  }
  if (kind === 'ai8x') {
    if (!spec.checkpoint) throw new ImportError('checkpoint', '', '', 'an ai8x network YAML needs its checkpoint.', 'give --checkpoint FILE.pth.tar (quantized -q.pth.tar or a float/QAT checkpoint).', file);
    const [yaml, ckpt] = await Promise.all([read(spec.model, 'yaml'), read(spec.checkpoint, 'checkpoint')]);
    return {
      kind,
      ...importAi8xNetwork({
        yaml: yaml.toString('utf8'), yamlName: file, checkpoint: ckpt, checkpointName: basename(spec.checkpoint), device,
        ...(spec.inputShape ? { inputShape: spec.inputShape } : {}),
      }),
    };
  }
  const text = (await read(spec.model, 'json')).toString('utf8');
  let model: Model;
  try {
    model = deserializeModel(JSON.parse(text));
  } catch (error) {
    if (error instanceof SchemaError || error instanceof SyntaxError || error instanceof FormatError)
      throw new ImportError('model-json', '', '', `not a valid model file: ${error.message}.`, 'give a model.json saved by QAT Workbench (docs/model-json.md).', file);
    throw error;
  }
  if (spec.device) model.device = spec.device;
  if (spec.inputShape && [model.input.channels, ...model.input.dims].join() !== spec.inputShape.join())
    throw new ImportError('input-shape', '', '', `--input-shape ${spec.inputShape.join(',')} differs from the model's input ${[model.input.channels, ...model.input.dims].join(',')}.`, 'leave out --input-shape for a model.json.', file);
  const errors = validateModel(model).filter((d) => d.severity === 'error');
  if (errors.length) {
    const d = errors[0]!;
    throw new ImportError(`rule:${d.rule}`, d.layer >= 0 ? `layers[${d.layer}]` : '', d.layerName ?? '', d.message.replace(/^Layer \d+ \([^)]*\): /, ''), d.fix ?? 'change the network.', file);
  }
  return { kind, model, warnings: [], sources: model.layers.map((_, i) => `layers[${i}]`) };
}
