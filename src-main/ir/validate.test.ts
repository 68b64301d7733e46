// IR rules and shape inference: each rule fires on a layer that breaks it, naming layer and rule;
// the zoo models are valid; every op kind has a spec and runs in the simulator; schema round trip.
import { describe, expect, it } from 'vitest';
import { OP_KINDS, type Layer, type Model } from './graph.ts';
import { ai85net5, ai85netExtraSmall, ecgNet } from './zoo.ts';
import { inferShapes, validateModel } from './validate.ts';
import { opSpecs } from './ops/registry.ts';
import { deserializeModel, serializeModel } from './schema.ts';
import { simulate } from '../sim/simulate.ts';

const rules = (m: Model): string[] => validateModel(m).filter((d) => d.severity === 'error').map((d) => `${d.layer}:${d.rule}`);
const edit = (m: Model, i: number, patch: Partial<Layer>): Model => ({ ...m, layers: m.layers.map((l, k) => (k === i ? { ...l, ...patch } : l)) });

describe('shape inference', () => {
  it('pools first, then applies the op; flatten gives C×1×1', () => {
    expect(inferShapes(ai85net5()).map((s) => [s.channels, ...s.dims])).toEqual([[60, 28, 28], [60, 16, 16], [56, 8, 8], [12, 4, 4], [10, 1, 1]]);
    expect(inferShapes(ecgNet()).map((s) => [s.channels, ...s.dims])).toEqual([[16, 512], [32, 128], [64, 32], [64, 8], [5, 1, 1]]);
  });
  it('names the layer whose shape fails', () => {
    expect(() => inferShapes(edit(ai85net5(), 2, { inChannels: 61 }))).toThrow(/Layer 2 \(conv3\): it expects 61 input channels but gets 60/);
  });
});

describe('validateModel', () => {
  it('accepts the zoo models', () => {
    for (const m of [ai85net5(), ai85netExtraSmall(), ecgNet(), ai85net5('MAX78000')]) expect(validateModel(m)).toEqual([]);
  });
  it.each([
    ['conv2d kernel 5x5', edit(ai85net5(), 1, { kernel: [5, 5] }), '1:conv2d-kernel'],
    ['pad 3', edit(ai85net5(), 1, { pad: 3 }), '1:pad-range'],
    ['conv stride 2', edit(ai85net5(), 1, { stride: 2 }), '1:conv-stride'],
    ['conv1d kernel 10', edit(ecgNet(), 1, { kernel: [10, 1] }), '1:conv1d-kernel'],
    ['weight bits 3', edit(ecgNet(), 1, { weightBits: 3 as 1 }), '1:weight-bits'],
    ['32-bit with ReLU', edit(ai85net5(), 4, { activation: 'relu' }), '4:wide-activation'],
    ['32-bit not last', edit(ai85net5(), 2, { outputWidth: 32, activation: 'none' }), '2:wide-not-last'],
    ['pool 17', edit(ecgNet(), 1, { pool: { kind: 'max', size: [17, 1], stride: [1, 1] } }), '1:pool-size'],
    ['pool stride unequal', edit(ai85net5(), 1, { pool: { kind: 'max', size: [2, 2], stride: [2, 1] } }), '1:pool-stride-square'],
    ['flatten with pool', edit(ai85net5(), 4, { pool: { kind: 'avg', size: [2, 2], stride: [2, 2] } }), '4:flatten-pool'],
    ['shift 16', edit(ai85net5(), 1, { outputShift: 9, extraShift: 7 }), '1:shift-range'],
    ['channels > 1024', edit(edit(ai85net5(), 1, { outChannels: 1100 }), 2, { inChannels: 1100 }), '1:channel-count'],
  ])('flags %s', (_what, model, rule) => {
    expect(rules(model)).toContain(rule);
  });
  it('checks the MAX78002-only Conv1d rule (pad 0 above 64 input channels)', () => {
    const m = ecgNet();
    m.layers[3] = { ...m.layers[3]!, inChannels: 64 };
    const wide: Model = { ...m, layers: m.layers.map((l, i) => (i === 2 ? { ...l, outChannels: 96 } : i === 3 ? { ...l, inChannels: 96 } : l)) };
    expect(rules(wide)).toContain('3:conv1d-pad-multipass');
    expect(rules({ ...wide, device: 'MAX78000' })).not.toContain('3:conv1d-pad-multipass');
    expect(validateModel(wide).find((d) => d.rule === 'conv1d-pad-multipass')!.message).toBe('Layer 3 (conv4): on the MAX78002 a Conv1d with 96 (> 64) input channels must use pad 0, not 1.');
  });
  it('limits layers to 32 on the MAX78000 and flatten positions to 256', () => {
    const many: Model = { ...ecgNet('MAX78000'), layers: Array.from({ length: 33 }, (_, i) => ({ ...ecgNet().layers[0]!, name: `c${i}`, inChannels: i === 0 ? 1 : 16, pad: 2 })) };
    expect(rules(many)).toContain('-1:layer-count');
    expect(rules({ ...many, device: 'MAX78002' })).not.toContain('-1:layer-count');
    expect(rules(ecgNet('MAX78000', 1500))).toContain('-1:rows-cols');
    expect(rules(ecgNet('MAX78002', 1500))).not.toContain('-1:rows-cols');
    const long = ecgNet('MAX78002', 2000);
    const { pool: _p3, ...c3 } = long.layers[2]!;
    const { pool: _p4, ...c4 } = long.layers[3]!;
    expect(rules({ ...long, layers: [long.layers[0]!, long.layers[1]!, c3, c4, long.layers[4]!] })).toEqual(['4:flatten-positions', '4:flatten-features']);
  });
  it('checks parameter counts and ranges', () => {
    const m = ecgNet();
    const l = m.layers[1]!;
    const good = { ...l, weightBits: 4 as const, params: { weights: new Int8Array(32 * 16 * 5).fill(7), bias: new Int32Array(32).fill(-128) } };
    expect(rules(edit(m, 1, good))).toEqual([]);
    expect(rules(edit(m, 1, { ...good, params: { weights: new Int8Array(32 * 16 * 5).fill(8), bias: null } }))).toContain('1:weight-range');
    expect(rules(edit(m, 1, { ...good, params: { weights: new Int8Array(10), bias: null } }))).toContain('1:weight-count');
    expect(rules(edit(m, 1, { ...good, params: { weights: new Int8Array(2560), bias: new Int32Array(32).fill(128) } }))).toContain('1:bias-range');
  });
});

