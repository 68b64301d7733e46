// Message codecs of the device protocol (docs/protocol.md): typed messages ⇄ frame payloads.
// Pure. Integers are little-endian; strings are u8 length + UTF-8 bytes.
import { crc32, type Frame } from './framing.ts';

export const PROTOCOL_VERSION = 1;

export const MsgType = {
  HELLO_REQ: 0x01,
  INPUT: 0x02,
  SENSOR_CTRL: 0x03,
  LAYER_REQ: 0x04,
  LAYER_CRC_REQ: 0x05,
  HELLO: 0x81,
  RESULT: 0x82,
  SENSOR: 0x83,
  LAYER_DUMP: 0x84,
  LAYER_CRCS: 0x85,
  ACK: 0x06,
  NAK: 0x15,
  ERROR: 0x7f,
} as const;
export type MsgTypeCode = (typeof MsgType)[keyof typeof MsgType];

export const ErrorCode = {
  BAD_LENGTH: 1,
  UNKNOWN_TYPE: 2,
  BUSY: 3,
  CNN_FAIL: 4,
  NO_SUCH_LAYER: 5,
  STALE_WINDOW: 6,
  UNSUPPORTED: 7,
} as const;

export interface Hello {
  protocolVersion: number;
  deviceId: string;
  firmwareId: string;
  /** CRC-32 over the checkpoint and YAML bytes the firmware was built from. */
  modelHash: number;
  /** Input shape, channel first: [C, H, W] or [C, L]. */
  inputShape: number[];
  /** Bits per input element (8: int8). */
  inputBits: number;
  /** Number of output values. */
  outputCount: number;
  /** Bits per output element as sent (32: raw accumulators; 8: int8 layer output). */
  outputBits: number;
  /** Weight bits of the output layer: the output unit is 2^-(6+b) for a 32-bit output. */
  outputWeightBits: number;
  /** Layers the firmware can dump (0 = no LAYER_DUMP support). */
  layerCount: number;
}

export interface Result {
  /** CRC-32 of the input window the device computed on (guards against misattribution). */
  inputCrc: number;
  /** Inference time as the device measured it, µs. */
  timeUs: number;
  outputs: Int32Array;
}

export interface Sensor {
  timeUs: number;
  window: Int8Array;
  outputs: Int32Array;
}

export interface SensorCtrl {
  enable: boolean;
  /** Windows per second while enabled (0: as fast as the device can). */
  rateHz: number;
}

export interface LayerReq {
  /** seq of the INPUT window whose layers are wanted (the device keeps only the last one). */
  window: number;
  layer: number;
  /** First element wanted. */
  offset: number;
  /** Most elements to return in this chunk. */
  maxCount: number;
}

export interface LayerDump {
  window: number;
  layer: number;
  layerCount: number;
  /** 1: int8 elements, 4: int32 elements. */
  elemBytes: number;
  /** Elements in the whole layer output (channel-first). */
  total: number;
  offset: number;
  data: Int32Array;
}

/** One layer's entry in LAYER_CRCS. */
export interface LayerCrc {
  /** Elements in the layer output. */
  total: number;
  /** 1: int8 elements, 4: int32 elements. */
  elemBytes: number;
  /** CRC-32 of the elements as LAYER_DUMP would send them (int8 bytes, or int32 little-endian). */
  crc: number;
}

export interface LayerCrcs {
  window: number;
  layers: LayerCrc[];
}

export interface DeviceError {
  code: number;
  message: string;
}

