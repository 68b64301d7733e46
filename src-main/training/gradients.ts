// Kernel-level fixes for training on tfjs-backend-wasm (training-speed.md §4.2): the engine clones
// every tensor it saves for backprop and the stock wasm Identity copies the data; an aliasing
// Identity (ref-counted, as tfjs-backend-cpu does) removes those copies. The gradient rewrites
// themselves live in the custom-gradient layer ops (layers/*.ts), so they apply on any backend.
import * as tf from '@tensorflow/tfjs';

let registered = false;

export function registerWasmGradients(): void {
  if (registered) return;
  registered = true;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      // BackendWasm has no incRef(); its disposeData() frees only when refCount reaches 0.
      const entry = (backend as unknown as { dataIdMap: { get(id: object): { refCount: number } } }).dataIdMap.get(x.dataId);
      entry.refCount++;
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}
