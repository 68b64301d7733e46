// NumPy .npy reader and writer (format versions 1, 2, 3), for the sample input the izer reads
// (`--sample-input`) and for the conformance fixtures. Only what our arrays need: little-endian,
// C order, plain numeric dtypes. Everything else (object arrays, Fortran order, big-endian,
// structured dtypes) is refused with a FormatError rather than guessed at, because a silently
// misread sample makes the device check fail far from the cause.
import { FormatError, describe } from './format-error.ts';

export type NpyDtype = 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'bool';

export interface NdArray {
  dtype: NpyDtype;
  shape: number[];
  /** Elements in C order; `bool` is stored as Uint8Array of 0/1. */
  data: Int8Array | Uint8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
}

interface DtypeInfo { kind: string; size: number }
/** Our dtype ↔ numpy kind letter + item size (descr without the byte-order character). */
export const DTYPES: Record<NpyDtype, DtypeInfo> = {
  int8: { kind: 'i', size: 1 },
  uint8: { kind: 'u', size: 1 },
  int16: { kind: 'i', size: 2 },
  int32: { kind: 'i', size: 4 },
  int64: { kind: 'i', size: 8 },
  float32: { kind: 'f', size: 4 },
  float64: { kind: 'f', size: 8 },
  bool: { kind: 'b', size: 1 },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ACCEPTED = '|i1, |u1, |b1, <i2, <i4, <i8, <f4, <f8';

/** Typed array constructor for a dtype (bool → Uint8Array). */
export function arrayFor(dtype: NpyDtype, n: number): NdArray['data'] {
  switch (dtype) {
    case 'int8': return new Int8Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'int32': return new Int32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
  }
}

/**
 * Elements of `bytes` (little-endian) as a typed array of `dtype`. Copies, so the result never
 * aliases the input and is aligned whatever the byte offset (typed arrays need aligned offsets).
 */
export function fromLittleEndian(dtype: NpyDtype, bytes: Uint8Array): NdArray['data'] {
  const size = DTYPES[dtype].size;
  const out = arrayFor(dtype, Math.floor(bytes.length / size));
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * size));
  return out; // every platform we run on (x64, arm64) is little-endian
}

