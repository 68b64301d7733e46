// Quantization ranges of a training run: the run's float / PTQ / QAT table and, per epoch and per
// layer, the weight and activation range statistics (histograms, clipped shares, shift, bits) the
// training engine records. Reads the project's last run (project.json `training.lastRun`) or the
// newest run of this session, through training.getRun; follows new runs as they finish.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { TrainResultDto } from '../../src-main/api/training.api.ts';
import { api } from '../api/client.ts';
import { useProjectStore } from './project.ts';
import { useTrainingStore } from './training.ts';

export interface Histogram { edges: number[]; counts: number[] }

/** One layer's statistics in one epoch (training/train-types.ts LayerRangeStats, as the API sends it). */
export interface LayerRange {
  layer: string;
  /** Float weight range (BN folded), ai8x float scale. */
  weightMin: number;
  weightMax: number;
  /** Weights after the 2^−shift scaling, over [−1, 1]. */
  weightHistogram: Histogram;
  /** Layer output before the clamp. */
  activationMin: number;
  activationMax: number;
  activationHistogram: Histogram;
  /** Share of outputs outside the clamp. */
  clippedShare: number;
  /** Share of scaled weights outside the b-bit grid. */
  weightClippedShare: number;
  outputShift: number;
  weightBits: number;
}

export interface EpochRanges {
  epoch: number;
  phase: 'float' | 'qat';
  loss: number;
  trainAccuracy?: number;
  validationAccuracy?: number;
  layers: LayerRange[];
}

const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const hist = (v: unknown): Histogram => {
  const h = v as Partial<Histogram> | undefined;
  return Array.isArray(h?.edges) && Array.isArray(h?.counts) ? { edges: h.edges as number[], counts: h.counts as number[] } : { edges: [], counts: [] };
};

/** Reads one layer record defensively: the history is `Record<string, unknown>` on the contract. */
export function parseLayerRange(r: Record<string, unknown>, fallbackName: string): LayerRange {
  return {
    layer: typeof r['layer'] === 'string' ? r['layer'] : typeof r['name'] === 'string' ? r['name'] : fallbackName,
    weightMin: num(r['weightMin']),
    weightMax: num(r['weightMax']),
    weightHistogram: hist(r['weightHistogram']),
    activationMin: num(r['activationMin']),
    activationMax: num(r['activationMax']),
    activationHistogram: hist(r['activationHistogram']),
    clippedShare: num(r['clippedShare']),
    weightClippedShare: num(r['weightClippedShare']),
    outputShift: num(r['outputShift']),
    weightBits: num(r['weightBits'] ?? r['bits'], 8),
  };
}

export const useQuantStore = defineStore('quant', () => {
  const project = useProjectStore();
  const result = shallowRef<TrainResultDto | null>(null);
  const history = shallowRef<EpochRanges[]>([]);
  const request = shallowRef<Record<string, unknown>>({});
  const loading = ref(false);
  const error = ref<string | null>(null);
  /** True when the project names a run that this session no longer holds (runs live in memory). */
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
    const s = project.current?.doc.sections['training'] as { lastRun?: { runId?: unknown } } | undefined;
    return typeof s?.lastRun?.runId === 'string' ? s.lastRun.runId : null;
  }

  /** Loads a run by id, or the project's last run, or the newest run of this session. */
  async function load(runId?: string): Promise<void> {
    loading.value = true;
    error.value = null;
    runMissing.value = false;
    try {
      let id = runId ?? projectRunId();
      if (!id) id = (await api.training.listRuns({})).runs[0]?.runId ?? null;
      if (!id) { result.value = null; history.value = []; return; }
      let run: Awaited<ReturnType<typeof api.training.getRun>>;
      try {
        run = await api.training.getRun({ runId: id });
      } catch (e) {
        if ((e as { code?: string }).code === 'not-found') { runMissing.value = true; result.value = null; history.value = []; return; }
        throw e;
      }
      result.value = run.result;
      request.value = run.request;
      const names = run.result.layers.map((l) => l.name);
      history.value = run.history.map((e) => ({
        epoch: e.epoch, phase: e.phase, loss: e.loss,
        ...(e.trainAccuracy !== undefined ? { trainAccuracy: e.trainAccuracy } : {}),
        ...(e.validationAccuracy !== undefined ? { validationAccuracy: e.validationAccuracy } : {}),
        layers: e.layers.map((l, i) => parseLayerRange(l, names[i] ?? `layer ${i}`)),
      }));
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading.value = false;
    }
  }

  // A run that finishes in the Train step, or another project, brings its ranges here.
  const training = useTrainingStore() as unknown as { result?: { runId?: string } | null };
  watch(() => training.result?.runId, (id) => { if (id && id !== result.value?.runId) void load(id); });
  watch(() => project.current?.path, (now, before) => { if (now !== before) void load(); });

  async function hydrate(): Promise<void> {
    if (project.isOpen) await load();
  }
  function dispose(): void {}

  return { result, history, request, loading, error, runMissing, layerNames, qatStart, hasRanges, load, hydrate, dispose };
});
