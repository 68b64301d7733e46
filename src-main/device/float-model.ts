// The float reference of the live check: the exported model.onnx run by ONNX Runtime on the same
// int8 window the device saw, fed in the training range (int8 / 128, ai8x.normalize).
import * as ort from 'onnxruntime-node';
import { ApiError } from '../api/contract.ts';

export interface FloatModel {
  run(window: Int8Array): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Input scale: quantization.json `input.scale` (or `inputScale`) when given, else 1/128. */
export function inputScaleFrom(quantization?: Record<string, unknown>): number {
  const q = quantization as { input?: { scale?: unknown }; inputScale?: unknown } | undefined;
  const s = q?.input?.scale ?? q?.inputScale;
  return typeof s === 'number' && s > 0 ? s : 1 / 128;
}

export async function loadFloatModel(path: string, inputShape: number[], inputScale = 1 / 128): Promise<FloatModel> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new ApiError('invalid-model', `ONNX Runtime could not load ${path}: ${(error as Error).message}`, 'model.onnx');
  }
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const dims = [1, ...inputShape];
  return {
    async run(window) {
      const x = new Float32Array(window.length);
      for (let i = 0; i < window.length; i++) x[i] = window[i]! * inputScale;
      const out = await session.run({ [inputName]: new ort.Tensor('float32', x, dims) });
      return Float32Array.from(out[outputName]!.data as Float32Array);
    },
    close: () => session.release(),
  };
}
