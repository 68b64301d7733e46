// Runs one long API job (a contract method declared with job()) with reactive state: its state,
// last progress, result or error, elapsed time and an ETA from the reported fraction, plus
// cancel() and reset(). Starting again cancels the previous run. Given the job's progress schema
// (its `*.api.ts` declares it), `data` is the last progress's data, parsed.
import { computed, getCurrentScope, onScopeDispose, ref, shallowRef } from 'vue';
import type { z } from 'zod';
import type { CallOptions, Progress } from '@contract';

export type JobState = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

export function useJob<Req, Res, D = never>(
  method: (request: Req, options?: CallOptions) => Promise<Res>,
  onProgress?: (p: Progress) => void,
  progressData?: z.ZodType<D>,
) {
  const state = ref<JobState>('idle');
  const progress = shallowRef<Progress | null>(null);
  /** The last progress's data as its schema reads it; null when it carried none (or another shape). */
  const data = computed<D | null>(() => {
    const parsed = progress.value?.data === undefined ? undefined : progressData?.safeParse(progress.value.data);
    return parsed?.success ? parsed.data : null;
  });
  const result = shallowRef<Res | null>(null);
  /** Error of the last failed run: the API error code and its plain-words message. */
  const error = ref<{ code: string; message: string } | null>(null);
  const elapsedMs = ref(0);
  const isRunning = computed(() => state.value === 'running');
  const etaMs = computed<number | null>(() => {
    const f = progress.value?.fraction;
    if (!isRunning.value || f === undefined || f <= 0 || f >= 1) return null;
    return (elapsedMs.value * (1 - f)) / f;
  });
  let controller: AbortController | null = null;
  let clock: ReturnType<typeof setInterval> | null = null;

  const stopClock = () => {
    if (clock) clearInterval(clock);
    clock = null;
  };

  async function start(request: Req): Promise<Res | null> {
    controller?.abort();
    const mine = (controller = new AbortController());
    const startedAt = Date.now();
    state.value = 'running';
    progress.value = null;
    result.value = null;
    error.value = null;
    elapsedMs.value = 0;
    stopClock();
    clock = setInterval(() => (elapsedMs.value = Date.now() - startedAt), 250);
    try {
      const res = await method(request, {
        signal: mine.signal,
        onProgress: (p) => {
          if (mine !== controller) return;
          progress.value = p;
          onProgress?.(p);
        },
      });
      if (mine !== controller) return null;
      result.value = res;
      state.value = 'done';
      return res;
    } catch (e) {
      if (mine !== controller) return null;
      const err = e as { code?: string; message?: string };
      if (err.code === 'cancelled' || mine.signal.aborted) state.value = 'cancelled';
      else {
        error.value = { code: err.code ?? 'internal', message: err.message ?? String(e) };
        state.value = 'failed';
      }
      return null;
    } finally {
      if (mine === controller) {
        elapsedMs.value = Date.now() - startedAt;
        stopClock();
        controller = null;
      }
    }
  }

  function cancel(): void {
    controller?.abort();
  }

  /** Marks the job failed without running it (e.g. the request cannot be built). */
  function fail(message: string, code = 'bad-request'): void {
    cancel();
    stopClock();
    error.value = { code, message };
    state.value = 'failed';
  }

  function reset(): void {
    cancel();
    controller = null;
    stopClock();
    state.value = 'idle';
    progress.value = null;
    result.value = null;
    error.value = null;
    elapsedMs.value = 0;
  }

  if (getCurrentScope()) onScopeDispose(() => {
    cancel();
    stopClock();
  });
  return { state, progress, data, result, error, elapsedMs, etaMs, isRunning, start, cancel, fail, reset };
}

/** "850 ms", "12 s", "3 min 05 s", "1 h 02 min"; "—" when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
