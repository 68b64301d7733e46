// The project's network. Resolves project.json's `model` reference to the IR (built-in networks
// come from src-main/ir/zoo.ts, which is pure and safe to import here).
import { defineStore } from 'pinia';
import { computed } from 'vue';
import type { Model } from '@ir/graph.ts';
import { zoo } from '@ir/zoo.ts';
import { useProjectStore } from './project.ts';

export const useModelStore = defineStore('model', () => {
  const project = useProjectStore();
  const ref = computed(() => project.current?.doc.model ?? null);
  const model = computed<Model | null>(() => {
    const r = ref.value;
    if (!r || r.kind !== 'zoo') return null;
    const make = (zoo as Record<string, ((device?: Model['device']) => Model) | undefined>)[r.arch];
    return make ? make(project.current?.doc.device) : null;
  });
  async function hydrate(): Promise<void> {}
  function dispose(): void {}
  return { ref, model, hydrate, dispose };
});
