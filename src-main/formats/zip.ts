// Zip archives as torch.save writes them (PyTorch's "zip file format", torch >= 1.6): every entry
// stored uncompressed, data descriptors after the data (so local headers may carry zero sizes),
// zip64 end records, and entry data aligned to 64 bytes with a padding extra field. The reader
// therefore trusts the central directory, not the local headers. Deflated entries are refused:
// torch.save never writes them, and a compressed .pth.tar means something else made the file.
import { crc32 } from './crc32.ts';
import { FormatError } from './format-error.ts';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

/** Bounds-checked little-endian reads that fail as FormatError instead of RangeError. */
class Bytes {
  readonly view: DataView;
  constructor(readonly b: Uint8Array, readonly file: string) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  need(at: number, n: number, field: string): void {
    if (at < 0 || at + n > this.b.length) {
      throw new FormatError(this.file, field, `${n} bytes at offset ${at}`, `file is ${this.b.length} bytes, truncated`);
    }
  }
  u16(at: number, field: string): number { this.need(at, 2, field); return this.view.getUint16(at, true); }
  u32(at: number, field: string): number { this.need(at, 4, field); return this.view.getUint32(at, true); }
  u64(at: number, field: string): number {
    this.need(at, 8, field);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(this.file, field, 'an offset below 2^53', `${v}`);
    return Number(v);
  }
}

/** Entries of a zip archive by name, in central-directory order; data are views into `bytes`. */
export function readZip(bytes: Uint8Array, file = 'archive.zip'): Map<string, Uint8Array> {
  const r = new Bytes(bytes, file);
  const eocd = findEocd(r);
  let count = r.u16(eocd + 10, 'end-of-central-directory.entries');
  let cdSize = r.u32(eocd + 12, 'end-of-central-directory.size');
  let cdOffset = r.u32(eocd + 16, 'end-of-central-directory.offset');
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // zip64: the real values are in the zip64 end record the locator (just before EOCD) points to.
    const loc = eocd - 20;
    if (loc < 0 || r.u32(loc, 'zip64-locator') !== SIG_ZIP64_LOCATOR) {
      throw new FormatError(file, 'zip64-locator', 'a zip64 end-of-central-directory locator', 'none');
    }
    const z = r.u64(loc + 8, 'zip64-locator.offset');
    if (r.u32(z, 'zip64-end-of-central-directory') !== SIG_ZIP64_EOCD) {
      throw new FormatError(file, 'zip64-end-of-central-directory', 'signature PK\\x06\\x06', 'other bytes');
    }
    count = r.u64(z + 32, 'zip64-end-of-central-directory.entries');
    cdSize = r.u64(z + 40, 'zip64-end-of-central-directory.size');
    cdOffset = r.u64(z + 48, 'zip64-end-of-central-directory.offset');
  }
  r.need(cdOffset, cdSize, 'central-directory');
  // Each central record is at least 46 bytes: a bogus count cannot make us loop past the bytes.
  if (count * 46 > cdSize) {
    throw new FormatError(file, 'end-of-central-directory.entries', `at most ${Math.floor(cdSize / 46)} entries in ${cdSize} bytes`, `${count}`);
  }
  const out = new Map<string, Uint8Array>();
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    const e = readCentral(r, p, k);
    p = e.next;
    if (out.has(e.name)) throw new FormatError(file, `entry ${e.name}`, 'unique entry names', 'a duplicate');
    out.set(e.name, e.data);
  }
  return out;
}

function findEocd(r: Bytes): number {
  // The EOCD record is 22 bytes plus a comment of up to 65535 bytes, at the very end.
  const min = Math.max(0, r.b.length - 22 - 0xffff);
  for (let p = r.b.length - 22; p >= min; p--) {
    if (r.view.getUint32(p, true) === SIG_EOCD) return p;
  }
  throw new FormatError(r.file, 'end-of-central-directory', 'a zip archive (PK\\x05\\x06 record at the end)',
    r.b.length < 22 ? `${r.b.length} bytes` : 'not found: not a zip archive or truncated');
}

