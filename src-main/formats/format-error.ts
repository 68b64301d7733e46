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

/** Short printable rendering of a found value for `detail` (keeps messages one line, bounded). */
export function describe(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = `'${v}'`;
  else if (typeof v === 'bigint') s = `${v}n`;
  else if (v instanceof Uint8Array) s = `${v.length} bytes`;
  else {
    try {
      s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
