// The weight-bit policy of a network, read from the IR alone: each layer's final width
// (`Layer.weightBits`) and the progressive schedules that narrow it during QAT (`Model.bitsSchedule`,
// `Layer.bitsSchedule`). Training (both engines), quantization, the planner and the UI ask here
// which width a layer has at a QAT epoch, so no second copy of the bits exists anywhere.
import { WEIGHT_BITS, type BitsStep, type Layer, type Model, type WeightBits } from './graph.ts';
import { opHasWeights } from './ops/registry.ts';

type LayerStep = Omit<BitsStep, 'learningRate'>;

/** The schedule a layer follows: its own, else the model's when its final width is that schedule's last, else none. */
export function layerSchedule(model: Model, layer: Layer): readonly LayerStep[] | undefined {
  if (layer.bitsSchedule?.length) return layer.bitsSchedule;
  const s = model.bitsSchedule;
  return s?.length && s[s.length - 1]!.bits === layer.weightBits ? s : undefined;
}

/** The step in force at `qatEpoch` (steps in epoch order, the first at 0). */
function stepAt<S extends LayerStep>(steps: readonly S[], qatEpoch: number): S | undefined {
  let at: S | undefined;
  for (const s of steps) if (s.fromQatEpoch <= qatEpoch) at = s;
  return at ?? steps[0];
}

/** A layer's weight bits at a QAT epoch (0 = the QAT start); its final width without a schedule. */
export function layerBitsAt(model: Model, layer: Layer, qatEpoch: number): WeightBits {
  const steps = layerSchedule(model, layer);
  return steps ? stepAt(steps, qatEpoch)!.bits : layer.weightBits;
}

/** Every layer's bits at a QAT epoch, in layer order. */
export function bitsAt(model: Model, qatEpoch: number): WeightBits[] {
  return model.layers.map((l) => layerBitsAt(model, l, qatEpoch));
}

/** QAT epochs below `qatEpochs` at which some layer changes width, from 0, ascending. */
export function widthBoundaries(model: Model, qatEpochs: number): number[] {
  const at = new Set([0]);
  for (const s of model.bitsSchedule ?? []) at.add(s.fromQatEpoch);
  for (const l of model.layers) for (const s of l.bitsSchedule ?? []) at.add(s.fromQatEpoch);
  return [...at].filter((e) => e < Math.max(qatEpochs, 1)).sort((a, b) => a - b);
}

/** The model schedule's step in force at a QAT epoch (its learning rate applies then). */
export function modelStepAt(model: Model, qatEpoch: number): BitsStep | undefined {
  return model.bitsSchedule?.length ? stepAt(model.bitsSchedule, qatEpoch) : undefined;
}

/** The most common width among `bits` of the layers with weights (ties: the wider); 8 with no such layer. */
export function commonWidth(model: { layers: readonly Pick<Layer, 'op' | 'weightBits'>[] }, bits: readonly number[] = model.layers.map((l) => l.weightBits)): WeightBits {
  const count = new Map<number, number>();
  model.layers.forEach((l, i) => opHasWeights(l.op) && count.set(bits[i]!, (count.get(bits[i]!) ?? 0) + 1));
  let best: number | undefined;
  for (const [b, n] of count) if (best === undefined || n > count.get(best)! || (n === count.get(best)! && b > best)) best = b;
  return (best ?? 8) as WeightBits;
}

/** The width that names the model at a QAT epoch ("QAT 4-bit"): its schedule's, else the most common one. */
export function modelBitsAt(model: Model, qatEpoch: number): WeightBits {
  return modelStepAt(model, qatEpoch)?.bits ?? commonWidth(model, bitsAt(model, qatEpoch));
}

/** A copy whose layers have these final widths (by layer order, or by name; other layers keep theirs). */
export function withLayerBits(model: Model, bits: readonly number[] | Readonly<Record<string, WeightBits>>): Model {
  const of = (l: Layer, i: number) => (Array.isArray(bits) ? bits[i] : (bits as Record<string, WeightBits>)[l.name]) as WeightBits | undefined;
  return { ...model, layers: model.layers.map((l, i) => (of(l, i) !== undefined ? { ...l, weightBits: of(l, i)! } : l)) };
}

/**
 * The network at these widths (layer order), e.g. one width of a schedule for its comparison row: the
 * final widths keep the bit policy; any other is a fixed-width network without a schedule.
 */
export function atWidths(model: Model, bits: readonly number[]): Model {
  if (model.layers.every((l, i) => l.weightBits === bits[i])) return model;
  const { bitsSchedule: _s, ...rest } = model;
  return { ...rest, layers: model.layers.map(({ bitsSchedule: _l, ...l }, i) => ({ ...l, weightBits: bits[i] as WeightBits })) };
}