function readCentral(r: Bytes, p: number, k: number): { name: string; data: Uint8Array; next: number } {
  const at = `central-directory[${k}]`;
  if (r.u32(p, at) !== SIG_CENTRAL) throw new FormatError(r.file, at, 'signature PK\\x01\\x02', 'other bytes');
  const flags = r.u16(p + 8, `${at}.flags`);
  const method = r.u16(p + 10, `${at}.method`);
  const crc = r.u32(p + 16, `${at}.crc32`);
  let csize = r.u32(p + 20, `${at}.compressed-size`);
  let usize = r.u32(p + 24, `${at}.size`);
  const nameLen = r.u16(p + 28, `${at}.name-length`);
  const extraLen = r.u16(p + 30, `${at}.extra-length`);
  const commentLen = r.u16(p + 32, `${at}.comment-length`);
  let local = r.u32(p + 42, `${at}.local-offset`);
  r.need(p + 46, nameLen + extraLen + commentLen, at);
  const name = new TextDecoder().decode(r.b.subarray(p + 46, p + 46 + nameLen));
  // zip64 extended information (id 1) holds, in this order, whichever fields overflowed.
  if (usize === 0xffffffff || csize === 0xffffffff || local === 0xffffffff) {
    let q = p + 46 + nameLen;
    const end = q + extraLen;
    while (q + 4 <= end) {
      const id = r.u16(q, `${name}.extra`);
      const len = r.u16(q + 2, `${name}.extra`);
      if (id === 1) {
        let f = q + 4;
        if (usize === 0xffffffff) { usize = r.u64(f, `${name}.zip64.size`); f += 8; }
        if (csize === 0xffffffff) { csize = r.u64(f, `${name}.zip64.compressed-size`); f += 8; }
        if (local === 0xffffffff) { local = r.u64(f, `${name}.zip64.local-offset`); f += 8; }
        break;
      }
      q += 4 + len;
    }
  }
  if (flags & 1) throw new FormatError(r.file, `${name}.flags`, 'an unencrypted entry', 'encrypted');
  if (method !== 0) {
    throw new FormatError(r.file, `${name}.method`, 'a stored (uncompressed) entry as torch.save writes',
      method === 8 ? 'deflated' : `method ${method}`);
  }
  if (csize !== usize) throw new FormatError(r.file, `${name}.size`, `stored size ${usize} = compressed size`, `${csize}`);
  if (r.u32(local, `${name}.local-header`) !== SIG_LOCAL) {
    throw new FormatError(r.file, `${name}.local-header`, `signature PK\\x03\\x04 at offset ${local}`, 'other bytes');
  }
  const start = local + 30 + r.u16(local + 26, `${name}.local-header`) + r.u16(local + 28, `${name}.local-header`);
  r.need(start, usize, `${name}.data`);
  const data = r.b.subarray(start, start + usize);
  const actual = crc32(data);
  if (actual !== crc) {
    throw new FormatError(r.file, `${name}.crc32`, `CRC-32 ${hex(crc)} from the central directory`, `${hex(actual)}: data corrupted`);
  }
  return { name, data, next: p + 46 + nameLen + extraLen + commentLen };
}

const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

/**
 * A stored (uncompressed) zip of `entries`, each entry's data starting at a multiple of `align`
 * bytes thanks to an extra field of padding (id 'FB', as PyTorch writes) so readers may mmap
 * tensors in place. No zip64: fine below 4 GiB, far beyond any MAX7800x checkpoint.
 */
export function writeZip(entries: readonly ZipEntry[], align = 64): Uint8Array {
  const enc = new TextEncoder();
  const names = entries.map((e) => enc.encode(e.name));
  const locals: { offset: number; pad: number; crc: number }[] = [];
  let size = 0;
  entries.forEach((e, k) => {
    const head = size + 30 + names[k]!.length;
    // The padding field itself needs 4 bytes (id + length), so pad to the next boundary past those.
    const pad = (align - ((head + 4) % align)) % align;
    locals.push({ offset: size, pad, crc: crc32(e.data) });
    size = head + 4 + pad + e.data.length;
  });
  const cdOffset = size;
  const cdSize = names.reduce((s, n) => s + 46 + n.length, 0);
  const total = cdOffset + cdSize + 22;
  if (entries.length > 0xffff) throw new FormatError('archive.zip', 'entries', 'at most 65535 entries (no zip64 writing)', `${entries.length}`);
  if (total > 0xfffffffe) throw new FormatError('archive.zip', 'size', 'an archive below 4 GiB (no zip64 writing)', `${total} bytes`);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  entries.forEach((e, k) => {
    const { offset, pad, crc } = locals[k]!;
    const n = names[k]!;
    v.setUint32(offset, SIG_LOCAL, true);
    v.setUint16(offset + 4, 20, true); // version needed: 2.0
    v.setUint32(offset + 14, crc, true);
    v.setUint32(offset + 18, e.data.length, true);
    v.setUint32(offset + 22, e.data.length, true);
    v.setUint16(offset + 26, n.length, true);
    v.setUint16(offset + 28, 4 + pad, true);
    out.set(n, offset + 30);
    const x = offset + 30 + n.length;
    v.setUint16(x, 0x4246, true); // 'FB'
    v.setUint16(x + 2, pad, true);
    out.fill(0x5a, x + 4, x + 4 + pad); // 'Z' filler, as PyTorch
    out.set(e.data, x + 4 + pad);
  });
  let p = cdOffset;
  entries.forEach((e, k) => {
    const { offset, crc } = locals[k]!;
    const n = names[k]!;
    v.setUint32(p, SIG_CENTRAL, true);
    v.setUint16(p + 4, 20, true);
    v.setUint16(p + 6, 20, true);
    v.setUint32(p + 16, crc, true);
    v.setUint32(p + 20, e.data.length, true);
    v.setUint32(p + 24, e.data.length, true);
    v.setUint16(p + 28, n.length, true);
    v.setUint32(p + 42, offset, true);
    out.set(n, p + 46);
    p += 46 + n.length;
  });
  v.setUint32(p, SIG_EOCD, true);
  v.setUint16(p + 8, entries.length, true);
  v.setUint16(p + 10, entries.length, true);
  v.setUint32(p + 12, cdSize, true);
  v.setUint32(p + 16, cdOffset, true);
  return out;
}
