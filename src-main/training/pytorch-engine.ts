// The PyTorch training engine: resources/pytorch/qatwb_torch run as a child process through the
// toolchain's runProcess (cancel, timeout, log). The app writes a job folder (model.json, the data
// set as .npy, job.json with the TrainConfig), the engine streams JSON lines (progress, epoch
// records with per-layer ranges) and writes the trained parameters and the resumable state as .npy
// files in the embedded engine's layouts, so the result is a TrainResult like trainer.ts returns:
// quantization, export, the comparison table and the Quantize view need no second path. After every
// epoch the engine writes the same state to a checkpoint folder and says so; it reaches the app
// through hooks.onCheckpoint (the run store keeps it), so a run whose Python dies goes on from there.
// Several processes (`processes` > 1) start through torchrun (DDP); a command prefix such as
// `ssh host` runs everything on another machine, with the job folder moved there and back by tar.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model, WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import type { Dataset, Split } from '../data/dataset.ts';
import { serializeModel } from '../ir/schema.ts';
import { opHasWeights } from '../ir/ops/registry.ts';
import { readNpy, writeNpy } from '../formats/npy.ts';
import { formatCommand, runProcess } from '../toolchain/run-process.ts';
import { ToolchainError } from '../toolchain/toolchain-error.ts';
import type { EpochRecord, TrainConfig, TrainProgress, TrainResult, TrainState, WidthSegment } from './train-types.ts';
import { planStages } from './stages.ts';
import type { TrainHooks } from './trainer.ts';

/** The engine's Python package (shipped with the app). */
export const PYTORCH_PACKAGE_DIR = fileURLToPath(new URL('../../resources/pytorch/', import.meta.url));
const PROTOCOL = 1;

export type ComputeDevice = 'cpu' | 'cuda' | `cuda:${number}`;

export interface PytorchEngineOptions {
  /** A Python with torch and numpy. */
  python: string;
  device?: ComputeDevice;
  /** Worker processes (DDP through torchrun): one per GPU with cuda, CPU processes (gloo) with cpu. Default 1. */
  processes?: number;
  /** torch.set_num_threads per process (default: PyTorch's own choice). */
  threads?: number;
  /** Runs the engine elsewhere: argv prefix that takes one shell command, e.g. ['ssh', 'gpu-box']. */
  remotePrefix?: string[];
  /** Folder for the job on the remote machine (default /tmp/qatwb-train-<id>). */
  remoteDir?: string;
  timeoutMs?: number;
  /** Every engine output line (the log). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Keep the local job folder (for inspection); default: removed. */
  keepJobDir?: boolean;
}

export interface PytorchTrainResult extends TrainResult {
  engine: 'pytorch';
  device: string;
  worldSize: number;
}

/** Non-finite numbers travel as {"$num": "NaN"} (JSON has none); this reviver restores them. */
export function reviveNumbers(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$num') return Number(o.$num);
  }
  return v;
}

const f32 = (a: Float32Array, shape: number[]) => writeNpy({ dtype: 'float32', shape, data: a });
const i32 = (a: Int32Array) => writeNpy({ dtype: 'int32', shape: [a.length], data: a });

async function readF32(file: string): Promise<{ data: Float32Array; shape: number[] }> {
  const a = readNpy(await readFile(file), file);
  if (a.dtype !== 'float32') throw new Error(`${file}: expected float32, got ${a.dtype}`);
  return { data: a.data as Float32Array, shape: a.shape };
}

/** The float parameters of the layers with weights (a pooling-only layer has none), like the embedded engine's. */
async function readParams(dir: string, model: Model): Promise<FloatLayerParams[]> {
  return Promise.all(model.layers.filter((l) => opHasWeights(l.op)).map(async (l) => {
    const w = await readF32(join(dir, `${l.name}.weight.npy`));
    const biasFile = join(dir, `${l.name}.bias.npy`);
    return { name: l.name, weight: w.data, bias: existsSync(biasFile) ? (await readF32(biasFile)).data : null };
  }));
}

async function writeParams(dir: string, params: readonly FloatLayerParams[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const p of params) {
    await writeFile(join(dir, `${p.name}.weight.npy`), f32(p.weight, [p.weight.length]));
    if (p.bias) await writeFile(join(dir, `${p.name}.bias.npy`), f32(p.bias, [p.bias.length]));
  }
}

