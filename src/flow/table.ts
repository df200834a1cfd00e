/**
 * The flow table: bidirectional flows keyed by IP version, protocol, VLAN ids, addresses and ports
 * (ports ignored for ICMP/ICMPv6). Struct-of-arrays storage over typed arrays, an open-addressing
 * index (linear probing, power-of-two size, load <= 0.5, backward-shift deletion: no tombstones),
 * a free list of slots, and no per-packet allocation: `FlowRecord` objects are built only when a
 * flow ends. See docs/flows.md for the flow definition, timeouts and eviction policy.
 */
import type { PacketBatch } from '../capture/batch.js';
import { FFLAG, LAYER, TCP_FLAG } from '../decode/batch.js';
import type { DecodedBatch } from '../decode/batch.js';
import { FEATURE_NAMES, FlowFeatures } from './features.js';
import { HostTracker } from './hosts.js';
import type { HostTrackerOptions } from './hosts.js';
import { communityIdEncoded, flowHash, formatIp } from './key.js';
import { TCP_STATE, TCP_STATE_NAMES, tcpFlowState, tcpIsReuse, tcpNext } from './tcp-state.js';
import { FLOW_STATE, FLOW_STATE_NAMES, protoClass, resolveTimeouts, timeoutTableUs } from './timeouts.js';
import type { FlowTimeouts, FlowTimeoutsInput } from './timeouts.js';

export type { FlowTimeouts, FlowTimeoutsInput } from './timeouts.js';

export interface FlowOptions {
  /** Live flows at most (default 262144). At the cap the stalest of a bounded probe is evicted ('forced'). */
  maxFlows?: number;
  /** Timeouts in seconds (any subset; defaults are Suricata's, see timeouts.ts). */
  timeouts?: FlowTimeoutsInput;
  /** Compute CICFlowMeter features and Vigil extras (default true). */
  features?: boolean;
  /** Worker number 0..255, mixed into flow ids so ids stay unique across workers (default 0). */
  workerId?: number;
  /** Community ID seed (default 0). */
  communityIdSeed?: number;
  /**
   * Compute the Community ID of each finished flow (default true). It costs a SHA-1 per flow,
   * about a third of the per-flow cost, so runs that output no flow records turn it off.
   */
  communityId?: boolean;
  /** Per-source tracking for `Src Distinct Dst Ports/Hosts`. */
  hosts?: HostTrackerOptions;
  /**
   * Treat TCP sessions picked up without a handshake as established (Suricata's stream.midstream;
   * default false: only a seen handshake makes a TCP flow established).
   */
  midstream?: boolean;
  /** Entropy histograms allocated at start (default 4096); the pool grows on demand (features.ts). */
  entropyPool?: number;
}

export type FlowEndReason = 'timeout' | 'forced' | 'shutdown';

/** A flow's identity, client first. */
export interface FlowTuple {
  flowId: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  /** VLAN ids, outer first; absent when untagged. */
  vlan?: number[];
}

export interface FlowTcpInfo {
  /** TCP flags seen in either direction (OR). */
  flags: number;
  /** Flags seen to server. */
  flagsTs: number;
  /** Flags seen to client. */
  flagsTc: number;
  /** Suricata state name (none, syn_sent, syn_recv, established, fin_wait1, ..., closed). */
  state: string;
}

/** A finished flow. Source = client (the first packet's sender, see docs/flows.md). */
export interface FlowRecord {
  /** Positive integer < 2^53, unique per flow within a run (and across workers with distinct workerId). */
  flowId: number;
  ipVer: 4 | 6;
  srcIp: string;
  dstIp: string;
  /** Client and server ports (0 for ICMP and port-less protocols). */
  srcPort: number;
  dstPort: number;
  proto: number;
  /** VLAN ids, outer first; empty when untagged. */
  vlan: number[];
  /** ICMP/ICMPv6 type and code of the first packet to server, and of the first response. */
  icmpType?: number;
  icmpCode?: number;
  responseIcmpType?: number;
  responseIcmpCode?: number;
  /** First and last packet time, microseconds since the epoch. */
  startUs: number;
  endUs: number;
  pktsToServer: number;
  pktsToClient: number;
  /** Frame bytes on the wire (PacketBatch.origLen), as Suricata and tshark count them. */
  bytesToServer: number;
  bytesToClient: number;
  state: 'new' | 'established' | 'closed';
  tcp?: FlowTcpInfo;
  reason: FlowEndReason;
  /** Community ID v1, "" when FlowOptions.communityId is false. */
  communityId: string;
  /** The flow's table slot, so per-slot state of later stages (stream, app layer) can be released. */
  slot: number;
  /** Application protocol recognised on the flow (set by the app layer), e.g. "http". */
  appProto?: string;
  /** Set by `markAlerted(slot)` while the flow was live. */
  alerted: boolean;
  /**
   * FEATURE_NAMES order; null when features are off. A view into a recycled pool: valid during
   * the onEnd callback only, so a consumer that keeps it must copy it (`Float64Array.from`).
   */
  features: Float64Array | null;
}

/** Slot states. */
const FREE = 0;
const LIVE = 1;
const ENDED = 2;

const REASONS: readonly FlowEndReason[] = ['timeout', 'forced', 'shutdown'];

