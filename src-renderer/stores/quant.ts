// Quantization ranges of a training run: the run's float / PTQ / QAT table and, per epoch and per
// layer, the weight and activation range statistics (histograms, clipped shares, shift, bits) the
// training engine records. Reads the project's reference run (project.json `training.lastRun`) or the
// newest kept run, through training.getRun; follows the run the Train step shows when it is finished.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { HistogramDto, LayerRangeDto, TrainResultDto } from '../../src-main/api/training.api.ts';
import { api } from '../api/client.ts';
import { useProjectStore } from './project.ts';
import { useTrainingStore } from './training.ts';

export type Histogram = HistogramDto;
/** One layer's statistics in one epoch, as the training API sends it. */
export type LayerRange = LayerRangeDto;

export interface EpochRanges {
  epoch: number;
  phase: 'float' | 'qat';
  loss: number;
  trainAccuracy?: number;
  validationAccuracy?: number;
  layers: LayerRange[];
}

export const useQuantStore = defineStore('quant', () => {
  const project = useProjectStore();
  const result = shallowRef<TrainResultDto | null>(null);
  const history = shallowRef<EpochRanges[]>([]);
  const request = shallowRef<Record<string, unknown>>({});
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** True when the project names a reference run that neither this session nor the project's runs folder has. */
  const runMissing = ref(false);

  const layerNames = computed(() => {
    const names = result.value?.layers.map((l) => l.name) ?? [];
    return names.length ? names : (history.value.at(-1)?.layers.map((l) => l.layer) ?? []);
  });
  /** First QAT epoch, from the history (or the request when QAT never ran). */
  const qatStart = computed<number | null>(() => {
    const first = history.value.find((e) => e.phase === 'qat');
    if (first) return first.epoch;
    const q = request.value['qatStart'];
    return typeof q === 'number' ? q : null;
  });
  const hasRanges = computed(() => history.value.some((e) => e.layers.length > 0));

  function projectRunId(): string | null {
    return project.section('training')?.lastRun?.runId ?? null;
  }

  /** Loads a run by id, or the project's last run, or the newest run of this session. */
  async function load(runId?: string): Promise<void> {
    loading.value = true;
    error.value = null;
    runMissing.value = false;
    try {
      let id = runId ?? projectRunId();
      const projectDir = project.current?.path;
      if (!id) id = (await api.training.listRuns(projectDir ? { projectDir } : {})).runs.find((r) => r.result)?.runId ?? null;
      if (!id) { result.value = null; history.value = []; return; }
      let run: Awaited<ReturnType<typeof api.training.getRun>>;
      try {
        run = await api.training.getRun({ runId: id, ...(projectDir ? { projectDir } : {}) });
      } catch (e) {
        if ((e as { code?: string }).code === 'not-found') { runMissing.value = true; result.value = null; history.value = []; return; }
        throw e;
      }
      result.value = run.result;
      request.value = run.request;
      history.value = run.history.map((e) => ({
        epoch: e.epoch, phase: e.phase, loss: e.loss,
        ...(e.trainAccuracy !== undefined ? { trainAccuracy: e.trainAccuracy } : {}),
        ...(e.validationAccuracy !== undefined ? { validationAccuracy: e.validationAccuracy } : {}),
        layers: e.layers,
      }));
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading.value = false;
    }
  }

  // A run that finishes in the Train step, or another project, brings its ranges here.
  const training = useTrainingStore();
  watch(() => training.result?.runId, (id) => { if (id && id !== result.value?.runId) void load(id); });
  watch(() => project.current?.path, (now, before) => { if (now !== before) void load(); });

  async function hydrate(): Promise<void> {
    if (project.isOpen) await load();
  }
  function dispose(): void {}

  return { result, history, request, loading, error, runMissing, layerNames, qatStart, hasRanges, load, hydrate, dispose };
});
