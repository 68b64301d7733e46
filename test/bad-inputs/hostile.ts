// Builders of hostile inputs: tiny files that explode in time or memory in a careless reader.
// Shared by the budget unit tests and the bad-inputs corpus (generate.ts writes them to disk).

const op = (...v: (number | string)[]) => v.flatMap((x) => (typeof x === 'string' ? [...x].map((c) => c.charCodeAt(0)) : [x]));

/** A pickle of `levels` nested lists, each level holding the level below twice (2^levels paths). */
export function dagPickle(levels: number): Uint8Array {
  if (levels > 255) throw new Error('BINPUT indexes are one byte');
  const b = op(0x80, 2, ']', 'q', 0);
  for (let i = 1; i <= levels; i++) b.push(...op('0', ']', '(', 'h', i - 1, 'h', i - 1, 'e', 'q', i));
  b.push(...op('.'));
  return Uint8Array.from(b);
}

/** A pickle of one list nested `depth` deep, built through the memo so the stack stays small. */
export function deepPickle(depth: number): Uint8Array {
  const b = op(0x80, 2, ']', 'r', 0, 0, 0, 0);
  for (let i = 1; i <= depth; i++) {
    b.push(...op('0', ']', 'j'), ...u32(i - 1), ...op('a', 'r'), ...u32(i));
  }
  b.push(...op('.'));
  return Uint8Array.from(b);
}

/** A pickle of a list that contains itself. */
export function selfListPickle(): Uint8Array {
  return Uint8Array.from(op(0x80, 2, ']', '2', 'a', '.'));
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** A pickle of one list holding `n` empty lists: 2 bytes of file per JS object. */
export function manyListsPickle(n: number): Uint8Array {
  const b = new Uint8Array(4 + 2 * n + 1);
  b.set([0x80, 2, 0x5d, 0x28]); // PROTO 2, EMPTY_LIST, MARK
  for (let i = 0; i < n; i++) b[4 + i] = 0x5d; // EMPTY_LIST × n
  // APPENDS once at the end (so the stack holds them all, as a careless reader would build).
  const out = new Uint8Array(4 + n + 2);
  out.set(b.subarray(0, 4 + n));
  out[4 + n] = 0x65; // APPENDS
  out[5 + n] = 0x2e; // STOP
  return out;
}