/** The VLAN ids of a flow key's packed VLAN word (DecodedBatch.vlan), outer first; [] untagged. */
function vlanIds(v: number): number[] {
  return v === 0 ? [] : v < 4096 ? [v] : [v >>> 12, v & 0xfff];
}
const R_TIMEOUT = 0;
const R_FORCED = 1;
const R_SHUTDOWN = 2;

/**
 * Slots beyond maxFlows for flows that ended during a batch and keep their slot until the next
 * process()/flush()/releaseEnded() (two ends per packet at most for batches up to 8192 packets,
 * plus the sweep's ends).
 */
const SWEEP_MAX_ENDS = 4096;
const SPARE_SLOTS = 2 * 8192 + SWEEP_MAX_ENDS;
/** The sweep visits every slot once per this much packet time (1 s), plus SWEEP_MIN slots per batch. */
const SWEEP_PERIOD_US = 1_000_000;
const SWEEP_MIN = 256;
/** Slots examined to pick an eviction victim (the least recently seen among them). */
const EVICT_PROBE = 64;
/** Leave emergency mode when live flows drop below this share of maxFlows (Suricata: emergency-recovery 30 %). */
const EMERGENCY_RECOVERY = 0.7;

const SYN_ACK = TCP_FLAG.SYN | TCP_FLAG.ACK;
/**
 * Entries of the direct-mapped cache of formatted IPv4 addresses. Captures repeat few addresses
 * across many flows (144 client hosts for 422,655 flows in the bench capture), so one string per
 * address serves every flow record: no formatting, and consumers keying maps by address (top
 * talkers) hash each string once (bench/macro/throughput.ts, docs/performance.md).
 */
const V4_NAME_CACHE = 4096;
/** Slots per `blockMin` entry (bench/macro/throughput.ts: the sweep reads 1 in 64 deadlines when nothing expires). */
const DL_BLOCK_SHIFT = 6;
const DL_BLOCK = 1 << DL_BLOCK_SHIFT;
/** Feature vectors in the recycled pool handed out with flow records (FlowRecord.features). */
const FEAT_VIEWS = 256;
/**
 * Starting capacity of the flow index (positions). It doubles as live flows pass half of it, up to
 * twice maxFlows: sized for maxFlows from the start (4 MB at the default) every lookup missed the
 * cache; the bench capture peaks at 32k live flows (docs/performance.md).
 */
const INDEX_MIN_CAP = 4096;

// Key block (int32 words per slot).
const KEY_STRIDE = 16;
const K_HASH = 0;
const K_META = 1; // ipVer | proto << 8
const K_VLAN = 2;
const K_PORTS = 3; // client port << 16 | server port
const K_C = 4; // client address, 4 words
const K_S = 8; // server address, 4 words
const K_ST = 12; // tcp state | flow state << 8 | seen-direction bits << 16 | proto class << 24
const K_TFL = 13; // TCP flags to server | to client << 8
const K_ICMP = 14; // type, code to server | type, code to client << 16
const K_MISC = 15; // alerted | established bit (2) | end reason << 8
// Hot block (doubles per slot).
const HOT_STRIDE = 8;
const H_LAST = 0;
const H_FIRST = 1;
const H_PKTS = 2; // + dir
const H_BYTES = 4; // + dir
const H_CONN = 6;
const H_ID = 7;

export class FlowTable {
  readonly maxFlows: number;
  readonly timeouts: FlowTimeouts;
  private readonly onEnd: (rec: FlowRecord) => void;
  private readonly withFeatures: boolean;
  private readonly workerId: number;
  private readonly seed: number;
  private readonly withCommunityId: boolean;
  private readonly midstream: boolean;
  private readonly featPool = new Float64Array(FEATURE_NAMES.length * FEAT_VIEWS);
  /** The pool's vectors as views made once: a `subarray` per flow was 1 % of the run (cpu-prof). */
  private readonly featViews: Float64Array[] = [];
  private featViewNext = 0;
  private readonly tmo: Float64Array;
  private readonly activeUs: number;

  // Open-addressing index: pairs (slot, hash) per position; slot -1 = empty. The hash beside the
  // slot rejects most non-matching probes without touching the slot's key.
  private index: Int32Array;
  private mask: number;
  /** Largest index capacity: the smallest power of two >= 2 * maxFlows (load factor <= 0.5). */
  private readonly indexMaxCap: number;

  // Per-slot columns, interleaved so a packet touches few cache lines: `key` holds KEY_STRIDE
  // int32 words per slot (64 bytes), `hot` HOT_STRIDE doubles (64 bytes).
  private readonly total: number;
  private readonly slotState: Uint8Array;
  private readonly key: Int32Array;
  private readonly hot: Float64Array;
  /**
   * Per slot, dense: last seen + the flow's normal (non-emergency) idle timeout; +Infinity for a
   * slot without a live flow. The sweep reads this column alone (8 bytes a slot) instead of each
   * slot's state byte, hot and key lines: sweep was 4 % of `analyze --no-detect` (cpu-prof).
   * Exact only for whole-microsecond timeouts (`deadlineExact`); otherwise, and in emergency mode,
   * the sweep uses the per-slot test.
   */
  private readonly deadline: Float64Array;
  private readonly deadlineExact: boolean;
  /**
   * Per block of DL_BLOCK slots, a lower bound of their deadlines (exact after the sweep scans the
   * whole block, lowered by every deadline written): the sweep steps over a block that cannot
   * hold an expired flow without reading its slots.
   */
  private readonly blockMin: Float64Array;

