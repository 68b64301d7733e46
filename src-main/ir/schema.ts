// Versioned JSON form of a Model for project files (docs/model-json.md). Integer parameters are
// stored as base64 of the raw little-endian bytes (Int8 weights, Int32 bias), float starting weights
// (`init`) as base64 of little-endian float32; reading also accepts plain number arrays.
// Bump SCHEMA_VERSION and add a migration in `migrate` when the stored shape changes.
import type { FloatBatchNorm, FloatInit, InputScaling, Layer, LayerParams, Model } from './graph.ts';
import { bitsPolicyProblems } from './bits-policy.ts';

export const SCHEMA_VERSION = 1;

export interface StoredParams {
  weights: string | number[];
  bias: string | number[] | null;
}

type StoredFloats = string | number[];

export interface StoredInit {
  weight: StoredFloats;
  bias: StoredFloats | null;
  bn?: Record<keyof FloatBatchNorm, StoredFloats>;
}

export type StoredLayer = Omit<Layer, 'params' | 'init'> & { params?: StoredParams; init?: StoredInit };

// A type alias, not an interface: the contract's JSON schema (api/model.api.ts) accepts it as is.
export type StoredModel = Omit<Model, 'layers'> & {
  schema: 'qatwb.model';
  version: number;
  layers: StoredLayer[];
};

export class SchemaError extends Error {
  override name = 'SchemaError';
  constructor(readonly field: string, expected: string) {
    super(`model.${field}: expected ${expected}`);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!, b = bytes[i + 1], c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (b === undefined ? '=' : B64[(n >> 6) & 63]!) + (c === undefined ? '=' : B64[n & 63]!);
  }
  return s;
}

export function fromBase64(s: string, field: string): Uint8Array {
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, acc = 0, j = 0;
  for (const ch of clean) {
    const v = B64.indexOf(ch);
    if (v < 0) throw new SchemaError(field, 'base64 text');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, j);
}

function littleEndianBytes(a: Int8Array | Int32Array | Float32Array): Uint8Array {
  const view = new Uint8Array(a.length * a.BYTES_PER_ELEMENT);
  const dv = new DataView(view.buffer);
  if (a instanceof Int8Array) view.set(new Uint8Array(a.buffer, a.byteOffset, a.length));
  else if (a instanceof Float32Array) a.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  else a.forEach((v, i) => dv.setInt32(i * 4, v, true));
  return view;
}

const BN_KEYS: readonly (keyof FloatBatchNorm)[] = ['gamma', 'beta', 'runningMean', 'runningVar'];

function storeInit(init: FloatInit): StoredInit {
  const f = (a: Float32Array) => toBase64(littleEndianBytes(a));
  return {
    weight: f(init.weight),
    bias: init.bias ? f(init.bias) : null,
    ...(init.bn ? { bn: Object.fromEntries(BN_KEYS.map((k) => [k, f(init.bn![k])])) as Record<keyof FloatBatchNorm, string> } : {}),
  };
}

function readFloats(v: unknown, field: string): Float32Array {
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new SchemaError(field, 'finite numbers');
    return Float32Array.from(v as number[]);
  }
  if (typeof v !== 'string') throw new SchemaError(field, 'base64 text or a number array');
  const bytes = fromBase64(v, field);
  if (bytes.length % 4) throw new SchemaError(field, 'a multiple of 4 bytes (float32)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Float32Array(bytes.length / 4).map((_, i) => dv.getFloat32(i * 4, true));
  if (!out.every(Number.isFinite)) throw new SchemaError(field, 'finite float32 values');
  return out;
}

function readInit(s: StoredInit, field: string): FloatInit {
  if (!s || typeof s !== 'object') throw new SchemaError(field, 'an object with weight and bias');
  const init: FloatInit = {
    weight: readFloats(s.weight, `${field}.weight`),
    bias: s.bias === null || s.bias === undefined ? null : readFloats(s.bias, `${field}.bias`),
  };
  if (s.bn !== undefined) {
    if (!s.bn || typeof s.bn !== 'object') throw new SchemaError(`${field}.bn`, 'an object with gamma, beta, runningMean, runningVar');
    init.bn = Object.fromEntries(BN_KEYS.map((k) => [k, readFloats(s.bn![k], `${field}.bn.${k}`)])) as unknown as FloatBatchNorm;
  }
  return init;
}

