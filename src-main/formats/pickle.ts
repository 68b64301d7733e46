// A safe reader for the Python pickle subset torch.save emits (protocols 2-5): it builds plain JS
// values and never runs anything. Globals (`GLOBAL`/`STACK_GLOBAL`) resolve only through an
// allow-list of handlers supplied by the caller (torch tensors, OrderedDict, numpy scalars); any
// other global fails at the opcode that names it, before it could be called. Every read is bounds
// checked and every loop is bounded by the input length, so bad bytes give a FormatError, never a
// RangeError or a hang.
//
// Python → JS: None → null, bool → boolean, int → number (bigint beyond 2^53), float → number,
// str → string, bytes → Uint8Array, list and tuple → Array, dict → Map (keys may be ints),
// set/frozenset → Set.
import { FormatError, describe } from './format-error.ts';

/** What an allow-listed global does when the pickle calls it. Omitted methods are refused. */
export interface GlobalHandler {
  /** REDUCE: `callable(*args)`. */
  call?(args: unknown[]): unknown;
  /** NEWOBJ: `cls.__new__(cls, *args)`. */
  newobj?(args: unknown[]): unknown;
  /** BUILD: apply `state` to an object this handler created; returns the object. */
  build?(obj: unknown, state: unknown): unknown;
}

/** A reference to an allowed global, kept as a value (e.g. `optimizer_type = torch.optim.SGD`). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string, readonly handler: GlobalHandler) {}
  toString(): string { return `${this.module}.${this.name}`; }
}

export interface PickleOptions {
  /** Allowed globals by `module.name`; merged over the built-in ones (collections.OrderedDict, numpy scalars). */
  globals?: Record<string, GlobalHandler>;
  /** Globals allowed only as values (never called), matched on `module.name`. */
  references?: RegExp;
  /** Resolves BINPERSID/PERSID ids (torch: storages). Absent → persistent ids are refused. */
  persistentLoad?(pid: unknown): unknown;
  /** Name of the pickle inside `file` for error fields, e.g. `archive/data.pkl`. */
  entry?: string;
}

/** Objects created by a handler, so BUILD can find the handler that owns them. */
const owners = new WeakMap<object, GlobalHandler>();

const dictHandler: GlobalHandler = {
  call: (args) => {
    const m = new Map<unknown, unknown>();
    // OrderedDict(iterable of pairs): the only argument form pickle uses besides ().
    const src = args[0];
    if (Array.isArray(src)) for (const kv of src) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
    return m;
  },
  // state_dict() attaches `_metadata` (module versions) as instance state; we do not need it.
  build: (obj) => obj,
};

/** numpy dtypes by kind+size we turn into numbers when a numpy scalar is pickled. */
const NUMPY_SCALARS: Record<string, (v: DataView) => number | bigint | boolean> = {
  f8: (v) => v.getFloat64(0, true), f4: (v) => v.getFloat32(0, true),
  i8: (v) => v.getBigInt64(0, true), i4: (v) => v.getInt32(0, true), i2: (v) => v.getInt16(0, true),
  i1: (v) => v.getInt8(0), u1: (v) => v.getUint8(0), u2: (v) => v.getUint16(0, true),
  u4: (v) => v.getUint32(0, true), u8: (v) => v.getBigUint64(0, true), b1: (v) => v.getUint8(0) !== 0,
};
class NumpyDtype { constructor(readonly code: string, public order = '<') {} }
const numpyDtype: GlobalHandler = {
  call: ([code]) => new NumpyDtype(String(code)),
  build: (obj, state) => {
    if (obj instanceof NumpyDtype && Array.isArray(state) && typeof state[1] === 'string') obj.order = state[1];
    return obj;
  },
};
const numpyScalar: GlobalHandler = {
  call: ([dt, raw]) => {
    if (!(dt instanceof NumpyDtype) || !(raw instanceof Uint8Array)) throw new Error('numpy scalar: expected (dtype, bytes)');
    const read = Object.hasOwn(NUMPY_SCALARS, dt.code) ? NUMPY_SCALARS[dt.code] : undefined;
    if (!read || dt.order === '>') throw new Error(`numpy scalar of dtype ${dt.order}${dt.code} is not supported`);
    const v = read(new DataView(raw.buffer, raw.byteOffset, raw.byteLength));
    return typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
  },
};

