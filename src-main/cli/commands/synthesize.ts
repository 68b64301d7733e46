// `qatwb synthesize`: run ai8xize.py on exported artifacts, add the live-check harness, and
// cross-check the izer's expected output against our simulator; or replay a deployment bundle.
// The toolchain service's synthesize and replayBundle jobs.
import { resolve } from 'node:path';
import { optString, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { runCli, TOOL_BOOLEANS, TOOL_FLAGS, TOOL_OPTIONS, withToolchain } from '../../toolchain/cli-run.ts';
import { formatCrossCheck } from '../../toolchain/steps/cross-check.ts';

function parseEnv(spec: string | undefined): Record<string, string> | undefined {
  if (!spec) return undefined;
  const out: Record<string, string> = {};
  for (const pair of spec.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--izer-env expects NAME=VALUE[,NAME=VALUE], got "${pair}".`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export const command: Command = {
  name: 'synthesize',
  summary: 'Run ai8xize.py on exported artifacts and cross-check.',
  usage: `qatwb synthesize --artifacts DIR --izer PATH [--python PATH] --out DIR [--prefix NAME] [--bundle-out DIR] [--no-harness] [--json]
qatwb synthesize --bundle DIR --out DIR [--izer PATH] [--json]      (replay a deployment bundle)
  --artifacts DIR      exported files: checkpoint.pth.tar, network.yaml, sample.input.npy
  --out DIR            the izer's --test-dir; the project is DIR/<prefix>
  --prefix NAME        project name (default: the YAML arch)
  --bundle-out DIR     also write a deployment bundle there
  --izer-env K=V,...   extra environment for the izer's Python
  --no-harness         keep the izer's known-answer-test firmware only
  --harness-dir DIR    harness sources to add (default: the app's resources/firmware)
${TOOL_FLAGS}
Exit code 1 when the cross-check finds a mismatch (the flow stops: build/flash refuse this project).`,
  options: [...TOOL_OPTIONS, 'artifacts', 'out', 'prefix', 'bundle', 'bundle-out', 'izer-env', 'harness-dir'],
  booleans: ['no-harness', ...TOOL_BOOLEANS],
  async run(args, io) {
    return runCli(args, io, async () => {
      const out = optString(args, 'out');
      if (!out) throw new UsageError('--out is required.');
      const harnessDir = optString(args, 'harness-dir');
      const izerEnv = parseEnv(optString(args, 'izer-env'));
      const extras = { ...(izerEnv ? { izerEnv } : {}), ...(harnessDir ? { harnessDir: resolve(harnessDir) } : {}) };
      const bundle = optString(args, 'bundle');
      const artifacts = optString(args, 'artifacts');
      if (!bundle && !artifacts) throw new UsageError('--artifacts (or --bundle) is required.');
      const prefix = optString(args, 'prefix');
      const bundleOut = optString(args, 'bundle-out');
      const { result, replay } = await withToolchain(args, io, {}, async (toolchain, job) => {
        if (!bundle) {
          const r = await toolchain.synthesize({
            artifactsDir: artifacts!, outDir: out, ...(prefix ? { prefix } : {}), addHarness: !args.options.has('no-harness'), ...(bundleOut ? { bundleDir: bundleOut } : {}), ...extras,
          }, job);
          return { result: r, replay: undefined };
        }
        const r = await toolchain.replayBundle({ bundleDir: bundle, outDir: out, ...extras }, job);
        return { result: r, replay: { bundle, izerExpectedMatches: r.izerExpectedMatches ?? null, recordedCrossCheck: r.recordedCrossCheck ?? null } };
      });
      const doc = {
        projectDir: result.projectDir,
        crossCheck: result.crossCheck.status,
        crossCheckDetail: result.crossCheck,
        weightBytes: result.weightBytes ?? null,
        biasBytes: result.biasBytes ?? null,
        harness: result.harness,
        warnings: result.warnings,
        ...(result.bundleDir ? { bundleDir: result.bundleDir } : {}),
        durationMs: result.durationMs,
        ...(replay ? { replay } : {}),
      };
      if (args.options.has('json')) io.out(JSON.stringify(doc));
      else {
        io.out(`Project: ${result.projectDir}`);
        if (result.weightBytes !== undefined) io.out(`Weight memory: ${result.weightBytes} bytes; bias memory: ${result.biasBytes} bytes (as ai8xize.py reports them)`);
        for (const l of formatCrossCheck(result.crossCheck)) io.out(l);
        for (const w of result.warnings) io.out(`warning: ${w}`);
        if (result.bundleDir) io.out(`Bundle: ${result.bundleDir}`);
      }
      return result.crossCheck.status === 'mismatch' || replay?.izerExpectedMatches === false ? 1 : 0;
    });
  },
};
