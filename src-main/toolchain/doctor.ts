// The doctor: what toolchain parts are found, where, which version, and for each missing one the
// fix in plain words. Runs each tool's `--version` (real processes, short timeouts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DoctorItem, DoctorReport } from '../api/toolchain.api.ts';
import { isExecutable, resolveTools, type LocateContext, type Located } from './locate.ts';
import { gitCommit, toolVersion } from './versions.ts';
import { IZER_PYTHON_MODULES, missingModules } from './sdk/install-izer.ts';
import { ToolchainError } from './toolchain-error.ts';
import { resolveTorchPython } from '../training/torch-python.ts';
import { torchInfo } from '../training/pytorch-engine.ts';


const FIX = {
  pytorch: 'Optional, for training with PyTorch (CPU or CUDA): install torch and numpy in a Python (or use the ai8x-training virtual environment) and set Settings → PyTorch Python.',
  izer: 'Use Deploy → Install ai8x-synthesis (or qatwb sdk install ai8x-synthesis), or clone it (git clone https://github.com/analogdevicesinc/ai8x-synthesis) and set Settings → ai8x-synthesis to that folder (the one with ai8xize.py).',
  python: 'Create the izer\'s environment (python3 -m venv venv inside the ai8x-synthesis folder, then venv/bin/pip install -r requirements.txt) or set Settings → Python.',
  msdk: 'Install the MSDK with Analog Devices\' MaximSDK installer (analog.com, search "MSDK"; it also brings the Arm GCC, make on Windows and ADI\'s OpenOCD; default folder ~/MaximSDK or C:/MaximSDK), or clone https://github.com/analogdevicesinc/msdk; then set Settings → MSDK to that folder (the one holding Libraries/), or export MAXIM_PATH=<that folder>.',
  armGcc: 'Install the Arm GNU toolchain (the MSDK ships it in Tools/GNUTools/10.3/bin; on Debian/Ubuntu: apt install gcc-arm-none-eabi) and set Settings → Arm GCC.',
  make: 'Install GNU make (Debian/Ubuntu: apt install make; Windows: it comes with the MSDK in Tools/MSYS2) and set Settings → make.',
  openocd: 'Use the OpenOCD from the MSDK (Tools/OpenOCD), which knows the MAX78002; set Settings → OpenOCD.',
  scripts: 'Set Settings → OpenOCD scripts to the MSDK\'s Tools/OpenOCD/scripts folder (it holds target/max78002.cfg).',
};

async function versionOf(tool: Parameters<typeof toolVersion>[0], path: string): Promise<{ version?: string; error?: string }> {
  try {
    return { version: await toolVersion(tool, path) };
  } catch (error) {
    return { error: error instanceof ToolchainError ? error.message : String(error) };
  }
}

function missing(id: DoctorItem['id'], label: string, fix: string, detail?: string): DoctorItem {
  return { id, label, status: 'missing', fix, ...(detail ? { detail } : {}) };
}

async function executableItem(id: DoctorItem['id'], label: string, tool: Parameters<typeof toolVersion>[0], loc: Located | undefined, fix: string): Promise<DoctorItem> {
  if (!loc) return missing(id, label, fix, 'not found in settings, the MSDK or the PATH');
  if (loc.path.includes('/') || loc.path.includes('\\')) {
    if (!isExecutable(loc.path)) return missing(id, label, fix, `${loc.path} (${loc.source}) is not an executable file`);
  }
  const v = await versionOf(tool, loc.path);
  if (v.error) return { id, label, status: 'missing', path: loc.path, source: loc.source, detail: v.error, fix };
  return { id, label, status: 'ok', path: loc.path, source: loc.source, version: v.version };
}

