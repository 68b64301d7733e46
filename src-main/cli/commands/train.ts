// `qatwb train`: float epochs then QAT epochs on a built-in example or a CSV/NPY data set, then the
// float / PTQ INT8 / QAT INT8 table and the izer-ready exports. Calls the training service through
// the typed client (training itself runs in its worker, or in PyTorch as a child process); Ctrl-C cancels.
import { resolve } from 'node:path';
import { optChoice, optInt, optNumber, optString, UsageError, type ParsedArgs } from '../args.ts';
import type { Command, CommandIo } from '../command.ts';
import type { CallOptions } from '../../api/contract.ts';
import { TRAIN_DEFAULTS, type TrainRequest, type TrainResultDto } from '../../api/training.api.ts';
import type { DataSource, Scaling } from '../../api/data.api.ts';
import { WEIGHT_BITS, type WeightBits } from '../../ir/graph.ts';
import { withServices } from '../connect.ts';
import { ZOO_NAMES } from '../../model/load-network.ts';
import { parseInputShape } from './import.ts';
import { readRunFile } from '../../training/run-store.ts';

const USAGE = `  qatwb train (--example mnist | --data FILE.csv [--label-column N|NAME] | --data X.npy --labels Y.npy)
              [--float-epochs N] [--qat-epochs M]      (or the shorthands --epochs TOTAL --qat-start E)
              [--lr R] [--qat-lr R] [--lr-schedule S] [--qat-lr-schedule S] [--batch-size B] [--qat-batch-size B]
              [--patience P] [--qat-patience Q] [--monitor loss|accuracy] [--no-restore-best]
              [--class-weights[=W0,W1,...]] [--bits 8|4|2|1] [--layer-bits name=b,...] [--bits-schedule 8@0,4@30,2@60]
              [--shift-quantile Q] [--model ai85net5|ai85netextrasmall|ecgnet|NET.onnx|model.json|NET.yaml [--checkpoint CKPT]]
              [--input-shape C,L|C,H,W] [--limit N] [--test F] [--validation F]
              [--seed S] [--scale unit|minmax|int8|MIN:MAX] [--target MAX78002|MAX78000] [--out DIR] [--project DIR] [--json]
              [--engine embedded|pytorch] [--python PATH] [--device cpu|cuda|cuda:N] [--gpus N] [--threads N]
  qatwb train --from-run DIR --bits B [--qat-epochs M] [--qat-lr R] ... [--out DIR | --project DIR] [--json]

  Two phases, each with its own settings (defaults in brackets):
    --float-epochs N     float epochs [1]; --qat-epochs M: QAT epochs after them [1]
    --lr R               float learning rate (Adam) [${TRAIN_DEFAULTS.learningRate}]
    --qat-lr R           QAT learning rate [${TRAIN_DEFAULTS.qatLearningRateFactor} × --lr = ${TRAIN_DEFAULTS.qatLearningRateFactor * TRAIN_DEFAULTS.learningRate}]
    --lr-schedule S      none | step (× ${TRAIN_DEFAULTS.stepGamma} at 50 % and 75 % of the phase) | cosine (to ${TRAIN_DEFAULTS.cosineMinLr})
                         | plateau (× ${TRAIN_DEFAULTS.plateauFactor} after ${TRAIN_DEFAULTS.plateauPatience} epochs without a better validation loss)
                         [${TRAIN_DEFAULTS.lrSchedule}]; per phase, restarting at the QAT start; --qat-lr-schedule for QAT alone
    --batch-size B       [${TRAIN_DEFAULTS.batchSize}]; --qat-batch-size for QAT alone
    --patience P         float early stopping: end the phase after P epochs without a better validation loss,
                         go back to the best epoch's weights, start QAT [off]; --qat-patience Q: the same in QAT
    --monitor M          what early stopping watches: loss (validation loss) or accuracy [loss]
    --class-weights      weight the loss by inverse class frequency; =W0,W1,... gives one weight per class
    --bits-schedule      progressive widths in the QAT phase: BITS@EPOCH[:LR],... counted from the QAT start,
                         e.g. 8@0,4@30:1e-4,2@60:5e-5 (one comparison row per width); the last width is the
                         final one, --layer-bits layers keep theirs (model.json "bitsSchedule")
  Engine: --engine pytorch trains in a Python with torch (a child process; same semantics, same exports);
    --device cpu|cuda[:N], --gpus N > 1 starts N processes with torchrun (DDP: NCCL on cuda, gloo on cpu),
    --threads N CPU threads per process. --device MAX78002|MAX78000 still names the target (= --target).
  Runs kept and chains:
    --out DIR            the run's folder: exports plus run.json and state.json (written after every epoch)
    --project DIR        keep the run in the project instead (DIR/runs/<id>/), listed by "qatwb runs --project DIR"
    --from-run DIR       continue a finished run (its folder) at --bits for --qat-epochs, a new run whose rows follow
                         the source's: 8 → 4 → 2 is three runs, each --from-run the one before (data: the source's)
  Quantization on the MAX78002/MAX78000 (what the usual QAT words mean here):
    weight bits   8/4/2/1 per layer (--bits, --layer-bits); activations are always 8-bit
    scales        symmetric, a power of two per layer (the output shift): no per-channel or asymmetric
                  scales, because the accelerator has one shift per layer and no zero point
    calibrate     --shift-quantile Q: the quantile of |w| that sets each layer's shift [${TRAIN_DEFAULTS.shiftQuantile}]
    convert       the export (--out): izer-ready checkpoint, network YAML, sample, ONNX
    BatchNorm     folded into the conv weights at the QAT start
  Prints the comparison (float / PTQ / QAT per width: accuracy, per-class recall, macro-F1, weight bytes,
  logit error vs float) and the checkpoint verification; --json prints the summary with rows[], stoppedEarly,
  bestEpoch, collapsed, scaling, verification {batchNormLeft, qatParameters, onGrid}, engine and device.
  With --out writes checkpoint.pth.tar, network.yaml, sample.input.npy, sample.expected.npy, model.onnx,
  quantization.json, model.json, comparison.json and comparison.csv into DIR.`;