class Writer {
  private bytes: Uint8Array;
  private view: DataView;
  private p = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(v: number): this { this.view.setUint8(this.p, v); this.p += 1; return this; }
  u16(v: number): this { this.view.setUint16(this.p, v, true); this.p += 2; return this; }
  u32(v: number): this { this.view.setUint32(this.p, v >>> 0, true); this.p += 4; return this; }
  str(s: string): this {
    const b = new TextEncoder().encode(s).subarray(0, 255);
    this.u8(b.length);
    this.bytes.set(b, this.p);
    this.p += b.length;
    return this;
  }
  raw(b: Uint8Array): this { this.bytes.set(b, this.p); this.p += b.length; return this; }
  i32s(a: Int32Array): this {
    for (let i = 0; i < a.length; i++) this.view.setInt32(this.p + 4 * i, a[i]!, true);
    this.p += 4 * a.length;
    return this;
  }
  done(): Uint8Array { return this.bytes.subarray(0, this.p); }
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

class Reader {
  private view: DataView;
  private p = 0;
  constructor(private readonly bytes: Uint8Array, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): void {
    if (this.p + n > this.bytes.length) {
      throw new ProtocolError(`${this.what} payload is ${this.bytes.length} bytes, too short at byte ${this.p} (needed ${n} more).`);
    }
  }
  u8(): number { this.need(1); return this.view.getUint8(this.p++); }
  u16(): number { this.need(2); const v = this.view.getUint16(this.p, true); this.p += 2; return v; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.p, true); this.p += 4; return v; }
  str(): string { const n = this.u8(); this.need(n); const s = new TextDecoder().decode(this.bytes.subarray(this.p, this.p + n)); this.p += n; return s; }
  raw(n: number): Uint8Array { this.need(n); const b = this.bytes.slice(this.p, this.p + n); this.p += n; return b; }
  i32s(n: number): Int32Array {
    this.need(4 * n);
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.view.getInt32(this.p + 4 * i, true);
    this.p += 4 * n;
    return a;
  }
  i8s(n: number): Int32Array {
    this.need(n);
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = this.view.getInt8(this.p + i);
    this.p += n;
    return a;
  }
  get rest(): number { return this.bytes.length - this.p; }
  end(): void {
    if (this.p !== this.bytes.length) throw new ProtocolError(`${this.what} payload has ${this.bytes.length - this.p} unexpected trailing bytes.`);
  }
}

