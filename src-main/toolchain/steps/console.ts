// Step 6: read the board's console after flashing and confirm the izer's known-answer test
// (max78002.md §4.4, §7: 115200 8-N-1; "Waiting...", "*** CNN Inference Test <prefix> ***",
// "*** PASS ***" or "Data mismatch ..." + "*** FAIL ***", then timing and softmax lines). Reads
// bytes from any line-like source, so a pseudo-terminal serves in tests.

export interface ConsoleSource {
  onData(cb: (chunk: Uint8Array) => void): void;
}

export interface KatResult {
  status: 'pass' | 'fail' | 'not-read';
  lines: string[];
  inferenceUs?: number;
  /** `Data mismatch (i/len) at address ...` lines on a failure. */
  mismatches?: string[];
  note?: string;
}

export interface ReadKatOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** After PASS, how long to keep reading for the timing and classification lines. */
  trailingMs?: number;
  onLine?: (line: string) => void;
}

/** Verdict from console lines read so far; `undefined` while it is still open. */
export function katVerdict(lines: readonly string[]): 'pass' | 'fail' | undefined {
  for (const l of lines) {
    if (/\*\*\* PASS \*\*\*/.test(l)) return 'pass';
    if (/\*\*\* FAIL \*\*\*/.test(l)) return 'fail';
  }
  return undefined;
}

export function summarizeKat(lines: readonly string[], status: KatResult['status']): KatResult {
  const time = lines.map((l) => l.match(/Approximate inference time:\s*(\d+)\s*us/)).find(Boolean);
  const mismatches = lines.filter((l) => /Data mismatch/.test(l));
  const sawHeader = lines.some((l) => /\*\*\* CNN Inference Test/.test(l));
  const note =
    status === 'not-read'
      ? sawHeader
        ? 'The test started but no verdict came: the network may have finished before the core slept. Re-synthesize with --no-wfi.'
        : lines.length === 0
          ? 'Nothing arrived on the console. Check the port (the EV kit console is the USB-UART at 115200 baud) and that the board was reset after flashing.'
          : 'The console never printed the known-answer test header.'
      : status === 'fail'
        ? 'The device computed something other than the izer expected: usually wrong offsets or processor maps; compare layer by layer with the live check.'
        : undefined;
  return {
    status,
    lines: [...lines],
    ...(time ? { inferenceUs: Number(time[1]) } : {}),
    ...(mismatches.length ? { mismatches } : {}),
    ...(note ? { note } : {}),
  };
}

export function readKat(source: ConsoleSource, o: ReadKatOptions): Promise<KatResult> {
  const lines: string[] = [];
  const decoder = new TextDecoder('latin1');
  let partial = '';
  let binary = false;
  return new Promise<KatResult>((resolve) => {
    let done = false;
    let trailing: NodeJS.Timeout | undefined;
    const finish = (status: KatResult['status']) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (trailing) clearTimeout(trailing);
      o.signal?.removeEventListener('abort', onAbort);
      if (partial.trim()) lines.push(partial.trim());
      resolve(summarizeKat(lines, status));
    };
    const onAbort = () => finish(katVerdict(lines) ?? 'not-read');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish(katVerdict(lines) ?? 'not-read'), o.timeoutMs);
    source.onData((chunk) => {
      if (done || binary) return;
      for (const b of chunk) {
        // The live-check harness speaks binary frames after the KAT: stop reading text there.
        if (b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
          binary = true;
          const v = katVerdict(lines);
          if (v) finish(v);
          return;
        }
        const ch = decoder.decode(new Uint8Array([b]));
        if (ch === '\n' || ch === '\r') {
          const line = partial.trim();
          partial = '';
          if (!line) continue;
          lines.push(line);
          o.onLine?.(line);
          const v = katVerdict([line]);
          if (v === 'fail') return finish('fail');
          if (v === 'pass' && !trailing) trailing = setTimeout(() => finish('pass'), o.trailingMs ?? 500);
        } else partial += ch;
      }
    });
  });
}
