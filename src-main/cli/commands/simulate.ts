// `qatwb simulate`: runs the bit-exact MAX7800x simulator on an existing ai8x model
// (checkpoint + network YAML) for one input or a batch, and writes the output as int64 .npy.
// The model service opens the model and simulates it (a batch in its worker).
import { resolve } from 'node:path';
import type { Command } from '../command.ts';
import { flag, optChoice, optString, reqString } from '../args.ts';
import { withServices } from '../connect.ts';
import { modelArgs, openModel } from '../model-args.ts';

/** What --json prints of the outputs, the inputs' one after another. */
const JSON_OUTPUT_VALUES = 65536;

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
    const m = modelArgs(args);
    const inputPath = reqString(args, 'input');
    const outPath = optString(args, 'out');
    const json = flag(args, 'json');
    const engine = optChoice(args, 'engine', ['auto', 'js', 'wasm']) ?? 'auto';
    return withServices(['model'], {}, async ({ api }) => {
      const opened = await openModel(api.model, m, { samplePath: inputPath });
      const r = await api.model.simulate({
        modelId: opened.modelId,
        inputPath,
        ...(outPath ? { outputPath: resolve(outPath) } : {}),
        ...(flag(args, 'all-layers') ? { allLayers: true } : {}),
        ...(flag(args, 'avg-pool-rounding') ? { avgPoolRounding: true } : {}),
        engine,
        outputValues: JSON_OUTPUT_VALUES,
      });
      // A batch has no per-layer outputs (as before: --all-layers is for one input).
      const layers = r.batch ? undefined : r.layers;
      const warnings = opened.warnings;
      if (json) {
        io.out(JSON.stringify({ count: r.count, shape: r.shape, output: r.output, ...(layers ? { layers } : {}), ...(outPath ? { outPath } : {}), elapsedMs: r.elapsedMs, warnings }));
      } else {
        for (const w of warnings) io.err(`warning: ${w.message}`);
        io.out(`${opened.model.arch}: ${r.count} input${r.count === 1 ? '' : 's'} simulated in ${r.elapsedMs.toFixed(1)} ms; output (${r.shape.join(', ')})${r.batch ? ' per input' : ''}`);
        if (!r.batch) io.out(r.output.join(' '));
        if (layers) for (const l of layers) io.out(`  ${l.name} (${l.shape.join('x')}): ${l.data.slice(0, 16).join(' ')}${l.data.length > 16 ? ' ...' : ''}`);
        if (outPath) io.out(`wrote ${outPath}`);
      }
      return 0;
    });
  },
};
