// The one error type of every byte-level reader and writer in formats/. It names the file, the
// field inside it and what was expected, so the UI can show "sample.npy: header.descr: expected
// ..." instead of a stack trace, and callers can branch on `field` without parsing text.

export class FormatError extends Error {
  constructor(
    /** File name as the user knows it (not necessarily a path). */
    readonly file: string,
    /** Dotted field inside the file, e.g. `header.descr`, `data.pkl@123`, `state_dict.conv1.op.weight`. */
    readonly field: string,
    /** What a valid file has there, in plain words. */
    readonly expected: string,
    /** What was actually found, when it helps. */
    readonly detail?: string,
  ) {
    super(`${file}: ${field}: expected ${expected}${detail ? ` (got ${detail})` : ''}`);
    this.name = 'FormatError';
  }
}

/**
 * Short printable rendering of a found value for `detail` (one line, at most `max` characters).
 * It walks the value itself with a depth and length budget instead of serialising it whole: a
 * hostile file can hand us a DAG whose full rendering is exponential, or a cycle.
 */
export function describe(v: unknown, max = 80): string {
  let out = '';
  const full = () => out.length > max;
  const seen = new Set<object>();
  const emit = (s: string) => { out += s; };
  const walk = (x: unknown, depth: number): void => {
    if (full()) return;
    if (typeof x === 'string') {
      const t = x.length > max ? x.slice(0, max) : x;
      return emit(depth === 0 ? `'${t}'` : JSON.stringify(t));
    }
    if (typeof x === 'bigint') return emit(`${x}n`);
    if (x === null || typeof x !== 'object') return emit(typeof x === 'number' || typeof x === 'boolean' ? String(x) : x === undefined ? 'undefined' : typeof x);
    if (x instanceof Uint8Array) return emit(`${x.length} bytes`);
    if (ArrayBuffer.isView(x)) return emit(`${x.constructor.name}(${(x as unknown as { length: number }).length})`);
    if (seen.has(x)) return emit('<cycle>');
    const plain = Object.getPrototypeOf(x) === Object.prototype || Object.getPrototypeOf(x) === null;
    const items: [unknown, unknown][] | unknown[] | undefined =
      Array.isArray(x) ? x : x instanceof Map ? [...mapHead(x, max)] : x instanceof Set ? [...setHead(x, max)]
        : plain ? Object.keys(x).slice(0, max).map((k) => [k, (x as Record<string, unknown>)[k]]) : undefined;
    if (!items) {
      const name = x.constructor?.name;
      const text = typeof (x as { toString?: unknown }).toString === 'function' && name !== 'Object' ? String(x) : '';
      return emit(text && text !== '[object Object]' ? text : name && name !== 'Object' ? `<${name}>` : '{...}');
    }
    const [open, close] = Array.isArray(x) ? ['[', ']'] : ['{', '}'];
    if (depth >= 6) return emit(`${open}...${close}`);
    seen.add(x);
    emit(open);
    for (let i = 0; i < items.length && !full(); i++) {
      if (i) emit(',');
      if (x instanceof Map || plain) {
        const [k, val] = items[i] as [unknown, unknown];
        walk(k, depth + 1);
        emit(':');
        walk(val, depth + 1);
      } else walk(items[i], depth + 1);
    }
    emit(close);
    seen.delete(x);
  };
  try {
    walk(v, 0);
  } catch {
    out = Object.prototype.toString.call(v);
  }
  return out.length > max ? `${out.slice(0, max - 3)}...` : out;
}

function* mapHead(m: Map<unknown, unknown>, n: number): Generator<[unknown, unknown]> {
  for (const e of m) { if (n-- <= 0) return; yield e; }
}
function* setHead(s: Set<unknown>, n: number): Generator<unknown> {
  for (const e of s) { if (n-- <= 0) return; yield e; }
}
