// Processor masks (max78002.md §3.2): which of the 64 processors read a layer's input. C ≤ 64
// channels → C processors; more → ceil(C/64) passes of ceil(C/passes) processors rounded up to a
// multiple of 4; a CHW first layer needs one processor per group of four (one memory instance per
// channel); a flatten layer counts the channels before flattening.
import { PROCESSORS } from '../ir/limits.ts';

export interface ProcessorNeed {
  passes: number;
  /** Processors (bits) the mask must have. */
  perPass: number;
}

export function processorNeed(channels: number): ProcessorNeed {
  if (channels <= PROCESSORS) return { passes: 1, perPass: channels };
  const passes = Math.ceil(channels / PROCESSORS);
  return { passes, perPass: Math.min(PROCESSORS, Math.ceil(Math.ceil(channels / passes) / 4) * 4) };
}

export function popcount(mask: bigint): number {
  let n = 0;
  for (let m = mask; m > 0n; m >>= 1n) if (m & 1n) n++;
  return n;
}

export function maskHex(mask: bigint): string {
  return `0x${mask.toString(16).padStart(16, '0')}`;
}

export function parseMask(hex: string): bigint {
  return BigInt(hex.startsWith('0x') || hex.startsWith('0X') ? hex : `0x${hex}`);
}

/** The default mask: processors 0..n−1, or for CHW one processor per group of four (0, 4, 8, ...). */
export function defaultMask(count: number, chw: boolean): bigint {
  let m = 0n;
  for (let i = 0; i < count; i++) m |= 1n << BigInt(chw ? i * 4 : i);
  return m;
}

/** Memory instances (groups of four processors) that have more than one processor set. */
export function sharedInstances(mask: bigint): number[] {
  const out: number[] = [];
  for (let g = 0; g < 16; g++) if (popcount((mask >> BigInt(g * 4)) & 0xfn) > 1) out.push(g);
  return out;
}
