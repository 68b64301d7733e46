// The WebAssembly SIMD engine and the JS kernels give the same integers: on the conformance
// networks and on random models covering Conv1d, Conv2d (1x1, 3x3, pads, dilation), Linear with
// and without flatten, biases, >4-channel remainders and low-bit weights.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Layer, Model, WeightBits } from '../ir/graph.ts';
import { validateModel } from '../ir/validate.ts';
import { importAi8x } from '../formats/import-ai8x.ts';
import { readNpy } from '../formats/npy.ts';
import { gemmModuleBytes, instantiateGemm } from './wasm-gemm.ts';
import { compile, simulate, simulateBatch } from './simulate.ts';
import { createWasmAccelerator } from './wasm-accelerate.ts';
import { CONFORMANCE } from '../../test/support/fixtures.ts';

let seed = 7;
const rnd = (lo: number, hi: number): number => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return lo + (seed % (hi - lo + 1)); };
const params = (n: number, outC: number, bits: WeightBits, bias: boolean) => ({
  weights: Int8Array.from({ length: n }, () => rnd(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)),
  bias: bias ? Int32Array.from({ length: outC }, () => rnd(-128, 127)) : null,
});
const L = (p: Partial<Layer> & Pick<Layer, 'name' | 'op' | 'inChannels' | 'outChannels' | 'kernel'>): Layer => ({
  pad: 0, stride: 1, flatten: false, activation: 'relu', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false, ...p,
});

