// Test helper: a float model equivalent to an integer (quantized) one, for a model.onnx next to
// a conformance fixture that has none. With x = d/128, an 8-bit layer's float output y/128 equals
// Σ x·(w·k) + β·k before rounding with k = 2^s/128 (s = total shift, max78002.md §5); a wide layer's
// logit acc/2^(6+b) is the same with k = 2^(1−b). The float model thus differs from the
// device only by the integer rounding and clamping: what a real float reference looks like.
import type { FloatLayerParams } from '../../src-main/ir/float-params.ts';
import type { Model } from '../../src-main/ir/graph.ts';

export function floatParamsFromInteger(model: Model): FloatLayerParams[] {
  return model.layers.filter((l) => l.params).map((l) => {
    const b = l.weightBits;
    const s = l.outputShift + (l.extraShift ?? 0) + (8 - b);
    const k = l.outputWidth === 32 ? 2 ** (1 - b) : 2 ** s / 128;
    const p = l.params!;
    return {
      name: l.name,
      weight: Float32Array.from(p.weights, (w) => w * k),
      bias: p.bias ? Float32Array.from(p.bias, (v) => v * k) : null,
    };
  });
}
