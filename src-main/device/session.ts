// Host side of the device protocol over one serial line: HELLO handshake, windows in flight with
// sequence numbers (a result is matched by seq AND by the CRC of the window it was computed on),
// NAK / timeout resends, unplug detection and automatic reconnect to the same path.
import { stat } from 'node:fs/promises';
import { ApiError } from '../api/contract.ts';
import { FRAME_OVERHEAD, FrameDecoder, MAX_PAYLOAD, crc32, encodeFrame, type Frame } from './framing.ts';
import { LINE_BITS_PER_BYTE } from './line-pacer.ts';
import * as P from './protocol.ts';
import { openPort, type SerialLink } from './serial-port.ts';

/** LAYER_DUMP payload before its elements: window, layer, layerCount, elemBytes, total, offset. */
const LAYER_DUMP_HEAD_BYTES = 15;
/** Layer data per LAYER_DUMP: as much as one frame carries, rounded down to whole int32s. */
export const LAYER_CHUNK_BYTES = Math.floor((MAX_PAYLOAD - LAYER_DUMP_HEAD_BYTES) / 4) * 4;
/** HELLO carries two strings of up to 255 bytes. */
const HELLO_REPLY_BYTES = FRAME_OVERHEAD + 32 + 2 * 255;

export interface SessionOptions {
  path: string;
  baud?: number;
  /** Resends of one request before the window counts as lost (default 5). */
  retries?: number;
  /** Wait for a reply beyond the line time of what is in flight, ms (default 250). */
  replyTimeoutMs?: number;
  /** Give up on a device that stays unplugged this long, ms (default 15000). */
  reconnectTimeoutMs?: number;
  /** How long to wait for the first HELLO, ms (default 2000). */
  helloTimeoutMs?: number;
}

export interface SessionStats {
  framesSent: number;
  framesReceived: number;
  /** Frames from the device that failed the header check or CRC. */
  framesCorrupted: number;
  /** Places where the stream lost sync and garbage bytes were skipped. */
  resyncs: number;
  garbageBytes: number;
  /** Requests that needed a resend and then got their answer. */
  framesRecovered: number;
  /** Windows given up on after every retry. */
  windowsLost: number;
  naksSent: number;
  naksReceived: number;
  timeouts: number;
  /** Replies for a seq no longer in flight (a late answer to a resent request). */
  duplicates: number;
  /** Replies whose window CRC did not match the window sent under that seq (never used). */
  misattributed: number;
  reconnects: number;
}

export type LinkStatus = 'connected' | 'unplugged' | 'reconnecting' | 'closed';

interface Pending {
  seq: number;
  type: number;
  expect: number;
  bytes: Uint8Array;
  /** Frame bytes of the expected reply: its line time counts towards every timeout behind it. */
  replyBytes: number;
  tries: number;
  timer: NodeJS.Timeout | null;
  resolve(f: Frame): void;
  reject(e: Error): void;
  /** For INPUT: the window's CRC the RESULT must echo. */
  inputCrc?: number;
  /** (Re)starts the reply timer. */
  arm?: () => void;
}

/** The device answered ERROR; `deviceCode` is its code (protocol.ts ErrorCode). */
export class DeviceRefusal extends ApiError {
  constructor(readonly deviceCode: number, message: string) {
    super('device', message);
  }
}

export interface InferResult {
  seq: number;
  outputs: Int32Array;
  timeUs: number;
  /** Resends this window needed. */
  resends: number;
}

/** How often a connected port's device node is looked for (a vanished one is an unplug). */
const PORT_WATCH_MS = 250;

/** The largest layer output the MAX78002's data memory can hold (1.3 MB of int8), with room. */
const MAX_LAYER_ELEMENTS = 1 << 21;

