/**
 * Outbound-volume exfiltration detector: bytes an internal host ($HOME_NET) sends to one external
 * address over a sliding window, with the out/in asymmetry of the pair. Counted per packet, so a
 * transfer is reported while it runs (a slow upload over one long connection, or many connections
 * to one destination), not when its flow ends. Downloads (inbound-heavy), internal-to-internal
 * transfers (backups to a file server, iperf between hosts) and external-to-external traffic are
 * not counted. One alert per episode and pair; the episode ends when the pair sent nothing for a
 * whole window. Thresholds: docs/behavior.md.
 *
 * State: a fixed pool of pair entries in typed arrays behind an open-addressing index (numeric
 * keys, no per-packet allocation); at the cap the least recently active of a bounded probe is evicted.
 */
import type { PacketBatch } from '../../capture/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import { formatIp } from '../../flow/key.js';
import { mix32 } from '../../util/hash.js';
import type { BehaviorContext, BehaviorDetector } from './types.js';

export const EXFILTRATION_NAME = 'exfiltration';

/** Defaults (documented in docs/behavior.md). */
export const EXFILTRATION_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  /** Sliding window over which outbound bytes are summed, seconds. */
  window_s: 600,
  /** Bytes (frame bytes, as flow records count them) sent to one external address in the window. */
  min_bytes_out: 1_000_000,
  /** Out/in byte ratio at least this (browsing and downloads are inbound-heavy; 5 = PCR 0.67). */
  min_ratio: 5,
});

const SID = 9200401;
/** Buckets per window: the window slides in steps of window/BUCKETS. */
const BUCKETS = 10;
/** Pair entries per detector (one per pipeline shard); about 230 bytes each. */
export const MAX_PAIRS = 16384;
/** Entries examined to pick an eviction victim at the cap. */
const EVICT_PROBE = 32;
/** Entries visited per tick by the idle sweep. */
const SWEEP_PER_TICK = 1024;

/**
 * Pair entries keyed by (inside address, outside address): IPv4 and IPv6 in 4 words each, as in
 * DecodedBatch. Linear probing, power-of-two index at load <= 0.5, backward-shift deletion.
 */
export class PairTable {
  readonly cap: number;
  /** Words per entry: inside 4, outside 4. */
  readonly keys: Uint32Array;
  readonly ver: Uint8Array;
  readonly hash: Int32Array;
  readonly used: Uint8Array;
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly free: Int32Array;
  private freeTop: number;
  size = 0;

  constructor(cap: number) {
    this.cap = cap;
    this.keys = new Uint32Array(cap * 8);
    this.ver = new Uint8Array(cap);
    this.hash = new Int32Array(cap);
    this.used = new Uint8Array(cap);
    let n = 16;
    while (n < cap * 2) n *= 2;
    this.index = new Int32Array(n).fill(-1);
    this.mask = n - 1;
    this.free = new Int32Array(cap);
    for (let k = 0; k < cap; k++) this.free[k] = cap - 1 - k;
    this.freeTop = cap;
  }

  static hashOf(ver: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number): number {
    let h = mix32(a[ao]! ^ 0x9e3779b9);
    h = mix32(h ^ b[bo]!);
    if (ver === 6) {
      for (let k = 1; k < 4; k++) {
        h = mix32(h ^ a[ao + k]!);
        h = mix32(h ^ b[bo + k]!);
      }
    }
    return h | 0;
  }

  private same(e: number, ver: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
    if (this.ver[e] !== ver) return false;
    const k = this.keys;
    const o = e * 8;
    if (k[o] !== a[ao] || k[o + 4] !== b[bo]) return false;
    if (ver !== 6) return true;
    return (
      k[o + 1] === a[ao + 1] &&
      k[o + 2] === a[ao + 2] &&
      k[o + 3] === a[ao + 3] &&
      k[o + 5] === b[bo + 1] &&
      k[o + 6] === b[bo + 2] &&
      k[o + 7] === b[bo + 3]
    );
  }

