// A virtual MAX78002 behind a socat pty pair: speaks the device protocol (docs/protocol.md) at
// line rate, answers with the bit-exact simulator, streams sensor windows, and injects faults
// (corrupt / drop / delay / garbage bytes, unplug) so the host side can be tested on real ptys.
import { ApiError } from '../api/contract.ts';
import { FrameDecoder, MAX_PAYLOAD, crc32, encodeFrame, type Frame } from './framing.ts';
import { LinePacer } from './line-pacer.ts';
import type { LayerOutput, ModelRuntime } from './model-runtime.ts';
import * as P from './protocol.ts';
import { createPtyPair, type PtyPair } from './pty-pair.ts';
import { openPort, type SerialLink } from './serial-port.ts';

export interface VirtualDeviceOptions {
  runtime: ModelRuntime;
  baud?: number;
  /** Probability per frame (each direction) of an injected fault. */
  faultRate?: number;
  /** Windows the "sensor" captures in live mode (cycled). */
  sensorWindows?: Int8Array[];
  /** Sensor windows per second. */
  sensorRateHz?: number;
  /** Start streaming at once, without waiting for SENSOR_CTRL. */
  sensorAutostart?: boolean;
  seed?: number;
  /**
   * Deployment-bug injection: every value of this layer comes out with its lowest bit flipped (as
   * a wrong rounding or bias would make it), for host windows and sensor windows alike. The later
   * layers compute from the wrong values, so the error propagates as it would on a board.
   */
  bugLayer?: number;
  /** Hostile-device injection: every LAYER_DUMP claims this many elements in the layer. */
  layerTotal?: number;
  /** Leave LAYER_CRC_REQ and LAYER_REQ unanswered (a firmware whose layer readout hangs). */
  ignoreLayerRequests?: boolean;
}

export interface VirtualDeviceStats {
  framesIn: number;
  framesOut: number;
  /** Faults injected on device → host frames, by kind. */
  injectedOut: { corrupt: number; drop: number; garbage: number; delay: number };
  /** Bytes flipped on the host → device stream. */
  injectedIn: number;
  /** Frames the device found corrupt (and NAKed when the header survived). */
  corruptIn: number;
  naksSent: number;
  resent: number;
  inferences: number;
  sensorWindows: number;
  unplugs: number;
}

const DEVICE_ID = 'MAX78002-virtual';
const FIRMWARE_ID = 'qatwb-virtual 1 (bit-exact simulator)';

export class VirtualDevice {
  readonly stats: VirtualDeviceStats = {
    framesIn: 0, framesOut: 0, injectedOut: { corrupt: 0, drop: 0, garbage: 0, delay: 0 }, injectedIn: 0,
    corruptIn: 0, naksSent: 0, resent: 0, inferences: 0, sensorWindows: 0, unplugs: 0,
  };
  private pair: PtyPair | null = null;
  private link: SerialLink | null = null;
  private out: LinePacer;
  private inp: LinePacer;
  private decoder: FrameDecoder;
  private readonly baud: number;
  private readonly faultRate: number;
  private rand: () => number;
  /** Recent replies by seq, for NAK resends. */
  private replies = new Map<number, Uint8Array>();
  /** Recent inputs by seq, for LAYER_REQ. */
  private inputs = new Map<number, Int8Array>();
  private layerCache: { seq: number; layers: LayerOutput[] } | null = null;
  private readonly bug: ((layer: number, out: Int32Array) => void) | undefined;
  private sensorTimer: NodeJS.Timeout | null = null;
  private sensorSeq = 0;
  private sensorIndex = 0;
  private stopped = false;

  constructor(private readonly opts: VirtualDeviceOptions) {
    this.baud = opts.baud ?? 921600;
    this.faultRate = opts.faultRate ?? 0;
    let s = (opts.seed ?? 12345) >>> 0;
    this.rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const bugLayer = opts.bugLayer;
    const layers = opts.runtime.layerNames.length;
    if (bugLayer !== undefined && !(Number.isInteger(bugLayer) && bugLayer >= 0 && bugLayer < layers)) {
      throw new ApiError('bad-request', `bugLayer is ${bugLayer}; ${opts.runtime.name} has layers 0..${layers - 1}.`, 'bugLayer');
    }
    if (bugLayer !== undefined) {
      this.bug = (layer, out) => {
        if (layer === bugLayer) for (let i = 0; i < out.length; i++) out[i]! ^= 1;
      };
    }
    this.out = new LinePacer(this.baud, (b) => this.link?.write(b));
    this.inp = new LinePacer(this.baud, (b) => this.receive(b));
    this.decoder = new FrameDecoder(({ type, seq }) => {
      this.stats.naksSent++;
      this.send(P.frame(P.MsgType.NAK, seq, P.encodeNak(type)), false);
    });
  }

  /** Path the host opens (a stable symlink to the current /dev/pts/N). */
  get hostPath(): string {
    if (!this.pair) throw new Error('The virtual device is not started.');
    return this.pair.hostPath;
  }

