// Contract of the toolchain service: where the ADI tools live (settings + doctor), and the
// synthesize → build → flash jobs that run them as child processes with progress and log lines.
import { z } from 'zod';
import { call, job, service } from './contract.ts';

/**
 * Environment names the izer's Python may be given. Only settings that tune it (GPU choice,
 * thread counts, locale, colour), never names an interpreter or a library acts on as code or
 * search path (LD_*, PYTHON*, BROWSER, BASH_ENV, NODE_OPTIONS, PATH, ...): the settings are
 * reachable through the API and persist, so a name that runs code there would be lasting command
 * execution for anyone who can call setSettings.
 */
export const IZER_ENV_NAMES: readonly string[] = [
  'CUDA_VISIBLE_DEVICES', 'CUDA_DEVICE_ORDER', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
  'NO_COLOR', 'TZ', 'LANG', 'LC_ALL',
];
/** Inputs of the stand-in izer the tests run instead of ai8xize.py (nothing else reads them). */
export const IZER_ENV_STANDIN_PREFIX = 'FAKE_IZER_';

export function izerEnvNameAllowed(name: string): boolean {
  return IZER_ENV_NAMES.includes(name) || /^FAKE_IZER_[A-Z0-9_]+$/.test(name);
}

export const IzerEnv = z.record(
  z.string().refine(izerEnvNameAllowed, { message: `expected one of ${IZER_ENV_NAMES.join(', ')} (other names are refused: they could make the izer's Python run code)` }),
  z.string().max(4096).refine((v) => !v.includes('\0'), { message: 'expected a value without NUL' }),
);

/** The settings that name programs or folders the app will run code from (the training Python and remote prefix too). */
export const EXECUTABLE_SETTINGS = ['izerDir', 'python', 'maximPath', 'armGcc', 'make', 'openocd', 'openocdScripts', 'torchPython', 'trainRemotePrefix'] as const;

export const ToolchainSettings = z.strictObject({
  /** ai8x-synthesis checkout (the folder holding ai8xize.py). */
  izerDir: z.string().optional(),
  /** Python that runs ai8xize.py; default: a venv inside the izer checkout, else python3 on PATH. */
  python: z.string().optional(),
  /** The MSDK folder (MAXIM_PATH). */
  maximPath: z.string().optional(),
  /** arm-none-eabi-gcc executable. */
  armGcc: z.string().optional(),
  make: z.string().optional(),
  openocd: z.string().optional(),
  /** OpenOCD scripts folder (must hold target/max78002.cfg). */
  openocdScripts: z.string().optional(),
  /** Extra environment for the izer's Python, names from IZER_ENV_NAMES only (e.g. CUDA_VISIBLE_DEVICES). */
  izerEnv: IzerEnv.optional(),
  /** make -j N; default: number of CPUs. */
  buildJobs: z.number().int().min(1).max(64).optional(),
  synthesizeTimeoutMs: z.number().int().positive().optional(),
  buildTimeoutMs: z.number().int().positive().optional(),
  flashTimeoutMs: z.number().int().positive().optional(),
  /** Python with torch for the PyTorch training engine; default: found (ai8x-training venv, the izer's Python, PATH). */
  torchPython: z.string().optional(),
  /** Train on another machine: a command prefix that runs one shell command there, e.g. ["ssh", "gpu-box"]. */
  trainRemotePrefix: z.array(z.string().min(1)).optional(),
});
export type ToolchainSettings = z.infer<typeof ToolchainSettings>;

export const DoctorItem = z.object({
  id: z.enum(['izer', 'python', 'python-modules', 'msdk', 'arm-gcc', 'make', 'openocd', 'openocd-scripts', 'pytorch']),
  label: z.string(),
  status: z.enum(['ok', 'warning', 'missing']),
  path: z.string().optional(),
  /** Where the path came from: settings, an environment variable, the PATH or a usual install folder. */
  source: z.string().optional(),
  version: z.string().optional(),
  detail: z.string().optional(),
  /** What to do, in plain words, when status is not ok. */
  fix: z.string().optional(),
});
export type DoctorItem = z.infer<typeof DoctorItem>;

