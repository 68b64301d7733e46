// The comparison users ask for: per row (float, PTQ, one QAT row per width) accuracy, per-class
// precision / recall / F1, macro-F1, the confusion matrix, weight memory on the target, and how far
// the row's output logits are from the float model's on the same test windows; plus the collapse
// check (loss stuck at ln(classes), or one class predicted for everything).
import type { Model } from '../ir/graph.ts';
import type { FloatLayerParams } from '../ir/float-params.ts';

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Test samples of this class. */
  support: number;
}

export interface ClassReport {
  perClass: ClassMetrics[];
  macroF1: number;
  /** confusion[true][predicted], counts. */
  confusion: number[][];
}

/** Precision / recall / F1 per class (0 where undefined, as scikit-learn's zero_division=0). */
export function classReport(predictions: ArrayLike<number>, labels: ArrayLike<number>, classNames: readonly string[]): ClassReport {
  const k = classNames.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) confusion[labels[i]!]![predictions[i]!]!++;
  const perClass = classNames.map((label, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  return { perClass, macroF1: perClass.reduce((a, c) => a + c.f1, 0) / Math.max(k, 1), confusion };
}

export interface LogitError {
  mae: number;
  mse: number;
  /** 10·log10(Σ float² / Σ (row − float)²); null when the row is the float model itself (no error). */
  sqnrDb: number | null;
}

export function logitError(reference: ArrayLike<number>, values: ArrayLike<number>): LogitError {
  if (reference.length !== values.length) throw new Error(`logitError: ${reference.length} reference values, ${values.length} row values`);
  let abs = 0;
  let sq = 0;
  let signal = 0;
  for (let i = 0; i < reference.length; i++) {
    const e = values[i]! - reference[i]!;
    abs += Math.abs(e);
    sq += e * e;
    signal += reference[i]! ** 2;
  }
  const n = Math.max(reference.length, 1);
  return { mae: abs / n, mse: sq / n, sqnrDb: sq > 0 ? 10 * Math.log10(signal / sq) : null };
}

/**
 * The integer model's outputs in the float model's logit units. A 32-bit (wide) last layer gives
 * logit · 2^(6+b−outputShift) (export.ts: the exported float weights carry the 2^−shift); an 8-bit
 * one gives round(activation · 128).
 */
export function deviceToLogits(model: Model, outputs: Int32Array): Float32Array {
  const last = model.layers[model.layers.length - 1]!;
  const scale = last.outputWidth === 32 ? 2 ** (6 + last.weightBits - last.outputShift) : 128;
  return Float32Array.from(outputs, (v) => v / scale);
}

/** Weights and biases of the float model as float32 bytes (the float row's size). */
export function floatWeightBytes(params: readonly FloatLayerParams[]): number {
  return params.reduce((n, p) => n + p.weight.length + (p.bias?.length ?? 0), 0) * 4;
}

/**
 * Collapse: the training loss within 1 % of ln(classes) (what a uniform guess scores) for `epochs`
 * epochs in a row, or every test prediction one class. Returns the reasons found.
 */
export function collapseReasons(
  losses: { epoch: number; loss: number }[], classes: number, predictions: ArrayLike<number> | undefined, epochs = 3,
): string[] {
  const reasons: string[] = [];
  const chance = Math.log(classes);
  let run = 0;
  for (const { epoch, loss } of losses) {
    run = Number.isFinite(loss) && Math.abs(loss - chance) <= 0.01 * chance ? run + 1 : 0;
    if (run === epochs) {
      reasons.push(`the training loss stayed within 1 % of ln(${classes}) = ${chance.toFixed(3)} (a uniform guess) for ${epochs} epochs, up to epoch ${epoch + 1}`);
      break;
    }
  }
  if (predictions && predictions.length > 1) {
    const first = predictions[0]!;
    let same = true;
    for (let i = 1; i < predictions.length && same; i++) same = predictions[i] === first;
    if (same) reasons.push(`every test prediction is class ${first}`);
  }
  return reasons;
}
