// Builds the graph's nodes and edges from the model and its plan: one node per layer, edges from
// each layer's inputs (YAML in_sequences) or its predecessor. Node heights are fixed per content
// so ELK can lay the graph out before anything renders.
import type { StoredLayer } from '@ir/schema.ts';
import type { DiagnosticDto, PlanDto } from '../../../src-main/api/model.api.ts';
import type { LayerPlan } from './layer-facts.ts';

export interface LayerNodeData {
  index: number;
  layer: StoredLayer;
  plan: LayerPlan | undefined;
  diagnostics: DiagnosticDto[];
  shift: number;
  direction: 'DOWN' | 'RIGHT';
  /** The node has an input / output that skips layers (drawn as a bypass when laid out as a spine). */
  hasSkipIn: boolean;
  hasSkipOut: boolean;
}

export const NODE_WIDTH = 256;
/**
 * The box LayerNode fills: its five rows (139 px), plus two clamped lines each of message and fix.
 * The connector dots sit on this box's edge, so it must hold the whole text.
 */
export const nodeHeight = (hasDiagnostic: boolean) => (hasDiagnostic ? 216 : 144);

export function buildGraph(layers: StoredLayer[], plan: PlanDto | null, byLayer: Map<number, DiagnosticDto[]>, shifts: Map<string, number>, direction: 'DOWN' | 'RIGHT') {
  const sourcesOf = (l: StoredLayer, i: number) => (l.inputs ?? (i === 0 ? [] : [i - 1])).filter((s) => s >= 0 && s < layers.length);
  const skipOut = new Set<number>();
  layers.forEach((l, i) => sourcesOf(l, i).forEach((s) => { if (i - s > 1) skipOut.add(s); }));
  const nodes = layers.map((layer, index) => {
    const diagnostics = byLayer.get(index) ?? [];
    const data: LayerNodeData = {
      index, layer, plan: plan?.layers[index], diagnostics, direction,
      hasSkipIn: sourcesOf(layer, index).some((s) => index - s > 1), hasSkipOut: skipOut.has(index),
      shift: shifts.get(layer.name) ?? layer.outputShift + (layer.extraShift ?? 0),
    };
    return { id: `L${index}`, type: 'layer', data, width: NODE_WIDTH, height: nodeHeight(diagnostics.length > 0) };
  });
  const edges: { id: string; source: string; target: string; span: number }[] = [];
  layers.forEach((l, i) => {
    for (const src of sourcesOf(l, i)) edges.push({ id: `e${src}-${i}`, source: `L${src}`, target: `L${i}`, span: i - src });
  });
  return { nodes, edges };
}

/** Lanes for bypass edges so overlapping skips run side by side: greedy by start, reusing ended lanes. */
export function skipLanes(edges: { id: string; source: string; target: string; span: number }[]): Map<string, number> {
  const idx = (id: string) => Number(id.slice(1));
  const skips = edges.filter((e) => e.span > 1).sort((a, b) => idx(a.source) - idx(b.source));
  const laneEnds: number[] = [];
  const lanes = new Map<string, number>();
  for (const e of skips) {
    let lane = laneEnds.findIndex((end) => end <= idx(e.source));
    if (lane < 0) lane = laneEnds.length;
    laneEnds[lane] = idx(e.target);
    lanes.set(e.id, lane);
  }
  return lanes;
}