const asBytes = (a: Int8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function encodeHello(h: Hello): Uint8Array {
  const w = new Writer(32 + 2 * 255 + 2 * h.inputShape.length);
  w.u8(h.protocolVersion).str(h.deviceId).str(h.firmwareId).u32(h.modelHash).u8(h.inputShape.length);
  for (const d of h.inputShape) w.u16(d);
  return w.u8(h.inputBits).u32(h.outputCount).u8(h.outputBits).u8(h.outputWeightBits).u16(h.layerCount).done();
}

export function decodeHello(p: Uint8Array): Hello {
  const r = new Reader(p, 'HELLO');
  const protocolVersion = r.u8();
  const deviceId = r.str();
  const firmwareId = r.str();
  const modelHash = r.u32();
  const dims = r.u8();
  const inputShape: number[] = [];
  for (let i = 0; i < dims; i++) inputShape.push(r.u16());
  const h: Hello = {
    protocolVersion, deviceId, firmwareId, modelHash, inputShape,
    inputBits: r.u8(), outputCount: r.u32(), outputBits: r.u8(), outputWeightBits: r.u8(), layerCount: r.u16(),
  };
  r.end();
  return h;
}

/** INPUT carries the raw int8 window, channel-first, nothing else. */
export function encodeInput(window: Int8Array): Uint8Array {
  return asBytes(window).slice();
}

export function decodeInput(p: Uint8Array): Int8Array {
  return new Int8Array(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
}

export function encodeResult(r: Result): Uint8Array {
  return new Writer(8 + 4 * r.outputs.length).u32(r.inputCrc).u32(r.timeUs).i32s(r.outputs).done();
}

export function decodeResult(p: Uint8Array): Result {
  const r = new Reader(p, 'RESULT');
  const inputCrc = r.u32();
  const timeUs = r.u32();
  if (r.rest % 4 !== 0) throw new ProtocolError(`RESULT outputs take ${r.rest} bytes, not a multiple of 4.`);
  const outputs = r.i32s(r.rest / 4);
  return { inputCrc, timeUs, outputs };
}

export function encodeSensor(s: Sensor): Uint8Array {
  return new Writer(8 + s.window.length + 4 * s.outputs.length)
    .u32(s.timeUs).u32(s.window.length).raw(asBytes(s.window)).i32s(s.outputs).done();
}

export function decodeSensor(p: Uint8Array): Sensor {
  const r = new Reader(p, 'SENSOR');
  const timeUs = r.u32();
  const n = r.u32();
  const window = new Int8Array(r.raw(n).buffer);
  if (r.rest % 4 !== 0) throw new ProtocolError(`SENSOR outputs take ${r.rest} bytes, not a multiple of 4.`);
  return { timeUs, window, outputs: r.i32s(r.rest / 4) };
}

export function encodeSensorCtrl(c: SensorCtrl): Uint8Array {
  return new Writer(5).u8(c.enable ? 1 : 0).u32(Math.round(c.rateHz * 1000)).done();
}

export function decodeSensorCtrl(p: Uint8Array): SensorCtrl {
  const r = new Reader(p, 'SENSOR_CTRL');
  const c = { enable: r.u8() !== 0, rateHz: r.u32() / 1000 };
  r.end();
  return c;
}

export function encodeLayerReq(q: LayerReq): Uint8Array {
  return new Writer(12).u16(q.window).u16(q.layer).u32(q.offset).u32(q.maxCount).done();
}

export function decodeLayerReq(p: Uint8Array): LayerReq {
  const r = new Reader(p, 'LAYER_REQ');
  const q = { window: r.u16(), layer: r.u16(), offset: r.u32(), maxCount: r.u32() };
  r.end();
  return q;
}

export function encodeLayerDump(d: LayerDump): Uint8Array {
  const w = new Writer(16 + d.data.length * d.elemBytes)
    .u16(d.window).u16(d.layer).u16(d.layerCount).u8(d.elemBytes).u32(d.total).u32(d.offset);
  if (d.elemBytes === 4) w.i32s(d.data);
  else for (const v of d.data) w.u8(v & 0xff);
  return w.done();
}

export function decodeLayerDump(p: Uint8Array): LayerDump {
  const r = new Reader(p, 'LAYER_DUMP');
  const window = r.u16();
  const layer = r.u16();
  const layerCount = r.u16();
  const elemBytes = r.u8();
  const total = r.u32();
  const offset = r.u32();
  if (elemBytes !== 1 && elemBytes !== 4) throw new ProtocolError(`LAYER_DUMP element size ${elemBytes} is not 1 or 4.`);
  if (r.rest % elemBytes !== 0) throw new ProtocolError(`LAYER_DUMP data of ${r.rest} bytes is not whole ${elemBytes}-byte elements.`);
  const data = elemBytes === 4 ? r.i32s(r.rest / 4) : r.i8s(r.rest);
  return { window, layer, layerCount, elemBytes, total, offset, data };
}

export function encodeLayerCrcReq(window: number): Uint8Array {
  return new Writer(2).u16(window).done();
}

export function decodeLayerCrcReq(p: Uint8Array): number {
  const r = new Reader(p, 'LAYER_CRC_REQ');
  const window = r.u16();
  r.end();
  return window;
}

/** Bytes of one layer's entry in a LAYER_CRCS payload (after the 4-byte head). */
export const LAYER_CRC_ENTRY_BYTES = 9;

export function encodeLayerCrcs(c: LayerCrcs): Uint8Array {
  const w = new Writer(4 + LAYER_CRC_ENTRY_BYTES * c.layers.length).u16(c.window).u16(c.layers.length);
  for (const l of c.layers) w.u32(l.total).u8(l.elemBytes).u32(l.crc);
  return w.done();
}

export function decodeLayerCrcs(p: Uint8Array): LayerCrcs {
  const r = new Reader(p, 'LAYER_CRCS');
  const window = r.u16();
  const count = r.u16();
  const layers: LayerCrc[] = [];
  for (let i = 0; i < count; i++) {
    const total = r.u32();
    const elemBytes = r.u8();
    if (elemBytes !== 1 && elemBytes !== 4) throw new ProtocolError(`LAYER_CRCS layer ${i}: element size ${elemBytes} is not 1 or 4.`);
    layers.push({ total, elemBytes, crc: r.u32() });
  }
  r.end();
  return { window, layers };
}

/** CRC-32 of layer values as LAYER_DUMP carries them: int8 bytes, or int32 little-endian. */
export function layerCrc(data: Int32Array, elemBytes: number): number {
  const bytes = new Uint8Array(data.length * elemBytes);
  if (elemBytes === 4) {
    const v = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) v.setInt32(4 * i, data[i]!, true);
  } else for (let i = 0; i < data.length; i++) bytes[i] = data[i]! & 0xff;
  return crc32(bytes);
}

export function encodeError(e: DeviceError): Uint8Array {
  return new Writer(2 + 255).u8(e.code).str(e.message).done();
}

export function decodeError(p: Uint8Array): DeviceError {
  const r = new Reader(p, 'ERROR');
  const e = { code: r.u8(), message: r.str() };
  return e;
}

/** NAK names the frame type that arrived corrupt; the frame's seq goes in the header. */
export function encodeNak(type: number): Uint8Array {
  return Uint8Array.of(type & 0xff);
}

export function decodeNak(p: Uint8Array): number {
  return p.length > 0 ? p[0]! : 0;
}

export function frame(type: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Frame {
  return { type, seq: seq & 0xffff, payload };
}

export function typeName(type: number): string {
  for (const [k, v] of Object.entries(MsgType)) if (v === type) return k;
  return `0x${type.toString(16).padStart(2, '0')}`;
}