  /** Entry of the pair, or -1. */
  find(h: number, ver: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number): number {
    const idx = this.index;
    for (let pos = h & this.mask; ; pos = (pos + 1) & this.mask) {
      const e = idx[pos]!;
      if (e < 0) return -1;
      if (this.hash[e] === h && this.same(e, ver, a, ao, b, bo)) return e;
    }
  }

  /** Insert a pair (not present); -1 when the pool is full. */
  insert(h: number, ver: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number): number {
    if (this.freeTop === 0) return -1;
    const e = this.free[--this.freeTop]!;
    const o = e * 8;
    const k = this.keys;
    const n = ver === 6 ? 4 : 1;
    for (let j = 0; j < 4; j++) {
      k[o + j] = j < n ? a[ao + j]! : 0;
      k[o + 4 + j] = j < n ? b[bo + j]! : 0;
    }
    this.ver[e] = ver;
    this.hash[e] = h;
    this.used[e] = 1;
    let pos = h & this.mask;
    while (this.index[pos]! >= 0) pos = (pos + 1) & this.mask;
    this.index[pos] = e;
    this.size++;
    return e;
  }

  /** Remove entry e (backward-shift deletion keeps probe chains intact without tombstones). */
  remove(e: number): void {
    if (this.used[e] !== 1) return;
    const idx = this.index;
    const mask = this.mask;
    let pos = this.hash[e]! & mask;
    while (idx[pos] !== e) pos = (pos + 1) & mask;
    let hole = pos;
    for (let q = (hole + 1) & mask; ; q = (q + 1) & mask) {
      const x = idx[q]!;
      if (x < 0) break;
      const home = this.hash[x]! & mask;
      // Move x into the hole when its home is not cyclically within (hole, q].
      const inRange = hole <= q ? home > hole && home <= q : home > hole || home <= q;
      if (!inRange) {
        idx[hole] = x;
        hole = q;
      }
    }
    idx[hole] = -1;
    this.used[e] = 0;
    this.free[this.freeTop++] = e;
    this.size--;
  }
}

