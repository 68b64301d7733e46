// A hash router (#/<step>) small enough to need no dependency: it works the same from file://
// (Electron) and http:// (web mode), and links stay plain <a href> for keyboard users.
import { onScopeDispose, ref } from 'vue';
import { defaultStepId, steps } from './steps.ts';

function idFromHash(): string {
  const id = window.location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  return steps.some((s) => s.id === id) ? id : defaultStepId;
}

export function useRoute() {
  const current = ref(idFromHash());
  const onHash = () => (current.value = idFromHash());
  window.addEventListener('hashchange', onHash);
  onScopeDispose(() => window.removeEventListener('hashchange', onHash));
  return {
    current,
    go(id: string) {
      window.location.hash = `#/${id}`;
    },
  };
}

export const hrefFor = (id: string) => `#/${id}`;