/** The job folder: model, data, config, the stage plan and (to resume) the state in the embedded engine's layouts. */
async function writeJob(dir: string, model: Model, data: { dataset: Dataset; split: Split }, config: TrainConfig, opts: PytorchEngineOptions, checkpoints: boolean): Promise<void> {
  const { dataset, split } = data;
  const { resumeFrom, ...plainConfig } = config;
  // The plan both engines follow (stages.ts); the saved QAT start holds once QAT began.
  const qatStart = resumeFrom?.bnFolded ? resumeFrom.qatStart ?? config.qatStartEpoch : config.qatStartEpoch;
  const stages = planStages(model, config, qatStart);
  await writeFile(join(dir, 'model.json'), JSON.stringify(serializeModel({ ...model, layers: model.layers.map(({ params: _p, init: _i, ...l }) => l) })));
  // Float starting weights from the IR (an imported or saved network) as .npy, PyTorch layout.
  const withInit = model.layers.filter((l) => l.init);
  if (withInit.length) await mkdir(join(dir, 'init'), { recursive: true });
  for (const l of withInit) {
    const init = l.init!;
    await writeFile(join(dir, 'init', `${l.name}.weight.npy`), f32(init.weight, [init.weight.length]));
    if (init.bias) await writeFile(join(dir, 'init', `${l.name}.bias.npy`), f32(init.bias, [init.bias.length]));
    for (const [k, a] of Object.entries(init.bn ?? {})) await writeFile(join(dir, 'init', `${l.name}.bn.${k}.npy`), f32(a, [a.length]));
  }
  await writeFile(join(dir, 'x.npy'), f32(dataset.x, [dataset.count, dataset.channels, ...dataset.dims]));
  await writeFile(join(dir, 'y.npy'), i32(dataset.y));
  await writeFile(join(dir, 'train.npy'), i32(split.train));
  await writeFile(join(dir, 'validation.npy'), i32(split.validation));
  let resume: Record<string, unknown> | undefined;
  if (resumeFrom) resume = await writeResumeState(dir, 'resume', resumeFrom);
  const job = {
    protocol: PROTOCOL,
    model: 'model.json',
    data: { x: 'x.npy', y: 'y.npy', train: 'train.npy', validation: 'validation.npy' },
    classes: dataset.classNames.length,
    config: plainConfig,
    stages, planKey: JSON.stringify(stages), qatStart,
    ...(withInit.length ? { init: 'init' } : {}),
    device: opts.device ?? 'cpu',
    ...(opts.threads ? { threads: opts.threads } : {}),
    out: 'out',
    ...(checkpoints ? { checkpoints: true } : {}),
    ...(resume ? { resume } : {}),
  };
  await writeFile(join(dir, 'job.json'), JSON.stringify(job, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? { $num: String(v) } : v)));
}

type Vars = TrainState['variables'];

async function writeVars(dir: string, vars: Vars): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const v of vars) await writeFile(join(dir, `${v.name}.npy`), f32(v.data, v.shape));
}

async function readVars(dir: string, list: { name: string; shape: number[] }[]): Promise<Vars> {
  return Promise.all(list.map(async (v) => ({ name: v.name, shape: v.shape, data: (await readF32(join(dir, `${v.name}.npy`))).data })));
}

/** The state as files under `root/rel` and the JSON the engine reads (paths relative to root). */
async function writeResumeState(root: string, rel: string, s: TrainState): Promise<Record<string, unknown>> {
  const dir = join(root, rel);
  await writeVars(join(dir, 'vars'), s.variables);
  if (s.optimizer) {
    await writeFile(join(dir, 'adam_m.npy'), f32(s.optimizer.m, [s.optimizer.m.length]));
    await writeFile(join(dir, 'adam_v.npy'), f32(s.optimizer.v, [s.optimizer.v.length]));
  }
  if (s.floatModelParams) await writeParams(join(dir, 'floatModel'), s.floatModelParams);
  if (s.best?.variables) await writeVars(join(dir, 'best'), s.best.variables);
  const segments = [];
  for (const [i, seg] of (s.segments ?? []).entries()) {
    await writeParams(join(dir, 'segments', String(i)), seg.params);
    const { params: _p, ...meta } = seg;
    segments.push({ ...meta, params: `${rel}/segments/${i}` });
  }
  const { variables: _v, optimizer, floatModelParams, best, segments: _s, ...plainState } = s;
  return {
    ...plainState, dir: rel,
    bestValLoss: Number.isFinite(s.bestValLoss) ? s.bestValLoss : null,
    ...(optimizer ? { adamStep: optimizer.step } : {}),
    ...(floatModelParams ? { floatModelParams: `${rel}/floatModel` } : {}),
    ...(best ? { best: { value: best.value, epoch: best.epoch, ...(best.variables ? { variables: `${rel}/best` } : {}) } } : {}),
    segments,
  };
}

