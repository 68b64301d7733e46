// Training runs (float, then QAT): the config form, the running job with live curves built from its
// progress, the finished run (float / PTQ / QAT table, per-layer quantization, export folder), and
// the runs kept in the project folder (listed, shown, continued at another width, resumed).
// The `training` section of project.json keeps the config and the reference run's summary.
import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef, watch } from 'vue';
import type { CallOptions, Progress } from '@contract';
import type { WeightBits } from '@ir/graph.ts';
import { TrainProgressData, TrainRequest, type RunSummaryDto, type TrainingLastRun, type TrainResultDto } from '../../src-main/api/training.api.ts';
import { api } from '../api/client.ts';
import { useJob } from '../composables/use-job.ts';
import { useDataStore } from './data.ts';
import { useProjectStore } from './project.ts';

export type Arch = 'ai85net5' | 'ai85netextrasmall' | 'ecgnet';

export interface TrainConfig {
  epochs: number;
  /** 0-based epoch at which BN is folded and QAT starts. */
  qatStart: number;
  /** null: the engine's default. */
  learningRate: number | null;
  batchSize: number | null;
  /** Train on a stratified subset of at most this many samples (null: the data set as imported). */
  limit: number | null;
  /** Weight the loss by inverse class frequency (imbalanced data). */
  classWeights: boolean;
  /** embedded (in the app) or pytorch (a Python with torch, Settings → PyTorch Python). */
  engine: 'embedded' | 'pytorch';
  /** PyTorch engine: cpu or cuda. */
  computeDevice: 'cpu' | 'cuda';
  /** PyTorch engine: worker processes (GPUs with cuda) through torchrun; null: 1. */
  gpus: number | null;
  /** QAT phase learning rate; null: TRAIN_DEFAULTS.qatLearningRateFactor × the float one. */
  qatLearningRate: number | null;
  /** Learning-rate schedule of each phase (restarts at the QAT start). */
  lrSchedule: 'none' | 'step' | 'cosine' | 'plateau';
  /** Early-stopping patience of the float / QAT phase (validation loss, best weights restored); null: off. */
  patience: number | null;
  qatPatience: number | null;
}

/** One point of a live curve: x in epochs (fractional within an epoch). */
export interface CurvePoint { x: number; y: number; phase: 'float' | 'qat' }
export interface EpochPoint {
  epoch: number;
  phase: 'float' | 'qat';
  loss: number;
  trainAccuracy?: number;
  validationAccuracy?: number;
  /** Default weight bits of a QAT epoch (a schedule's or chain's width): the charts mark each change. */
  bits?: number;
}

/** What project.json keeps of the reference run: the last finished one, or the one chosen in the run list. */
export type LastRun = TrainingLastRun;

/** A history epoch as the charts draw it. */
const epochPoint = (e: { epoch: number; phase: 'float' | 'qat'; loss: number; trainAccuracy?: number; validationAccuracy?: number; bits?: number }): EpochPoint => ({
  epoch: e.epoch, phase: e.phase, loss: e.loss,
  ...(e.bits !== undefined ? { bits: e.bits } : {}),
  ...(e.trainAccuracy !== undefined ? { trainAccuracy: e.trainAccuracy } : {}),
  ...(e.validationAccuracy !== undefined ? { validationAccuracy: e.validationAccuracy } : {}),
});

const defaults = (): TrainConfig => ({ epochs: 10, qatStart: 6, learningRate: null, batchSize: null, limit: null, classWeights: false, engine: 'embedded', computeDevice: 'cpu', gpus: null,
  qatLearningRate: null, lrSchedule: 'none', patience: null, qatPatience: null,
});

