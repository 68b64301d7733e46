// The builder's starting layers obey the IR's own attribute rules (the table the planner checks),
// so a layer added from the menu is never born broken; and the graph text says the op and kernel.
import { describe, expect, it } from 'vitest';
import type { DataShape, Layer } from '../../../src-main/ir/graph.ts';
import { opSpec } from '../../../src-main/ir/ops/registry.ts';
import type { StoredLayer } from '../../../src-main/ir/schema.ts';
import { poolShape } from '../../../src-main/ir/shapes.ts';
import { BUILDER_OPS, MODEL_OPS } from './ops.ts';

const base = (op: Layer['op'], channels: number): Omit<Layer, 'params' | 'init'> => ({
  name: 'l', op, inChannels: channels, outChannels: channels, kernel: [1, 1], pad: 0, stride: 1, flatten: false,
  activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false,
});

describe('the Model step op facet', () => {
  it.each([
    ['1-D', { channels: 4, dims: [32] }],
    ['2-D', { channels: 4, dims: [8, 8] }],
  ] as [string, DataShape][])('every op the builder offers starts valid on %s data that suits it', (_what, input) => {
    const oneD = input.dims.length === 1;
    const offered = BUILDER_OPS.map((o) => o.op).filter((op) => !(oneD ? ['conv2d', 'convtranspose2d'] : ['conv1d']).includes(op));
    expect(offered.length).toBeGreaterThanOrEqual(4);
    for (const op of offered) {
      const layer: Layer = { ...base(op, input.channels), ...MODEL_OPS[op].start({ oneD, at: 2 }) };
      const pooled = poolShape(input, layer.pool)!;
      const ctx = { device: 'MAX78002' as const, index: 2, isFirst: false, isLast: false };
      expect(opSpec(op).validate(layer, pooled, ctx), op).toEqual([]);
      expect(opSpec(op).inferShape(layer, pooled), op).not.toBeNull();
    }
  });

  it('switching a layer to an op sets a kernel the builder can edit, and the text names op, kernel and pad', () => {
    for (const { op } of BUILDER_OPS) {
      const edit = MODEL_OPS[op].kernel;
      const kernel = MODEL_OPS[op].switchTo.kernel;
      if (edit && kernel) expect(edit(kernel[0]), op).toEqual(kernel);
    }
    const l = (op: Layer['op'], patch: Partial<StoredLayer> = {}): StoredLayer => ({ ...base(op, 4), ...patch });
    expect(MODEL_OPS.conv1d.text(l('conv1d', { kernel: [5, 1], pad: 2 }))).toBe('conv1d k5 · pad 2');
    expect(MODEL_OPS.conv2d.text(l('conv2d', { kernel: [3, 3] }))).toBe('conv2d 3×3');
    expect(MODEL_OPS.linear.text(l('linear', { flatten: true }))).toBe('flatten → linear');
    expect(MODEL_OPS.add.text(l('add', { operands: 3 }))).toBe('add of 3');
    expect(BUILDER_OPS.map((o) => o.label)).toEqual(['Conv1d', 'Conv2d', 'ConvTranspose2d', 'Linear', 'Pooling only', 'Add (residual)']);
  });
});
