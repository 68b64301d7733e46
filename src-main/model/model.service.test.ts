// The model service over the real RPC stack (memory transport): open a conformance model, plan,
// simulate one input and a batch (worker), export YAML; errors carry codes and fields.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRpcServer } from '../rpc/serve.ts';
import { createRpcClient } from '../rpc/client.ts';
import { memoryTransport } from '../rpc/memory-transport.ts';
import { createModelService } from './model.service.ts';
import { readNpy, writeNpy } from '../formats/npy.ts';
import { readNetworkYaml } from '../formats/network-yaml.ts';
import { deserializeModel, serializeModel } from '../ir/schema.ts';
import { bitsAt } from '../ir/bits-policy.ts';
import { ecgNet } from '../ir/zoo.ts';
import { CONFORMANCE } from '../../test/support/fixtures.ts';

const DIR = join(CONFORMANCE, 'mnist-qat8');

function connect() {
  const stateDir = mkdtempSync(join(tmpdir(), 'qatwb-model-'));
  let server: ReturnType<typeof createRpcServer>;
  // Only the model service: the test does not depend on the other capabilities being built.
  server = createRpcServer({ model: createModelService({ stateDir, emit: (s, e, p) => server.emit(s, e, p) }) });
  return { ...createRpcClient(memoryTransport(server)), stateDir };
}
const ints = (f: string): number[] => Array.from(readNpy(readFileSync(f)).data as BigInt64Array, Number);