export function createExfiltration(ctx: BehaviorContext): BehaviorDetector {
  const p = { ...EXFILTRATION_DEFAULTS, ...ctx.cfg.params[EXFILTRATION_NAME] };
  const windowS = p['window_s']!;
  const bucketUs = Math.max(1, (windowS * 1e6) / BUCKETS);
  const minOut = p['min_bytes_out']!;
  const minRatio = p['min_ratio']!;
  const isHome = ctx.isHome;

  const cap = MAX_PAIRS;
  const table = new PairTable(cap);
  const outB = new Float64Array(cap * BUCKETS);
  const inB = new Float64Array(cap * BUCKETS);
  /** Absolute bucket number (time / bucketUs) of each entry's newest bucket. */
  const cur = new Float64Array(cap);
  const winOut = new Float64Array(cap);
  const winIn = new Float64Array(cap);
  const pktsOut = new Float64Array(cap);
  const lastUs = new Float64Array(cap);
  /** Start of the current episode (first outbound packet after a quiet window). */
  const startUs = new Float64Array(cap);
  const alerted = new Uint8Array(cap);
  const dport = new Uint16Array(cap);
  const l4 = new Uint8Array(cap);
  /** Bumped each time an entry is (re)used, so a cached entry number can be checked. */
  const gen = new Int32Array(cap);
  let evictHand = 0;
  let sweepHand = 0;

  // Per flow slot (DecodedBatch.flowSlot): the flow's class and pair entry, so the HOME_NET tests
  // and the pair lookup run once per flow instead of once per packet. Slots are reused by later
  // flows, so each cache line carries a signature of the flow's addresses and ports (the same in
  // both directions). Grown on demand up to the flow table's slot count.
  let slotSig = new Int32Array(0);
  /** 0 unknown, 1 not counted (internal<->internal, external<->external), 2 flowDir 0 is outbound, 3 flowDir 1 is. */
  let slotCls = new Uint8Array(0);
  let slotPair = new Int32Array(0);
  let slotGen = new Int32Array(0);

  function growSlots(slot: number): void {
    let n = Math.max(1024, slotSig.length);
    while (n <= slot) n *= 2;
    const sig = new Int32Array(n);
    sig.set(slotSig);
    const cls = new Uint8Array(n);
    cls.set(slotCls);
    const pair = new Int32Array(n);
    pair.set(slotPair);
    const g = new Int32Array(n);
    g.set(slotGen);
    slotSig = sig;
    slotCls = cls;
    slotPair = pair;
    slotGen = g;
  }

  /** Slide entry e's window to absolute bucket b. */
  function advance(e: number, b: number): void {
    const c = cur[e]!;
    if (b <= c) return;
    const base = e * BUCKETS;
    const steps = Math.min(b - c, BUCKETS);
    for (let s = 1; s <= steps; s++) {
      const k = base + ((c + s) % BUCKETS);
      winOut[e] = winOut[e]! - outB[k]!;
      winIn[e] = winIn[e]! - inB[k]!;
      outB[k] = 0;
      inB[k] = 0;
    }
    // A fully slid window is empty (no subtraction order effects).
    if (steps === BUCKETS) winOut[e] = winIn[e] = 0;
    cur[e] = b;
    if (winOut[e]! <= 0) {
      winOut[e] = 0;
      alerted[e] = 0;
      pktsOut[e] = 0;
    }
  }

  function evictOne(): void {
    let victim = -1;
    let oldest = Infinity;
    for (let k = 0; k < EVICT_PROBE; k++) {
      const e = (evictHand + k) % cap;
      if (table.used[e] === 1 && lastUs[e]! < oldest) {
        oldest = lastUs[e]!;
        victim = e;
      }
    }
    evictHand = (evictHand + EVICT_PROBE) % cap;
    if (victim >= 0) table.remove(victim);
  }

  function entryOf(ver: number, a: Uint32Array, ao: number, b: Uint32Array, bo: number, ts: number): number {
    const h = PairTable.hashOf(ver, a, ao, b, bo);
    let e = table.find(h, ver, a, ao, b, bo);
    if (e >= 0) return e;
    if (table.size >= cap) evictOne();
    e = table.insert(h, ver, a, ao, b, bo);
    if (e < 0) return -1;
    gen[e] = (gen[e]! + 1) | 0;
    outB.fill(0, e * BUCKETS, (e + 1) * BUCKETS);
    inB.fill(0, e * BUCKETS, (e + 1) * BUCKETS);
    cur[e] = Math.floor(ts / bucketUs);
    winOut[e] = winIn[e] = pktsOut[e] = 0;
    startUs[e] = ts;
    alerted[e] = 0;
    return e;
  }

  function raise(e: number, ts: number): void {
    alerted[e] = 1;
    const ver = table.ver[e] === 6 ? 6 : 4;
    const out = winOut[e]!;
    const inb = winIn[e]!;
    const dur = Math.max(0.001, (ts - startUs[e]!) / 1e6);
    ctx.emit({
      tsUs: ts,
      sid: SID,
      rev: 1,
      msg: 'VIGIL BEHAVIOR Large asymmetric outbound transfer to an external host',
      type: 'data_exfiltration',
      severity: out >= 10 * minOut ? 'high' : 'medium',
      mitre: ['T1048', 'T1041'],
      srcIp: formatIp(ver, table.keys, e * 8),
      dstIp: formatIp(ver, table.keys, e * 8 + 4),
      srcPort: 0,
      dstPort: dport[e]!,
      proto: l4[e]!,
      ipVer: ver,
      flowId: 0,
      evidence: {
        bytes_out: [Math.round(out)],
        bytes_in: [Math.round(inb)],
        ratio: [inb > 0 ? Math.round((out / inb) * 10) / 10 : 'inf'],
        packets_out: [pktsOut[e]!],
        window_s: [windowS],
        duration_s: [Math.round(dur * 10) / 10],
        rate_bytes_per_s: [Math.round(out / Math.min(dur, windowS))],
      },
    });
  }

  return {
    name: EXFILTRATION_NAME,

    packets(pkts: PacketBatch, dec: DecodedBatch): void {
      const n = dec.count;
      const ipVer = dec.ipVer;
      const src = dec.src;
      const dst = dec.dst;
      const flowSlot = dec.flowSlot;
      const flowDir = dec.flowDir;
      const origLen = pkts.origLen;
      const tsCol = pkts.tsUs;
      for (let i = 0; i < n; i++) {
        const ver = ipVer[i]!;
        if (ver === 0) continue;
        const o = i * 4;
        const ts = tsCol[i]!;
        const slot = flowSlot[i]!;
        let e: number;
        let outbound: boolean;
        if (slot >= 0) {
          if (slot >= slotSig.length) growSlots(slot);
          let sig = src[o]! ^ dst[o]! ^ Math.imul(dec.sport[i]! ^ dec.dport[i]!, 0x9e3779b1) ^ (dec.proto[i]! << 24);
          if (ver === 6)
            sig ^= mix32(src[o + 1]! ^ dst[o + 1]! ^ src[o + 2]! ^ dst[o + 2]! ^ src[o + 3]! ^ dst[o + 3]!);
          sig |= 0;
          let cls = slotCls[slot]!;
          if (cls === 0 || slotSig[slot] !== sig) {
            const sh = isHome(ver, src, o);
            cls = sh === isHome(ver, dst, o) ? 1 : sh === (flowDir[i] === 0) ? 2 : 3;
            slotSig[slot] = sig;
            slotCls[slot] = cls;
            slotPair[slot] = -1;
          }
          if (cls === 1) continue;
          outbound = (cls === 2) === (flowDir[i] === 0);
          e = slotPair[slot]!;
          if (e < 0 || table.used[e] !== 1 || gen[e] !== slotGen[slot]) {
            e = outbound ? entryOf(ver, src, o, dst, o, ts) : entryOf(ver, dst, o, src, o, ts);
            if (e < 0) continue;
            slotPair[slot] = e;
            slotGen[slot] = gen[e]!;
          }
        } else {
          // Not a flow packet (an IP fragment not yet reassembled): classify it on its own.
          outbound = isHome(ver, src, o);
          if (outbound === isHome(ver, dst, o)) continue;
          e = outbound ? entryOf(ver, src, o, dst, o, ts) : entryOf(ver, dst, o, src, o, ts);
          if (e < 0) continue;
        }
        advance(e, Math.floor(ts / bucketUs));
        lastUs[e] = ts;
        const k = e * BUCKETS + (cur[e]! % BUCKETS);
        const bytes = origLen[i]!;
        if (!outbound) {
          inB[k] = inB[k]! + bytes;
          winIn[e] = winIn[e]! + bytes;
          continue;
        }
        if (winOut[e] === 0) startUs[e] = ts;
        outB[k] = outB[k]! + bytes;
        winOut[e] = winOut[e]! + bytes;
        pktsOut[e] = pktsOut[e]! + 1;
        dport[e] = dec.dport[i]!;
        l4[e] = dec.proto[i]!;
        if (alerted[e] === 0 && winOut[e]! >= minOut && winOut[e]! >= minRatio * winIn[e]!) raise(e, ts);
      }
    },

    tick(nowUs: number): void {
      // Forget pairs idle for two windows (bounded work per batch).
      const idleUs = 2 * windowS * 1e6;
      for (let k = 0; k < SWEEP_PER_TICK; k++) {
        const e = sweepHand;
        sweepHand = (sweepHand + 1) % cap;
        if (table.used[e] === 1 && nowUs - lastUs[e]! > idleUs) table.remove(e);
      }
    },
  };
}
