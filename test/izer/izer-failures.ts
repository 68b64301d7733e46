// Failures provoked from the real ai8x-synthesis: each case breaks a good export the way a user
// (or a bug of ours) could, and names the reason our error map must give. The live test runs them
// against the real izer; `record-izer-failures.ts` saves the izer's output as error-map fixtures.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Layer, Model } from '../../src-main/ir/graph.ts';
import { ecgNet } from '../../src-main/ir/zoo.ts';
import type { ToolchainReason } from '../../src-main/toolchain/toolchain-error.ts';
import { exportNetwork, type Exported } from './izer-harness.ts';

export interface FailureCase {
  /** Fixture name: test/fixtures/toolchain/outputs/izer-real-<name>.txt */
  name: string;
  reason: ToolchainReason;
  /** The message our map gives (plain words). */
  message: RegExp;
  /** Makes the broken export (a fresh temp folder). */
  make(): Promise<Exported>;
}

function editYaml(e: Exported, edit: (yaml: string) => string): Exported {
  writeFileSync(e.artifacts.yaml, edit(readFileSync(e.artifacts.yaml, 'utf8')));
  return e;
}

const conv1x1 = (name: string, i: number, o: number, k = 1): Layer => ({
  name, op: 'conv2d', inChannels: i, outChannels: o, kernel: [k, k], pad: k === 3 ? 1 : 0, stride: 1, flatten: false,
  activation: 'relu', weightBits: 8, outputShift: 0, outputWidth: 8, hasBias: false,
});

export const FAILURES: FailureCase[] = [
  {
    name: 'bad-yaml',
    reason: 'yaml-syntax',
    message: /not valid YAML at line 8, column 9: while parsing a flow sequence; expected ',' or '\]', but got ':'/,
    make: async () => editYaml(await exportNetwork(ecgNet(), { seed: 3 }), (y) => y.replace('layers:', 'layers:\n  - [unclosed')),
  },
  {
    name: 'too-many-processors',
    reason: 'processor-count',
    message: /Layer 0 has 1 input channels, but its processor map 0x0000000000000003 enables 2 processors instead of 1/,
    make: async () => editYaml(await exportNetwork(ecgNet(), { seed: 3 }), (y) => y.replace('processors: 0x0000000000000001', 'processors: 0x0000000000000003')),
  },
  {
    name: 'offset-overlap',
    reason: 'overwriting-input',
    message: /Layer 0 writes its output over input data/,
    make: async () => editYaml(await exportNetwork(ecgNet(), { seed: 3 }), (y) => y.replace(/(in|out)_offset: 0x[0-9a-f]+/g, '$1_offset: 0x0000')),
  },
  {
    name: 'unknown-key',
    reason: 'yaml-config',
    message: /network YAML has a key ai8xize\.py does not know: kernel/,
    make: async () => editYaml(await exportNetwork(ecgNet(), { seed: 3 }), (y) => y.replace('operation: Conv1d', 'operation: Conv1d\n    kernel: 3')),
  },
  {
    name: 'bad-value',
    reason: 'yaml-config',
    message: /network YAML is refused at layer 0: Unknown value "Conv3d" for `operation`/,
    make: async () => editYaml(await exportNetwork(ecgNet(), { seed: 3 }), (y) => y.replace('operation: Conv1d', 'operation: Conv3d')),
  },
  {
    name: 'weight-memory',
    reason: 'weight-memory-overflow',
    message: /Layer 1's weights do not fit: kernel memory is full at processor \d+/,
    make: async () => {
      // 1024 input channels (16 passes) x 261 outputs = 4,176 3x3 kernels per processor; each holds 4,160.
      const big: Model = { arch: 'toobig', dataset: 'x', device: 'MAX78002', input: { channels: 64, dims: [2, 2], format: 'HWC' },
        layers: [conv1x1('c1', 64, 1024), conv1x1('c2', 1024, 261, 3), conv1x1('c3', 261, 8)] };
      return exportNetwork(big, { seed: 5, despitePlanErrors: true });
    },
  },
  {
    name: 'missing-weights',
    reason: 'layer-count',
    message: /YAML has 6 layers with weights but the checkpoint has 5/,
    make: async () => editYaml(await exportNetwork(ecgNet(), { seed: 3 }), (y) => {
      // A sixth layer the checkpoint has no weights for.
      const blocks = y.trimEnd().split('\n  - ');
      return [...blocks, blocks[blocks.length - 1]!.replace('name: fc', 'name: fc2')].join('\n  - ') + '\n';
    }),
  },
];
