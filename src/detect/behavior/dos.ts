/**
 * Denial-of-service detector. User documentation: docs/behavior.md.
 *
 * - SYN flood: SYNs per second to one service (destination, port) over a sliding window, with the
 *   share that never completed a handshake (half-open ratio). Spoofed sources change nothing: the
 *   aggregate is per destination.
 * - UDP flood: UDP packets per second to one host, when the host sends little UDP back.
 * - ICMP flood: ICMP packets (errors excluded) per second to one host.
 * - HTTP flood: HTTP transactions per second from one client to one server (application records).
 * - Slow HTTP (slowloris, slow POST): concurrent HTTP requests from one client to one server that
 *   stay unanswered for a long time while their headers never complete (or their body trickles
 *   in), at a low byte rate. Tracked per flow slot from the packets; counted once per second.
 *
 * Rates use a two-bucket sliding window (current bucket plus the previous one weighted by the part
 * of it still inside the window). One alert per episode and key: the episode ends once the
 * condition has been false for `cooldown_s`. Per-destination aggregates (SYN, UDP, ICMP floods)
 * see 1/shards of a many-source flood per shard, so their thresholds are divided by shards.
 */
import type { PacketBatch } from '../../capture/batch.js';
import { TCP_FLAG } from '../../decode/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import { formatIp, parseIp } from '../../flow/key.js';
import type { FlowRecord } from '../../flow/table.js';
import type { AppRecord } from '../../applayer/app-layer.js';
import { mix32 } from '../../util/hash.js';
import { KeyTable, growTo } from './port-scan.js';
import type { BehaviorContext, BehaviorDetector } from './types.js';

export const DOS_NAME = 'dos';

/** Defaults; each is discussed in docs/behavior.md. */
export const DOS_DEFAULTS: Readonly<Record<string, number>> = Object.freeze({
  /** Rate window for packet floods, seconds (FastNetMon's average_calculation_time: 5 s). */
  window_s: 5,
  /** SYNs per second to one service port (divided by shards). */
  syn_rate: 100,
  /** Share of those SYNs whose handshake never completed. */
  syn_half_open_ratio: 0.8,
  /** UDP packets per second to one host (divided by shards). */
  udp_pps: 2000,
  /** ...while the host sends back at most this share of UDP packets. */
  udp_reply_ratio: 0.2,
  /** ICMP packets per second (errors excluded) to one host (divided by shards). */
  icmp_pps: 200,
  /** Rate window for HTTP floods, seconds. */
  http_window_s: 10,
  /** HTTP requests per second from one client to one server. */
  http_rps: 30,
  /** Concurrent stalled HTTP requests from one client to one server. */
  slow_conns: 20,
  /** A request counts as stalled once unanswered this long, seconds. */
  slow_min_age_s: 10,
  /** ...and only while the client sent on average less than this many bytes per second. */
  slow_max_bytes_per_s: 1000,
  /** An episode ends once its condition has been false this long, seconds. */
  cooldown_s: 60,
});

const SID_SYN = 9200201;
const SID_UDP = 9200202;
const SID_ICMP = 9200203;
const SID_HTTP = 9200204;
const SID_SLOW = 9200205;

/** Per-flow-slot state bits. */
const D_SYN = 1;
const D_SYNACK = 2;
const D_COMPLETED = 4;
const D_AWAIT = 8;
const D_HDR = 16;
const D_HTTP = 32;
const D_CLOSED = 64;

const SYN = TCP_FLAG.SYN;
const ACK = TCP_FLAG.ACK;
const RST = TCP_FLAG.RST;
const FIN = TCP_FLAG.FIN;

/** Source bitmap per aggregate (distinct sources by linear counting, evidence only). */
const SRC_BITS = 512;
const SRC_WORDS = SRC_BITS / 32;

const MAX_SERVICES = 16384;
const MAX_HOSTS = 16384;
const MAX_HTTP_PAIRS = 8192;
const MAX_SLOW_PAIRS = 4096;
/** Requests awaiting an answer tracked at once for slow HTTP; beyond, `pendingOverflow` counts. */
const MAX_PENDING = 65536;
/** Request bytes searched for the end of the header block; more than this is no slow request. */
const MAX_HEADER_SCAN = 8192;
/** Stalled requests are counted once per second of packet time. */
const SLOW_SWEEP_US = 1_000_000;
const EXPIRE_PER_TICK = 64;

