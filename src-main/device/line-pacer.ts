// Releases bytes no faster than a UART would move them (8N1: 10 line bits per byte). A pty passes
// bytes at memory speed and ignores the baud rate, so the virtual device paces both directions in
// software to make timings and the link benchmark honest.

export const LINE_BITS_PER_BYTE = 10;

export class LinePacer {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private t0 = 0;
  private sent = 0;
  private timer: NodeJS.Timeout | null = null;
  private holdUntil = 0;
  private readonly bytesPerMs: number;
  /** Total bytes released. */
  released = 0;

  constructor(baud: number, private readonly sink: (chunk: Uint8Array) => void) {
    this.bytesPerMs = baud / LINE_BITS_PER_BYTE / 1000;
  }

  get backlog(): number {
    return this.queued;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.queued === 0) this.restartClock();
    this.queue.push(bytes);
    this.queued += bytes.length;
    this.schedule(0);
  }

  /** Holds the line idle for ms (a fault: the byte stream stalls). */
  hold(ms: number): void {
    this.holdUntil = Math.max(this.holdUntil, performance.now() + ms);
  }

  /** Drops everything queued (the cable was pulled). */
  clear(): void {
    this.queue = [];
    this.queued = 0;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clear();
  }

  private restartClock(): void {
    this.t0 = performance.now();
    this.sent = 0;
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick();
    }, ms);
  }

  private tick(): void {
    const now = performance.now();
    if (now < this.holdUntil) {
      this.schedule(Math.ceil(this.holdUntil - now));
      return;
    }
    if (this.holdUntil > 0 && this.t0 < this.holdUntil) {
      this.holdUntil = 0;
      this.restartClock();
    }
    let allowed = Math.floor((now - this.t0) * this.bytesPerMs) - this.sent;
    // Let at least one byte out per tick so tiny frames do not wait for timer granularity.
    if (allowed <= 0 && this.sent === 0) allowed = 1;
    while (allowed > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = Math.min(allowed, head.length);
      this.sink(head.subarray(0, n));
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
      this.queued -= n;
      this.sent += n;
      this.released += n;
      allowed -= n;
    }
    if (this.queued > 0) {
      const wait = Math.max(1, Math.ceil((this.sent + 1) / this.bytesPerMs - (performance.now() - this.t0)));
      this.schedule(wait);
    }
  }
}
