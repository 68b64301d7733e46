// `qatwb train`: float epochs then QAT epochs on a built-in example or a CSV/NPY data set, then the
// float / PTQ INT8 / QAT INT8 table and the izer-ready exports. Runs the training service in-process
// (training itself runs in its worker); Ctrl-C cancels.
import { resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { optChoice, optInt, optNumber, optString, UsageError, type ParsedArgs } from '../args.ts';
import type { Command } from '../command.ts';
import type { TrainRequest } from '../../api/training.api.ts';
import type { DataSource, Scaling } from '../../api/data.api.ts';
import { createTrainingService } from '../../training/training.service.ts';

const USAGE = `  qatwb train (--example mnist | --data FILE.csv [--label-column N|NAME] | --data X.npy --labels Y.npy)
              --epochs N --qat-start E [--bits 8|4|2|1] [--layer-bits name=b,...] [--shift-quantile Q]
              [--model ai85net5|ai85netextrasmall|ecgnet] [--limit N] [--test F] [--validation F] [--seed S]
              [--scale unit|minmax|int8|MIN:MAX]   (CSV/NPY feature scaling to [0,1] before ai8x.normalize)
              [--batch-size B] [--lr R] [--class-weights] [--device MAX78002|MAX78000] [--out DIR] [--json]
  Prints floatAccuracy, ptqAccuracy, qatAccuracy (fractions), samplesPerSecond and backend; with --out
  writes checkpoint.pth.tar, network.yaml, sample.input.npy, sample.expected.npy, model.onnx,
  quantization.json and model.json into DIR.`;

const BITS = [1, 2, 4, 8] as const;
type Bits = (typeof BITS)[number];

function parseBits(v: number | string, what: string): Bits {
  const n = Number(v);
  if (!BITS.includes(n as Bits)) throw new UsageError(`${what} expects 1, 2, 4 or 8, got "${v}".`);
  return n as Bits;
}

function scaling(args: ParsedArgs): { scaling?: Scaling } {
  const v = optString(args, 'scale');
  if (v === undefined) return {};
  if (v === 'unit' || v === 'minmax' || v === 'int8') return { scaling: { kind: v } };
  const m = /^(-?[\d.eE+-]+):(-?[\d.eE+-]+)$/.exec(v);
  const [min, max] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) throw new UsageError(`--scale expects unit, minmax, int8 or MIN:MAX with MIN < MAX, got "${v}".`);
  return { scaling: { kind: 'range', min, max } };
}

function dataSource(args: ParsedArgs): DataSource {
  const example = optString(args, 'example');
  const data = optString(args, 'data');
  if (example && data) throw new UsageError('give either --example or --data, not both.');
  if (example) {
    if (example !== 'mnist') throw new UsageError(`--example expects "mnist", got "${example}".`);
    return { kind: 'example', name: 'mnist' };
  }
  if (!data) throw new UsageError('--example mnist or --data FILE is required.');
  const labels = optString(args, 'labels');
  if (data.toLowerCase().endsWith('.npy')) {
    if (!labels) throw new UsageError('--data X.npy needs --labels Y.npy.');
    return { kind: 'npy', xFile: resolve(data), yFile: resolve(labels), ...scaling(args) };
  }
  const lc = optString(args, 'label-column');
  return {
    kind: 'csv',
    file: resolve(data),
    ...(lc !== undefined ? { labelColumn: /^-?\d+$/.test(lc) ? Number(lc) : lc } : {}),
    ...scaling(args),
  };
}

export function trainRequest(args: ParsedArgs): TrainRequest {
  const source = dataSource(args);
  const epochs = optInt(args, 'epochs', { min: 1, max: 1000 }) ?? 2;
  const qatStart = optInt(args, 'qat-start', { min: 0, max: epochs }) ?? Math.floor(epochs / 2);
  const layerBits: Record<string, Bits> = {};
  for (const item of (optString(args, 'layer-bits') ?? '').split(',').filter(Boolean)) {
    const [name, b] = item.split('=');
    if (!name || b === undefined) throw new UsageError(`--layer-bits expects name=bits,..., got "${item}".`);
    layerBits[name.trim()] = parseBits(b.trim(), `--layer-bits ${name}`);
  }
  const model = optChoice(args, 'model', ['ai85net5', 'ai85netextrasmall', 'ecgnet']) ?? (source.kind === 'example' ? 'ai85net5' : 'ecgnet');
  const device = optChoice(args, 'device', ['MAX78002', 'MAX78000']);
  const limit = optInt(args, 'limit', { min: 1 });
  const test = optNumber(args, 'test', { gt: 0 });
  const validation = optNumber(args, 'validation', { min: 0 });
  const seed = optInt(args, 'seed');
  const bits = optString(args, 'bits');
  const sq = optNumber(args, 'shift-quantile', { gt: 0, max: 1 });
  const bs = optInt(args, 'batch-size', { min: 1, max: 4096 });
  const lr = optNumber(args, 'lr', { gt: 0, max: 10 });
  const out = optString(args, 'out');
  const split = {
    ...(test !== undefined ? { test } : {}),
    ...(validation !== undefined ? { validation } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  return {
    data: { source, ...(limit !== undefined ? { limit } : {}), ...(Object.keys(split).length ? { split } : {}) },
    model: model as TrainRequest['model'],
    ...(device ? { device: device as 'MAX78002' | 'MAX78000' } : {}),
    epochs,
    qatStart,
    ...(bits !== undefined ? { bits: parseBits(bits, '--bits') } : {}),
    ...(Object.keys(layerBits).length ? { layerBits } : {}),
    ...(sq !== undefined ? { shiftQuantile: sq } : {}),
    ...(bs !== undefined ? { batchSize: bs } : {}),
    ...(lr !== undefined ? { learningRate: lr } : {}),
    ...(args.options.has('class-weights') ? { classWeights: true } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(out ? { outDir: resolve(out) } : {}),
  };
}

const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(2)} %`);

export const command: Command = {
  name: 'train',
  summary: 'Train float then QAT, and export the izer-ready files.',
  usage: USAGE,
  options: ['example', 'data', 'label-column', 'labels', 'scale', 'epochs', 'qat-start', 'bits', 'layer-bits', 'shift-quantile', 'model', 'limit', 'test', 'validation', 'seed', 'batch-size', 'lr', 'device', 'out'],
  booleans: ['class-weights'],
  async run(args, io) {
    const req = trainRequest(args);
    const json = args.options.has('json');
    const signal = io.signal ?? new AbortController().signal;
    let lastLine = '';
    {
      const service = createTrainingService({ stateDir: tmpdir(), emit() {} });
      const result = await service.train(req, {
        signal,
        progress(p) {
          const line = `[${p.phase}] ${p.message ?? ''}`;
          if (line !== lastLine) io.err(line);
          lastLine = line;
        },
      });
      if (json) {
        io.out(JSON.stringify(result));
      } else {
        io.out(`float ${pct(result.floatAccuracy)}   PTQ INT8 ${pct(result.ptqAccuracy)}   QAT INT8 ${pct(result.qatAccuracy)}`);
        io.out(`${result.samplesPerSecond.toFixed(0)} samples/s on ${result.backend}, ${result.seconds.toFixed(1)} s`);
        if (result.outDir) io.out(`exports in ${result.outDir}: ${result.files?.join(', ')}`);
      }
      return 0;
    }
  },
};
