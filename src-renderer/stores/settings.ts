// App preferences kept in this browser profile: the colour theme. `system` follows
// prefers-color-scheme live; the header toggle sets an explicit light or dark.
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';

export type ThemeChoice = 'system' | 'light' | 'dark';
const THEME_KEY = 'qatwb.theme';

export const useSettingsStore = defineStore('settings', () => {
  const theme = ref<ThemeChoice>('system');
  const systemDark = ref(false);
  const resolvedTheme = computed<'light' | 'dark'>(() =>
    theme.value === 'system' ? (systemDark.value ? 'dark' : 'light') : theme.value,
  );
  let media: MediaQueryList | null = null;
  const onMedia = (e: MediaQueryListEvent) => (systemDark.value = e.matches);

  function applyTheme(): void {
    document.documentElement.dataset.theme = resolvedTheme.value;
    document.documentElement.style.colorScheme = resolvedTheme.value;
  }

  async function hydrate(): Promise<void> {
    const saved = localStorage.getItem(THEME_KEY);
    if (saved === 'light' || saved === 'dark' || saved === 'system') theme.value = saved;
    media = window.matchMedia('(prefers-color-scheme: dark)');
    systemDark.value = media.matches;
    media.addEventListener('change', onMedia);
    applyTheme();
  }

  function dispose(): void {
    media?.removeEventListener('change', onMedia);
  }

  watch(resolvedTheme, applyTheme);
  watch(theme, (t) => localStorage.setItem(THEME_KEY, t));

  return {
    theme, resolvedTheme, hydrate, dispose,
    setTheme: (t: ThemeChoice) => (theme.value = t),
    toggleTheme: () => (theme.value = resolvedTheme.value === 'dark' ? 'light' : 'dark'),
  };
});
