// The sole tfjs initialiser. Prefers @tensorflow/tfjs-node when it is installed, else the WASM
// backend (SIMD) with the Node threading patches of training-speed.md §2; never the pure-JS cpu
// backend for training (that one is only used as the reference in gradient tests).
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { privateDir } from '../platform/private-dir.ts';
import { createRequire } from 'node:module';
import { registerWasmGradients } from './gradients.ts';

export type Tf = typeof tf;

export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  name: string;
  /** Threads the backend computes with (wasm: XNNPACK threads). */
  threads: number;
  /** Human-readable description, e.g. `wasm (SIMD, 2 threads)`. */
  description: string;
}

let ready: Promise<BackendInfo> | undefined;

export interface BackendOptions {
  /** Force a backend; 'cpu' is for gradient reference tests only. */
  prefer?: 'auto' | 'wasm' | 'cpu';
  /** Use WASM threads (default true). */
  threads?: boolean;
}

/** Initialise tfjs once per thread; later calls return the same backend. */
export function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  ready ??= pickBackend(options);
  return ready;
}

async function pickBackend(options: BackendOptions): Promise<BackendInfo> {
  const prefer = options.prefer ?? 'auto';
  if (prefer === 'cpu') {
    await tf.setBackend('cpu');
    return { name: 'cpu', threads: 1, description: 'cpu (pure JS, reference only)' };
  }
  if (prefer === 'auto') {
    try {
      // Optional native backend; absent on these machines (it cannot install), so the import fails.
      const spec = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ spec);
      if (await tf.setBackend('tensorflow')) {
        return { name: 'tensorflow', threads: os.cpus().length, description: 'tfjs-node (native TensorFlow)' };
      }
    } catch {
      // fall through to WASM
    }
  }
  const wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
  let threads = 1;
  // QATWB_WASM_THREADS=0 opts out of the threading patches (single-threaded SIMD binary).
  const threadsWanted = options.threads ?? process.env.QATWB_WASM_THREADS !== '0';
  if (threadsWanted && os.cpus().length > 1) {
    try {
      threads = await setWasmWithThreads(wasmBackend, os.cpus().length);
    } catch (e) {
      if (e instanceof Error && e.message.includes('did not start')) throw e;
      threads = 0;
    }
  }
  if (threads === 0 || tf.getBackend() !== 'wasm') {
    // Single-threaded SIMD binary; the package's backend factory re-reads the flag.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('training backend: the WASM backend failed to start');
    threads = 1;
  }
  registerWasmGradients();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  return {
    name: 'wasm',
    threads,
    description: `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads > 1 ? 's' : ''})`,
  };
}

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

/**
 * Node never gets the threaded binary by default (flags_wasm.js says no multithreading under
 * Node), and forcing it fails on the Blob worker URL. The three patches: the pthread worker
 * script becomes a real file that loads the threaded module from disk, URL.createObjectURL hands
 * out that file's path, and os.cpus() reports twice the cores while XNNPACK is initialised,
 * because the C++ side caps its threads at logical_cores / 2.
 */
async function setWasmWithThreads(wasm: WasmModule, cores: number): Promise<number> {
  const require = createRequire(import.meta.url);
  const workerModule = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  const threadedJs = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const urlBranch = /if\(typeof e\.data\.urlOrBlob=="string"\)\{importScripts\(e\.data\.urlOrBlob\)\}else\{[^}]*\}/;
  const contents = workerModule.wasmWorkerContents.replace(/\n/g, '\\n');
  if (!urlBranch.test(contents)) throw new Error('unexpected wasm worker script');
  const patched = contents.replace(urlBranch, `importScripts(${JSON.stringify(threadedJs)});`);
  // One file per package version in this user's private folder (never a shared temp name another
  // user could plant or swap), written atomically (temp + rename) when absent or different, so
  // processes reuse it and nothing piles up.
  const version = (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  const workerFile = path.join(privateDir(), `tfjs-wasm-${version}-pthread.cjs`);
  let current: string | undefined;
  try {
    current = fs.readFileSync(workerFile, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== patched) {
    const temp = `${workerFile}.${process.pid}.tmp`;
    fs.writeFileSync(temp, patched);
    fs.renameSync(temp, workerFile);
  }

  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;
  URL.createObjectURL = ((obj: Blob) =>
    obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : originalCreateObjectURL(obj)) as typeof URL.createObjectURL;
  os.cpus = () => {
    const list = originalCpus();
    return [...list, ...list];
  };
  try {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasm.setThreadsCount(cores);
    // Seen once under heavy load: the pthread pool never came up. Fail loudly instead of hanging.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('training backend: the threaded WASM backend did not start within 60 s; set QATWB_WASM_THREADS=0 to use one thread')), 60_000);
      timer.unref();
    });
    const ok = await Promise.race([tf.setBackend('wasm'), timeout]).finally(() => clearTimeout(timer));
    if (!ok) return 0;
    const backend = tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } };
    return backend.wasm.tfjs.getThreadsCount();
  } finally {
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
  }
}

export { tf };