export class DeviceSession {
  readonly stats: SessionStats = {
    framesSent: 0, framesReceived: 0, framesCorrupted: 0, resyncs: 0, garbageBytes: 0, framesRecovered: 0,
    windowsLost: 0, naksSent: 0, naksReceived: 0, timeouts: 0, duplicates: 0, misattributed: 0, reconnects: 0,
  };
  hello!: P.Hello;
  status: LinkStatus = 'closed';
  private link: SerialLink | null = null;
  private decoder: FrameDecoder;
  private pending = new Map<number, Pending>();
  private nextSeq = 1;
  private readonly baud: number;
  private readonly retries: number;
  private readonly replyTimeoutMs: number;
  private statusCbs: ((s: LinkStatus, message?: string) => void)[] = [];
  private sensorCbs: ((s: P.Sensor & { seq: number }) => void)[] = [];
  private unpluggedAt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closedByUser = false;
  /** Set once the device stayed away past the reconnect window: every later request fails with it. */
  private lostError: ApiError | null = null;
  private portWatch: NodeJS.Timeout | null = null;
  /** Bytes received so far: replies queued behind other traffic get its line time. */
  private rxBytes = 0;
  private idleWaiters: (() => void)[] = [];

  private constructor(private readonly opts: SessionOptions) {
    this.baud = opts.baud ?? 921600;
    this.retries = opts.retries ?? 5;
    this.replyTimeoutMs = opts.replyTimeoutMs ?? 250;
    this.decoder = new FrameDecoder(({ seq }) => {
      // The header survived: ask for this seq again instead of waiting for the timeout.
      this.stats.naksSent++;
      this.write(encodeFrame(P.frame(P.MsgType.NAK, seq, P.encodeNak(0))));
    });
  }

  static async open(opts: SessionOptions): Promise<DeviceSession> {
    const s = new DeviceSession(opts);
    await s.connect();
    try {
      s.hello = await s.requestHello(opts.helloTimeoutMs ?? 2000);
    } catch (error) {
      await s.close();
      throw error;
    }
    return s;
  }

  /** Link status changes; returns a function that unsubscribes. */
  onStatus(cb: (s: LinkStatus, message?: string) => void): () => void {
    this.statusCbs.push(cb);
    return () => (this.statusCbs = this.statusCbs.filter((c) => c !== cb));
  }

