// The runtime the virtual device and the live check run on: loads an artifacts folder through the
// ai8x importer and the simulator, and reproduces the real toolchain's outputs bit for bit.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadRuntime, outputScaleExp } from '../../src-main/device/model-runtime.ts';
import { readNpy } from '../../src-main/formats/npy.ts';
import { CONFORMANCE } from '../support/fixtures.ts';

const ROOT = CONFORMANCE;

describe('loadRuntime on the conformance fixtures', () => {
  for (const c of ['mnist-extrasmall', 'mnist-qat8', 'ecg1d-mixed']) {
    it(`${c}: final and per-layer outputs equal the izer's expected output`, async () => {
      const rt = await loadRuntime(`${ROOT}/${c}`);
      expect(rt.floatModelPath).toBeUndefined(); // fixtures have no model.onnx
      expect(outputScaleExp(rt)).toBe(-14); // 32-bit output, 8-bit weights: Q17.14
      for (const k of ['sample', 'random']) {
        if (!existsSync(`${ROOT}/${c}/${k}.input.npy`)) continue;
        const x = Int8Array.from(readNpy(readFileSync(`${ROOT}/${c}/${k}.input.npy`)).data as BigInt64Array, Number);
        const want = Array.from(readNpy(readFileSync(`${ROOT}/${c}/${k}.expected.npy`)).data as BigInt64Array, Number);
        expect(Array.from(rt.run(x))).toEqual(want);
        const { outputs, layers } = rt.runLayers(x);
        expect(Array.from(outputs)).toEqual(want);
        expect(layers.length).toBe(rt.layerNames.length);
        expect(layers[layers.length - 1]!.elemBytes).toBe(4);
        expect(layers[0]!.elemBytes).toBe(1);
      }
    });
  }

  it('names the missing file of an incomplete artifacts folder', async () => {
    await expect(loadRuntime('/tmp')).rejects.toThrow(/has no checkpoint\.pth\.tar/);
  });
});