  get hostPts(): string {
    return this.pair?.hostPts() ?? '';
  }

  async start(): Promise<string> {
    this.pair = await createPtyPair();
    await this.attach();
    if (this.opts.sensorAutostart) this.startSensor(this.opts.sensorRateHz ?? 10);
    return this.pair.hostPath;
  }

  /** Simulates pulling the USB cable for `ms`, then plugging it back in. */
  async unplug(ms = 500): Promise<void> {
    if (!this.pair) return;
    this.stats.unplugs++;
    this.out.clear();
    this.inp.clear();
    const link = this.link;
    this.link = null;
    await link?.close();
    await this.pair.unplug();
    await new Promise((r) => setTimeout(r, ms));
    if (this.stopped) return;
    await this.pair.replug();
    await this.attach();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSensor();
    this.out.stop();
    this.inp.stop();
    const link = this.link;
    this.link = null;
    await link?.close();
    await this.pair?.close();
    this.pair = null;
  }

  private async attach(): Promise<void> {
    this.decoder.reset();
    this.link = await openPort(this.pair!.devicePath, this.baud);
    this.link.onData((chunk) => this.inp.push(this.injectIn(chunk)));
  }

  private injectIn(chunk: Uint8Array): Uint8Array {
    if (this.faultRate <= 0) return chunk;
    // Spread the per-frame rate over a typical INPUT frame's bytes.
    const p = this.faultRate / (this.opts.runtime.inputLength + 12);
    let copy: Uint8Array | null = null;
    for (let i = 0; i < chunk.length; i++) {
      if (this.rand() < p) {
        copy ??= chunk.slice();
        copy[i]! ^= 1 << Math.floor(this.rand() * 8);
        this.stats.injectedIn++;
      }
    }
    return copy ?? chunk;
  }

  private receive(bytes: Uint8Array): void {
    const before = this.decoder.stats.corruptFrames;
    for (const f of this.decoder.push(bytes)) {
      this.stats.framesIn++;
      try {
        this.handle(f);
      } catch (error) {
        this.send(P.frame(P.MsgType.ERROR, f.seq, P.encodeError({ code: P.ErrorCode.BAD_LENGTH, message: (error as Error).message })));
      }
    }
    this.stats.corruptIn += this.decoder.stats.corruptFrames - before;
  }

  private handle(f: Frame): void {
    const rt = this.opts.runtime;
    switch (f.type) {
      case P.MsgType.HELLO_REQ:
        this.send(P.frame(P.MsgType.HELLO, f.seq, P.encodeHello({
          protocolVersion: P.PROTOCOL_VERSION, deviceId: DEVICE_ID, firmwareId: FIRMWARE_ID, modelHash: rt.modelHash,
          inputShape: rt.inputShape, inputBits: 8, outputCount: rt.outputCount, outputBits: rt.outputBits,
          outputWeightBits: rt.outputWeightBits, layerCount: rt.layerNames.length,
        })));
        return;
      case P.MsgType.INPUT: {
        if (f.payload.length !== rt.inputLength) {
          this.send(P.frame(P.MsgType.ERROR, f.seq, P.encodeError({ code: P.ErrorCode.BAD_LENGTH, message: `INPUT has ${f.payload.length} bytes, the model takes ${rt.inputLength}.` })));
          return;
        }
        const window = P.decodeInput(f.payload);
        const t0 = performance.now();
        const outputs = rt.run(window, this.bug);
        const timeUs = Math.round((performance.now() - t0) * 1000);
        this.stats.inferences++;
        this.remember(this.inputs, f.seq, window);
        if (this.layerCache?.seq === f.seq) this.layerCache = null; // the seq came round again
        this.sendKept(P.frame(P.MsgType.RESULT, f.seq, P.encodeResult({ inputCrc: crc32(f.payload), timeUs, outputs })));
        return;
      }
      case P.MsgType.NAK: {
        const cached = this.replies.get(f.seq);
        if (cached) {
          this.stats.resent++;
          this.transmit(cached, true);
        }
        return;
      }
      case P.MsgType.SENSOR_CTRL: {
        const c = P.decodeSensorCtrl(f.payload);
        if (c.enable && !this.opts.sensorWindows?.length) {
          this.send(P.frame(P.MsgType.ERROR, f.seq, P.encodeError({ code: P.ErrorCode.UNSUPPORTED, message: 'This virtual device has no sensor (start it with --sensor).' })));
          return;
        }
        if (c.enable) this.startSensor(c.rateHz || this.opts.sensorRateHz || 10);
        else this.stopSensor();
        this.send(P.frame(P.MsgType.ACK, f.seq));
        return;
      }
      case P.MsgType.LAYER_CRC_REQ: {
        if (this.opts.ignoreLayerRequests) return;
        const window = P.decodeLayerCrcReq(f.payload);
        const layers = this.layersOf(window, f.seq);
        if (!layers) return;
        this.sendKept(P.frame(P.MsgType.LAYER_CRCS, f.seq, P.encodeLayerCrcs({
          window, layers: layers.map((l) => ({ total: l.data.length, elemBytes: l.elemBytes, crc: P.layerCrc(l.data, l.elemBytes) })),
        })));
        return;
      }
      case P.MsgType.LAYER_REQ: {
        if (this.opts.ignoreLayerRequests) return;
        const q = P.decodeLayerReq(f.payload);
        const layers = this.layersOf(q.window, f.seq);
        if (!layers) return;
        const layer = layers[q.layer];
        if (!layer) {
          this.send(P.frame(P.MsgType.ERROR, f.seq, P.encodeError({ code: P.ErrorCode.NO_SUCH_LAYER, message: `The model has ${layers.length} layers; layer ${q.layer} does not exist.` })));
          return;
        }
        const room = Math.floor((MAX_PAYLOAD - 15) / layer.elemBytes);
        const count = Math.max(0, Math.min(q.maxCount, room, layer.data.length - q.offset));
        this.sendKept(P.frame(P.MsgType.LAYER_DUMP, f.seq, P.encodeLayerDump({
          window: q.window, layer: q.layer, layerCount: layers.length, elemBytes: layer.elemBytes,
          total: this.opts.layerTotal ?? layer.data.length, offset: q.offset, data: layer.data.subarray(q.offset, q.offset + count),
        })));
        return;
      }
      case P.MsgType.ACK:
        return;
      default:
        this.send(P.frame(P.MsgType.ERROR, f.seq, P.encodeError({ code: P.ErrorCode.UNKNOWN_TYPE, message: `Unknown message type ${P.typeName(f.type)}.` })));
    }
  }

