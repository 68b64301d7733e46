// What the Model view shows per layer, derived from the IR layer and its plan: op and kernel text,
// shapes, processors (count, mask, memory instances), output instances, and per-processor kernel
// memory. Pure functions over plain data, shared by the graph nodes, the side panel and the maps.
import type { StoredLayer } from '@ir/schema.ts';
import { DEVICE_LIMITS, PROCESSORS } from '@ir/limits.ts';
import type { Device } from '@ir/graph.ts';
import type { PlanDto } from '../../../src-main/api/model.api.ts';
import { MODEL_OPS } from './ops.ts';

export type LayerPlan = PlanDto['layers'][number];
export const BIT_CHOICES = [8, 4, 2, 1] as const;

export function opText(l: StoredLayer): string {
  const parts: string[] = [];
  if (l.pool) parts.push(`${l.pool.kind}pool ${l.pool.size[0]}${l.pool.size[1] > 1 ? `×${l.pool.size[1]}` : ''}`);
  parts.push(MODEL_OPS[l.op].text(l));
  if (l.eltwise) parts.unshift(`${l.eltwise} of ${l.operands ?? 2}`);
  if (l.activation !== 'none') parts.push(l.activation === 'relu' ? 'ReLU' : 'Abs');
  return parts.join(' · ');
}

export const shapeText = (s: { channels: number; dims: number[] } | null | undefined): string =>
  s ? `${s.channels}×${s.dims.join('×')}` : '—';

export function maskBits(hex: string): number[] {
  let v: bigint;
  try {
    v = BigInt(hex.startsWith('0x') ? hex.replace(/[._]/g, '') : `0x${hex.replace(/[._]/g, '')}`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (let i = 0; i < PROCESSORS; i++) if ((v >> BigInt(i)) & 1n) out.push(i);
  return out;
}

/** Short mask for a node: `0x0fff…ffff` keeps 4 digits each side of the 16. */
export function shortMask(hex: string): string {
  const digits = hex.replace(/^0x/, '').padStart(16, '0');
  return `0x${digits.slice(0, 4)}…${digits.slice(-4)}`;
}

/** Processors count, a readable range, and the data-memory instances (processor ÷ 4) they use. */
export function processorsOf(hex: string): { count: number; range: string; instances: number[] } {
  const bits = maskBits(hex);
  const instances = [...new Set(bits.map((b) => b >> 2))];
  const runs: string[] = [];
  for (let i = 0; i < bits.length; ) {
    let j = i;
    while (j + 1 < bits.length && bits[j + 1] === bits[j]! + 1) j++;
    runs.push(i === j ? `${bits[i]}` : `${bits[i]}–${bits[j]}`);
    i = j + 1;
  }
  return { count: bits.length, range: runs.join(', '), instances };
}

/**
 * Instances the layer's output is written to: its output processors if set, else the next layer's
 * input processors, else (last layer) a packed map from processor 0.
 */
export function outputInstances(plan: PlanDto, i: number): number[] {
  const l = plan.layers[i]!;
  const hex = l.placement.outputProcessors ?? plan.layers[i + 1]?.placement.processors;
  if (hex) return processorsOf(hex).instances;
  const channels = l.outputShape?.channels ?? l.outChannels;
  const procs = Math.min(PROCESSORS, Math.ceil(channels / Math.max(1, Math.ceil(channels / 64))));
  return Array.from({ length: Math.ceil(procs / 4) }, (_, k) => k);
}

/** Kernel words used on each of the 64 processors (weights live in the processors that read the input). */
export function kernelWordsPerProcessor(plan: PlanDto): number[] {
  const words = new Array<number>(PROCESSORS).fill(0);
  for (const l of plan.layers) {
    if (!l.kernelWords) continue;
    for (const p of maskBits(l.placement.processors)) words[p]! += l.kernelWords;
  }
  return words;
}

export function kernelCapacity(device: Device, processor: number): number {
  const lim = DEVICE_LIMITS[device];
  return processor % 16 === 0 ? lim.kernelWordsFirstInQuadrant : lim.kernelWords;
}

export function bytesText(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 10 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n.toLocaleString('en')} B`;
}

export const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
