// The bit policy in the IR: edits (the CLI's flags), widths by QAT epoch, model.json round trip and
// refusals that name the field.
import { describe, expect, it } from 'vitest';
import { ecgNet } from './zoo.ts';
import { atWidths, bitsAt, BitsEditError, bitsPolicyProblems, modelBitsAt, withBitsEdits } from './bits-policy.ts';
import { deserializeModel, serializeModel } from './schema.ts';

const net = ecgNet('MAX78002', 64, 3); // conv1..conv4, fc; all 8-bit

describe('bit policy', () => {
  it('--bits sets every final width and drops a schedule; --bits-schedule sets the rest to its last width', () => {
    const s = withBitsEdits(net, { bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 3, bits: 4, learningRate: 1e-4 }] });
    expect(s.layers.map((l) => l.weightBits)).toEqual([4, 4, 4, 4, 4]);
    expect([bitsAt(s, 2), bitsAt(s, 3), modelBitsAt(s, 2), modelBitsAt(s, 7)]).toEqual([[8, 8, 8, 8, 8], [4, 4, 4, 4, 4], 8, 4]);
    const flat = withBitsEdits(s, { bits: 2 });
    expect(flat.bitsSchedule).toBeUndefined();
    expect(bitsAt(flat, 0)).toEqual([2, 2, 2, 2, 2]);
  });

  it('--layer-bits holds a layer, also at the final width (its own one-step schedule)', () => {
    const s = withBitsEdits(net, { bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 2 }], layerBits: { conv1: 8, fc: 2 } });
    expect(s.layers.map((l) => l.weightBits)).toEqual([8, 2, 2, 2, 2]);
    expect(s.layers[4]!.bitsSchedule).toEqual([{ fromQatEpoch: 0, bits: 2 }]);
    expect(bitsAt(s, 0)).toEqual([8, 8, 8, 8, 2]);
    expect(bitsAt(s, 2)).toEqual([8, 2, 2, 2, 2]);
    expect(bitsPolicyProblems(s)).toEqual([]);
  });

  it('refuses an edit naming no layer, and --bits that disagrees with the schedule\'s last width', () => {
    expect(() => withBitsEdits(net, { layerBits: { nope: 4 } })).toThrow(expect.objectContaining({ field: 'layerBits.nope' }));
    expect(() => withBitsEdits(net, { bits: 4, bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 1, bits: 2 }] })).toThrow(BitsEditError);
  });

  it('a width of the schedule is a fixed-width network; the final widths keep the policy', () => {
    const s = withBitsEdits(net, { bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 2, bits: 2 }] });
    expect(atWidths(s, [2, 2, 2, 2, 2])).toBe(s);
    const eight = atWidths(s, bitsAt(s, 0));
    expect([eight.bitsSchedule, eight.layers.map((l) => l.weightBits)]).toEqual([undefined, [8, 8, 8, 8, 8]]);
    expect(bitsPolicyProblems(eight)).toEqual([]);
  });

  it('model.json carries the schedule; a bad one is refused naming the field', () => {
    const s = withBitsEdits(net, { bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 30, bits: 4, learningRate: 1e-4 }, { fromQatEpoch: 60, bits: 2 }], layerBits: { conv1: 8 } });
    const back = deserializeModel(JSON.parse(JSON.stringify(serializeModel(s))));
    expect(back.bitsSchedule).toEqual(s.bitsSchedule);
    expect(back.layers.map((l) => l.weightBits)).toEqual([8, 2, 2, 2, 2]);
    const stored = serializeModel(s);
    const bad = (edit: (d: typeof stored) => void) => {
      const d = structuredClone(stored);
      edit(d);
      return () => deserializeModel(d);
    };
    expect(bad((d) => { d.bitsSchedule![1]!.bits = 3 as never; })).toThrow(/model\.bitsSchedule\.1\.bits: expected 1, 2, 4 or 8/);
    expect(bad((d) => { d.bitsSchedule![0]!.fromQatEpoch = 5; })).toThrow(/bitsSchedule\.0\.fromQatEpoch: the first width starts at the QAT start/);
    expect(bad((d) => { d.bitsSchedule![2]!.fromQatEpoch = 20; })).toThrow(/bitsSchedule\.2\.fromQatEpoch: QAT epochs must increase/);
    expect(bad((d) => { d.layers.forEach((l) => { l.weightBits = 8; }); })).toThrow(/model\.bitsSchedule: the schedule ends at 2 bits but no layer has weightBits 2/);
    expect(bad((d) => { d.layers[0]!.bitsSchedule = [{ fromQatEpoch: 0, bits: 4 }]; })).toThrow(/layers\.0\.bitsSchedule: conv1: the schedule ends at 4 bits/);
    expect(bitsPolicyProblems(s, 40)).toEqual([{ field: 'bitsSchedule.2.fromQatEpoch', message: expect.stringMatching(/QAT phase has 40 epochs/) }]);
  });
});
