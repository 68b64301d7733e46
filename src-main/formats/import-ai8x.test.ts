// Import of an existing ai8x model: the izer rules (sequential matching, bits, bias scaling,
// shift) and clear refusals of malformed inputs, on the real ecg1d-mixed fixture and edits of it.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { importAi8x, modelFromAi8x, type CheckpointData } from './import-ai8x.ts';
import { readTorchCheckpoint, writeTorchCheckpoint } from './torch-checkpoint.ts';
import { readNetworkYaml } from './network-yaml.ts';
import { readNpy, type NdArray } from './npy.ts';
import { FormatError } from './format-error.ts';
import { planModel } from '../planner/plan.ts';
import { validateModel } from '../ir/validate.ts';
import { simulate } from '../sim/simulate.ts';
import { CONFORMANCE } from '../../test/support/fixtures.ts';

const DIR = join(CONFORMANCE, 'ecg1d-mixed');
const yamlText = readFileSync(`${DIR}/network.yaml`, 'utf8');
const ckptBytes = new Uint8Array(readFileSync(`${DIR}/checkpoint.pth.tar`));
const sample = readNpy(readFileSync(`${DIR}/sample.input.npy`), 'sample.npy');

function ckpt(): CheckpointData {
  const c = readTorchCheckpoint(ckptBytes);
  return { arch: c.arch, epoch: c.epoch, stateDict: new Map(c.stateDict) };
}
const f32 = (shape: number[], values: number[]): NdArray => ({ dtype: 'float32', shape, data: Float32Array.from(values) });

function expectFormatError(fn: () => unknown, field: RegExp, text: RegExp): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    const fe = e as FormatError;
    expect(fe.field).toMatch(field);
    expect(fe.message).toMatch(text);
    return fe;
  }
  throw new Error('expected a FormatError');
}

describe('importAi8x on ecg1d-mixed', () => {
  it('maps layers, bits, β = floor(bias / 2^(b−1)) and shifts as the izer does', () => {
    const { model } = importAi8x({ checkpoint: ckptBytes, yaml: yamlText, sample });
    expect(model.layers.map((l) => [l.name, l.op, l.inChannels, l.outChannels, l.weightBits, l.outputShift])).toEqual([
      ['conv1', 'conv1d', 1, 16, 8, 2], ['conv2', 'conv1d', 16, 32, 4, 0], ['conv3', 'conv1d', 32, 64, 2, 0],
      ['conv4', 'conv1d', 64, 64, 8, -2], ['fc', 'linear', 64, 5, 8, -2],
    ]);
    const c = readTorchCheckpoint(ckptBytes);
    const raw = Array.from(c.stateDict.get('conv2.op.bias')!.data as Float32Array);
    expect(Array.from(model.layers[1]!.params!.bias!)).toEqual(raw.map((b) => Math.floor(b / 8)));
    expect(model.input).toEqual({ channels: 1, dims: [512], format: 'HWC' });
    expect(model.layers[4]!.placement).toEqual({ processors: '0xffffffffffffffff', inOffset: 0, outOffset: 0x4000 });
    expect(model.layers[1]!.pool).toEqual({ kind: 'max', size: [4, 1], stride: [4, 1] });
  });

  it('lets YAML quantization override the checkpoint weight_bits', () => {
    const y = yamlText.replace('    kernel_size: 5\n    pad: 2\n    activate: ReLU\n    data_format: HWC', '    kernel_size: 5\n    pad: 2\n    activate: ReLU\n    quantization: 8\n    data_format: HWC');
    const { model } = importAi8x({ checkpoint: ckptBytes, yaml: y, sample });
    expect(model.layers[0]!.weightBits).toBe(8);
    // conv2 holds 4-bit values, which an 8-bit override accepts; a 2-bit override must refuse them.
    const bad = yamlText.replace('  - processors: 0x000000000000ffff\n', '  - processors: 0x000000000000ffff\n    quantization: 2\n');
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: bad, sample }), /conv2\.op\.weight/, /2-bit weight/);
  });

  it('refuses an arch mismatch with the izer message', () => {
    const c = { ...ckpt(), arch: 'ai85net5' };
    expectFormatError(() => modelFromAi8x(c, readNetworkYaml(yamlText).config, { sample }), /^arch$/, /does not match.*checkpoint file \(ai85net5\)/);
  });

  it('refuses unfused BatchNorm, naming the key and the fix', () => {
    const c = ckpt();
    const sd = new Map<string, NdArray>();
    for (const [k, v] of c.stateDict) {
      sd.set(k, v);
      if (k === 'conv1.op.bias') { sd.set('conv1.bn.weight', f32([16], new Array(16).fill(1))); sd.set('conv1.bn.bias', f32([16], new Array(16).fill(0))); }
    }
    expectFormatError(() => modelFromAi8x({ ...c, stateDict: sd }, readNetworkYaml(yamlText).config, { sample }), /conv1\.bn\.weight/, /BatchNorm.*batchnormfuser/);
  });

  it('refuses a kernel size that differs from the weights (and the izer default of 9 for Conv1d)', () => {
    const y = yamlText.replace('kernel_size: 5', 'kernel_size: 3');
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: y, sample }), /layers\[0\]\.kernel_size/, /set kernel_size: 5/);
    const missing = yamlText.replace('    kernel_size: 5\n', '');
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: missing, sample }), /layers\[0\]\.kernel_size/, /assumes 9/);
  });

  it('refuses a sample of the wrong shape', () => {
    const twoD: NdArray = { dtype: 'int64', shape: [1, 16, 32], data: new BigInt64Array(512) };
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: yamlText, sample: twoD, sampleName: 'x.npy' }), /^shape$/, /x\.npy.*\(C, L\) data for the Conv1d/);
    const threeCh: NdArray = { dtype: 'int64', shape: [3, 512], data: new BigInt64Array(1536) };
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: yamlText, sample: threeCh }), /^shape$/, /1 input channels/);
    const short: NdArray = { dtype: 'int64', shape: [1, 256], data: new BigInt64Array(256) };
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: yamlText, sample: short }), /fc\.op\.weight/, /512 input features|256 input features/);
  });

  it('refuses YAML channel counts that contradict the weights', () => {
    const y = yamlText.replace('    kernel_size: 5\n    pad: 2\n    activate: ReLU\n    data_format: HWC', '    kernel_size: 5\n    pad: 2\n    activate: ReLU\n    out_channels: 12\n    data_format: HWC');
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: y, sample }), /layers\[0\]\.out_channels/, /16 as the weights of conv1\.op\.weight/);
  });

  it('applies in_dim and refuses one with the wrong number of positions', () => {
    const ok = yamlText.replace('  - processors: 0x000000000000ffff\n', '  - processors: 0x000000000000ffff\n    in_dim: 512\n');
    expect(importAi8x({ checkpoint: ckptBytes, yaml: ok, sample }).model.layers[1]!.inDim).toEqual([512]);
    const bad = yamlText.replace('  - processors: 0x000000000000ffff\n', '  - processors: 0x000000000000ffff\n    in_dim: 500\n');
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: bad, sample }), /layers\[1\]\.in_dim/, /512 positions/);
  });

  it('refuses float (unquantized) weights instead of zeroing them', () => {
    const c = ckpt();
    const w = c.stateDict.get('conv1.op.weight')!;
    c.stateDict.set('conv1.op.weight', { ...w, data: Float32Array.from(w.data as Float32Array, (v) => v / 100) });
    expectFormatError(() => modelFromAi8x(c, readNetworkYaml(yamlText).config, { sample }), /conv1\.op\.weight\[\d+\]/, /quantize\.py/);
  });

  it('refuses a YAML with more weighted layers than the checkpoint has weights', () => {
    const y = yamlText + '  - processors: 0x000000000000001f\n    out_offset: 0x0000\n    operation: MLP\n    output_width: 32\n';
    expectFormatError(() => importAi8x({ checkpoint: ckptBytes, yaml: y, sample }), /^state_dict$/, /6 weight tensors/);
  });

  it('reports a wrong processors count as a planner error naming layer and fix', () => {
    const y = yamlText.replace('processors: 0x000000000000ffff', 'processors: 0x00000000000000ff');
    const { model } = importAi8x({ checkpoint: ckptBytes, yaml: y, sample });
    const errs = planModel(model).diagnostics.filter((d) => d.severity === 'error');
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ rule: 'processors-count', layer: 1, layerName: 'conv2' });
    expect(errs[0]!.message).toBe('Layer 1 (conv2): 16 input channels need 16 processors; the processors mask 0x00000000000000ff has 8.');
    expect(errs[0]!.fix).toBe('Set processors: 0x000000000000ffff.');
  });

  it('round-trips through our own checkpoint writer and torch-format bytes', () => {
    const c = readTorchCheckpoint(ckptBytes);
    const bytes = writeTorchCheckpoint({ epoch: 1, arch: 'AI87ECGNET', state_dict: c.stateDict });
    const { model } = importAi8x({ checkpoint: bytes, yaml: yamlText, sample });
    expect(model.layers).toHaveLength(5);
  });
});

