// Serial link and the live device check: ports (plus manual path and the virtual MAX78002), the
// connection with the device's HELLO, the running check with per-window records, rolling figures,
// a live confusion matrix, and the final report (exportable as JSON/CSV).
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { z } from 'zod';
import { RollingFigures, type CheckReport, type DeviceHello, type PortInfo, type WindowEvent } from '../../src-main/api/device.api.ts';
import { useBusy } from '../composables/use-busy.ts';
import { api } from '../api/client.ts';
import { useEvent } from '../composables/use-event.ts';
import { useJob } from '../composables/use-job.ts';
import { useDataStore } from './data.ts';
import { useProjectStore } from './project.ts';
import { useTrainingStore } from './training.ts';

export type Port = z.infer<typeof PortInfo>;
export type Hello = z.infer<typeof DeviceHello>;
export type Rolling = z.infer<typeof RollingFigures>;
export type Report = z.infer<typeof CheckReport>;
export type Scaling = NonNullable<Report['input']['scaling']>;
/** A window record; `outputs` (float scale) when the service sends the vectors. */
export type WindowRecord = z.infer<typeof WindowEvent> & { outputs?: { device: number[]; simulator: number[]; float: number[] | null } };
export type LinkStatus = 'disconnected' | 'connecting' | 'connected' | 'unplugged' | 'reconnecting';
/** 'test': the project's own test windows, written with every export (test.windows.npy + labels). */
export type CheckSource = 'test' | 'device' | 'mnist' | 'file';

const KEEP_WINDOWS = 300;

