// The deployment flow over the steps: synthesize (+ cross-check, harness, record, bundle), build,
// flash (+ KAT console). Tools come from settings and detection; the service and the CLI both
// call these, so the app and `qatwb` run the same thing.
import { readInputFile, readInputText } from '../platform/read-input.ts';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Progress } from '../api/contract.ts';
import type { CrossCheck, ToolchainSettings } from '../api/toolchain.api.ts';
import { resolveArtifacts, type Artifacts } from './artifacts.ts';
import { createBundle, readBundle, recordStep, sha256File, verifyBundleInputs } from './bundle.ts';
import { hostContext, resolveTools, type Located, type ResolvedTools } from './locate.ts';
import { runBuild } from './steps/build.ts';
import { readKat, type KatResult } from './steps/console.ts';
import { crossCheckInWorker } from './steps/cross-check.ts';
import { runFlash } from './steps/flash.ts';
import { addHarness, artifactsInputScaling, defaultHarnessDir, type HarnessResult } from './steps/harness.ts';
import { readSynthesisRecord, writeSynthesisRecord } from './steps/synthesis-record.ts';
import { checkLayerCount } from './steps/preflight.ts';
import { runSynthesize } from './steps/synthesize.ts';
import { ToolchainError, type ToolName } from './toolchain-error.ts';
import { gitCommit, toolVersion } from './versions.ts';

export interface FlowContext {
  settings: ToolchainSettings;
  home?: string;
  signal?: AbortSignal;
  onLine?: (tool: ToolName, line: string, stream: 'stdout' | 'stderr') => void;
  onProgress?: (p: Progress) => void;
  harnessDir?: string;
  /** Extra environment for the izer's Python (tests feed the stand-in izer through it). */
  izerEnv?: Record<string, string>;
}

export interface SynthesizeFlowRequest {
  artifactsDir: string;
  outDir: string;
  prefix?: string;
  addHarness?: boolean;
  bundleDir?: string;
  izerExtraArgs?: string[];
}

export interface SynthesizeFlowResult {
  projectDir: string;
  crossCheck: CrossCheck;
  harness: HarnessResult;
  warnings: string[];
  bundleDir?: string;
  durationMs: number;
  /** Weight and bias memory bytes as the izer reported them. */
  weightBytes?: number;
  biasBytes?: number;
}

function tools(ctx: FlowContext): ResolvedTools {
  return resolveTools(hostContext(ctx.settings, ctx.home ?? homedir()));
}

/** Each tool in the words of the Settings and Doctor screens, with the fix (the CLI adds its flag). */
const MISSING: Record<keyof ResolvedTools, { name: string; fix: string }> = {
  izerDir: { name: 'ai8x-synthesis checkout (the folder with ai8xize.py)', fix: 'Set Settings → ai8x-synthesis to that folder.' },
  python: { name: 'Python for ai8x-synthesis', fix: 'Set Settings → Python to the python of the ai8x-synthesis virtual environment.' },
  maximPath: { name: 'MSDK (MaximSDK folder)', fix: 'Set Settings → MSDK, or set the MAXIM_PATH environment variable.' },
  armGcc: { name: 'Arm GNU toolchain (arm-none-eabi-gcc)', fix: 'Install the Arm GNU toolchain or the MSDK (it ships one in Tools/GNUTools), or set Settings → Arm GCC.' },
  make: { name: 'GNU make', fix: 'Install GNU make, or set Settings → make.' },
  openocd: { name: 'OpenOCD', fix: 'Install the MSDK\'s OpenOCD (Tools/OpenOCD), or set Settings → OpenOCD.' },
  openocdScripts: { name: 'OpenOCD scripts folder (with target/max78002.cfg)', fix: 'Set Settings → OpenOCD scripts to the MSDK\'s Tools/OpenOCD/scripts.' },
};

