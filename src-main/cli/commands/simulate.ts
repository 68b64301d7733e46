// `qatwb simulate`: runs the bit-exact MAX7800x simulator on an existing ai8x model
// (checkpoint + network YAML) for one input or a batch, and writes the output as int64 .npy.
import { basename } from 'node:path';
import type { Command } from '../command.ts';
import { flag, optChoice, optString, reqString, UsageError } from '../args.ts';
import { ApiError } from '../../api/contract.ts';
import type { Device } from '../../ir/graph.ts';
import { simulate, simulateBatch, SimError } from '../../sim/simulate.ts';
import { inputsFromNpy, izerShape, openAi8xModel, readSampleOrBatch, writeOutputNpy } from '../../model/open-model.ts';

export function parseDevice(v: string | undefined): Device | undefined {
  if (v === undefined) return undefined;
  const d = v.toUpperCase().replace(/^AI8([57])$/, (_m, x: string) => (x === '5' ? 'MAX78000' : 'MAX78002'));
  const map: Record<string, Device> = { MAX78000: 'MAX78000', MAX78002: 'MAX78002', '85': 'MAX78000', '87': 'MAX78002' };
  const dev = map[d];
  if (!dev) throw new UsageError(`--device expects MAX78000 or MAX78002, got "${v}".`);
  return dev;
}

export const command: Command = {
  name: 'simulate',
  summary: 'Run the bit-exact MAX7800x simulator on an input.',
  usage: [
    '  qatwb simulate --checkpoint C.pth.tar --network N.yaml --input X.npy [--out Y.npy] [--device MAX78002]',
    '                 [--all-layers] [--avg-pool-rounding] [--engine auto|js|wasm] [--json]',
    '',
    '  X.npy: int8 codes (int64 like the izer sample), shape (C,H,W)/(C,L), or a batch (N,C,...).',
    '  Y.npy: int64, shaped like the izer expected output: (C,1,1) for a Linear last layer.',
  ].join('\n'),
  options: ['checkpoint', 'network', 'input', 'out', 'device', 'engine'],
  booleans: ['all-layers', 'avg-pool-rounding'],
  async run(args, io) {
    const checkpointPath = reqString(args, 'checkpoint');
    const networkPath = reqString(args, 'network');
    const inputPath = reqString(args, 'input');
    const outPath = optString(args, 'out');
    const device = parseDevice(optString(args, 'device'));
    const json = flag(args, 'json');
    const engine = optChoice(args, 'engine', ['auto', 'js', 'wasm']) ?? 'auto';
    const { input, sample, isBatch } = await readSampleOrBatch(inputPath, networkPath);
    const { model, warnings } = await openAi8xModel({ checkpointPath, networkPath, ...(device ? { device } : {}), sample, sampleName: basename(inputPath) });
    if (flag(args, 'avg-pool-rounding')) model.avgPoolRounding = true;
    const { data, count } = inputsFromNpy(input, model, inputPath);
    const t0 = performance.now();
    let outputs: Int32Array;
    let shape: number[];
    let layers: { name: string; shape: number[]; data: number[] }[] | undefined;
    try {
      if (!isBatch) {
        const r = simulate(model, data, { allLayers: flag(args, 'all-layers'), engine });
        outputs = r.output;
        shape = izerShape(r.shape);
        layers = r.layers?.map((l) => ({ name: l.name, shape: izerShape(l.shape), data: Array.from(l.data) }));
      } else {
        const r = simulateBatch(model, data, { engine });
        outputs = r.outputs;
        shape = izerShape(simulate(model, data.subarray(0, data.length / count), { engine }).shape);
      }
    } catch (e) {
      if (e instanceof SimError) throw new ApiError('invalid-model', e.message);
      throw e;
    }
    const elapsedMs = performance.now() - t0;
    if (outPath) await writeOutputNpy(outPath, outputs, shape, count, isBatch);
    if (json) {
      io.out(JSON.stringify({ count, shape, output: Array.from(outputs.subarray(0, Math.min(outputs.length, 65536))), ...(layers ? { layers } : {}), ...(outPath ? { outPath } : {}), elapsedMs, warnings }));
    } else {
      for (const w of warnings) io.err(`warning: ${w.message}`);
      io.out(`${model.arch}: ${count} input${count === 1 ? '' : 's'} simulated in ${elapsedMs.toFixed(1)} ms; output (${shape.join(', ')})${isBatch ? ' per input' : ''}`);
      if (!isBatch) io.out(Array.from(outputs).join(' '));
      if (layers) for (const l of layers) io.out(`  ${l.name} (${l.shape.join('x')}): ${l.data.slice(0, 16).join(' ')}${l.data.length > 16 ? ' ...' : ''}`);
      if (outPath) io.out(`wrote ${outPath}`);
    }
    return 0;
  },
};
