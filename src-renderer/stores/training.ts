// Training runs (float, then QAT). Shell only: the capability's owner fills state and actions here (calls go through
// ../api/client.ts, events through onEvent); hydrate/dispose keep their place in stores/index.ts.
import { defineStore } from 'pinia';

export const useTrainingStore = defineStore('training', () => {
  async function hydrate(): Promise<void> {}
  function dispose(): void {}
  return { hydrate, dispose };
});
