/**
 * Per-source tracking for the Vigil extra features `Src Distinct Dst Ports` and
 * `Src Distinct Dst Hosts`: for each client address, roughly how many distinct destination
 * ports and hosts it contacted within a tumbling window of packet time.
 *
 * Memory is fixed: an open-addressing table of at most `maxHosts` sources, each holding two
 * 512-bit bitmaps (128 bytes per source), counted by linear counting (estimate -m ln(zero
 * fraction): within a few per cent up to ~1,000 distinct values, saturating at 3,194 = m ln m when
 * every bit is set). When the table is full, an entry whose window ended
 * more than one window ago is reused in place (keeps probe chains intact); if none is found within
 * the probe limit the source is not tracked and `dropped` counts it.
 *
 * Counts are per worker: workers are sharded by IP address pair, so a source's flows to one
 * destination share a worker but its flows to different hosts may not (see docs/features.md).
 */

/** Bits per bitmap (power of two). */
const BITS = 512;
const WORDS = BITS / 32;
/** Probe limit when looking for a stale entry to reuse. */
const MAX_PROBE = 32;
/** Saturation value reported when a bitmap is full: m ln m. */
const SATURATED = Math.round(BITS * Math.log(BITS));

export interface HostTrackerOptions {
  /** Sources tracked at most (default 32768, about 4.5 MB). */
  maxHosts?: number;
  /** Window length in seconds of packet time (default 60). */
  windowS?: number;
}

/** Address words: DecodedBatch columns (Uint32Array) or the flow table's key block (Int32Array). */
export type Words = Uint32Array | Int32Array;

