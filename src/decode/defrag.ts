/**
 * IPv4 and IPv6 fragment reassembly with bounded memory.
 *
 * - Datagrams in progress ("trackers") are keyed by (version, protocol (v4 only), source,
 *   destination, identification) in a chained hash table over typed arrays, seeded per process.
 * - Caps: `maxTrackers` datagrams in progress, `maxBytes` of fragment buffers. Reaching the tracker
 *   cap evicts the oldest datagram (counts `defrag.max_trackers_reached`); reaching the byte cap
 *   evicts oldest datagrams until the new fragment fits (counts `defrag.max_frag_hits`), or drops
 *   the fragment when only its own datagram is left (`decoder.ipvN.frag_ignored`).
 * - Timeouts use packet time: a datagram whose first fragment is older than `timeoutUs` is dropped
 *   when the next fragment arrives (`defrag.ipvN.timeouts`).
 * - Overlap policy: **first wins** (Suricata's `first` policy), at the 8-byte granularity of
 *   fragment offsets: bytes already received are never overwritten, so a later overlapping fragment
 *   cannot change data an earlier one supplied. Any overlap (including an exact duplicate) counts
 *   `decoder.ipvN.frag_overlap` and marks the rebuilt datagram (PFLAG.FRAG_OVERLAP). A second last
 *   fragment disagreeing on the total length, and data beyond the known end, count as overlaps too.
 *   The first fragment (offset 0) supplies the IP header (v6: the unfragmentable part).
 *
 * Memory: per tracker a buffer [HDR_RESERVE header room | payload], grown by doubling up to 64 KiB
 * of payload, plus one bit per 8-byte block received. The rebuilt datagram is contiguous in it.
 */
import { u16 } from './bytes.js';
import { EV } from './events.js';

/** Bytes kept in front of the payload for the IP header (v6: the whole unfragmentable part). */
export const HDR_RESERVE = 512;
/** Largest payload (after the IP header / unfragmentable part) a rebuilt datagram may have. */
const MAX_PAYLOAD = 65535;
const MIN_PAYLOAD_CAP = 1024;
const KEY_WORDS = 10; // ver<<8|proto, src[4], dst[4], id

/** `add` results other than a completed tracker slot (>= 0). */
export const DEFRAG_PENDING = -1;
/** The fragment was malformed (an invalidating event was counted). */
export const DEFRAG_INVALID = -2;
/** The fragment was dropped by a cap or ignored (counted, not malformed). */
export const DEFRAG_DROPPED = -3;

export interface DefragLimits {
  maxTrackers: number;
  maxBytes: number;
  timeoutUs: number;
}

export class Defrag {
  readonly maxTrackers: number;
  readonly maxBytes: number;
  readonly timeoutUs: number;
  /** Set by `add`: this fragment overlapped data already received. */
  lastOverlap = false;
  /** Datagrams in progress, bytes of buffers held. */
  active = 0;
  bytes = 0;

  private readonly ev: Uint32Array;
  private readonly key: Uint32Array;
  private readonly hashOf: Uint32Array;
  private readonly firstTs: Float64Array;
  /** Payload length once the last fragment was seen, else -1. */
  private readonly total: Int32Array;
  /** Header bytes stored (0: the offset-0 fragment has not arrived). */
  private readonly hdrLen: Int32Array;
  /** v6: offset, from the header start, of the next-header byte that named the fragment header. */
  private readonly nhPos: Int32Array;
  /** v6: next header of the fragmentable part (from the offset-0 fragment). */
  private readonly fragNh: Uint8Array;
  private readonly overlap: Uint8Array;
  private readonly data: (Buffer | null)[];
  private readonly bits: (Uint8Array | null)[];
  private readonly buckets: Int32Array;
  private readonly chain: Int32Array;
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  private oldest = -1;
  private newest = -1;
  private readonly freeList: Int32Array;
  private freeTop: number;
  private readonly seed: number;
  private readonly probe = new Uint32Array(KEY_WORDS);

