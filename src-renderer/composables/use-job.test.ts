// useJob against a hand-driven job function: progress and ETA, result, API errors with their code,
// cancellation through the signal, and a stale run never overwriting a newer one.
import { describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick } from 'vue';
import type { CallOptions, Progress } from '@contract';
import { ToolchainProgressData } from '../../src-main/api/toolchain.api.ts';
import { formatDuration, useJob } from './use-job.ts';

interface Call { request: number; options: CallOptions; resolve(v: string): void; reject(e: unknown): void }

function harness() {
  const calls: Call[] = [];
  const fn = (request: number, options: CallOptions = {}) =>
    new Promise<string>((resolve, reject) => {
      calls.push({ request, options, resolve, reject });
      options.signal?.addEventListener('abort', () => reject(Object.assign(new Error('Cancelled.'), { code: 'cancelled' })));
    });
  const seen: Progress[] = [];
  const scope = effectScope();
  const job = scope.run(() => useJob(fn, (p) => seen.push(p)))!;
  return { calls, job, seen, scope };
}

describe('useJob', () => {
  it('parses each progress\'s data with the job\'s progress schema', async () => {
    const calls: Call[] = [];
    const fn = (request: number, options: CallOptions = {}) => new Promise<string>((resolve, reject) => calls.push({ request, options, resolve, reject }));
    const scope = effectScope();
    const job = scope.run(() => useJob(fn, undefined, ToolchainProgressData))!;
    void job.start(1);
    const send = calls[0]!.options.onProgress!;
    send({ phase: 'build', fraction: 0.5, data: { kind: 'make', compiled: 3, file: 'cnn.c' } });
    expect(job.data.value).toEqual({ kind: 'make', compiled: 3, file: 'cnn.c' });
    // Another shape (or none) is no data, never a half-read one.
    send({ phase: 'build', data: { kind: 'make', compiled: 'three' } });
    expect(job.data.value).toBeNull();
    send({ phase: 'build' });
    expect(job.data.value).toBeNull();
    calls[0]!.resolve('ok');
    scope.stop();
  });

  it('runs, reports progress and an ETA, and keeps the result', async () => {
    vi.useFakeTimers();
    const { calls, job, seen, scope } = harness();
    const done = job.start(7);
    expect(job.state.value).toBe('running');
    expect(calls[0]!.request).toBe(7);
    vi.advanceTimersByTime(2000);
    calls[0]!.options.onProgress!({ phase: 'float', fraction: 0.25 });
    expect(seen).toHaveLength(1);
    expect(job.progress.value?.phase).toBe('float');
    // 2 s for a quarter: about 6 s to go.
    expect(job.etaMs.value).toBeGreaterThan(5000);
    expect(job.etaMs.value).toBeLessThan(7000);
    calls[0]!.resolve('ok');
    await expect(done).resolves.toBe('ok');
    expect(job.state.value).toBe('done');
    expect(job.result.value).toBe('ok');
    expect(job.etaMs.value).toBeNull();
    scope.stop();
    vi.useRealTimers();
  });

  it('keeps the API error code and message', async () => {
    const { calls, job, scope } = harness();
    const done = job.start(1);
    calls[0]!.reject(Object.assign(new Error('No layer named "x".'), { code: 'bad-request' }));
    await expect(done).resolves.toBeNull();
    expect(job.state.value).toBe('failed');
    expect(job.error.value).toEqual({ code: 'bad-request', message: 'No layer named "x".' });
    scope.stop();
  });

  it('cancels through the signal and ends as cancelled, not failed', async () => {
    const { calls, job, scope } = harness();
    const done = job.start(1);
    job.cancel();
    await expect(done).resolves.toBeNull();
    expect(calls[0]!.options.signal!.aborted).toBe(true);
    expect(job.state.value).toBe('cancelled');
    expect(job.error.value).toBeNull();
    scope.stop();
  });

  it('a new start cancels the old run, whose late answer is ignored', async () => {
    const { calls, job, scope } = harness();
    const first = job.start(1);
    const second = job.start(2);
    expect(calls[0]!.options.signal!.aborted).toBe(true);
    calls[0]!.options.onProgress?.({ phase: 'stale' });
    expect(job.progress.value).toBeNull();
    calls[1]!.resolve('two');
    await first;
    await second;
    await nextTick();
    expect(job.result.value).toBe('two');
    expect(job.state.value).toBe('done');
    scope.stop();
  });

  it('stopping the owning scope cancels a running job', async () => {
    const { calls, job, scope } = harness();
    const done = job.start(1);
    scope.stop();
    await done;
    expect(calls[0]!.options.signal!.aborted).toBe(true);
  });

  it('formats durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(65_000)).toMatch(/^1 min 05 s$/);
  });
});