/** Number of elements of a shape, or -1 if a dimension is invalid or the product is unsafe. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return -1;
    n *= d;
    if (!Number.isSafeInteger(n)) return -1;
  }
  return n;
}

export function readNpy(bytes: Uint8Array, file = 'array.npy'): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new FormatError(file, 'magic', 'the NumPy magic \\x93NUMPY', bytes.length < 10 ? `${bytes.length} bytes` : 'other bytes');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new FormatError(file, 'header_len', 'a 4-byte header length', `${bytes.length} bytes in file`);
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    throw new FormatError(file, 'version', 'format version 1, 2 or 3', `${major}.${bytes[7]}`);
  }
  if (start + headerLen > bytes.length) {
    throw new FormatError(file, 'header', `${headerLen} header bytes`, `only ${bytes.length - start} bytes left`);
  }
  // v1/v2 headers are latin-1, v3 UTF-8; the keys we accept are ASCII either way.
  const text = major === 3
    ? new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(start, start + headerLen))
    : new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const header = parseHeader(text, file);
  const dtype = parseDescr(header.get('descr'), file);
  const fortran = header.get('fortran_order');
  if (fortran !== false && fortran !== true) {
    throw new FormatError(file, 'header.fortran_order', 'True or False', describe(fortran));
  }
  const shapeV = header.get('shape');
  if (!Array.isArray(shapeV) || !shapeV.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(file, 'header.shape', 'a tuple of non-negative integers', describe(shapeV));
  }
  const shape = shapeV as number[];
  const n = shapeSize(shape);
  const dataStart = start + headerLen;
  const want = n < 0 ? -1 : n * DTYPES[dtype].size;
  const have = bytes.length - dataStart;
  if (want < 0 || want !== have) {
    throw new FormatError(file, 'data', `${want} data bytes for shape (${shape.join(', ')}) of ${dtype}`,
      `${have} bytes${have < want ? ', truncated' : ''}`);
  }
  const data = fromLittleEndian(dtype, bytes.subarray(dataStart));
  // ai8xize.py saves a known answer with spatial extent (C, H, W) in Fortran order; callers always
  // get C order.
  return { dtype, shape, data: fortran && shape.length > 1 ? fortranToC(data, shape) : data };
}

/** Reorders column-major (first index fastest) data into row-major (last index fastest). */
function fortranToC<T extends NdArray['data']>(src: T, shape: readonly number[]): T {
  const out = src.slice() as T;
  const n = src.length;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  // Walk C order; keep the Fortran offset of the same index alongside.
  const fStride = new Array<number>(rank);
  fStride[0] = 1;
  for (let d = 1; d < rank; d++) fStride[d] = fStride[d - 1]! * shape[d - 1]!;
  let f = 0;
  for (let c = 0; c < n; c++) {
    (out as unknown as number[])[c] = (src as unknown as number[])[f]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      f += fStride[d]!;
      if (idx[d]! < shape[d]!) break;
      f -= fStride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

function parseDescr(descr: unknown, file: string): NpyDtype {
  if (typeof descr !== 'string') {
    throw new FormatError(file, 'header.descr', `one of ${ACCEPTED}`, describe(descr));
  }
  const order = descr[0]!;
  const kind = descr[1]!;
  const size = Number(descr.slice(2));
  const found = (Object.keys(DTYPES) as NpyDtype[]).find((k) => DTYPES[k].kind === kind && DTYPES[k].size === size);
  // Byte order is irrelevant for 1-byte items; multi-byte items must be little-endian.
  const orderOk = size === 1 ? '|<>='.includes(order) : order === '<';
  if (!found || !orderOk) {
    const why = kind === 'O' ? 'object/pickled arrays are not read' : order === '>' ? 'big-endian' : undefined;
    throw new FormatError(file, 'header.descr', `one of ${ACCEPTED}`, `'${descr}'${why ? `, ${why}` : ''}`);
  }
  return found;
}

type Lit = string | number | boolean | null | Lit[] | Map<string, Lit>;

/**
 * The header is a Python dict literal, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`.
 * A tiny literal parser (strings, ints, True/False/None, tuples/lists, dicts) — never eval.
 */
function parseHeader(text: string, file: string): Map<string, Lit> {
  let i = 0;
  const fail = (what: string): never => {
    throw new FormatError(file, 'header', 'a Python dict literal with descr, fortran_order, shape', `${what} at ${i}: ${describe(text.slice(0, 60))}`);
  };
  const ws = () => { while (i < text.length && /\s/.test(text[i]!)) i++; };
  const value = (depth: number): Lit => {
    if (depth > 8) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      i++;
      const items: Lit[] = [];
      for (;;) {
        ws();
        if (text[i] === close) { i++; return items; }
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected , or ${close}`);
      }
    }
    if (c === '{') {
      i++;
      const m = new Map<string, Lit>();
      for (;;) {
        ws();
        if (text[i] === '}') { i++; return m; }
        const k = value(depth + 1);
        if (typeof k !== 'string') fail('non-string key');
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        m.set(k as string, value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail('expected , or }');
      }
    }
    const m = /^(-?\d+)L?|^(True|False|None)/.exec(text.slice(i, i + 32));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
  };
  const v = value(0);
  ws();
  if (!(v instanceof Map)) fail('not a dict');
  if (i !== text.length) fail('trailing characters');
  return v as Map<string, Lit>;
}

/** .npy bytes (format 1.0, or 2.0 if the header outgrows 64 KiB), header padded to 64 bytes as numpy does. */
export function writeNpy(a: NdArray): Uint8Array {
  const n = shapeSize(a.shape);
  if (n < 0 || n !== a.data.length) {
    throw new FormatError('array.npy', 'shape', `a shape whose product equals ${a.data.length} elements`, `(${a.shape.join(', ')})`);
  }
  const { kind, size } = DTYPES[a.dtype];
  const descr = `${size === 1 ? '|' : '<'}${kind}${size}`;
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const version = dict.length + 11 > 65535 ? 2 : 1;
  const pre = version === 1 ? 10 : 12;
  // numpy pads with spaces so the data starts at a multiple of 64 and ends the header with \n.
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict += ' '.repeat(total - pre - dict.length - 1) + '\n';
  const out = new Uint8Array(total + n * size);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let k = 0; k < dict.length; k++) out[pre + k] = dict.charCodeAt(k);
  out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, n * size), total);
  return out;
}

/** Elements as plain numbers (int64 checked to be exactly representable). */
export function toNumbers(a: NdArray, file = 'array.npy'): Float64Array | number[] {
  if (a.data instanceof BigInt64Array) {
    const out: number[] = new Array(a.data.length);
    for (let k = 0; k < a.data.length; k++) {
      const v = a.data[k]!;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new FormatError(file, `data[${k}]`, 'an int64 within ±2^53', `${v}`);
      }
      out[k] = Number(v);
    }
    return out;
  }
  return Float64Array.from(a.data as ArrayLike<number>);
}
