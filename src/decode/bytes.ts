/** Big-endian reads without bounds checks: callers check lengths first (STYLE.md, parsers). */

/** Unsigned 16-bit big-endian value at `o`. */
export function u16(b: Buffer, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Unsigned 32-bit big-endian value at `o`. */
export function u32(b: Buffer, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