  /** Every layer's output for a window still kept (recomputed once, then cached); else ERROR. */
  private layersOf(window: number, replySeq: number): LayerOutput[] | null {
    if (this.layerCache?.seq === window) return this.layerCache.layers;
    const input = this.inputs.get(window);
    if (!input) {
      this.send(P.frame(P.MsgType.ERROR, replySeq, P.encodeError({ code: P.ErrorCode.STALE_WINDOW, message: `Window ${window} is no longer kept on the device.` })));
      return null;
    }
    this.layerCache = { seq: window, layers: this.opts.runtime.runLayers(input, this.bug).layers };
    return this.layerCache.layers;
  }

  private startSensor(rateHz: number): void {
    this.stopSensor();
    const windows = this.opts.sensorWindows ?? [];
    const rt = this.opts.runtime;
    const tick = () => {
      if (!this.link || windows.length === 0) return;
      const window = windows[this.sensorIndex++ % windows.length]!;
      const t0 = performance.now();
      const outputs = rt.run(window, this.bug);
      const timeUs = Math.round((performance.now() - t0) * 1000);
      this.stats.sensorWindows++;
      this.send(P.frame(P.MsgType.SENSOR, this.sensorSeq++, P.encodeSensor({ timeUs, window, outputs })));
    };
    this.sensorTimer = setInterval(tick, Math.max(1, 1000 / rateHz));
  }

  private stopSensor(): void {
    if (this.sensorTimer) clearInterval(this.sensorTimer);
    this.sensorTimer = null;
  }

  private remember<T>(map: Map<number, T>, seq: number, v: T): void {
    map.delete(seq);
    map.set(seq, v);
    if (map.size > 32) map.delete(map.keys().next().value!);
  }

  /** Sends a reply and keeps it, so a NAK gets the same bytes again without recomputing. */
  private sendKept(f: Frame): void {
    this.remember(this.replies, f.seq, this.send(f));
  }

  private send(f: Frame, faults = true): Uint8Array {
    const bytes = encodeFrame(f);
    this.transmit(bytes, faults);
    return bytes;
  }

  private transmit(bytes: Uint8Array, faults: boolean): void {
    this.stats.framesOut++;
    if (!faults || this.faultRate <= 0 || this.rand() >= this.faultRate) {
      this.out.push(bytes);
      return;
    }
    const kind = Math.floor(this.rand() * 4);
    const at = Math.floor(this.rand() * bytes.length);
    if (kind === 0) {
      const c = bytes.slice();
      c[at]! ^= 1 << Math.floor(this.rand() * 8);
      this.stats.injectedOut.corrupt++;
      this.out.push(c);
    } else if (kind === 1) {
      this.stats.injectedOut.drop++;
      this.out.push(bytes.subarray(0, at));
      this.out.push(bytes.subarray(at + 1));
    } else if (kind === 2) {
      // Line noise before an intact frame.
      const junk = new Uint8Array(1 + Math.floor(this.rand() * 16)).map(() => Math.floor(this.rand() * 256));
      this.stats.injectedOut.garbage++;
      this.out.push(junk);
      this.out.push(bytes);
    } else {
      this.stats.injectedOut.delay++;
      this.out.hold(5 + Math.floor(this.rand() * 40));
      this.out.push(bytes);
    }
  }
}
