// The op table is checked by the compiler: every facet of an op (its IR spec, simulator kernel,
// float forward, training layer, ONNX and izer lowering, planner rule) is a Record over OpKind in its own folder,
// so a new op kind that lacks one does not type-check, and the errors name each missing facet.
// The new kind is planted in memory (ir/graph.ts as read by the compiler), never on disk.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GRAPH = join(ROOT, 'src-main/ir/graph.ts');
const PLANTED = 'planted';

/** Every facet of an op: the file and the Record that must name the new kind (docs/architecture.md lists them). */
const FACETS: Record<string, string> = {
  'src-main/ir/ops/registry.ts': 'opSpecs',
  'src-main/sim/machine.ts': 'prepareKernel',
  'src-main/training/predict-float.ts': 'FORWARD',
  'src-main/training/layers/ops.ts': 'TRAINING_OPS',
  'src-main/formats/onnx.ts': 'ONNX_LOWERING',
  'src-main/formats/izer-ops.ts': 'IZER_OPS',
  'src-main/planner/memory.ts': 'KERNEL_ELEMENTS',
};

/** ir/graph.ts with one more OpKind. */
function plantedGraph(): string {
  const text = readFileSync(GRAPH, 'utf8');
  const planted = text.replace(/export type OpKind =\n/, `export type OpKind =\n  | '${PLANTED}'\n`);
  if (planted === text) throw new Error('ir/graph.ts: cannot find "export type OpKind =" to plant a kind into');
  return planted;
}

/** Errors of the production code (src-main, no tests) under tsconfig.node.json, with ir/graph.ts replaced by `graph`. */
function typeErrors(graph: string): { file: string; line: string; message: string }[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.node.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  if (!parsed) throw new Error('tsconfig.node.json: cannot parse');
  const roots = parsed.fileNames.filter((f) => relative(ROOT, f).startsWith('src-main/') && !f.endsWith('.test.ts'));
  const host = ts.createCompilerHost(parsed.options);
  const { readFile, getSourceFile } = host;
  const isGraph = (f: string): boolean => resolve(f) === GRAPH;
  host.readFile = (f) => (isGraph(f) ? graph : readFile.call(host, f));
  host.getSourceFile = (f, lang, ...rest) => (isGraph(f) ? ts.createSourceFile(f, graph, lang) : getSourceFile.call(host, f, lang, ...rest));
  const program = ts.createProgram(roots, parsed.options, host);
  return ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error).map((d) => {
    const file = d.file ? relative(ROOT, d.file.fileName) : '';
    const line = d.file && d.start !== undefined ? d.file.text.split('\n')[d.file.getLineAndCharacterOfPosition(d.start).line]! : '';
    return { file, line, message: ts.flattenDiagnosticMessageText(d.messageText, ' ') };
  });
}

describe('the op table', () => {
  it('a new op kind fails to compile in every facet that lacks it, and nowhere else', () => {
    const errors = typeErrors(plantedGraph());
    const byFile = new Map<string, string[]>();
    for (const e of errors) byFile.set(e.file, [...(byFile.get(e.file) ?? []), `${e.line.trim()} :: ${e.message}`]);
    expect([...byFile.keys()].sort(), errors.map((e) => `${e.file}: ${e.message}`).join('\n')).toEqual(Object.keys(FACETS).sort());
    for (const [file, facet] of Object.entries(FACETS)) {
      const found = byFile.get(file)!;
      expect(found.some((e) => e.includes(facet) && e.includes(`'${PLANTED}'`)), `${file}:\n${found.join('\n')}`).toBe(true);
    }
  });
});
