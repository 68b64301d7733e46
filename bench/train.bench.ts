// Training throughput: the embedded tfjs engine (training/trainer.ts trainStep on the chosen
// backend), the PyTorch engine (resources/pytorch as the app runs it, 1 CPU thread, float phase) and
// bare PyTorch (Debian's /usr/bin/python3 torch, 1 and 2 threads) on the same networks, batch size
// and optimiser (Adam), in one run: ROUNDS (3) rounds of the three back to back, medians printed.
// Each bare/tfjs measurement warms up 3 steps, then times steps for
// ~5 s on random data from 4 pre-made batches; the PyTorch engine trains 3 epochs of random data
// (its own samples/s of the last epoch, gather and progress included). Prints samples/s (medians) and the ratios (median of each round's own ratio);
// the engine's overhead over bare PyTorch also per second of CPU time, which a loaded machine moves less.
import { spawnSync } from 'node:child_process';
import type { Model } from '../src-main/ir/graph.ts';
import { ai85net5, ecgNet } from '../src-main/ir/zoo.ts';
import { initBackend, tf } from '../src-main/training/backend.ts';
import { Adam } from '../src-main/training/adam.ts';
import { createVars, disposeVars, planNetwork, trainableVars } from '../src-main/training/network.ts';
import { seededRng as makeRng } from '../src-main/data/random.ts';
import { trainStep } from '../src-main/training/trainer.ts';
import { trainWithPytorch, type ComputeDevice } from '../src-main/training/pytorch-engine.ts';
import type { TrainProgress } from '../src-main/training/train-types.ts';

const BATCH = Number(process.env.BATCH ?? 64);
const SECONDS = Number(process.env.SECONDS ?? 5);

function measureTfjs(model: Model, classes: number): number {
  const plans = planNetwork(model, () => false);
  const vars = tf.tidy(() => createVars(plans, makeRng(1)) as unknown as tf.TensorContainer) as unknown as ReturnType<typeof createVars>;
  const adam = new Adam(trainableVars(vars));
  const rng = makeRng(2);
  const per = model.input.channels * model.input.dims.reduce((a, b) => a * b, 1);
  const count = 4 * BATCH;
  const dataset = {
    name: 'random', count, channels: model.input.channels, dims: model.input.dims,
    x: Float32Array.from({ length: count * per }, () => Math.round((rng() * 2 - 1) * 127) / 128),
    y: Int32Array.from({ length: count }, () => Math.floor(rng() * classes)),
    classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
  };
  const batches = [0, 1, 2, 3].map((b) => Int32Array.from({ length: BATCH }, (_, i) => b * BATCH + i));
  const config = { epochs: 1, qatStartEpoch: 1, batchSize: BATCH, learningRate: 1e-3, weightBits: 8 as const };
  const step = (i: number) => trainStep(plans, vars, adam, dataset, batches[i % 4]!, plans[0]!.inShape, classes, 1e-3, undefined, config);
  for (let i = 0; i < 3; i++) step(i);
  const start = performance.now();
  let steps = 0;
  while (performance.now() - start < SECONDS * 1000) step(steps++);
  const seconds = (performance.now() - start) / 1000;
  adam.dispose();
  disposeVars(vars);
  return (steps * BATCH) / seconds;
}

// The same networks in PyTorch, NCHW, with the ai8x float-mode clamps (ReLU then clamp to 127/128,
// avg-pool clamp, wide output clamp ±2^15), Adam(1e-3) and cross-entropy.
const PYTHON = String.raw`
import json, sys, time, torch
from torch import nn
net, batch, seconds, threads = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
torch.manual_seed(0)
class Clamp(nn.Module):
    def __init__(self, lo, hi):
        super().__init__(); self.lo, self.hi = lo, hi
    def forward(self, x): return x.clamp(self.lo, self.hi)
R = lambda: [nn.ReLU(), Clamp(-1.0, 127/128)]
A = lambda: Clamp(-1.0, 127/128)
if net == 'ai85net5':
    model = nn.Sequential(
        nn.Conv2d(1, 60, 3, padding=1, bias=False), *R(),
        nn.MaxPool2d(2), nn.Conv2d(60, 60, 3, padding=2, bias=False), *R(),
        nn.MaxPool2d(2), nn.Conv2d(60, 56, 3, padding=1, bias=False), *R(),
        nn.AvgPool2d(2), A(), nn.Conv2d(56, 12, 3, padding=1, bias=False), *R(),
        nn.Flatten(), nn.Linear(192, 10), Clamp(-32768.0, 32768.0))
    shape, classes = (1, 28, 28), 10
else:
    model = nn.Sequential(
        nn.Conv1d(1, 16, 5, padding=2), *R(),
        nn.MaxPool1d(4), nn.Conv1d(16, 32, 5, padding=2), *R(),
        nn.MaxPool1d(4), nn.Conv1d(32, 64, 3, padding=1), *R(),
        nn.AvgPool1d(4), A(), nn.Conv1d(64, 64, 3, padding=1), *R(),
        nn.Flatten(), nn.Linear(512, 5), Clamp(-32768.0, 32768.0))
    shape, classes = (1, 512), 5
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
xs = [(torch.rand(batch, *shape) * 2 - 1) for _ in range(4)]
ys = [torch.randint(0, classes, (batch,)) for _ in range(4)]
def step(i):
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(xs[i % 4]), ys[i % 4])
    loss.backward()
    opt.step()
for i in range(3): step(i)
start, cpu = time.perf_counter(), time.process_time(); n = 0
while time.perf_counter() - start < seconds:
    step(n); n += 1
print(json.dumps({"samplesPerSecond": n * batch / (time.perf_counter() - start), "samplesPerCpuSecond": n * batch / (time.process_time() - cpu), "torch": torch.__version__}))
`;