  private readonly freeStack: Int32Array;
  private freeTop: number;
  private readonly pending: Int32Array;
  private pendingCount = 0;
  private hw = 0;

  private readonly scratchWords = new Uint32Array(8);
  private readonly v4NameKey = new Float64Array(V4_NAME_CACHE).fill(-1);
  private readonly v4Name: string[] = new Array<string>(V4_NAME_CACHE).fill('');
  private readonly feats: FlowFeatures | null;
  private readonly hosts: HostTracker | null;

  private live = 0;
  private created = 0;
  private idCounter = 0;
  private now = 0;
  private lastSweepNow = -1;
  private hand = 0;
  private emergency = 0;

  // Counters.
  private nEvicted = 0;
  private nTimedOut = 0;
  private nActiveTimeout = 0;
  private nReused = 0;
  private nEmergency = 0;
  private nPendingOverflow = 0;
  private nShutdown = 0;
  private nPackets = 0;
  private nNotFlow = 0;

  constructor(opts: FlowOptions, onEnd: (rec: FlowRecord) => void) {
    this.maxFlows = Math.max(1, Math.floor(opts.maxFlows ?? 262144));
    this.timeouts = resolveTimeouts(opts.timeouts);
    this.tmo = timeoutTableUs(this.timeouts);
    this.activeUs = this.timeouts.active * 1e6;
    this.onEnd = onEnd;
    this.withFeatures = opts.features ?? true;
    this.workerId = (opts.workerId ?? 0) & 0xff;
    this.seed = opts.communityIdSeed ?? 0;
    this.withCommunityId = opts.communityId ?? true;
    this.midstream = opts.midstream ?? false;

    let cap = 16;
    while (cap < this.maxFlows * 2) cap *= 2;
    this.indexMaxCap = cap;
    cap = Math.min(cap, INDEX_MIN_CAP);
    this.index = new Int32Array(cap * 2).fill(-1);
    this.mask = cap - 1;
    const nf = FEATURE_NAMES.length;
    for (let k = 0; k < FEAT_VIEWS; k++) this.featViews.push(this.featPool.subarray(k * nf, (k + 1) * nf));

    const n = this.maxFlows + SPARE_SLOTS;
    this.total = n;
    this.slotState = new Uint8Array(n);
    this.key = new Int32Array(n * KEY_STRIDE);
    this.hot = new Float64Array(n * HOT_STRIDE);
    this.deadline = new Float64Array(n).fill(Infinity);
    this.blockMin = new Float64Array(Math.ceil(n / DL_BLOCK)).fill(Infinity);
    // last + timeout equals the per-slot test `now - last > timeout` exactly for integer values.
    this.deadlineExact = this.tmo.every((t) => Number.isInteger(t));
    this.freeStack = new Int32Array(n);
    for (let k = 0; k < n; k++) this.freeStack[k] = n - 1 - k; // pop yields 0, 1, 2, ...
    this.freeTop = n;
    this.pending = new Int32Array(n);
    this.feats = this.withFeatures ? new FlowFeatures(n, opts.entropyPool) : null;
    this.hosts = this.withFeatures ? new HostTracker(opts.hosts) : null;
  }

  /** Live flows. */
  get activeFlows(): number {
    return this.live;
  }

  /** Flows created since start. */
  get totalFlows(): number {
    return this.created;
  }

  /** Slots in the table (maxFlows plus spare slots for flows ending in the current batch). */
  get slotCapacity(): number {
    return this.total;
  }

  /** Addresses and ports of the flow in `slot`, oriented client -> server (for app-layer records). */
  tupleOf(slot: number): FlowTuple {
    const key = this.key;
    const o = slot * KEY_STRIDE;
    const meta = key[o + K_META]!;
    const ipVer = (meta & 0xff) === 6 ? 6 : 4;
    const words = this.scratchWords;
    for (let k = 0; k < 4; k++) {
      words[k] = key[o + K_C + k]! >>> 0;
      words[4 + k] = key[o + K_S + k]! >>> 0;
    }
    const ports = key[o + K_PORTS]!;
    const t: FlowTuple = {
      flowId: this.hot[slot * HOT_STRIDE + H_ID]!,
      srcIp: this.ipName(ipVer, words, 0),
      dstIp: this.ipName(ipVer, words, 4),
      srcPort: (ports >>> 16) & 0xffff,
      dstPort: ports & 0xffff,
      proto: (meta >>> 8) & 0xff,
    };
    const v = key[o + K_VLAN]! >>> 0;
    if (v !== 0) t.vlan = vlanIds(v);
    return t;
  }

  /** Flows evicted at the memory cap (reason 'forced'). */
  get evicted(): number {
    return this.nEvicted;
  }

  /** Flow id of the flow in `slot` (valid for dec.flowSlot values until the next process()). */
  flowIdOf(slot: number): number {
    return this.hot[slot * HOT_STRIDE + H_ID]!;
  }

  /** Remember that an alert was raised on the flow in `slot` (reported as FlowRecord.alerted). */
  markAlerted(slot: number): void {
    if (slot >= 0 && slot < this.total) {
      const k = slot * KEY_STRIDE + K_MISC;
      this.key[k] = this.key[k]! | 1;
    }
  }

