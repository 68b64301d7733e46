// PyTorch checkpoints in the torch.save zip format (PyTorch >= 1.6): `<archive>/data.pkl` is a
// pickle whose tensors point, through persistent ids, at raw little-endian storages
// `<archive>/data/<key>`. The reader allows exactly the globals such files use for tensors and
// containers (see pickle.ts for the safety argument); the writer emits what torch.load accepts
// both with weights_only=True and False.
import { FormatError, describe } from './format-error.ts';
import { DTYPES, arrayFor, fromLittleEndian, shapeSize, type NdArray, type NpyDtype } from './npy.ts';
import { PyGlobal, readPickle, type GlobalHandler } from './pickle.ts';
import { PyCall, PyFloat, PyGlobalRef, PyPersistent, PyTuple, writePickle, type PyValue } from './pickle-write.ts';
import { readZip, writeZip } from './zip.ts';

export interface TorchCheckpoint {
  /** The unpickled object: a Map for a checkpoint dict (distiller) or a bare state_dict. */
  root: Map<string, unknown> | unknown;
  /** `root.state_dict` (or root itself when it is a state_dict), in insertion order. */
  stateDict: Map<string, NdArray>;
  epoch?: number;
  arch?: string;
  extras?: unknown;
}

/** torch storage class ↔ our dtype. Half/BFloat16 have no NdArray dtype and are refused. */
const STORAGES: Record<string, NpyDtype> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', LongStorage: 'int64', IntStorage: 'int32',
  ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8', BoolStorage: 'bool', UntypedStorage: 'uint8',
};
const STORAGE_OF = Object.fromEntries(Object.entries(STORAGES).filter(([k]) => k !== 'UntypedStorage').map(([k, v]) => [v, k])) as Record<NpyDtype, string>;

interface Storage { dtype: NpyDtype; data: NdArray['data']; key: string }
/** Storage type globals are only ever referenced inside persistent ids, never called. */
const storageType: GlobalHandler = {};

