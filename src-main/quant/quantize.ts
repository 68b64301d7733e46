// Float parameters (BatchNorm folded, ai8x float scale) → integer IR parameters, exactly as
// ai8x-synthesis quantize.py does on its default (QAT, "MAX_BIT_SHIFT") path (max78002.md §2.4):
//   bit_shift = floor(log2(1 / quantile(|w ∪ b|, shift_quantile))), clamped to [−7−b, 23−b]
//   w_int     = clamp(floor(w·2^(b−1)·2^bit_shift + 0.5), −2^(b−1), 2^(b−1)−1)
//   β         = clamp(round_half_even(b·2^(b−1)·2^bit_shift), b-bit range)
//   output_shift = −bit_shift
// torch does this in float32, so the products and the +0.5 are rounded to float32 here too.
// The IR stores β (the izer's bias register value); the checkpoint writer stores β·2^(b−1).
import type { LayerParams, Model, WeightBits } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';
import { absQuantile, intRange, roundHalfEven } from './fixed-point.ts';
import { opHasWeights } from '../ir/ops/registry.ts';

/** Each layer is quantized to its IR `weightBits` (a width of a schedule: ir/bits-policy.ts withLayerBits). */
export interface QuantizeOptions {
  /** Quantile of |w ∪ b| that sets the shift (policy shift_quantile), default 1.0 (the max). */
  shiftQuantile?: number;
}

export interface QuantizedLayerInfo {
  name: string;
  bits: WeightBits;
  /** quantize.py's bit_shift (weights were scaled by 2^bit_shift). */
  bitShift: number;
  /** −bitShift, stored as the layer's output_shift. */
  outputShift: number;
  /** Share of weights that hit the clamp at either end of the b-bit range. */
  clippedShare: number;
}

const f32 = Math.fround;


/** quantize.py's bit_shift for b-bit weights whose chosen magnitude limit is `limit`. */
export function bitShiftFor(limit: number, bits: WeightBits): number {
  const raw = limit > 0 ? Math.floor(Math.log2(1 / limit)) : Infinity;
  return Math.max(-7 - bits, Math.min(23 - bits, raw));
}

export function quantizeLayer(p: FloatLayerParams, bits: WeightBits, shiftQuantile = 1): { params: LayerParams; info: QuantizedLayerInfo } {
  // torch computes the quantile in float32.
  const bitShift = bitShiftFor(f32(absQuantile(p.weight, p.bias, shiftQuantile)), bits);
  const scale = 2 ** (bits - 1 + bitShift);
  const { lo, hi } = intRange(bits);
  const weights = new Int8Array(p.weight.length);
  let clipped = 0;
  for (let i = 0; i < p.weight.length; i++) {
    const q = Math.floor(f32(f32(p.weight[i]! * scale) + 0.5));
    if (q < lo || q > hi) clipped++;
    weights[i] = q < lo ? lo : q > hi ? hi : q;
  }
  let bias: Int32Array | null = null;
  if (p.bias) {
    bias = new Int32Array(p.bias.length);
    for (let i = 0; i < p.bias.length; i++) {
      const q = roundHalfEven(f32(p.bias[i]! * scale));
      bias[i] = q < lo ? lo : q > hi ? hi : q;
    }
  }
  return {
    params: { weights, bias },
    info: { name: p.name, bits, bitShift, outputShift: -bitShift, clippedShare: p.weight.length ? clipped / p.weight.length : 0 },
  };
}


/**
 * A copy of `model` with integer params, weightBits and outputShift on every layer with weights.
 * Float params are matched by layer name; a missing or mis-sized entry is an error.
 */
export function quantizeModel(
  model: Model,
  floatParams: readonly FloatLayerParams[],
  options: QuantizeOptions = {},
): { model: Model; layers: QuantizedLayerInfo[] } {
  const byName = new Map(floatParams.map((p) => [p.name, p]));
  const infos: QuantizedLayerInfo[] = [];
  const layers = model.layers.map((layer) => {
    if (!opHasWeights(layer.op)) return { ...layer };
    const p = byName.get(layer.name);
    if (!p) throw new Error(`quantize: no float parameters for layer "${layer.name}".`);
    if (layer.hasBias !== (p.bias !== null)) {
      throw new Error(`quantize: layer "${layer.name}" ${layer.hasBias ? 'has' : 'has no'} bias in the model but the float parameters ${p.bias ? 'have' : 'have none'}.`);
    }
    if (p.bias && p.bias.length !== layer.outChannels) {
      throw new Error(`quantize: layer "${layer.name}" bias has ${p.bias.length} values; expected ${layer.outChannels}.`);
    }
    const { params, info } = quantizeLayer(p, layer.weightBits, options.shiftQuantile ?? 1);
    infos.push(info);
    return { ...layer, outputShift: info.outputShift, params };
  });
  return { model: { ...model, layers }, layers: infos };
}