  /** Packet/byte counters and start time of the live flow in `slot` (EVE alert `flow` object). */
  countersOf(slot: number): {
    pktsToServer: number;
    pktsToClient: number;
    bytesToServer: number;
    bytesToClient: number;
    startUs: number;
  } {
    const hot = this.hot;
    const hb = slot * HOT_STRIDE;
    return {
      pktsToServer: hot[hb + H_PKTS]!,
      pktsToClient: hot[hb + H_PKTS + 1]!,
      bytesToServer: hot[hb + H_BYTES]!,
      bytesToClient: hot[hb + H_BYTES + 1]!,
      startUs: hot[hb + H_FIRST]!,
    };
  }

  /** TCP state (TCP_STATE) of the flow in `slot`. */
  tcpStateOf(slot: number): number {
    return this.key[slot * KEY_STRIDE + K_ST]! & 0xff;
  }

  stats(): Record<string, number> {
    return {
      active: this.live,
      total: this.created,
      packets: this.nPackets,
      not_flow_packets: this.nNotFlow,
      timeout: this.nTimedOut,
      active_timeout: this.nActiveTimeout,
      tcp_reuse: this.nReused,
      evicted: this.nEvicted,
      emergency_entered: this.nEmergency,
      emergency: this.emergency,
      pending_overflow: this.nPendingOverflow,
      shutdown: this.nShutdown,
      slots_high_water: this.hw,
      hosts_tracked: this.hosts?.used ?? 0,
      hosts_dropped: this.hosts?.dropped ?? 0,
      entropy_histograms: this.feats?.stats().entropyHistograms ?? 0,
    };
  }

  /**
   * Track every flow packet of the batch (sets dec.flowSlot/flowDir; -1 for packets that are not
   * flow packets: no IP, or an IP fragment not yet reassembled), then expire idle flows by packet
   * time. Flows that end during the call keep their slot (so this batch's flowSlot values stay
   * valid for later stages) and are emitted to `onEnd` at the start of the next process(), by
   * flush() or by releaseEnded().
   */
  process(pkts: PacketBatch, dec: DecodedBatch): void {
    this.releaseEnded();
    const count = dec.count;
    const tsCol = pkts.tsUs;
    const hot = this.hot;
    const key = this.key;
    for (let i = 0; i < count; i++) {
      dec.flowSlot[i] = -1;
      dec.flowDir[i] = 0;
      const ipVer = dec.ipVer[i]!;
      const layers = dec.layers[i]!;
      if (ipVer === 0 || ((layers & LAYER.FRAGMENT) !== 0 && (layers & LAYER.REASSEMBLED) === 0)) {
        this.nNotFlow++;
        continue;
      }
      this.nPackets++;
      const ts = tsCol[i]!;
      if (ts > this.now) this.now = ts;
      const h = flowHash(dec, i);
      const proto = dec.proto[i]!;
      const flags = proto === 6 ? dec.tcpFlags[i]! : 0;
      let slot = -1;
      let dir = 0;
      const r = this.lookup(h | 0, dec, i);
      if (r >= 0) {
        slot = r >> 1;
        dir = r & 1;
        const hb = slot * HOT_STRIDE;
        if (ts - hot[hb + H_LAST]! > this.timeoutOf(slot)) {
          // Idle-expired, not yet reached by the sweep.
          this.nTimedOut++;
          this.end(slot, R_TIMEOUT);
          slot = -1;
        } else if (proto === 6 && tcpIsReuse(key[slot * KEY_STRIDE + K_ST]! & 0xff, flags)) {
          // A new SYN on a closing/closed connection's tuple: port reuse starts a new flow.
          this.nReused++;
          this.end(slot, R_TIMEOUT);
          slot = -1;
        } else if (this.activeUs > 0 && ts - hot[hb + H_FIRST]! >= this.activeUs) {
          // Active timeout: end it and continue with the same client/server orientation.
          this.nActiveTimeout++;
          const clientIsSrc = dir === 0;
          const connStart = hot[hb + H_CONN]!;
          const st = key[slot * KEY_STRIDE + K_ST]! & 0xff;
          this.end(slot, R_TIMEOUT);
          slot = this.create(h | 0, dec, i, ts, clientIsSrc, connStart, st);
          dir = clientIsSrc ? 0 : 1;
        }
      }
      if (slot < 0) {
        // The first packet's sender is the client, except a SYN-ACK seen first (midstream
        // pick-up after a missed SYN): its sender is the server.
        const clientIsSrc = !(proto === 6 && (flags & SYN_ACK) === SYN_ACK);
        slot = this.create(h | 0, dec, i, ts, clientIsSrc, ts, TCP_STATE.NONE);
        dir = clientIsSrc ? 0 : 1;
      }
      this.account(slot, dir, i, ts, flags, pkts, dec);
      dec.flowSlot[i] = slot;
      dec.flowDir[i] = dir;
    }
    this.sweep();
  }

  /**
   * End all flows and emit every pending record. A flow idle past its timeout by the last packet
   * time ends as 'timeout' (the sweep had not reached it yet: which ones it had reached depends on
   * batch boundaries), the others as 'shutdown'.
   */
  flush(): void {
    this.releaseEnded();
    const now = this.now;
    for (let s = 0; s < this.hw; s++) {
      if (this.slotState[s] !== LIVE) continue;
      const expired = now - this.hot[s * HOT_STRIDE + H_LAST]! > this.timeoutOf(s);
      this.slotState[s] = ENDED;
      this.deadline[s] = Infinity;
      this.setReason(s, expired ? R_TIMEOUT : R_SHUTDOWN);
      this.pending[this.pendingCount++] = s;
      this.live--;
      if (expired) this.nTimedOut++;
      else this.nShutdown++;
    }
    this.index.fill(-1);
    this.emergency = 0;
    this.releaseEnded();
  }

