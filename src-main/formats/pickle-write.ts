// A minimal pickle writer (protocol 2) for what torch.save needs to say: dicts, OrderedDicts,
// tensors as REDUCE calls on persistent storages, scalars and strings. Python distinguishes
// int/float and list/tuple where JS does not, so those are explicit wrapper classes. No memo:
// our objects are trees, and PyTorch's unpickler (weights_only or not) does not need one.

export class PyTuple { constructor(readonly items: PyValue[]) {} }
/** A float even when the value is integral (JS integers are written as Python int). */
export class PyFloat { constructor(readonly value: number) {} }
export class PyGlobalRef { constructor(readonly module: string, readonly name: string) {} }
/** `fn(*args)`, then optionally `obj[k] = v` for each item (how OrderedDict is pickled). */
export class PyCall {
  constructor(readonly fn: PyGlobalRef, readonly args: PyTuple, readonly items?: [PyValue, PyValue][]) {}
}
/** A persistent id: the unpickler's persistent_load resolves it (torch: a storage). */
export class PyPersistent { constructor(readonly id: PyValue) {} }

export type PyValue =
  | null | boolean | number | bigint | string
  | PyValue[] | Map<PyValue, PyValue>
  | PyTuple | PyFloat | PyGlobalRef | PyCall | PyPersistent;

class Out {
  private buf = new Uint8Array(256);
  length = 0;
  private grow(n: number) {
    if (this.length + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    b.set(this.buf.subarray(0, this.length));
    this.buf = b;
  }
  byte(...v: number[]) { this.grow(v.length); for (const x of v) this.buf[this.length++] = x; }
  bytes(b: Uint8Array) { this.grow(b.length); this.buf.set(b, this.length); this.length += b.length; }
  u32(v: number) { this.byte(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255); }
  result() { return this.buf.slice(0, this.length); }
}

const enc = new TextEncoder();
const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, TRUE: 0x88, FALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47, BINUNICODE: 0x58,
  EMPTY_DICT: 0x7d, SETITEMS: 0x75, EMPTY_LIST: 0x5d, APPENDS: 0x65, EMPTY_TUPLE: 0x29, TUPLE: 0x74,
  GLOBAL: 0x63, REDUCE: 0x52, BINPERSID: 0x51,
} as const;

/** Pickle `value` with protocol 2. */
export function writePickle(value: PyValue): Uint8Array {
  const o = new Out();
  o.byte(OP.PROTO, 2);
  write(o, value, 0);
  o.byte(OP.STOP);
  return o.result();
}

function write(o: Out, v: PyValue, depth: number): void {
  if (depth > 200) throw new Error('pickle-write: nesting deeper than 200 (cyclic value?)');
  if (v === null) o.byte(OP.NONE);
  else if (v === true) o.byte(OP.TRUE);
  else if (v === false) o.byte(OP.FALSE);
  else if (typeof v === 'number') {
    if (Number.isInteger(v) && Number.isSafeInteger(v)) writeInt(o, BigInt(v));
    else writeFloat(o, v);
  } else if (typeof v === 'bigint') writeInt(o, v);
  else if (typeof v === 'string') {
    const b = enc.encode(v);
    o.byte(OP.BINUNICODE);
    o.u32(b.length);
    o.bytes(b);
  } else if (v instanceof PyFloat) writeFloat(o, v.value);
  else if (Array.isArray(v)) {
    o.byte(OP.EMPTY_LIST);
    if (v.length) { o.byte(OP.MARK); for (const x of v) write(o, x, depth + 1); o.byte(OP.APPENDS); }
  } else if (v instanceof Map) {
    o.byte(OP.EMPTY_DICT);
    writeItems(o, [...v], depth);
  } else if (v instanceof PyTuple) {
    if (!v.items.length) o.byte(OP.EMPTY_TUPLE);
    else { o.byte(OP.MARK); for (const x of v.items) write(o, x, depth + 1); o.byte(OP.TUPLE); }
  } else if (v instanceof PyGlobalRef) {
    o.byte(OP.GLOBAL);
    o.bytes(enc.encode(`${v.module}\n${v.name}\n`));
  } else if (v instanceof PyCall) {
    write(o, v.fn, depth + 1);
    write(o, v.args, depth + 1);
    o.byte(OP.REDUCE);
    if (v.items) writeItems(o, v.items, depth);
  } else if (v instanceof PyPersistent) {
    write(o, v.id, depth + 1);
    o.byte(OP.BINPERSID);
  } else {
    throw new Error(`pickle-write: unsupported value ${String(v)}`);
  }
}

function writeItems(o: Out, items: [PyValue, PyValue][], depth: number) {
  if (!items.length) return;
  // SETITEMS batches of 1000 as CPython does, keeping the unpickler's stack small.
  for (let k = 0; k < items.length; k += 1000) {
    o.byte(OP.MARK);
    for (const [key, val] of items.slice(k, k + 1000)) { write(o, key, depth + 1); write(o, val, depth + 1); }
    o.byte(OP.SETITEMS);
  }
}

function writeInt(o: Out, v: bigint) {
  if (v >= 0n && v < 256n) o.byte(OP.BININT1, Number(v));
  else if (v >= 0n && v < 65536n) o.byte(OP.BININT2, Number(v) & 255, Number(v) >> 8);
  else if (v >= -(2n ** 31n) && v < 2n ** 31n) { o.byte(OP.BININT); o.u32(Number(v) >>> 0); }
  else {
    // LONG1: minimal two's complement little-endian.
    const bytes: number[] = [];
    let x = v;
    for (;;) {
      bytes.push(Number(x & 255n));
      x >>= 8n;
      const sign = bytes[bytes.length - 1]! & 0x80;
      if ((x === 0n && !sign) || (x === -1n && sign)) break;
    }
    o.byte(OP.LONG1, bytes.length, ...bytes);
  }
}

function writeFloat(o: Out, v: number) {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, false); // BINFLOAT is big-endian
  o.byte(OP.BINFLOAT);
  o.bytes(b);
}
