// Hardware limits of the MAX78000 and MAX78002 CNN accelerators (max78002.md §6, README
// "Limitations of MAX78000/MAX78002 Networks"). Read by validation and the planner.
import type { Device } from './graph.ts';

export interface DeviceLimits {
  maxLayers: number;
  /** Per layer, in and out. tornadocnn sets 1,024 for both devices (README says 2,048 for MAX78002). */
  maxChannels: number;
  maxRowsCols: number;
  /** Pixels per channel in HWC layout (4 channels share a word). */
  maxPixelsHwc: number;
  /** Pixels per channel in CHW layout (first layer only). */
  maxPixelsChw: number;
  /** Bytes per data-memory instance (16 instances, 4 processors each). */
  instanceBytes: number;
  /** Ping-pong offset: half an instance. */
  halfInstance: number;
  /** 72-bit kernel words per processor; processors 0/16/32/48 may have more. */
  kernelWords: number;
  kernelWordsFirstInQuadrant: number;
  /** Weight memory total as the izer reports it, bytes. */
  weightMemoryBytes: number;
  /** Bias memory total, bytes (one byte per output channel). */
  biasMemoryBytes: number;
  /** Bias bytes one layer may use (one quadrant's bias memory). */
  maxBiasPerLayer: number;
  maxPoolDilation: number;
}

export const DEVICE_LIMITS: Record<Device, DeviceLimits> = {
  MAX78000: {
    maxLayers: 32, maxChannels: 1024, maxRowsCols: 1023, maxPixelsHwc: 8192, maxPixelsChw: 32768,
    instanceBytes: 0x8000, halfInstance: 0x4000, kernelWords: 768, kernelWordsFirstInQuadrant: 768,
    weightMemoryBytes: 442_368, biasMemoryBytes: 2048, maxBiasPerLayer: 512, maxPoolDilation: 1,
  },
  MAX78002: {
    maxLayers: 128, maxChannels: 1024, maxRowsCols: 2047, maxPixelsHwc: 20480, maxPixelsChw: 81920,
    instanceBytes: 0x14000, halfInstance: 0xa000, kernelWords: 4096, kernelWordsFirstInQuadrant: 5120,
    weightMemoryBytes: 2_396_160, biasMemoryBytes: 8192, maxBiasPerLayer: 2048, maxPoolDilation: 16,
  },
};

export const PROCESSORS = 64;