/** A problem of the bit policy, naming the field of model.json it is in. */
export interface BitsProblem {
  field: string;
  message: string;
}

const isBits = (b: unknown): b is WeightBits => WEIGHT_BITS.includes(b as WeightBits);

function stepProblems(steps: readonly BitsStep[], field: string, qatEpochs: number | undefined, layerLevel: boolean): BitsProblem[] {
  const out: BitsProblem[] = [];
  steps.forEach((s, i) => {
    const f = `${field}.${i}`;
    if (!isBits(s.bits)) out.push({ field: `${f}.bits`, message: `expected 1, 2, 4 or 8 bits, got ${JSON.stringify(s.bits)}` });
    if (!Number.isInteger(s.fromQatEpoch) || s.fromQatEpoch < 0) out.push({ field: `${f}.fromQatEpoch`, message: `expected an integer QAT epoch ≥ 0, got ${JSON.stringify(s.fromQatEpoch)}` });
    else if (i === 0 && s.fromQatEpoch !== 0) out.push({ field: `${f}.fromQatEpoch`, message: `the first width starts at the QAT start (0), got ${s.fromQatEpoch}` });
    else if (i > 0 && !(s.fromQatEpoch > steps[i - 1]!.fromQatEpoch)) out.push({ field: `${f}.fromQatEpoch`, message: `QAT epochs must increase (${steps[i - 1]!.fromQatEpoch}, then ${s.fromQatEpoch})` });
    else if (qatEpochs !== undefined && s.fromQatEpoch >= qatEpochs) out.push({ field: `${f}.fromQatEpoch`, message: `${s.bits}-bit from QAT epoch ${s.fromQatEpoch}, but the QAT phase has ${qatEpochs} epochs (counted from 0)` });
    if (s.learningRate !== undefined && (layerLevel || !(s.learningRate > 0)))
      out.push({ field: `${f}.learningRate`, message: layerLevel ? 'a layer\'s schedule has no learning rate (the model\'s steps set it)' : `expected a learning rate > 0, got ${s.learningRate}` });
  });
  return out;
}

/**
 * What is wrong with the bit policy: bad steps, a layer schedule whose last width is not the layer's
 * weightBits, a model schedule no layer follows. `qatEpochs`: the QAT phase's length, when known.
 */
/** The parts of a network (or its stored form) the bit policy reads. */
type PolicyView = Pick<Model, 'bitsSchedule'> & { layers: readonly Pick<Layer, 'name' | 'op' | 'weightBits' | 'bitsSchedule'>[] };

export function bitsPolicyProblems(model: PolicyView, qatEpochs?: number): BitsProblem[] {
  const out: BitsProblem[] = [];
  const s = model.bitsSchedule;
  if (s !== undefined) {
    if (!Array.isArray(s)) return [{ field: 'bitsSchedule', message: 'expected an array of {fromQatEpoch, bits, learningRate?}' }];
    out.push(...stepProblems(s, 'bitsSchedule', qatEpochs, false));
    const last = s[s.length - 1];
    if (last && !model.layers.some((l) => opHasWeights(l.op) && !l.bitsSchedule?.length && l.weightBits === last.bits))
      out.push({ field: 'bitsSchedule', message: `the schedule ends at ${last.bits} bits but no layer has weightBits ${last.bits}, so no layer follows it; set the layers' final width to ${last.bits}` });
  }
  model.layers.forEach((l, i) => {
    if (l.bitsSchedule === undefined) return;
    const field = `layers.${i}.bitsSchedule`;
    if (!Array.isArray(l.bitsSchedule)) return out.push({ field, message: 'expected an array of {fromQatEpoch, bits}' });
    out.push(...stepProblems(l.bitsSchedule, field, qatEpochs, true));
    const last = l.bitsSchedule[l.bitsSchedule.length - 1];
    if (last && last.bits !== l.weightBits) out.push({ field, message: `${l.name}: the schedule ends at ${last.bits} bits, but the layer's weightBits (its final width) is ${l.weightBits}` });
  });
  return out;
}

/** Bit edits made before training (the CLI's --bits, --layer-bits, --bits-schedule). */
export interface BitsEdits {
  /** Every layer's final width; drops a schedule the network had unless `bitsSchedule` gives one. */
  bits?: WeightBits;
  /** Final widths by layer name; these layers keep their width through a model schedule. */
  layerBits?: Readonly<Record<string, WeightBits>>;
  /** The model's schedule; the other layers' final width becomes its last width. */
  bitsSchedule?: BitsStep[];
}

