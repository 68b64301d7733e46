// A stand-in model for link tests that must not depend on the simulator: outputs are a fixed,
// input-sensitive function of the window (so a result attributed to the wrong window shows up).
import type { ModelRuntime } from '../../src-main/device/model-runtime.ts';

export function standInRuntime(inputShape = [1, 28, 28], outputCount = 10): ModelRuntime {
  const inputLength = inputShape.reduce((a, b) => a * b, 1);
  const run = (w: Int8Array): Int32Array => {
    const out = new Int32Array(outputCount);
    for (let i = 0; i < w.length; i++) out[i % outputCount]! += w[i]! * ((i % 13) - 6);
    return out;
  };
  return {
    name: 'stand-in', model: { arch: 'stand-in', dataset: 'none', device: 'MAX78002', input: { channels: inputShape[0]!, dims: inputShape.slice(1), format: 'CHW' }, layers: [] },
    modelHash: 0x5eed, inputShape, inputLength, outputCount, outputWeightBits: 8, outputBits: 32, layerNames: ['sum'],
    run,
    runLayers: (w) => ({ outputs: run(w), layers: [{ name: 'sum', data: run(w), elemBytes: 4 }] }),
  };
}
