/**
 * Port-scan detector: vertical scans (one source, many ports of one destination), horizontal
 * sweeps (one source, one port, many destinations), slow scans over a long window, and service /
 * version probing (nmap -sV style). User documentation: docs/behavior.md.
 *
 * Every flow a source starts is classified once by its outcome:
 * - FAIL: refused (TCP RST from the target), ICMP unreachable quoting the probe, or unanswered
 *   (the flow ended with nothing back and at most `probe_max_pkts` packets sent);
 * - ABORT: the port answered (SYN-ACK) but the source tore the connection down without sending a
 *   byte (SYN scan half-open, connect scan, banner grab);
 * - PROBE: a packet no TCP stack starts a connection with (NULL, FIN, XMAS), counted on sight;
 * - NORMAL: the source sent data (or a UDP reply came back): a real exchange, never counted as a
 *   probe, only in the failure ratio.
 * Probes are aggregated per (source, destination, probe kind) for vertical and slow scans, and per
 * (source, protocol, port) for sweeps. The probe kind comes from the first packet: SYN without
 * options other than MSS (a raw-socket SYN: nmap -sS, masscan, zmap, hping3) is `syn`, an OS SYN
 * (SACK-permitted or window scale present) is `connect`, then `null`, `fin`, `xmas`, `ack`, `udp`,
 * `ip_protocol` (ICMP protocol unreachable) and `version` (service probing).
 *
 * Service probing is seen at flow end, through the application layer: a client whose connections
 * to one server port are recognised as different protocols (HTTP, TLS, DNS, FTP, "failed", ...) is
 * sending probes of many protocols to find out what the port speaks; a real client speaks one.
 *
 * One alert per episode and (source, destination, kind) (sweeps: per source and port); an episode
 * ends after `quiet_s` without probes. State is bounded: fixed-capacity tables evicting the least
 * recently active entry (`evicted` counts them) plus per-flow-slot columns sized by the flow table.
 */
import type { PacketBatch } from '../../capture/batch.js';
import { TCP_FLAG } from '../../decode/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import { QuotedHeader, decodeIcmpQuoted } from '../../decode/icmp.js';
import { formatIp, parseIp } from '../../flow/key.js';
import type { FlowRecord } from '../../flow/table.js';
import { mix32 } from '../../util/hash.js';
import type { BehaviorContext, BehaviorDetector } from './types.js';

export const PORTSCAN_NAME = 'portscan';

/** Defaults; each is discussed in docs/behavior.md. */
export const PORTSCAN_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  /** Detection window for vertical scans, seconds (Snort sfportscan "low": 60 s). */
  window_s: 60,
  /** Distinct ports that failed (refused / unreachable / unanswered) in the window (sfportscan low: 5). */
  vertical_failed_ports: 5,
  /** Distinct ports probed with any probe outcome in the window (Zeek scan.zeek: 15). */
  vertical_ports: 15,
  /** Probes of one kind stop for this long: the episode is over and the next scan alerts again. */
  quiet_s: 60,
  /** Long window for slow scans, seconds (sfportscan "high" sense level: 600 s). */
  slow_window_s: 600,
  /** Distinct probed ports within the slow window. */
  slow_ports: 10,
  /** Window for horizontal sweeps, seconds (Zeek: 5 min). */
  sweep_window_s: 300,
  /** Distinct destinations probed on one port in the sweep window (Zeek: 25); divided by shards. */
  sweep_hosts: 25,
  /** Window for service probing, seconds. */
  svc_window_s: 300,
  /** Connections to one server port recognised as a protocol other than the port's usual one. */
  svc_mismatches: 5,
  /** An unanswered flow counts as a probe only with at most this many packets from the source. */
  probe_max_pkts: 3,
});

/** Probe kinds. */
const K_SYN = 0;
const K_CONNECT = 1;
const K_NULL = 2;
const K_FIN = 3;
const K_XMAS = 4;
const K_ACK = 5;
const K_UDP = 6;
const K_PROTO = 7;
const K_VERSION = 8;
const K_ICMP = 9;
const NK = 10;
const KIND_NAMES = ['syn', 'connect', 'null', 'fin', 'xmas', 'ack', 'udp', 'ip_protocol', 'version', 'icmp'] as const;
const KIND_MSG = [
  'TCP SYN port scan',
  'TCP connect port scan',
  'TCP NULL scan',
  'TCP FIN scan',
  'TCP XMAS scan',
  'TCP ACK scan',
  'UDP port scan',
  'IP protocol scan',
  'service version probing',
  'ICMP probe',
] as const;

/** sids (behaviour range): vertical scans 9200101 + kind, then slow, sweep, ping sweep. */
const SID_VERTICAL = 9200101;
const SID_SLOW = 9200111;
const SID_SWEEP = 9200112;
const SID_PING_SWEEP = 9200113;

/** Outcomes. */
const O_PROBE = 0;
const O_FAIL = 1;
const O_ABORT = 2;
const O_NORMAL = 3;

/** Per-flow-slot state bits. */
const S_TRACKED = 1;
const S_DONE = 2;
const S_SYNACK = 4;
const S_CLIENT_ACK = 8;
const S_SERVER_FIN = 16;

/** Bits of the per-window port bitmaps (distinct ports counted by first setting of a bit). */
const PORT_BITS = 1024;
const PORT_WORDS = PORT_BITS / 32;
const SLOW_BITS = 2048;
const SLOW_WORDS = SLOW_BITS / 32;
const HOST_BITS = 1024;
const HOST_WORDS = HOST_BITS / 32;
/** Sample ports / hosts reported per alert. */
const SAMPLE = 10;