interface ResultFile {
  outputShifts: number[];
  layerBits: WeightBits[];
  samplesPerSecond: number;
  backend: string;
  device: string;
  worldSize: number;
  hasFloatModel: boolean;
  cancelled?: boolean;
  stoppedAt?: { epoch: number; batch: number };
  state: Omit<TrainState, 'variables' | 'optimizer' | 'floatModelParams' | 'best' | 'segments' | 'bestValLoss'> & {
    bestValLoss: number | null;
    adamStep: number;
    variables: { name: string; shape: number[] }[];
    best: { value: number; epoch: number; variables?: string } | null;
    segments: (Omit<WidthSegment, 'params'> & { params: string })[];
  };
}

async function readResult(out: string, model: Model): Promise<PytorchTrainResult> {
  const file = join(out, 'result.json');
  const r = JSON.parse(await readFile(file, 'utf8'), reviveNumbers) as ResultFile;
  const floatParams = await readParams(join(out, 'final'), model);
  const floatModelParams = r.hasFloatModel ? await readParams(join(out, 'floatModel'), model) : undefined;
  const { variables: varList, adamStep, best: bestDoc, segments: segDocs, bestValLoss, ...rest } = r.state;
  const variables = await readVars(join(out, 'state', 'vars'), varList);
  const segments: WidthSegment[] = await Promise.all(segDocs.map(async (seg) => ({ ...seg, params: await readParams(join(out, seg.params), model) })));
  const best = bestDoc
    ? { value: bestDoc.value, epoch: bestDoc.epoch, ...(bestDoc.variables ? { variables: await readVars(join(out, bestDoc.variables), varList) } : {}) }
    : undefined;
  const state: TrainState = {
    ...rest, variables,
    optimizer: { m: (await readF32(join(out, 'state', 'adam_m.npy'))).data, v: (await readF32(join(out, 'state', 'adam_v.npy'))).data, step: adamStep },
    bestValLoss: bestValLoss ?? Infinity, segments,
    ...(best ? { best } : {}),
    ...(floatModelParams ? { floatModelParams } : {}),
  };
  return {
    engine: 'pytorch', device: r.device, worldSize: r.worldSize,
    floatParams, outputShifts: r.outputShifts, layerBits: r.layerBits, history: r.state.history, state,
    ...(floatModelParams ? { floatModelParams } : {}),
    backend: r.backend, samplesPerSecond: r.samplesPerSecond,
    ...(r.cancelled ? { cancelled: true, stoppedAt: r.stoppedAt ?? { epoch: r.state.epoch, batch: 0 } } : {}),
    qatStart: r.state.qatStart ?? 0, stoppedEarly: { float: false, qat: false, ...r.state.stopped },
    bestEpoch: { ...r.state.bestEpochs }, segments,
  };
}

/** A TCP port free on this machine now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * python argv of the engine in `jobDir`; torchrun for several processes, its rendezvous on `port`.
 * Not --standalone: torch 1.13 puts that store on the fixed port 29400, so two runs at once on one
 * machine (two users, two test files) would meet in one store and hang or fail when the other ends.
 * is_host=1: this torchrun hosts its own store, or fails at once if the port was taken meanwhile.
 */
function engineArgs(opts: PytorchEngineOptions, jobDir: string, port: number): string[] {
  const n = opts.processes ?? 1;
  const run = ['-m', 'qatwb_torch', 'train', '--job', jobDir];
  // --redirects/--tee 2: worker stderr to a file and to us. ("0" would be the plain choice, but torch
  // 1.13's Std.from_str cannot parse it on Python ≥ 3.11, where IntFlag iteration skips 0.)
  const torchrun = [
    '-m', 'torch.distributed.run', '--nnodes=1', `--nproc_per_node=${n}`, '--max_restarts=0',
    '--rdzv_backend=c10d', `--rdzv_endpoint=127.0.0.1:${port}`, `--rdzv_id=${randomUUID()}`, '--rdzv_conf=is_host=1,join_timeout=120',
    '--redirects', '2', '--tee', '2', '--log_dir', `${jobDir}/torchrun-logs`,
  ];
  return n > 1 ? [...torchrun, ...run] : run;
}

