// Scaling raw sample values to the accelerator's input range. The device sees int8 data; training
// sees the same grid divided by 128 (ai8x.normalize, max78002.md §1.2), so every stored training
// value is a multiple of 1/128 in [-1, 127/128] and converts to int8 exactly.
import { roundHalfEven } from '../quant/fixed-point.ts';
import type { InputScaling } from '../ir/graph.ts';

export type { InputScaling };

/** How raw feature values map onto [0, 1] before ai8x.normalize. */
export type Scaling =
  /** Values are already in [0, 1] (images /255, MIT-BIH heartbeat CSV). */
  | { kind: 'unit' }
  /** Global min..max of the data set maps to 0..1. */
  | { kind: 'minmax' }
  /** A given range [min, max] maps to 0..1 (values outside clamp). */
  | { kind: 'range'; min: number; max: number }
  /** Values are already int8 accelerator codes in [-128, 127] (e.g. sample .npy files). */
  | { kind: 'int8' };

/** ai8x.normalize of one [0,1] value: round((x − 0.5)·256) clamped to [−128, 127]. */
export function toInt8Code(unit: number): number {
  const q = roundHalfEven((unit - 0.5) * 256);
  return q < -128 ? -128 : q > 127 ? 127 : q;
}

/** Float training value → int8 accelerator input: round(x·128) clamped. */
export function toDeviceInt8(x: number): number {
  const q = Math.round(x * 128);
  return q < -128 ? -128 : q > 127 ? 127 : q;
}

/**
 * One raw feature value → int8 device code, exactly as training scaled it: the value is first
 * rounded to float32 (training holds raw values in a Float32Array), then mapped in double
 * precision. resources/firmware/qatwb_scaling.c does the same arithmetic in C.
 */
export function rawToCode(raw: number, scaling: InputScaling): number {
  const v = Math.fround(raw);
  if (Number.isNaN(v)) return 0; // as an Int8Array stores NaN; the C side does the same
  if (scaling.kind === 'int8') {
    const q = Math.round(v);
    return q < -128 ? -128 : q > 127 ? 127 : q;
  }
  const u = (v - scaling.min) / (scaling.max - scaling.min);
  return toInt8Code(u < 0 ? 0 : u > 1 ? 1 : u);
}

/** A raw window (any length) → the int8 codes the device, the simulator and the float model take. */
export function scaleRawWindow(raw: ArrayLike<number>, scaling: InputScaling): Int8Array {
  const out = new Int8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = rawToCode(raw[i]!, scaling);
  return out;
}

/** Scales raw values in place to the training range (int8 code / 128). Returns the range used. */
export function scaleToTrainingRange(values: Float32Array, scaling: Scaling): { min: number; max: number } {
  let min = 0;
  let max = 1;
  if (scaling.kind === 'int8') {
    min = -128;
    max = 127;
  } else if (scaling.kind === 'range') {
    min = scaling.min;
    max = scaling.max;
  } else if (scaling.kind === 'minmax') {
    min = Infinity;
    max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (!(max > min)) max = min + 1; // a constant data set maps to 0
  }
  const recorded: InputScaling = { kind: scaling.kind, min, max };
  for (let i = 0; i < values.length; i++) values[i] = rawToCode(values[i]!, recorded) / 128;
  return { min, max };
}
