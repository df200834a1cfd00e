/**
 * Copy `len` bytes of `src` from `from` into `dst` at `to` (ranges inside the arrays). Short runs
 * use a plain loop: Buffer.copy's per-call set-up dominated copying packets into worker slots
 * (bench: throughput) and the 64-byte seams and tails of the signature engine.
 */
export function copyBytes(src: Uint8Array, from: number, len: number, dst: Uint8Array, to: number): void {
  if (len <= 96) {
    for (let k = 0; k < len; k++) dst[to + k] = src[from + k]!;
  } else {
    dst.set(src.subarray(from, from + len), to);
  }
}
