// `qatwb plan`: plans an existing ai8x model on a MAX7800x (processors, offsets, data, weight and
// bias memory as the toolchain counts them) and checks every hardware rule in plain words. The
// model service opens and plans it.
import type { Command } from '../command.ts';
import { flag, optString, UsageError } from '../args.ts';
import { withServices } from '../connect.ts';
import { modelArgs, openModel } from '../model-args.ts';

export const command: Command = {
  name: 'plan',
  summary: 'Plan processors, offsets and memory; check the device rules.',
  usage: [
    '  qatwb plan --checkpoint C.pth.tar --network N.yaml [--input X.npy | --dims H,W] [--device MAX78002]',
    '             [--replace-placement] [--json]',
    '',
    '  The input (sample .npy) fixes the input size; without it give --dims.',
    '  Exit code 1 when a device rule is broken.',
  ].join('\n'),
  options: ['checkpoint', 'network', 'input', 'dims', 'device'],
  booleans: ['replace-placement'],
  async run(args, io) {
    const m = modelArgs(args);
    const samplePath = optString(args, 'input');
    const dimsArg = optString(args, 'dims');
    let inputDims: number[] | undefined;
    if (!samplePath && dimsArg) {
      inputDims = dimsArg.split(/[,x]/).map(Number);
      if (!inputDims.every((d) => Number.isInteger(d) && d > 0)) throw new UsageError(`--dims expects positive integers like 28,28, got "${dimsArg}".`);
    }
    return withServices(['model'], {}, async ({ api }) => {
      const opened = await openModel(api.model, m, samplePath ? { samplePath } : inputDims ? { inputDims } : {});
      const plan = await api.model.plan({ modelId: opened.modelId, ...(m.device ? { device: m.device } : {}), ...(flag(args, 'replace-placement') ? { replacePlacement: true } : {}) });
      plan.warnings.unshift(...opened.warnings);
      if (flag(args, 'json')) io.out(JSON.stringify(plan));
      else {
        io.out(`${opened.model.arch} on ${plan.device}: weights ${plan.weightMemoryBytes.toLocaleString('en')} of ${plan.weightMemoryCapacity.toLocaleString('en')} bytes, bias ${plan.biasMemoryBytes} of ${plan.biasMemoryCapacity} bytes`);
        for (const l of plan.layers)
          io.out(`  ${String(l.index).padStart(3)} ${l.name.padEnd(12)} ${l.op.padEnd(15)} ${l.inChannels}->${l.outChannels} ${l.placement.processors} in 0x${l.placement.inOffset.toString(16)} out 0x${l.placement.outOffset.toString(16)} passes ${l.passes} data in/out ${l.inBytesPerInstance}/${l.outBytesPerInstance} B per instance, weights ${l.weightBytes} B, bias ${l.biasBytes} B`);
        for (const d of [...plan.errors, ...plan.warnings]) io.out(`${d.severity}: ${d.message}${d.fix ? `\n    Fix: ${d.fix}` : ''}`);
        if (!plan.errors.length) io.out('No device rule broken.');
      }
      return plan.errors.length ? 1 : 0;
    });
  },
};
