// Every domain store, and the one place that decides load order: settings first (theme before
// first paint), then project (the others derive from it), then the rest in parallel.
import type { Pinia } from 'pinia';
import { useSettingsStore } from './settings.ts';
import { useProjectStore } from './project.ts';
import { useDataStore } from './data.ts';
import { useModelStore } from './model.ts';
import { useTrainingStore } from './training.ts';
import { useQuantStore } from './quant.ts';
import { useToolchainStore } from './toolchain.ts';
import { useDeviceStore } from './device.ts';

export { useSettingsStore, useProjectStore, useDataStore, useModelStore, useTrainingStore, useQuantStore, useToolchainStore, useDeviceStore };

const later = [useDataStore, useModelStore, useTrainingStore, useQuantStore, useToolchainStore, useDeviceStore];

export async function hydrate(pinia: Pinia): Promise<void> {
  await useSettingsStore(pinia).hydrate();
  await useProjectStore(pinia).hydrate();
  await Promise.all(later.map((use) => use(pinia).hydrate()));
}

export function dispose(pinia: Pinia): void {
  for (const use of [...later].reverse()) use(pinia).dispose();
  useProjectStore(pinia).dispose();
  useSettingsStore(pinia).dispose();
}