export async function runDoctor(ctx: LocateContext): Promise<DoctorReport> {
  const t = resolveTools(ctx);
  const items: DoctorItem[] = [];

  if (!t.izerDir) items.push(missing('izer', 'ai8x-synthesis (ai8xize.py)', FIX.izer, 'not set and not in ~/ai8x-synthesis'));
  else if (!existsSync(join(t.izerDir.path, 'ai8xize.py'))) items.push(missing('izer', 'ai8x-synthesis (ai8xize.py)', FIX.izer, `${t.izerDir.path} has no ai8xize.py`));
  else {
    const commit = gitCommit(t.izerDir.path);
    items.push({ id: 'izer', label: 'ai8x-synthesis (ai8xize.py)', status: 'ok', path: t.izerDir.path, source: t.izerDir.source, ...(commit ? { version: `commit ${commit.slice(0, 12)}` } : { detail: 'not a git checkout; version unknown' }) });
  }

  const python = await executableItem('python', 'Python for the izer', 'python', t.python, FIX.python);
  items.push(python);
  if (python.status === 'ok' && t.python) {
    items.push(await pythonModulesItem(t.python.path));
  } else {
    items.push(missing('python-modules', `Python modules (${IZER_PYTHON_MODULES.join(', ')})`, FIX.python, 'no working Python to check'));
  }

  if (!t.maximPath) items.push(missing('msdk', 'MSDK (MAXIM_PATH)', FIX.msdk, 'not set, $MAXIM_PATH unset, not in ~/MaximSDK or /opt/MaximSDK'));
  else if (!existsSync(join(t.maximPath.path, 'Libraries'))) items.push(missing('msdk', 'MSDK (MAXIM_PATH)', FIX.msdk, `${t.maximPath.path} has no Libraries folder`));
  else {
    const commit = gitCommit(t.maximPath.path);
    items.push({ id: 'msdk', label: 'MSDK (MAXIM_PATH)', status: 'ok', path: t.maximPath.path, source: t.maximPath.source, ...(commit ? { version: `commit ${commit.slice(0, 12)}` } : {}) });
  }

  items.push(await executableItem('arm-gcc', 'Arm GCC (arm-none-eabi-gcc)', 'gcc', t.armGcc, FIX.armGcc));
  items.push(await executableItem('make', 'GNU make', 'make', t.make, FIX.make));
  items.push(await executableItem('openocd', 'OpenOCD', 'openocd', t.openocd, FIX.openocd));

  if (!t.openocdScripts) items.push(missing('openocd-scripts', 'OpenOCD scripts (target/max78002.cfg)', FIX.scripts));
  else if (!existsSync(join(t.openocdScripts.path, 'target', 'max78002.cfg'))) {
    items.push({
      id: 'openocd-scripts', label: 'OpenOCD scripts (target/max78002.cfg)', status: 'warning', path: t.openocdScripts.path, source: t.openocdScripts.source,
      detail: 'this scripts folder has no target/max78002.cfg (stock OpenOCD builds do not support the MAX78002)', fix: FIX.scripts,
    });
  } else items.push({ id: 'openocd-scripts', label: 'OpenOCD scripts (target/max78002.cfg)', status: 'ok', path: t.openocdScripts.path, source: t.openocdScripts.source });

  const torch = await pytorchItem(ctx);
  items.push(torch.item);
  // The PyTorch engine is optional (the embedded engine needs nothing): it never makes the toolchain unready.
  return { items, ready: items.every((i) => i.status === 'ok' || i.id === 'pytorch'), ...(torch.info ? { pytorch: torch.info } : {}) };
}

/** The PyTorch training engine's Python: torch version, threads and CUDA devices. */
async function pytorchItem(ctx: LocateContext): Promise<{ item: DoctorItem; info?: DoctorReport['pytorch'] }> {
  const label = 'PyTorch (training engine, optional)';
  let python;
  try {
    python = await resolveTorchPython(ctx.settings);
  } catch (error) {
    return { item: { id: 'pytorch', label, status: 'warning', detail: (error as Error).message, fix: FIX.pytorch } };
  }
  try {
    const info = await torchInfo(python.path, { timeoutMs: 60_000 });
    const cuda = info.cuda.length ? `CUDA: ${info.cuda.map((d) => `${d.index}: ${d.name} (${(d.memoryBytes / 2 ** 30).toFixed(0)} GiB)`).join(', ')}` : 'no CUDA device (CPU training)';
    return {
      item: { id: 'pytorch', label, status: 'ok', path: python.path, source: python.source, version: `torch ${info.torch}`, detail: `${cuda}; ${info.threads} CPU threads` },
      info: { python: python.path, torch: info.torch, threads: info.threads, cuda: info.cuda },
    };
  } catch (error) {
    return { item: { id: 'pytorch', label, status: 'warning', path: python.path, source: python.source, detail: (error as Error).message, fix: FIX.pytorch } };
  }
}

async function pythonModulesItem(python: string): Promise<DoctorItem> {
  const label = `Python modules (${IZER_PYTHON_MODULES.join(', ')})`;
  try {
    const gone = await missingModules(python, IZER_PYTHON_MODULES);
    if (gone.length === 0) return { id: 'python-modules', label, status: 'ok', path: python };
    return { id: 'python-modules', label, status: 'missing', path: python, detail: `cannot import: ${gone.join(', ')}`, fix: `Install them in that Python (${python} -m pip install -r <ai8x-synthesis>/requirements.txt), or use Deploy → Install ai8x-synthesis, which makes an environment with them.` };
  } catch (error) {
    return { id: 'python-modules', label, status: 'missing', path: python, detail: (error as Error).message, fix: FIX.python };
  }
}

/** Plain-text rendering for the CLI. */
export function formatDoctor(report: DoctorReport): string[] {
  const out: string[] = [];
  for (const i of report.items) {
    const mark = i.status === 'ok' ? 'ok  ' : i.status === 'warning' ? 'warn' : 'MISS';
    out.push(`[${mark}] ${i.label}${i.path ? `: ${i.path}` : ''}${i.source ? ` (${i.source})` : ''}${i.version ? ` — ${i.version}` : ''}`);
    if (i.detail) out.push(`       ${i.detail}`);
    if (i.fix && i.status !== 'ok') out.push(`       fix: ${i.fix}`);
  }
  out.push(report.ready ? 'Ready: synthesize, build and flash can run.' : 'Not ready: fix the items marked MISS/warn above.');
  return out;
}
