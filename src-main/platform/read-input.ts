// Reads a user-named input file with a budget: the file is opened without blocking (a FIFO or a
// device does not hang the open), checked on the open handle to be a regular file no larger than
// the cap for its kind, then read exactly to its stat size. `/dev/zero` named as an .npy, a named
// pipe, or a 50 GB "checkpoint" is refused at once instead of growing memory until the process dies.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { ApiError } from '../api/contract.ts';

const MiB = 1 << 20;

/** Largest file each reader accepts. Generous for real MAX7800x work, far below what would hurt. */
export const INPUT_CAPS = {
  /** A quantized or float checkpoint (MAX78002 weight memory is ~2.3 MB; optimizer state adds more). */
  checkpoint: 256 * MiB,
  /** ai8x network YAML (a 128-layer one is tens of KB; the YAML parser needs ~seconds per MB). */
  yaml: MiB / 2,
  /** A sample input or expected output .npy, or device windows. */
  sample: 256 * MiB,
  /** A training data set (CSV text or an .npy pair member). */
  dataset: 768 * MiB,
  /** JSON side files (quantization.json, model.json, manifests). */
  json: 32 * MiB,
  /** A float ONNX model. */
  onnx: 256 * MiB,
} as const;
export type InputKind = keyof typeof INPUT_CAPS;

function mb(n: number): string {
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MB`;
  return n >= 1024 ? `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} KB` : `${n} bytes`;
}

/** The file's bytes, or an ApiError naming the path and `field` (not-found, io, invalid-data). */
export async function readInputFile(path: string, kind: InputKind, field: string = kind, cap: number = INPUT_CAPS[kind]): Promise<Uint8Array> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ApiError(code === 'ENOENT' ? 'not-found' : 'io', `${path}: cannot read the file (${code ?? (e as Error).message}).`, field);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const what = st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a named pipe' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';
      throw new ApiError('invalid-data', `${path}: expected a regular file (got ${what}).`, field);
    }
    if (st.size > cap) {
      throw new ApiError('invalid-data', `${path}: expected at most ${mb(cap)} for a ${kind} file (got ${mb(st.size)}).`, field);
    }
    const out = new Uint8Array(st.size);
    let at = 0;
    while (at < out.length) {
      const { bytesRead } = await fh.read(out, at, out.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    // A file that shrank while we read it is read as what is there; one that grows is cut at its
    // stat size, so the cap holds whatever the writer does.
    return at === out.length ? out : out.subarray(0, at);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ApiError('io', `${path}: cannot read the file (${code ?? (e as Error).message}).`, field);
  } finally {
    await fh.close();
  }
}

/** readInputFile as UTF-8 text. */
export async function readInputText(path: string, kind: InputKind, field?: string): Promise<string> {
  return new TextDecoder().decode(await readInputFile(path, kind, field));
}

/** A JSON side file, parse errors naming the file. */
export async function readInputJson(path: string, field = 'json'): Promise<unknown> {
  const text = await readInputText(path, 'json', field);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError('invalid-data', `${path}: expected valid JSON (${(e as Error).message}).`, field);
  }
}
