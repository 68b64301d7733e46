// A hand-assembled WebAssembly SIMD kernel (emitted here as bytes; WebAssembly is a JS global, so
// the core stays pure): out[o][pix] = Σ_k W[o][k]·P[pix][k] over int16 rows, 8 products per
// `i32x4.dot_i16x8_s`, two pixels × four output channels per pass so each load feeds 2-4 products.
// Layout (all byte offsets into the exported memory):
//   P: nPix (even) rows of k8·8 int16 (zero-padded patch rows, im2col);
//   W: per block of 4 output channels, for each k-chunk the 4 rows' 8 int16 side by side (64 B);
//   out: int32 [nOBlocks·4][nPix].
// Exact integer arithmetic: products of int16 summed in int32 lanes (no saturation in dot).

const SIMD = 0xfd;
const op = {
  block: 0x02, loop: 0x03, end: 0x0b, brIf: 0x0d, get: 0x20, set: 0x21, tee: 0x22,
  i32Store: 0x36, i32Const: 0x41, i32Ne: 0x47, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, i32Shl: 0x74,
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

// Local indices: params 0..5, i32 locals 6..14, v128 locals 15..24.
const P_PTR = 0, W_PTR = 1, OUT_PTR = 2, N_PIX = 3, N_OB = 4, K8 = 5;
const PIX = 6, OB = 7, PP = 8, WW = 9, K = 10, BASE = 11, STRIDE = 12, PROW = 13, PP2 = 14;
const A = [15, 16, 17, 18], B = [19, 20, 21, 22], X = 23, X2 = 24;

// Two patch rows (pixels pix, pix+1) × four output channels per inner pass: 2 + 4 loads feed
// 8 dot products. nPix must be even (the caller pads with a zero row).
function body(): number[] {
  const g = (i: number): number[] => [op.get, i];
  const s = (i: number): number[] => [op.set, i];
  const c = (n: number): number[] => [op.i32Const, ...sleb(n)];
  const v128load = (offset: number): number[] => [SIMD, 0x00, 4, ...uleb(offset)];
  const dot = [SIMD, ...uleb(186)];
  const add4 = [SIMD, ...uleb(174)];
  const lane = (l: number): number[] => [SIMD, ...uleb(27), l];
  const zero = [SIMD, ...uleb(12), ...new Array(16).fill(0)];
  const hsum = (a: number): number[] => [...g(a), ...lane(0), ...g(a), ...lane(1), op.i32Add, ...g(a), ...lane(2), op.i32Add, ...g(a), ...lane(3), op.i32Add];
  const code: number[] = [
    ...g(N_PIX), ...c(2), op.i32Shl, ...s(STRIDE),
    ...c(0), ...s(PIX),
    op.loop, 0x40,
    ...g(P_PTR), ...g(PIX), ...g(K8), ...c(4), op.i32Shl, op.i32Mul, op.i32Add, ...s(PROW),
    ...c(0), ...s(OB),
    op.loop, 0x40,
    ...[...A, ...B].flatMap((a) => [...zero, ...s(a)]),
    ...g(PROW), ...s(PP),
    ...g(PROW), ...g(K8), ...c(4), op.i32Shl, op.i32Add, ...s(PP2),
    ...g(W_PTR), ...g(OB), ...g(K8), ...c(6), op.i32Shl, op.i32Mul, op.i32Add, ...s(WW),
    ...g(K8), ...s(K),
    op.loop, 0x40,
    ...g(PP), ...v128load(0), ...s(X),
    ...g(PP2), ...v128load(0), ...s(X2),
    ...[0, 1, 2, 3].flatMap((j) => [
      ...g(WW), ...v128load(16 * j), op.tee, WTMP,
      ...g(X), ...dot, ...g(A[j]!), ...add4, ...s(A[j]!),
      ...g(WTMP), ...g(X2), ...dot, ...g(B[j]!), ...add4, ...s(B[j]!),
    ]),
    ...g(PP), ...c(16), op.i32Add, ...s(PP),
    ...g(PP2), ...c(16), op.i32Add, ...s(PP2),
    ...g(WW), ...c(64), op.i32Add, ...s(WW),
    ...g(K), ...c(1), op.i32Sub, op.tee, K, op.brIf, 0,
    op.end,
    // base = out + ((ob·4·nPix + pix) << 2); pixel pix+1 is the next word; channels a stride apart.
    ...g(OUT_PTR), ...g(OB), ...c(2), op.i32Shl, ...g(N_PIX), op.i32Mul, ...g(PIX), op.i32Add, ...c(2), op.i32Shl, op.i32Add, ...s(BASE),
    ...[0, 1, 2, 3].flatMap((j) => [
      ...g(BASE), ...hsum(A[j]!), op.i32Store, 2, 0,
      ...g(BASE), ...hsum(B[j]!), op.i32Store, 2, 4,
      ...(j < 3 ? [...g(BASE), ...g(STRIDE), op.i32Add, ...s(BASE)] : []),
    ]),
    ...g(OB), ...c(1), op.i32Add, op.tee, OB, ...g(N_OB), op.i32Ne, op.brIf, 0,
    op.end,
    ...g(PIX), ...c(2), op.i32Add, op.tee, PIX, ...g(N_PIX), op.i32Ne, op.brIf, 0,
    op.end,
    op.end,
  ];
  const locals = [2, ...uleb(9), 0x7f, ...uleb(11), 0x7b]; // v128: A0..3, B0..3, X, X2, WTMP
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

const WTMP = 25;

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

// requant(ptr, rows, rowLen, biasPtr, r, lo, abs): in place over int32 rows of rowLen (a multiple
// of 4) values: y = clamp((acc + bias[row] + 2^(r−1)) >> r, lo, 127), then |y| ≤ 127 when abs ≠ 0.
// That is the 8-bit output stage for total shifts s ≤ 7 (r = 7 − s; see output-stage.ts), with the
// bias (β·128 per row) added first; arithmetic shift right is the floor division.
function requantBody(): number[] {
  const [PTR, ROWS, LEN, BIAS, R, LO, ABS] = [0, 1, 2, 3, 4, 5, 6];
  const [O, Q, END, ADD] = [7, 8, 9, 10];
  const [VADD, V, VLO, VHI] = [11, 12, 13, 14];
  const g = (i: number): number[] => [op.get, i];
  const s = (i: number): number[] => [op.set, i];
  const c = (n: number): number[] => [op.i32Const, ...sleb(n)];
  const simd = (code: number): number[] => [SIMD, ...uleb(code)];
  const splat = simd(0x11), shrS = simd(0xac), add4 = simd(0xae), minS = simd(0xb6), maxS = simd(0xb8), abs4 = simd(0xa0);
  const code: number[] = [
    ...g(LO), ...splat, ...s(VLO),
    ...c(127), ...splat, ...s(VHI),
    ...c(0), ...s(O),
    op.loop, 0x40,
    // add = bias[o] + ((1 << r) >> 1)
    ...g(BIAS), ...g(O), ...c(2), op.i32Shl, op.i32Add, 0x28, 2, 0,
    ...c(1), ...g(R), op.i32Shl, ...c(1), 0x75, op.i32Add, ...s(ADD),
    ...g(ADD), ...splat, ...s(VADD),
    ...g(PTR), ...g(O), ...g(LEN), op.i32Mul, ...c(2), op.i32Shl, op.i32Add, op.tee, Q,
    ...g(LEN), ...c(2), op.i32Shl, op.i32Add, ...s(END),
    op.loop, 0x40,
    ...g(Q),
    ...g(Q), SIMD, 0x00, 4, 0, ...g(VADD), ...add4, ...g(R), ...shrS, ...g(VLO), ...maxS, ...g(VHI), ...minS, ...s(V),
    ...g(ABS), 0x04, 0x40, ...g(V), ...abs4, ...g(VHI), ...minS, ...s(V), op.end,
    ...g(V), SIMD, 0x0b, 4, 0,
    ...g(Q), ...c(16), op.i32Add, op.tee, Q, ...g(END), op.i32Ne, op.brIf, 0,
    op.end,
    ...g(O), ...c(1), op.i32Add, op.tee, O, ...g(ROWS), op.i32Ne, op.brIf, 0,
    op.end,
    op.end,
  ];
  const fn = [2, ...uleb(4), 0x7f, ...uleb(4), 0x7b, ...code];
  return [...uleb(fn.length), ...fn];
}

/**
 * The module bytes: exports `mem` (memory), `gemm(pPtr, wPtr, outPtr, nPix, nOBlocks, k8)` and
 * `requant(ptr, rows, rowLen, biasPtr, r, lo, abs)`.
 */
export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, [2, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0, 0x60, 7, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]);
  const func = section(3, [2, 0, 1]);
  const mem = section(5, [1, 0, 1]);
  const exp = section(7, [3, ...name('mem'), 2, 0, ...name('gemm'), 0, 0, ...name('requant'), 0, 1]);
  const code = section(10, [2, ...body(), ...requantBody()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...func, ...mem, ...exp, ...code]);
}

export interface GemmInstance {
  memory: WebAssembly.Memory;
  gemm: (pPtr: number, wPtr: number, outPtr: number, nPix: number, nOBlocks: number, k8: number) => void;
  requant: (ptr: number, rows: number, rowLen: number, biasPtr: number, r: number, lo: number, abs: number) => void;
}

let cached: WebAssembly.Module | null | undefined;

/** A fresh instance, or null where WebAssembly SIMD is unavailable (callers fall back to JS). */
export function instantiateGemm(): GemmInstance | null {
  if (cached === undefined) {
    try {
      cached = typeof WebAssembly === 'object' && WebAssembly.validate(gemmModuleBytes()) ? new WebAssembly.Module(gemmModuleBytes()) : null;
    } catch {
      cached = null;
    }
  }
  if (!cached) return null;
  const inst = new WebAssembly.Instance(cached, {});
  return { memory: inst.exports.mem as WebAssembly.Memory, gemm: inst.exports.gemm as GemmInstance['gemm'], requant: inst.exports.requant as GemmInstance['requant'] };
}
