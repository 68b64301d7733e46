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
}

export const NODE_WIDTH = 256;
export const nodeHeight = (hasDiagnostic: boolean) => (hasDiagnostic ? 198 : 128);

export function buildGraph(layers: StoredLayer[], plan: PlanDto | null, byLayer: Map<number, DiagnosticDto[]>, shifts: Map<string, number>, direction: 'DOWN' | 'RIGHT') {
  const nodes = layers.map((layer, index) => {
    const diagnostics = byLayer.get(index) ?? [];
    const data: LayerNodeData = {
      index, layer, plan: plan?.layers[index], diagnostics, direction,
      shift: shifts.get(layer.name) ?? layer.outputShift + (layer.extraShift ?? 0),
    };
    return { id: `L${index}`, type: 'layer', data, width: NODE_WIDTH, height: nodeHeight(diagnostics.length > 0) };
  });
  const edges: { id: string; source: string; target: string }[] = [];
  layers.forEach((l, i) => {
    const inputs = l.inputs ?? (i === 0 ? [] : [i - 1]);
    for (const src of inputs) if (src >= 0 && src < layers.length) edges.push({ id: `e${src}-${i}`, source: `L${src}`, target: `L${i}` });
  });
  return { nodes, edges };
}
