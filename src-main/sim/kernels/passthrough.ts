// Passthrough (`op: none`): the (pooled) input is the output; no arithmetic.
export function passthrough(src: Int32Array, dst: Int32Array): void {
  dst.set(src.subarray(0, dst.length));
}
