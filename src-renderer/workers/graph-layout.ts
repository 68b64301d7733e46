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
  | {
      type: 'done'; id: number; positions: Record<string, { x: number; y: number }>; width: number; height: number; elapsedMs: number;
      /** `spine`: every node in one column/row in order, longer edges drawn as bypasses beside it; `elk`: ELK layered. */
      mode?: 'spine' | 'elk';
    }
  | { type: 'error'; id: number; message: string };

let worker: Worker | null = null;
/** Layouts of this session by request: revisiting a view, or toggling back, needs no ELK run. */
const cache = new Map<string, Extract<LayoutReply, { type: 'done' }>>();
const CACHE_SIZE = 16;
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

/** Starts the worker (and ELK in it) ahead of the first layout, e.g. while the model is being planned. */
export function warmUpLayout(): void {
  getWorker();
}

const PADDING = 12;
const GAP = 36;

/**
 * A spine: node i is fed by node i−1 for every i and all edges point forward, as in ai8x networks
 * (sequential, or residual with skips). Its layered layout is one column (or row) in order, each
 * node its own layer; the longer edges become bypasses beside it. Placed here directly, without ELK.
 */
function spineLayout(req: Omit<LayoutRequest, 'type' | 'id'>): Extract<LayoutReply, { type: 'done' }> | null {
  const { nodes, edges } = req;
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const fedByPrevious = new Set<number>();
  for (const e of edges) {
    const s = index.get(e.source);
    const t = index.get(e.target);
    if (s === undefined || t === undefined || s >= t) return null;
    if (t === s + 1) fedByPrevious.add(t);
  }
  if (fedByPrevious.size !== nodes.length - 1) return null;
  const t0 = performance.now();
  const across = Math.max(0, ...nodes.map((n) => (req.direction === 'DOWN' ? n.width : n.height)));
  const positions: Record<string, { x: number; y: number }> = {};
  let along = PADDING;
  for (const n of nodes) {
    const size = req.direction === 'DOWN' ? n.height : n.width;
    const off = PADDING + (across - (req.direction === 'DOWN' ? n.width : n.height)) / 2;
    positions[n.id] = req.direction === 'DOWN' ? { x: off, y: along } : { x: along, y: off };
    along += size + GAP;
  }
  const length = along - GAP + PADDING;
  const width = req.direction === 'DOWN' ? across + 2 * PADDING : length;
  const height = req.direction === 'DOWN' ? length : across + 2 * PADDING;
  return { type: 'done', id: 0, positions, width, height, elapsedMs: performance.now() - t0, mode: 'spine' };
}

/** Lays out a graph: spines directly, anything with parallel branches with ELK (layered) off the UI thread. */
export function layoutGraph(req: Omit<LayoutRequest, 'type' | 'id'>): Promise<Extract<LayoutReply, { type: 'done' }>> {
  const spine = spineLayout(req);
  if (spine) return Promise.resolve(spine);
  const key = JSON.stringify(req);
  const hit = cache.get(key);
  if (hit) return Promise.resolve({ ...hit, elapsedMs: 0 });
  const id = nextId++;
  return new Promise<Extract<LayoutReply, { type: 'done' }>>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    getWorker().postMessage({ type: 'layout', id, ...req } satisfies LayoutRequest);
  }).then((res) => {
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, res);
    return res;
  });
}