/** Table capacities (entries); the least recently active entry is evicted when full. */
const MAX_PAIRS = 8192;
const MAX_SWEEPS = 4096;
const MAX_SERVICES = 4096;
/** Application-protocol outcome buckets per service entry (names are mapped as they appear). */
const APP_BUCKETS = 16;
/** Entries examined per tick for idle expiry, per table. */
const EXPIRE_PER_TICK = 64;

const TCP_SYN = TCP_FLAG.SYN;
const TCP_ACK = TCP_FLAG.ACK;
const TCP_RST = TCP_FLAG.RST;
const TCP_FIN = TCP_FLAG.FIN;
const XMAS = TCP_FLAG.FIN | TCP_FLAG.PSH | TCP_FLAG.URG;
/** Flags a probe may carry besides its kind's (ECN setup bits). */
const ECN = TCP_FLAG.ECE | TCP_FLAG.CWR;

/**
 * Open-addressing table of fixed-width numeric keys (address words, ports, kinds) with a fixed
 * number of entries: linear probing over a power-of-two index at most half full, backward-shift
 * deletion (no tombstones), eviction of the least recently used of a small sample when full.
 * Callers fill `key`, call `get`/`find`, and keep their per-entry state in their own typed arrays
 * indexed by entry, resetting them when `created` is set. Shared with dos.ts.
 */
export class KeyTable {
  readonly capacity: number;
  readonly width: number;
  /** The key to look up: fill `key[0, width)` before `get`/`find`. */
  readonly key: Uint32Array;
  /** Keys of the entries, `width` words each (read them to format an alert). */
  readonly keys: Uint32Array;
  /** Last time each entry was used (µs of packet time). */
  readonly lastUs: Float64Array;
  /** Bumped when an entry is removed, so references kept elsewhere can be checked. */
  readonly gen: Uint32Array;
  /** Whether the last `get` created its entry. */
  created = false;
  size = 0;
  /** Entries evicted to make room (the table was full). */
  evicted = 0;
  private readonly hashes: Uint32Array;
  private readonly index: Int32Array;
  private readonly posOf: Int32Array;
  private readonly free: Int32Array;
  private freeTop: number;
  private readonly mask: number;
  private evictHand = 0;
  private expireHand = 0;
  private lastHit = -1;

  constructor(capacity: number, width: number) {
    this.capacity = Math.max(4, Math.floor(capacity));
    this.width = width;
    this.key = new Uint32Array(width);
    this.keys = new Uint32Array(this.capacity * width);
    this.lastUs = new Float64Array(this.capacity);
    this.gen = new Uint32Array(this.capacity);
    this.hashes = new Uint32Array(this.capacity);
    let size = 16;
    while (size < this.capacity * 2) size <<= 1;
    this.mask = size - 1;
    this.index = new Int32Array(size).fill(-1);
    this.posOf = new Int32Array(this.capacity).fill(-1);
    this.free = new Int32Array(this.capacity);
    for (let k = 0; k < this.capacity; k++) this.free[k] = this.capacity - 1 - k;
    this.freeTop = this.capacity;
  }

  private hashKey(): number {
    const k = this.key;
    let h = 0x9e3779b9;
    for (let j = 0; j < this.width; j++) h = mix32((h ^ k[j]!) + j);
    return h;
  }

  private sameKey(e: number): boolean {
    const k = this.key;
    const ks = this.keys;
    const o = e * this.width;
    for (let j = 0; j < this.width; j++) if (ks[o + j] !== k[j]) return false;
    return true;
  }

  /** Entry holding `key`, or -1. */
  find(): number {
    const hit = this.lastHit;
    if (hit >= 0 && this.posOf[hit]! >= 0 && this.sameKey(hit)) return hit;
    const h = this.hashKey();
    const idx = this.index;
    for (let p = h & this.mask; ; p = (p + 1) & this.mask) {
      const e = idx[p]!;
      if (e < 0) return -1;
      if (this.hashes[e] === h && this.sameKey(e)) {
        this.lastHit = e;
        return e;
      }
    }
  }

  /** Entry holding `key`, created (evicting the stalest of a sample when full) if absent. */
  get(nowUs: number): number {
    let e = this.find();
    this.created = false;
    if (e < 0) {
      if (this.freeTop === 0) this.evictOne();
      e = this.free[--this.freeTop]!;
      const h = this.hashKey();
      this.hashes[e] = h;
      this.keys.set(this.key, e * this.width);
      let p = h & this.mask;
      while (this.index[p]! >= 0) p = (p + 1) & this.mask;
      this.index[p] = e;
      this.posOf[e] = p;
      this.size++;
      this.created = true;
      this.lastUs[e] = nowUs;
      this.lastHit = e;
    } else if (nowUs > this.lastUs[e]!) {
      this.lastUs[e] = nowUs;
    }
    return e;
  }

  /** Whether entry `e` is in use. */
  live(e: number): boolean {
    return this.posOf[e]! >= 0;
  }