/** lowbias32 finaliser (not util/hash mix32: the table's probe behaviour was tuned with this one). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export class HostTracker {
  readonly maxHosts: number;
  readonly windowUs: number;
  /** Entries currently in use. */
  used = 0;
  /** Sources not tracked because the table was full. */
  dropped = 0;
  /** Stale entries reused for a new source. */
  recycled = 0;
  private readonly mask: number;
  private readonly index: Int32Array; // open-addressing positions -> entry, -1 empty
  private readonly keys: Int32Array; // 4 words per entry
  private readonly ver: Uint8Array;
  private readonly winStart: Float64Array;
  private readonly prevPorts: Float64Array;
  private readonly prevHosts: Float64Array;
  private readonly portBits: Int32Array;
  private readonly hostBits: Int32Array;
  private readonly portZero: Uint16Array; // zero bits left in the current window's bitmap
  private readonly hostZero: Uint16Array;

  constructor(opts: HostTrackerOptions = {}) {
    this.maxHosts = Math.max(16, Math.floor(opts.maxHosts ?? 32768));
    this.windowUs = (opts.windowS ?? 60) * 1e6;
    let cap = 16;
    while (cap < this.maxHosts * 2) cap <<= 1;
    this.mask = cap - 1;
    this.index = new Int32Array(cap).fill(-1);
    // Entries never leave the index: a stale entry is reused in place for a new source, so
    // probe chains never break and no deletion is needed.
    cap = this.maxHosts;
    this.keys = new Int32Array(cap * 4);
    this.ver = new Uint8Array(cap);
    this.winStart = new Float64Array(cap);
    this.prevPorts = new Float64Array(cap);
    this.prevHosts = new Float64Array(cap);
    this.portBits = new Int32Array(cap * WORDS);
    this.hostBits = new Int32Array(cap * WORDS);
    this.portZero = new Uint16Array(cap);
    this.hostZero = new Uint16Array(cap);
  }

  /**
   * Record that source `src` contacted `dst` (port `dport`, -1 for port-less protocols) at `tsUs`.
   * Returns the entry (for `distinctPorts`/`distinctHosts`) or -1 when the source is not tracked.
   */
  observe(
    ipVer: number,
    src: Words,
    srcOff: number,
    dst: Words,
    dstOff: number,
    proto: number,
    dport: number,
    tsUs: number,
  ): number {
    const e = this.find(ipVer, src, srcOff, tsUs);
    if (e < 0) return -1;
    if (tsUs - this.winStart[e]! >= this.windowUs) this.roll(e, tsUs);
    if (dport >= 0) {
      const b = mix((dport | (proto << 16)) ^ 0x5bd1e995) & (BITS - 1);
      const w = e * WORDS + (b >>> 5);
      const bit = 1 << (b & 31);
      if ((this.portBits[w]! & bit) === 0) {
        this.portBits[w] = this.portBits[w]! | bit;
        this.portZero[e] = this.portZero[e]! - 1;
      }
    }
    let h = mix(dst[dstOff]! ^ 0x27d4eb2d);
    if (ipVer === 6) h = mix(h ^ dst[dstOff + 1]! ^ mix(dst[dstOff + 2]! ^ mix(dst[dstOff + 3]!)));
    const b = h & (BITS - 1);
    const w = e * WORDS + (b >>> 5);
    const bit = 1 << (b & 31);
    if ((this.hostBits[w]! & bit) === 0) {
      this.hostBits[w] = this.hostBits[w]! | bit;
      this.hostZero[e] = this.hostZero[e]! - 1;
    }
    return e;
  }

  /** Entry of `src` if tracked (no insertion), else -1. */
  lookup(ipVer: number, src: Words, srcOff: number): number {
    let pos = this.hashSrc(ipVer, src, srcOff) & this.mask;
    for (let n = 0; n <= this.mask; n++) {
      const e = this.index[pos]!;
      if (e < 0) return -1;
      if (this.matches(e, ipVer, src, srcOff)) return e;
      pos = (pos + 1) & this.mask;
    }
    return -1;
  }

  /** Distinct destination ports of entry `e`: the larger of this window's and the previous window's estimate. */
  distinctPorts(e: number): number {
    return Math.max(estimate(this.portZero[e]!), this.prevPorts[e]!);
  }

  /** Distinct destination hosts of entry `e` (as `distinctPorts`). */
  distinctHosts(e: number): number {
    return Math.max(estimate(this.hostZero[e]!), this.prevHosts[e]!);
  }

  private roll(e: number, tsUs: number): void {
    // The previous window counts only if it is the one just before this window.
    const adjacent = tsUs - this.winStart[e]! < 2 * this.windowUs;
    this.prevPorts[e] = adjacent ? estimate(this.portZero[e]!) : 0;
    this.prevHosts[e] = adjacent ? estimate(this.hostZero[e]!) : 0;
    this.winStart[e] = tsUs;
    this.portBits.fill(0, e * WORDS, e * WORDS + WORDS);
    this.hostBits.fill(0, e * WORDS, e * WORDS + WORDS);
    this.portZero[e] = BITS;
    this.hostZero[e] = BITS;
  }

  private hashSrc(ipVer: number, src: Words, off: number): number {
    let h = mix(src[off]! ^ ipVer);
    if (ipVer === 6) h = mix(h ^ src[off + 1]! ^ mix(src[off + 2]! ^ mix(src[off + 3]!)));
    return h;
  }

  private matches(e: number, ipVer: number, src: Words, off: number): boolean {
    const k = e * 4;
    return (
      this.ver[e] === ipVer &&
      this.keys[k] === (src[off]! | 0) &&
      this.keys[k + 1] === (src[off + 1]! | 0) &&
      this.keys[k + 2] === (src[off + 2]! | 0) &&
      this.keys[k + 3] === (src[off + 3]! | 0)
    );
  }

  private claim(e: number, ipVer: number, src: Words, off: number, tsUs: number): void {
    const k = e * 4;
    this.ver[e] = ipVer;
    this.keys[k] = src[off]! | 0;
    this.keys[k + 1] = src[off + 1]! | 0;
    this.keys[k + 2] = src[off + 2]! | 0;
    this.keys[k + 3] = src[off + 3]! | 0;
    this.winStart[e] = tsUs;
    this.prevPorts[e] = 0;
    this.prevHosts[e] = 0;
    this.portBits.fill(0, e * WORDS, e * WORDS + WORDS);
    this.hostBits.fill(0, e * WORDS, e * WORDS + WORDS);
    this.portZero[e] = BITS;
    this.hostZero[e] = BITS;
  }

  private find(ipVer: number, src: Words, off: number, tsUs: number): number {
    let pos = this.hashSrc(ipVer, src, off) & this.mask;
    let stale = -1;
    for (let n = 0; n <= this.mask; n++) {
      const e = this.index[pos]!;
      if (e < 0) {
        if (this.used < this.maxHosts) {
          const fresh = this.used++;
          this.index[pos] = fresh;
          this.claim(fresh, ipVer, src, off, tsUs);
          return fresh;
        }
        break;
      }
      if (this.matches(e, ipVer, src, off)) return e;
      if (stale < 0 && n < MAX_PROBE && tsUs - this.winStart[e]! >= 2 * this.windowUs) stale = e;
      if (n >= MAX_PROBE && this.used >= this.maxHosts) break;
      pos = (pos + 1) & this.mask;
    }
    if (stale >= 0) {
      this.recycled++;
      this.claim(stale, ipVer, src, off, tsUs);
      return stale;
    }
    this.dropped++;
    return -1;
  }
}

/** Linear counting estimate from the number of zero bits. */
function estimateOf(zero: number): number {
  if (zero === BITS) return 0;
  if (zero === 0) return SATURATED;
  return Math.round(-BITS * Math.log(zero / BITS));
}

/**
 * `estimateOf` for every zero count 0..BITS, computed once: four estimates per flow each cost a
 * Math.log (`estimate` was 1.9 % of `analyze --no-detect` in cpu-prof, docs/performance.md).
 */
const ESTIMATES = (() => {
  const t = new Float64Array(BITS + 1);
  for (let z = 0; z <= BITS; z++) t[z] = estimateOf(z);
  return t;
})();

/** Linear counting estimate from the number of zero bits (0..BITS). */
function estimate(zero: number): number {
  return ESTIMATES[zero]!;
}