function need(t: ResolvedTools, key: keyof ResolvedTools, tool: ToolName): Located {
  const v = t[key];
  const m = MISSING[key];
  if (!v) throw new ToolchainError({ tool, reason: 'not-found', message: `No ${m.name} was found in Settings, the environment, the usual folders or PATH.`, fix: `${m.fix} The Toolchain list (Deploy, or qatwb doctor) shows everything that is missing.` });
  return v;
}

function lineSink(ctx: FlowContext, tool: ToolName, log: string[]) {
  return (line: string, stream: 'stdout' | 'stderr') => {
    log.push(stream === 'stderr' ? `! ${line}` : line);
    ctx.onLine?.(tool, line, stream);
  };
}

async function defaultPrefix(yamlPath: string): Promise<string> {
  const arch = (await readInputText(yamlPath, 'yaml')).match(/^arch:\s*['"]?([\w.-]+)/m)?.[1];
  return (arch ?? 'qatwb').replace(/[^A-Za-z0-9_-]/g, '_');
}

/** Weight bits of the output layer (the unit of a 32-bit output); undefined if the import fails. */
async function outputWeightBits(a: Artifacts): Promise<number | undefined> {
  try {
    const [{ importAi8x }, { readNpy }] = await Promise.all([import('../formats/import-ai8x.ts'), import('../formats/npy.ts')]);
    const { model } = importAi8x({
      checkpoint: await readInputFile(a.checkpoint, 'checkpoint'), yaml: await readInputText(a.yaml, 'yaml'),
      sample: readNpy(await readInputFile(a.sampleInput, 'sample'), a.sampleInput),
    });
    return model.layers[model.layers.length - 1]?.weightBits;
  } catch {
    return undefined;
  }
}

async function npyShape(path: string): Promise<number[]> {
  const { readNpy } = await import('../formats/npy.ts');
  return readNpy(await readInputFile(path, 'sample'), path).shape;
}

/** Versions of everything found, for the bundle (failures are recorded, not fatal). */
export async function collectVersions(t: ResolvedTools): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const v = async (name: string, tool: ToolName, loc?: Located) => {
    if (!loc) return;
    out[name] = await toolVersion(tool, loc.path).catch((e: Error) => `unknown (${e.message.split('\n')[0]})`);
  };
  await Promise.all([v('python', 'python', t.python), v('make', 'make', t.make), v('arm-none-eabi-gcc', 'gcc', t.armGcc), v('openocd', 'openocd', t.openocd)]);
  if (t.izerDir) out['ai8x-synthesis'] = gitCommit(t.izerDir.path) ?? `not a git checkout (${t.izerDir.path})`;
  if (t.maximPath) out.msdk = gitCommit(t.maximPath.path) ?? t.maximPath.path;
  return out;
}

export async function synthesizeFlow(ctx: FlowContext, req: SynthesizeFlowRequest, artifactsIn?: Artifacts): Promise<SynthesizeFlowResult> {
  const started = Date.now();
  const t = tools(ctx);
  const izerDir = need(t, 'izerDir', 'ai8xize');
  const python = need(t, 'python', 'python');
  const artifacts = artifactsIn ?? resolveArtifacts(req.artifactsDir);
  const prefix = req.prefix ?? (await defaultPrefix(artifacts.yaml));
  const log: string[] = [];
  await checkLayerCount(artifacts);
  const synth = await runSynthesize({
    python: python.path, izerDir: izerDir.path, artifacts, testDir: resolve(req.outDir), prefix,
    extraArgs: req.izerExtraArgs, extraEnv: { ...ctx.settings.izerEnv, ...ctx.izerEnv }, timeoutMs: ctx.settings.synthesizeTimeoutMs,
    signal: ctx.signal, onLine: lineSink(ctx, 'ai8xize', log), onProgress: ctx.onProgress,
  });
  ctx.onProgress?.({ phase: 'cross-check', message: 'Comparing the izer\'s expected output with the simulator' });
  const cc = await crossCheckInWorker({ artifacts: { checkpoint: artifacts.checkpoint, yaml: artifacts.yaml, sampleInput: artifacts.sampleInput }, izerExpectedNpy: synth.izerExpectedNpy }, ctx.signal);
  const outputCount = (await npyShape(synth.izerExpectedNpy)).reduce((a, b) => a * b, 1);
  const harness: HarnessResult = req.addHarness === false
    ? { added: false, files: [], note: 'Harness not requested.' }
    : await addHarness({
      projectDir: synth.projectDir, harnessDir: ctx.harnessDir ?? defaultHarnessDir(), checkpoint: artifacts.checkpoint, yaml: artifacts.yaml,
      inputShape: await npyShape(artifacts.sampleInput), outputCount, prefix, outputWeightBits: await outputWeightBits(artifacts),
      scaling: await artifactsInputScaling(artifacts.dir),
    });
  let bundleDir: string | undefined;
  if (req.bundleDir) {
    bundleDir = resolve(req.bundleDir);
    await createBundle({ bundleDir, artifacts, prefix, tools: await collectVersions(t), izerExtraArgs: req.izerExtraArgs, izerExpectedNpy: synth.izerExpectedNpy },
      { step: { name: 'synthesize', command: synth.run.command, exitCode: synth.run.exitCode, durationMs: synth.run.durationMs, result: { projectDir: synth.projectDir, harness } }, logLines: log, validation: { crossCheck: cc } });
  }
  await writeSynthesisRecord(synth.projectDir, {
    version: 1, createdAt: new Date().toISOString(), prefix, artifactsDir: artifacts.dir,
    checkpointSha256: await sha256File(artifacts.checkpoint), yamlSha256: await sha256File(artifacts.yaml), sampleSha256: await sha256File(artifacts.sampleInput),
    command: synth.run.command, crossCheck: cc, harness, ...(bundleDir ? { bundleDir } : {}),
  });
  const warnings = [...synth.warnings];
  if (cc.status === 'unavailable') warnings.push(`Cross-check not done: ${cc.reason}`);
  if (harness.note) warnings.push(harness.note);
  const resources = synth.resources ? { weightBytes: synth.resources.weightBytes, biasBytes: synth.resources.biasBytes } : {};
  return { projectDir: synth.projectDir, crossCheck: cc, harness, warnings, ...(bundleDir ? { bundleDir } : {}), durationMs: Date.now() - started, ...resources };
}

export interface ReplayResult extends SynthesizeFlowResult {
  /** The izer reproduced the recorded expected output exactly (undefined when none was recorded). */
  izerExpectedMatches?: boolean;
  recordedCrossCheck?: CrossCheck['status'];
}

/** Headless replay of a bundle: same inputs (hash-checked), same izer options, compared results. */
export async function replayBundle(ctx: FlowContext, bundleDir: string, outDir: string): Promise<ReplayResult> {
  const m = await readBundle(bundleDir);
  const artifacts = await verifyBundleInputs(bundleDir, m);
  const r = await synthesizeFlow(ctx, { artifactsDir: artifacts.dir, outDir, prefix: m.prefix, izerExtraArgs: m.izerExtraArgs }, artifacts);
  // A different izer may legitimately give other code; say so next to the comparison.
  const izerDir = tools(ctx).izerDir;
  const izerNow = izerDir ? gitCommit(izerDir.path) ?? `not a git checkout (${izerDir.path})` : undefined;
  const izerThen = m.tools['ai8x-synthesis'];
  if (izerThen && izerNow !== izerThen) r.warnings.push(`The bundle was made with ai8x-synthesis ${izerThen}; this replay used ${izerNow ?? 'an unknown version'}.`);
  const { IZER_EXPECTED_NAME } = await import('./steps/synthesize.ts');
  const now = await sha256File(join(r.projectDir, `${IZER_EXPECTED_NAME}.npy`));
  return {
    ...r,
    ...(m.izerExpectedSha256 ? { izerExpectedMatches: now === m.izerExpectedSha256 } : {}),
    ...(m.crossCheck ? { recordedCrossCheck: m.crossCheck.status } : {}),
  };
}

export async function buildFlow(ctx: FlowContext, projectDir: string) {
  const t = tools(ctx);
  const log: string[] = [];
  const maximPath = need(t, 'maximPath', 'make').path;
  const r = await runBuild({
    projectDir, make: need(t, 'make', 'make').path, maximPath, armGcc: need(t, 'armGcc', 'make').path,
    ...(process.platform === 'win32' ? { extraPathDirs: [join(maximPath, 'Tools', 'MSYS2', 'usr', 'bin')] } : {}),
    jobs: ctx.settings.buildJobs, timeoutMs: ctx.settings.buildTimeoutMs, signal: ctx.signal, onLine: lineSink(ctx, 'make', log), onProgress: ctx.onProgress,
  });
  const bundleDir = (await readSynthesisRecord(projectDir))?.bundleDir;
  if (bundleDir) await recordStep(bundleDir, { step: { name: 'build', command: r.run.command, exitCode: r.run.exitCode, durationMs: r.run.durationMs, result: { elf: r.elf, sizeBytes: r.sizeBytes } }, logLines: log });
  return { exitCode: r.run.exitCode, durationMs: r.run.durationMs, command: r.run.command, elf: r.elf, sizeBytes: r.sizeBytes };
}

export interface FlashFlowRequest {
  projectDir: string;
  elf?: string;
  consolePort?: string;
  consoleTimeoutMs?: number;
  targetConfig?: string;
}

export async function flashFlow(ctx: FlowContext, req: FlashFlowRequest) {
  const t = tools(ctx);
  const { elfPath } = await import('./steps/build.ts');
  const elf = req.elf ?? elfPath({ projectDir: req.projectDir });
  const log: string[] = [];
  // Open the console before flashing and ignore what arrives until OpenOCD has reset the board,
  // so output of the firmware being replaced is never taken for the new KAT's verdict.
  let link: { onData(cb: (c: Uint8Array) => void): void; close(): Promise<void> } | undefined;
  let forward: ((c: Uint8Array) => void) | undefined;
  if (req.consolePort) {
    const { openPort } = await import('../device/serial-port.ts');
    link = await openPort(req.consolePort, 115200);
    link.onData((c) => forward?.(c));
  }
  try {
    const run = await runFlash({
      projectDir: req.projectDir, elf, openocd: need(t, 'openocd', 'openocd').path, scriptsDir: t.openocdScripts?.path, targetConfig: req.targetConfig,
      timeoutMs: ctx.settings.flashTimeoutMs, signal: ctx.signal, onLine: lineSink(ctx, 'openocd', log), onProgress: ctx.onProgress,
    });
    let kat: KatResult = { status: 'not-read', lines: [], note: 'No console port given; the known-answer test was not read.' };
    if (link) {
      ctx.onProgress?.({ phase: 'console', message: 'Waiting for the known-answer test on the console' });
      kat = await readKat({ onData: (cb) => (forward = cb) }, { timeoutMs: req.consoleTimeoutMs ?? 15_000, signal: ctx.signal, onLine: (l) => ctx.onLine?.('console', l, 'stdout') });
    }
    const bundleDir = (await readSynthesisRecord(req.projectDir))?.bundleDir;
    if (bundleDir) {
      await recordStep(bundleDir, { step: { name: 'flash', command: run.command, exitCode: run.exitCode, durationMs: run.durationMs, result: { elf } }, logLines: log });
      if (link) await recordStep(bundleDir, { step: { name: 'console', result: { status: kat.status } }, logLines: kat.lines, validation: { kat } });
    }
    return { exitCode: run.exitCode, durationMs: run.durationMs, command: run.command, elf, kat };
  } finally {
    await link?.close();
  }
}