  remove(e: number): void {
    let p = this.posOf[e]!;
    if (p < 0) return;
    const idx = this.index;
    const mask = this.mask;
    idx[p] = -1;
    this.posOf[e] = -1;
    // Backward-shift: move later entries of the probe chain into the hole when their home
    // position is not inside (hole, position].
    for (let q = (p + 1) & mask; ; q = (q + 1) & mask) {
      const f = idx[q]!;
      if (f < 0) break;
      const home = this.hashes[f]! & mask;
      const inside = p <= q ? home > p && home <= q : home > p || home <= q;
      if (!inside) {
        idx[p] = f;
        this.posOf[f] = p;
        idx[q] = -1;
        p = q;
      }
    }
    this.free[this.freeTop++] = e;
    this.gen[e]!++;
    this.size--;
    if (this.lastHit === e) this.lastHit = -1;
  }

  private evictOne(): void {
    // The table is full, so every entry is live: the stalest of a 32-entry sample goes.
    let best = -1;
    let bestUs = Infinity;
    for (let n = 0; n < 32; n++) {
      const e = this.evictHand;
      this.evictHand = (e + 1) % this.capacity;
      if (this.lastUs[e]! < bestUs) {
        bestUs = this.lastUs[e]!;
        best = e;
      }
    }
    this.remove(best);
    this.evicted++;
  }

  /** Remove entries idle for longer than `idleUs`, examining at most `n` entries. */
  expire(nowUs: number, idleUs: number, n: number): void {
    if (this.size === 0) return;
    for (let k = 0; k < n; k++) {
      const e = this.expireHand;
      this.expireHand = (e + 1) % this.capacity;
      if (this.posOf[e]! >= 0 && nowUs - this.lastUs[e]! > idleUs) this.remove(e);
    }
  }
}

/** Multicast or broadcast destination: nothing answers from there, so no probe outcome means anything. */
export function isGroupAddress(ver: number, w: Uint32Array, off: number): boolean {
  const a = w[off]! >>> 0;
  if (ver === 6) return a >>> 24 === 0xff;
  return a >>> 28 === 0xe || a === 0xffffffff;
}

/** Grow a typed array to at least n elements (doubling), keeping its contents. */
export function growTo<T extends Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array>(
  a: T,
  n: number,
  fill = 0,
): T {
  if (a.length >= n) return a;
  let len = Math.max(1024, a.length);
  while (len < n) len *= 2;
  const b = new (a.constructor as new (len: number) => T)(len);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}