/** Protocol 2 has no bytes opcode: Python 3 pickles bytes as `_codecs.encode(latin1_text, 'latin1')`. */
const codecsEncode: GlobalHandler = {
  call: ([text, encoding]) => {
    if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) throw new Error("_codecs.encode: expected (str, 'latin1')");
    const out = new Uint8Array(text.length);
    for (let k = 0; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c > 255) throw new Error('_codecs.encode: character beyond latin1');
      out[k] = c;
    }
    return out;
  },
};

/** Protocol 2 has no set opcodes: sets are `set([items])` (`__builtin__` under Python 2 names). */
const setHandler: GlobalHandler = { call: ([items]) => new Set(Array.isArray(items) ? items : []) };

const BUILTIN_GLOBALS: Record<string, GlobalHandler> = {
  'builtins.set': setHandler, '__builtin__.set': setHandler,
  'builtins.frozenset': setHandler, '__builtin__.frozenset': setHandler,
  'collections.OrderedDict': dictHandler,
  '_codecs.encode': codecsEncode,
  'numpy.dtype': numpyDtype,
  'numpy.core.multiarray.scalar': numpyScalar,
  'numpy._core.multiarray.scalar': numpyScalar,
};

const MARK = Symbol('mark');

/** Read one pickle from `bytes` (which must end at STOP). */
export function readPickle(bytes: Uint8Array, file = 'data.pkl', opts: PickleOptions = {}): unknown {
  const entry = opts.entry ?? 'pickle';
  const globals = { ...BUILTIN_GLOBALS, ...opts.globals };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opAt = 0;
  let opName = '';

  const fail = (expected: string, detail?: string): never => {
    throw new FormatError(file, `${entry}@${opAt}${opName ? ` (${opName})` : ''}`, expected, detail);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) fail(`${n} more bytes`, `pickle truncated at byte ${bytes.length}`);
  };
  const u8 = () => { need(1); return bytes[pos++]!; };
  const u16 = () => { need(2); const v = view.getUint16(pos, true); pos += 2; return v; };
  const i32 = () => { need(4); const v = view.getInt32(pos, true); pos += 4; return v; };
  const u32 = () => { need(4); const v = view.getUint32(pos, true); pos += 4; return v; };
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail('a length within the pickle', `${v}`);
    return Number(v);
  };
  const take = (n: number) => { need(n); const b = bytes.subarray(pos, pos + n); pos += n; return b; };
  const utf8 = (b: Uint8Array) => {
    try { return new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { return fail('UTF-8 text', 'invalid bytes'); }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('a newline-terminated argument', 'end of data');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('a value on the stack', 'empty stack');
    const v = stack.pop();
    if (v === MARK) fail('a value on the stack', 'a MARK');
    return v;
  };
  const top = (): unknown => {
    const v = stack[stack.length - 1];
    if (stack.length === 0 || v === MARK) fail('a value on the stack', 'empty stack');
    return v;
  };
  const popMark = (): unknown[] => {
    const k = stack.lastIndexOf(MARK);
    if (k < 0) fail('a MARK on the stack', 'none');
    const items = stack.splice(k);
    items.shift();
    return items;
  };
  const memoGet = (k: number) => {
    if (!memo.has(k)) fail(`memo key ${k} stored earlier`, 'missing');
    stack.push(memo.get(k));
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    const h = Object.hasOwn(globals, full) ? globals[full] : undefined;
    if (h) return new PyGlobal(module, name, h);
    if (opts.references?.test(full)) return new PyGlobal(module, name, {});
    return fail('an allowed global (tensors, storages, OrderedDict, numpy scalars)', `unknown global ${full}, not executed`);
  };
  const invoke = (kind: 'call' | 'newobj', callee: unknown, args: unknown): unknown => {
    if (!(callee instanceof PyGlobal)) return fail('a global to call', describe(callee));
    const fn = callee.handler[kind];
    if (!fn) return fail(`a callable allowed global`, `${kind} of ${callee} is not allowed`);
    if (!Array.isArray(args)) return fail('an argument tuple', describe(args));
    let out: unknown;
    try {
      out = fn(args);
    } catch (e) {
      if (e instanceof FormatError) throw e;
      return fail(`valid arguments for ${callee}`, e instanceof Error ? e.message : String(e));
    }
    if (out !== null && typeof out === 'object') owners.set(out, callee.handler);
    return out;
  };
  const setItems = (target: unknown, kv: unknown[]) => {
    if (!(target instanceof Map)) fail('a dict to set items on', describe(target));
    if (kv.length % 2) fail('key/value pairs', `${kv.length} items`);
    for (let k = 0; k < kv.length; k += 2) (target as Map<unknown, unknown>).set(kv[k], kv[k + 1]);
  };
  const int = (b: Uint8Array): number | bigint => {
    // Two's complement little-endian of any length (LONG1/LONG4).
    let v = 0n;
    for (let k = b.length - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]!);
    if (b.length && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  while (pos < bytes.length) {
    opAt = pos;
    const op = bytes[pos++]!;
    opName = OPNAMES[op] ?? `0x${op.toString(16)}`;
    switch (op) {
      case 0x80: { const p = u8(); if (p > 5) fail('protocol 2..5', `${p}`); break; } // PROTO
      case 0x95: u64(); break; // FRAME: framing is only a hint for buffered readers
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length) fail('an empty stack at STOP', `${stack.length} values left`);
        const shape = nesting(v, MAX_DEPTH);
        if (shape === 'cycle') fail('a value without cycles', 'a container that contains itself');
        if ((shape as number) > MAX_DEPTH) fail(`a nesting depth of at most ${MAX_DEPTH}`, `deeper than ${MAX_DEPTH}`);
        return v;
      }
      case 0x28: stack.push(MARK); break;
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(int(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4: only small ones; huge integers would cost quadratic time and mean nothing here
        const n = i32();
        if (n > 64) fail('an integer of at most 64 bytes', `${n} bytes`);
        stack.push(int(take(n)));
        break;
      }
      case 0x49: { // INT (text; protocol 0, also True/False as 01/00)
        const s = line();
        if (s === '01' || s === '00') stack.push(s === '01');
        else if (/^-?\d+$/.test(s)) stack.push(int64ish(s));
        else fail('a decimal integer', describe(s));
        break;
      }
      case 0x4c: { const s = line().replace(/L$/, ''); if (!/^-?\d+$/.test(s)) fail('a decimal integer', describe(s)); stack.push(int64ish(s)); break; }
      case 0x47: { need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; } // BINFLOAT (big-endian!)
      case 0x58: stack.push(utf8(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(utf8(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8(take(u64()))); break; // BINUNICODE8
      case 0x55: stack.push(new TextDecoder('latin1').decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x54: { const n = i32(); stack.push(new TextDecoder('latin1').decode(take(n))); break; } // BINSTRING
      case 0x43: stack.push(new Uint8Array(take(u8()))); break; // SHORT_BINBYTES (a copy: a Node Buffer's slice() would alias)
      case 0x42: stack.push(new Uint8Array(take(u32()))); break; // BINBYTES
      case 0x8e: case 0x96: stack.push(new Uint8Array(take(u64()))); break; // BINBYTES8, BYTEARRAY8
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const m = new Map(); setItems(m, popMark()); stack.push(m); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) fail('a list', describe(l)); (l as unknown[]).push(v); break; }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail('a list', describe(l));
        for (const v of items) (l as unknown[]).push(v);
        break;
      }
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break;
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; }
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; }
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { const items = popMark(); const s = top(); if (!(s instanceof Set)) fail('a set', describe(s)); for (const v of items) (s as Set<unknown>).add(v); break; }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x63: { const module = line(); stack.push(resolveGlobal(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name strings', describe([module, name]));
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); stack.push(invoke('call', pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); stack.push(invoke('newobj', pop(), args)); break; } // NEWOBJ
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        const h = obj !== null && typeof obj === 'object' ? owners.get(obj) : undefined;
        if (!h?.build) fail('an object of an allowed global that accepts state', describe(obj));
        stack[stack.length - 1] = h!.build!(obj, state);
        break;
      }
      case 0x51: case 0x50: { // BINPERSID, PERSID
        const pid = op === 0x51 ? pop() : line();
        if (!opts.persistentLoad) fail('no persistent ids (plain pickle)', describe(pid));
        try {
          stack.push(opts.persistentLoad!(pid));
        } catch (e) {
          if (e instanceof FormatError) throw e;
          fail('a valid persistent id', e instanceof Error ? e.message : String(e));
        }
        break;
      }
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: { const s = line(); if (!/^\d+$/.test(s)) fail('a memo index', describe(s)); memo.set(Number(s), top()); break; }
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: memoGet(u8()); break; // BINGET
      case 0x6a: memoGet(u32()); break; // LONG_BINGET
      case 0x67: { const s = line(); if (!/^\d+$/.test(s)) fail('a memo index', describe(s)); memoGet(Number(s)); break; }
      default:
        fail('a pickle opcode torch.save uses', OPNAMES[op] ? `${OPNAMES[op]} is not supported` : `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
  opAt = bytes.length;
  opName = '';
  return fail('a STOP opcode', 'pickle truncated');
}

/**
 * Containers nest a few levels in any real checkpoint; the memo lets a small pickle nest far deeper
 * (or share one list twice per level, or contain itself), and every later recursive walk of the
 * value (rendering, cloning to a worker) would then overflow or take exponential time.
 */
const MAX_DEPTH = 64;

function isContainer(v: unknown): boolean {
  return Array.isArray(v) || v instanceof Map || v instanceof Set;
}
function isEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : (v as Map<unknown, unknown> | Set<unknown>).size === 0;
}

function children(v: unknown): Iterable<unknown> | undefined {
  if (Array.isArray(v)) return v;
  if (v instanceof Map) return (function* () { for (const [k, x] of v) { yield k; yield x; } })();
  if (v instanceof Set) return v;
  return undefined;
}

/**
 * Height of the container graph under `root` (1 for a leaf container), stopping once it passes
 * `limit`, or 'cycle'. Iterative and memoised per container, so time is linear in the number of
 * containers and edges (both bounded by the pickle's length), whatever the sharing.
 */
function nesting(root: unknown, limit: number): number | 'cycle' {
  if (!children(root)) return 0;
  const height = new Map<unknown, number>();
  const onPath = new Set<unknown>();
  const frames: { node: unknown; it: Iterator<unknown>; h: number }[] = [];
  const enter = (node: unknown) => { onPath.add(node); frames.push({ node, it: children(node)![Symbol.iterator](), h: 1 }); };
  enter(root);
  while (frames.length) {
    const f = frames[frames.length - 1]!;
    const next = f.it.next();
    if (next.done) {
      frames.pop();
      onPath.delete(f.node);
      height.set(f.node, f.h);
      if (frames.length) frames[frames.length - 1]!.h = Math.max(frames[frames.length - 1]!.h, f.h + 1);
      continue;
    }
    const c = next.value;
    if (!isContainer(c)) continue;
    const known = isEmpty(c) ? 1 : height.get(c);
    if (known !== undefined) f.h = Math.max(f.h, known + 1);
    else if (onPath.has(c)) return 'cycle';
    else if (frames.length >= limit) return limit + 1;
    else enter(c);
    if (f.h + frames.length - 1 > limit) return limit + 1;
  }
  return height.get(root)!;
}

function int64ish(s: string): number | bigint {
  const v = BigInt(s);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Names of the opcodes, for error messages (including ones we refuse). */
const OPNAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x2e: 'STOP', 0x28: 'MARK', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP',
  0x4e: 'NONE', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2',
  0x8a: 'LONG1', 0x8b: 'LONG4', 0x49: 'INT', 0x4c: 'LONG', 0x47: 'BINFLOAT', 0x46: 'FLOAT', 0x58: 'BINUNICODE',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x56: 'UNICODE', 0x55: 'SHORT_BINSTRING', 0x54: 'BINSTRING',
  0x53: 'STRING', 0x43: 'SHORT_BINBYTES', 0x42: 'BINBYTES', 0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x7d: 'EMPTY_DICT', 0x64: 'DICT', 0x73: 'SETITEM',
  0x75: 'SETITEMS', 0x5d: 'EMPTY_LIST', 0x6c: 'LIST', 0x61: 'APPEND', 0x65: 'APPENDS', 0x29: 'EMPTY_TUPLE',
  0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS',
  0x91: 'FROZENSET', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX',
  0x62: 'BUILD', 0x69: 'INST', 0x6f: 'OBJ', 0x51: 'BINPERSID', 0x50: 'PERSID', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x70: 'PUT', 0x94: 'MEMOIZE', 0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x67: 'GET',
  0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
};
