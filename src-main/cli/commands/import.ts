// `qatwb import`: an ONNX float model, an ai8x network YAML + checkpoint, or a model.json → the
// app's model.json (ai8x fused layers, float starting weights). A model the device cannot run is
// refused with one message (exit 2, `{error: {code, node, layer, message}}`), and nothing is written.
// The model service imports (in its budgeted worker) and writes the file.
import { join, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { flag, optChoice, optString, reqString, UsageError } from '../args.ts';
import { ApiError } from '../../api/contract.ts';
import { verifyModel } from '../../formats/checkpoint-verify.ts';
import { deserializeModel } from '../../ir/schema.ts';
import { inferLayerShapes } from '../../ir/shapes.ts';
import { opSpec } from '../../ir/ops/registry.ts';
import type { Model } from '../../ir/graph.ts';
import { withServices } from '../connect.ts';

export function parseInputShape(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const dims = v.split(/[,x]/).map(Number);
  if (dims.length < 2 || dims.length > 3 || !dims.every((d) => Number.isInteger(d) && d > 0))
    throw new UsageError(`--input-shape expects C,L or C,H,W (positive integers), got "${v}".`);
  return dims;
}

/** Weights and biases of the network (what training will learn). */
export function parameterCount(model: Model): number {
  const shapes = inferLayerShapes(model);
  return model.layers.reduce((n, l, i) => n + (opSpec(l.op).hasWeights ? opSpec(l.op).weightCount(l, shapes[i]!.pooled) + (l.hasBias ? l.outChannels : 0) : 0), 0);
}

export const command: Command = {
  name: 'import',
  summary: 'Import a network (ONNX, ai8x YAML + checkpoint, model.json) as model.json.',
  usage: [
    '  qatwb import --model FILE.onnx|network.yaml|model.json [--checkpoint CKPT.pth.tar]',
    '               [--input-shape C,L|C,H,W] [--device MAX78002|MAX78000] --out DIR [--json]',
    '',
    '  Writes DIR/model.json and prints {layers, params, weightBytes, verification, warnings}.',
    '  A network the device cannot run exits 2 with {error: {code, node, layer, message}}.',
  ].join('\n'),
  options: ['model', 'checkpoint', 'input-shape', 'device', 'out'],
  async run(args, io) {
    const path = reqString(args, 'model');
    const out = resolve(reqString(args, 'out'));
    const checkpoint = optString(args, 'checkpoint');
    const inputShape = parseInputShape(optString(args, 'input-shape'));
    const device = optChoice(args, 'device', ['MAX78002', 'MAX78000'] as const);
    const json = flag(args, 'json');
    const file = join(out, 'model.json');
    return withServices(['model'], {}, async ({ api }) => {
      let imported;
      try {
        imported = await api.model.importNetwork({
          path: /\.[a-z]+$/i.test(path) ? resolve(path) : path,
          ...(checkpoint ? { checkpointPath: resolve(checkpoint) } : {}),
          ...(inputShape ? { inputShape } : {}),
          ...(device ? { device } : {}),
          saveTo: file,
        });
      } catch (error) {
        // The importer's refusal: its source node and layer come as the error's details.
        const refusal = error instanceof ApiError && typeof error.details?.node === 'string' ? error.details : undefined;
        if (!refusal) throw error;
        if (json) io.out(JSON.stringify({ error: refusal }));
        io.err(`qatwb import: ${(error as ApiError).message}`);
        return 2;
      }
      const model = deserializeModel(imported.model);
      const plan = await api.model.plan({ modelId: imported.modelId });
      const summary = {
        layers: model.layers.length,
        params: parameterCount(model),
        weightBytes: plan.weightMemoryBytes,
        verification: (({ batchNormLeft, qatParameters, onGrid }) => ({ batchNormLeft, qatParameters, onGrid }))(verifyModel(model)),
        warnings: [...imported.warnings, ...plan.warnings].map((d) => d.message),
        arch: model.arch,
        input: [model.input.channels, ...model.input.dims],
        network: model.layers.map((l) => ({
          name: l.name, op: l.op, in: l.inChannels, out: l.outChannels, kernel: l.kernel, pad: l.pad,
          ...(l.pool ? { pool: `${l.pool.kind} ${l.pool.size.join('x')}/${l.pool.stride.join('x')}` } : {}),
          activation: l.activation, ...(l.batchNorm ? { batchNorm: true } : {}), ...(l.flatten ? { flatten: true } : {}),
          ...(l.outputWidth === 32 ? { wide: true } : {}), ...(l.inputs ? { inputs: l.inputs } : {}),
        })),
        file,
      };
      if (json) io.out(JSON.stringify(summary));
      else {
        io.out(`${model.arch}: ${summary.layers} layers, ${summary.params.toLocaleString('en')} parameters, ${summary.weightBytes.toLocaleString('en')} bytes of weight memory on ${model.device}`);
        for (const l of summary.network) io.out(`  ${l.name.padEnd(14)} ${l.op.padEnd(12)} ${l.in}->${l.out}${l.pool ? ` pool ${l.pool}` : ''} ${l.activation}${l.batchNorm ? ' +BatchNorm' : ''}`);
        for (const w of summary.warnings) io.out(`warning: ${w}`);
        io.out(`wrote ${summary.file}`);
      }
      return 0;
    });
  },
};
