/** Integer hashing helpers shared by the shard selector and the per-host tables. */

/** Mix one 32-bit word into a well-distributed unsigned 32-bit value (murmur3's fmix32 finaliser). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