  /** Emit records of flows ended since the last call and free their slots. */
  releaseEnded(): void {
    const n = this.pendingCount;
    if (n === 0) return;
    this.pendingCount = 0;
    for (let k = 0; k < n; k++) {
      const s = this.pending[k]!;
      const rec = this.buildRecord(s);
      this.slotState[s] = FREE;
      this.freeStack[this.freeTop++] = s;
      this.onEnd(rec);
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  /** formatIp, with IPv4 strings from a direct-mapped cache (see V4_NAME_CACHE). */
  private ipName(ipVer: number, words: Uint32Array, off: number): string {
    if (ipVer === 6) return formatIp(ipVer, words, off);
    const w = words[off]!;
    const k = Math.imul(w, 0x9e3779b1) >>> 20; // 12 bits: V4_NAME_CACHE
    if (this.v4NameKey[k] === w) return this.v4Name[k]!;
    const name = formatIp(4, words, off);
    this.v4NameKey[k] = w;
    this.v4Name[k] = name;
    return name;
  }

  private timeoutOf(slot: number): number {
    const st = this.key[slot * KEY_STRIDE + K_ST]!;
    return this.tmo[((st >>> 24) * 2 + this.emergency) * 3 + ((st >>> 8) & 0xff)]!;
  }

  private setDeadline(s: number, d: number): void {
    this.deadline[s] = d;
    const b = s >>> DL_BLOCK_SHIFT;
    if (d < this.blockMin[b]!) this.blockMin[b] = d;
  }

  /** Idle timeout outside emergency mode for a K_ST word. */
  private normalTimeoutOf(st: number): number {
    return this.tmo[(st >>> 24) * 6 + ((st >>> 8) & 0xff)]!;
  }

  private setReason(slot: number, reason: number): void {
    const k = slot * KEY_STRIDE + K_MISC;
    this.key[k] = (this.key[k]! & 0xff) | (reason << 8);
  }

  /** Find packet i's flow: slot * 2 + direction, or -1. `h` is the flow hash as int32. */
  private lookup(h: number, dec: DecodedBatch, i: number): number {
    const ipVer = dec.ipVer[i]!;
    const proto = dec.proto[i]!;
    const meta = ipVer | (proto << 8);
    const vl = dec.vlan[i]! | 0;
    const icmp = proto === 1 || proto === 58;
    const sp = icmp ? 0 : dec.sport[i]!;
    const dp = icmp ? 0 : dec.dport[i]!;
    const fwdPorts = (sp << 16) | dp;
    const revPorts = (dp << 16) | sp;
    const w = i * 4;
    const src = dec.src;
    const dst = dec.dst;
    const s0 = src[w]! | 0;
    const d0 = dst[w]! | 0;
    const index = this.index;
    const key = this.key;
    const mask = this.mask;
    let pos = h & mask;
    for (;;) {
      const s = index[pos * 2]!;
      if (s < 0) return -1;
      if (index[pos * 2 + 1] === h) {
        const o = s * KEY_STRIDE;
        if (key[o + K_META] === meta && key[o + K_VLAN] === vl) {
          const ports = key[o + K_PORTS]!;
          if (ports === fwdPorts && key[o + K_C] === s0 && key[o + K_S] === d0) {
            if (
              ipVer === 4 ||
              (key[o + K_C + 1] === (src[w + 1]! | 0) &&
                key[o + K_C + 2] === (src[w + 2]! | 0) &&
                key[o + K_C + 3] === (src[w + 3]! | 0) &&
                key[o + K_S + 1] === (dst[w + 1]! | 0) &&
                key[o + K_S + 2] === (dst[w + 2]! | 0) &&
                key[o + K_S + 3] === (dst[w + 3]! | 0))
            ) {
              return s * 2;
            }
          }
          if (ports === revPorts && key[o + K_C] === d0 && key[o + K_S] === s0) {
            if (
              ipVer === 4 ||
              (key[o + K_C + 1] === (dst[w + 1]! | 0) &&
                key[o + K_C + 2] === (dst[w + 2]! | 0) &&
                key[o + K_C + 3] === (dst[w + 3]! | 0) &&
                key[o + K_S + 1] === (src[w + 1]! | 0) &&
                key[o + K_S + 2] === (src[w + 2]! | 0) &&
                key[o + K_S + 3] === (src[w + 3]! | 0))
            ) {
              return s * 2 + 1;
            }
          }
        }
      }
      pos = (pos + 1) & mask;
    }
  }

  private allocSlot(): number {
    if (this.freeTop === 0) {
      // Every spare slot holds an ended flow of this batch: emit them now (their flowSlot
      // values in this batch become stale; counted).
      this.nPendingOverflow++;
      this.releaseEnded();
    }
    const s = this.freeStack[--this.freeTop]!;
    if (s >= this.hw) {
      this.hw = s + 1;
      this.feats?.ensure(this.hw);
    }
    return s;
  }

  private create(
    h: number,
    dec: DecodedBatch,
    i: number,
    ts: number,
    clientIsSrc: boolean,
    connStart: number,
    tcpState: number,
  ): number {
    if (this.live >= this.maxFlows) this.evict();
    const s = this.allocSlot();
    const ipVer = dec.ipVer[i]!;
    const proto = dec.proto[i]!;
    const icmp = proto === 1 || proto === 58;
    const w = i * 4;
    const key = this.key;
    const o = s * KEY_STRIDE;
    const a = clientIsSrc ? dec.src : dec.dst;
    const b = clientIsSrc ? dec.dst : dec.src;
    for (let k = 0; k < 4; k++) {
      key[o + K_C + k] = a[w + k]! | 0;
      key[o + K_S + k] = b[w + k]! | 0;
    }
    const sp = icmp ? 0 : dec.sport[i]!;
    const dp = icmp ? 0 : dec.dport[i]!;
    const cPort = clientIsSrc ? sp : dp;
    const sPort = clientIsSrc ? dp : sp;
    key[o + K_HASH] = h;
    key[o + K_META] = ipVer | (proto << 8);
    key[o + K_VLAN] = dec.vlan[i]! | 0;
    key[o + K_PORTS] = (cPort << 16) | sPort;
    const fstate = proto === 6 ? tcpFlowState(tcpState) : FLOW_STATE.NEW;
    key[o + K_ST] = tcpState | (fstate << 8) | (protoClass(proto) << 24);
    key[o + K_TFL] = 0;
    key[o + K_ICMP] = 0;
    // A flow continued after its active timeout keeps its established status.
    key[o + K_MISC] = tcpState >= TCP_STATE.ESTABLISHED && tcpState !== TCP_STATE.CLOSED ? 2 : 0;
    const hb = s * HOT_STRIDE;
    const hot = this.hot;
    hot[hb + H_LAST] = ts;
    hot[hb + H_FIRST] = ts;
    hot[hb + H_PKTS] = hot[hb + H_PKTS + 1] = 0;
    hot[hb + H_BYTES] = hot[hb + H_BYTES + 1] = 0;
    hot[hb + H_CONN] = connStart;
    this.setDeadline(s, ts + this.normalTimeoutOf(key[o + K_ST]!));
    this.idCounter++;
    // Unique per run: a counter (< 2^33 flows) above the worker id and 12 hash bits.
    hot[hb + H_ID] = (this.idCounter * 256 + this.workerId) * 4096 + (h & 0xfff);
    if (this.live * 2 >= this.mask + 1 && this.mask + 1 < this.indexMaxCap) this.growIndex();
    const index = this.index;
    let pos = h & this.mask;
    while (index[pos * 2]! >= 0) pos = (pos + 1) & this.mask;
    index[pos * 2] = s;
    index[pos * 2 + 1] = h;
    this.slotState[s] = LIVE;
    this.live++;
    this.created++;
    const feats = this.feats;
    if (feats !== null) {
      let ports = -1;
      let hostsN = -1;
      const hosts = this.hosts!;
      const portful = proto === 6 || proto === 17 || proto === 132;
      const e = hosts.observe(ipVer, key, o + K_C, key, o + K_S, proto, portful ? sPort : -1, ts);
      if (e >= 0) {
        ports = hosts.distinctPorts(e);
        hostsN = hosts.distinctHosts(e);
      }
      feats.init(s, ts, proto, sPort, dec.icmpType[i]!, dec.icmpCode[i]!, connStart, ports, hostsN);
    }
    return s;
  }

  private account(
    s: number,
    dir: number,
    i: number,
    ts: number,
    flags: number,
    pkts: PacketBatch,
    dec: DecodedBatch,
  ): void {
    const hot = this.hot;
    const hb = s * HOT_STRIDE;
    hot[hb + H_PKTS + dir] = hot[hb + H_PKTS + dir]! + 1;
    hot[hb + H_BYTES + dir] = hot[hb + H_BYTES + dir]! + pkts.origLen[i]!;
    if (ts > hot[hb + H_LAST]!) hot[hb + H_LAST] = ts;
    const key = this.key;
    const o = s * KEY_STRIDE;
    const st = key[o + K_ST]!;
    const seenBefore = (st >>> 16) & 3;
    const seen = seenBefore | (1 << dir);
    const proto = (key[o + K_META]! >>> 8) & 0xff;
    let tcpSt = st & 0xff;
    let fstate: number;
    let est: boolean;
    if (proto === 6) {
      key[o + K_TFL] = key[o + K_TFL]! | (flags << (dir * 8));
      const prevSt = tcpSt;
      tcpSt = tcpNext(tcpSt, flags, dir);
      fstate = tcpFlowState(tcpSt);
      const misc = key[o + K_MISC]!;
      est = (misc & 2) !== 0;
      if (
        !est &&
        tcpSt >= TCP_STATE.ESTABLISHED &&
        tcpSt !== TCP_STATE.CLOSED &&
        (prevSt === TCP_STATE.SYN_RECV || prevSt === TCP_STATE.SYN_SENT || this.midstream)
      ) {
        est = true;
        key[o + K_MISC] = misc | 2;
      }
    } else {
      fstate = seen === 3 ? FLOW_STATE.ESTABLISHED : FLOW_STATE.NEW;
      est = seen === 3;
      if ((proto === 1 || proto === 58) && (seenBefore & (1 << dir)) === 0) {
        key[o + K_ICMP] = key[o + K_ICMP]! | ((dec.icmpType[i]! | (dec.icmpCode[i]! << 8)) << (dir * 16));
      }
    }
    const nst = (st & 0xff000000) | (seen << 16) | (fstate << 8) | tcpSt;
    key[o + K_ST] = nst;
    this.setDeadline(s, hot[hb + H_LAST]! + this.normalTimeoutOf(nst));
    dec.flowFlags[i] = est ? FFLAG.ESTABLISHED : 0;
    const feats = this.feats;
    if (feats === null) return;
    // CICFlowMeter's packet length is the transport payload and its header length the transport
    // header, for TCP and UDP only (0 for ICMP and others, as in the CIC-IDS2017 data).
    let hlen = 0;
    let plen = 0;
    if (proto === 6 || proto === 17) {
      hlen = proto === 6 ? dec.l4HdrLen[i]! : 8;
      const ipLen = dec.ipLen[i]!;
      plen = ipLen > 0 ? ipLen - dec.ipHdrLen[i]! - hlen : dec.payLen[i]!;
      if (plen < 0) plen = 0;
    }
    // Entropy sample: captured payload bytes only.
    let capLen = dec.payLen[i]!;
    const payOff = dec.payOff[i]!;
    let buf: Uint8Array = pkts.buf;
    if (capLen > 0 && payOff >= 0) {
      if (dec.bufSel[i] === 1) buf = dec.alt;
      else {
        const end = pkts.off[i]! + pkts.capLen[i]!;
        if (payOff + capLen > end) capLen = end - payOff;
      }
      if (payOff + capLen > buf.length) capLen = buf.length - payOff;
      if (capLen < 0) capLen = 0;
    } else capLen = 0;
    feats.update(s, dir, ts, plen, hlen, flags, proto === 6 ? dec.tcpWin[i]! : 0, buf, payOff, capLen);
  }

  /** Unlink `slot` from the index and queue it for emission. */
  private end(slot: number, reason: number): void {
    this.unindex(slot);
    this.slotState[slot] = ENDED;
    this.deadline[slot] = Infinity;
    this.setReason(slot, reason);
    this.live--;
    this.pending[this.pendingCount++] = slot;
  }

  /** Double the index capacity, re-inserting every entry (slot, hash) at its new position. */
  private growIndex(): void {
    const old = this.index;
    const cap = (this.mask + 1) * 2;
    const index = new Int32Array(cap * 2).fill(-1);
    const mask = cap - 1;
    for (let j = 0; j < old.length; j += 2) {
      const s = old[j]!;
      if (s < 0) continue;
      const h = old[j + 1]!;
      let pos = h & mask;
      while (index[pos * 2]! >= 0) pos = (pos + 1) & mask;
      index[pos * 2] = s;
      index[pos * 2 + 1] = h;
    }
    this.index = index;
    this.mask = mask;
  }

  /** Backward-shift deletion (Knuth 6.4 Algorithm R): no tombstones, probe chains stay short. */
  private unindex(slot: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = this.key[slot * KEY_STRIDE + K_HASH]! & mask;
    while (index[i * 2] !== slot) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = index[j * 2]!;
      if (s < 0) break;
      const home = index[j * 2 + 1]! & mask;
      // Move the entry at j back to i unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!stays) {
        index[i * 2] = s;
        index[i * 2 + 1] = index[j * 2 + 1]!;
        i = j;
      }
    }
    index[i * 2] = -1;
  }

