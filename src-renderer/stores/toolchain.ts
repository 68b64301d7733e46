// The ADI toolchain: saved paths (shared by Settings and Deploy), the doctor's report, and the
// synthesize → build → flash jobs with their streaming log lines.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import { ToolchainProgressData, type DoctorReport, type PathPolicy, type ToolchainSettings } from '../../src-main/api/toolchain.api.ts';
import { api } from '../api/client.ts';
import { useEvent } from '../composables/use-event.ts';
import { useJob } from '../composables/use-job.ts';
import { useProjectStore } from './project.ts';
import { useTrainingStore } from './training.ts';

export interface LogLine { n: number; tool: string; stream: 'stdout' | 'stderr'; line: string }
export type DeployStep = 'synthesize' | 'build' | 'flash';
const MAX_LOG = 4000;

export const useToolchainStore = defineStore('toolchain', () => {
  const project = useProjectStore();
  const training = useTrainingStore();
  const settings = shallowRef<ToolchainSettings>({});
  const pathPolicy = shallowRef<PathPolicy>({ locked: [], reason: null });
  const settingsError = ref<string | null>(null);
  const savingSettings = ref(false);
  const doctor = useJob(api.toolchain.doctor);
  const report = computed<DoctorReport | null>(() => doctor.result.value);
  // Each job's `data`: the tool's step (izer phase, objects compiled, OpenOCD step, install step).
  const synthesize = useJob(api.toolchain.synthesize, undefined, ToolchainProgressData);
  const build = useJob(api.toolchain.build, undefined, ToolchainProgressData);
  const flash = useJob(api.toolchain.flash, undefined, ToolchainProgressData);
  const installIzerJob = useJob(api.toolchain.installIzer, undefined, ToolchainProgressData);
  const log = shallowRef<LogLine[]>([]);
  const consolePort = ref('');
  let n = 0;

  // Log lines arrive far faster than a frame; batch them.
  let pending: LogLine[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  const stopLog = useEvent('toolchain', 'log', (payload) => {
    const p = payload as Omit<LogLine, 'n'>;
    pending.push({ n: ++n, tool: p.tool, stream: p.stream, line: p.line });
    flushTimer ??= setTimeout(() => {
      flushTimer = null;
      const next = log.value.concat(pending);
      pending = [];
      log.value = next.length > MAX_LOG ? next.slice(next.length - MAX_LOG) : next;
    }, 100);
  });

  const synthDir = computed(() => project.pathIn('artifacts', 'synthesized'));
  const bundleDir = computed(() => project.pathIn('artifacts', 'bundle'));
  const projectDir = computed(() => synthesize.result.value?.projectDir ?? null);
  const activeStep = computed<DeployStep | null>(() =>
    synthesize.isRunning.value ? 'synthesize' : build.isRunning.value ? 'build' : flash.isRunning.value ? 'flash' : null);

  async function loadSettings(): Promise<void> {
    try {
      [settings.value, pathPolicy.value] = await Promise.all([api.toolchain.getSettings({}), api.toolchain.pathPolicy({})]);
    } catch (e) {
      settingsError.value = (e as Error).message;
    }
  }

  /** Saves the paths (empty strings mean "find it myself") and re-runs the doctor. */
  async function saveSettings(next: ToolchainSettings): Promise<boolean> {
    savingSettings.value = true;
    settingsError.value = null;
    try {
      const clean = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== '' && v !== undefined && v !== null)) as ToolchainSettings;
      settings.value = await api.toolchain.setSettings(clean);
      void doctor.start({});
      return true;
    } catch (e) {
      settingsError.value = (e as Error).message;
      return false;
    } finally {
      savingSettings.value = false;
    }
  }

  /** Installs ai8x-synthesis into the app data folder (desktop app: confirmed there), then re-checks. */
  async function installIzer(): Promise<void> {
    clearLog();
    await installIzerJob.start({});
    if (installIzerJob.result.value) {
      await loadSettings();
      void doctor.start({});
    }
  }
  /** Points the settings at an existing checkout; the error, if any, shows with the paths. */
  async function useIzerCheckout(dir: string): Promise<boolean> {
    settingsError.value = null;
    try {
      settings.value = await api.toolchain.useIzerCheckout({ dir });
      void doctor.start({});
      return true;
    } catch (e) {
      settingsError.value = (e as Error).message;
      return false;
    }
  }

  function clearLog(): void {
    log.value = [];
  }

  async function runSynthesize(): Promise<void> {
    const artifactsDir = training.exportDir;
    if (!artifactsDir || !synthDir.value) return;
    clearLog();
    build.reset();
    flash.reset();
    await synthesize.start({ artifactsDir, outDir: synthDir.value, addHarness: true, ...(bundleDir.value ? { bundleDir: bundleDir.value } : {}) });
  }
  async function runBuild(): Promise<void> {
    if (!projectDir.value) return;
    flash.reset();
    await build.start({ projectDir: projectDir.value });
  }
  async function runFlash(): Promise<void> {
    if (!projectDir.value) return;
    await flash.start({ projectDir: projectDir.value, ...(consolePort.value.trim() ? { consolePort: consolePort.value.trim() } : {}) });
  }

  watch(() => project.current?.path, (now, before) => {
    if (now === before) return;
    for (const j of [synthesize, build, flash]) j.reset();
  });

  async function hydrate(): Promise<void> {
    await loadSettings();
  }
  function dispose(): void {
    stopLog();
    if (flushTimer) clearTimeout(flushTimer);
    for (const j of [doctor, synthesize, build, flash, installIzerJob]) j.cancel();
  }

  return {
    settings, pathPolicy, settingsError, savingSettings, doctor, report, synthesize, build, flash, installIzerJob, installIzer, useIzerCheckout, log, consolePort,
    synthDir, projectDir, activeStep, loadSettings, saveSettings, clearLog, runSynthesize, runBuild, runFlash,
    runDoctor: () => doctor.start({}), hydrate, dispose,
  };
});
