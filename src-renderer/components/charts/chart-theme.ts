// Chart colours and text from the shell's CSS variables (styles/theme.css), re-read when the theme
// changes, so charts follow light/dark like everything else. Also the shared series palette.
import { computed, type ComputedRef } from 'vue';
import { useSettingsStore } from '../../stores/index.ts';

export interface ChartTheme {
  text: string;
  muted: string;
  faint: string;
  border: string;
  grid: string;
  bg: string;
  accent: string;
  ok: string;
  warn: string;
  danger: string;
  /** Series colours in order; colour-blind-safe-ish, distinct in both themes. */
  palette: string[];
  fontFamily: string;
}

const LIGHT_PALETTE = ['#2457c5', '#d9730d', '#1a7f4b', '#9c3fb8', '#c4312b', '#0f8b8d', '#7a6a00', '#5b6472'];
const DARK_PALETTE = ['#5b8def', '#f0a050', '#4cc38a', '#c586e0', '#f0746b', '#3cc3c6', '#d6c34a', '#a0a8b4'];

function read(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Reactive chart theme; recomputed when the resolved theme flips. */
export function useChartTheme(): ComputedRef<ChartTheme> {
  const settings = useSettingsStore();
  return computed(() => {
    const dark = settings.resolvedTheme === 'dark';
    return {
      text: read('--text'),
      muted: read('--text-muted'),
      faint: read('--text-faint'),
      border: read('--border-strong'),
      grid: read('--border'),
      bg: read('--bg-raised'),
      accent: read('--accent'),
      ok: read('--ok'),
      warn: read('--warn'),
      danger: read('--danger'),
      palette: dark ? DARK_PALETTE : LIGHT_PALETTE,
      fontFamily: read('--font-sans'),
    };
  });
}

/** Axis styling shared by all cartesian charts. */
export function axisStyle(t: ChartTheme, name?: string) {
  return {
    name,
    nameLocation: 'middle' as const,
    nameTextStyle: { color: t.muted, fontSize: 11 },
    axisLine: { lineStyle: { color: t.border } },
    axisTick: { lineStyle: { color: t.border } },
    axisLabel: { color: t.muted, fontSize: 11, hideOverlap: true },
    splitLine: { lineStyle: { color: t.grid } },
  };
}

export function tooltipStyle(t: ChartTheme) {
  return {
    backgroundColor: t.bg,
    borderColor: t.border,
    textStyle: { color: t.text, fontSize: 12, fontFamily: t.fontFamily },
    confine: true,
  };
}