  /** At the cap: end the least recently seen flow among EVICT_PROBE slots from the hand ('forced'). */
  private evict(): void {
    let victim = -1;
    let oldest = Infinity;
    let examined = 0;
    const hw = this.hw;
    let p = this.hand < hw ? this.hand : 0;
    for (let n = 0; n < hw && examined < EVICT_PROBE; n++) {
      if (this.slotState[p] === LIVE) {
        examined++;
        const t = this.hot[p * HOT_STRIDE + H_LAST]!;
        if (t < oldest) {
          oldest = t;
          victim = p;
        }
      }
      p = p + 1 < hw ? p + 1 : 0;
    }
    this.hand = p;
    if (victim < 0) return;
    this.nEvicted++;
    if (this.emergency === 0) {
      this.emergency = 1;
      this.nEmergency++;
    }
    this.end(victim, R_FORCED);
  }

  /**
   * Clock-hand expiry: visits SWEEP_MIN slots per batch plus enough to cover the high-water mark
   * once per SWEEP_PERIOD_US of packet time, ending at most SWEEP_MAX_ENDS flows per call.
   */
  private sweep(): void {
    const hw = this.hw;
    if (hw === 0) return;
    const now = this.now;
    let budget = hw;
    if (this.lastSweepNow >= 0) {
      const dt = now - this.lastSweepNow;
      budget = SWEEP_MIN + Math.ceil((hw * (dt > 0 ? dt : 0)) / SWEEP_PERIOD_US);
      if (this.emergency !== 0 && budget < 4 * SWEEP_MIN) budget = 4 * SWEEP_MIN;
      if (budget > hw) budget = hw;
    }
    this.lastSweepNow = now;
    let p = this.hand < hw ? this.hand : 0;
    let ends = 0;
    if (this.emergency === 0 && this.deadlineExact) {
      // Same slots visited and ended as the test below: `now > last + timeout` (see `deadline`),
      // whole blocks at once where the hand is at a block start and the budget covers the block.
      const dl = this.deadline;
      const bm = this.blockMin;
      let n = 0;
      scan: while (n < budget) {
        if ((p & (DL_BLOCK - 1)) === 0 && n + DL_BLOCK <= budget && p + DL_BLOCK <= hw) {
          const b = p >>> DL_BLOCK_SHIFT;
          if (now > bm[b]!) {
            let m = Infinity;
            for (let q = p; q < p + DL_BLOCK; q++) {
              const d = dl[q]!;
              if (now > d) {
                this.nTimedOut++;
                this.end(q, R_TIMEOUT);
                if (++ends >= SWEEP_MAX_ENDS) {
                  p = q; // as the slot-by-slot loop: the hand stays on the last ended slot
                  break scan;
                }
              } else if (d < m) m = d;
            }
            bm[b] = m;
          }
          n += DL_BLOCK;
          p = p + DL_BLOCK < hw ? p + DL_BLOCK : 0;
          continue;
        }
        if (now > dl[p]!) {
          this.nTimedOut++;
          this.end(p, R_TIMEOUT);
          if (++ends >= SWEEP_MAX_ENDS) break;
        }
        n++;
        p = p + 1 < hw ? p + 1 : 0;
      }
    } else {
      for (let n = 0; n < budget; n++) {
        if (this.slotState[p] === LIVE && now - this.hot[p * HOT_STRIDE + H_LAST]! > this.timeoutOf(p)) {
          this.nTimedOut++;
          this.end(p, R_TIMEOUT);
          if (++ends >= SWEEP_MAX_ENDS) break;
        }
        p = p + 1 < hw ? p + 1 : 0;
      }
    }
    this.hand = p;
    if (this.emergency !== 0 && this.live < this.maxFlows * EMERGENCY_RECOVERY) this.emergency = 0;
  }