function measureTorch(net: string, threads: number): { samplesPerSecond: number; samplesPerCpuSecond: number; torch: string } | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', PYTHON, net, String(BATCH), String(SECONDS), String(threads)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    console.error(`PyTorch ${net} (${threads} threads) failed: ${r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { samplesPerSecond: number; samplesPerCpuSecond: number; torch: string };
}

const PYTHON_ENGINE = process.env.QATWB_PYTHON ?? '/usr/bin/python3';
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const median = (v: number[]): number | undefined => (v.length ? [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] : undefined);
/** bench/train-gpu.sh: the PyTorch engine alone, on QATWB_TORCH_DEVICE (e.g. cuda), default threads. */
const ENGINE_ONLY = process.env.ENGINE_ONLY === '1';
const ENGINE_DEVICE = (process.env.QATWB_TORCH_DEVICE ?? 'cpu') as ComputeDevice;

/** The engine's rate in its last epoch: wall clock, and per second of its process's CPU time. */
async function measureEngine(model: Model, classes: number, t1?: number, batches?: number): Promise<{ wall: number; cpu?: number } | undefined> {
  const rng = makeRng(3);
  const per = model.input.channels * model.input.dims.reduce((a, b) => a * b, 1);
  // `batches` an epoch, else about SECONDS/3 of training per epoch at the bare rate (20 batches when unknown).
  const count = (batches ?? Math.max(8, Math.round(((t1 ?? 20 * BATCH) * SECONDS) / 3 / BATCH))) * BATCH + 64;
  const dataset = {
    name: 'random', count, channels: model.input.channels, dims: model.input.dims,
    x: Float32Array.from({ length: count * per }, () => Math.round((rng() * 2 - 1) * 127) / 128),
    y: Int32Array.from({ length: count }, () => Math.floor(rng() * classes)),
    classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
  };
  const idx = Int32Array.from({ length: count }, (_, i) => i);
  // The last epoch's rate from the engine's own progress (steady state, like the warmed-up bare runs).
  let last: TrainProgress | undefined;
  try {
    const r = await trainWithPytorch(model, { dataset, split: { train: idx.subarray(64), validation: idx.subarray(0, 64), test: idx.subarray(0, 0) } },
      { epochs: 3, qatStartEpoch: 3, batchSize: BATCH, learningRate: 1e-3 },
      { python: PYTHON_ENGINE, device: ENGINE_DEVICE, ...(ENGINE_DEVICE === 'cpu' ? { threads: 1 } : {}) },
      { onProgress: (p) => (last = p) });
    return last && last.epoch === 2 && last.batch === last.batches
      ? { wall: last.samplesPerSecond, ...(last.samplesPerCpuSecond !== undefined ? { cpu: last.samplesPerCpuSecond } : {}) }
      : { wall: r.samplesPerSecond };
  } catch (e) {
    console.error(`PyTorch engine ${model.arch} failed: ${(e as Error).message}`);
    return undefined;
  }
}

if (ENGINE_ONLY) {
  // EPOCH_BATCHES batches an epoch (default 50: ai85net5 at batch 1024 is 51k samples, 160 MB of data).
  const batches = Number(process.env.EPOCH_BATCHES ?? 50);
  for (const [name, model, classes] of [['ecgnet', ecgNet(), 5], ['ai85net5', ai85net5(), 10]] as const) {
    const rate = await measureEngine(model, classes, undefined, batches);
    console.log(`${name.padEnd(9)} PyTorch engine on ${ENGINE_DEVICE}, batch ${BATCH}: ${rate?.wall.toFixed(0) ?? 'n/a'} samples/s`);
  }
  process.exit(0);
}