export function readTorchCheckpoint(bytes: Uint8Array, file = 'checkpoint.pth.tar'): TorchCheckpoint {
  if (bytes[0] === 0x80 && bytes.length > 2 && bytes[1]! <= 5) {
    throw new FormatError(file, 'format', 'the torch.save zip format (PyTorch >= 1.6)', 'a legacy (pre-1.6) torch.save pickle; re-save it with a current PyTorch');
  }
  const zip = readZip(bytes, file);
  const pklName = [...zip.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pklName) {
    throw new FormatError(file, 'data.pkl', 'a torch.save archive containing <archive>/data.pkl', `entries ${describe([...zip.keys()].slice(0, 5))}`);
  }
  // Tensors live in data/ entries; the pickle itself is kilobytes. Capped because every two bytes of
  // pickle can create a JS object (tens of bytes of heap each).
  const pklBytes = zip.get(pklName)!.length;
  if (pklBytes > MAX_PICKLE_BYTES) {
    throw new FormatError(file, pklName, `a pickle of at most ${MAX_PICKLE_BYTES >> 20} MB (tensors are stored beside it)`, `${pklBytes} bytes`);
  }
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const storages = new Map<string, Storage>();

  const persistentLoad = (pid: unknown): Storage => {
    // ('storage', <storage type>, key, location, numel)
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new FormatError(file, `${pklName}.persistent_id`, "('storage', type, key, location, numel)", describe(pid));
    }
    const [, type, key, , numel] = pid;
    const typeName = type instanceof PyGlobal && type.module === 'torch' ? type.name : '';
    const dtype = Object.hasOwn(STORAGES, typeName) ? STORAGES[typeName] : undefined;
    if (!dtype) throw new FormatError(file, `${pklName}.persistent_id`, `a storage type of ${Object.keys(STORAGES).join(', ')}`, String(type));
    if (typeof key !== 'string' || typeof numel !== 'number') {
      throw new FormatError(file, `${pklName}.persistent_id`, 'a string key and an integer element count', describe(pid));
    }
    const cached = storages.get(key);
    if (cached) return cached;
    const entry = `${prefix}data/${key}`;
    const raw = zip.get(entry);
    if (!raw) throw new FormatError(file, entry, `the storage entry named by the pickle (${typeName} of ${numel} elements)`, 'missing');
    if (raw.length !== numel * DTYPES[dtype].size) {
      throw new FormatError(file, entry, `${numel * DTYPES[dtype].size} bytes for ${numel} ${dtype} elements`, `${raw.length} bytes`);
    }
    const s = { dtype, data: fromLittleEndian(dtype, raw), key };
    storages.set(key, s);
    return s;
  };

  // Every tensor is copied out of its storage; stride-0 (expanded) views can name far more elements
  // than the file holds, so all tensors together get a budget proportional to the file's size.
  const budget = { left: ELEMENTS_PER_FILE_BYTE * bytes.length + ELEMENTS_FLOOR, total: ELEMENTS_PER_FILE_BYTE * bytes.length + ELEMENTS_FLOOR };
  const rebuildTensor: GlobalHandler = {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    call: ([storage, offset, size, stride]) => materialize(storage as Storage, offset, size, stride, file, pklName, budget),
  };
  const rebuildParameter: GlobalHandler = { call: ([data]) => data };
  const root = readPickle(zip.get(pklName)!, file, {
    entry: pklName,
    persistentLoad,
    globals: {
      'torch._utils._rebuild_tensor_v2': rebuildTensor,
      'torch._utils._rebuild_parameter': rebuildParameter,
      'torch._utils._rebuild_parameter_with_state': rebuildParameter,
      'torch.device': { call: ([d]) => String(d) },
      ...Object.fromEntries(Object.keys(STORAGES).map((n) => [`torch.${n}`, storageType])),
    },
    // Values that are classes or dtypes, e.g. distiller's `optimizer_type = torch.optim.SGD`.
    references: /^torch\.(optim\.[\w.]+|(float|double|half|bfloat|int|uint|long|short|bool)\w*)$/,
  });

  const dict = root instanceof Map ? root : undefined;
  const sdValue = dict?.has('state_dict') ? dict.get('state_dict') : root;
  const field = dict?.has('state_dict') ? 'state_dict' : '<root>';
  if (!(sdValue instanceof Map)) throw new FormatError(file, field, 'a state_dict (a dict of tensors)', describe(sdValue));
  const stateDict = new Map<string, NdArray>();
  for (const [k, v] of sdValue) {
    if (typeof k !== 'string' || !isNdArray(v)) {
      throw new FormatError(file, `${field}.${String(k)}`, 'a tensor under a string key', describe(v));
    }
    stateDict.set(k, v);
  }
  const out: TorchCheckpoint = { root, stateDict };
  const epoch = dict?.get('epoch');
  if (typeof epoch === 'number') out.epoch = epoch;
  const arch = dict?.get('arch');
  if (typeof arch === 'string') out.arch = arch;
  if (dict?.has('extras')) out.extras = dict.get('extras');
  return out;
}

export function isNdArray(v: unknown): v is NdArray {
  return v !== null && typeof v === 'object' && 'dtype' in v && 'shape' in v && 'data' in v && ArrayBuffer.isView((v as NdArray).data);
}

const MAX_PICKLE_BYTES = 8 << 20;

/** Elements all tensors of a checkpoint may materialise: this many per byte of the file, plus a floor. */
const ELEMENTS_PER_FILE_BYTE = 4;
const ELEMENTS_FLOOR = 1 << 20;