describe('model service', () => {
  it('opens, plans, simulates (single and batch in a worker) and exports YAML', async () => {
    const { services, stateDir } = connect();
    const opened = await services.model.importAi8x({ checkpointPath: `${DIR}/checkpoint.pth.tar`, networkPath: `${DIR}/network.yaml`, samplePath: `${DIR}/sample.input.npy` });
    expect(opened.diagnostics).toEqual([]);
    expect(opened.model.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'fc']);
    const plan = await services.model.plan({ modelId: opened.modelId });
    expect([plan.weightMemoryBytes, plan.biasMemoryBytes, plan.errors]).toEqual([71148, 10, []]);

    const out = join(stateDir, 'out.npy');
    const one = await services.model.simulate({ modelId: opened.modelId, inputPath: `${DIR}/random.input.npy`, outputPath: out, allLayers: true });
    expect(one.output).toEqual(ints(`${DIR}/random.expected.npy`));
    expect(one.shape).toEqual([10, 1, 1]);
    expect(one.layers!.map((l) => l.shape)).toEqual([[60, 28, 28], [60, 16, 16], [56, 8, 8], [12, 4, 4], [10, 1, 1]]);
    expect(ints(out)).toEqual(ints(`${DIR}/random.expected.npy`));

    const batchPath = join(stateDir, 'batch.npy');
    const xs = [...ints(`${DIR}/sample.input.npy`), ...ints(`${DIR}/random.input.npy`), ...ints(`${DIR}/sample.input.npy`)];
    writeFileSync(batchPath, writeNpy({ dtype: 'int64', shape: [3, 1, 28, 28], data: BigInt64Array.from(xs, BigInt) }));
    const progress: number[] = [];
    const batch = await services.model.simulate({ modelId: opened.modelId, inputPath: batchPath, outputPath: out }, { onProgress: (p) => { if (p.fraction !== undefined) progress.push(p.fraction); } });
    expect(batch.count).toBe(3);
    const got = readNpy(readFileSync(out));
    expect(got.shape).toEqual([3, 10, 1, 1]);
    const s = ints(`${DIR}/sample.expected.npy`), r = ints(`${DIR}/random.expected.npy`);
    expect(Array.from(got.data as BigInt64Array, Number)).toEqual([...s, ...r, ...s]);
    expect(batch.argmax).toEqual([s.indexOf(Math.max(...s)), r.indexOf(Math.max(...r)), s.indexOf(Math.max(...s))]);
    expect(progress.at(-1)).toBe(1);
    expect([one.batch, batch.batch]).toEqual([false, true]);
    // What the CLI asks for: every input's outputs one after another, on the JS engine as on WebAssembly.
    const all = await services.model.simulate({ modelId: opened.modelId, inputPath: batchPath, engine: 'js', outputValues: 25 });
    expect(all.output).toEqual([...s, ...r, ...s].slice(0, 25));

    // A batch as the sample fixes the input size by its first sample (qatwb simulate/plan --input).
    const fromBatch = await services.model.importAi8x({ checkpointPath: `${DIR}/checkpoint.pth.tar`, networkPath: `${DIR}/network.yaml`, samplePath: batchPath });
    expect(fromBatch.model.input).toMatchObject({ channels: 1, dims: [28, 28] });

    const yamlPath = join(stateDir, 'net.yaml');
    await services.model.exportYaml({ modelId: opened.modelId, path: yamlPath });
    const { config } = readNetworkYaml(readFileSync(yamlPath, 'utf8'));
    expect(config.layers.map((l) => l.processors!.toString(16))).toEqual(['1', 'fffffffffffffff0', 'fffffffffffffff0', 'ffffffffffffff0', 'fff']);
  });

  it('refuses bad requests and bad files with codes and fields', async () => {
    const { services, stateDir } = connect();
    await expect(services.model.plan({ modelId: 'nope' })).rejects.toMatchObject({ code: 'not-found', field: 'modelId' });
    await expect(services.model.importAi8x({ checkpointPath: 'a', networkPath: 'b', bogus: 1 } as never)).rejects.toMatchObject({ code: 'bad-request', field: 'bogus' });
    await expect(services.model.importAi8x({ checkpointPath: join(stateDir, 'missing.pth.tar'), networkPath: `${DIR}/network.yaml` })).rejects.toMatchObject({ code: 'not-found', field: 'checkpointPath' });
    const bad = join(stateDir, 'bad.yaml');
    writeFileSync(bad, readFileSync(`${DIR}/network.yaml`, 'utf8').replace('arch: ai85net5', 'arch: ai85net5\nfoo: 1'));
    await expect(services.model.importAi8x({ checkpointPath: `${DIR}/checkpoint.pth.tar`, networkPath: bad, samplePath: `${DIR}/sample.input.npy` }))
      .rejects.toMatchObject({ code: 'invalid-model', field: 'foo' });
    const opened = await services.model.importAi8x({ checkpointPath: `${DIR}/checkpoint.pth.tar`, networkPath: `${DIR}/network.yaml`, samplePath: `${DIR}/sample.input.npy` });
    const wrong = join(stateDir, 'wrong.npy');
    writeFileSync(wrong, writeNpy({ dtype: 'int64', shape: [1, 28, 27], data: new BigInt64Array(756) }));
    await expect(services.model.simulate({ modelId: opened.modelId, inputPath: wrong })).rejects.toMatchObject({ code: 'invalid-data', field: 'shape' });
  });

  it('loads an IR model inline and re-plans after setLayerBits', async () => {
    const { services } = connect();
    const opened = await services.model.load({ model: serializeModel(ecgNet()) as never });
    const before = await services.model.plan({ modelId: opened.modelId });
    expect(before.weightMemoryBytes).toBe(80 + 2560 + 6144 + 12288 + 2560);
    const res = await services.model.setLayerBits({ modelId: opened.modelId, bits: { conv2: 4, conv3: 2 } });
    expect(res.plan.weightMemoryBytes).toBe(17744);
    expect(res.model.layers.map((l) => (l as { weightBits?: number }).weightBits)).toEqual([8, 4, 2, 8, 8]);
    await expect(services.model.setLayerBits({ modelId: opened.modelId, bits: { nope: 4 } })).rejects.toMatchObject({ code: 'bad-request', field: 'bits.nope' });
  });

  it('sets the bit schedule in the IR and writes the network file; widths nobody follows drop it', async () => {
    const { services, stateDir } = connect();
    const opened = await services.model.load({ model: serializeModel(ecgNet()) as never });
    await services.model.setLayerBits({ modelId: opened.modelId, bits: { conv1: 4 } }); // conv1 differs from the rest: held
    const file = join(stateDir, 'net.model.json');
    const res = await services.model.setLayerBits({ modelId: opened.modelId, bitsSchedule: [{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 5, bits: 2, learningRate: 1e-4 }], saveTo: file });
    expect(res.model.layers.map((l) => l.weightBits)).toEqual([4, 2, 2, 2, 2]);
    const saved = deserializeModel(JSON.parse(readFileSync(file, 'utf8')));
    expect(saved.bitsSchedule).toEqual([{ fromQatEpoch: 0, bits: 8 }, { fromQatEpoch: 5, bits: 2, learningRate: 1e-4 }]);
    expect(bitsAt(saved, 0)).toEqual([4, 8, 8, 8, 8]);
    await expect(services.model.setLayerBits({ modelId: opened.modelId, bitsSchedule: [{ fromQatEpoch: 2, bits: 4 }] }))
      .rejects.toMatchObject({ code: 'bad-request', field: 'bitsSchedule.0.fromQatEpoch' });
    const all8 = await services.model.setLayerBits({ modelId: opened.modelId, bits: { conv1: 8, conv2: 8, conv3: 8, conv4: 8, fc: 8 } });
    expect(all8.model.bitsSchedule).toBeUndefined();
  });
});