  /** Windows the device captured itself (live mode); returns a function that unsubscribes. */
  onSensor(cb: (s: P.Sensor & { seq: number }) => void): () => void {
    this.sensorCbs.push(cb);
    return () => (this.sensorCbs = this.sensorCbs.filter((c) => c !== cb));
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one window and resolves with the device's result for exactly that window. */
  async infer(window: Int8Array): Promise<InferResult> {
    const payload = P.encodeInput(window);
    const inputCrc = crc32(payload);
    const seq = this.takeSeq();
    const replyBytes = FRAME_OVERHEAD + 8 + 4 * (this.hello?.outputCount ?? 0);
    const { frame, resends } = await this.request(P.MsgType.INPUT, seq, payload, P.MsgType.RESULT, { inputCrc, replyBytes });
    const r = P.decodeResult(frame.payload);
    return { seq, outputs: r.outputs, timeUs: r.timeUs, resends };
  }

  /** CRC-32, size and element width of every layer output the device holds for a window. */
  async layerCrcs(window: number): Promise<P.LayerCrcs> {
    const replyBytes = FRAME_OVERHEAD + 4 + P.LAYER_CRC_ENTRY_BYTES * this.hello.layerCount;
    const { frame } = await this.request(P.MsgType.LAYER_CRC_REQ, this.takeSeq(), P.encodeLayerCrcReq(window), P.MsgType.LAYER_CRCS, { replyBytes });
    const c = P.decodeLayerCrcs(frame.payload);
    if (c.window !== window) throw new ApiError('device', `LAYER_CRCS is for window ${c.window}, not the requested ${window}; the firmware does not follow the protocol.`);
    return c;
  }

  /**
   * Every element of one layer's output for a window the device still holds, in chunks of at most
   * `chunkBytes`. The device's `total`, `offset` and element width are checked against `expect`
   * (the simulator's layer, or LAYER_CRCS) before anything is allocated or asked again, and
   * without `expect` against an absolute ceiling: a confused or hostile device cannot make us
   * allocate gigabytes or loop for hundreds of thousands of requests. `onChunk` sees each reply.
   */
  async layerDump(
    window: number, layer: number, expect?: { total: number; elemBytes?: number },
    opts: { chunkBytes?: number; onChunk?: (d: P.LayerDump) => void } = {},
  ): Promise<P.LayerDump> {
    const bad = (what: string) => new ApiError('device', `LAYER_DUMP of layer ${layer}: ${what}; the firmware does not match this model.`);
    const chunkBytes = Math.min(opts.chunkBytes ?? LAYER_CHUNK_BYTES, LAYER_CHUNK_BYTES);
    let total = expect?.total;
    let elemBytes = expect?.elemBytes;
    let data: Int32Array | null = null;
    let offset = 0;
    let layerCount = this.hello.layerCount;
    while (total === undefined || offset < total) {
      const room = Math.max(1, Math.floor(chunkBytes / (elemBytes ?? 4)));
      const maxCount = total === undefined ? room : Math.min(room, total - offset);
      const replyBytes = FRAME_OVERHEAD + LAYER_DUMP_HEAD_BYTES + maxCount * (elemBytes ?? 4);
      const { frame } = await this.request(P.MsgType.LAYER_REQ, this.takeSeq(), P.encodeLayerReq({ window, layer, offset, maxCount }), P.MsgType.LAYER_DUMP, { replyBytes });
      const d = P.decodeLayerDump(frame.payload);
      opts.onChunk?.(d);
      if (d.window !== window || d.layer !== layer) throw bad(`the reply is for layer ${d.layer} of window ${d.window}, not window ${window}`);
      const limit = expect?.total ?? MAX_LAYER_ELEMENTS;
      if (expect ? d.total !== limit : d.total > limit) throw bad(`the device reports ${d.total} elements, expected ${expect ? limit : `at most ${limit}`}`);
      if (total !== undefined && d.total !== total) throw bad(`the element count changed from ${total} to ${d.total}`);
      if (elemBytes !== undefined && d.elemBytes !== elemBytes) throw bad(`the device sends ${d.elemBytes}-byte elements, expected ${elemBytes}`);
      total = d.total;
      elemBytes = d.elemBytes;
      layerCount = d.layerCount;
      if (total === 0) break;
      if (d.offset !== offset || d.data.length === 0 || d.data.length > maxCount || offset + d.data.length > total) {
        throw bad(`a chunk at offset ${d.offset} of ${d.data.length} elements when up to ${maxCount} at offset ${offset} of ${total} were asked`);
      }
      data ??= new Int32Array(total);
      data.set(d.data, offset);
      offset += d.data.length;
    }
    return { window, layer, layerCount, elemBytes: elemBytes ?? 1, total, offset: 0, data: data ?? new Int32Array(0) };
  }

  /** Resolves once no request is waiting for its reply. */
  whenIdle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async sensor(enable: boolean, rateHz = 0): Promise<void> {
    await this.request(P.MsgType.SENSOR_CTRL, this.takeSeq(), P.encodeSensorCtrl({ enable, rateHz }), P.MsgType.ACK, { replyBytes: FRAME_OVERHEAD });
  }

  /** Why the link ended for good (the device stayed unplugged past the reconnect window); null while usable. */
  get lost(): ApiError | null {
    return this.lostError;
  }

  async close(): Promise<void> {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.portWatch) clearInterval(this.portWatch);
    this.failAll(new ApiError('cancelled', 'The device session was closed.'), false);
    const link = this.link;
    this.link = null;
    await link?.close();
    this.setStatus('closed');
  }

  /** Line time of n bytes at the session's baud rate, ms. */
  lineMs(bytes: number): number {
    return (bytes * LINE_BITS_PER_BYTE * 1000) / this.baud;
  }

  private takeSeq(): number {
    // Skip seqs still in flight after a wrap (65,535 windows ago: practically never).
    do this.nextSeq = (this.nextSeq + 1) & 0xffff;
    while (this.nextSeq === 0 || this.pending.has(this.nextSeq));
    return this.nextSeq;
  }