describe('op registry', () => {
  it('has a spec for every op kind and the simulator runs each', () => {
    for (const k of OP_KINDS) expect(opSpecs[k], k).toBeDefined();
    const conv = (name: string, op: Layer['op'], inC: number, outC: number, extra: Partial<Layer> = {}): Layer => ({
      name, op, inChannels: inC, outChannels: outC, kernel: op === 'linear' || ['passthrough', 'add', 'sub', 'or', 'xor'].includes(op) ? [1, 1] : [3, 3],
      pad: 1, stride: op === 'convtranspose2d' ? 2 : 1, flatten: false, activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false, ...extra,
    });
    const w = (n: number): { weights: Int8Array; bias: null } => ({ weights: Int8Array.from({ length: n }, (_, i) => ((i * 37) % 11) - 5), bias: null });
    for (const elt of ['add', 'sub', 'or', 'xor'] as const) {
      const model: Model = {
        arch: 't', dataset: 't', device: 'MAX78002', input: { channels: 2, dims: [4, 4], format: 'HWC' },
        layers: [
          conv('a', 'conv2d', 2, 2, { params: w(36) }),
          conv('t', 'convtranspose2d', 2, 2, { params: w(36) }),
          conv('p', 'passthrough', 2, 2, { pool: { kind: 'max', size: [2, 2], stride: [2, 2] }, pad: 0 }),
          conv('e', elt, 2, 2, { inputs: [0, 2], operands: 2, pad: 0 }),
          conv('f', 'linear', 2, 3, { flatten: true, pad: 0, outputWidth: 32, params: w(96) }),
        ],
      };
      expect(validateModel(model)).toEqual([]);
      const r = simulate(model, Int32Array.from({ length: 32 }, (_, i) => (i * 13) % 50 - 25), { allLayers: true });
      expect(r.layers!.map((l) => [l.shape.channels, ...l.shape.dims])).toEqual([[2, 4, 4], [2, 8, 8], [2, 4, 4], [2, 4, 4], [3, 1, 1]]);
      const a = r.layers![0]!.data, p = r.layers![2]!.data, e = r.layers![3]!.data;
      const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, or: (x: number, y: number) => x | y, xor: (x: number, y: number) => x ^ y }[elt];
      expect(Array.from(e)).toEqual(Array.from(a, (x, i) => Math.max(-128, Math.min(127, f(x, p[i]!)))));
    }
  });

  it('pools before combining by default and after with poolFirst: false', () => {
    const L = (name: string, extra: Partial<Layer>): Layer => ({ name, op: 'passthrough', inChannels: 1, outChannels: 1, kernel: [1, 1], pad: 0, stride: 1, flatten: false, activation: 'none', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false, ...extra });
    const model = (poolFirst?: boolean): Model => ({
      arch: 't', dataset: 't', device: 'MAX78002', input: { channels: 1, dims: [2, 2], format: 'HWC' },
      layers: [L('p', {}), L('e', { op: 'add', inputs: [-1, 0], operands: 2, pool: { kind: 'max', size: [2, 2], stride: [2, 2] }, ...(poolFirst === undefined ? {} : { poolFirst }) })],
    });
    const xs = Int32Array.from([1, 5, 2, 3]);
    const m2 = (pf?: boolean): Model => ({
      ...model(pf),
      layers: [L('q', { op: 'add', inputs: [-1, -1], operands: 2 }), { ...model(pf).layers[1]!, op: 'sub', inputs: [-1, 0] }],
    });
    // q = 2x (clipped); sub: pool-first = max(x) − max(2x) = 5 − 10 = −5; combine-first = max(x − 2x) = max(−x) = −1.
    expect(Array.from(simulate(m2(), xs).output)).toEqual([-5]);
    expect(Array.from(simulate(m2(false), xs).output)).toEqual([-1]);
  });
});

describe('schema', () => {
  it('round-trips a model with parameters through JSON (base64 and number arrays)', () => {
    const m = ecgNet();
    m.layers[0] = { ...m.layers[0]!, params: { weights: Int8Array.from([-128, 127, 0, 1, -1]), bias: Int32Array.from([-300000, 5]) }, placement: { processors: '0x0000000000000001', inOffset: 0, outOffset: 0xa000 } };
    const json = JSON.parse(JSON.stringify(serializeModel(m)));
    expect(json.version).toBe(1);
    const back = deserializeModel(json);
    expect(back).toEqual(m);
    json.layers[0].params = { weights: [1, 2], bias: null };
    expect(Array.from(deserializeModel(json).layers[0]!.params!.weights)).toEqual([1, 2]);
    expect(() => deserializeModel({ ...json, version: 99 })).toThrow(/model\.version: expected an integer from 1 to 1/);
    expect(() => deserializeModel({ ...json, schema: 'x' })).toThrow(/model\.schema/);
  });
});