describe('importAi8x fuzz', () => {
  it('edited YAML and state dicts give a model or a FormatError, never another error', async () => {
    const fc = (await import('fast-check')).default;
    const lines = yamlText.split('\n');
    const base = readTorchCheckpoint(ckptBytes);
    const keys = [...base.stateDict.keys()];
    const values = ['0', '1', '3', '9', '-1', '0x10', '3x3', 'ReLU', 'Conv2d', 'MLP', 'None', 'true', '[2, 2]', '32', '0xffffffffffffffff', 'avg', ''];
    const edit = fc.record({
      deleteLine: fc.option(fc.nat(lines.length - 1)),
      changeLine: fc.option(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom(...values))),
      dropKey: fc.option(fc.constantFrom(...keys)),
      reshapeKey: fc.option(fc.constantFrom(...keys)),
      sampleLen: fc.constantFrom(512, 511, 256, 1024),
    });
    fc.assert(fc.property(edit, (e) => {
      const ls = [...lines];
      if (e.changeLine) { const [i, v] = e.changeLine; const m = /^(\s*-?\s*[\w]+:)/.exec(ls[i]!); if (m) ls[i] = `${m[1]} ${v}`; }
      if (e.deleteLine !== null) ls.splice(e.deleteLine, 1);
      const sd = new Map(base.stateDict);
      if (e.dropKey) sd.delete(e.dropKey);
      if (e.reshapeKey && sd.has(e.reshapeKey)) { const t = sd.get(e.reshapeKey)!; sd.set(e.reshapeKey, { ...t, shape: [t.data.length] }); }
      const s: NdArray = { dtype: 'int64', shape: [1, e.sampleLen], data: new BigInt64Array(e.sampleLen) };
      try {
        const { config } = readNetworkYaml(ls.join('\n'));
        const { model } = modelFromAi8x({ arch: base.arch, epoch: base.epoch, stateDict: sd }, config, { sample: s });
        // Whatever imports must validate and plan without throwing, and simulate when valid.
        const diags = validateModel(model);
        planModel(model);
        if (!diags.some((d) => d.severity === 'error')) {
          const r = simulate(model, new Int32Array(e.sampleLen));
          expect(r.output.every((v) => Number.isInteger(v))).toBe(true);
        }
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
      }
    }), { numRuns: 400 });
  });
});