/** Linear-counting estimate of the distinct values set in a bitmap with `set` of `bits` bits set. */
function lcEstimate(set: number, bits: number): number {
  if (set >= bits) return Math.round(bits * Math.log(bits));
  return Math.round(-bits * Math.log(1 - set / bits));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function seconds(us: number): number {
  return Math.round(us / 1e5) / 10;
}

/** Kind of a flow from the first packet its client sent; -1 when it is no probe (midstream data...). */
function tcpKind(fl: number, payLen: number, sackOk: number, wscale: number): number {
  const f = fl & ~ECN;
  if ((f & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN) {
    // Raw-socket scanners send a SYN with at most MSS; operating systems add SACK-permitted
    // and/or window scaling to every connect().
    return sackOk === 0 && wscale === 255 ? K_SYN : K_CONNECT;
  }
  if (payLen > 0) return -1;
  if (f === 0) return K_NULL;
  if (f === TCP_FIN) return K_FIN;
  if (f === XMAS) return K_XMAS;
  if (f === TCP_ACK) return K_ACK;
  return -1;
}

class PortScanDetector implements BehaviorDetector {
  readonly name = PORTSCAN_NAME;
  private readonly ctx: BehaviorContext;
  private readonly windowUs: number;
  private readonly quietUs: number;
  private readonly slowUs: number;
  private readonly sweepUs: number;
  private readonly svcUs: number;
  private readonly vFailed: number;
  private readonly vPorts: number;
  private readonly slowPorts: number;
  private readonly sweepHosts: number;
  private readonly svcMismatches: number;
  private readonly probeMaxPkts: number;

  // Per flow slot (grown to the highest slot seen).
  private sState = new Uint8Array(0);
  private sKind = new Uint8Array(0);
  /** Slots whose flow ended; their state is cleared after the batch that ended them. */
  private ended = new Int32Array(1024);
  private nEnded = 0;

  // (source, destination, kind) -> vertical and slow scan state.
  private readonly pairs = new KeyTable(MAX_PAIRS, 9);
  private readonly pWinStart = new Float64Array(MAX_PAIRS);
  private readonly pLast = new Float64Array(MAX_PAIRS);
  private readonly pAlerted = new Uint8Array(MAX_PAIRS);
  private readonly pTraceroute = new Uint8Array(MAX_PAIRS);
  private readonly pProbeBits = new Uint32Array(MAX_PAIRS * PORT_WORDS);
  private readonly pFailBits = new Uint32Array(MAX_PAIRS * PORT_WORDS);
  private readonly pProbePorts = new Uint32Array(MAX_PAIRS);
  private readonly pFailPorts = new Uint32Array(MAX_PAIRS);
  private readonly pFails = new Uint32Array(MAX_PAIRS);
  private readonly pAborts = new Uint32Array(MAX_PAIRS);
  private readonly pStealth = new Uint32Array(MAX_PAIRS);
  private readonly pNormal = new Uint32Array(MAX_PAIRS);
  private readonly pSample = new Uint16Array(MAX_PAIRS * SAMPLE);
  private readonly pNSample = new Uint8Array(MAX_PAIRS);
  private readonly pProto = new Uint8Array(MAX_PAIRS);
  private readonly pSlowStart = new Float64Array(MAX_PAIRS);
  private readonly pSlowBits = new Uint32Array(MAX_PAIRS * SLOW_WORDS);
  private readonly pSlowPorts = new Uint32Array(MAX_PAIRS);

  // (source, protocol, port) -> sweep state.
  private readonly sweeps = new KeyTable(MAX_SWEEPS, 6);
  private readonly wWinStart = new Float64Array(MAX_SWEEPS);
  private readonly wLast = new Float64Array(MAX_SWEEPS);
  private readonly wAlerted = new Uint8Array(MAX_SWEEPS);
  private readonly wHostBits = new Uint32Array(MAX_SWEEPS * HOST_WORDS);
  private readonly wHosts = new Uint32Array(MAX_SWEEPS);
  private readonly wProbes = new Uint32Array(MAX_SWEEPS);
  private readonly wFails = new Uint32Array(MAX_SWEEPS);
  private readonly wKinds = new Uint32Array(MAX_SWEEPS * NK);
  private readonly wSample = new Uint32Array(MAX_SWEEPS * SAMPLE * 4);
  private readonly wNSample = new Uint8Array(MAX_SWEEPS);

  // (source, destination, server port) -> application outcome counts (service probing).
  private readonly services = new KeyTable(MAX_SERVICES, 9);
  private readonly vWinStart = new Float64Array(MAX_SERVICES);
  private readonly vCounts = new Uint32Array(MAX_SERVICES * APP_BUCKETS);
  private readonly appIndex = new Map<string, number>();
  private readonly appNames: string[] = [];

  private readonly quoted = new QuotedHeader();
  private readonly wsrc = new Uint32Array(4);
  private readonly wdst = new Uint32Array(4);

  constructor(ctx: BehaviorContext) {
    this.ctx = ctx;
    const p = { ...PORTSCAN_DEFAULTS, ...(ctx.cfg.params[PORTSCAN_NAME] ?? {}) };
    this.windowUs = p['window_s']! * 1e6;
    this.quietUs = p['quiet_s']! * 1e6;
    this.slowUs = p['slow_window_s']! * 1e6;
    this.sweepUs = p['sweep_window_s']! * 1e6;
    this.svcUs = p['svc_window_s']! * 1e6;
    this.vFailed = Math.max(1, p['vertical_failed_ports']!);
    this.vPorts = Math.max(1, p['vertical_ports']!);
    this.slowPorts = Math.max(1, p['slow_ports']!);
    // Sweeps aggregate across destinations, which shards split by IP pair (see BehaviorContext).
    this.sweepHosts = Math.max(2, Math.ceil(p['sweep_hosts']! / ctx.shards));
    this.svcMismatches = Math.max(1, p['svc_mismatches']!);
    this.probeMaxPkts = p['probe_max_pkts']!;
  }

  /** Table evictions (state dropped because a table was full). */
  get evicted(): number {
    return this.pairs.evicted + this.sweeps.evicted + this.services.evicted;
  }

  private ensureSlot(s: number): void {
    if (s < this.sState.length) return;
    this.sState = growTo(this.sState, s + 1);
    this.sKind = growTo(this.sKind, s + 1);
  }

  packets(pkts: PacketBatch, dec: DecodedBatch): void {
    const n = dec.count;
    const proto = dec.proto;
    const slotCol = dec.flowSlot;
    const dirCol = dec.flowDir;
    const flags = dec.tcpFlags;
    const payLen = dec.payLen;
    const src = dec.src;
    const dst = dec.dst;
    const ts = pkts.tsUs;
    for (let i = 0; i < n; i++) {
      const pr = proto[i]!;
      if (pr === 6) {
        const s = slotCol[i]!;
        if (s < 0) continue;
        if (s >= this.sState.length) this.ensureSlot(s);
        const st = this.sState[s]!;
        if ((st & S_DONE) !== 0) continue;
        const fl = flags[i]!;
        const dir = dirCol[i]!;
        const w = i << 2;
        if (st === 0) {
          // First packet of the flow (from its client).
          const kind = dir === 0 ? tcpKind(fl, payLen[i]!, dec.tcpSackOk[i]!, dec.tcpWscale[i]!) : -1;
          if (kind < 0) {
            this.sState[s] = S_DONE;
            continue;
          }
          this.sState[s] = S_TRACKED;
          this.sKind[s] = kind;
          if (kind === K_NULL || kind === K_FIN || kind === K_XMAS) {
            this.probe(dec.ipVer[i]!, src, w, dst, w, 6, dec.dport[i]!, kind, O_PROBE, ts[i]!);
          }
          continue;
        }
        const kind = this.sKind[s]!;
        if (dir === 1) {
          // From the target to the scanner.
          if ((fl & TCP_RST) !== 0) {
            this.sState[s] = S_DONE;
            this.probe(dec.ipVer[i]!, dst, w, src, w, 6, dec.sport[i]!, kind, O_FAIL, ts[i]!);
          } else if ((fl & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
            this.sState[s] = st | S_SYNACK;
          } else if ((fl & TCP_FIN) !== 0) {
            this.sState[s] = st | S_SERVER_FIN;
          }
          continue;
        }
        if (payLen[i]! > 0) {
          this.sState[s] = S_DONE;
          this.probe(dec.ipVer[i]!, src, w, dst, w, 6, dec.dport[i]!, kind, O_NORMAL, ts[i]!);
        } else if ((fl & (TCP_RST | TCP_FIN)) !== 0) {
          // Torn down by the source before it sent a byte: an open port found and dropped
          // (half-open SYN scan, connect scan, banner grab). Closing after the server did is not.
          this.sState[s] = S_DONE;
          if ((st & (S_SYNACK | S_SERVER_FIN)) === S_SYNACK) {
            this.probe(dec.ipVer[i]!, src, w, dst, w, 6, dec.dport[i]!, kind, O_ABORT, ts[i]!);
          }
        } else if ((fl & TCP_ACK) !== 0 && (st & S_SYNACK) !== 0) {
          this.sState[s] = st | S_CLIENT_ACK;
        }
      } else if (pr === 17) {
        const s = slotCol[i]!;
        if (s < 0) continue;
        if (s >= this.sState.length) this.ensureSlot(s);
        const st = this.sState[s]!;
        if (st === 0) {
          this.sState[s] = S_TRACKED;
          this.sKind[s] = K_UDP;
        } else if (st === S_TRACKED && dirCol[i] === 1) {
          // Answered: an open UDP service, a real exchange.
          this.sState[s] = S_DONE;
          const w = i << 2;
          this.probe(dec.ipVer[i]!, dst, w, src, w, 17, dec.sport[i]!, K_UDP, O_NORMAL, ts[i]!);
        }
      } else if ((pr === 1 || pr === 58) && dec.icmpInnerOff[i]! >= 0) {
        this.icmpError(pkts, dec, i);
      }
    }
    this.releaseEnded();
  }

  /** An ICMP error quoting a probe: unreachable = failed probe; time exceeded = traceroute. */
  private icmpError(pkts: PacketBatch, dec: DecodedBatch, i: number): void {
    const v6 = dec.proto[i] === 58;
    const type = dec.icmpType[i]!;
    const code = dec.icmpCode[i]!;
    let fail = false;
    let ttl = false;
    if (!v6) {
      // Destination unreachable except "fragmentation needed" (path MTU discovery, code 4).
      if (type === 3) fail = code !== 4;
      else ttl = type === 11;
    } else {
      if (type === 1) fail = true;
      else ttl = type === 3;
    }
    if (!fail && !ttl) return;
    const buf = dec.bytesOf(i, pkts.buf);
    const off = dec.icmpInnerOff[i]!;
    let end = dec.payOff[i]! + dec.payLen[i]!;
    if (dec.bufSel[i] === 0) end = Math.min(end, pkts.off[i]! + pkts.capLen[i]!);
    const q = this.quoted;
    if (!decodeIcmpQuoted(buf, off, Math.min(end, buf.length) - off, q)) return;
    // The error must go back to the quoted packet's sender, or it is not about that source's probe.
    const w = i << 2;
    const ver = q.ipVer;
    if (ver !== dec.ipVer[i]) return;
    for (let k = 0; k < 4; k++) if (q.src[k] !== dec.dst[w + k]) return;
    const ts = pkts.tsUs[i]!;
    let kind: number;
    let port: number;
    if (q.proto === 17) {
      kind = K_UDP;
      port = q.dport;
    } else if (q.proto === 6) {
      kind = K_SYN;
      port = q.dport;
    } else if (q.proto === 1 || q.proto === 58) {
      kind = K_ICMP;
      port = 0;
    } else {
      kind = K_PROTO;
      port = q.proto;
    }
    // ICMP "protocol unreachable" (v4 code 2) answers an IP protocol scan, and only that.
    if (kind === K_PROTO && v6) return;
    if (!v6 && fail && (code === 2) !== (kind === K_PROTO)) return;
    if (ttl) {
      if (kind === K_UDP) {
        // UDP traceroute: its probes expire on the way and go unanswered by design.
        const e = this.pairEntry(ver, q.src, 0, q.dst, 0, K_UDP, ts, true);
        if (e >= 0) this.pTraceroute[e] = 1;
      }
      return;
    }
    this.probe(ver, q.src, 0, q.dst, 0, kind === K_PROTO ? 0 : q.proto, port, kind, O_FAIL, ts);
  }

  flowEnd(rec: FlowRecord): void {
    if (this.nEnded === this.ended.length) this.ended = growTo(this.ended, this.nEnded + 1);
    this.ended[this.nEnded++] = rec.slot;
    if (rec.pktsToClient === 0) {
      if (rec.pktsToServer <= this.probeMaxPkts) this.unanswered(rec);
    } else if (rec.proto === 6 && rec.appProto !== undefined && rec.appProto !== '') {
      this.service(rec);
    }
  }

  /** A flow that got nothing back: a probe to a filtered or silent port (or a dead host). */
  private unanswered(rec: FlowRecord): void {
    let kind = -1;
    let port = rec.dstPort;
    const slot = rec.slot;
    if (rec.proto === 6) {
      const f = (rec.tcp?.flagsTs ?? 0) & ~ECN;
      // Only what a probe sends: no ACK (a client that ACKs was answered, seen or not).
      if (f === TCP_SYN) {
        kind = slot < this.sState.length && (this.sState[slot]! & S_TRACKED) !== 0 ? this.sKind[slot]! : K_SYN;
      } else if (f === 0) kind = K_NULL;
      else if (f === TCP_FIN) kind = K_FIN;
      else if (f === XMAS) kind = K_XMAS;
    } else if (rec.proto === 17) {
      kind = K_UDP;
    } else if ((rec.proto === 1 && rec.icmpType === 8) || (rec.proto === 58 && rec.icmpType === 128)) {
      kind = K_ICMP;
      port = 0;
    }
    if (kind < 0) return;
    const ver = parseIp(rec.srcIp, this.wsrc, 0);
    if (ver === 0 || parseIp(rec.dstIp, this.wdst, 0) !== ver) return;
    if (kind === K_UDP) {
      const e = this.pairEntry(ver, this.wsrc, 0, this.wdst, 0, K_UDP, rec.endUs, false);
      if (e >= 0 && this.pTraceroute[e] === 1) return;
    }
    this.probe(ver, this.wsrc, 0, this.wdst, 0, rec.proto, port, kind, O_FAIL, rec.endUs);
  }

  private appBucket(name: string): number {
    let b = this.appIndex.get(name);
    if (b === undefined) {
      b = this.appNames.length < APP_BUCKETS - 1 ? this.appNames.length : APP_BUCKETS - 1;
      if (b < APP_BUCKETS - 1) {
        this.appNames.push(name);
        this.appIndex.set(name, b);
      }
    }
    return b;
  }

  /** Service probing: the protocols a client's connections to one server port were recognised as. */
  private service(rec: FlowRecord): void {
    const ver = parseIp(rec.srcIp, this.wsrc, 0);
    if (ver === 0 || parseIp(rec.dstIp, this.wdst, 0) !== ver) return;
    const ts = rec.endUs;
    const V = this.services;
    const k = V.key;
    k[0] = (ver << 16) | rec.dstPort;
    for (let j = 0; j < 4; j++) {
      k[1 + j] = this.wsrc[j]!;
      k[5 + j] = this.wdst[j]!;
    }
    const e = V.get(ts);
    const base = e * APP_BUCKETS;
    if (V.created || ts - this.vWinStart[e]! > this.svcUs) {
      this.vWinStart[e] = ts;
      this.vCounts.fill(0, base, base + APP_BUCKETS);
    }
    this.vCounts[base + this.appBucket(rec.appProto!)]!++;
    let total = 0;
    let max = 0;
    for (let b = 0; b < APP_BUCKETS; b++) {
      const c = this.vCounts[base + b]!;
      total += c;
      if (c > max) max = c;
    }
    // A server port speaks one protocol: connections recognised as anything else are probes.
    const mismatches = total - max;
    if (mismatches < this.svcMismatches) return;
    const p = this.pairEntry(ver, this.wsrc, 0, this.wdst, 0, K_VERSION, ts, true);
    if (p < 0) return;
    if (ts - this.pLast[p]! > this.quietUs) this.pAlerted[p] = 0;
    if (ts > this.pLast[p]!) this.pLast[p] = ts;
    if (this.pAlerted[p] !== 0) return;
    this.pAlerted[p] = 1;
    const protocols: string[] = [];
    for (let b = 0; b < APP_BUCKETS; b++) {
      const c = this.vCounts[base + b]!;
      if (c > 0) protocols.push(`${b < this.appNames.length ? this.appNames[b]! : 'other'}:${c}`);
    }
    this.ctx.emit({
      tsUs: ts,
      sid: SID_VERTICAL + K_VERSION,
      rev: 1,
      msg: `VIGIL BEHAVIOR ${KIND_MSG[K_VERSION]}`,
      type: 'port_scan',
      severity: 'medium',
      mitre: ['T1046'],
      srcIp: rec.srcIp,
      dstIp: rec.dstIp,
      srcPort: 0,
      dstPort: rec.dstPort,
      proto: 6,
      ipVer: ver,
      flowId: 0,
      evidence: {
        scan_kind: [KIND_NAMES[K_VERSION]],
        sample_ports: [rec.dstPort],
        connections: [total],
        mismatched_connections: [mismatches],
        app_protocols: protocols,
        failure_ratio: [round2(mismatches / total)],
        window_s: [this.svcUs / 1e6],
        duration_s: [seconds(ts - this.vWinStart[e]!)],
      },
    });
  }

  /** The (source, destination, kind) entry; created only when `create`. -1 if absent. */
  private pairEntry(
    ver: number,
    sw: Uint32Array,
    so: number,
    dw: Uint32Array,
    dof: number,
    kind: number,
    ts: number,
    create: boolean,
  ): number {
    const P = this.pairs;
    const k = P.key;
    k[0] = (ver << 8) | kind;
    for (let j = 0; j < 4; j++) {
      k[1 + j] = sw[so + j]!;
      k[5 + j] = dw[dof + j]!;
    }
    if (!create) return P.find();
    const e = P.get(ts);
    if (P.created) {
      this.pAlerted[e] = 0;
      this.pTraceroute[e] = 0;
      this.pLast[e] = ts;
      this.pSlowStart[e] = ts;
      this.pSlowPorts[e] = 0;
      this.pSlowBits.fill(0, e * SLOW_WORDS, (e + 1) * SLOW_WORDS);
      this.resetWindow(e, ts);
    }
    return e;
  }

  private resetWindow(e: number, ts: number): void {
    this.pWinStart[e] = ts;
    this.pProbeBits.fill(0, e * PORT_WORDS, (e + 1) * PORT_WORDS);
    this.pFailBits.fill(0, e * PORT_WORDS, (e + 1) * PORT_WORDS);
    this.pProbePorts[e] = 0;
    this.pFailPorts[e] = 0;
    this.pFails[e] = 0;
    this.pAborts[e] = 0;
    this.pStealth[e] = 0;
    this.pNormal[e] = 0;
    this.pNSample[e] = 0;
  }

  /** Account one classified flow (or ICMP error) of `src` towards `dst`. */
  private probe(
    ver: number,
    sw: Uint32Array,
    so: number,
    dw: Uint32Array,
    dof: number,
    proto: number,
    port: number,
    kind: number,
    outcome: number,
    ts: number,
  ): void {
    if (isGroupAddress(ver, dw, dof)) return;
    // Sweeps count what Zeek counts, failed attempts, plus half-open raw SYN probes (an OS
    // never answers its own SYN-ACK with a bare RST); aborted OS connects are too common there
    // (happy eyeballs, browser pre-connects) to count across hosts.
    if (outcome === O_FAIL || (outcome === O_ABORT && kind === K_SYN)) {
      this.sweep(ver, sw, so, dw, dof, proto, port, kind, outcome, ts);
    }
    if (kind === K_ICMP) return;
    const e = this.pairEntry(ver, sw, so, dw, dof, kind, ts, outcome !== O_NORMAL);
    if (e < 0) return;
    if (ts - this.pWinStart[e]! > this.windowUs) this.resetWindow(e, ts);
    if (outcome === O_NORMAL) {
      this.pNormal[e]!++;
      return;
    }
    if (ts - this.pLast[e]! > this.quietUs) this.pAlerted[e] = 0;
    if (ts > this.pLast[e]!) this.pLast[e] = ts;
    if (ts - this.pSlowStart[e]! > this.slowUs) {
      this.pSlowStart[e] = ts;
      this.pSlowPorts[e] = 0;
      this.pSlowBits.fill(0, e * SLOW_WORDS, (e + 1) * SLOW_WORDS);
    }
    this.pProto[e] = proto;
    const h = mix32(((proto << 16) | port) >>> 0);
    const bit = h & (PORT_BITS - 1);
    const wi = e * PORT_WORDS + (bit >>> 5);
    const m = 1 << (bit & 31);
    if ((this.pProbeBits[wi]! & m) === 0) {
      this.pProbeBits[wi]! |= m;
      this.pProbePorts[e]!++;
      const ns = this.pNSample[e]!;
      if (ns < SAMPLE) {
        this.pSample[e * SAMPLE + ns] = port;
        this.pNSample[e] = ns + 1;
      }
    }
    if (outcome === O_FAIL) {
      this.pFails[e]!++;
      if ((this.pFailBits[wi]! & m) === 0) {
        this.pFailBits[wi]! |= m;
        this.pFailPorts[e]!++;
      }
    } else if (outcome === O_ABORT) {
      this.pAborts[e]!++;
    } else {
      this.pStealth[e]!++;
    }
    // While an episode is running (alerted) the slow count stays empty (it was cleared by the
    // alert): a slow alert after the episode needs new ports, not the tail of a fast scan.
    if (this.pAlerted[e] !== 0) return;
    const sbit = (h >>> 10) & (SLOW_BITS - 1);
    const swi = e * SLOW_WORDS + (sbit >>> 5);
    const sm = 1 << (sbit & 31);
    if ((this.pSlowBits[swi]! & sm) === 0) {
      this.pSlowBits[swi]! |= sm;
      this.pSlowPorts[e]!++;
    }
    if (this.pFailPorts[e]! >= this.vFailed || this.pProbePorts[e]! >= this.vPorts) {
      this.alertVertical(e, ts, false);
    } else if (this.pSlowPorts[e]! >= this.slowPorts) {
      this.alertVertical(e, ts, true);
    }
  }

  private alertVertical(e: number, ts: number, slow: boolean): void {
    this.pAlerted[e] = 1;
    const K = this.pairs.keys;
    const o = e * 9;
    const ver = K[o]! >>> 8;
    const kind = K[o]! & 0xff;
    const sample: number[] = [];
    for (let k = 0; k < this.pNSample[e]!; k++) sample.push(this.pSample[e * SAMPLE + k]!);
    const fails = this.pFails[e]!;
    const flows = fails + this.pAborts[e]! + this.pStealth[e]! + this.pNormal[e]!;
    const distinct = slow ? this.pSlowPorts[e]! : lcEstimate(this.pProbePorts[e]!, PORT_BITS);
    const span = ts - (slow ? this.pSlowStart[e]! : this.pWinStart[e]!);
    this.ctx.emit({
      tsUs: ts,
      sid: slow ? SID_SLOW : SID_VERTICAL + kind,
      rev: 1,
      msg: slow ? `VIGIL BEHAVIOR slow port scan (${KIND_NAMES[kind]})` : `VIGIL BEHAVIOR ${KIND_MSG[kind]}`,
      type: 'port_scan',
      severity: 'medium',
      mitre: ['T1046'],
      srcIp: formatIp(ver, K, o + 1),
      dstIp: formatIp(ver, K, o + 5),
      srcPort: 0,
      dstPort: 0,
      proto: kind === K_PROTO ? 0 : this.pProto[e]!,
      ipVer: ver === 6 ? 6 : 4,
      flowId: 0,
      evidence: {
        scan_kind: [KIND_NAMES[kind]!],
        scan_scope: [slow ? 'slow' : 'vertical'],
        distinct_ports: [distinct],
        distinct_failed_ports: [this.pFailPorts[e]!],
        sample_ports: sample,
        probes: [flows],
        failed_probes: [fails],
        open_probes: [this.pAborts[e]!],
        completed_connections: [this.pNormal[e]!],
        failure_ratio: [round2(fails / Math.max(1, flows))],
        window_s: [(slow ? this.slowUs : this.windowUs) / 1e6],
        duration_s: [seconds(span)],
      },
    });
    // A new slow-scan count starts after any alert, so the next slow alert needs new ports.
    this.pSlowStart[e] = ts;
    this.pSlowPorts[e] = 0;
    this.pSlowBits.fill(0, e * SLOW_WORDS, (e + 1) * SLOW_WORDS);
  }

  /** Horizontal sweep: one source, one protocol and port, many destinations (failed or aborted probes). */
  private sweep(
    ver: number,
    sw: Uint32Array,
    so: number,
    dw: Uint32Array,
    dof: number,
    proto: number,
    port: number,
    kind: number,
    outcome: number,
    ts: number,
  ): void {
    const W = this.sweeps;
    const k = W.key;
    k[0] = (ver << 8) | proto;
    for (let j = 0; j < 4; j++) k[1 + j] = sw[so + j]!;
    k[5] = port;
    const e = W.get(ts);
    if (W.created) {
      this.wAlerted[e] = 0;
      this.wLast[e] = ts;
      this.resetSweep(e, ts);
    }
    if (ts - this.wWinStart[e]! > this.sweepUs) this.resetSweep(e, ts);
    if (ts - this.wLast[e]! > this.quietUs) this.wAlerted[e] = 0;
    if (ts > this.wLast[e]!) this.wLast[e] = ts;
    this.wProbes[e]!++;
    if (outcome === O_FAIL) this.wFails[e]!++;
    this.wKinds[e * NK + kind]!++;
    let h = 0x2545f491;
    for (let j = 0; j < 4; j++) h = mix32(h ^ dw[dof + j]!);
    const bit = h & (HOST_BITS - 1);
    const wi = e * HOST_WORDS + (bit >>> 5);
    const m = 1 << (bit & 31);
    if ((this.wHostBits[wi]! & m) !== 0) return;
    this.wHostBits[wi]! |= m;
    this.wHosts[e]!++;
    const ns = this.wNSample[e]!;
    if (ns < SAMPLE) {
      for (let j = 0; j < 4; j++) this.wSample[(e * SAMPLE + ns) * 4 + j] = dw[dof + j]!;
      this.wNSample[e] = ns + 1;
    }
    if (this.wAlerted[e] !== 0 || this.wHosts[e]! < this.sweepHosts) return;
    this.wAlerted[e] = 1;
    let top = 0;
    for (let q = 1; q < NK; q++) if (this.wKinds[e * NK + q]! > this.wKinds[e * NK + top]!) top = q;
    const hosts: string[] = [];
    for (let q = 0; q < this.wNSample[e]!; q++) hosts.push(formatIp(ver, this.wSample, (e * SAMPLE + q) * 4));
    const ping = proto === 1 || proto === 58;
    const probes = this.wProbes[e]!;
    this.ctx.emit({
      tsUs: ts,
      sid: ping ? SID_PING_SWEEP : SID_SWEEP,
      rev: 1,
      msg: ping ? 'VIGIL BEHAVIOR ICMP ping sweep' : `VIGIL BEHAVIOR horizontal port sweep (${KIND_NAMES[top]})`,
      type: 'port_scan',
      severity: 'medium',
      mitre: ping ? ['T1018'] : ['T1046'],
      srcIp: formatIp(ver, W.keys, e * 6 + 1),
      dstIp: hosts[0] ?? formatIp(ver, dw, dof),
      srcPort: 0,
      dstPort: port,
      proto,
      ipVer: ver === 6 ? 6 : 4,
      flowId: 0,
      evidence: {
        scan_kind: [KIND_NAMES[top]!],
        scan_scope: ['horizontal'],
        distinct_hosts: [lcEstimate(this.wHosts[e]!, HOST_BITS)],
        sample_hosts: hosts,
        sample_ports: ping ? [] : [port],
        probes: [probes],
        failed_probes: [this.wFails[e]!],
        failure_ratio: [round2(this.wFails[e]! / Math.max(1, probes))],
        hosts_threshold: [this.sweepHosts],
        window_s: [this.sweepUs / 1e6],
        duration_s: [seconds(ts - this.wWinStart[e]!)],
      },
    });
  }

  private resetSweep(e: number, ts: number): void {
    this.wWinStart[e] = ts;
    this.wHostBits.fill(0, e * HOST_WORDS, (e + 1) * HOST_WORDS);
    this.wHosts[e] = 0;
    this.wProbes[e] = 0;
    this.wFails[e] = 0;
    this.wKinds.fill(0, e * NK, (e + 1) * NK);
    this.wNSample[e] = 0;
  }

  /** Clear the state of slots whose flow ended (done after the batch so its last packets still match). */
  private releaseEnded(): void {
    const st = this.sState;
    for (let k = 0; k < this.nEnded; k++) {
      const s = this.ended[k]!;
      if (s < st.length) st[s] = 0;
    }
    this.nEnded = 0;
  }

  tick(nowUs: number): void {
    const pairIdle = Math.max(this.windowUs, this.slowUs, this.quietUs);
    this.pairs.expire(nowUs, pairIdle, EXPIRE_PER_TICK);
    this.sweeps.expire(nowUs, Math.max(this.sweepUs, this.quietUs), EXPIRE_PER_TICK);
    this.services.expire(nowUs, this.svcUs, EXPIRE_PER_TICK);
  }

  finish(): void {
    this.releaseEnded();
  }
}

export function createPortScan(ctx: BehaviorContext): BehaviorDetector {
  return new PortScanDetector(ctx);
}