export const DoctorReport = z.object({
  items: z.array(DoctorItem),
  /** PyTorch training engine: torch version and CUDA devices (optional; not part of `ready`). */
  pytorch: z.object({ python: z.string(), torch: z.string(), threads: z.number(), cuda: z.array(z.object({ index: z.number(), name: z.string(), memoryBytes: z.number() })) }).optional(),
  /** True when synthesize, build and flash can all run. */
  ready: z.boolean(),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export const CrossCheck = z.object({
  status: z.enum(['ok', 'mismatch', 'unavailable']),
  /** Why the check could not run (status unavailable). */
  reason: z.string().optional(),
  izer: z.array(z.number()).optional(),
  simulator: z.array(z.number()).optional(),
  shape: z.array(z.number()).optional(),
  /** Indices where the two differ (first 32). */
  differences: z.array(z.number()).optional(),
});
export type CrossCheck = z.infer<typeof CrossCheck>;

/** What one synthesis (or replay) may add to the saved settings. */
const RunExtras = {
  /**
   * Extra environment for this run's izer, over the settings' izerEnv. Names are checked where the
   * izer starts (the same allow-list as IzerEnv: IZER_ENV_NAMES and the stand-in's FAKE_IZER_*).
   */
  izerEnv: z.record(z.string(), z.string().max(4096)).optional(),
  /** Harness sources to add instead of the app's own (resources/firmware). */
  harnessDir: z.string().min(1).optional(),
};

const SynthesizeRequest = z.strictObject({
  /** Exported artifacts folder: checkpoint.pth.tar, network.yaml, sample.input.npy. */
  artifactsDir: z.string(),
  /** Where the generated project goes (created; an existing one is replaced). */
  outDir: z.string(),
  prefix: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
  /** Add the live-check firmware harness (default true). */
  addHarness: z.boolean().optional(),
  /** Write a deployment bundle into this folder. */
  bundleDir: z.string().optional(),
  ...RunExtras,
});

const SynthesizeResult = z.object({
  projectDir: z.string(),
  crossCheck: CrossCheck,
  harness: z.object({ added: z.boolean(), files: z.array(z.string()), note: z.string().optional() }),
  warnings: z.array(z.string()),
  bundleDir: z.string().optional(),
  durationMs: z.number(),
  /** Weight (kernel) and bias memory bytes as ai8xize.py reported them; absent if its log had none. */
  weightBytes: z.number().optional(),
  biasBytes: z.number().optional(),
});

const ReplayResult = SynthesizeResult.extend({
  /** The izer reproduced the recorded expected output exactly (absent when none was recorded). */
  izerExpectedMatches: z.boolean().optional(),
  /** The cross-check the bundle recorded. */
  recordedCrossCheck: CrossCheck.shape.status.optional(),
});

const IzerInstallResult = z.object({
  izerDir: z.string(),
  python: z.string(),
  ref: z.string(),
  commit: z.string(),
  installed: z.array(z.string()),
  satisfied: z.array(z.string()),
  log: z.string(),
  durationMs: z.number(),
});

/** Steps the ai8x-synthesis install reports. */
export const INSTALL_STEPS = ['clone', 'venv', 'requirements', 'verify', 'done'] as const;

/**
 * What a toolchain job's progress carries, by what reports it: the izer's phase (and the
 * checkpoint layers read so far), make's compiled objects (and the ELF being linked), OpenOCD's
 * step, the izer install's step.
 */
export const ToolchainProgressData = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ai8xize'), step: z.string(), layers: z.number().int().optional() }),
  z.object({ kind: z.literal('make'), compiled: z.number().int(), file: z.string().optional(), linking: z.string().optional() }),
  z.object({ kind: z.literal('openocd'), step: z.enum(['adapter', 'halted', 'program', 'verify', 'reset', 'done']) }),
  z.object({ kind: z.literal('install'), step: z.enum(INSTALL_STEPS) }),
]);
export type ToolchainProgressData = z.output<typeof ToolchainProgressData>;

