// Simulator throughput on mnist-qat8 (ai85net5, ~10.7 M MACs per inference), one core:
// inferences per second over 10,000 seeded random int8 inputs with the default engine
// (WebAssembly SIMD), plus the JS kernels and a naive reference implementation measured in the
// same run on fewer inputs. Prints the figures and ratios to the goal (1,000/s) and to naive, and
// checks that all engines give the same integers. Run: npm run bench:sim
import { readFileSync } from 'node:fs';
import { importAi8x } from '../src-main/formats/import-ai8x.ts';
import { readNpy } from '../src-main/formats/npy.ts';
import { simulateBatch } from '../src-main/sim/simulate.ts';
import { inferLayerShapes, totalShift } from '../src-main/ir/validate.ts';
import type { Model } from '../src-main/ir/graph.ts';

const GOAL = 1000;
const DIR = process.env.QATWB_CONFORMANCE ?? '/work/shared/conformance/mnist-qat8';
const N = Number(process.env.BENCH_N ?? 10_000);

const sample = readNpy(readFileSync(`${DIR}/sample.input.npy`), 'sample.input.npy');
const { model } = importAi8x({ checkpoint: readFileSync(`${DIR}/checkpoint.pth.tar`), yaml: readFileSync(`${DIR}/network.yaml`, 'utf8'), sample });
const per = model.input.channels * model.input.dims.reduce((a, b) => a * b, 1);
let seed = 20260101;
const inputs = new Int32Array(N * per);
for (let i = 0; i < inputs.length; i++) {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  inputs[i] = (seed >>> 24) - 128;
}

/** The naive reference: the arithmetic of max78002.md §5 written directly, bounds checks per MAC. */
function naive(m: Model, x: Int32Array): Int32Array {
  const shapes = inferLayerShapes(m);
  let data = Array.from(x);
  m.layers.forEach((l, i) => {
    const sh = shapes[i]!;
    const [H, W] = sh.input.dims.length === 1 ? [sh.input.dims[0]!, 1] : (sh.input.dims as [number, number]);
    const C = sh.input.channels;
    if (l.pool) {
      const [ph, pw] = sh.pooled.dims.length === 1 ? [sh.pooled.dims[0]!, 1] : (sh.pooled.dims as [number, number]);
      const sw = sh.input.dims.length === 1 ? 1 : l.pool.size[1], tw = sh.input.dims.length === 1 ? 1 : l.pool.stride[1];
      const out: number[] = [];
      for (let c = 0; c < C; c++)
        for (let y = 0; y < ph; y++)
          for (let xx = 0; xx < pw; xx++) {
            const vals: number[] = [];
            for (let a = 0; a < l.pool.size[0]; a++) for (let b = 0; b < sw; b++) vals.push(data[(c * H + y * l.pool.stride[0] + a) * W + xx * tw + b]!);
            out.push(l.pool.kind === 'max' ? Math.max(...vals) : Math.trunc(vals.reduce((s, v) => s + v, 0) / vals.length));
          }
      data = out;
    }
    const [h, w] = sh.pooled.dims.length === 1 ? [sh.pooled.dims[0]!, 1] : (sh.pooled.dims as [number, number]);
    const o = sh.output!;
    const [oh, ow] = o.dims.length === 1 ? [o.dims[0]!, 1] : (o.dims as [number, number]);
    const wts = l.params!.weights, bias = l.params!.bias;
    const acc: number[] = [];
    for (let oc = 0; oc < l.outChannels; oc++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = bias ? bias[oc]! * 128 : 0;
          if (l.op === 'linear') for (let f = 0; f < data.length; f++) s += data[f]! * wts[oc * data.length + f]!;
          else
            for (let c = 0; c < l.inChannels; c++)
              for (let ky = 0; ky < l.kernel[0]; ky++)
                for (let kx = 0; kx < l.kernel[1]; kx++) {
                  const iy = y + ky - l.pad, ix = l.op === 'conv1d' ? 0 : xx + kx - l.pad;
                  if (iy >= 0 && iy < h && ix >= 0 && ix < w) s += data[(c * h + iy) * w + ix]! * wts[((oc * l.inChannels + c) * l.kernel[0] + ky) * l.kernel[1] + kx]!;
                }
          acc.push(s);
        }
    data = l.outputWidth === 32 ? acc : acc.map((a) => {
      const v = Math.min(127, Math.max(-128, Math.floor(0.5 + (a * 2 ** totalShift(l)) / 128)));
      return l.activation === 'relu' ? Math.max(0, v) : l.activation === 'abs' ? Math.min(127, Math.abs(v)) : v;
    });
  });
  return Int32Array.from(data);
}

function rate(count: number, fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (count / (performance.now() - t0)) * 1000;
}

const nNaive = Math.min(N, 20), nJs = Math.min(N, 300);
const naiveOut: Int32Array[] = [];
naive(model, inputs.subarray(0, per)); // warm-up
const naiveRate = rate(nNaive, () => { for (let k = 0; k < nNaive; k++) naiveOut.push(naive(model, inputs.subarray(k * per, (k + 1) * per))); });
simulateBatch(model, inputs.subarray(0, 20 * per), { engine: 'js' });
let jsOut: Int32Array = new Int32Array(0);
const jsRate = rate(nJs, () => { jsOut = simulateBatch(model, inputs.subarray(0, nJs * per), { engine: 'js' }).outputs; });
simulateBatch(model, inputs.subarray(0, 50 * per));
let fastOut: Int32Array = new Int32Array(0);
const fastRate = rate(N, () => { fastOut = simulateBatch(model, inputs).outputs; });
// The same inputs again in chunks of 1,000: on a shared machine the best chunk shows what one
// uncontended core does, the overall figure what this run got.
const chunk = Math.min(1000, N);
let bestChunk = 0;
for (let k = 0; k + chunk <= N; k += chunk) bestChunk = Math.max(bestChunk, rate(chunk, () => simulateBatch(model, inputs.subarray(k * per, (k + chunk) * per))));

const outSize = fastOut.length / N;
const same = (a: ArrayLike<number>, b: ArrayLike<number>, n: number): boolean => { for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false; return true; };
const agree = naiveOut.every((o, k) => same(o, fastOut.subarray(k * outSize), outSize)) && same(jsOut, fastOut, jsOut.length);

const line = (name: string, r: number, n: number): string =>
  `${name.padEnd(28)} ${r.toFixed(1).padStart(9)} inferences/s  (${n} inputs)  ${(r / GOAL).toFixed(3)}× goal  ${(r / naiveRate).toFixed(1)}× naive`;
console.log(`sim bench: ${model.arch} (${DIR}), one core, goal ${GOAL} inferences/s`);
console.log(line('naive reference', naiveRate, nNaive));
console.log(line('JS kernels (engine js)', jsRate, nJs));
console.log(line('WebAssembly SIMD (default)', fastRate, N));
console.log(line('  best chunk of the rerun', bestChunk, chunk));
console.log(`outputs agree across engines: ${agree ? 'yes' : 'NO'}`);
if (!agree) process.exitCode = 1;