function lcEstimate(set: number, bits: number): number {
  if (set >= bits) return Math.round(bits * Math.log(bits));
  return Math.round(-bits * Math.log(1 - set / bits));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Whether bytes at `off` start like an HTTP request line: an upper-case method token and a space. */
function looksLikeRequest(buf: Buffer, off: number, len: number): boolean {
  let k = 0;
  while (k < len && k < 16) {
    const c = buf[off + k]!;
    if (c === 0x20) return k >= 3;
    if (c < 0x41 || c > 0x5a) return false;
    k++;
  }
  return k === len && k >= 3; // a method split across segments
}

/**
 * Sliding-window counters stored per entry in a Float64Array with a fixed stride: bucket start,
 * then (current, previous) pairs. Windows are aligned on the bucket start.
 */
class Rates {
  readonly stride: number;
  readonly v: Float64Array;
  readonly counters: number;
  readonly windowUs: number;
  constructor(capacity: number, counters: number, windowUs: number) {
    this.counters = counters;
    this.windowUs = windowUs;
    this.stride = 1 + 2 * counters;
    this.v = new Float64Array(capacity * this.stride);
  }

  reset(e: number, ts: number): void {
    const o = e * this.stride;
    this.v.fill(0, o, o + this.stride);
    this.v[o] = ts;
  }

  /** Move the buckets forward to `ts`; returns true when a new bucket started. */
  roll(e: number, ts: number): boolean {
    const o = e * this.stride;
    const el = ts - this.v[o]!;
    if (el < this.windowUs) return false;
    const v = this.v;
    const far = el >= 2 * this.windowUs;
    for (let c = 0; c < this.counters; c++) {
      const p = o + 1 + 2 * c;
      v[p + 1] = far ? 0 : v[p]!;
      v[p] = 0;
    }
    v[o] = far ? ts : v[o]! + this.windowUs;
    return true;
  }

  add(e: number, c: number, n: number): void {
    this.v[e * this.stride + 1 + 2 * c]! += n;
  }

  /** Count over the last window ending at `ts`. */
  est(e: number, c: number, ts: number): number {
    const o = e * this.stride;
    const p = o + 1 + 2 * c;
    const frac = 1 - (ts - this.v[o]!) / this.windowUs;
    return this.v[p]! + (frac > 0 ? this.v[p + 1]! * frac : 0);
  }
}

/** Counters of the per-service (SYN) and per-host (UDP, ICMP) rates. */
const C_SYN = 0;
const C_DONE = 1;
const C_UDP_IN = 0;
const C_UDP_OUT = 1;
const C_ICMP = 2;
const C_UDP_BYTES = 3;

class DosDetector implements BehaviorDetector {
  readonly name = DOS_NAME;
  private readonly ctx: BehaviorContext;
  private readonly windowUs: number;
  private readonly synCount: number;
  private readonly synRatio: number;
  private readonly udpCount: number;
  private readonly udpReply: number;
  private readonly icmpCount: number;
  private readonly httpWindowUs: number;
  private readonly httpCount: number;
  private readonly slowConns: number;
  private readonly slowAgeUs: number;
  private readonly slowMaxBps: number;
  private readonly cooldownUs: number;

  // Per flow slot.
  private dState = new Uint8Array(0);
  private awaitSince = new Float64Array(0);
  private lastClient = new Float64Array(0);
  private reqBytes = new Uint32Array(0);
  private tail = new Uint32Array(0);
  private pendIdx = new Int32Array(0);
  private ended = new Int32Array(1024);
  private nEnded = 0;

  // Requests awaiting an answer that look like HTTP (candidates for slow HTTP).
  private pendSlot = new Int32Array(1024);
  private pendWords = new Uint32Array(1024 * 8);
  private pendVer = new Uint8Array(1024);
  private pendPort = new Uint16Array(1024);
  private nPend = 0;
  /** Requests not tracked because MAX_PENDING were already. */
  pendingOverflow = 0;

  // (destination, port) -> SYN rates.
  private readonly services = new KeyTable(MAX_SERVICES, 5);
  private readonly sRates: Rates;
  private readonly sSrcBits = new Uint32Array(MAX_SERVICES * SRC_WORDS);
  private readonly sSrcSet = new Uint32Array(MAX_SERVICES);
  private readonly sLastSrc = new Uint32Array(MAX_SERVICES * 4);
  private readonly sAlerted = new Uint8Array(MAX_SERVICES);
  private readonly sAbove = new Float64Array(MAX_SERVICES);

  // destination host -> UDP and ICMP rates.
  private readonly hosts = new KeyTable(MAX_HOSTS, 5);
  private readonly hRates: Rates;
  private readonly hSrcBits = new Uint32Array(MAX_HOSTS * SRC_WORDS);
  private readonly hSrcSet = new Uint32Array(MAX_HOSTS);
  private readonly hLastSrc = new Uint32Array(MAX_HOSTS * 4);
  private readonly hLastPort = new Uint16Array(MAX_HOSTS);
  private readonly hAlertedUdp = new Uint8Array(MAX_HOSTS);
  private readonly hAboveUdp = new Float64Array(MAX_HOSTS);
  private readonly hAlertedIcmp = new Uint8Array(MAX_HOSTS);
  private readonly hAboveIcmp = new Float64Array(MAX_HOSTS);

  // (client, server) -> HTTP request rate.
  private readonly http = new KeyTable(MAX_HTTP_PAIRS, 9);
  private readonly httpRates: Rates;
  private readonly httpAlerted = new Uint8Array(MAX_HTTP_PAIRS);
  private readonly httpAbove = new Float64Array(MAX_HTTP_PAIRS);
  private readonly httpPort = new Uint16Array(MAX_HTTP_PAIRS);

  // (client, server) -> stalled requests at the last count.
  private readonly slow = new KeyTable(MAX_SLOW_PAIRS, 9);
  private readonly slSweep = new Uint32Array(MAX_SLOW_PAIRS);
  private readonly slCount = new Uint32Array(MAX_SLOW_PAIRS);
  private readonly slBytes = new Float64Array(MAX_SLOW_PAIRS);
  private readonly slOldest = new Float64Array(MAX_SLOW_PAIRS);
  private readonly slPort = new Uint16Array(MAX_SLOW_PAIRS);
  private readonly slAlerted = new Uint8Array(MAX_SLOW_PAIRS);
  private readonly slAbove = new Float64Array(MAX_SLOW_PAIRS);
  private slTouched = new Int32Array(256);
  private sweepId = 0;
  private lastSweepUs = -Infinity;

  private readonly wsrc = new Uint32Array(4);
  private readonly wdst = new Uint32Array(4);

  constructor(ctx: BehaviorContext) {
    this.ctx = ctx;
    const p = { ...DOS_DEFAULTS, ...(ctx.cfg.params[DOS_NAME] ?? {}) };
    const shards = ctx.shards;
    this.windowUs = Math.max(0.1, p['window_s']!) * 1e6;
    const w = this.windowUs / 1e6;
    // Many-to-one aggregates: each shard sees about 1/shards of a many-source flood.
    this.synCount = Math.max(1, (p['syn_rate']! * w) / shards);
    this.synRatio = p['syn_half_open_ratio']!;
    this.udpCount = Math.max(1, (p['udp_pps']! * w) / shards);
    this.udpReply = p['udp_reply_ratio']!;
    this.icmpCount = Math.max(1, (p['icmp_pps']! * w) / shards);
    this.httpWindowUs = Math.max(0.1, p['http_window_s']!) * 1e6;
    this.httpCount = Math.max(1, p['http_rps']! * (this.httpWindowUs / 1e6));
    this.slowConns = Math.max(1, p['slow_conns']!);
    this.slowAgeUs = p['slow_min_age_s']! * 1e6;
    this.slowMaxBps = p['slow_max_bytes_per_s']!;
    this.cooldownUs = p['cooldown_s']! * 1e6;
    this.sRates = new Rates(MAX_SERVICES, 2, this.windowUs);
    this.hRates = new Rates(MAX_HOSTS, 4, this.windowUs);
    this.httpRates = new Rates(MAX_HTTP_PAIRS, 1, this.httpWindowUs);
  }

  /** Table evictions (state dropped because a table was full). */
  get evicted(): number {
    return this.services.evicted + this.hosts.evicted + this.http.evicted + this.slow.evicted;
  }

  private ensureSlot(s: number): void {
    if (s < this.dState.length) return;
    const n = s + 1;
    this.dState = growTo(this.dState, n);
    this.awaitSince = growTo(this.awaitSince, n);
    this.lastClient = growTo(this.lastClient, n);
    this.reqBytes = growTo(this.reqBytes, n);
    this.tail = growTo(this.tail, n);
    this.pendIdx = growTo(this.pendIdx, n, -1);
  }

  packets(pkts: PacketBatch, dec: DecodedBatch): void {
    const n = dec.count;
    const proto = dec.proto;
    const ts = pkts.tsUs;
    for (let i = 0; i < n; i++) {
      // Stalled requests are counted by packet time, not per batch: a batch of a quiet capture
      // can span many seconds.
      if (ts[i]! - this.lastSweepUs >= SLOW_SWEEP_US) this.sweepSlow(ts[i]!);
      const pr = proto[i]!;
      if (pr === 6) {
        const s = dec.flowSlot[i]!;
        if (s < 0) continue;
        if (s >= this.dState.length) this.ensureSlot(s);
        let st = this.dState[s]!;
        if ((st & D_CLOSED) !== 0) continue;
        const fl = dec.tcpFlags[i]!;
        const pay = dec.payLen[i]!;
        const t = ts[i]!;
        if (dec.flowDir[i] === 0) {
          if ((fl & (SYN | ACK | RST)) === SYN) {
            st |= D_SYN;
            this.syn(dec, i, t);
          } else if (
            (st & (D_SYN | D_SYNACK | D_COMPLETED)) === (D_SYN | D_SYNACK) &&
            (fl & (SYN | ACK | RST)) === ACK
          ) {
            st |= D_COMPLETED;
            this.completed(dec, i, t);
          }
          if (pay > 0) st = this.clientData(pkts, dec, i, s, st, t);
        } else {
          if ((fl & (SYN | ACK)) === (SYN | ACK)) st |= D_SYNACK;
          if (pay > 0 && (st & D_AWAIT) !== 0) {
            // Answered.
            st &= ~D_AWAIT;
            if (this.pendIdx[s]! >= 0) this.unpend(s);
          }
        }
        if ((fl & (FIN | RST)) !== 0) {
          st = (st | D_CLOSED) & ~D_AWAIT;
          if (this.pendIdx[s]! >= 0) this.unpend(s);
        }
        this.dState[s] = st;
      } else if (pr === 17) {
        this.udp(dec, i, ts[i]!, pkts.origLen[i]!);
      } else if (pr === 1 || pr === 58) {
        const type = dec.icmpType[i]!;
        // Errors are answers (and rate-limited by the sender), not load.
        const err = pr === 1 ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type < 128;
        if (!err) this.icmp(dec, i, ts[i]!);
      }
    }
    this.releaseEnded();
  }

  private serviceKey(dec: DecodedBatch, i: number): void {
    const k = this.services.key;
    const w = i << 2;
    k[0] = (dec.ipVer[i]! << 16) | dec.dport[i]!;
    k[1] = dec.dst[w]!;
    k[2] = dec.dst[w + 1]!;
    k[3] = dec.dst[w + 2]!;
    k[4] = dec.dst[w + 3]!;
  }

  private syn(dec: DecodedBatch, i: number, t: number): void {
    this.serviceKey(dec, i);
    const S = this.services;
    const e = S.get(t);
    const R = this.sRates;
    if (S.created) {
      R.reset(e, t);
      this.sAlerted[e] = 0;
      this.sAbove[e] = 0;
      this.clearSrc(this.sSrcBits, this.sSrcSet, e);
    } else if (R.roll(e, t)) {
      this.clearSrc(this.sSrcBits, this.sSrcSet, e);
    }
    R.add(e, C_SYN, 1);
    this.noteSrc(this.sSrcBits, this.sSrcSet, this.sLastSrc, e, dec.src, i << 2);
    const syns = R.est(e, C_SYN, t);
    if (syns < this.synCount) return;
    const done = R.est(e, C_DONE, t);
    const halfOpen = 1 - Math.min(1, done / syns);
    if (halfOpen < this.synRatio) return;
    if (!this.episode(this.sAlerted, this.sAbove, e, t)) return;
    const K = S.keys;
    const ver = K[e * 5]! >>> 16;
    const port = K[e * 5]! & 0xffff;
    const w = this.windowUs / 1e6;
    this.ctx.emit({
      tsUs: t,
      sid: SID_SYN,
      rev: 1,
      msg: 'VIGIL BEHAVIOR TCP SYN flood',
      type: 'dos',
      severity: 'high',
      mitre: ['T1498.001', 'T1499.001'],
      srcIp: formatIp(ver, this.sLastSrc, e * 4),
      dstIp: formatIp(ver, K, e * 5 + 1),
      srcPort: 0,
      dstPort: port,
      proto: 6,
      ipVer: ver === 6 ? 6 : 4,
      flowId: 0,
      evidence: {
        flood_kind: ['syn'],
        syn_per_s: [Math.round(syns / w)],
        syn_packets: [Math.round(syns)],
        completed_handshakes: [Math.round(done)],
        half_open_ratio: [round2(halfOpen)],
        distinct_sources: [lcEstimate(this.sSrcSet[e]!, SRC_BITS)],
        threshold_per_s: [round2(this.synCount / w)],
        window_s: [w],
      },
    });
  }

  private completed(dec: DecodedBatch, i: number, t: number): void {
    this.serviceKey(dec, i);
    const e = this.services.find();
    if (e < 0) return;
    if (this.sRates.roll(e, t)) this.clearSrc(this.sSrcBits, this.sSrcSet, e);
    this.sRates.add(e, C_DONE, 1);
  }

  private hostKey(words: Uint32Array, w: number, ver: number): void {
    const k = this.hosts.key;
    k[0] = ver;
    k[1] = words[w]!;
    k[2] = words[w + 1]!;
    k[3] = words[w + 2]!;
    k[4] = words[w + 3]!;
  }

  private hostEntry(dec: DecodedBatch, i: number, t: number): number {
    this.hostKey(dec.dst, i << 2, dec.ipVer[i]!);
    const H = this.hosts;
    const e = H.get(t);
    if (H.created) {
      this.hRates.reset(e, t);
      this.hAlertedUdp[e] = 0;
      this.hAboveUdp[e] = 0;
      this.hAlertedIcmp[e] = 0;
      this.hAboveIcmp[e] = 0;
      this.clearSrc(this.hSrcBits, this.hSrcSet, e);
    } else if (this.hRates.roll(e, t)) {
      this.clearSrc(this.hSrcBits, this.hSrcSet, e);
    }
    this.noteSrc(this.hSrcBits, this.hSrcSet, this.hLastSrc, e, dec.src, i << 2);
    return e;
  }

  private udp(dec: DecodedBatch, i: number, t: number, bytes: number): void {
    const R = this.hRates;
    // Replies: UDP the destination of a flood sends back (looked up, never created).
    this.hostKey(dec.src, i << 2, dec.ipVer[i]!);
    const r = this.hosts.find();
    if (r >= 0) {
      if (R.roll(r, t)) this.clearSrc(this.hSrcBits, this.hSrcSet, r);
      R.add(r, C_UDP_OUT, 1);
    }
    const e = this.hostEntry(dec, i, t);
    R.add(e, C_UDP_IN, 1);
    R.add(e, C_UDP_BYTES, bytes);
    this.hLastPort[e] = dec.dport[i]!;
    const pkts = R.est(e, C_UDP_IN, t);
    if (pkts < this.udpCount) return;
    const back = R.est(e, C_UDP_OUT, t);
    if (back > pkts * this.udpReply) return;
    if (!this.episode(this.hAlertedUdp, this.hAboveUdp, e, t)) return;
    this.alertHost(e, t, 'udp', pkts, back, R.est(e, C_UDP_BYTES, t));
  }

  private icmp(dec: DecodedBatch, i: number, t: number): void {
    const e = this.hostEntry(dec, i, t);
    const R = this.hRates;
    R.add(e, C_ICMP, 1);
    const pkts = R.est(e, C_ICMP, t);
    if (pkts < this.icmpCount) return;
    if (!this.episode(this.hAlertedIcmp, this.hAboveIcmp, e, t)) return;
    this.alertHost(e, t, 'icmp', pkts, -1, -1);
  }

  private alertHost(e: number, t: number, kind: 'udp' | 'icmp', pkts: number, back: number, bytes: number): void {
    const K = this.hosts.keys;
    const ver = K[e * 5]!;
    const w = this.windowUs / 1e6;
    const udp = kind === 'udp';
    const evidence: Record<string, Array<string | number>> = {
      flood_kind: [kind],
      packets_per_s: [Math.round(pkts / w)],
      packets: [Math.round(pkts)],
      distinct_sources: [lcEstimate(this.hSrcSet[e]!, SRC_BITS)],
      threshold_per_s: [round2((udp ? this.udpCount : this.icmpCount) / w)],
      window_s: [w],
    };
    if (udp) {
      evidence['bytes_per_s'] = [Math.round(bytes / w)];
      evidence['reply_ratio'] = [round2(back / Math.max(1, pkts))];
      evidence['sample_ports'] = [this.hLastPort[e]!];
    }
    this.ctx.emit({
      tsUs: t,
      sid: udp ? SID_UDP : SID_ICMP,
      rev: 1,
      msg: udp ? 'VIGIL BEHAVIOR UDP flood' : 'VIGIL BEHAVIOR ICMP flood',
      type: 'dos',
      severity: 'high',
      mitre: ['T1498.001'],
      srcIp: formatIp(ver, this.hLastSrc, e * 4),
      dstIp: formatIp(ver, K, e * 5 + 1),
      srcPort: 0,
      dstPort: udp ? this.hLastPort[e]! : 0,
      proto: udp ? 17 : ver === 6 ? 58 : 1,
      ipVer: ver === 6 ? 6 : 4,
      flowId: 0,
      evidence,
    });
  }

  /**
   * The condition holds for entry e at t: true when this starts an episode (alert), false while
   * one is running. An episode ends once the condition was false for the cool-down.
   */
  private episode(alerted: Uint8Array, above: Float64Array, e: number, t: number): boolean {
    const start = alerted[e] === 0 || t - above[e]! > this.cooldownUs;
    if (t > above[e]!) above[e] = t;
    if (!start) return false;
    alerted[e] = 1;
    return true;
  }

  private clearSrc(bits: Uint32Array, set: Uint32Array, e: number): void {
    bits.fill(0, e * SRC_WORDS, (e + 1) * SRC_WORDS);
    set[e] = 0;
  }

  private noteSrc(
    bits: Uint32Array,
    set: Uint32Array,
    last: Uint32Array,
    e: number,
    words: Uint32Array,
    w: number,
  ): void {
    const o = e * 4;
    if (
      last[o] === words[w] &&
      last[o + 1] === words[w + 1] &&
      last[o + 2] === words[w + 2] &&
      last[o + 3] === words[w + 3]
    ) {
      if (set[e] !== 0) return;
    } else {
      last[o] = words[w]!;
      last[o + 1] = words[w + 1]!;
      last[o + 2] = words[w + 2]!;
      last[o + 3] = words[w + 3]!;
    }
    const h = mix32(mix32(mix32(words[w]! ^ 0x51ed270b) ^ words[w + 1]!) ^ words[w + 2]! ^ mix32(words[w + 3]!));
    const bit = h & (SRC_BITS - 1);
    const wi = e * SRC_WORDS + (bit >>> 5);
    const m = 1 << (bit & 31);
    if ((bits[wi]! & m) === 0) {
      bits[wi]! |= m;
      set[e]!++;
    }
  }

  /** Client payload on a TCP flow: starts or continues the request awaiting an answer. */
  private clientData(pkts: PacketBatch, dec: DecodedBatch, i: number, s: number, st: number, t: number): number {
    const pay = dec.payLen[i]!;
    const buf = dec.bytesOf(i, pkts.buf);
    const off = dec.payOff[i]!;
    if ((st & D_AWAIT) === 0) {
      st = (st | D_AWAIT) & ~(D_HDR | D_HTTP);
      this.awaitSince[s] = t;
      this.reqBytes[s] = 0;
      this.tail[s] = 0;
      if (off >= 0 && looksLikeRequest(buf, off, Math.min(pay, buf.length - off))) {
        st |= D_HTTP;
        if (this.pendIdx[s]! < 0) this.pend(dec, i, s);
      }
    }
    this.lastClient[s] = t;
    const before = this.reqBytes[s]!;
    this.reqBytes[s] = Math.min(0xffffffff, before + pay);
    if ((st & (D_HTTP | D_HDR)) === D_HTTP && off >= 0) {
      if (before >= MAX_HEADER_SCAN) {
        // Kilobytes of header without an end: not a slow request.
        st &= ~D_HTTP;
        if (this.pendIdx[s]! >= 0) this.unpend(s);
      } else {
        // The header block ends at CRLF CRLF (or LF LF from lenient clients), possibly split
        // across segments: the last bytes seen carry over in `tail`.
        let r = this.tail[s]!;
        const end = Math.min(off + pay, off + MAX_HEADER_SCAN - before, buf.length);
        for (let p = off; p < end; p++) {
          r = ((r << 8) | buf[p]!) >>> 0;
          if (r === 0x0d0a0d0a || (r & 0xffff) === 0x0a0a) {
            st |= D_HDR;
            break;
          }
        }
        this.tail[s] = r;
      }
    }
    return st;
  }

  private pend(dec: DecodedBatch, i: number, s: number): void {
    const k = this.nPend;
    if (k >= MAX_PENDING) {
      this.pendingOverflow++;
      return;
    }
    if (k === this.pendSlot.length) {
      this.pendSlot = growTo(this.pendSlot, k + 1);
      this.pendWords = growTo(this.pendWords, (k + 1) * 8);
      this.pendVer = growTo(this.pendVer, k + 1);
      this.pendPort = growTo(this.pendPort, k + 1);
    }
    const w = i << 2;
    for (let j = 0; j < 4; j++) {
      this.pendWords[k * 8 + j] = dec.src[w + j]!;
      this.pendWords[k * 8 + 4 + j] = dec.dst[w + j]!;
    }
    this.pendVer[k] = dec.ipVer[i]!;
    this.pendPort[k] = dec.dport[i]!;
    this.pendSlot[k] = s;
    this.pendIdx[s] = k;
    this.nPend = k + 1;
  }

  private unpend(s: number): void {
    const k = this.pendIdx[s]!;
    this.pendIdx[s] = -1;
    const last = --this.nPend;
    if (k !== last) {
      const moved = this.pendSlot[last]!;
      this.pendSlot[k] = moved;
      this.pendIdx[moved] = k;
      this.pendWords.copyWithin(k * 8, last * 8, last * 8 + 8);
      this.pendVer[k] = this.pendVer[last]!;
      this.pendPort[k] = this.pendPort[last]!;
    }
  }

  /** Count stalled requests per (client, server) and alert on many at once. */
  private sweepSlow(now: number): void {
    this.lastSweepUs = now;
    if (this.nPend === 0) return;
    const id = ++this.sweepId;
    const L = this.slow;
    let touched = 0;
    for (let k = 0; k < this.nPend; k++) {
      const s = this.pendSlot[k]!;
      const st = this.dState[s]!;
      const age = now - this.awaitSince[s]!;
      if (age < this.slowAgeUs || age <= 0) continue;
      if ((this.reqBytes[s]! * 1e6) / age >= this.slowMaxBps) continue;
      // Headers never completed (slowloris), or a body still trickling in long after the
      // request began (slow POST); a complete request waiting quietly is a long poll.
      const trickling = this.lastClient[s]! - this.awaitSince[s]! >= this.slowAgeUs / 2;
      if ((st & D_HDR) !== 0 && !trickling) continue;
      const key = L.key;
      key[0] = this.pendVer[k]!;
      for (let j = 0; j < 8; j++) key[1 + j] = this.pendWords[k * 8 + j]!;
      const e = L.get(now);
      if (L.created) {
        this.slAlerted[e] = 0;
        this.slAbove[e] = 0;
        this.slSweep[e] = 0;
      }
      if (this.slSweep[e] !== id) {
        this.slSweep[e] = id;
        this.slCount[e] = 0;
        this.slBytes[e] = 0;
        this.slOldest[e] = 0;
        if (touched === this.slTouched.length) this.slTouched = growTo(this.slTouched, touched + 1);
        this.slTouched[touched++] = e;
      }
      this.slCount[e]!++;
      this.slBytes[e]! += this.reqBytes[s]!;
      if (age > this.slOldest[e]!) this.slOldest[e] = age;
      this.slPort[e] = this.pendPort[k]!;
    }
    for (let k = 0; k < touched; k++) {
      const e = this.slTouched[k]!;
      // An entry evicted during this count (table full) holds another key now.
      if (this.slSweep[e] !== id || this.slCount[e]! < this.slowConns) continue;
      if (!this.episode(this.slAlerted, this.slAbove, e, now)) continue;
      const K = L.keys;
      const ver = K[e * 9]!;
      const count = this.slCount[e]!;
      this.ctx.emit({
        tsUs: now,
        sid: SID_SLOW,
        rev: 1,
        msg: 'VIGIL BEHAVIOR slow HTTP (slowloris) attack',
        type: 'dos',
        severity: 'high',
        mitre: ['T1499.002'],
        srcIp: formatIp(ver, K, e * 9 + 1),
        dstIp: formatIp(ver, K, e * 9 + 5),
        srcPort: 0,
        dstPort: this.slPort[e]!,
        proto: 6,
        ipVer: ver === 6 ? 6 : 4,
        flowId: 0,
        evidence: {
          flood_kind: ['slow_http'],
          concurrent_stalled_requests: [count],
          mean_request_bytes: [Math.round(this.slBytes[e]! / count)],
          oldest_request_s: [Math.round(this.slOldest[e]! / 1e6)],
          min_age_s: [this.slowAgeUs / 1e6],
          threshold: [this.slowConns],
          sample_ports: [this.slPort[e]!],
        },
      });
    }
  }

  flowEnd(rec: FlowRecord): void {
    if (this.nEnded === this.ended.length) this.ended = growTo(this.ended, this.nEnded + 1);
    this.ended[this.nEnded++] = rec.slot;
  }

  app(rec: AppRecord): void {
    if (rec.kind !== 'http') return;
    const f = rec.flow;
    const ver = parseIp(f.srcIp, this.wsrc, 0);
    if (ver === 0 || parseIp(f.dstIp, this.wdst, 0) !== ver) return;
    const H = this.http;
    const k = H.key;
    k[0] = ver;
    for (let j = 0; j < 4; j++) {
      k[1 + j] = this.wsrc[j]!;
      k[5 + j] = this.wdst[j]!;
    }
    const t = rec.tsUs;
    const e = H.get(t);
    const R = this.httpRates;
    if (H.created) {
      R.reset(e, t);
      this.httpAlerted[e] = 0;
      this.httpAbove[e] = 0;
    } else {
      R.roll(e, t);
    }
    R.add(e, 0, 1);
    this.httpPort[e] = f.dstPort;
    const reqs = R.est(e, 0, t);
    if (reqs < this.httpCount) return;
    if (!this.episode(this.httpAlerted, this.httpAbove, e, t)) return;
    const w = this.httpWindowUs / 1e6;
    this.ctx.emit({
      tsUs: t,
      sid: SID_HTTP,
      rev: 1,
      msg: 'VIGIL BEHAVIOR HTTP request flood',
      type: 'dos',
      severity: 'high',
      mitre: ['T1499.002'],
      srcIp: f.srcIp,
      dstIp: f.dstIp,
      srcPort: 0,
      dstPort: f.dstPort,
      proto: 6,
      ipVer: ver,
      flowId: 0,
      evidence: {
        flood_kind: ['http'],
        requests_per_s: [Math.round(reqs / w)],
        requests: [Math.round(reqs)],
        threshold_per_s: [this.httpCount / w],
        window_s: [w],
        sample_ports: [f.dstPort],
      },
    });
  }

  /** Clear the state of slots whose flow ended (after the batch, so its last packets still match). */
  private releaseEnded(): void {
    for (let k = 0; k < this.nEnded; k++) {
      const s = this.ended[k]!;
      if (s >= this.dState.length) continue;
      this.dState[s] = 0;
      if (this.pendIdx[s]! >= 0) this.unpend(s);
    }
    this.nEnded = 0;
  }

  tick(nowUs: number): void {
    if (nowUs - this.lastSweepUs >= SLOW_SWEEP_US) this.sweepSlow(nowUs);
    const idle = Math.max(2 * this.windowUs, this.cooldownUs);
    this.services.expire(nowUs, idle, EXPIRE_PER_TICK);
    this.hosts.expire(nowUs, idle, EXPIRE_PER_TICK);
    this.http.expire(nowUs, Math.max(2 * this.httpWindowUs, this.cooldownUs), EXPIRE_PER_TICK);
    this.slow.expire(nowUs, this.cooldownUs + SLOW_SWEEP_US, EXPIRE_PER_TICK);
  }

  finish(nowUs: number): void {
    // Flows still open at the end of input were just flushed; count their requests first.
    this.sweepSlow(nowUs);
    this.releaseEnded();
  }
}

export function createDos(ctx: BehaviorContext): BehaviorDetector {
  return new DosDetector(ctx);
}