const backend = await initBackend();
console.log(`train bench: batch ${BATCH}, ~${SECONDS} s per measurement; tfjs backend ${backend.description}`);
const rows: { net: string; tfjs: number; engine?: number; engineCpu?: number; t1?: number; t1Cpu?: number; t2?: number; rounds: unknown[]; ratios: Record<string, number | undefined> }[] = [];
const f = (v?: number) => (v === undefined ? 'n/a' : v.toFixed(0));
const r2 = (a?: number, b?: number) => (a !== undefined && b ? (a / b).toFixed(2) : 'n/a');
/** 1 − engine/bare in % from their ratio; the CPU-time figure moves less with the load of a shared machine than the wall-clock one. */
const overhead = (ratio?: number) => (ratio !== undefined ? ((1 - ratio) * 100).toFixed(1) : 'n/a');
for (const [name, model, classes] of [['ecgnet', ecgNet(), 5], ['ai85net5', ai85net5(), 10]] as const) {
  // Rounds of embedded / bare 1 thread / engine back to back, medians: on a shared machine the load
  // moves between measurements, and a ratio from neighbours in time is what means something.
  const runs: { tfjs: number; t1?: number; t1Cpu?: number; engine?: number; engineCpu?: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const bare = measureTorch(name, 1);
    const eng = await measureEngine(model, classes, bare?.samplesPerSecond);
    runs.push({
      tfjs: measureTfjs(model, classes),
      ...(bare ? { t1: bare.samplesPerSecond, t1Cpu: bare.samplesPerCpuSecond } : {}),
      ...(eng ? { engine: eng.wall, ...(eng.cpu !== undefined ? { engineCpu: eng.cpu } : {}) } : {}),
    });
  }
  const med = (key: 't1' | 't1Cpu' | 'engine' | 'engineCpu') => median(runs.flatMap((r) => (r[key] !== undefined ? [r[key]] : [])));
  const tfjs = median(runs.map((r) => r.tfjs))!;
  const [t1, t1Cpu, engine, engineCpu] = [med('t1'), med('t1Cpu'), med('engine'), med('engineCpu')];
  const t2 = measureTorch(name, 2)?.samplesPerSecond;
  // Ratios are medians of each round's own ratio (same load), not ratios of the medians.
  const perRound = (a: (r: (typeof runs)[number]) => number | undefined, b: (r: (typeof runs)[number]) => number | undefined) =>
    median(runs.flatMap((r) => (a(r) !== undefined && b(r) ? [a(r)! / b(r)!] : [])));
  const embeddedVsT1 = perRound((r) => r.tfjs, (r) => r.t1);
  const engineVsEmbedded = perRound((r) => r.engine, (r) => r.tfjs);
  const engineVsT1 = perRound((r) => r.engine, (r) => r.t1);
  const engineCpuVsT1 = perRound((r) => r.engineCpu, (r) => r.t1Cpu);
  rows.push({
    net: name, tfjs, ...(engine !== undefined ? { engine } : {}), ...(engineCpu !== undefined ? { engineCpu } : {}),
    ...(t1 !== undefined ? { t1 } : {}), ...(t1Cpu !== undefined ? { t1Cpu } : {}), ...(t2 !== undefined ? { t2 } : {}),
    rounds: runs, ratios: { embeddedVsT1, engineVsEmbedded, engineVsT1, engineCpuVsT1 },
  });
  console.log(
    `${name.padEnd(9)} embedded ${f(tfjs).padStart(6)} | PyTorch engine (1 thread) ${f(engine).padStart(6)} | bare PyTorch 1 thread ${f(t1)}, 2 threads ${f(t2)} samples/s`,
  );
  console.log(
    `${' '.repeat(9)} PyTorch engine / embedded ${r2(engineVsEmbedded, 1)}× (goal ≥ 1.8) | embedded / PyTorch 1 thread ${r2(embeddedVsT1, 1)}× (goal ≥ 0.6 on ai85net5)` +
      ` | engine overhead over bare PyTorch (same net, batch, 1 thread; process start excluded) ${overhead(engineVsT1)} % wall clock,` +
      ` ${overhead(engineCpuVsT1)} % CPU time (goal ≤ 10 %)`,
  );
}
console.log(JSON.stringify({ batch: BATCH, backend: backend.description, rows }));
// The threaded WASM backend keeps pthread workers alive; end the process once the figures are out.
process.exit(0);