/** A C-order copy of the strided view (storage, offset, size, stride), bounds-checked. */
function materialize(storage: Storage, offset: unknown, size: unknown, stride: unknown, file: string, pkl: string,
  budget: { left: number; total: number }): NdArray {
  const field = `${pkl}.tensor`;
  if (typeof storage !== 'object' || storage === null || !('data' in storage) || !ArrayBuffer.isView(storage.data)) {
    throw new FormatError(file, field, 'a tensor rebuilt from a storage', describe(storage));
  }
  const ints = (v: unknown) => Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || !ints(size) || !ints(stride)
    || (size as number[]).length !== (stride as number[]).length) {
    throw new FormatError(file, field, 'storage offset, size and stride as non-negative integers of equal rank', describe([offset, size, stride]));
  }
  const shape = size as number[];
  const strides = stride as number[];
  const n = shapeSize(shape);
  let last = offset; // highest element index the view touches
  for (let d = 0; d < shape.length; d++) if (shape[d]! > 0) last += (shape[d]! - 1) * strides[d]!;
  if (n < 0 || (n > 0 && last >= storage.data.length)) {
    throw new FormatError(file, `${field}[storage ${storage.key}]`, `a view inside the ${storage.data.length}-element storage`,
      `offset ${offset}, size (${shape.join(', ')}), stride (${strides.join(', ')})`);
  }
  if (n > budget.left) {
    throw new FormatError(file, `${field}[storage ${storage.key}]`,
      `at most ${budget.total} elements in all tensors for a ${Math.round((budget.total - ELEMENTS_FLOOR) / ELEMENTS_PER_FILE_BYTE)}-byte file`,
      `a view of size (${shape.join(', ')}), stride (${strides.join(', ')}) past the budget`);
  }
  budget.left -= n;
  let contiguous = true;
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    if (shape[d]! > 1 && strides[d] !== s) contiguous = false;
    s *= shape[d]!;
  }
  const src = storage.data;
  let data: NdArray['data'];
  if (contiguous) data = src.slice(offset, offset + n);
  else {
    // Permuted/expanded views (rare in checkpoints): gather element by element in C order.
    data = arrayFor(storage.dtype, n);
    const idx = new Array<number>(shape.length).fill(0);
    for (let k = 0; k < n; k++) {
      let at = offset;
      for (let d = 0; d < shape.length; d++) at += idx[d]! * strides[d]!;
      (data as unknown as number[])[k] = (src as unknown as number[])[at]!;
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
    }
  }
  return { dtype: storage.dtype, shape: [...shape], data };
}

export interface TorchCheckpointInput {
  epoch: number;
  arch: string;
  state_dict: Map<string, NdArray>;
  /**
   * Integral numbers are written as Python int, others as float. Note: torch 1.13's
   * weights_only=True loader has no BINFLOAT and refuses float extras; torch >= 2.0 accepts them.
   */
  extras?: Record<string, number | string | boolean>;
}

const ORDERED_DICT = new PyGlobalRef('collections', 'OrderedDict');
const REBUILD = new PyGlobalRef('torch._utils', '_rebuild_tensor_v2');

/** A torch.save-format checkpoint {epoch, arch, state_dict: OrderedDict, extras} readable by torch.load. */
export function writeTorchCheckpoint(obj: TorchCheckpointInput, archiveName = 'archive'): Uint8Array {
  if (!/^[\w.-]+$/.test(archiveName)) throw new FormatError('checkpoint.pth.tar', 'archive', 'a plain archive name', archiveName);
  const storages: { name: string; data: Uint8Array }[] = [];
  const tensors: [PyValue, PyValue][] = [];
  for (const [key, a] of obj.state_dict) {
    const n = shapeSize(a.shape);
    if (n < 0 || n !== a.data.length) {
      throw new FormatError('checkpoint.pth.tar', `state_dict.${key}`, `a shape matching ${a.data.length} elements`, `(${a.shape.join(', ')})`);
    }
    const id = String(storages.length);
    storages.push({ name: `${archiveName}/data/${id}`, data: new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength) });
    const stride: number[] = [];
    for (let d = a.shape.length - 1, s = 1; d >= 0; d--) { stride[d] = s; s *= a.shape[d]!; }
    const pid = new PyTuple(['storage', new PyGlobalRef('torch', STORAGE_OF[a.dtype]), id, 'cpu', n]);
    tensors.push([key, new PyCall(REBUILD, new PyTuple([
      new PyPersistent(pid), 0, new PyTuple(a.shape), new PyTuple(stride), false, new PyCall(ORDERED_DICT, new PyTuple([])),
    ]))]);
  }
  const extras = new Map<PyValue, PyValue>();
  for (const [k, v] of Object.entries(obj.extras ?? {})) extras.set(k, typeof v === 'number' && !Number.isInteger(v) ? new PyFloat(v) : v);
  const root = new Map<PyValue, PyValue>([
    ['epoch', obj.epoch],
    ['arch', obj.arch],
    ['state_dict', new PyCall(ORDERED_DICT, new PyTuple([]), tensors)],
    ['extras', extras],
  ]);
  return writeZip([
    { name: `${archiveName}/data.pkl`, data: writePickle(root) },
    { name: `${archiveName}/byteorder`, data: new TextEncoder().encode('little') },
    ...storages,
    { name: `${archiveName}/version`, data: new TextEncoder().encode('3\n') },
  ]);
}
