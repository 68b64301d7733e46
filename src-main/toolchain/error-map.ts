// Turns a failed tool run (exit code + output lines) into a plain-words diagnosis with a fix.
// Patterns follow the message forms the tools print (max78002.md §2.3, §3, §7, §8); anything
// unrecognised falls back to the tool's own last error line, never to "exit code 1" alone.
import type { ToolName, ToolchainErrorInit, ToolchainReason } from './toolchain-error.ts';

interface Diagnosis {
  reason: ToolchainReason;
  message: string;
  fix: string;
  file?: string;
  line?: number;
  column?: number;
}

interface Rule {
  tools: readonly ToolName[];
  pattern: RegExp;
  /** `after` holds the output lines that follow the matching one (for multi-line messages). */
  diagnose(m: RegExpMatchArray, after: readonly string[]): Diagnosis;
}

const IZER: readonly ToolName[] = ['ai8xize', 'python'];
const MAKE: readonly ToolName[] = ['make', 'gcc'];
const OCD: readonly ToolName[] = ['openocd'];

// Order matters: the first rule matching any line wins, so specific rules come before generic ones.
const RULES: Rule[] = [
  {
    tools: IZER,
    pattern: /contains 1-dimensional weights for `?([\w.-]+)`?.*?(?:Ensure the BatchNorm layers have been folded)?/,
    diagnose: (m) => ({
      reason: 'bn-not-folded',
      message: `The checkpoint still has an unfolded BatchNorm layer (${m[1]}); the izer only accepts BatchNorm folded into the convolution.`,
      fix: 'Export the QAT checkpoint (BatchNorm is folded when QAT starts), or fold BatchNorm before quantizing (batchnormfuser.py for a model trained without QAT).',
    }),
  },
  {
    tools: IZER,
    pattern: /Layer (\d+)\b.*?(\d+) (?:input )?channels?.*enabled processor map (0x[0-9a-fA-F_.]+) has (\d+) bits instead of the expected number of (\d+)/,
    diagnose: (m) => ({
      reason: 'processor-count',
      message: `Layer ${m[1]} has ${m[2]} input channels, but its processor map ${m[3]} enables ${m[4]} processors instead of ${m[5]}.`,
      fix: `Set ${m[5]} processor bits for layer ${m[1]} (one per input channel up to 64; for more, ceil(C/passes) rounded up to a multiple of 4; a flatten layer counts the channels before flattening). Re-plan the model so the YAML and the network agree.`,
    }),
  },
  {
    tools: IZER,
    pattern: /enabled processor map (0x[0-9a-fA-F_.]+) has (\d+) bits instead of the expected number of (\d+)/,
    diagnose: (m) => ({
      reason: 'processor-count',
      message: `A layer's processor map ${m[1]} enables ${m[2]} processors instead of the expected ${m[3]}.`,
      fix: `Give that layer exactly ${m[3]} processor bits; re-plan the model so the YAML and the network agree.`,
    }),
  },
  {
    tools: IZER,
    pattern: /(?:Layer (\d+)\b.*)?exceeds data memory instance size(?: of (\d+))?/,
    diagnose: (m) => ({
      reason: 'data-memory-overflow',
      message: `${m[1] ? `Layer ${m[1]}'s data` : 'A layer\'s data'} does not fit in one data-memory instance${m[2] ? ` (${m[2]} bytes)` : ''}.`,
      fix: 'Reduce the feature map (pool earlier or use fewer positions), or move its offset so offset + H·W·passes·4 bytes stays inside the instance (81,920 bytes on MAX78002).',
    }),
  },
  {
    tools: IZER,
    pattern: /(?:Layer (\d+)\b.*)?overwriting (?:its )?input/i,
    diagnose: (m) => ({
      reason: 'overwriting-input',
      message: `${m[1] ? `Layer ${m[1]}` : 'A layer'} writes its output over input data it has not read yet.`,
      fix: 'Alternate out_offset between 0 and half the instance (0xA000 on MAX78002, 0x4000 on MAX78000) from layer to layer.',
    }),
  },
  {
    tools: IZER,
    pattern: /Network architecture of configuration file \(([^)]*)\) does not match .*?\(([^)]*)\)/,
    diagnose: (m) => ({
      reason: 'arch-mismatch',
      message: `The network YAML says arch "${m[1]}" but the checkpoint was saved for "${m[2]}".`,
      fix: 'Use the YAML exported with this checkpoint, or set the YAML arch to the checkpoint\'s arch if the layers really match.',
    }),
  },
  {
    tools: IZER,
    pattern: /flatten.*exceeds supported input dimensions(?: \(([^)]*)\))?/i,
    diagnose: (m) => ({
      reason: 'flatten-limit',
      message: `The flatten layer's input is too large for the accelerator${m[1] ? ` (${m[1]})` : ''}: at most 256 positions (H·W) and 16,384 values (C·H·W).`,
      fix: 'Pool down to 256 positions or fewer before the first Linear layer, and keep it at 1,024 features or fewer.',
    }),
  },
  {
    tools: IZER,
    pattern: /^(?:ERROR: )?(?:Layer (\d+)\b.*?: )?Kernel memory exhausted at processor (\d+)/,
    diagnose: (m) => ({
      reason: 'weight-memory-overflow',
      message: `${m[1] ? `Layer ${m[1]}'s weights do not fit` : 'The weights do not fit'}: kernel memory is full at processor ${m[2]}.`,
      fix: 'Make the network smaller (fewer channels, 1x1 instead of 3x3 kernels) or quantize large layers to 4, 2 or 1 bits; the Model step shows the weight memory each layer needs.',
    }),
  },
  {
    tools: IZER,
    pattern: /^yaml\.(?:parser|scanner|composer|constructor)\.\w+Error: (.*)$/,
    diagnose: (m, after) => {
      // PyYAML prints the context, then `in "<file>", line L, column C` marks and the problem.
      const marks = after.slice(0, 6).map((l) => l.match(/^\s*in "(.+)", line (\d+), column (\d+)/)).filter((x) => x !== null);
      const last = marks.at(-1);
      const problem = after.slice(0, 6).find((l) => l.trim() && !/^\s*in "/.test(l))?.trim();
      return {
        reason: 'yaml-syntax',
        message: `The network YAML is not valid YAML${last ? ` at line ${last[2]}, column ${last[3]}` : ''}: ${m[1]}${problem ? `; ${problem}` : ''}.`,
        fix: 'Correct the file at that line, or export the YAML again from the workbench.',
        ...(last ? { file: last[1], line: Number(last[2]), column: Number(last[3]) } : {}),
      };
    },
  },
  {
    tools: IZER,
    pattern: /Number of layers in the YAML configuration file \((\d+)\) does not match the checkpoint file \((\d+)\)/,
    diagnose: (m) => ({
      reason: 'layer-count',
      message: `The network YAML has ${m[1]} layers with weights but the checkpoint has ${m[2]}.`,
      fix: 'Use the YAML exported together with this checkpoint (export both again from the same trained model).',
    }),
  },
  {
    tools: IZER,
    pattern: /Configuration file (\S+) contains unknown key\(s\)(?: for `(\w+)`)?: \{(.*)\}/,
    diagnose: (m) => {
      const keys = m[3]!.replace(/'/g, '');
      return {
        reason: 'yaml-config',
        message: `The network YAML has a key ai8xize.py does not know: ${keys}${m[2] ? ` (in ${m[2]})` : ''}.`,
        fix: 'Remove or rename it (the ai8x-synthesis README, "Network Loader Configuration Language", lists the keys), or export the YAML again.',
        file: m[1],
      };
    },
  },
  {
    tools: IZER,
    pattern: /^(?:ERROR: )?(.*?) \(found in layer sequence (\d+) in YAML configuration\)/,
    diagnose: (m) => ({
      reason: 'yaml-config',
      message: `The network YAML is refused at layer ${m[2]}: ${m[1]}.`,
      fix: 'Correct that layer in the YAML (the ai8x-synthesis README, "Network Loader Configuration Language", lists the allowed values), or export the YAML again.',
    }),
  },
  {
    tools: IZER,
    pattern: /(?:ModuleNotFoundError|ImportError): No module named '([\w.]+)'/,
    diagnose: (m) => ({
      reason: 'python-module-missing',
      message: `The Python used for ai8x-synthesis cannot import "${m[1]}".`,
      fix: 'Point Settings → Python at the ai8x-synthesis virtual environment (e.g. <izer>/venv/bin/python), or install its requirements there: pip install -r requirements.txt.',
    }),
  },
  {
    tools: IZER,
    pattern: /one of the arguments --ai85 --device is required/,
    diagnose: () => ({
      reason: 'izer-error',
      message: 'The izer was started without a device.',
      fix: 'Pass --device MAX78002 (the workbench does this; check a custom argument list).',
    }),
  },
  {
    tools: IZER,
    pattern: /^(?:ERROR|\w*Error)\b.*(?:sample|input).*(?:int64|dtype|\[-128, ?127\])/i,
    diagnose: () => ({
      reason: 'sample-input',
      message: 'The izer refused the sample input.',
      fix: 'The sample .npy must be int64, channel-first without a batch dimension, with values in [-128, 127]; re-export it.',
    }),
  },
  {
    tools: MAKE,
    pattern: /^(.+?):(\d+):(?:(\d+):)? (?:fatal )?error: (.*)$/,
    diagnose: (m) => ({
      reason: 'compile-error',
      message: `Compile error: ${m[4]}.`,
      fix: 'Open the file at that line. If it is generated code (cnn.c, main.c, weights.h), re-synthesize; if it is the harness, report it with the log.',
      file: m[1],
      line: Number(m[2]),
      column: m[3] ? Number(m[3]) : undefined,
    }),
  },
  {
    tools: MAKE,
    pattern: /undefined reference to [`']([^'`]+)'/,
    diagnose: (m) => ({
      reason: 'link-error',
      message: `Link error: nothing defines "${m[1]}".`,
      fix: 'A source file is missing from the project (re-synthesize and re-add the harness), or the MSDK libraries do not match the target.',
    }),
  },
  {
    tools: MAKE,
    pattern: /(?:arm-none-eabi-gcc|arm-none-eabi-\w+): (?:Command not found|No such file or directory)|make: arm-none-eabi-\S+: (?:No such file|Command not found)/,
    diagnose: () => ({
      reason: 'compiler-missing',
      message: 'make cannot find arm-none-eabi-gcc.',
      fix: 'Install the Arm GNU toolchain (the MSDK ships it in Tools/GNUTools/10.3/bin) and set its folder in Settings → Arm GCC.',
    }),
  },
  {
    tools: MAKE,
    pattern: /MAXIM_PATH is not set|MAXIM_PATH.*(?:not defined|undefined)|(\S*Libraries\/\S+\.mk): No such file or directory/,
    diagnose: (m) => ({
      reason: 'maxim-path',
      message: m[1] ? `The MSDK build files were not found (${m[1]}).` : 'MAXIM_PATH does not point at the MSDK.',
      fix: 'Set Settings → MSDK (MAXIM_PATH) to the MaximSDK folder (the one containing Libraries/ and Tools/).',
    }),
  },
  {
    tools: OCD,
    pattern: /unable to find a matching CMSIS-DAP device|No CMSIS-DAP device found|unable to open CMSIS-DAP device/i,
    diagnose: () => ({
      reason: 'adapter-not-found',
      message: 'No CMSIS-DAP debug adapter was found.',
      fix: 'Connect the MAX32625 PICO (or the EV kit\'s debug USB) to this computer and to the SWD header JH8; check the cable is a data cable. On Linux, allow the device in udev rules if it is present but not found.',
    }),
  },
  {
    tools: OCD,
    pattern: /LIBUSB_ERROR_ACCESS|could not open device.*permission|Permission denied/i,
    diagnose: () => ({
      reason: 'usb-permission',
      message: 'The debug adapter is present but this user may not open it.',
      fix: 'Add a udev rule for the adapter (or run as a user in the plugdev group), then replug it.',
    }),
  },
  {
    tools: OCD,
    pattern: /LIBUSB_ERROR_BUSY|Resource busy|couldn't bind \S+ to socket|Address already in use/i,
    diagnose: () => ({
      reason: 'adapter-busy',
      message: 'The adapter or OpenOCD\'s port is in use by another program.',
      fix: 'Close other debuggers or OpenOCD instances (an IDE debug session, another flash), then retry.',
    }),
  },
  {
    tools: OCD,
    pattern: /cannot read IDR/i,
    diagnose: () => ({
      reason: 'cannot-read-idr',
      message: 'The adapter is connected but the chip does not answer on SWD ("cannot read IDR").',
      fix: 'Check the board is powered and RSTN is wired (custom boards); if the firmware sleeps, press reset and flash within the 2-second boot window, or mass-erase the part.',
    }),
  },
  {
    tools: OCD,
    pattern: /Target not examined yet/i,
    diagnose: () => ({
      reason: 'target-not-examined',
      message: 'OpenOCD could not examine the target CPU.',
      fix: 'Press reset on the board and retry within the 2-second boot window; check SWD wiring and that the PICO does not back-power the board.',
    }),
  },
  {
    tools: OCD,
    pattern: /Can't find (\S+\.cfg)/,
    diagnose: (m) => ({
      reason: 'openocd-config-missing',
      message: `OpenOCD has no script ${m[1]}.`,
      fix: 'Use ADI\'s OpenOCD from the MSDK (Tools/OpenOCD) and set Settings → OpenOCD scripts to its scripts folder; stock OpenOCD builds have no MAX78002 target.',
    }),
  },
  {
    tools: OCD,
    pattern: /couldn't open (\S+)|Programming Failed|Verify Failed|checksum mismatch/i,
    diagnose: (m) => ({
      reason: 'program-failed',
      message: m[1] ? `OpenOCD could not open the firmware file ${m[1]}.` : 'Programming or verification of the firmware failed.',
      fix: m[1] ? 'Build the firmware first (the ELF must exist).' : 'Retry; if it repeats, mass-erase the part and flash again.',
    }),
  },
];

