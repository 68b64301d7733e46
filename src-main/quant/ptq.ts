// Post-training quantization: the float-phase model (BN folded, never fake-quantized) quantized
// the way quantize.py's default path would quantize it — the shift comes from the weights alone,
// because PTQ never trained activations or weights against the clamp. This is the baseline that
// QAT must beat at low bit widths.
import type { Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { quantizeModel, type QuantizedLayerInfo } from './quantize.ts';

export function postTrainingQuantize(
  model: Model,
  floatModelParams: readonly FloatLayerParams[],
): { model: Model; layers: QuantizedLayerInfo[] } {
  // shift_quantile 1.0: the full weight range fits, as quantize.py does without a QAT policy.
  return quantizeModel(model, floatModelParams, { shiftQuantile: 1 });
}