export const useTrainingStore = defineStore('training', () => {
  const project = useProjectStore();
  const data = useDataStore();
  const config = reactive<TrainConfig>(defaults());
  /** The run the view shows (curves, result): chosen in the run list, the one the job trains, or the reference. */
  const viewedRunId = ref<string | null>(null);
  /** What the viewed run was asked to do, as kept (continuing from it reuses its data, network and settings). */
  const viewedRequest = shallowRef<Record<string, unknown> | null>(null);
  /** The run the job trains now (from its start progress): only its progress draws the live curves. */
  const liveRunId = ref<string | null>(null);
  const liveBatchLoss = shallowRef<CurvePoint[]>([]);
  const following = () => liveRunId.value !== null && viewedRunId.value === liveRunId.value;
  /** Batch-level loss of the run the job trains, while it is the one shown. */
  const batchLoss = computed(() => (following() || viewedRunId.value === null ? liveBatchLoss.value : []));
  const epochs = shallowRef<EpochPoint[]>([]);
  const samplesPerSecond = shallowRef<number | null>(null);
  const result = shallowRef<TrainResultDto | null>(null);
  /** Per-epoch history with per-layer statistics of the current run (for charts and the Quantize view). */
  const history = shallowRef<Awaited<ReturnType<typeof api.training.getRun>>['history']>([]);
  /** The latest batch's figures (epoch, loss) while a run is going. */
  const lastBatch = shallowRef<Extract<TrainProgressData, { kind: 'batch' }> | null>(null);

  const arch = computed<Arch | null>(() => {
    const m = project.current?.doc.model;
    return m?.kind === 'zoo' && ['ai85net5', 'ai85netextrasmall', 'ecgnet'].includes(m.arch) ? (m.arch as Arch) : null;
  });
  /**
   * The network Train trains: a built-in one by name, or the project's own network file (built or
   * imported on the Model step) by its absolute path.
   */
  const network = computed<{ kind: 'zoo' | 'file'; spec: string; label: string } | null>(() => {
    const m = project.current?.doc.model;
    if (m?.kind === 'zoo') return arch.value ? { kind: 'zoo', spec: arch.value, label: arch.value } : null;
    if (m?.kind !== 'file') return null;
    const abs = /^([a-zA-Z]:)?[\\/]/.test(m.path) ? m.path : project.pathIn(...m.path.split(/[\\/]/));
    return abs ? { kind: 'file', spec: abs, label: m.path.split(/[\\/]/).pop() ?? m.path } : null;
  });
  const lastRun = computed<LastRun | null>(() => {
    return project.section('training')?.lastRun ?? null;
  });
  /** The export folder of the latest run: what Deploy and the device check use. */
  const exportDir = computed(() => result.value?.outDir ?? lastRun.value?.outDir ?? null);

  function onProgress(p: Progress): void {
    const parsed = TrainProgressData.safeParse(p.data);
    if (!parsed.success) return;
    const d = parsed.data;
    if (d.kind === 'start') {
      liveRunId.value = d.runId;
      viewedRunId.value = d.runId;
      // run.json is written just after this message: list the new run once it is there.
      setTimeout(() => void loadRuns(), 500);
    } else if (d.kind === 'batch') {
      lastBatch.value = d;
      if (d.loss !== null) liveBatchLoss.value = [...liveBatchLoss.value, { x: d.epoch + (d.batches ? d.batch / d.batches : 1), y: d.loss, phase: d.phase }];
      if (d.samplesPerSecond !== null) samplesPerSecond.value = d.samplesPerSecond;
    } else if (d.kind === 'epoch' && (p.phase === 'float' || p.phase === 'qat')) {
      setTimeout(() => void loadRuns(), 300); // the list's epochs done, once run.json has the epoch
      if (!following()) return;
      const va = d.validationAccuracy ?? undefined;
      const ta = d.trainAccuracy ?? undefined;
      if (va === undefined && ta === undefined) return;
      const point: EpochPoint = { epoch: d.epoch, phase: p.phase, loss: d.epochLoss ?? NaN, ...(d.bits !== undefined ? { bits: d.bits } : {}), ...(ta !== undefined ? { trainAccuracy: ta } : {}), ...(va !== undefined ? { validationAccuracy: va } : {}) };
      epochs.value = [...epochs.value.filter((e) => e.epoch !== d.epoch), point];
    }
  }
  /** One job for a new run (also one continued from a kept run) and a resumed one, so the view follows whichever runs. */
  type Call = { kind: 'train'; req: TrainRequest } | { kind: 'continue'; req: { runId: string; projectDir: string } };
  const job = useJob((c: Call, o?: CallOptions) => (c.kind === 'train' ? api.training.train(c.req, o) : api.training.continueRun(c.req, o)), onProgress);

  function request(): TrainRequest | string {
    if (!network.value) return 'The project has no network to train; choose or build one in Model.';
    const sec = data.section;
    const useImported = data.dataset && config.limit === null;
    if (!useImported && !sec) return 'The project has no data set; import one in Data.';
    // Kept in the project (runs/<id>/, exports beside run.json), so runs survive a restart.
    const projectDir = project.current?.path;
    // The network with its bit policy: a built-in one's reference (its bits beside its name), or its file.
    const ref = project.current?.doc.model;
    return {
      data: useImported ? { datasetId: data.dataset!.datasetId } : { source: sec!.source, ...(config.limit ?? sec!.limit ? { limit: (config.limit ?? sec!.limit)! } : {}), ...(sec!.split ? { split: sec!.split } : {}) },
      model: ref?.kind === 'zoo' ? ref : network.value.spec,
      device: project.current?.doc.device ?? 'MAX78002',
      epochs: config.epochs,
      qatStart: config.qatStart,
      ...(config.learningRate ? { learningRate: config.learningRate } : {}),
      ...(config.batchSize ? { batchSize: config.batchSize } : {}),
      ...(config.classWeights ? { classWeights: true } : {}),
      ...(config.lrSchedule !== 'none' ? { lrSchedule: { kind: config.lrSchedule } } : {}),
      ...(config.patience ? { earlyStopping: { patience: config.patience } } : {}),
      ...(config.qatLearningRate || config.qatPatience
        ? { qat: { ...(config.qatLearningRate ? { learningRate: config.qatLearningRate } : {}), ...(config.qatPatience ? { earlyStopping: { patience: config.qatPatience } } : {}) } }
        : {}),
      ...(projectDir ? { projectDir } : {}),
      engine: config.engine,
      ...(config.engine === 'pytorch' ? { computeDevice: config.computeDevice, ...(config.gpus && config.gpus > 1 ? { gpus: config.gpus } : {}) } : {}),
    };
  }

  /** Clears the live figures before a job starts; the view follows the run it starts. */
  function resetLive(): void {
    liveBatchLoss.value = [];
    epochs.value = [];
    history.value = [];
    samplesPerSecond.value = null;
    lastBatch.value = null;
    result.value = null;
    liveRunId.value = null;
    viewedRunId.value = null;
    viewedRequest.value = null;
  }

  async function start(): Promise<void> {
    const req = request();
    if (typeof req === 'string') {
      job.fail(req);
      return;
    }
    resetLive();
    await run({ kind: 'train', req });
  }

  async function run(call: Call): Promise<void> {
    const res = await job.start(call);
    void loadRuns(); // the outcome (finished, failed, cancelled) is in the list either way
    await finish(res);
  }

  /**
   * A new run that starts from a finished kept run's weights at another width (a chain 8 → 4 → 2):
   * the same data, network and settings, a QAT phase of `qatEpochs` epochs at `bits`.
   */
  async function continueFrom(source: RunSummaryDto, bits: WeightBits, qatEpochs: number, learningRate: number | null): Promise<void> {
    const projectDir = project.current?.path;
    if (!source.dir || !projectDir) return;
    let kept: unknown = null;
    let past: EpochPoint[] = [];
    if (source.runId === viewedRunId.value && viewedRequest.value) {
      kept = viewedRequest.value;
      past = epochs.value;
    } else {
      try {
        const got = await api.training.getRun({ runId: source.runId, projectDir });
        kept = got.request;
        past = got.history.map(epochPoint);
      } catch (e) {
        job.fail((e as Error).message);
        return;
      }
    }
    const parsed = TrainRequest.safeParse(kept);
    if (!parsed.success) {
      job.fail(`Run ${source.runId}: its kept settings cannot be used again (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''}).`);
      return;
    }
    // Its own folder, one width, no per-layer overrides and no float phase: the source's weights start QAT at once.
    const { outDir: _o, fromRun: _f, bitsSchedule: _b, layerBits: _l, earlyStopping: _e, ...base } = parsed.data;
    const qat = { ...base.qat, ...(learningRate ? { learningRate } : {}) };
    const req: TrainRequest = { ...base, fromRun: source.dir, epochs: qatEpochs, qatStart: 0, bits, projectDir, ...(Object.keys(qat).length ? { qat } : {}) };
    resetLive();
    // The new run's history starts with its source's epochs (as its kept history does): the curves go on from them.
    epochs.value = past;
    liveBatchLoss.value = past.map((e) => ({ x: e.epoch + 1, y: e.loss, phase: e.phase }));
    await run({ kind: 'train', req });
  }

  /** Goes on with an interrupted or cancelled kept run from its last finished epoch, in its own folder. */
  async function resumeRun(runId: string): Promise<void> {
    const projectDir = project.current?.path;
    if (!projectDir) return;
    resetLive();
    liveRunId.value = runId;
    // The epochs kept so far draw the curves' start; the resumed epochs join them live.
    if (await loadRun(runId)) liveBatchLoss.value = epochs.value.map((e) => ({ x: e.epoch + 1, y: e.loss, phase: e.phase }));
    await run({ kind: 'continue', req: { runId, projectDir } });
  }

  /** Writes `res` as the project's reference run: what Quantize, Deploy and Device check use after a restart too. */
  async function recordReference(res: TrainResultDto, finishedAt: string): Promise<void> {
    if (!project.isOpen || lastRun.value?.runId === res.runId) return;
    const last: LastRun = {
      runId: res.runId, floatAccuracy: res.floatAccuracy, ptqAccuracy: res.ptqAccuracy, qatAccuracy: res.qatAccuracy, finishedAt,
      ...(res.outDir ? { outDir: res.outDir } : {}), ...(res.files ? { files: res.files } : {}),
    };
    await project.update({ section: { key: 'training', value: { config: { ...config }, lastRun: last } } });
  }

  async function finish(res: TrainResultDto | null): Promise<void> {
    if (!res) return;
    result.value = res;
    samplesPerSecond.value = res.samplesPerSecond;
    await loadRun(res.runId);
    await recordReference(res, new Date().toISOString());
  }

  /** Loads a run (result, history, request) into the view; the live points are replaced by the authoritative history. */
  async function loadRun(runId: string): Promise<boolean> {
    try {
      const projectDir = project.current?.path;
      const run = await api.training.getRun({ runId, ...(projectDir ? { projectDir } : {}) });
      viewedRunId.value = runId;
      viewedRequest.value = run.request;
      result.value = run.result;
      history.value = run.history;
      epochs.value = run.history.map(epochPoint);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Shows a kept run (curves, comparison); a finished one also becomes the reference of Quantize,
   * Deploy and Device check. The run the job trains keeps training; choosing it again follows it.
   */
  async function select(runId: string): Promise<void> {
    if (!(await loadRun(runId))) return;
    const summary = runs.value.find((r) => r.runId === runId);
    if (result.value) await recordReference(result.value, summary?.createdAt ?? new Date().toISOString());
  }

  function applySection(): void {
    Object.assign(config, defaults());
    const s = project.section('training');
    if (s?.config) Object.assign(config, s.config);
  }

  // Switching or closing the project stops the job (reset below); the run stays on disk, resumable.
  project.warnOnLeave(() => (job.isRunning.value ? 'A run is training; it will be interrupted and can be resumed from its last finished epoch.' : null));
  watch(() => project.current?.path, (now, before) => {
    if (now === before) return;
    job.reset();
    resetLive();
    runs.value = [];
    applySection();
    void loadLatest();
  });

  /** The runs kept in the project, newest first (the run list, the size-vs-accuracy plot). */
  const runs = shallowRef<RunSummaryDto[]>([]);
  /** Runs that could not be read (a damaged run.json), named with the reason. */
  const skippedRuns = shallowRef<string[]>([]);
  const viewedRun = computed(() => runs.value.find((r) => r.runId === viewedRunId.value) ?? null);
  let listing = 0;
  async function loadRuns(): Promise<void> {
    const projectDir = project.current?.path;
    const mine = ++listing;
    if (!projectDir) {
      runs.value = [];
      return;
    }
    try {
      const list = await api.training.listRuns({ projectDir });
      if (mine !== listing || projectDir !== project.current?.path) return; // a newer listing, or another project
      // Only this project's runs: the service also lists this session's runs kept elsewhere or nowhere.
      const root = `${projectDir.replace(/\\/g, '/').replace(/\/+$/, '')}/runs/`;
      runs.value = list.runs.filter((r) => r.dir !== null && r.dir.replace(/\\/g, '/').startsWith(root));
      skippedRuns.value = list.skipped;
    } catch {
      if (mine === listing) runs.value = [];
    }
  }

  /** The project's last run, else the newest finished run kept in its folder (also one never saved into project.json). */
  async function loadLatest(): Promise<void> {
    const listed = loadRuns();
    const runId = lastRun.value?.runId;
    if (runId && (await loadRun(runId))) return;
    await listed;
    const newest = runs.value.find((r) => r.result);
    if (newest) await loadRun(newest.runId);
  }

  async function hydrate(): Promise<void> {
    applySection();
    await loadLatest();
  }
  function dispose(): void {
    job.cancel();
  }

  return {
    runs, skippedRuns, viewedRunId, viewedRun, viewedRequest, liveRunId, config, arch, network, job, batchLoss, epochs, lastBatch, samplesPerSecond, result, history, lastRun, exportDir,
    start, continueFrom, resumeRun, select, loadRuns, cancel: job.cancel, loadRun, resetConfig: () => Object.assign(config, defaults()), hydrate, dispose,
  };
});
