// Step 5: program the ELF with OpenOCD, as the MSDK's flash.mk does (max78002.md §7):
// openocd -s <scripts> -f interface/cmsis-dap.cfg -f target/max78002.cfg -c "program <elf> verify reset exit"
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runStep, type RunResult, type ToolRunHooks } from '../run-process.ts';
import { createOpenocdProgress } from '../tools/openocd.ts';
import { ToolchainError } from '../toolchain-error.ts';
import { assertFlowAllowed } from './synthesis-record.ts';

export interface FlashStepOptions extends ToolRunHooks {
  projectDir: string;
  elf: string;
  openocd: string;
  scriptsDir?: string;
  interfaceConfig?: string;
  /** Default target/max78002.cfg. */
  targetConfig?: string;
  /** Pick one adapter when several are connected. */
  adapterSerial?: string;
}

/** A path inside an OpenOCD Tcl command: forward slashes, braced so spaces survive. */
function tclPath(p: string): string {
  return `{${p.replace(/\\/g, '/')}}`;
}

export function openocdArgs(o: FlashStepOptions): string[] {
  return [
    ...(o.scriptsDir ? ['-s', o.scriptsDir] : []),
    '-f', o.interfaceConfig ?? 'interface/cmsis-dap.cfg',
    ...(o.adapterSerial ? ['-c', `adapter serial ${o.adapterSerial}`] : []),
    '-f', o.targetConfig ?? 'target/max78002.cfg',
    '-c', `program ${tclPath(o.elf)} verify reset exit`,
  ];
}

export async function runFlash(o: FlashStepOptions): Promise<RunResult> {
  await assertFlowAllowed(o.projectDir);
  if (!existsSync(o.elf)) {
    throw new ToolchainError({ tool: 'openocd', reason: 'bad-input', message: `The firmware ${o.elf} does not exist.`, fix: 'Build the project first.' });
  }
  const target = o.targetConfig ?? 'target/max78002.cfg';
  if (o.scriptsDir && existsSync(o.scriptsDir) && !existsSync(join(o.scriptsDir, target))) {
    throw new ToolchainError({
      tool: 'openocd', reason: 'openocd-config-missing', message: `OpenOCD scripts folder ${o.scriptsDir} has no ${target}.`,
      fix: 'Use ADI\'s OpenOCD from the MSDK (Tools/OpenOCD) and set Settings → OpenOCD scripts to its scripts folder; stock OpenOCD builds have no MAX78002 target.',
    });
  }
  const run = await runStep(o, 120_000, {
    tool: 'openocd',
    file: o.openocd,
    args: openocdArgs(o),
    cwd: o.projectDir,
    progress: createOpenocdProgress(),
  });
  // OpenOCD can exit 0 after a failed verify in some builds; the banner is the proof.
  if (!run.lines.some((l) => /\*\* Verified OK \*\*|verified \d+ bytes/i.test(l))) {
    throw new ToolchainError({ tool: 'openocd', reason: 'program-failed', exitCode: run.exitCode, tail: run.lines.slice(-30), message: 'OpenOCD finished without reporting a verified image.', fix: 'Retry; if it repeats, mass-erase the part and flash again.' });
  }
  o.onProgress?.({ phase: 'flash', fraction: 1, message: 'Flashed and verified' });
  return run;
}
