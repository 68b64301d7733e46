// A stand-in model for link tests that must not depend on the simulator, computed exactly as the C
// firmware's host build computes it (resources/firmware/hal_host.c): 784 inputs → expand (4×784
// int8) → pool (pooling only, 4×392) → wide (12×1568 int8, more than one LAYER_DUMP) → fc (10
// int32 accumulators). Outputs depend on every input, so a result attributed to the wrong window
// shows up.
import type { LayerOutput, ModelRuntime } from '../../src-main/device/model-runtime.ts';
import type { LayerHook } from '../../src-main/sim/simulate.ts';

const N_IN = 784;
const sat8 = (v: number) => (v < -128 ? -128 : v > 127 ? 127 : v);

function layersOf(w: Int8Array, afterLayer?: LayerHook): LayerOutput[] {
  const expand = new Int32Array(4 * N_IN);
  for (let i = 0; i < expand.length; i++) expand[i] = sat8(Math.trunc((w[i % N_IN]! * (Math.floor(i / N_IN) + 1)) / 2));
  afterLayer?.(0, expand);
  const pooled = new Int32Array(expand.length / 2);
  for (let i = 0; i < pooled.length; i++) pooled[i] = Math.max(expand[2 * i]!, expand[2 * i + 1]!);
  afterLayer?.(1, pooled);
  const wide = new Int32Array(12 * pooled.length);
  for (let i = 0; i < wide.length; i++) wide[i] = sat8(pooled[i % pooled.length]! + 3 * Math.floor(i / pooled.length) - 17);
  afterLayer?.(2, wide);
  const fc = new Int32Array(10);
  for (let i = 0; i < wide.length; i++) fc[i % 10]! += wide[i]! * ((i % 13) - 6);
  afterLayer?.(3, fc);
  return [
    { name: 'expand', data: expand, elemBytes: 1 },
    { name: 'pool', data: pooled, elemBytes: 1 },
    { name: 'wide', data: wide, elemBytes: 1 },
    { name: 'fc', data: fc, elemBytes: 4 },
  ];
}

export function standInRuntime(): ModelRuntime {
  const inputShape = [1, 28, 28];
  return {
    name: 'stand-in', model: { arch: 'stand-in', dataset: 'none', device: 'MAX78002', input: { channels: 1, dims: [28, 28], format: 'CHW' }, layers: [] },
    modelHash: 0x5eed, inputShape, inputLength: N_IN, outputCount: 10, outputWeightBits: 8, outputBits: 32,
    layerNames: ['expand', 'pool', 'wide', 'fc'],
    run: (w, afterLayer) => layersOf(w, afterLayer)[3]!.data,
    runLayers: (w, afterLayer) => {
      const layers = layersOf(w, afterLayer);
      return { outputs: layers[3]!.data.slice(), layers };
    },
  };
}
