// Checks the izer cannot be trusted to make: ai8xize.py matches checkpoint weights to YAML layers
// by order and, given a YAML with fewer layers than the checkpoint, silently generates a shorter
// network (exit 0). A YAML layer without weights shifts every later match into a confusing error.
// So the layer counts are compared before the izer runs.
import { readInputFile, readInputText } from '../../platform/read-input.ts';
import { basename } from 'node:path';
import type { Artifacts } from '../artifacts.ts';
import { ToolchainError } from '../toolchain-error.ts';
import { opHasWeights } from '../../ir/ops/registry.ts';


export async function checkLayerCount(artifacts: Pick<Artifacts, 'checkpoint' | 'yaml'>): Promise<void> {
  const [{ readNetworkYaml }, { readTorchCheckpoint }] = await Promise.all([import('../../formats/network-yaml.ts'), import('../../formats/torch-checkpoint.ts')]);
  let weightKeys: string[];
  let layers: { name: string }[];
  try {
    const ckpt = readTorchCheckpoint(await readInputFile(artifacts.checkpoint, 'checkpoint'), artifacts.checkpoint);
    weightKeys = [...ckpt.stateDict.keys()].filter((k) => k.endsWith('.weight'));
    const { config } = readNetworkYaml(await readInputText(artifacts.yaml, 'yaml'), artifacts.yaml);
    layers = config.layers
      .map((l, i) => ({ l, name: l.name ?? `layer ${i}`, i }))
      .filter(({ l }) => opHasWeights(l.op) && !l.other.bypass && l.other.weight_source === undefined)
      .map(({ name, i }) => ({ name: `${i} (${name})` }));
  } catch {
    // Unreadable files are the izer's to report, in its words (the error map explains them).
    return;
  }
  const y = basename(artifacts.yaml);
  const c = basename(artifacts.checkpoint);
  if (layers.length > weightKeys.length) {
    throw new ToolchainError({
      tool: 'ai8xize', reason: 'layer-count',
      message: `${y} has ${layers.length} layers with weights but ${c} holds ${weightKeys.length} weight tensors: the checkpoint has no weights for layer ${layers[weightKeys.length]!.name}${layers.length - weightKeys.length > 1 ? ' and later ones' : ''}.`,
      fix: 'Use the YAML exported together with this checkpoint (export both again from the same trained model).',
    });
  }
  if (layers.length < weightKeys.length) {
    throw new ToolchainError({
      tool: 'ai8xize', reason: 'layer-count',
      message: `${y} has ${layers.length} layers with weights but ${c} holds ${weightKeys.length} (${weightKeys.slice(layers.length).join(', ')} have no layer): ai8xize.py would silently generate a network without them.`,
      fix: 'Use the YAML exported together with this checkpoint (export both again from the same trained model).',
    });
  }
}
