// Network YAML reader: aliases, value parsing, strict key checks with file/layer/key in the error,
// a fuzz run (only FormatError, never a crash or hang), and writer → reader round trip.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readNetworkYaml, writeNetworkYaml, readMask } from './network-yaml.ts';
import { FormatError } from './format-error.ts';
import { ai85net5, ecgNet } from '../ir/zoo.ts';
import { planModel } from '../planner/plan.ts';

const base = `arch: net\ndataset: d\nlayers:\n`;

function err(text: string): FormatError {
  try {
    readNetworkYaml(text, 'n.yaml');
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
  throw new Error('expected a FormatError');
}

describe('readNetworkYaml', () => {
  it('resolves the izer aliases and parses values', () => {
    const { config, warnings } = readNetworkYaml(base + [
      '  - processors: 0x0000.0000.0000.0007',
      '    op: Conv2d', '    kernel_size: 1x1', '    activation: relu', '    data_format: big', '    max_pool: [2, 3]', '    pool_stride: 2',
      '  - processors: 0xffffffffffffffff', '    operator: fc', '    activate: None', '    flatten: true', '    output_width: 32', '    conv_groups: 1', '    read_gap: 1',
      '  - operation: conv1d', '    kernel_size: 5', '    avg_pool: 4', '    quantization: 2', '    output_shift: -3', '    in_sequences: [0, first]',
      '  - pad: 0',
    ].join('\n'));
    const [a, b, c, d] = config.layers;
    expect(a).toMatchObject({ processors: 7n, op: 'conv2d', kernelSize: [1, 1], activation: 'relu', dataFormat: 'CHW', pool: { kind: 'max', size: [2, 3], stride: [2, 2] } });
    expect(b).toMatchObject({ processors: 0xffffffffffffffffn, op: 'linear', activation: 'none', flatten: true, outputWidth: 32, groups: 1 });
    expect(b!.other).toEqual({ in_skip: 1 });
    expect(c).toMatchObject({ op: 'conv1d', kernelSize: [5, 1], pool: { kind: 'avg', size: [4, 1], stride: [4, 1] }, quantization: 2, outputShift: -3, inSequences: [0, 'first'] });
    expect(d).toMatchObject({ op: 'conv2d', opGiven: false, pad: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/layers\[3\]: no operation given; assuming Conv2d/);
  });

  it('refuses an unknown global key, naming it', () => {
    const e = err(base + '  - op: conv2d\nlayer_count: 3\n');
    expect(e.field).toBe('layer_count');
    expect(e.message).toMatch(/^n\.yaml: layer_count: expected a known global key/);
  });

  it('refuses an unknown layer key, naming file, layer index and key', () => {
    const e = err(base + '  - op: conv2d\n  - op: conv2d\n    kernal_size: 3x3\n');
    expect(e.field).toBe('layers[1].kernal_size');
    expect(e.message).toMatch(/n\.yaml: layers\[1\]\.kernal_size: .*unknown key 'kernal_size'/);
  });

  it.each([
    ['  - op: conv2d\n    processors: 0xzz\n', 'layers[0].processors', /64-bit processor mask/],
    ['  - op: conv2d\n    processors: 0x1ffffffffffffffff\n', 'layers[0].processors', /64-bit/],
    ['  - op: conv3d\n', 'layers[0].operation', /Conv1d, Conv2d/],
    ['  - op: conv2d\n    activate: gelu\n', 'layers[0].activate', /ReLU, Abs or None/],
    ['  - op: conv2d\n    kernel_size: 5x5x5\n', 'layers[0].kernel_size', /3x3 or 1x1/],
    ['  - op: conv2d\n    output_width: 16\n', 'layers[0].output_width', /8 or 32/],
    ['  - op: conv2d\n    quantization: 3\n', 'layers[0].quantization', /1, 2, 4, 8 or binary/],
    ['  - op: conv2d\n  - op: conv2d\n    data_format: CHW\n', 'layers[1].data_format', /first layer/],
    ['  - op: conv2d\n    op: conv1d\n', 'line 5', /valid YAML/],
    ['  - op: conv2d\n    operation: conv1d\n', 'layers[0].operation', /aliases/],
    ['  - op: conv2d\n    max_pool: 2\n    avg_pool: 2\n', 'layers[0].avg_pool', /not both/],
    ['  - op: conv2d\n    flatten: yes\n', 'layers[0].flatten', /true or false/],
  ])('refuses bad values (%#)', (layers, field, text) => {
    const e = err(base + layers);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(text);
  });

  it('refuses a missing arch or an empty layer list', () => {
    expect(err('dataset: d\nlayers:\n  - op: conv2d\n').field).toBe('arch');
    expect(err('arch: a\ndataset: d\nlayers: []\n').field).toBe('layers');
    expect(err('- 1\n- 2\n').field).toBe('(document)');
  });

  it('reads processors masks as int, hex text with dots, and refuses negatives', () => {
    expect(readMask(5n, 'f', 'x')).toBe(5n);
    expect(readMask('0x0000.00ff', 'f', 'x')).toBe(255n);
    expect(() => readMask(-1n, 'f', 'x')).toThrow(FormatError);
  });

  it('fuzz: random text and random layer mappings give a result or a FormatError, never another error', () => {
    const keys = ['processors', 'op', 'operation', 'kernel_size', 'pad', 'max_pool', 'avg_pool', 'pool_stride', 'activate', 'quantization',
      'output_shift', 'output_width', 'flatten', 'data_format', 'in_sequences', 'eltwise', 'bogus', 'in_dim', 'name', 'out_offset'];
    const value = fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constantFrom('0x0f', '3x3', 'ReLU', 'conv1d', 'mlp', 'CHW', 'true', '[1, 2]', '{a: 1}', '"x"', '~', '-', '&a 1', '*a'), fc.string({ maxLength: 8 }));
    const layer = fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 }).map((d) => Object.entries(d).map(([k, v], i) => `${i === 0 ? '  - ' : '    '}${k}: ${String(v)}`).join('\n'));
    const doc = fc.array(layer, { minLength: 0, maxLength: 4 }).map((ls) => base + ls.filter((l) => l).join('\n') + '\n');
    const check = (text: string): void => {
      try {
        readNetworkYaml(text, 'fuzz.yaml');
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    };
    fc.assert(fc.property(fc.oneof(doc, fc.string({ maxLength: 200 })), (t) => { check(t); }), { numRuns: 1500 });
    // A billion-laughs style alias bomb stays bounded.
    const bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    const t0 = Date.now();
    check(bomb);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('writeNetworkYaml', () => {
  it('writes YAML that reads back to the same layer configuration (2-D, CHW, flatten, wide)', () => {
    const plan = planModel(ai85net5());
    const text = writeNetworkYaml(plan.model);
    const { config, warnings } = readNetworkYaml(text, 'out.yaml');
    expect(warnings).toEqual([]);
    expect(config.arch).toBe('ai85net5');
    expect(config.layers.map((l) => [l.op, l.processors, l.inOffset, l.outOffset, l.pad, l.kernelSize, l.pool?.kind, l.flatten ?? false, l.outputWidth ?? 8]))
      .toEqual(plan.model.layers.map((l) => [l.op, BigInt(l.placement!.processors), l.placement!.inOffset, l.placement!.outOffset,
        l.op === 'linear' ? undefined : l.pad, l.op === 'linear' ? undefined : l.kernel, l.pool?.kind, l.flatten, l.outputWidth]));
    expect(config.layers[0]!.dataFormat).toBe('CHW');
  });

  it('writes neither kernel_size nor pad on a Linear layer (the izer refuses kernel_size there) and reads such a key as an error', () => {
    const text = writeNetworkYaml(planModel(ai85net5()).model);
    const fc = text.split('\n  - ').find((block) => block.includes('operation: MLP'))!;
    expect(fc).toBeDefined();
    expect(fc).not.toMatch(/kernel_size|pad:|stride:/);
    expect(() => readNetworkYaml(base + '  - op: mlp\n    kernel_size: 1x1\n', 'net.yaml')).toThrow(/net\.yaml: layers\[0\]\.kernel_size: .*fully connected/);
  });

  it('writes Conv1d kernels as a number and 1-D pools as one value', () => {
    const text = writeNetworkYaml(planModel(ecgNet()).model);
    expect(text).toMatch(/operation: Conv1d\n\s+kernel_size: 5/);
    expect(text).toMatch(/max_pool: 4\n\s+pool_stride: 4/);
    const { config } = readNetworkYaml(text);
    expect(config.layers[1]!.pool).toEqual({ kind: 'max', size: [4, 1], stride: [4, 1] });
  });

  it('writes an extra shift as the whole shift the izer will use instead of the checkpoint value', () => {
    const m = planModel(ecgNet()).model;
    m.layers[1] = { ...m.layers[1]!, outputShift: -2, extraShift: 3 };
    const { config } = readNetworkYaml(writeNetworkYaml(m));
    expect(config.layers[1]!.outputShift).toBe(1);
    expect(config.layers[0]!.outputShift).toBeUndefined();
  });

  it('reads in_dim as [L] or [H, W] and writes it back', () => {
    const { config } = readNetworkYaml(base + '  - op: conv1d\n    in_dim: 64\n  - op: conv2d\n    in_dim: [8, 8]\n');
    expect(config.layers.map((l) => l.inDim)).toEqual([[64], [8, 8]]);
    const m = planModel(ecgNet()).model;
    m.layers[1] = { ...m.layers[1]!, inDim: [512] };
    expect(readNetworkYaml(writeNetworkYaml(m)).config.layers[1]!.inDim).toEqual([512]);
  });

  it('refuses a model without placement', () => {
    expect(() => writeNetworkYaml(ecgNet())).toThrow(/no placement; plan the model/);
  });
});