export class BitsEditError extends Error {
  override name = 'BitsEditError';
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** The network with the edits applied; an edit that names no layer or disagrees with another is refused. */
export function withBitsEdits(model: Model, edits: BitsEdits): Model {
  const names = new Set(model.layers.map((l) => l.name));
  for (const name of Object.keys(edits.layerBits ?? {})) {
    if (!names.has(name)) throw new BitsEditError(`layerBits.${name}`, `layerBits: no layer named "${name}" in ${model.arch} (layers: ${[...names].join(', ')}).`);
  }
  const schedule = edits.bitsSchedule?.length ? edits.bitsSchedule : undefined;
  const final = schedule?.[schedule.length - 1]!.bits ?? edits.bits;
  if (schedule && edits.bits !== undefined && edits.bits !== final)
    throw new BitsEditError('bits', `bits ${edits.bits} and the bits schedule's last width ${final} disagree: the last width is the final one.`);
  const { bitsSchedule: _old, ...rest } = model;
  const next: Model = {
    ...(schedule || edits.bits !== undefined ? rest : model),
    ...(schedule ? { bitsSchedule: schedule.map((s) => ({ ...s })) } : {}),
    layers: model.layers.map((l) => {
      const own = edits.layerBits?.[l.name];
      const weightBits = own ?? final ?? l.weightBits;
      if (weightBits === l.weightBits && own === undefined && final === undefined) return l;
      const { bitsSchedule: _ls, ...layer } = l;
      // A layer held at the schedule's final width keeps it from the start: its own one-step schedule.
      const held = schedule && own !== undefined && own === final ? { bitsSchedule: [{ fromQatEpoch: 0, bits: own }] } : {};
      return { ...layer, weightBits, ...held };
    }),
  };
  return next;
}

/**
 * A network's bit policy on its own: every layer's final width (and own schedule) by name, and the
 * model's schedule. A project on a built-in network keeps this beside the network's name, since the
 * network itself is rebuilt for the data (project.api.ts ModelRef).
 */
export interface BitsSettings {
  layers?: Record<string, Pick<Layer, 'weightBits' | 'bitsSchedule'>>;
  bitsSchedule?: BitsStep[];
}

export function bitsSettings(model: Pick<Model, 'bitsSchedule'> & { layers: readonly Pick<Layer, 'name' | 'weightBits' | 'bitsSchedule'>[] }): BitsSettings {
  return {
    layers: Object.fromEntries(model.layers.map((l) => [l.name, { weightBits: l.weightBits, ...(l.bitsSchedule ? { bitsSchedule: l.bitsSchedule } : {}) }])),
    ...(model.bitsSchedule?.length ? { bitsSchedule: model.bitsSchedule } : {}),
  };
}

/** The network with these settings (layers not named keep theirs). */
export function withBitsSettings(model: Model, s: BitsSettings): Model {
  const { bitsSchedule: _s, ...rest } = model;
  return {
    ...(s.bitsSchedule?.length ? { ...rest, bitsSchedule: s.bitsSchedule } : rest),
    layers: model.layers.map((l) => {
      const own = s.layers?.[l.name];
      if (!own) return l;
      const { bitsSchedule: _l, ...layer } = l;
      return { ...layer, weightBits: own.weightBits, ...(own.bitsSchedule?.length ? { bitsSchedule: own.bitsSchedule } : {}) };
    }),
  };
}

/**
 * The network with a new schedule (or none): the layers that followed the old one (without one: those
 * at the common width) take the new last width; the others keep theirs, a layer already at that width
 * held there by its own one-step schedule.
 */
export function withSchedule(model: Model, schedule: readonly BitsStep[] | undefined): Model {
  const old = model.bitsSchedule?.length ? model.bitsSchedule : undefined;
  const common = commonWidth(model);
  const follows = (l: Layer) => opHasWeights(l.op) && !l.bitsSchedule?.length && (old ? layerSchedule(model, l) === old : l.weightBits === common);
  const final = schedule?.length ? schedule[schedule.length - 1]!.bits : undefined;
  const { bitsSchedule: _old, ...rest } = model;
  return {
    ...rest,
    ...(final !== undefined ? { bitsSchedule: schedule!.map((s) => ({ ...s })) } : {}),
    layers: model.layers.map((l) => {
      if (follows(l)) return final !== undefined ? { ...l, weightBits: final } : l;
      if (final === undefined && l.bitsSchedule?.length === 1) {
        const { bitsSchedule: _one, ...plain } = l;
        return plain;
      }
      if (final !== undefined && opHasWeights(l.op) && !l.bitsSchedule?.length && l.weightBits === final) return { ...l, bitsSchedule: [{ fromQatEpoch: 0, bits: final }] };
      return l;
    }),
  };
}
