// Public simulator API over the core in machine.ts: one input, or a batch compiled once.
// Inputs are planar C×dims int8 values (as Int8Array or Int32Array); outputs are Int32Array
// (8-bit layers hold int8 values, a 32-bit last layer holds raw accumulators).
import type { DataShape, Model } from '../ir/graph.ts';
import { compile, run, SimError, type AccumulateHook, type LayerHook, type Program } from './machine.ts';
import { createWasmAccelerator } from './wasm-accelerate.ts';

export { SimError, compile, run };
export type { Program, AccumulateHook, LayerHook };

export interface SimOptions {
  /** Also return every layer's output (to find the first divergent layer). */
  allLayers?: boolean;
  /**
   * Accumulate engine: `auto` (default) uses the WebAssembly SIMD kernels where available and the
   * JS kernels otherwise; `js` forces the JS kernels; `wasm` fails if WebAssembly SIMD is missing.
   */
  engine?: 'auto' | 'js' | 'wasm';
}

/** Compiles a model and attaches the requested accumulate engine. */
export function prepare(model: Model, engine: SimOptions['engine'] = 'auto'): Program {
  const prog = compile(model);
  if (engine !== 'js') {
    const acc = createWasmAccelerator(prog);
    if (acc) prog.accelerate = acc;
    else if (engine === 'wasm') throw new SimError(-1, 'WebAssembly SIMD is not available here; use the JS engine.');
  }
  return prog;
}

export interface LayerOutput {
  name: string;
  shape: DataShape;
  data: Int32Array;
}

export interface SimResult {
  /** Final layer output, C×dims (a Linear layer gives C×1×1). */
  output: Int32Array;
  shape: DataShape;
  layers?: LayerOutput[];
}

export function toInt32Input(input: Int32Array | Int8Array | ArrayLike<number>): Int32Array {
  const a = input instanceof Int32Array ? input : Int32Array.from(input as ArrayLike<number>);
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < -128 || v > 127) throw new SimError(-1, `Input value ${i} is ${v}; inputs must be int8 (−128..127), as ai8x.normalize gives.`);
  }
  return a;
}

function result(prog: Program, allLayers: boolean): SimResult {
  const last = prog.layers[prog.layers.length - 1]!;
  const res: SimResult = { output: last.out.slice(), shape: last.output };
  if (allLayers) res.layers = prog.layers.map((c) => ({ name: c.layer.name, shape: c.output, data: c.out.slice() }));
  return res;
}

export function simulate(model: Model, input: Int32Array | Int8Array, opts: SimOptions = {}): SimResult {
  const prog = prepare(model, opts.engine);
  run(prog, toInt32Input(input));
  return result(prog, opts.allLayers ?? false);
}

/**
 * Runs `count` inputs stored back to back in `inputs` (count × C×dims). Returns the final outputs
 * back to back. `onProgress(done)` is called every `progressEvery` inputs.
 */
export function simulateBatch(
  model: Model,
  inputs: Int32Array | Int8Array,
  opts: SimOptions & { onProgress?: (done: number) => void; progressEvery?: number; shouldStop?: () => boolean } = {},
): { outputs: Int32Array; count: number; outputSize: number } {
  const prog = prepare(model, opts.engine);
  const n = prog.inputSize;
  if (inputs.length % n !== 0) throw new SimError(-1, `The batch has ${inputs.length} values, not a multiple of the input size ${n}.`);
  const count = inputs.length / n;
  const last = prog.layers[prog.layers.length - 1]!;
  const outSize = last.out.length;
  const outputs = new Int32Array(count * outSize);
  const buf = new Int32Array(n);
  const every = opts.progressEvery ?? 100;
  for (let k = 0; k < count; k++) {
    if (opts.shouldStop?.()) return { outputs: outputs.subarray(0, k * outSize), count: k, outputSize: outSize };
    buf.set(inputs.subarray(k * n, (k + 1) * n));
    toInt32Input(buf);
    run(prog, buf);
    outputs.set(last.out, k * outSize);
    if (opts.onProgress && (k + 1) % every === 0) opts.onProgress(k + 1);
  }
  return { outputs, count, outputSize: outSize };
}

export interface Simulator {
  /** Runs one input; the result's arrays are copies (safe to keep). */
  run(input: Int32Array | Int8Array, opts?: { allLayers?: boolean }): SimResult;
  inputSize: number;
}

/** Compiles once for many single inputs (e.g. a live check, window by window). */
export function createSimulator(model: Model, opts: { engine?: SimOptions['engine'] } = {}): Simulator {
  const prog = prepare(model, opts.engine);
  return {
    inputSize: prog.inputSize,
    run(input, o = {}) {
      run(prog, toInt32Input(input));
      return result(prog, o.allLayers ?? false);
    },
  };
}
