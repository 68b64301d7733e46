// The "one action at a time" state a store shows while it calls the API: busy flag, what it is
// busy with, and the last error in plain words (the action itself then resolves to undefined).
import { ref } from 'vue';

export function useBusy() {
  const busy = ref(false);
  /** What the store is busy with, for a progress line. */
  const busyLabel = ref<string | null>(null);
  const error = ref<string | null>(null);

  async function run<T>(fn: () => Promise<T>, label: string | null = null): Promise<T | undefined> {
    busy.value = true;
    busyLabel.value = label;
    error.value = null;
    try {
      return await fn();
    } catch (e) {
      error.value = (e as Error).message;
      return undefined;
    } finally {
      busy.value = false;
      busyLabel.value = null;
    }
  }

  return { busy, busyLabel, error, run };
}
