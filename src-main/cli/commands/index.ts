// The list of qatwb subcommands; each is loaded only when used, so `qatwb --help` stays fast.
import type { Command } from '../command.ts';

export const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  serve: { summary: 'Serve the app to a browser on 127.0.0.1 (web mode).', load: () => import('./serve.ts') },
  simulate: { summary: 'Run the bit-exact MAX7800x simulator on an input.', load: () => import('./simulate.ts') },
  plan: { summary: 'Plan processors, offsets and memory; check the device rules.', load: () => import('./plan.ts') },
  import: { summary: 'Import a network (ONNX, ai8x YAML + checkpoint, model.json) as model.json.', load: () => import('./import.ts') },
  train: { summary: 'Train float then QAT, and export the izer-ready files.', load: () => import('./train.ts') },
  runs: { summary: 'List the training runs kept in a project; continue an interrupted one.', load: () => import('./runs.ts') },
  'virtual-device': { summary: 'Start a virtual MAX78002 on a pseudo-terminal.', load: () => import('./virtual-device.ts') },
  check: { summary: 'Live check: device vs simulator vs float, window by window.', load: () => import('./check.ts') },
  doctor: { summary: 'List the toolchain parts found and missing, with fixes.', load: () => import('./doctor.ts') },
  synthesize: { summary: 'Run ai8xize.py on exported artifacts and cross-check.', load: () => import('./synthesize.ts') },
  build: { summary: 'Build the synthesized firmware with make.', load: () => import('./build.ts') },
  sdk: { summary: 'Install or point at ai8x-synthesis (the network generator).', load: () => import('./sdk.ts') },
  flash: { summary: 'Flash the firmware with OpenOCD and confirm the known-answer test.', load: () => import('./flash.ts') },
};
