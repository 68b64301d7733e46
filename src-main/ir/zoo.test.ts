import { describe, expect, it } from 'vitest';
import { planModel } from '../planner/plan.ts';
import { ecgNet, zooForData } from './zoo.ts';

describe('zooForData', () => {
  it('shapes ecgnet for MIT-BIH beats (1 × 187, 5 classes): the plan follows the data, not the 1 × 512 default', () => {
    const m = zooForData('ecgnet', 'MAX78002', { channels: 1, dims: [187], classes: 5 })!;
    expect(m.input.dims).toEqual([187]);
    expect(m.layers.at(-1)!.outChannels).toBe(5);
    // The figures a new user saw disagree: 23,632 B planned at 1 × 512, 21,712 B in the export at 187.
    expect(planModel(m).weightMemoryBytes).toBe(21_712);
    expect(planModel(ecgNet('MAX78002')).weightMemoryBytes).toBe(23_632);
  });

  it('takes the channels and classes of 2-D data for the MNIST nets, and refuses the wrong rank', () => {
    const m = zooForData('ai85net5', 'MAX78002', { channels: 3, dims: [28, 28], classes: 4 })!;
    expect([m.input.channels, m.layers[0]!.inChannels, m.layers.at(-1)!.outChannels]).toEqual([3, 3, 4]);
    expect(zooForData('ai85net5', 'MAX78002', { channels: 1, dims: [187], classes: 5 })).toBeNull();
    expect(zooForData('ecgnet', 'MAX78002', { channels: 1, dims: [28, 28], classes: 10 })).toBeNull();
  });
});