  constructor(limits: DefragLimits, ev: Uint32Array) {
    const n = Math.max(1, limits.maxTrackers | 0);
    this.maxTrackers = n;
    this.maxBytes = Math.max(0, limits.maxBytes);
    this.timeoutUs = limits.timeoutUs;
    this.ev = ev;
    this.key = new Uint32Array(n * KEY_WORDS);
    this.hashOf = new Uint32Array(n);
    this.firstTs = new Float64Array(n);
    this.total = new Int32Array(n);
    this.hdrLen = new Int32Array(n);
    this.nhPos = new Int32Array(n);
    this.fragNh = new Uint8Array(n);
    this.overlap = new Uint8Array(n);
    this.data = new Array<Buffer | null>(n).fill(null);
    this.bits = new Array<Uint8Array | null>(n).fill(null);
    let b = 1;
    while (b < n * 2) b <<= 1;
    this.buckets = new Int32Array(b).fill(-1);
    this.chain = new Int32Array(n).fill(-1);
    this.older = new Int32Array(n).fill(-1);
    this.newer = new Int32Array(n).fill(-1);
    this.freeList = new Int32Array(n);
    for (let k = 0; k < n; k++) this.freeList[k] = n - 1 - k;
    this.freeTop = n;
    this.seed = (Math.random() * 0x100000000) >>> 0;
  }

  /**
   * Adds one fragment. `buf[ipOff, ipOff+hdrLen)` is its IP header (v6: the unfragmentable part,
   * up to the fragment header), `buf[payOff, payOff+payLen)` its data at byte `fragOff` of the
   * datagram's payload. Returns a tracker slot when the datagram is now complete (then call
   * `datagramLength` and `take`), else DEFRAG_PENDING / DEFRAG_INVALID / DEFRAG_DROPPED.
   */
  add(
    ver: number,
    proto: number,
    src: Uint32Array,
    dst: Uint32Array,
    w: number,
    id: number,
    buf: Buffer,
    ipOff: number,
    hdrLen: number,
    nhPos: number,
    payOff: number,
    payLen: number,
    fragOff: number,
    more: boolean,
    tsUs: number,
  ): number {
    this.lastOverlap = false;
    const v6 = ver === 6;
    const ev = this.ev;
    ev[v6 ? EV.DEFRAG_IPV6_FRAGMENTS : EV.DEFRAG_IPV4_FRAGMENTS]!++;
    this.expire(tsUs);

    // RFC 791 / RFC 8200 §4.5: every fragment but the last carries a multiple of 8 bytes.
    if (more && (payLen & 7) !== 0) {
      ev[v6 ? EV.IPV6_FRAG_INVALID_LENGTH : EV.IPV4_FRAG_IGNORED]!++;
      return v6 ? DEFRAG_INVALID : DEFRAG_DROPPED;
    }
    const end = fragOff + payLen;
    if (v6 ? hdrLen - 40 + end > MAX_PAYLOAD : hdrLen + end > MAX_PAYLOAD) {
      ev[v6 ? EV.IPV6_FRAG_PKT_TOO_LARGE : EV.IPV4_FRAG_PKT_TOO_LARGE]!++;
      return DEFRAG_INVALID;
    }
    if (hdrLen > HDR_RESERVE || (payLen === 0 && more)) {
      ev[v6 ? EV.IPV6_FRAG_IGNORED : EV.IPV4_FRAG_IGNORED]!++;
      return DEFRAG_DROPPED;
    }

    // Find or create the tracker.
    const probe = this.probe;
    probe[0] = (ver << 8) | (v6 ? 0 : proto);
    const words = v6 ? 4 : 1;
    for (let k = 0; k < 4; k++) {
      probe[1 + k] = k < words ? src[w + k]! : 0;
      probe[5 + k] = k < words ? dst[w + k]! : 0;
    }
    probe[9] = id;
    let h = this.seed;
    for (let k = 0; k < KEY_WORDS; k++) h = Math.imul(h ^ probe[k]!, 0x9e3779b1) ^ (h >>> 15);
    h >>>= 0;
    let slot = this.lookup(h);
    if (slot < 0) {
      slot = this.create(h, tsUs);
      if (slot < 0) return DEFRAG_DROPPED;
    }

    // Reconcile with the known end of the datagram (first wins).
    let total = this.total[slot]!;
    let len = payLen;
    if (!more) {
      if (total < 0) {
        this.total[slot] = total = end;
      } else if (total !== end) {
        this.flagOverlap(slot, v6);
      }
    }
    if (total >= 0 && fragOff + len > total) {
      this.flagOverlap(slot, v6);
      len = total - fragOff;
      if (len <= 0) return this.complete(slot);
    }

    // Room for the payload, within the byte cap.
    if (!this.ensure(slot, fragOff + len, v6)) return DEFRAG_DROPPED;
    const data = this.data[slot]!;
    const bits = this.bits[slot]!;

    if (fragOff === 0 && this.hdrLen[slot] === 0) {
      buf.copy(data, HDR_RESERVE - hdrLen, ipOff, ipOff + hdrLen);
      this.hdrLen[slot] = hdrLen;
      this.nhPos[slot] = nhPos;
      this.fragNh[slot] = proto;
    }

    // Copy blocks not yet received, in runs.
    const fend = fragOff + len;
    const bEnd = (fend + 7) >>> 3;
    let b = fragOff >>> 3;
    let overlapped = false;
    while (b < bEnd) {
      if (bits[b >>> 3]! & (1 << (b & 7))) {
        overlapped = true;
        b++;
        continue;
      }
      let r = b;
      while (r < bEnd && (bits[r >>> 3]! & (1 << (r & 7))) === 0) {
        bits[r >>> 3]! |= 1 << (r & 7);
        r++;
      }
      const s = b << 3;
      const e = Math.min(r << 3, fend);
      buf.copy(data, HDR_RESERVE + s, payOff + (s - fragOff), payOff + (e - fragOff));
      b = r;
    }
    if (overlapped) this.flagOverlap(slot, v6);
    return this.complete(slot);
  }

