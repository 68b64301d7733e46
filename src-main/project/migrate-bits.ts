// Projects written before the bit policy moved into the network kept the Train step's weight bits in
// `sections.training.config` (`bits`, per-layer `layerBits`, a `bitsSchedule` text like "8@0,4@3:1e-4").
// On open they move where they belong now, as the run they described would have trained: into the
// project's network file, or beside a built-in network's name (ModelRef `layers` / `bitsSchedule`).
import { isAbsolute, join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { ApiError } from '../api/contract.ts';
import type { ProjectDoc } from '../api/project.api.ts';
import { WEIGHT_BITS, type BitsStep, type Model, type WeightBits } from '../ir/graph.ts';
import { BitsEditError, bitsSettings, withBitsEdits, type BitsEdits } from '../ir/bits-policy.ts';
import { deserializeModel, serializeModel } from '../ir/schema.ts';
import { zoo } from '../ir/zoo.ts';
import { writeFileAtomic } from './atomic-write.ts';

const isBits = (v: unknown): v is WeightBits => WEIGHT_BITS.includes(v as WeightBits);

/** The old settings as edits, or undefined when there are none; a bad value is refused naming its field. */
function oldEdits(config: Record<string, unknown>, file: string): BitsEdits | undefined {
  const { bits, layerBits, bitsSchedule } = config;
  const bad = (field: string, expected: string): never => {
    throw new ApiError('invalid-data', `${file}: field "sections.training.config.${field}": expected ${expected}.`, `sections.training.config.${field}`);
  };
  if (bits === undefined && layerBits === undefined && (bitsSchedule === undefined || bitsSchedule === '')) return undefined;
  if (bits !== undefined && !isBits(bits)) bad('bits', '1, 2, 4 or 8');
  if (layerBits !== undefined && (typeof layerBits !== 'object' || layerBits === null || !Object.values(layerBits).every(isBits))) bad('layerBits', 'layer names with 1, 2, 4 or 8');
  let schedule: BitsStep[] | undefined;
  if (typeof bitsSchedule === 'string' && bitsSchedule.trim()) {
    schedule = bitsSchedule.split(',').map((t) => t.trim()).filter(Boolean).map((item) => {
      const m = /^(8|4|2|1)@(\d+)(?::([\d.eE+-]+))?$/.exec(item);
      if (!m || (m[3] !== undefined && !(Number(m[3]) > 0))) return bad('bitsSchedule', `BITS@EPOCH[:LR],... (got "${item}")`);
      return { fromQatEpoch: Number(m[2]), bits: Number(m[1]) as WeightBits, ...(m[3] !== undefined ? { learningRate: Number(m[3]) } : {}) };
    });
  } else if (bitsSchedule !== undefined && bitsSchedule !== '') bad('bitsSchedule', 'text like 8@0,4@3');
  return {
    // The old Train step always sent its bits (default 8) for every layer not listed in layerBits.
    ...(schedule ? {} : { bits: isBits(bits) ? bits : 8 }),
    ...(layerBits ? { layerBits: layerBits as Record<string, WeightBits> } : {}),
    ...(schedule ? { bitsSchedule: schedule } : {}),
  };
}

/**
 * Moves old Train-step bits into the project's network. Returns the migrated document (the caller
 * marks it unsaved), or the same one when there was nothing to move. A network file is rewritten
 * atomically.
 */
export async function migrateTrainingBits(dir: string, file: string, doc: ProjectDoc): Promise<ProjectDoc> {
  const training = doc.sections['training'] as { config?: Record<string, unknown> } | undefined;
  const config = training?.config;
  if (!config || typeof config !== 'object') return doc;
  const edits = oldEdits(config, file);
  if (!edits) return doc;
  const { bits: _b, layerBits: _l, bitsSchedule: _s, ...rest } = config;
  const sections = { ...doc.sections, training: { ...training, config: rest } };
  const ref = doc.model;
  const apply = (m: Model, where: string): Model => {
    // Layers the network no longer has are dropped, as the old Model step did.
    const names = new Set(m.layers.map((l) => l.name));
    const layerBits = edits.layerBits && Object.fromEntries(Object.entries(edits.layerBits).filter(([n]) => names.has(n)));
    try {
      return withBitsEdits(m, { ...edits, ...(layerBits ? { layerBits } : {}) });
    } catch (e) {
      if (e instanceof BitsEditError) throw new ApiError('invalid-data', `${file}: sections.training.config: ${e.message} (${where})`, `sections.training.config.${e.field}`);
      throw e;
    }
  };
  if (ref?.kind === 'zoo' && ref.arch in zoo) {
    const built = zoo[ref.arch as keyof typeof zoo](doc.device);
    const settings = bitsSettings(apply(built, ref.arch));
    return { ...doc, model: { ...ref, ...settings }, sections };
  }
  if (ref?.kind === 'file') {
    const path = isAbsolute(ref.path) ? ref.path : join(dir, ref.path);
    let net: Model;
    try {
      net = deserializeModel(JSON.parse(await readFile(path, 'utf8')));
    } catch (e) {
      throw new ApiError('invalid-data', `${file}: sections.training.config holds weight bits for the network ${ref.path}, which cannot be read (${(e as Error).message}).`, 'model.path');
    }
    await writeFileAtomic(path, JSON.stringify(serializeModel(apply(net, ref.path)), null, 2) + '\n');
  }
  return { ...doc, sections };
}