  private buildRecord(s: number): FlowRecord {
    const key = this.key;
    const hot = this.hot;
    const o = s * KEY_STRIDE;
    const hb = s * HOT_STRIDE;
    const meta = key[o + K_META]!;
    const ipVer = (meta & 0xff) === 6 ? 6 : 4;
    const proto = (meta >>> 8) & 0xff;
    const st = key[o + K_ST]!;
    const seen = (st >>> 16) & 3;
    const icmpW = key[o + K_ICMP]!;
    const ports = key[o + K_PORTS]!;
    const cPort = (ports >>> 16) & 0xffff;
    const sPort = ports & 0xffff;
    // Addresses as unsigned words for formatting and hashing.
    const words = this.scratchWords;
    for (let k = 0; k < 4; k++) {
      words[k] = key[o + K_C + k]! >>> 0;
      words[4 + k] = key[o + K_S + k]! >>> 0;
    }
    const icmp = proto === 1 || proto === 58;
    const v = key[o + K_VLAN]! >>> 0;
    const vlan = vlanIds(v);
    let cid = '';
    if (!this.withCommunityId) {
      // Not wanted by any consumer of this run.
    } else if (icmp && (seen & 1) === 0) {
      // Only responses seen: hash from the responder's point of view.
      cid = communityIdEncoded(
        ipVer,
        words,
        4,
        words,
        0,
        proto,
        (icmpW >>> 16) & 0xff,
        (icmpW >>> 24) & 0xff,
        this.seed,
        true,
      );
    } else if (icmp) {
      cid = communityIdEncoded(ipVer, words, 0, words, 4, proto, icmpW & 0xff, (icmpW >>> 8) & 0xff, this.seed, true);
    } else {
      cid = communityIdEncoded(ipVer, words, 0, words, 4, proto, cPort, sPort, this.seed, true);
    }
    let features: Float64Array | null = null;
    if (this.feats !== null) {
      // Views into a recycled pool: a fresh 700-byte backing store per flow cost ~0.4 µs (cpu-prof, bench/macro/throughput.ts).
      features = this.featViews[this.featViewNext]!;
      this.featViewNext = this.featViewNext + 1 < FEAT_VIEWS ? this.featViewNext + 1 : 0;
      this.feats.finish(s, features);
    }
    const misc = key[o + K_MISC]!;
    const rec: FlowRecord = {
      flowId: hot[hb + H_ID]!,
      ipVer,
      srcIp: this.ipName(ipVer, words, 0),
      dstIp: this.ipName(ipVer, words, 4),
      srcPort: cPort,
      dstPort: sPort,
      proto,
      vlan,
      startUs: hot[hb + H_FIRST]!,
      endUs: hot[hb + H_LAST]!,
      pktsToServer: hot[hb + H_PKTS]!,
      pktsToClient: hot[hb + H_PKTS + 1]!,
      bytesToServer: hot[hb + H_BYTES]!,
      bytesToClient: hot[hb + H_BYTES + 1]!,
      state: FLOW_STATE_NAMES[(st >>> 8) & 0xff]!,
      reason: REASONS[(misc >>> 8) & 0xff]!,
      communityId: cid,
      slot: s,
      alerted: (misc & 1) !== 0,
      features,
    };
    if (icmp) {
      if ((seen & 1) !== 0) {
        rec.icmpType = icmpW & 0xff;
        rec.icmpCode = (icmpW >>> 8) & 0xff;
      }
      if ((seen & 2) !== 0) {
        rec.responseIcmpType = (icmpW >>> 16) & 0xff;
        rec.responseIcmpCode = (icmpW >>> 24) & 0xff;
      }
    }
    if (proto === 6) {
      const tfl = key[o + K_TFL]!;
      const ts = tfl & 0xff;
      const tc = (tfl >>> 8) & 0xff;
      rec.tcp = { flags: ts | tc, flagsTs: ts, flagsTc: tc, state: TCP_STATE_NAMES[st & 0xff]! };
    }
    return rec;
  }
}