  /** Length of the rebuilt datagram in a completed slot (header + payload). */
  datagramLength(slot: number): number {
    return this.hdrLen[slot]! + this.total[slot]!;
  }

  /** True when overlapping data was seen for the datagram in `slot`. */
  overlapped(slot: number): boolean {
    return this.overlap[slot] === 1;
  }

  /**
   * Writes the rebuilt datagram of a completed slot to `target[pos..]` with its header fixed
   * (v4: total length, no fragment bits, header checksum; v6: payload length, the fragment header
   * unlinked), frees the slot, and returns the datagram length.
   */
  take(slot: number, ver: number, target: Buffer, pos: number): number {
    const hl = this.hdrLen[slot]!;
    const total = this.total[slot]!;
    const len = hl + total;
    const data = this.data[slot]!;
    data.copy(target, pos, HDR_RESERVE - hl, HDR_RESERVE + total);
    if (ver === 4) {
      target[pos + 2] = len >>> 8;
      target[pos + 3] = len & 0xff;
      target[pos + 6] = 0;
      target[pos + 7] = 0;
      target[pos + 10] = 0;
      target[pos + 11] = 0;
      let sum = 0;
      for (let o = pos; o < pos + hl; o += 2) sum += u16(target, o);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      sum = ~sum & 0xffff;
      target[pos + 10] = sum >>> 8;
      target[pos + 11] = sum & 0xff;
    } else {
      const plen = len - 40;
      target[pos + 4] = plen >>> 8;
      target[pos + 5] = plen & 0xff;
      target[pos + this.nhPos[slot]!] = this.fragNh[slot]!;
    }
    this.ev[ver === 6 ? EV.DEFRAG_IPV6_REASSEMBLED : EV.DEFRAG_IPV4_REASSEMBLED]!++;
    this.release(slot);
    return len;
  }

  private flagOverlap(slot: number, v6: boolean): void {
    this.overlap[slot] = 1;
    this.lastOverlap = true;
    this.ev[v6 ? EV.IPV6_FRAG_OVERLAP : EV.IPV4_FRAG_OVERLAP]!++;
  }

  /** Returns `slot` when the header, the end, and every block up to the end are present. */
  private complete(slot: number): number {
    const total = this.total[slot]!;
    if (total < 0 || this.hdrLen[slot] === 0) return DEFRAG_PENDING;
    const bits = this.bits[slot];
    if (bits === null || bits === undefined) return total === 0 ? slot : DEFRAG_PENDING;
    const blocks = (total + 7) >>> 3;
    const full = blocks >>> 3;
    for (let k = 0; k < full; k++) if (bits[k] !== 0xff) return DEFRAG_PENDING;
    const rest = blocks & 7;
    if (rest !== 0 && (bits[full]! & ((1 << rest) - 1)) !== (1 << rest) - 1) return DEFRAG_PENDING;
    return slot;
  }