const GENERIC_ERROR_LINE = /^(?:ERROR|Error|error)\b[: ]|^\w*(?:Error|Exception): /;

/** Diagnoses a failed run from its output; always returns something a person can act on. */
export function diagnoseFailure(tool: ToolName, lines: readonly string[], exitCode: number | null): ToolchainErrorInit {
  for (const rule of RULES) {
    if (!rule.tools.includes(tool)) continue;
    for (let i = 0; i < lines.length; i++) {
      const m = lines[i]!.match(rule.pattern);
      if (m) return { tool, exitCode, evidence: lines[i]!.trim(), tail: tail(lines), ...rule.diagnose(m, lines.slice(i + 1)) };
    }
  }
  const last = [...lines].reverse().find((l) => GENERIC_ERROR_LINE.test(l.trim()));
  return {
    tool,
    exitCode,
    reason: tool === 'make' ? 'make-error' : tool === 'ai8xize' ? 'izer-error' : 'exit',
    message: last ? `${tool} failed: ${last.trim()}` : `${tool} stopped with exit code ${exitCode}.`,
    fix: 'Read the log lines above the error; run Doctor to check the tool setup.',
    evidence: last?.trim(),
    tail: tail(lines),
  };
}

/** Non-fatal findings worth showing even when the tool succeeded (e.g. all-zero weights). */
export function scanWarnings(tool: ToolName, lines: readonly string[]): { reason: ToolchainReason; message: string; fix: string }[] {
  if (!IZER.includes(tool)) return [];
  const out: { reason: ToolchainReason; message: string; fix: string }[] = [];
  for (const line of lines) {
    const m = line.match(/All weights for `?([\w.-]+)`? are zero/);
    if (m) {
      out.push({
        reason: 'zero-weights',
        message: `All weights of ${m[1]} are zero after the izer's integer cast.`,
        fix: 'The checkpoint is probably not quantized (float weights cast to 0). Export the quantized checkpoint.',
      });
    }
  }
  return out;
}

export function tail(lines: readonly string[], n = 30): string[] {
  return lines.slice(Math.max(0, lines.length - n));
}