export const useDeviceStore = defineStore('device', () => {
  const project = useProjectStore();
  const training = useTrainingStore();
  const data = useDataStore();
  const ports = shallowRef<Port[]>([]);
  const portsWarning = ref<string | null>(null);
  const selectedPath = ref('');
  const status = ref<LinkStatus>('disconnected');
  const statusMessage = ref<string | null>(null);
  const hello = shallowRef<Hello | null>(null);
  const connectedPath = ref<string | null>(null);
  // busyLabel: what the link is busy with (port actions can take seconds).
  const { busy, busyLabel, error, run: guarded } = useBusy();
  const virtualPath = ref<string | null>(null);

  /** The MNIST digits shipped with the app are a source only for the MNIST example project. */
  const isMnistProject = computed(() => data.source?.kind === 'example' && data.source.name === 'mnist');
  const exportFile = (name: string) => (training.exportDir ? `${training.exportDir.replace(/[\\/]+$/, '')}/${name}` : null);
  const testWindows = computed(() => exportFile('test.windows.npy'));
  const testLabels = computed(() => exportFile('test.labels.npy'));
  const source = ref<CheckSource>('test');
  watch(isMnistProject, (mnist) => { if (!mnist && source.value === 'mnist') source.value = 'test'; });
  const sourceFile = ref('');
  const labelsFile = ref('');
  /** The windows file is an integer .npy of raw sensor values (ADC counts), scaled with the export's input scaling. */
  const rawInts = ref(false);
  const windowCount = ref<number | null>(200);

  /** The input scaling the export expects (its model.json), for the one line in the controls. */
  const inputScaling = shallowRef<{ scaling: Scaling | null; file: string | null } | { error: string } | null>(null);
  watch(() => training.exportDir, async (dir) => {
    inputScaling.value = null;
    if (!dir) return;
    const res = await api.device.inputScaling({ artifacts: dir }).catch((e: Error) => ({ error: e.message }));
    if (training.exportDir === dir) inputScaling.value = res;
  }, { immediate: true });

  const windows = shallowRef<WindowRecord[]>([]);
  const rolling = shallowRef<Rolling | null>(null);
  const rollingHistory = shallowRef<Rolling[]>([]);
  /** confusion[reference][device]; reference = float class when there is a float model, else the simulator's. */
  const confusion = shallowRef<number[][]>([]);
  const maxAbsError = ref<number | null>(null);
  const latencySumUs = ref(0);
  /** Window events received (the link sends at most ~20 a second, so this may be fewer than checked). */
  const received = ref(0);
  // Its `data`: the rolling figures, as the window events also carry them.
  const check = useJob(api.device.startCheck, undefined, RollingFigures);
  const report = computed<Report | null>(() => check.result.value);
  const latencyMeanUs = computed(() => (received.value ? latencySumUs.value / received.value : null));
  const isConnected = computed(() => status.value === 'connected' || status.value === 'unplugged' || status.value === 'reconnecting');

  useEvent('device', 'window', (payload) => {
    const { record, rolling: r } = payload as { record: WindowRecord; rolling: Rolling };
    if (!check.isRunning.value) return;
    windows.value = windows.value.length >= KEEP_WINDOWS ? [...windows.value.slice(1 - KEEP_WINDOWS), record] : [...windows.value, record];
    rolling.value = r;
    rollingHistory.value = rollingHistory.value.length >= 1000 ? [...rollingHistory.value.slice(-999), r] : [...rollingHistory.value, r];
    const ref = record.floatClass ?? record.simClass;
    const n = Math.max(confusion.value.length, ref + 1, record.deviceClass + 1, hello.value?.outputCount ?? 0);
    const m = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => confusion.value[i]?.[j] ?? 0));
    m[ref]![record.deviceClass]!++;
    confusion.value = m;
    if (record.maxAbsErrorFloat !== null) maxAbsError.value = Math.max(maxAbsError.value ?? 0, record.maxAbsErrorFloat);
    latencySumUs.value += record.deviceTimeUs;
    received.value++;
  });
  useEvent('device', 'status', (payload) => {
    const p = payload as { path: string; status: 'connected' | 'unplugged' | 'reconnecting' | 'closed'; message?: string };
    statusMessage.value = p.message ?? null;
    status.value = p.status === 'closed' ? 'disconnected' : p.status;
    if (p.status === 'closed') hello.value = null;
  });


  const refreshPorts = () => guarded(async () => {
    const res = await api.device.listPorts({});
    ports.value = res.ports;
    portsWarning.value = res.warning ?? null;
    if (!selectedPath.value && res.ports[0]) selectedPath.value = res.ports[0].path;
  });

  async function connect(path = selectedPath.value.trim()): Promise<boolean> {
    if (!path) {
      error.value = 'Choose a port or type its path (e.g. /dev/ttyACM0).';
      return false;
    }
    status.value = 'connecting';
    const res = await guarded(() => api.device.connect({ path }), `Connecting to ${path} and waiting for the device's HELLO…`);
    if (!res) {
      status.value = 'disconnected';
      return false;
    }
    hello.value = res.hello;
    connectedPath.value = res.path;
    status.value = 'connected';
    return true;
  }

  const disconnect = () => guarded(async () => {
    if (check.isRunning.value) await api.device.stopCheck({});
    await api.device.disconnect({});
    status.value = 'disconnected';
    hello.value = null;
    connectedPath.value = null;
  });

  /**
   * Starts the virtual MAX78002 on the project's current export, its sensor fed with the project's
   * own test windows (the MNIST digits for the MNIST example), then connects to it. The service
   * restarts a running one that holds another model.
   */
  async function startVirtual(): Promise<boolean> {
    const artifacts = training.exportDir;
    if (!artifacts) {
      error.value = 'The virtual MAX78002 runs the exported model: train (with export) first.';
      return false;
    }
    if (connectedPath.value && connectedPath.value === virtualPath.value) await disconnect();
    const sensor = isMnistProject.value ? 'mnist' : testWindows.value!;
    const res = await guarded(() => api.device.startVirtualDevice({ artifacts, sensor }), 'Starting the virtual MAX78002 on this project\'s export…');
    if (!res) return false;
    virtualPath.value = res.path;
    selectedPath.value = res.path;
    await refreshPorts();
    return connect(res.path);
  }

  const stopVirtual = () => guarded(async () => {
    if (connectedPath.value && connectedPath.value === virtualPath.value) await disconnect();
    await api.device.stopVirtualDevice({});
    virtualPath.value = null;
    await refreshPorts();
  });

  const unplugVirtual = () => guarded(() => api.device.unplugVirtualDevice({ ms: 1500 }));

  async function startCheck(): Promise<void> {
    const artifacts = training.exportDir;
    if (!artifacts) {
      error.value = 'The check compares against the exported model: train (with export) first.';
      return;
    }
    error.value = null;
    windows.value = [];
    rolling.value = null;
    rollingHistory.value = [];
    confusion.value = [];
    maxAbsError.value = null;
    latencySumUs.value = 0;
    received.value = 0;
    const src = source.value === 'file' ? sourceFile.value.trim() : source.value === 'test' ? testWindows.value! : source.value;
    const labels = source.value === 'file' ? labelsFile.value.trim() : source.value === 'test' ? testLabels.value! : '';
    await check.start({
      artifacts,
      source: src,
      ...(labels ? { labels } : {}),
      ...(source.value === 'file' && rawInts.value ? { raw: true } : {}),
      ...(windowCount.value ? { windows: windowCount.value } : {}),
      ...(project.pathIn('artifacts', 'disagreements') ? { saveDir: project.pathIn('artifacts', 'disagreements')! } : {}),
    });
  }

  /** Stops the check; its job then resolves with the report so far. */
  const stopCheck = () => guarded(() => api.device.stopCheck({}));

  const exportReport = (format: 'json' | 'csv') => guarded(() => api.device.getReport({ format }));

  watch(() => project.current?.path, (now, before) => {
    if (now !== before && check.isRunning.value) void stopCheck();
  });

  async function hydrate(): Promise<void> {}
  function dispose(): void {
    if (check.isRunning.value) void api.device.stopCheck({}).catch(() => {});
  }

  return {
    ports, portsWarning, selectedPath, status, statusMessage, hello, connectedPath, error, busy, busyLabel, virtualPath, isConnected,
    isMnistProject, inputScaling, source, sourceFile, labelsFile, rawInts, windowCount, windows, received, rolling, rollingHistory, confusion, maxAbsError, latencyMeanUs,
    check, report, refreshPorts, connect, disconnect, startVirtual, stopVirtual, unplugVirtual, startCheck, stopCheck, exportReport,
    hydrate, dispose,
  };
});
