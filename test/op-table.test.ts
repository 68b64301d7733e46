// The op table is checked by the compiler: every facet of an op (its IR spec, simulator kernel,
// float forward, training layer, ONNX and izer lowering, planner rule, the Model step's builder
// and labels) is a Record over OpKind in its own folder, so a new op kind that lacks one does not
// type-check, and the errors name each missing facet. The new kind is planted in memory
// (ir/graph.ts as read by the compiler), never on disk.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GRAPH = join(ROOT, 'src-main/ir/graph.ts');
const PLANTED = 'planted';
/** Plain tsc cannot read single-file components: an in-memory declaration stands in for them. */
const VUE_SHIM = join(ROOT, 'src-renderer/planted-vue-shim.d.ts');
const VUE_SHIM_TEXT = "declare module '*.vue' { import type { DefineComponent } from 'vue'; const component: DefineComponent; export default component; }\n";

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
/** The renderer's facets (type-checked under tsconfig.web.json). */
const RENDERER_FACETS: Record<string, string> = {
  'src-renderer/features/model/ops.ts': 'MODEL_OPS',
};

/** ir/graph.ts with one more OpKind. */
function plantedGraph(): string {
  const text = readFileSync(GRAPH, 'utf8');
  const planted = text.replace(/export type OpKind =\n/, `export type OpKind =\n  | '${PLANTED}'\n`);
  if (planted === text) throw new Error('ir/graph.ts: cannot find "export type OpKind =" to plant a kind into');
  return planted;
}

/**
 * Errors in the production code of `dir` (no tests; the renderer's .ts files, its .vue files need
 * vue-tsc) under `config`, with ir/graph.ts replaced by `graph`. What `dir` imports from elsewhere
 * (the renderer: ir/) is checked, and its errors reported, by that folder's own run.
 */
function typeErrors(config: string, dir: string, graph: string): { file: string; line: string; message: string }[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, config), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  if (!parsed) throw new Error(`${config}: cannot parse`);
  const roots = parsed.fileNames.filter((f) => relative(ROOT, f).startsWith(`${dir}/`) && f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const host = ts.createCompilerHost(parsed.options);
  const { fileExists, readFile, getSourceFile } = host;
  const memory = new Map([[GRAPH, graph], [VUE_SHIM, VUE_SHIM_TEXT]]);
  const inMemory = (f: string): string | undefined => memory.get(resolve(f));
  host.fileExists = (f) => inMemory(f) !== undefined || fileExists.call(host, f);
  host.readFile = (f) => inMemory(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) => {
    const text = inMemory(f);
    return text !== undefined ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
  };
  const program = ts.createProgram([...roots, VUE_SHIM], parsed.options, host);
  return ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error).map((d) => {
    const file = d.file ? relative(ROOT, d.file.fileName) : '';
    const line = d.file && d.start !== undefined ? d.file.text.split('\n')[d.file.getLineAndCharacterOfPosition(d.start).line]! : '';
    return { file, line, message: ts.flattenDiagnosticMessageText(d.messageText, ' ') };
  }).filter((e) => e.file.startsWith(`${dir}/`) || e.file === '');
}

/** Errors grouped by file, each with its source line. */
function byFile(errors: { file: string; line: string; message: string }[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const e of errors) map.set(e.file, [...(map.get(e.file) ?? []), `${e.line.trim()} :: ${e.message}`]);
  return map;
}

function expectFacets(errors: { file: string; line: string; message: string }[], facets: Record<string, string>): void {
  const files = byFile(errors);
  expect([...files.keys()].sort(), errors.map((e) => `${e.file}: ${e.message}`).join('\n')).toEqual(Object.keys(facets).sort());
  for (const [file, facet] of Object.entries(facets)) {
    const found = files.get(file)!;
    expect(found.some((e) => e.includes(facet) && e.includes(`'${PLANTED}'`)), `${file}:\n${found.join('\n')}`).toBe(true);
  }
}

describe('the op table', () => {
  const graph = plantedGraph();

  it('a new op kind fails to compile in every core and Node facet that lacks it, and nowhere else', () => {
    expectFacets(typeErrors('tsconfig.node.json', 'src-main', graph), FACETS);
  }, 300_000);

  it('and in the renderer facet, and nowhere else', () => {
    expectFacets(typeErrors('tsconfig.web.json', 'src-renderer', graph), RENDERER_FACETS);
  }, 300_000);

  it('the unchanged op set compiles in the renderer (the errors above come from the planted kind)', () => {
    expect(typeErrors('tsconfig.web.json', 'src-renderer', readFileSync(GRAPH, 'utf8'))).toEqual([]);
  }, 300_000);
});
