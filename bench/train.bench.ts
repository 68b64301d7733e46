// Training throughput: our tfjs engine (training/trainer.ts trainStep on the chosen backend) against
// PyTorch (Debian's /usr/bin/python3 torch, 1 and 2 threads) on the same networks, batch size and
// optimiser (Adam), in one run. Each measurement warms up 3 steps, then times steps for ~5 s on
// random data from 4 pre-made batches. Prints samples/s and the tfjs/PyTorch ratios.
import { spawnSync } from 'node:child_process';
import type { Model } from '../src-main/ir/graph.ts';
import { ai85net5, ecgNet } from '../src-main/ir/zoo.ts';
import { initBackend, tf } from '../src-main/training/backend.ts';
import { Adam } from '../src-main/training/adam.ts';
import { createVars, disposeVars, planNetwork, trainableVars } from '../src-main/training/network.ts';
import { seededRng as makeRng } from '../src-main/data/random.ts';
import { trainStep } from '../src-main/training/trainer.ts';

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
start = time.perf_counter(); n = 0
while time.perf_counter() - start < seconds:
    step(n); n += 1
print(json.dumps({"samplesPerSecond": n * batch / (time.perf_counter() - start), "torch": torch.__version__}))
`;

function measureTorch(net: string, threads: number): { samplesPerSecond: number; torch: string } | undefined {
  const r = spawnSync('/usr/bin/python3', ['-c', PYTHON, net, String(BATCH), String(SECONDS), String(threads)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    console.error(`PyTorch ${net} (${threads} threads) failed: ${r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return undefined;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { samplesPerSecond: number; torch: string };
}

const backend = await initBackend();
console.log(`train bench: batch ${BATCH}, ~${SECONDS} s per measurement; tfjs backend ${backend.description}`);
const rows: { net: string; tfjs: number; t1?: number; t2?: number }[] = [];
for (const [name, model, classes] of [['ecgnet', ecgNet(), 5], ['ai85net5', ai85net5(), 10]] as const) {
  const tfjs = measureTfjs(model, classes);
  const t1 = measureTorch(name, 1);
  const t2 = measureTorch(name, 2);
  rows.push({ net: name, tfjs, ...(t1 ? { t1: t1.samplesPerSecond } : {}), ...(t2 ? { t2: t2.samplesPerSecond } : {}) });
  const ratio = (t?: number) => (t ? (tfjs / t).toFixed(2) : 'n/a');
  console.log(
    `${name.padEnd(9)} tfjs ${tfjs.toFixed(0).padStart(6)} samples/s | PyTorch 1 thread ${t1?.samplesPerSecond.toFixed(0) ?? 'n/a'} (ratio ${ratio(t1?.samplesPerSecond)})` +
      ` | PyTorch 2 threads ${t2?.samplesPerSecond.toFixed(0) ?? 'n/a'} (ratio ${ratio(t2?.samplesPerSecond)})${t1 ? ` | torch ${t1.torch}` : ''}`,
  );
}
console.log('goal: tfjs ≥ 0.5 × PyTorch (training-speed.md measured 0.43–0.65 × T1 on ai85net5, ~0.5 × T1 on ECG)');
console.log(JSON.stringify({ batch: BATCH, backend: backend.description, rows }));
// The threaded WASM backend keeps pthread workers alive; end the process once the figures are out.
process.exit(0);