describe('engines', () => {
  it('the emitted module validates', () => {
    expect(WebAssembly.validate(gemmModuleBytes())).toBe(true);
    expect(instantiateGemm()).not.toBeNull();
  });

  it('agree on random 2-D models (1x1, 3x3, pad 0..2, dilation, flatten, bias, low bits)', () => {
    for (let t = 0; t < 6; t++) {
      const c1 = rnd(1, 9), c2 = rnd(1, 13), c3 = rnd(1, 70), bits = ([8, 4, 2, 1] as const)[t % 4]!;
      const pad = t % 3, dil = t === 4 ? 2 : 1;
      const model: Model = {
        arch: 't', dataset: 't', device: 'MAX78002', input: { channels: c1, dims: [rnd(6, 12), rnd(6, 12)], format: 'HWC' },
        layers: [
          L({ name: 'a', op: 'conv2d', inChannels: c1, outChannels: c2, kernel: [3, 3], pad: Math.max(pad, dil), dilation: dil, weightBits: bits, outputShift: -1, hasBias: true, params: params(c2 * c1 * 9, c2, bits, true) }),
          L({ name: 'b', op: 'conv2d', inChannels: c2, outChannels: c3, kernel: [1, 1], pad, activation: 'abs', pool: { kind: 'avg', size: [2, 2], stride: [2, 2] }, params: params(c3 * c2, c3, 8, false) }),
          L({ name: 'c', op: 'linear', inChannels: c3, outChannels: 7, kernel: [1, 1], flatten: true, activation: 'none', outputWidth: 32, hasBias: true, pool: undefined, params: params(0, 7, 8, true) }),
        ],
      };
      const sh = (model.input.dims[0]! + 2 * Math.max(pad, dil) - 2 * dil), sw = (model.input.dims[1]! + 2 * Math.max(pad, dil) - 2 * dil);
      const feats = c3 * (Math.floor(sh / 2) + 2 * pad) * (Math.floor(sw / 2) + 2 * pad);
      model.layers[2]!.params = params(7 * feats, 7, 8, true);
      // The engines also run a dilated Conv2d (the simulator is more general than the izer, which refuses it).
      const shapeRules = new Set(['flatten-positions', 'flatten-features', 'conv2d-dilation']);
      expect(validateModel(model).filter((d) => !shapeRules.has(d.rule))).toEqual([]);
      const n = model.input.channels * model.input.dims[0]! * model.input.dims[1]!;
      const xs = Int32Array.from({ length: 3 * n }, () => rnd(-128, 127));
      const js = simulateBatch(model, xs, { engine: 'js' }).outputs;
      const wasm = simulateBatch(model, xs, { engine: 'wasm' }).outputs;
      expect(Array.from(wasm)).toEqual(Array.from(js));
    }
  });

  it('agree on random 1-D models (kernel 1..9, pads, 65+ channels)', () => {
    for (let t = 0; t < 4; t++) {
      const k = [1, 3, 5, 9][t]!, c2 = [4, 17, 65, 33][t]!;
      const model: Model = {
        arch: 't', dataset: 't', device: 'MAX78002', input: { channels: 2, dims: [40], format: 'HWC' },
        layers: [
          L({ name: 'a', op: 'conv1d', inChannels: 2, outChannels: c2, kernel: [k, 1], pad: Math.min(2, t), hasBias: true, params: params(c2 * 2 * k, c2, 8, true) }),
          // Total shift 6..9: both the fused (≤ 7) and the JS (> 7) output stages.
          L({ name: 'b', op: 'conv1d', inChannels: c2, outChannels: 6, kernel: [3, 1], pad: 0, weightBits: 2, outputShift: t, activation: t === 2 ? 'abs' : 'relu', pool: { kind: 'max', size: [2, 1], stride: [2, 1] }, params: params(6 * c2 * 3, 6, 2, false) }),
        ],
      };
      const xs = Int32Array.from({ length: 2 * 80 }, () => rnd(-128, 127));
      expect(Array.from(simulateBatch(model, xs, { engine: 'wasm' }).outputs)).toEqual(Array.from(simulateBatch(model, xs, { engine: 'js' }).outputs));
    }
  });

  it('agree on ConvTranspose2d (stride 2, pads 0..2) followed by a Conv2d', () => {
    for (const pad of [0, 1, 2]) {
      const model: Model = {
        arch: 't', dataset: 't', device: 'MAX78002', input: { channels: 5, dims: [4, 5], format: 'HWC' },
        layers: [
          L({ name: 'up', op: 'convtranspose2d', inChannels: 5, outChannels: 6, kernel: [3, 3], stride: 2, pad, hasBias: true, params: params(5 * 6 * 9, 6, 8, true) }),
          L({ name: 'c', op: 'conv2d', inChannels: 6, outChannels: 3, kernel: [3, 3], pad: 1, activation: 'none', params: params(3 * 6 * 9, 3, 8, false) }),
        ],
      };
      expect(validateModel(model)).toEqual([]);
      const xs = Int32Array.from({ length: 2 * 100 }, () => rnd(-128, 127));
      const js = simulateBatch(model, xs, { engine: 'js' }).outputs;
      expect(Array.from(simulateBatch(model, xs, { engine: 'wasm' }).outputs)).toEqual(Array.from(js));
      expect(js.length).toBe(2 * 3 * (8 - 2 * pad + 2) * (10 - 2 * pad + 2));
      // The WebAssembly path really handles the ConvTranspose2d layer (no silent JS fallback).
      const prog = compile(model);
      const hook = createWasmAccelerator(prog)!;
      const n = prog.layers[0]!.acc.length;
      expect(hook(model.layers[0]!, 0, xs.subarray(0, 100), new Int32Array(n), new Int32Array(n))).toBe('out');
    }
  });

  it('in_dim reshapes 1-D data to 2-D without moving it (same result as feeding the reshaped data)', () => {
    const c1 = L({ name: 'a', op: 'conv1d', inChannels: 2, outChannels: 6, kernel: [3, 1], pad: 1, params: params(6 * 2 * 3, 6, 8, true), hasBias: true });
    const c2w = params(5 * 6 * 9, 5, 8, false);
    const model: Model = {
      arch: 't', dataset: 't', device: 'MAX78002', input: { channels: 2, dims: [32], format: 'HWC' },
      layers: [c1, L({ name: 'b', op: 'conv2d', inChannels: 6, outChannels: 5, kernel: [3, 3], pad: 1, inDim: [4, 8], pool: { kind: 'max', size: [2, 2], stride: [2, 2] }, params: c2w })],
    };
    expect(validateModel(model)).toEqual([]);
    const x = Int32Array.from({ length: 64 }, () => rnd(-128, 127));
    const r = simulate(model, x, { allLayers: true });
    expect(r.shape).toEqual({ channels: 5, dims: [2, 4] });
    const second: Model = { ...model, input: { channels: 6, dims: [4, 8], format: 'HWC' }, layers: [{ ...model.layers[1]!, inDim: undefined }] };
    for (const engine of ['js', 'wasm'] as const)
      expect(Array.from(simulate(second, r.layers![0]!.data, { engine }).output)).toEqual(Array.from(r.output));
    expect(validateModel({ ...model, layers: [c1, { ...model.layers[1]!, inDim: [5, 8] }] }).map((d) => d.rule)).toContain('shape');
  });

  const DIR = CONFORMANCE;
  it('agree layer by layer on the conformance networks', () => {
    for (const name of ['mnist-qat8', 'mnist-extrasmall', 'ecg1d-mixed']) {
      const x = readNpy(readFileSync(`${DIR}/${name}/sample.input.npy`));
      const { model } = importAi8x({ checkpoint: readFileSync(`${DIR}/${name}/checkpoint.pth.tar`), yaml: readFileSync(`${DIR}/${name}/network.yaml`, 'utf8'), sample: x });
      const input = Int32Array.from(x.data as BigInt64Array, Number);
      const a = simulate(model, input, { engine: 'js', allLayers: true }), b = simulate(model, input, { engine: 'wasm', allLayers: true });
      expect(b.layers!.map((l) => Array.from(l.data))).toEqual(a.layers!.map((l) => Array.from(l.data)));
    }
  });
});
