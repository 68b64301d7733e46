// What `qatwb plan` and `qatwb simulate` share: the options that name an existing ai8x model
// (checkpoint, network YAML, target device), and opening it in the model service (its worker reads
// and checks the files within the service's time and memory budget).
import type { Services } from '../api/index.ts';
import type { Device } from '../ir/graph.ts';
import { optString, reqString, UsageError, type ParsedArgs } from './args.ts';

export function parseDevice(v: string | undefined): Device | undefined {
  if (v === undefined) return undefined;
  const d = v.toUpperCase().replace(/^AI8([57])$/, (_m, x: string) => (x === '5' ? 'MAX78000' : 'MAX78002'));
  const map: Record<string, Device> = { MAX78000: 'MAX78000', MAX78002: 'MAX78002', '85': 'MAX78000', '87': 'MAX78002' };
  const dev = map[d];
  if (!dev) throw new UsageError(`--device expects MAX78000 or MAX78002, got "${v}".`);
  return dev;
}

export interface ModelArgs {
  checkpointPath: string;
  networkPath: string;
  device?: Device;
}

/** --checkpoint, --network and --device. */
export function modelArgs(args: ParsedArgs): ModelArgs {
  const checkpointPath = reqString(args, 'checkpoint');
  const networkPath = reqString(args, 'network');
  const device = parseDevice(optString(args, 'device'));
  return { checkpointPath, networkPath, ...(device ? { device } : {}) };
}

/** Opens the model in the service; the input (a sample or a batch) or dims fix its input size. */
export function openModel(model: Services['model'], m: ModelArgs, input: { samplePath?: string; inputDims?: number[] }) {
  return model.importAi8x({ ...m, ...input });
}