  private lookup(h: number): number {
    const probe = this.probe;
    const key = this.key;
    for (let s = this.buckets[h & (this.buckets.length - 1)]!; s >= 0; s = this.chain[s]!) {
      if (this.hashOf[s] !== h) continue;
      const base = s * KEY_WORDS;
      let k = 0;
      while (k < KEY_WORDS && key[base + k] === probe[k]) k++;
      if (k === KEY_WORDS) return s;
    }
    return -1;
  }

  private create(h: number, tsUs: number): number {
    if (this.freeTop === 0) {
      this.ev[EV.DEFRAG_MAX_TRACKERS_REACHED]!++;
      this.release(this.oldest);
    }
    if (this.freeTop === 0) return -1;
    const s = this.freeList[--this.freeTop]!;
    this.key.set(this.probe, s * KEY_WORDS);
    this.hashOf[s] = h;
    this.firstTs[s] = tsUs;
    this.total[s] = -1;
    this.hdrLen[s] = 0;
    this.nhPos[s] = 0;
    this.fragNh[s] = 0;
    this.overlap[s] = 0;
    const bk = h & (this.buckets.length - 1);
    this.chain[s] = this.buckets[bk]!;
    this.buckets[bk] = s;
    this.older[s] = this.newest;
    this.newer[s] = -1;
    if (this.newest >= 0) this.newer[this.newest] = s;
    else this.oldest = s;
    this.newest = s;
    this.active++;
    return s;
  }

  /** Grows `slot`'s buffer to hold payload bytes [0, end), evicting old datagrams for the byte cap. */
  private ensure(slot: number, end: number, v6: boolean): boolean {
    const cur = this.data[slot];
    const curCap = cur ? cur.length - HDR_RESERVE : 0;
    if (cur && end <= curCap) return true;
    let cap = Math.max(MIN_PAYLOAD_CAP, curCap);
    while (cap < end) cap *= 2;
    const curCost = cur ? cur.length + (curCap >>> 6) : 0;
    const cost = HDR_RESERVE + cap + (cap >>> 6);
    const delta = cost - curCost;
    if (this.bytes + delta > this.maxBytes) {
      this.ev[EV.DEFRAG_MAX_FRAG_HITS]!++;
      while (this.bytes + delta > this.maxBytes && this.oldest >= 0 && this.oldest !== slot) this.release(this.oldest);
      while (this.bytes + delta > this.maxBytes && this.newest >= 0 && this.newest !== slot) this.release(this.newest);
      if (this.bytes + delta > this.maxBytes) {
        this.ev[v6 ? EV.IPV6_FRAG_IGNORED : EV.IPV4_FRAG_IGNORED]!++;
        if (!cur) this.release(slot);
        return false;
      }
    }
    const nb = Buffer.allocUnsafe(HDR_RESERVE + cap);
    const nbits = new Uint8Array(cap >>> 6);
    if (cur) {
      cur.copy(nb, 0, 0, cur.length);
      nbits.set(this.bits[slot]!);
    }
    this.data[slot] = nb;
    this.bits[slot] = nbits;
    this.bytes += delta;
    return true;
  }

  private expire(tsUs: number): void {
    const limit = tsUs - this.timeoutUs;
    while (this.oldest >= 0 && this.firstTs[this.oldest]! < limit) {
      const s = this.oldest;
      this.ev[this.key[s * KEY_WORDS]! >>> 8 === 6 ? EV.DEFRAG_IPV6_TIMEOUTS : EV.DEFRAG_IPV4_TIMEOUTS]!++;
      this.release(s);
    }
  }

  private release(s: number): void {
    if (s < 0) return;
    // Unlink from the hash chain.
    const bk = this.hashOf[s]! & (this.buckets.length - 1);
    let p = this.buckets[bk]!;
    if (p === s) this.buckets[bk] = this.chain[s]!;
    else {
      while (p >= 0 && this.chain[p] !== s) p = this.chain[p]!;
      if (p >= 0) this.chain[p] = this.chain[s]!;
    }
    // Unlink from the age list.
    const o = this.older[s]!;
    const nw = this.newer[s]!;
    if (o >= 0) this.newer[o] = nw;
    else this.oldest = nw;
    if (nw >= 0) this.older[nw] = o;
    else this.newest = o;
    const d = this.data[s];
    if (d) this.bytes -= d.length + ((d.length - HDR_RESERVE) >>> 6);
    this.data[s] = null;
    this.bits[s] = null;
    this.freeList[this.freeTop++] = s;
    this.active--;
  }
}
