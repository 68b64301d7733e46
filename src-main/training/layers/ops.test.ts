// The training facet of the op table: every op kind has an entry; planNetwork takes its shapes from
// ir/shapes.ts; ops that cannot be trained yet are refused by name with the reason.
import { describe, expect, it } from 'vitest';
import { OP_KINDS, type Layer, type Model } from '../../ir/graph.ts';
import { inferLayerShapes } from '../../ir/shapes.ts';
import { ai85net5, ecgNet } from '../../ir/zoo.ts';
import { planNetwork } from '../network.ts';
import { TRAINING_OPS } from './ops.ts';

const base = { kernel: [3, 3] as [number, number], pad: 1, stride: 1, flatten: false, activation: 'relu' as const, weightBits: 8 as const, outputShift: 0, outputWidth: 8 as const, hasBias: true };
const conv = (name: string, cin: number, cout: number): Layer => ({ ...base, name, op: 'conv2d', inChannels: cin, outChannels: cout });
const model = (layers: Layer[]): Model => ({ arch: 't', dataset: 't', device: 'MAX78002', input: { channels: 2, dims: [8, 8], format: 'HWC' }, layers });

describe('training op table', () => {
  it('has an entry for every op kind', () => {
    expect(Object.keys(TRAINING_OPS).sort()).toEqual([...OP_KINDS].sort());
  });

  it('plans the shapes ir/shapes.ts infers (NHWC; 1-D as [1, L, C]) and the weight variable shapes', () => {
    for (const m of [ai85net5(), ecgNet()]) {
      const shapes = inferLayerShapes(m);
      const plans = planNetwork(m, () => false);
      plans.forEach((p, i) => {
        const s = shapes[i]!;
        const hwc = (d: { channels: number; dims: number[] }) => (d.dims.length === 1 ? [1, d.dims[0], d.channels] : [...d.dims, d.channels]);
        expect(p.pooledShape).toEqual(hwc(s.pooled));
        expect(p.outShape).toEqual(hwc(s.output!));
      });
    }
    expect(planNetwork(ai85net5(), () => false).map((p) => p.weightShape)).toEqual([
      [3, 3, 1, 60], [3, 3, 60, 60], [3, 3, 60, 56], [3, 3, 56, 12], [4 * 4 * 12, 10],
    ]);
    expect(planNetwork(ecgNet(), () => false)[0]!.weightShape).toEqual([1, 5, 1, 16]);
  });

  it('refuses an op that is not trainable yet, naming the layer and why', () => {
    const up: Layer = { ...conv('up', 4, 4), op: 'convtranspose2d', stride: 2 };
    expect(() => planNetwork(model([conv('c1', 2, 4), up]), () => false))
      .toThrow("training: model.layers[1] (up): not trainable yet: convtranspose2d layer 'up', because the engine has no stride-2 transposed convolution layer");
    const add: Layer = { ...conv('sum', 4, 4), op: 'add', inputs: [0, 1], operands: 2, activation: 'none' };
    expect(() => planNetwork(model([conv('c1', 2, 4), conv('c2', 4, 4), add]), () => false))
      .toThrow(/model\.layers\[2\] \(sum\): not trainable yet: add layer 'sum', because element-wise layers/);
  });

  it('refuses a shape problem with the words of ir/shapes.ts', () => {
    expect(() => planNetwork(model([conv('c1', 3, 4)]), () => false)).toThrow('training: model.layers[0] (c1): it expects 3 input channels but gets 2');
  });
});
