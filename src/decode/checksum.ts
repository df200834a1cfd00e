/**
 * Internet checksum (RFC 1071) helpers. Only used when checksum validation is on (`-k all`).
 */
import { u16 } from './bytes.js';

/** Adds the 16-bit big-endian words of `buf[off, off+len)` to `sum` (odd tail byte padded with 0). */
export function sum16(buf: Buffer, off: number, len: number, sum: number): number {
  const end = off + (len & ~1);
  let o = off;
  // Accumulate in a double: 65535 * 2^37 stays exact, far beyond a 64 KiB datagram.
  for (; o < end; o += 2) sum += u16(buf, o);
  if (len & 1) sum += buf[end]! << 8;
  return sum;
}

/** Folds a sum to 16 bits and complements it: 0 means "checksum verifies" over data that includes it. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Sum of the IPv4/IPv6 pseudo-header address words (4 words per address, v4 uses word 0). */
export function addrSum(src: Uint32Array, dst: Uint32Array, w: number, words: number): number {
  let s = 0;
  for (let k = 0; k < words; k++) {
    const a = src[w + k]!;
    const b = dst[w + k]!;
    s += (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff);
  }
  return s;
}