export function serializeModel(model: Model): StoredModel {
  return {
    ...model,
    schema: 'qatwb.model',
    version: SCHEMA_VERSION,
    layers: model.layers.map((l) => {
      const { params, init, ...rest } = l;
      return {
        ...rest,
        ...(params ? { params: { weights: toBase64(littleEndianBytes(params.weights)), bias: params.bias ? toBase64(littleEndianBytes(params.bias)) : null } } : {}),
        ...(init ? { init: storeInit(init) } : {}),
      };
    }),
  };
}

function readParams(p: StoredParams, field: string): LayerParams {
  const weights = typeof p.weights === 'string'
    ? new Int8Array(fromBase64(p.weights, `${field}.weights`).slice().buffer)
    : Array.isArray(p.weights) ? Int8Array.from(p.weights) : (() => { throw new SchemaError(`${field}.weights`, 'base64 text or a number array'); })();
  let bias: Int32Array | null = null;
  if (typeof p.bias === 'string') {
    const bytes = fromBase64(p.bias, `${field}.bias`);
    if (bytes.length % 4) throw new SchemaError(`${field}.bias`, 'a multiple of 4 bytes');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    bias = new Int32Array(bytes.length / 4).map((_, i) => dv.getInt32(i * 4, true));
  } else if (Array.isArray(p.bias)) bias = Int32Array.from(p.bias);
  else if (p.bias !== null && p.bias !== undefined) throw new SchemaError(`${field}.bias`, 'base64 text, a number array or null');
  return { weights, bias };
}

/** Older stored versions → current. Version 1 is the first. */
function migrate(doc: StoredModel): StoredModel {
  return doc;
}

const SCALING_KINDS: readonly InputScaling['kind'][] = ['unit', 'minmax', 'range', 'int8'];

/** `input.scaling` (optional: a model never trained on a data set, or saved before it was recorded). */
function readScaling(v: unknown): InputScaling {
  const field = 'input.scaling';
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SchemaError(field, 'an object {kind, min, max}');
  const { kind, min, max } = v as Record<string, unknown>;
  if (!SCALING_KINDS.includes(kind as InputScaling['kind'])) throw new SchemaError(`${field}.kind`, `one of ${SCALING_KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (typeof min !== 'number' || !Number.isFinite(min)) throw new SchemaError(`${field}.min`, 'a finite number');
  if (typeof max !== 'number' || !Number.isFinite(max) || !(max > min)) throw new SchemaError(`${field}.max`, 'a finite number greater than min');
  return { kind: kind as InputScaling['kind'], min, max };
}

/**
 * Only the input scaling of a stored model (the live check reads it from an export's model.json
 * without decoding the layers); undefined when the document does not record one.
 */
export function storedInputScaling(json: unknown): InputScaling | undefined {
  if (!json || typeof json !== 'object') throw new SchemaError('', 'a JSON object');
  const doc = json as Partial<StoredModel>;
  if (doc.schema !== 'qatwb.model') throw new SchemaError('schema', '"qatwb.model"');
  const input = doc.input as { scaling?: unknown } | undefined;
  return input && typeof input === 'object' && input.scaling !== undefined ? readScaling(input.scaling) : undefined;
}

export function deserializeModel(json: unknown): Model {
  if (!json || typeof json !== 'object') throw new SchemaError('', 'a JSON object');
  const doc = json as StoredModel;
  if (doc.schema !== 'qatwb.model') throw new SchemaError('schema', '"qatwb.model"');
  if (!Number.isInteger(doc.version) || doc.version < 1 || doc.version > SCHEMA_VERSION)
    throw new SchemaError('version', `an integer from 1 to ${SCHEMA_VERSION}`);
  const cur = migrate(doc);
  if (!Array.isArray(cur.layers)) throw new SchemaError('layers', 'an array');
  const { schema: _s, version: _v, layers, ...rest } = cur;
  if (rest.input && typeof rest.input === 'object' && rest.input.scaling !== undefined) readScaling(rest.input.scaling);
  const model = {
    ...rest,
    layers: layers.map((l, i) => {
      const { params, init, ...base } = l;
      return {
        ...base,
        ...(params ? { params: readParams(params, `layers.${i}.params`) } : {}),
        ...(init !== undefined ? { init: readInit(init, `layers.${i}.init`) } : {}),
      } as Layer;
    }),
  } as Model;
  const problem = bitsPolicyProblems(model)[0];
  if (problem) {
    const error = new SchemaError(problem.field, '');
    error.message = `model.${problem.field}: ${problem.message}`;
    throw error;
  }
  return model;
}