function engineEnv(opts: PytorchEngineOptions, packageDir: string): Record<string, string> {
  return {
    PYTHONPATH: packageDir,
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    // torchrun sets 1 thread per worker unless told; the user's choice wins.
    ...(opts.threads ? { OMP_NUM_THREADS: String(opts.threads) } : {}),
  };
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Pipes `tar -c` of `from` (local) into the prefix running `tar -x` in `to` (remote), or back. */
function tarPipe(source: { argv: string[] }, sink: { argv: string[] }, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const a = spawn(source.argv[0]!, source.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = spawn(sink.argv[0]!, sink.argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    a.stdout.pipe(b.stdin);
    let err = '';
    a.stderr.on('data', (d: Buffer) => (err += d.toString()));
    b.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const onAbort = () => {
      a.kill();
      b.kill();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let done = 0;
    let failed = false;
    const end = (code: number | null) => {
      if (code !== 0) failed = true;
      if (++done < 2) return;
      signal?.removeEventListener('abort', onAbort);
      if (failed) reject(new ToolchainError({ tool: 'pytorch', reason: 'exit', message: `Moving the training job failed: ${formatCommand(source.argv[0]!, source.argv.slice(1))} | ${formatCommand(sink.argv[0]!, sink.argv.slice(1))}: ${err.trim().split('\n').slice(-3).join(' ')}`, fix: 'Check the remote command prefix in Settings (it must run a shell command given as one argument, like ssh host) and that tar exists on both machines.' }));
      else resolve();
    };
    a.on('error', () => end(1));
    b.on('error', () => end(1));
    a.on('close', end);
    b.on('close', end);
  });
}

/**
 * Trains `model` with the PyTorch engine. Progress and epoch records arrive through `hooks` while it
 * runs; aborting `hooks.signal` stops it between batches and resolves with `cancelled: true` and the
 * state reached (the engine saves it on SIGTERM).
 */
export async function trainWithPytorch(
  model: Model,
  data: { dataset: Dataset; split: Split },
  config: TrainConfig,
  opts: PytorchEngineOptions,
  hooks: TrainHooks = {},
): Promise<PytorchTrainResult> {
  const local = await mkdtemp(join(tmpdir(), 'qatwb-torch-'));
  const errors: string[] = [];
  try {
    const remote = opts.remotePrefix && opts.remotePrefix.length > 0;
    // Per-epoch states come back as they are written; a remote run's stay there (its results return at the end).
    const checkpoints = !!hooks.onCheckpoint && !remote;
    await writeJob(local, model, data, config, opts, checkpoints);
    // Checkpoints are read in order, one after the other, while the engine trains on; each folder goes once read.
    let delivered: Promise<void> = Promise.resolve();
    let checkpointError: Error | undefined;
    const deliver = (rel: string) => {
      delivered = delivered.then(async () => {
        const dir = join(local, rel);
        const r = await readResult(dir, model);
        hooks.onCheckpoint?.(r.state);
        await rm(dir, { recursive: true, force: true });
      }).catch((e: Error) => void (checkpointError ??= e));
    };
    const remoteDir = opts.remoteDir ?? `/tmp/qatwb-train-${local.split(/[\\/]/).pop()}`;
    const onLine = (line: string, stream: 'stdout' | 'stderr') => {
      opts.onLine?.(line, stream);
      if (stream !== 'stdout' || !line.startsWith('{')) return;
      let msg: { type?: string; [k: string]: unknown };
      try {
        msg = JSON.parse(line, reviveNumbers) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'progress') {
        const { type: _t, ...p } = msg;
        hooks.onProgress?.(p as unknown as TrainProgress);
      } else if (msg.type === 'epoch') hooks.onEpoch?.(msg.record as EpochRecord);
      else if (msg.type === 'checkpoint' && checkpoints) deliver(String(msg.dir));
      else if (msg.type === 'error') errors.push(String(msg.message));
    };
    const common = {
      tool: 'pytorch' as const, cwd: local, onLine, graceMs: 20_000,
      ...(hooks.signal ? { signal: hooks.signal } : {}), ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    };
    let outDir = join(local, 'out');
    try {
      if (remote) {
        const prefix = opts.remotePrefix!;
        await tarPipe(
          { argv: ['tar', '-cf', '-', '-C', local, '.', '-C', PYTORCH_PACKAGE_DIR, 'qatwb_torch'] },
          { argv: [...prefix, `rm -rf ${shq(remoteDir)} && mkdir -p ${shq(remoteDir)} && tar -xf - -C ${shq(remoteDir)}`] },
          hooks.signal,
        );
        const env = Object.entries({ ...engineEnv(opts, remoteDir) }).map(([k, v]) => `${k}=${shq(v)}`).join(' ');
        const cmd = `cd ${shq(remoteDir)} && ${env} exec ${shq(opts.python)} ${engineArgs(opts, remoteDir, 20_000 + Math.floor(Math.random() * 30_000)).map(shq).join(' ')}`;
        await runProcess({ ...common, file: prefix[0]!, args: [...prefix.slice(1), cmd] }).catch(async (e: unknown) => {
          await fetchRemote(prefix, remoteDir, local).catch(() => undefined);
          throw e;
        });
        await fetchRemote(prefix, remoteDir, local, hooks.signal);
      } else {
        await runProcess({ ...common, file: opts.python, args: engineArgs(opts, local, (opts.processes ?? 1) > 1 ? await freePort() : 0), env: engineEnv(opts, PYTORCH_PACKAGE_DIR) });
      }
    } catch (e) {
      // The epochs finished before a crash or a kill are handed on first: the run goes on from the last.
      await delivered;
      if (e instanceof ToolchainError && e.reason === 'cancelled' && existsSync(join(outDir, 'result.json'))) {
        return await readResult(outDir, model);
      }
      if (e instanceof ToolchainError && errors.length > 0) {
        throw new ToolchainError({ tool: 'pytorch', reason: 'bad-input', message: `PyTorch engine: ${errors.join('; ')}`, fix: 'Fix the input named above and start the run again.' });
      }
      if (e instanceof ToolchainError && e.reason === 'exit' && typeof e.exitCode === 'number' && e.exitCode > 128) {
        // Killed from outside (the kernel's out-of-memory killer, kill -9, a closed session): the epochs done are kept.
        const sig = e.exitCode === 137 ? 'SIGKILL' : e.exitCode === 143 ? 'SIGTERM' : `signal ${e.exitCode - 128}`;
        throw new ToolchainError({
          tool: 'pytorch', reason: 'exit', exitCode: e.exitCode, tail: e.tail,
          message: `The PyTorch engine was killed (${sig}, exit ${e.exitCode}) before the run ended.`,
          fix: checkpoints
            ? 'The state after its last finished epoch is kept: continue the run (the run list, or qatwb runs --continue RUNID). If memory ran out, use a smaller batch size.'
            : 'If memory ran out, use a smaller batch size, then start the run again.',
        });
      }
      throw e;
    }
    await delivered;
    if (checkpointError) {
      throw new ToolchainError({ tool: 'pytorch', reason: 'exit', message: `Reading the engine's per-epoch state failed: ${checkpointError.message}`, fix: 'Check the free space of the temporary folder, then continue the run.' });
    }
    outDir = join(local, 'out');
    if (!existsSync(join(outDir, 'result.json'))) {
      throw new ToolchainError({ tool: 'pytorch', reason: 'exit', message: `The PyTorch engine ended without a result (${join(outDir, 'result.json')} is missing).`, fix: 'Read the engine log; run Doctor to check the Python and its torch.' });
    }
    return await readResult(outDir, model);
  } finally {
    if (!opts.keepJobDir) await rm(local, { recursive: true, force: true });
  }
}

async function fetchRemote(prefix: string[], remoteDir: string, local: string, signal?: AbortSignal): Promise<void> {
  await tarPipe(
    { argv: [...prefix, `tar -cf - -C ${shq(remoteDir)} out && rm -rf ${shq(remoteDir)}`] },
    { argv: ['tar', '-xf', '-', '-C', local] },
    signal,
  );
}

/** What `python -m qatwb_torch info` reports: for the doctor and the Settings view. */
export interface TorchInfo {
  python: string;
  executable: string;
  torch: string;
  threads: number;
  cuda: { index: number; name: string; memoryBytes: number }[];
  distributed: boolean;
}

export async function torchInfo(python: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<TorchInfo> {
  const r = await runProcess({
    tool: 'pytorch', file: python, args: ['-m', 'qatwb_torch', 'info'], cwd: tmpdir(),
    env: engineEnv({ python }, PYTORCH_PACKAGE_DIR), timeoutMs: opts.timeoutMs ?? 60_000, ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const line = [...r.lines].reverse().find((l) => l.startsWith('{"type": "info"'));
  if (!line) throw new ToolchainError({ tool: 'pytorch', reason: 'exit', message: `${python} -m qatwb_torch info printed no report.`, fix: 'Run Doctor; check that this Python has torch and numpy.' });
  return JSON.parse(line) as TorchInfo;
}

/** What the doctor says about a Python's torch, in one line. */
export function describeTorch(python: string, info: TorchInfo): string {
  const cuda = info.cuda.length ? `CUDA ${info.cuda.map((d) => `${d.index}: ${d.name}`).join(', ')}` : 'no CUDA device';
  return `${python}: torch ${info.torch}, ${cuda}, ${info.threads} CPU thread${info.threads === 1 ? '' : 's'}`;
}

/**
 * Fails fast, before any data is written or a run is kept, when `device` asks for CUDA that this
 * Python's torch does not see (none at all, an index past the last GPU, or more processes than GPUs).
 * The message names the flag (and the field) and what the doctor found.
 */
export async function checkComputeDevice(python: string, device: ComputeDevice, processes = 1, opts: { signal?: AbortSignal } = {}): Promise<TorchInfo | undefined> {
  if (!device.startsWith('cuda')) return undefined;
  const info = await torchInfo(python, { timeoutMs: 60_000, ...(opts.signal ? { signal: opts.signal } : {}) });
  const count = info.cuda.length;
  const index = device.includes(':') ? Number(device.split(':')[1]) : 0;
  const fix = 'Train with --device cpu (the compute device CPU), or give --python (Settings → PyTorch Python) a Python whose torch is a CUDA build on a machine with a GPU; qatwb doctor shows what each Python sees.';
  const fail = (what: string): never => {
    throw new ToolchainError({ tool: 'pytorch', reason: 'bad-input', message: `${what}; the doctor found ${describeTorch(python, info)}.`, fix });
  };
  if (count === 0) fail(`--device ${device} (computeDevice): this Python's PyTorch sees no CUDA device`);
  if (index >= count) fail(`--device ${device} (computeDevice): there is no GPU ${index}, this Python's PyTorch sees ${count}`);
  if (processes > count) fail(`--gpus ${processes} (gpus) with --device ${device}: this Python's PyTorch sees ${count} GPU${count === 1 ? '' : 's'}`);
  return info;
}

/**
 * The engine's forward pass on fixed float parameters (PyTorch layout): float mode, or with `qat` the
 * QAT forward with each layer's IR outputShift and weightBits (the equivalence tests use this).
 * Returns n × features, the last layer's output flattened channel-major.
 */
export async function forwardWithPytorch(
  python: string, model: Model, params: readonly FloatLayerParams[], x: Float32Array, n: number, opts: { qat?: boolean; device?: ComputeDevice; signal?: AbortSignal } = {},
): Promise<Float32Array> {
  const dir = await mkdtemp(join(tmpdir(), 'qatwb-torch-fwd-'));
  try {
    await writeFile(join(dir, 'model.json'), JSON.stringify(serializeModel({ ...model, layers: model.layers.map(({ params: _p, init: _i, ...l }) => l) })));
    await writeParams(join(dir, 'params'), params);
    await writeFile(join(dir, 'x.npy'), f32(x.subarray(0, n * (x.length / n)), [n, model.input.channels, ...model.input.dims]));
    const errors: string[] = [];
    await runProcess({
      tool: 'pytorch', file: python, cwd: dir, env: engineEnv({ python }, PYTORCH_PACKAGE_DIR), timeoutMs: 300_000,
      args: ['-m', 'qatwb_torch', 'forward', '--model', 'model.json', '--params', 'params', '--input', 'x.npy', '--out', 'y.npy', ...(opts.qat ? ['--qat'] : []), '--device', opts.device ?? 'cpu'],
      onLine: (line) => {
        if (line.startsWith('{"type": "error"')) errors.push((JSON.parse(line) as { message: string }).message);
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
    }).catch((e: unknown) => {
      throw errors.length ? new ToolchainError({ tool: 'pytorch', reason: 'bad-input', message: `PyTorch engine: ${errors.join('; ')}`, fix: 'Fix the input named above.' }) : e;
    });
    return (await readF32(join(dir, 'y.npy'))).data;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