  private async requestHello(timeoutMs: number): Promise<P.Hello> {
    const seq = this.takeSeq();
    try {
      const { frame } = await this.request(P.MsgType.HELLO_REQ, seq, new Uint8Array(0), P.MsgType.HELLO, { replyBytes: HELLO_REPLY_BYTES, timeoutMs, tries: 1 });
      const h = P.decodeHello(frame.payload);
      if (h.protocolVersion !== P.PROTOCOL_VERSION) {
        throw new ApiError('device', `The device speaks protocol version ${h.protocolVersion}; this workbench speaks ${P.PROTOCOL_VERSION}. Reflash the firmware from this workbench.`);
      }
      return h;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'device-timeout') {
        throw new ApiError('device-silent', `Nothing answered on ${this.opts.path} within ${timeoutMs} ms (no HELLO). Is the QAT Workbench firmware flashed and running, is the baud rate ${this.baud}, and is this the board's UART (not the debug port)?`, 'path');
      }
      throw error;
    }
  }

  private request(
    type: number, seq: number, payload: Uint8Array, expect: number,
    o: { replyBytes: number; inputCrc?: number; timeoutMs?: number; tries?: number },
  ): Promise<{ frame: Frame; resends: number }> {
    const { inputCrc, timeoutMs, tries } = o;
    // A link lost for good never comes back: fail at once instead of waiting for a reconnect.
    if (this.lostError) return Promise.reject(this.lostError);
    if (this.closedByUser) return Promise.reject(new ApiError('cancelled', 'The device session was closed.'));
    const bytes = encodeFrame(P.frame(type, seq, payload));
    return new Promise((resolve, reject) => {
      const p: Pending = {
        seq, type, expect, bytes, replyBytes: o.replyBytes, tries: 0, timer: null,
        resolve: (f) => {
          if (p.tries > 0) this.stats.framesRecovered++;
          resolve({ frame: f, resends: p.tries });
        },
        reject,
        ...(inputCrc !== undefined ? { inputCrc } : {}),
      };
      const maxTries = tries ?? this.retries + 1;
      const arm = () => {
        if (p.timer) clearTimeout(p.timer);
        if (this.status !== 'connected') return;
        // Everything ahead of this request, and the replies to it, must cross the line first.
        let ahead = 0;
        for (const q of this.pending.values()) if (q !== p) ahead += q.bytes.length + q.replyBytes;
        const ms = (timeoutMs ?? this.replyTimeoutMs) + 2 * this.lineMs(ahead + bytes.length + p.replyBytes);
        const rx0 = this.rxBytes;
        let granted = 0;
        const expire = () => {
          // Bytes that arrived meanwhile (sensor windows, other replies) held the line: our
          // reply may be queued behind them, so their line time is added before giving up.
          const owed = this.lineMs(this.rxBytes - rx0) - granted;
          if (owed >= 1) {
            granted += owed;
            p.timer = setTimeout(expire, owed);
            return;
          }
          this.stats.timeouts++;
          if (p.tries + 1 >= maxTries) {
            this.forget(seq);
            if (type === P.MsgType.INPUT) this.stats.windowsLost++;
            reject(new ApiError('device-timeout', `No ${P.typeName(expect)} for ${P.typeName(type)} #${seq} after ${p.tries + 1} attempt(s).`));
            return;
          }
          p.tries++;
          this.write(p.bytes);
          arm();
        };
        p.timer = setTimeout(expire, ms);
      };
      p.arm = arm;
      this.pending.set(seq, p);
      this.write(bytes);
      arm();
    });
  }

  private onFrame(f: Frame): void {
    this.stats.framesReceived++;
    if (f.type === P.MsgType.SENSOR) {
      const s = P.decodeSensor(f.payload);
      for (const cb of this.sensorCbs) cb({ ...s, seq: f.seq });
      return;
    }
    const p = this.pending.get(f.seq);
    if (f.type === P.MsgType.NAK) {
      this.stats.naksReceived++;
      if (p) {
        p.tries++;
        this.write(p.bytes);
        p.arm?.();
      }
      return;
    }
    if (!p) {
      this.stats.duplicates++;
      return;
    }
    if (f.type === P.MsgType.ERROR) {
      const e = P.decodeError(f.payload);
      this.settle(p);
      p.reject(new DeviceRefusal(e.code, `The device refused ${P.typeName(p.type)} #${p.seq}: ${e.message} (device error ${e.code}).`));
      return;
    }
    if (f.type !== p.expect) return;
    if (p.inputCrc !== undefined && P.decodeResult(f.payload).inputCrc !== p.inputCrc) {
      // Same seq but computed on another window: never attribute it; resend ours.
      this.stats.misattributed++;
      p.tries++;
      this.write(p.bytes);
      return;
    }
    this.settle(p);
    p.resolve(f);
  }

  private settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    this.forget(p.seq);
  }

  private forget(seq: number): void {
    this.pending.delete(seq);
    if (this.pending.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private write(bytes: Uint8Array): void {
    if (!this.link || this.status !== 'connected') return;
    this.stats.framesSent++;
    this.link.write(bytes);
  }

  private async connect(): Promise<void> {
    this.link = await openPort(this.opts.path, this.baud);
    this.decoder.reset();
    this.link.onData((chunk) => {
      this.rxBytes += chunk.length;
      const before = this.decoder.stats;
      const c0 = before.corruptFrames;
      const r0 = before.resyncs;
      const g0 = before.garbageBytes;
      const frames = this.decoder.push(chunk);
      this.stats.framesCorrupted += this.decoder.stats.corruptFrames - c0;
      this.stats.resyncs += this.decoder.stats.resyncs - r0;
      this.stats.garbageBytes += this.decoder.stats.garbageBytes - g0;
      for (const f of frames) {
        try {
          this.onFrame(f);
        } catch {
          this.stats.framesCorrupted++;
        }
      }
    });
    const link = this.link;
    link.onClose(({ unplugged, message }) => {
      if (this.closedByUser || !unplugged) return;
      this.wentAway(link, message ?? 'closed');
    });
    this.watchPort(link);
    // The line is open and requests may be written, but the link is announced as connected only
    // once the device has answered HELLO (open(), or a reconnect): a port that reappears before
    // the firmware listens must not look usable.
    this.status = 'connected';
  }

  /** The device behind `link` went away: everything in flight waits while we try to reconnect. */
  private wentAway(link: SerialLink, why: string): void {
    if (this.link !== link || this.closedByUser) return;
    this.link = null;
    this.unpluggedAt = Date.now();
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.setStatus('unplugged', `The device on ${this.opts.path} went away (${why}); reconnecting…`);
    this.scheduleReconnect();
  }

  /**
   * A port whose device node vanished (USB cable pulled, pty gone) counts as unplugged even before
   * a read or write fails: a line that only receives (live mode) may not notice for a long time.
   */
  private watchPort(link: SerialLink): void {
    if (this.portWatch) clearInterval(this.portWatch);
    const timer = setInterval(() => {
      if (this.link !== link) {
        clearInterval(timer);
        return;
      }
      stat(this.opts.path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT' || this.link !== link) return;
        this.wentAway(link, 'the port vanished');
        void link.close().catch(() => {});
      });
    }, PORT_WATCH_MS);
    timer.unref();
    this.portWatch = timer;
  }

  private scheduleReconnect(): void {
    this.reconnectTimer = setTimeout(async () => {
      if (this.closedByUser) return;
      this.setStatus('reconnecting');
      try {
        await this.connect();
        this.stats.reconnects++;
        const h = await this.requestHello(1000);
        this.setStatus('connected');
        if (h.modelHash !== this.hello.modelHash) {
          this.failAll(new ApiError('device', `After reconnecting, the device runs another model (hash ${h.modelHash.toString(16)} instead of ${this.hello.modelHash.toString(16)}).`));
          return;
        }
        // Everything that was in flight is sent again under its own seq.
        for (const p of this.pending.values()) {
          this.write(p.bytes);
          p.arm?.();
        }
      } catch (error) {
        const waited = Date.now() - this.unpluggedAt;
        if (waited > (this.opts.reconnectTimeoutMs ?? 15000)) {
          this.lostError = new ApiError('device-unplugged', `The device on ${this.opts.path} has been gone for ${Math.round(waited / 1000)} s: ${(error as Error).message}`);
          this.failAll(this.lostError);
          this.setStatus('closed', this.lostError.message);
          return;
        }
        const link = this.link;
        this.link = null;
        this.status = 'unplugged';
        await link?.close().catch(() => {});
        this.scheduleReconnect();
      }
    }, 200);
  }

  /** Rejects everything in flight; windows count as lost unless we closed the session ourselves. */
  private failAll(e: Error, lost = true): void {
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      if (lost && p.type === P.MsgType.INPUT) this.stats.windowsLost++;
      p.reject(e);
    }
    this.pending.clear();
    this.forget(-1);
  }

  private setStatus(s: LinkStatus, message?: string): void {
    this.status = s;
    for (const cb of this.statusCbs) cb(s, message);
  }
}