function parseBits(v: number | string, what: string): WeightBits {
  const n = Number(v);
  if (!WEIGHT_BITS.includes(n as WeightBits)) throw new UsageError(`${what} expects 1, 2, 4 or 8, got "${v}".`);
  return n as WeightBits;
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

function dataSource(args: ParsedArgs): DataSource | undefined {
  const example = optString(args, 'example');
  const data = optString(args, 'data');
  if (example && data) throw new UsageError('give either --example or --data, not both.');
  if (!example && !data && args.options.has('from-run')) return undefined;
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

function lrSchedule(args: ParsedArgs, key: string): { kind: 'none' | 'step' | 'cosine' | 'plateau' } | undefined {
  const kind = optChoice(args, key, ['none', 'step', 'cosine', 'plateau'] as const);
  return kind ? { kind } : undefined;
}

/** `8@0,4@30:1e-4,2@60` → the network's bit schedule (steps from the QAT start, each with an optional lr). */
export function parseBitsSchedule(v: string, qatEpochs: number): NonNullable<TrainRequest['bitsSchedule']> {
  const steps = v.split(',').filter(Boolean).map((item) => {
    const m = /^(\d+)@(\d+)(?::([\d.eE+-]+))?$/.exec(item.trim());
    if (!m) throw new UsageError(`--bits-schedule expects BITS@EPOCH[:LR],..., e.g. 8@0,4@30,2@60; got "${item}".`);
    const bits = parseBits(m[1]!, `--bits-schedule ${item}: bits`);
    const epoch = Number(m[2]);
    const lr = m[3] !== undefined ? Number(m[3]) : undefined;
    if (lr !== undefined && !(lr > 0)) throw new UsageError(`--bits-schedule ${item}: the learning rate must be > 0, got "${m[3]}".`);
    if (epoch >= qatEpochs) throw new UsageError(`--bits-schedule ${item}: QAT epoch ${epoch} is past the QAT phase (${qatEpochs} epochs; epochs count from the QAT start).`);
    return { fromQatEpoch: epoch, bits, ...(lr !== undefined ? { learningRate: lr } : {}) };
  });
  const epochs = steps.map((s) => s.fromQatEpoch);
  if (new Set(epochs).size !== epochs.length || epochs.some((e, i) => i > 0 && e < epochs[i - 1]!)) {
    throw new UsageError(`--bits-schedule: the epochs must increase, got "${v}".`);
  }
  if (epochs.length && epochs[0] !== 0) throw new UsageError(`--bits-schedule: the first width starts at the QAT start (BITS@0), got "${v}".`);
  return steps;
}

function phaseEpochs(args: ParsedArgs): { epochs: number; qatStart: number } {
  const phased = args.options.has('float-epochs') || args.options.has('qat-epochs');
  if (phased) {
    for (const k of ['epochs', 'qat-start']) if (args.options.has(k)) throw new UsageError(`--${k} is a shorthand for --float-epochs/--qat-epochs; give one or the other.`);
    const floatEpochs = optInt(args, 'float-epochs', { min: 0, max: 1000 }) ?? 1;
    const qatEpochs = optInt(args, 'qat-epochs', { min: 0, max: 1000 }) ?? 1;
    if (floatEpochs + qatEpochs < 1) throw new UsageError('--float-epochs plus --qat-epochs must be at least 1.');
    return { epochs: floatEpochs + qatEpochs, qatStart: floatEpochs };
  }
  const epochs = optInt(args, 'epochs', { min: 1, max: 1000 }) ?? 2;
  const qatStart = optInt(args, 'qat-start', { min: 0, max: epochs }) ?? Math.floor(epochs / 2);
  return { epochs, qatStart };
}

function classWeightsOption(args: ParsedArgs): TrainRequest['classWeights'] {
  const v = args.options.get('class-weights');
  if (v === undefined) return undefined;
  if (v === true) return true;
  const w = v.split(',').map((x) => Number(x.trim()));
  if (w.length < 2 || w.some((x) => !Number.isFinite(x) || x < 0)) throw new UsageError(`--class-weights expects no value (inverse frequency) or one weight ≥ 0 per class like 1,5; got "${v}".`);
  return w;
}

export async function trainRequest(args: ParsedArgs): Promise<TrainRequest> {
  const fromRun = optString(args, 'from-run');
  const source = dataSource(args);
  if (fromRun && args.options.has('float-epochs') && optInt(args, 'float-epochs') !== 0) {
    throw new UsageError('--from-run continues a finished run with QAT only: leave out --float-epochs (its float phase is the source run\'s).');
  }
  if (fromRun && (args.options.has('epochs') || args.options.has('qat-start'))) throw new UsageError('--from-run takes --qat-epochs, not --epochs/--qat-start.');
  const { epochs, qatStart } = fromRun ? { epochs: optInt(args, 'qat-epochs', { min: 1, max: 1000 }) ?? 1, qatStart: 0 } : phaseEpochs(args);
  const layerBits: Record<string, WeightBits> = {};
  for (const item of (optString(args, 'layer-bits') ?? '').split(',').filter(Boolean)) {
    const [name, b] = item.split('=');
    if (!name || b === undefined) throw new UsageError(`--layer-bits expects name=bits,..., got "${item}".`);
    layerBits[name.trim()] = parseBits(b.trim(), `--layer-bits ${name}`);
  }
  const sourceRequest = fromRun ? (await readRunFile(resolve(fromRun))).request : undefined;
  if (!source && (optString(args, 'limit') !== undefined || args.options.has('test') || args.options.has('validation'))) {
    throw new UsageError('--limit/--test/--validation need --data or --example; without them --from-run trains on the source run\'s data and split.');
  }
  // A chain keeps its source's network (a zoo name, a file, or the stored model itself) unless --model names another.
  const inherited = fromRun && !args.options.has('model') ? sourceRequest : undefined;
  let model: TrainRequest['model'];
  let checkpoint: string | undefined;
  let inputShape: TrainRequest['inputShape'];
  if (inherited) {
    model = inherited.model;
    checkpoint = inherited.checkpoint;
    inputShape = inherited.inputShape;
  } else {
    const spec = optString(args, 'model') ?? (source?.kind === 'example' ? 'ai85net5' : 'ecgnet');
    if (!(ZOO_NAMES as string[]).includes(spec) && !/\.(onnx|json|ya?ml)$/i.test(spec))
      throw new UsageError(`--model expects ${ZOO_NAMES.join(', ')}, or a .onnx, model .json or ai8x .yaml file, got "${spec}".`);
    model = (ZOO_NAMES as string[]).includes(spec) ? spec : resolve(spec);
    checkpoint = optString(args, 'checkpoint');
    if (checkpoint && !/\.ya?ml$/i.test(spec)) throw new UsageError('--checkpoint goes with an ai8x network --model NET.yaml.');
    if (/\.ya?ml$/i.test(spec) && !checkpoint) throw new UsageError(`--model ${spec} (an ai8x network YAML) needs --checkpoint CKPT.pth.tar.`);
    inputShape = parseInputShape(optString(args, 'input-shape'));
  }
  // --device names the compute device (cpu, cuda); the accelerator is --target (or --device MAX7800x, as before).
  const deviceArg = optString(args, 'device');
  const targetDevice = /^MAX7800[02]$/.test(deviceArg ?? '') ? deviceArg : undefined;
  const computeDevice = deviceArg !== undefined && !targetDevice ? deviceArg : undefined;
  if (computeDevice !== undefined && !/^(cpu|cuda(:\d+)?)$/.test(computeDevice)) {
    throw new UsageError(`--device expects cpu, cuda, cuda:N (compute) or MAX78002, MAX78000 (target), got "${computeDevice}".`);
  }
  const target = optChoice(args, 'target', ['MAX78002', 'MAX78000']);
  if (target && targetDevice && target !== targetDevice) throw new UsageError(`--target ${target} and --device ${targetDevice} disagree.`);
  const device = target ?? targetDevice;
  const engine = optChoice(args, 'engine', ['embedded', 'pytorch']) ?? 'embedded';
  const python = optString(args, 'python');
  const gpus = optInt(args, 'gpus', { min: 1, max: 64 });
  const threads = optInt(args, 'threads', { min: 1, max: 256 });
  if (engine === 'embedded') {
    const only = [['python', python], ['gpus', gpus], ['threads', threads], ['device', computeDevice]].find(([, v]) => v !== undefined);
    if (only) throw new UsageError(`--${only[0]} applies to --engine pytorch only.`);
  }
  const limit = optInt(args, 'limit', { min: 1 });
  const test = optNumber(args, 'test', { gt: 0 });
  const validation = optNumber(args, 'validation', { min: 0 });
  const seed = optInt(args, 'seed');
  const bits = optString(args, 'bits');
  const sq = optNumber(args, 'shift-quantile', { gt: 0, max: 1 });
  const bs = optInt(args, 'batch-size', { min: 1, max: 4096 });
  const qbs = optInt(args, 'qat-batch-size', { min: 1, max: 4096 });
  const lr = optNumber(args, 'lr', { gt: 0, max: 10 });
  const qlr = optNumber(args, 'qat-lr', { gt: 0, max: 10 });
  const schedule = lrSchedule(args, 'lr-schedule');
  const qatSchedule = lrSchedule(args, 'qat-lr-schedule') ?? schedule;
  const monitor = optChoice(args, 'monitor', ['loss', 'accuracy'] as const);
  const restoreBest = !args.options.has('no-restore-best');
  const stopping = (key: string) => {
    const patience = optInt(args, key, { min: 1, max: 1000 });
    return patience === undefined ? undefined : { patience, monitor: monitor === 'accuracy' ? 'valAccuracy' as const : 'valLoss' as const, restoreBest };
  };
  const floatStop = stopping('patience');
  const qatStop = stopping('qat-patience');
  if (monitor && !floatStop && !qatStop) throw new UsageError('--monitor needs --patience or --qat-patience.');
  const scheduleSpec = optString(args, 'bits-schedule');
  const bitsSchedule = scheduleSpec !== undefined ? parseBitsSchedule(scheduleSpec, epochs - qatStart) : undefined;
  const classWeights = classWeightsOption(args);
  const out = optString(args, 'out');
  const projectDir = optString(args, 'project');
  const split = {
    ...(test !== undefined ? { test } : {}),
    ...(validation !== undefined ? { validation } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
  const qat = {
    ...(qlr !== undefined ? { learningRate: qlr } : {}),
    ...(qatSchedule ? { lrSchedule: qatSchedule } : {}),
    ...(qbs !== undefined ? { batchSize: qbs } : {}),
    ...(qatStop ? { earlyStopping: qatStop } : {}),
  };
  return {
    // A chain trains on the source run's data unless other data is given.
    data: source ? { source, ...(limit !== undefined ? { limit } : {}), ...(Object.keys(split).length ? { split } : {}) } : sourceRequest!.data,
    model,
    ...(checkpoint ? { checkpoint: resolve(checkpoint) } : {}),
    ...(inputShape ? { inputShape } : {}),
    ...(device ? { device: device as 'MAX78002' | 'MAX78000' } : {}),
    epochs,
    qatStart,
    ...(bits !== undefined ? { bits: parseBits(bits, '--bits') } : {}),
    ...(Object.keys(layerBits).length ? { layerBits } : {}),
    ...(bitsSchedule ? { bitsSchedule } : {}),
    ...(sq !== undefined ? { shiftQuantile: sq } : {}),
    ...(bs !== undefined ? { batchSize: bs } : {}),
    ...(lr !== undefined ? { learningRate: lr } : {}),
    ...(schedule ? { lrSchedule: schedule } : {}),
    ...(floatStop ? { earlyStopping: floatStop } : {}),
    ...(Object.keys(qat).length ? { qat } : {}),
    ...(classWeights !== undefined ? { classWeights } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(out ? { outDir: resolve(out) } : {}),
    engine,
    ...(computeDevice !== undefined ? { computeDevice } : {}),
    ...(gpus !== undefined ? { gpus } : {}),
    ...(threads !== undefined ? { threads } : {}),
    ...(projectDir ? { projectDir: resolve(projectDir) } : {}),
    ...(fromRun ? { fromRun: resolve(fromRun) } : {}),
  };
}

const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(2)} %`);

/** The comparison as text: one line per row, per-class recall, and the early-stopping facts. */
export function comparisonLines(r: TrainResultDto): string[] {
  const lines = [`${'row'.padEnd(28)}${'accuracy'.padStart(10)}${'macro-F1'.padStart(10)}${'weights B'.padStart(11)}${'MAE'.padStart(9)}${'SQNR dB'.padStart(9)}  recall per class`];
  for (const row of r.rows) {
    lines.push(`${row.name.padEnd(28)}${pct(row.accuracy).padStart(10)}${row.macroF1.toFixed(3).padStart(10)}${String(row.weightBytes).padStart(11)}${row.mae.toFixed(4).padStart(9)}${(row.sqnrDb === null ? '—' : row.sqnrDb.toFixed(1)).padStart(9)}  ${row.perClass.map((c) => `${c.label} ${pct(c.recall)}`).join(', ')}${row.collapsed ? '  COLLAPSED' : ''}`);
  }
  const ph = r.phases;
  lines.push(`float phase ${ph.float.epochs} epoch(s)${ph.float.stoppedEarly ? ', stopped early' : ''}${ph.float.bestEpoch !== null ? `, best epoch ${ph.float.bestEpoch + 1}` : ''}; QAT ${ph.qat.epochs} epoch(s) from epoch ${r.qatStart + 1}${ph.qat.stoppedEarly ? ', stopped early' : ''}${ph.qat.bestEpoch !== null ? `, best epoch ${ph.qat.bestEpoch + 1}` : ''}`);
  return lines;
}

/** A training job's call options: Ctrl-C cancels it, and each new `[phase] message` goes to stderr. */
export function trainingJob(io: CommandIo): CallOptions {
  let lastLine = '';
  return {
    ...(io.signal ? { signal: io.signal } : {}),
    onProgress(p) {
      const line = `[${p.phase}] ${p.message ?? ''}`;
      if (line !== lastLine) io.err(line);
      lastLine = line;
    },
  };
}

export const command: Command = {
  name: 'train',
  summary: 'Train float then QAT, and export the izer-ready files.',
  usage: USAGE,
  options: [
    'example', 'data', 'label-column', 'labels', 'scale', 'epochs', 'qat-start', 'float-epochs', 'qat-epochs', 'bits', 'layer-bits', 'bits-schedule',
    'shift-quantile', 'model', 'checkpoint', 'input-shape', 'limit', 'test', 'validation', 'seed', 'batch-size', 'qat-batch-size', 'lr', 'qat-lr', 'lr-schedule', 'qat-lr-schedule',
    'patience', 'qat-patience', 'monitor', 'device', 'target', 'out', 'engine', 'python', 'gpus', 'threads', 'project', 'from-run',
  ],
  optionalValues: ['class-weights'],
  booleans: ['no-restore-best'],
  async run(args, io) {
    const req = await trainRequest(args);
    const json = args.options.has('json');
    // --python is the person at the command line choosing a program: a tool override, never a request field.
    const python = optString(args, 'python');
    const overrides = python !== undefined ? { toolOverrides: { torchPython: python } } : {};
    const result = await withServices(['training'], overrides, ({ api }) => api.training.train(req, trainingJob(io)));
    if (json) {
      io.out(JSON.stringify(result));
    } else {
      for (const line of comparisonLines(result)) io.out(line);
      io.out(`${result.samplesPerSecond.toFixed(0)} samples/s, ${result.engine} engine on ${result.backend}, ${result.seconds.toFixed(1)} s`);
      const v = result.verification;
      if (v) io.out(`checkpoint: ${v.batchNormLeft === 0 ? 'no BatchNorm layers left' : `${v.batchNormLeft} BatchNorm entries left`}; QAT parameters on ${v.qatParameters} layers; weights ${v.onGrid ? 'on' : 'NOT on'} the bit grid`);
      if (result.outDir) io.out(`exports in ${result.outDir}: ${result.files?.join(', ')}`);
    }
    for (const w of result.collapseWarnings) io.err(`warning: collapsed: ${w}`);
    return 0;
  },
};
