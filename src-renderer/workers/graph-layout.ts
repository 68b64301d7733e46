// Messages of the graph layout worker, and the client that runs one layout at a time in it
// (a newer request supersedes the older one; the worker is kept for the page's life).
export interface LayoutRequest {
  type: 'layout';
  id: number;
  /** 'DOWN' stacks layers top to bottom; 'RIGHT' left to right. */
  direction: 'DOWN' | 'RIGHT';
  nodes: { id: string; width: number; height: number }[];
  edges: { id: string; source: string; target: string }[];
}
export type LayoutReply =
  | { type: 'done'; id: number; positions: Record<string, { x: number; y: number }>; width: number; height: number; elapsedMs: number }
  | { type: 'error'; id: number; message: string };

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (r: Extract<LayoutReply, { type: 'done' }>) => void; reject: (e: Error) => void }>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./graph-layout.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<LayoutReply>) => {
    const p = pending.get(e.data.id);
    if (!p) return;
    pending.delete(e.data.id);
    if (e.data.type === 'done') p.resolve(e.data);
    else p.reject(new Error(`Graph layout failed: ${e.data.message}`));
  };
  worker.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(`Graph layout worker failed: ${e.message}`));
    pending.clear();
    worker?.terminate();
    worker = null;
  };
  return worker;
}

/** Lays out a graph with ELK (layered) off the UI thread. */
export function layoutGraph(req: Omit<LayoutRequest, 'type' | 'id'>): Promise<Extract<LayoutReply, { type: 'done' }>> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    getWorker().postMessage({ type: 'layout', id, ...req } satisfies LayoutRequest);
  });
}
