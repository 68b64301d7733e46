// The core boundary is enforced, not just stated: a core file that reaches for Node fails both the
// core type-check (tsconfig.core.json) and lint (eslint.config.js), while a pure one passes both.
// The planted file exists only in memory, so the source tree is never touched.
import { describe, expect, it } from 'vitest';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { ESLint } from 'eslint';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLANTED = join(ROOT, 'src-main/quant/planted-boundary-check.ts');

const NODE_IMPORT = "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n";
const SIDE_EFFECT_IMPORT = "import 'node:fs';\nexport const x = 1;\n";
const NODE_GLOBAL = 'export const home = process.env.HOME;\n';
const ELECTRON = "import { app } from 'electron';\nexport const a = app;\n";
const SHELL_MODULE = "import { writeFileAtomic } from '../project/atomic-write.ts';\nexport const w = writeFileAtomic;\n";
const PURE = "import type { Model } from '../ir/graph.ts';\nexport const layerCount = (m: Model): number => m.layers.length + new TextEncoder().encode('x').length;\n";

/** Diagnostics of the core tsconfig's program with the planted file added, for that file only. */
function coreTypeErrors(text: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.core.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
  });
  if (!parsed) throw new Error('tsconfig.core.json: cannot parse');
  const host = ts.createCompilerHost(parsed.options);
  const norm = (f: string) => resolve(f);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => norm(f) === PLANTED || fileExists.call(host, f);
  host.readFile = (f) => (norm(f) === PLANTED ? text : readFile.call(host, f));
  host.getSourceFile = (f, lang, ...rest) =>
    norm(f) === PLANTED ? ts.createSourceFile(f, text, lang) : getSourceFile.call(host, f, lang, ...rest);
  const program = ts.createProgram([...parsed.fileNames, PLANTED], parsed.options, host);
  const file = program.getSourceFile(PLANTED);
  if (!file) throw new Error('planted file not in the program');
  return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(
    (d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
  );
}

async function lintErrors(text: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(text, { filePath: PLANTED });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('core boundary (ir/ quant/ sim/ formats/ planner/)', () => {
  it('a pure core file passes the core type-check and lint', async () => {
    expect(coreTypeErrors(PURE)).toEqual([]);
    expect(await lintErrors(PURE)).toEqual([]);
  });

  it.each([
    ['a named node:fs import', NODE_IMPORT],
    ['a bare node:fs import', SIDE_EFFECT_IMPORT],
  ])('%s fails the core type-check and lint', async (_what, text) => {
    expect(coreTypeErrors(text).join('\n')).toMatch(/TS2307: Cannot find module 'node:fs'/);
    expect((await lintErrors(text)).join('\n')).toMatch(/no-restricted-imports: .*The core/);
  });

  it('a Node global fails the core type-check', () => {
    expect(coreTypeErrors(NODE_GLOBAL).join('\n')).toMatch(/Cannot find name 'process'/);
  });

  it('electron and the Node edge (project/) fail lint', async () => {
    expect((await lintErrors(ELECTRON)).join('\n')).toMatch(/no-restricted-imports/);
    expect((await lintErrors(SHELL_MODULE)).join('\n')).toMatch(/no-restricted-imports: .*The core/);
  });
});
