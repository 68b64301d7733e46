// Runs one parse of user files in a worker thread with a time and a memory budget. The event loop
// of the app (Electron main, web server) keeps answering while a file is read, a cancel or the
// time limit terminates the worker at once, and a file that needs more heap than the budget ends
// only its worker, with a message naming the file, instead of freezing or killing the app.
import { ApiError } from '../api/contract.ts';
import { startWorker } from './worker.ts';

export interface WorkerBudget {
  /** Wall-clock limit, ms. */
  timeoutMs: number;
  /** V8 heap limit of the worker (old + young generation), MB. */
  heapMb: number;
}

/** Generous for any MAX7800x model or data set these readers accept (see read-input.ts caps). */
export const PARSE_BUDGET: WorkerBudget = { timeoutMs: 120_000, heapMb: 2048 };

type Reply<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string; field?: string; details?: Record<string, unknown> } };

/**
 * Starts `moduleUrl` with `input` as its workerData and resolves with the value it posts
 * (`{ok, value}` or `{ok: false, error}`). `what` names the file(s) for budget errors.
 */
export function runBudgeted<T>(moduleUrl: URL, input: unknown, what: string, opts: { signal?: AbortSignal; budget?: Partial<WorkerBudget> } = {}): Promise<T> {
  const budget = { ...PARSE_BUDGET, ...opts.budget };
  const worker = startWorker(moduleUrl, {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: budget.heapMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(8, budget.heapMb / 8)) },
  });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      fn();
    };
    const onAbort = () => finish(() => reject(new ApiError('cancelled', `Cancelled reading ${what}.`)));
    const timer = setTimeout(() => finish(() => reject(new ApiError('invalid-data',
      `${what}: reading took longer than ${Math.round(budget.timeoutMs / 1000)} s; the file is too large or malformed.`))), budget.timeoutMs);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (m: Reply<T>) => finish(() => (m.ok ? resolve(m.value) : reject(new ApiError(m.error.code, m.error.message, m.error.field, m.error.details)))));
    worker.once('error', (e: Error & { code?: string }) => finish(() => reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY'
      ? new ApiError('invalid-data', `${what}: reading needs more than ${budget.heapMb} MB of memory; the file is too large or malformed.`)
      : new ApiError('internal', `${what}: the reader stopped (${e.message}).`))));
    worker.once('exit', (code) => finish(() => reject(new ApiError('internal', `${what}: the reader exited (${code}) without an answer.`))));
  });
}

/** The code an importer's ImportError arrives under from a worker; its details are ImportError.toJSON(). */
export const IMPORT_ERROR = 'import-error';

/** Inside such a worker: posts the result of `body`, errors as {code, message, field}. */
export async function answerBudgeted(post: (m: unknown) => void, body: () => Promise<unknown>): Promise<void> {
  try {
    post({ ok: true, value: await body() });
  } catch (error) {
    const e = error as Error & { field?: unknown };
    // Errors cross the thread as data: ApiError as is, a reader's FormatError as invalid data with
    // its field, an importer's ImportError under its own code (the service words it).
    const wire = error instanceof ApiError ? error.toJSON()
      : e?.name === 'FormatError' ? { code: 'invalid-data', message: e.message, ...(typeof e.field === 'string' ? { field: e.field } : {}) }
        : e?.name === 'ImportError' ? { code: IMPORT_ERROR, message: e.message, details: (e as Error & { toJSON(): Record<string, unknown> }).toJSON() }
          : { code: 'internal', message: e?.message ?? String(error) };
    post({ ok: false, error: wire });
  }
}
