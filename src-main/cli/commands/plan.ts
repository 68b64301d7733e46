// `qatwb plan`: plans an existing ai8x model on a MAX7800x (processors, offsets, data, weight and
// bias memory as the toolchain counts them) and checks every hardware rule in plain words.
import { basename } from 'node:path';
import type { Command } from '../command.ts';
import { flag, optString, reqString, UsageError } from '../args.ts';
import { planModel } from '../../planner/plan.ts';
import { planDto } from '../../model/model.service.ts';
import { openAi8xModel, readSampleOrBatch } from '../../model/open-model.ts';
import { parseDevice } from './simulate.ts';
import type { NdArray } from '../../formats/npy.ts';

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
    const checkpointPath = reqString(args, 'checkpoint');
    const networkPath = reqString(args, 'network');
    const inputPath = optString(args, 'input');
    const dimsArg = optString(args, 'dims');
    const device = parseDevice(optString(args, 'device'));
    let dims: { inputDims?: number[] } = {};
    let sample: NdArray | undefined;
    if (inputPath) {
      ({ sample } = await readSampleOrBatch(inputPath, networkPath));
    } else if (dimsArg) {
      const inputDims = dimsArg.split(/[,x]/).map(Number);
      if (!inputDims.every((d) => Number.isInteger(d) && d > 0)) throw new UsageError(`--dims expects positive integers like 28,28, got "${dimsArg}".`);
      dims = { inputDims };
    }
    const { model, warnings } = await openAi8xModel({ checkpointPath, networkPath, ...(device ? { device } : {}), ...dims, ...(sample ? { sample, sampleName: basename(inputPath!) } : {}) });
    const plan = planModel(model, { ...(device ? { device } : {}), ...(flag(args, 'replace-placement') ? { replacePlacement: true } : {}) });
    const dto = planDto(plan);
    dto.warnings.unshift(...warnings);
    if (flag(args, 'json')) io.out(JSON.stringify(dto));
    else {
      io.out(`${model.arch} on ${plan.device}: weights ${plan.weightMemoryBytes.toLocaleString('en')} of ${plan.weightMemoryCapacity.toLocaleString('en')} bytes, bias ${plan.biasMemoryBytes} of ${plan.biasMemoryCapacity} bytes`);
      for (const l of plan.layers)
        io.out(`  ${String(l.index).padStart(3)} ${l.name.padEnd(12)} ${l.op.padEnd(15)} ${l.inChannels}->${l.outChannels} ${l.placement.processors} in 0x${l.placement.inOffset.toString(16)} out 0x${l.placement.outOffset.toString(16)} passes ${l.passes} data in/out ${l.inBytesPerInstance}/${l.outBytesPerInstance} B per instance, weights ${l.weightBytes} B, bias ${l.biasBytes} B`);
      for (const d of [...dto.errors, ...dto.warnings]) io.out(`${d.severity}: ${d.message}${d.fix ? `\n    Fix: ${d.fix}` : ''}`);
      if (!dto.errors.length) io.out('No device rule broken.');
    }
    return dto.errors.length ? 1 : 0;
  },
};