/** The settings a page shows but may not change, and what to do instead (null: all may change). */
export const PathPolicy = z.object({ locked: z.array(z.enum(EXECUTABLE_SETTINGS)), reason: z.string().nullable() });
export type PathPolicy = z.infer<typeof PathPolicy>;

const ToolRun = z.object({ exitCode: z.number(), durationMs: z.number(), command: z.array(z.string()) });

export const toolchainApi = service(
  {
    ping: call('Checks that the toolchain service answers.', z.strictObject({}), z.object({ ok: z.literal(true) })),
    getSettings: call('Returns the saved toolchain paths and options.', z.strictObject({}), ToolchainSettings),
    setSettings: call('Saves toolchain paths and options (replaces them).', ToolchainSettings, ToolchainSettings),
    pathPolicy: call(
      'Which program paths this connection may not change (web mode: all of them, no one here can confirm a new program) and why.',
      z.strictObject({}),
      PathPolicy,
    ),
    doctor: job('Lists the toolchain parts found and missing, with versions and fixes.', z.strictObject({}), DoctorReport),
    installIzer: job(
      'Installs ai8x-synthesis into the app data folder (git clone at a pinned version, a Python environment, missing requirements) and saves it in the settings. Desktop app only (it runs git and pip).',
      z.strictObject({
        /** Repository URL or local clone (default: the upstream repository). */
        from: z.string().min(1).optional(),
        /** Tag, branch or commit (default: the version the workbench is tested against). */
        ref: z.string().regex(/^[\w./-]+$/).optional(),
      }),
      IzerInstallResult,
      ToolchainProgressData,
    ),
    useIzerCheckout: call(
      'Points the settings at an existing ai8x-synthesis checkout (and the Python of its venv/, if it has one).',
      z.strictObject({ dir: z.string().min(1) }),
      ToolchainSettings,
    ),
    synthesize: job('Runs ai8xize.py on exported artifacts, adds the harness and cross-checks against the simulator.', SynthesizeRequest, SynthesizeResult, ToolchainProgressData),
    replayBundle: job(
      'Replays a deployment bundle headlessly: its inputs (hash-checked) through the izer with the same options, compared with what it recorded.',
      z.strictObject({ bundleDir: z.string().min(1), outDir: z.string().min(1), ...RunExtras }),
      ReplayResult,
      ToolchainProgressData,
    ),
    build: job(
      'Builds a synthesized project with make.',
      z.strictObject({ projectDir: z.string() }),
      ToolRun.extend({ elf: z.string(), sizeBytes: z.number() }),
      ToolchainProgressData,
    ),
    flash: job(
      'Flashes a built project with OpenOCD; optionally reads the console for the known-answer test.',
      z.strictObject({
        projectDir: z.string(),
        /** Another ELF than the project's build/max78002.elf. */
        elf: z.string().min(1).optional(),
        consolePort: z.string().optional(),
        consoleTimeoutMs: z.number().int().positive().optional(),
        /** OpenOCD target script, inside the scripts folder (default target/max78002.cfg). */
        targetConfig: z.string().min(1).optional(),
      }),
      ToolRun.extend({
        elf: z.string(),
        kat: z.object({ status: z.enum(['pass', 'fail', 'not-read']), lines: z.array(z.string()), inferenceUs: z.number().optional(), note: z.string().optional() }),
      }),
      ToolchainProgressData,
    ),
  },
  {
    /** One output line of a running tool, for the live log view. */
    log: z.object({ tool: z.string(), stream: z.enum(['stdout', 'stderr']), line: z.string() }),
  },
);
