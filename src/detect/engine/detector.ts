/**
 * The signature detector: runs compiled rules on packets (packet rules: header checks and the
 * payload / header buffers) and on application-layer transactions (HTTP, DNS, TLS, SSH buffers),
 * with a multi-pattern prefilter per buffer so that only rules whose fast pattern occurs are
 * evaluated in full. Keeps per-flow state (flowbits, flowints, stream sizes), global xbits and
 * threshold / detection_filter counters, and hands alerts to `onAlert`.
 *
 * Evaluation order follows Suricata: pass rules first, then flowbit setters before readers, then
 * file order.
 */
import type { PacketBatch } from '../../capture/batch.js';
import { FFLAG, LAYER, TCP_FLAG } from '../../decode/batch.js';
import type { DecodedBatch } from '../../decode/batch.js';
import type { AppRecord, HttpRecord } from '../../applayer/app-layer.js';
import type { HttpTransaction } from '../../applayer/http/parser.js';
import type { FlowTuple } from '../../flow/table.js';
import { formatIp } from '../../flow/key.js';
import { BUFFERS, applyTransforms, httpBuffer, httpMessage } from './buffers.js';
import type { BufferDir } from './buffers.js';
import {
  FLOW_ESTABLISHED,
  FLOW_NOT_ESTABLISHED,
  FLOW_NO_FRAG,
  FLOW_ONLY_FRAG,
  FLOW_ONLY_STREAM,
  FLOW_STATELESS,
  FLOW_TO_CLIENT,
  FLOW_TO_SERVER,
  coverage,
  flowbitRank,
} from './compile.js';
import type { BufferProg, CompiledRule, PacketCheck } from './compile.js';
import { repScore } from './datasets.js';
import { InspectState, compareU, inspect } from './inspect.js';
import { MPM_COLD_QUAD_MIN, MpmBuilder } from './mpm.js';
import type { Mpm } from './mpm.js';
import { RateTracker } from './rate.js';
import { WasmScanner } from './wasm-scan.js';
import { currentArena } from '../../util/wasm-arena.js';
import { copyBytes } from '../../util/bytes.js';

/** A raised alert, with what EVE needs. */
export interface AlertRecord {
  kind: 'alert';
  tsUs: number;
  /** 1-based packet number in the capture (0 when not known, e.g. raised at flow end). */
  pcapCnt: number;
  flowId: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  ipVer: number;
  direction: 'to_server' | 'to_client';
  appProto: string;
  action: string;
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  classtype: string | null;
  category: string;
  severity: number;
  metadata: string[];
  target: 'src_ip' | 'dest_ip' | null;
  /** The transaction the alert was raised on. */
  tx?: AppRecord;
  /** pcre captures logged with the alert (EVE alert.context, metadata.flowvars / pktvars). */
  context?: Record<string, string>;
  flowvars?: Record<string, string>[];
  pktvars?: Record<string, string>[];
  /** Flow counters when the alert was raised. */
  flow?: FlowCounters;
  /** Vigil taxonomy, set by the alert stage (src/alerts/gate.ts). */
  vigilType?: string;
  vigilSeverity?: string;
  /** VLAN ids of the packet, outer first (packet alerts). */
  vlan?: number[];
  /** The captured frame and its link type (when DetectorEnv.capture.packet). */
  packet?: Buffer;
  linkType?: number;
  /** The packet's transport payload (when DetectorEnv.capture.payload). */
  payload?: Buffer;
}

export interface FlowCounters {
  pktsToServer: number;
  pktsToClient: number;
  bytesToServer: number;
  bytesToClient: number;
  startUs: number;
}

export interface DetectorEnv {
  /** Application protocol of a flow slot ('' unknown, 'failed', 'http', ...). */
  appProtoOf(slot: number): string;
  /** Protocol detected on one direction (0 to server) of a flow slot, named like appProtoOf. */
  appProtoDirOf?(slot: number, dir: number): string;
  /** Directions of a slot whose protocol detection concluded in the current packet (bit 0 to server, bit 1 to client). */
  detectDoneOf?(slot: number): number;
  flowIdOf(slot: number): number;
  countersOf(slot: number): FlowCounters;
  markAlerted(slot: number): void;
  onAlert(a: AlertRecord): void;
  /** Flow slots (per-slot state arrays are this long). */
  slotCapacity: number;
  /** Alerts per packet at most (Suricata's packet-alert-max, default 15). */
  packetAlertMax?: number;
  /**
   * Evaluate every rule of the packet's protocol (or the transaction's protocol and side) instead
   * of the prefiltered candidates: slow, for tests that check the prefilter loses nothing.
   */
  exhaustive?: boolean;
  /** Copy the frame / payload into packet alerts (EVE alert `packet`, `payload`). */
  capture?: { packet: boolean; payload: boolean };
  /**
   * Per flow slot, 1 when the flow's payload is no longer inspected (AppLayer.noPayload: TLS
   * application data under the default encryption-handling): no payload prefilter, stream or
   * payload matches for its packets; rules without payload matches still apply, as in Suricata
   * (PKT_NOPAYLOAD_INSPECTION skips the signatures with SIG_FLAG_PAYLOAD).
   */
  noPayload?: Uint8Array;
}

/** A set of rules sharing a prefilter: an MPM over one buffer plus the rules without a fast pattern there. */
class RuleGroup {
  /** Rules always evaluated (sorted by id). */
  always: Int32Array = new Int32Array(0);
  mpm: Mpm | null = null;
  /** Pattern id -> rule id. */
  patRule: Int32Array = new Int32Array(0);
}

/** Per buffer key, the transaction rules whose fast pattern is there. */
interface TxPrefilter {
  buffer: string;
  transforms: BufferProg['transforms'];
  mpm: Mpm;
  patRule: Int32Array;
  /** Its patterns are also in the group's `start` automaton (its bytes are part of http.start). */
  inStart: boolean;
}

/**
 * IP-only rules (addresses and protocol only, like ET's reputation lists) indexed by address:
 * elementary IPv4 intervals, each with the rules whose chosen side covers it. Rules matching
 * very wide ranges on both sides stay in a short list checked every time.
 */
class IpIndex {
  starts = new Float64Array(0);
  offsets = new Int32Array(1);
  ids = new Int32Array(0);

  static build(entries: { ranges: readonly number[]; rule: number }[]): IpIndex {
    const idx = new IpIndex();
    if (entries.length === 0) return idx;
    const pts: number[] = [];
    for (const e of entries) for (let i = 0; i < e.ranges.length; i += 2) pts.push(e.ranges[i]!, e.ranges[i + 1]! + 1);
    pts.sort((a, b) => a - b);
    const starts: number[] = [];
    for (const p of pts) if (starts.length === 0 || starts[starts.length - 1] !== p) starts.push(p);
    const lists: number[][] = starts.map(() => []);
    const find = (v: number): number => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= v) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
    for (const e of entries)
      for (let i = 0; i < e.ranges.length; i += 2) {
        const a = find(e.ranges[i]!);
        const b = find(e.ranges[i + 1]! + 1);
        for (let k = a; k < b; k++) lists[k]!.push(e.rule);
      }
    idx.starts = Float64Array.from(starts);
    idx.offsets = new Int32Array(starts.length + 1);
    let n = 0;
    for (let k = 0; k < lists.length; k++) {
      idx.offsets[k] = n;
      n += lists[k]!.length;
    }
    idx.offsets[lists.length] = n;
    idx.ids = new Int32Array(n);
    let o = 0;
    for (const l of lists) for (const r of l) idx.ids[o++] = r;
    return idx;
  }

  /** Append the ids of the rules whose indexed side covers `ip` to out[n..]; returns the new n. */
  lookupInto(ip: number, out: Int32Array, n: number): number {
    const s = this.starts;
    if (s.length === 0 || ip < s[0]!) return n;
    let lo = 0;
    let hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= ip) lo = mid;
      else hi = mid - 1;
    }
    const ids = this.ids;
    for (let k = this.offsets[lo]!, end = this.offsets[lo + 1]!; k < end; k++) out[n++] = ids[k]!;
    return n;
  }
}

/**
 * A TCP port-group automaton: the payload fast patterns of `patRule`'s rules (pattern k is the fast
 * pattern of rule patRule[k]), built on first use. Groups (of either direction) with the same
 * rules share one: port ranges split the rules into many groups, most differing only in rules
 * without a fast pattern.
 */
interface PortMpm {
  mpm: Mpm | null;
  patRule: Int32Array;
}
/** A TCP port group: its automaton and its rules without a payload fast pattern. */
interface PortGroup {
  /** null when no rule of the group has a payload fast pattern. */
  pm: PortMpm | null;
  /** Rules without a payload fast pattern for this direction and port (sorted ids). */
  always: Int32Array;
}
/** Distinct TCP port groups per direction at most (beyond it, one automaton per protocol is used). */
const MAX_PORT_GROUPS = 4096;
/** An IP-only rule whose narrower side covers more than this many addresses is not indexed. */
const IPONLY_INDEX_MAX = 1 << 25;

class TxGroup {
  always: Int32Array = new Int32Array(0);
  prefilters: TxPrefilter[] = [];
  /**
   * HTTP: one automaton over `http.start` (start line, header block, blank line) with the fast
   * patterns of every untransformed buffer whose bytes lie within it (START_PARTS), so one scan of
   * one buffer replaces a scan and a buffer per part. A part occurring in http.start makes this a
   * superset prefilter (e.g. a User-Agent pattern also hits when it is in another header); rules
   * are then evaluated on their own buffers, so alerts do not change.
   */
  start: { mpm: Mpm; patRule: Int32Array } | null = null;
}

/**
 * Buffers (by side: 0 request, 1 response) whose bytes are a substring of that side's http.start
 * (see httpBuffer): the start line and its parts, the header block, and single header values
 * (those hold only while no header name repeats: repeats are joined with ", " as libhtp does, so
 * txSide checks and scans the parts one by one then).
 */
const START_PARTS: readonly (readonly string[])[] = [
  [
    'http.request_line',
    'http.method',
    'http.uri.raw',
    'http.protocol',
    'http.header',
    'http.header.raw',
    'http.host.raw',
    'http.user_agent',
    'http.cookie',
    'http.referer',
    'http.accept',
    'http.accept_enc',
    'http.accept_lang',
    'http.connection',
    'http.content_type',
    'http.content_len',
  ],
  [
    'http.response_line',
    'http.protocol',
    'http.stat_code',
    'http.stat_msg',
    'http.header',
    'http.header.raw',
    'http.cookie',
    'http.connection',
    'http.content_type',
    'http.content_len',
    'http.location',
    'http.server',
  ],
];

const PROTO_CLASSES = 4; // tcp, udp, icmp, other
/** Transaction records a flow may hold back waiting for an acknowledging packet (see Detector.tx). */
const MAX_PENDING_TX = 64;

/** A transaction record waiting for the packets that Suricata would inspect it on (Detector.tx). */
interface PendingTx {
  rec: AppRecord;
  /** Direction of the packet whose data completed it. */
  dataDir: number;
  /** A later packet acknowledged that data (or carried RST/FIN). */
  parsed: boolean;
  /** Sides not inspected yet: bit 0 to server, bit 1 to client. */
  sides: number;
  /** The completing packet's number, for sides inspected at flow end. */
  pcapCnt: number;
}

function protoClass(proto: number): number {
  return proto === 6 ? 0 : proto === 17 ? 1 : proto === 1 || proto === 58 ? 2 : 3;
}

const ACTION_ORDER: Record<string, number> = {
  pass: 0,
  drop: 1,
  reject: 2,
  rejectsrc: 2,
  rejectdst: 2,
  rejectboth: 2,
  alert: 3,
};

const BUFFER_SIDE: Record<BufferDir, number> = { ts: 1, tc: 2, both: 3 };

export class Detector {
  readonly rules: CompiledRule[];
  private readonly env: DetectorEnv;
  private readonly pktGroups: RuleGroup[] = [];
  /** TCP payload prefilter per flow direction, by server port (null: too many distinct groups). */
  private readonly tcpPorts: ({ map: Uint16Array; groups: PortGroup[] } | null)[] = [];
  /** IP-only rules per protocol class: indexed by source and by destination, plus the rest. */
  private readonly ipSrc: IpIndex[] = [];
  private readonly ipDst: IpIndex[] = [];
  private readonly ipRest: Int32Array[] = [];
  /** Other rules without a payload fast pattern but with a narrow address side, indexed like IP-only rules (checked every packet). */
  private readonly pfSrc: IpIndex[] = [];
  private readonly pfDst: IpIndex[] = [];
  /** Every IP-only rule per protocol class (IPv6 packets). */
  private readonly ipAll: Int32Array[] = [];
  /** Per slot: 1 once a `pass` rule matched the flow (Suricata then passes the whole flow). */
  private readonly passed: Uint8Array;
  /**
   * Per rule, the TCP flags bytes its `flags` checks allow: 8 words (256 bits) from id * 8, all set
   * for rules without one; null when no rule checks flags. Tested before a candidate is evaluated
   * (Suricata's prefilter on flags): content-free scan rules (`flags:S; seq:N` to any address of
   * $HOME_NET) come from the address index for every TCP packet and failed only at their checks.
   */
  private readonly flagOk: Uint32Array | null;
  /** Per slot: IP-only rules already inspected in direction 0 (bit 0) / 1 (bit 1), as Suricata does once per flow direction. */
  private readonly ipDone: Uint8Array;
  private readonly ipCand: Int32Array;
  private readonly merged: Int32Array;
  /** Per scope and side (0 to server, 1 to client). */
  /** Transaction rule groups by scope, [to-server, to-client] (no key string built per transaction). */
  private readonly txGroups = new Map<string, [TxGroup, TxGroup]>();
  private readonly st = new InspectState();
  private readonly seen: Uint32Array;
  private gen = 0;
  private readonly hits: Int32Array;
  private readonly cand: Int32Array;
  private readonly flowbits = new Map<number, Set<string>>();
  private readonly flowints = new Map<number, Map<string, number>>();
  /** Payload bytes per slot and direction (stream_size). */
  private readonly streamBytes: Float64Array;
  private readonly xbits = new Map<string, number>();
  /** The packet being processed while parsers hand transactions over (for tx alerts' packet fields). */
  private curPkts: PacketBatch | null = null;
  private curDec: DecodedBatch | null = null;
  private curI = 0;
  /**
   * VLAN ids of each flow slot (DecodedBatch.vlan packing), from its packets: transaction alerts
   * carry the flow's `vlan` like packet alerts (Suricata logs it on every alert of a VLAN flow).
   */
  private readonly slotVlan: Uint32Array;
  /** HTTP transactions whose request side was handed over early (txRequest). */
  private readonly requestSeen = new WeakSet<HttpTransaction>();
  /** Transaction records waiting for the packet that acknowledges their data, by slot (see tx). */
  private readonly pendingTx = new Map<number, PendingTx[]>();
  /**
   * Per flow slot, when the app-layer protocol becomes known to protocol-only rules (see
   * updateAppSeen): bits 0/1 protocol found in to-server/to-client data, bit 2 known.
   */
  private readonly appSeen: Uint8Array;
  /** Some rule is a protocol-only packet rule (`alert http ... (flow:to_server;)`). */
  private readonly protoOnlyRules: boolean;
  /**
   * Last stream bytes per slot*2+dir (for patterns spanning segments), when stream rules exist:
   * TAIL-byte cells of one arena, tailAt[key] = cell offset + 1 (0: none). Cells of released flows
   * go on a free stack for the next flow: no object per flow and no Map (whose deletes at every
   * flow end cost ~150 ms per 2 M packets in the ET Open benchmark).
   */
  private tailArena: Buffer = Buffer.allocUnsafe(0);
  private readonly tailAt: Int32Array;
  private tailFree = new Int32Array(0);
  private tailFreeN = 0;
  private tailTop = 0;
  /** Bytes kept in tails (slot * 2 + dir; 0: none); the cell is reused in place. */
  private readonly tailLen: Uint16Array;
  /**
   * Tails not copied yet: key -> the offset in the current batch's buffer (pendBuf) where the
   * payload that ends the tail ends (0: none; such a payload is TAIL bytes or more). A bulk
   * transfer's segments then cost no copy each: the next segment reads the seam from the batch,
   * and the tails still pending are copied when the batch ends (setCurrent(null)), before its
   * buffer is reused.
   */
  private readonly tailEnd: Int32Array;
  private readonly pendKeys: number[] = [];
  private pendBuf: Buffer | null = null;
  /** The seam scanned for fast patterns spanning a segment boundary (tail end + segment start). */
  private seamBuf: Buffer = Buffer.allocUnsafe(2 * SEAM);
  /** Arena offset of seamBuf when it lives in the WebAssembly arena (scanned there), else -1. */
  private seamAt = -1;
  private readonly streamRules: boolean;
  /** Payload seen by candidate evaluation instead of the packet's (stream window / tail). */
  private payloadOverride: Buffer | null = null;
  private readonly straddle: Int32Array;
  private pktPayload: Buffer | null = null;
  private pktPayloadFor = -1;
  /** DetectorEnv.noPayload, or null. */
  private readonly noPayload: Uint8Array | null;
  /** The packet being inspected belongs to a flow whose payload is not inspected. */
  private pktNoPayload = false;
  /** Some rule uses stream_size (otherwise the per-flow byte counts are not kept). */
  private readonly trackStreamBytes: boolean;
  private readonly rate = new RateTracker();
  private readonly alertMax: number;
  private readonly words = new Uint32Array(8);
  /** Payload prefilter of packet i, set by select(). */
  private selMpm: Mpm | null = null;
  private selPatRule: Int32Array = new Int32Array(0);
  private selAlways: Int32Array = new Int32Array(0);
  /** prescan results: packet i's rule ids are preHits[preStart[i], + preLen[i]) when preDone[i]. */
  private preStart = new Int32Array(0);
  private preLen = new Int32Array(0);
  private preDone = new Uint8Array(0);
  /** prescan's per-packet automaton and pattern-to-rule map, and the batch's distinct automatons. */
  private preMpm: (Mpm | null)[] = [];
  private prePat: (Int32Array | null)[] = [];
  private readonly preDistinct: Mpm[] = [];
  private preHits = new Int32Array(4096);
  private preCount = 0;
  /**
   * The WebAssembly scan, for prescan and seams of batches whose bytes are in this thread's arena
   * (made when the first such batch comes); null: JavaScript only.
   */
  private wasm: WasmScanner | null = null;
  private wasmTried = false;
  /** The current batch's bytes are in the WebAssembly arena (set by prescan). */
  private wasmBatch = false;
  private preDec: DecodedBatch | null = null;
  /**
   * The transaction side being inspected: its buffers by name and its transformed buffers by
   * buffer and transform chain, made once for the prefilter and all candidates (not per rule).
   */
  private readonly txRaw = new Map<string, TxSlot>();
  private readonly txXf = new WeakMap<BufferProg['transforms'], Map<string, TxSlot>>();
  /** Current transaction side (TxSlot.stamp): slots are reused, not cleared. */
  private txStamp = 0;
  /**
   * `filestore` marks per slot (bit 1 request files, bit 2 response files), only when some rule
   * has the keyword: storeFlow for the ssn/flow scopes (every later transaction), storeNext from
   * packet rules (the flow's next finished transaction). storeSids: the rules behind them.
   */
  private readonly storeFlow: Uint8Array | null = null;
  private readonly storeNext: Uint8Array | null = null;
  private readonly storeSids = new Map<number, { sid: number; bits: number }[]>();
  /** Prefilter output of one transaction buffer scan (pattern ids), before mapping to rule ids. */
  private txOut = new Int32Array(1);
  /** Alerts raised, by sid. */
  alertCount = 0;
  /** Rules evaluated in full (after prefilter), for benchmarks. */
  evaluated = 0;

  constructor(rules: CompiledRule[], env: DetectorEnv) {
    const order = rules
      .map((r, i) => ({ r, i }))
      .sort(
        (a, b) =>
          (ACTION_ORDER[a.r.action] ?? 3) - (ACTION_ORDER[b.r.action] ?? 3) ||
          flowbitRank(a.r) - flowbitRank(b.r) ||
          a.i - b.i,
      );
    this.rules = order.map((o, id) => {
      o.r.id = id;
      return o.r;
    });
    this.env = env;
    this.alertMax = env.packetAlertMax ?? 15;
    const n = this.rules.length;
    this.seen = new Uint32Array(Math.max(1, n));
    // Room for hits of several buffers before they are merged (compacted when it fills up).
    this.hits = new Int32Array(8 * n + 1024);
    this.cand = new Int32Array(Math.max(1, n));
    this.ipDone = new Uint8Array(env.slotCapacity);
    this.passed = new Uint8Array(env.slotCapacity);
    this.flagOk = flagMasks(this.rules);
    this.slotVlan = new Uint32Array(env.slotCapacity);
    this.protoOnlyRules = this.rules.some(protoOnly);
    this.appSeen = new Uint8Array(this.protoOnlyRules ? env.slotCapacity : 0);
    if (this.rules.some((r) => r.filestore !== null)) {
      this.storeFlow = new Uint8Array(env.slotCapacity);
      this.storeNext = new Uint8Array(env.slotCapacity);
    }
    this.trackStreamBytes = this.rules.some((r) => r.checks.some((c) => c.k === 'stream_size'));
    this.noPayload = env.noPayload ?? null;
    // Payload bytes per slot and direction (slot * 2 + dir), only when some rule reads them.
    this.streamBytes = new Float64Array(this.trackStreamBytes ? 2 * env.slotCapacity : 0);
    this.streamRules = this.rules.some(
      (r) =>
        r.scope === 'pkt' &&
        r.streamMode !== 'pkt' &&
        (r.proto === 6 || r.proto === 0) &&
        r.progs.some((g) => g.buffer === 'payload'),
    );
    this.straddle = new Int32Array(n + 1);
    this.tailLen = new Uint16Array(this.streamRules ? 2 * env.slotCapacity : 0);
    this.tailEnd = new Int32Array(this.tailLen.length);
    this.tailAt = new Int32Array(this.tailLen.length);
    // IPv6 packets take every address-indexed rule, possibly twice before de-duplication.
    this.ipCand = new Int32Array(3 * n + 1);
    this.merged = new Int32Array(n + 1);
    // One array per distinct transform chain: txView caches transformed buffers by the chain's
    // identity, so rules with equal chains (e.g. 50 built-in rules with `url_decode; url_decode;`)
    // must share it, or each would transform the same buffer again.
    const chains = new Map<string, BufferProg['transforms']>();
    for (const r of this.rules)
      for (const g of r.progs) {
        if (g.transforms.length === 0) continue;
        const key = JSON.stringify(g.transforms);
        const same = chains.get(key);
        if (same === undefined) chains.set(key, g.transforms);
        else g.transforms = same;
      }
    this.buildPacketGroups();
    this.buildTcpPortGroups();
    this.buildTxGroups();
  }

  private buildPacketGroups(): void {
    for (let c = 0; c < PROTO_CLASSES; c++) {
      const g = new RuleGroup();
      const always: number[] = [];
      const ipRules: CompiledRule[] = [];
      const pfSrc: { ranges: number[]; rule: number }[] = [];
      const pfDst: { ranges: number[]; rule: number }[] = [];
      const b = new MpmBuilder();
      const patRule: number[] = [];
      for (const r of this.rules) {
        if (r.scope !== 'pkt') continue;
        if (r.proto !== 0 && protoClass(r.proto) !== c) continue;
        if (r.icmp && c !== 2) continue;
        if (r.appProtos !== null && c === 2) continue;
        if (r.ipOnly) {
          ipRules.push(r);
          continue;
        }
        if (payloadFastPattern(r)) {
          b.add(r.fast!.pat.subarray(0, 255), patRule.length);
          patRule.push(r.id);
        } else {
          const cs = coverage(r.srcV4);
          const cd = coverage(r.dstV4);
          // TCP rules restricted by port are left to the port groups (ports are more selective than $HOME_NET).
          const portBound = c === 0 && (coverage(r.dpRanges) < 65536 || coverage(r.spRanges) < 65536);
          if (!portBound && !r.bidir && r.scope === 'pkt' && Math.min(cs, cd) <= IPONLY_INDEX_MAX) {
            if (cs <= cd) pfSrc.push({ ranges: r.srcV4, rule: r.id });
            else pfDst.push({ ranges: r.dstV4, rule: r.id });
          } else always.push(r.id);
        }
      }
      g.always = Int32Array.from(always);
      this.pfSrc.push(IpIndex.build(pfSrc));
      this.pfDst.push(IpIndex.build(pfDst));
      if (patRule.length > 0) {
        g.mpm = b.build();
        g.patRule = Int32Array.from(patRule);
      }
      this.pktGroups.push(g);
      const bySrc: { ranges: number[]; rule: number }[] = [];
      const byDst: { ranges: number[]; rule: number }[] = [];
      const rest: number[] = [];
      for (const r of ipRules) {
        // Bidirectional rules match either orientation: index both sides' union is not narrower, keep them in rest.
        const cs = coverage(r.srcV4);
        const cd = coverage(r.dstV4);
        if (r.bidir || Math.min(cs, cd) > IPONLY_INDEX_MAX) rest.push(r.id);
        else if (cs <= cd) bySrc.push({ ranges: r.srcV4, rule: r.id });
        else byDst.push({ ranges: r.dstV4, rule: r.id });
      }
      this.ipSrc.push(IpIndex.build(bySrc));
      this.ipDst.push(IpIndex.build(byDst));
      this.ipRest.push(Int32Array.from(rest));
      this.ipAll.push(Int32Array.from(ipRules.map((r) => r.id)));
    }
  }

  /** IP-only candidates for packet i (once per flow direction), sorted and unique, into ipCand. */
  private ipOnlyCandidates(c: number, dec: DecodedBatch, i: number): number {
    const slot = dec.flowSlot[i]!;
    let due = true;
    if (slot >= 0) {
      const bit = 1 << (dec.flowDir[i]! & 1);
      if ((this.ipDone[slot]! & bit) !== 0) due = false;
      else this.ipDone[slot] = this.ipDone[slot]! | bit;
    }
    const out = this.ipCand;
    let n = 0;
    if (dec.ipVer[i] === 6) {
      // IPv6: the address indexes are IPv4 only; check every indexed rule.
      if (due) for (const id of this.ipAll[c]!) out[n++] = id;
      for (const x of [this.pfSrc[c]!.ids, this.pfDst[c]!.ids]) for (let k = 0; k < x.length; k++) out[n++] = x[k]!;
      if (n > 1) n = uniqueSorted(out, n);
      return n;
    }
    n = this.pfSrc[c]!.lookupInto(dec.src[i * 4]! >>> 0, out, n);
    n = this.pfDst[c]!.lookupInto(dec.dst[i * 4]! >>> 0, out, n);
    if (!due) {
      if (n > 1) n = uniqueSorted(out, n);
      return n;
    }
    const rest = this.ipRest[c]!;
    for (let k = 0; k < rest.length; k++) out[n++] = rest[k]!;
    n = this.ipSrc[c]!.lookupInto(dec.src[i * 4]! >>> 0, out, n);
    n = this.ipDst[c]!.lookupInto(dec.dst[i * 4]! >>> 0, out, n);
    if (n > 1) n = uniqueSorted(out, n);
    return n;
  }

  /**
   * TCP payload automatons per flow direction and server port (Suricata's port groups): a rule
   * joins the groups of the ports its header allows on the server side (destination port for
   * packets to the server, source port for replies) and of the direction its `flow` allows, so
   * a packet meets only the patterns that could apply to it.
   */
  private buildTcpPortGroups(): void {
    const shared = new Map<string, PortMpm>();
    for (let dir = 0; dir < 2; dir++) {
      const entries: { ranges: number[]; rule: number; pat: Uint8Array | null }[] = [];
      const tcpAlways = new Set(this.pktGroups[0]!.always);
      for (const r of this.rules) {
        if (r.scope !== 'pkt' || r.ipOnly || r.icmp || (r.proto !== 0 && r.proto !== 6)) continue;
        const fp = r.fast;
        const inMpm = payloadFastPattern(r);
        // Rules without a payload fast pattern that the class checks every packet are grouped by port too.
        if (!inMpm && !tcpAlways.has(r.id)) continue;
        if ((dir === 0 && r.flow & FLOW_TO_CLIENT) || (dir === 1 && r.flow & FLOW_TO_SERVER)) continue;
        const ranges = r.bidir ? [0, 65535] : dir === 0 ? r.dpRanges : r.spRanges;
        if (ranges.length === 0) continue;
        entries.push({ ranges, rule: r.id, pat: inMpm ? fp!.pat : null });
      }
      // Elementary port intervals and the rules active in each.
      const starts = new Set<number>([0]);
      for (const e of entries)
        for (let k = 0; k < e.ranges.length; k += 2) {
          starts.add(e.ranges[k]!);
          if (e.ranges[k + 1]! < 65535) starts.add(e.ranges[k + 1]! + 1);
        }
      const pts = [...starts].sort((a, b) => a - b);
      const add = new Map<number, number[]>();
      const del = new Map<number, number[]>();
      for (let x = 0; x < entries.length; x++) {
        const e = entries[x]!;
        for (let k = 0; k < e.ranges.length; k += 2) {
          (add.get(e.ranges[k]!) ?? add.set(e.ranges[k]!, []).get(e.ranges[k]!)!).push(x);
          const end = e.ranges[k + 1]! + 1;
          (del.get(end) ?? del.set(end, []).get(end)!).push(x);
        }
      }
      const active = new Set<number>();
      const keyToGroup = new Map<string, number>();
      const members: number[][] = [];
      const pg = { map: new Uint16Array(65536), groups: [] as PortGroup[] };
      let tooMany = false;
      for (let k = 0; k < pts.length; k++) {
        const p = pts[k]!;
        for (const x of del.get(p) ?? []) active.delete(x);
        for (const x of add.get(p) ?? []) active.add(x);
        const ids = [...active].sort((a, b) => a - b);
        const key = ids.join(',');
        let gi = keyToGroup.get(key);
        if (gi === undefined) {
          gi = members.length;
          if (gi >= MAX_PORT_GROUPS) {
            tooMany = true;
            break;
          }
          keyToGroup.set(key, gi);
          members.push(ids);
        }
        pg.map.fill(gi, p, k + 1 < pts.length ? pts[k + 1]! : 65536);
      }
      if (tooMany) {
        this.tcpPorts.push(null);
        continue;
      }
      // Automatons are built on first use (a payload to scan): traffic meets few of the port groups.
      for (const ids of members) {
        const always = Int32Array.from(ids.filter((x) => entries[x]!.pat === null).map((x) => entries[x]!.rule)).sort();
        const patRule = Int32Array.from(ids.filter((x) => entries[x]!.pat !== null).map((x) => entries[x]!.rule));
        let pm: PortMpm | null = null;
        if (patRule.length > 0) {
          const key = patRule.join(',');
          pm = shared.get(key) ?? null;
          if (pm === null) {
            pm = { mpm: null, patRule };
            shared.set(key, pm);
          }
        }
        const g: PortGroup = { pm, always };
        pg.groups.push(g);
      }
      this.tcpPorts.push(pg);
    }
  }

  private buildTxGroups(): void {
    for (const scope of ['http', 'dns', 'tls', 'ssh', 'smtp']) {
      const sides: TxGroup[] = [];
      for (let side = 0; side < 2; side++) {
        const g = new TxGroup();
        const always: number[] = [];
        const byKey = new Map<string, { buffer: string; prog: BufferProg; b: MpmBuilder; patRule: number[] }>();
        for (const r of this.rules) {
          if (r.scope !== scope && !(scope === 'smtp' && r.smtpFiles)) continue;
          if ((BUFFER_SIDE[r.txDir] & (side === 0 ? 1 : 2)) === 0) continue;
          const fp = r.fast;
          const prog = fp === null ? null : r.progs[fp.prog]!;
          if (
            fp === null ||
            prog === null ||
            prog.buffer === 'base64_data' ||
            (BUFFER_SIDE[BUFFERS[prog.buffer]!.dir] & (side === 0 ? 1 : 2)) === 0
          ) {
            always.push(r.id);
            continue;
          }
          const buffer = prefilterBuffer(prog.buffer, side);
          const key = buffer + '|' + JSON.stringify(prog.transforms);
          let e = byKey.get(key);
          if (e === undefined) {
            e = { buffer, prog, b: new MpmBuilder(), patRule: [] };
            byKey.set(key, e);
          }
          e.b.add(fp.pat.subarray(0, 255), e.patRule.length);
          e.patRule.push(r.id);
        }
        g.always = Int32Array.from(always);
        const startB = scope === 'http' ? new MpmBuilder() : null;
        const startRule: number[] = [];
        for (const e of byKey.values()) {
          const mpm = e.b.build();
          if (mpm.idCapacity > this.txOut.length) this.txOut = new Int32Array(mpm.idCapacity);
          const inStart =
            startB !== null &&
            e.prog.transforms.length === 0 &&
            (e.buffer === 'http.start' || START_PARTS[side]!.includes(e.buffer));
          if (inStart)
            for (const id of e.patRule) {
              startB.add(this.rules[id]!.fast!.pat.subarray(0, 255), startRule.length);
              startRule.push(id);
            }
          g.prefilters.push({
            buffer: e.buffer,
            transforms: e.prog.transforms,
            mpm,
            patRule: Int32Array.from(e.patRule),
            inStart,
          });
        }
        if (startB !== null && startRule.length > 0) {
          const mpm = startB.build();
          if (mpm.idCapacity > this.txOut.length) this.txOut = new Int32Array(mpm.idCapacity);
          g.start = { mpm, patRule: Int32Array.from(startRule) };
        }
        sides.push(g);
      }
      this.txGroups.set(scope, [sides[0]!, sides[1]!]);
    }
  }

  /**
   * Set (or clear, with null) the packet whose processing may hand transactions over. Clearing
   * also ends the batch: prescan results are dropped.
   */
  setCurrent(pkts: PacketBatch | null, dec: DecodedBatch | null, i: number): void {
    this.curPkts = pkts;
    this.curDec = dec;
    this.curI = i;
    // Before stream and app-layer work, so a transaction this packet completes sees the VLAN ids.
    const slot = dec !== null ? dec.flowSlot[i]! : -1;
    if (slot >= 0 && slot < this.slotVlan.length) this.slotVlan[slot] = dec!.vlan[i]!;
    if (dec === null) {
      this.preDec = null;
      this.preCount = 0;
      this.wasmBatch = false;
      if (this.pendKeys.length > 0) this.copyPendingTails();
    }
  }

  /**
   * Payload prefilter for a whole batch, after decoding and flow lookup and before the per-packet
   * stages: each payload is scanned with the automaton packet() would use, one scan after the
   * other, and packet() takes the hits from here. Scanning between each packet's reassembly and
   * parsing found the automaton's rows evicted by that work; back to back they stay in cache (in
   * the ET Open benchmark the scan cost per byte in place was 2-3x that of bench/micro/mpm-capture.ts).
   * The results hold until setCurrent(null, ...) ends the batch.
   */
  prescan(pkts: PacketBatch, dec: DecodedBatch): void {
    this.preDec = null;
    this.preCount = 0;
    this.wasmBatch = false;
    if (this.env.exhaustive === true) return;
    const n = pkts.count;
    if (this.preStart.length < n) {
      this.preStart = new Int32Array(n);
      this.preLen = new Int32Array(n);
      this.preDone = new Uint8Array(n);
      this.preMpm = new Array<Mpm | null>(n).fill(null);
      this.prePat = new Array<Int32Array | null>(n).fill(null);
    }
    const done = this.preDone;
    const which = this.preMpm;
    const pats = this.prePat;
    // Pass 1: each payload's automaton, and the distinct automatons of the batch.
    const distinct = this.preDistinct;
    distinct.length = 0;
    for (let i = 0; i < n; i++) {
      done[i] = 0;
      which[i] = null;
      const payLen = dec.payLen[i]!;
      if (dec.ipVer[i] === 0 || payLen <= 0) continue;
      const np = this.noPayload;
      if (np !== null && dec.flowSlot[i]! >= 0 && np[dec.flowSlot[i]!] === 1) continue;
      this.select(dec, i, payLen);
      const mpm = this.selMpm;
      if (mpm === null) continue;
      which[i] = mpm;
      pats[i] = this.selPatRule;
      if (!distinct.includes(mpm)) distinct.push(mpm);
    }
    // Batches read into the WebAssembly arena are scanned there, in place (see wasm-scan.ts).
    const base = currentArena()?.offsetOf(pkts.buf) ?? -1;
    if (base >= 0 && !this.wasmTried) this.startWasm();
    const wasm = this.wasm;
    this.wasmBatch = base >= 0 && wasm !== null;
    // Pass 2: one automaton at a time, so its rows stay in cache across the payloads it scans.
    const hits = this.hits;
    let w = 0;
    for (let d = 0; d < distinct.length; d++) {
      const mpm = distinct[d]!;
      const desc = this.wasmBatch ? wasm!.desc(mpm) : -1;
      for (let i = 0; i < n; i++) {
        if (which[i] !== mpm) continue;
        const payLen = dec.payLen[i]!;
        let m: number;
        let src: Int32Array = hits;
        let at = 0;
        // (A range past the buffer, which the JavaScript scan clips, never reaches WebAssembly.)
        if (desc >= 0 && dec.bufSel[i] !== 1 && dec.payOff[i]! + payLen <= pkts.buf.length) {
          m = wasm!.scan(desc, base + dec.payOff[i]!, payLen);
          src = wasm!.out();
          at = wasm!.outIndex;
        } else {
          const buf = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
          m = mpm.scan(buf, dec.payOff[i]!, payLen, hits, this.seen, this.nextGen());
        }
        if (w + m > this.preHits.length) {
          const grown = new Int32Array(Math.max(2 * this.preHits.length, w + m));
          grown.set(this.preHits.subarray(0, w));
          this.preHits = grown;
        }
        const patRule = pats[i]!;
        const out = this.preHits;
        this.preStart[i] = w;
        for (let k = 0; k < m; k++) out[w++] = patRule[src[at + k]!]!;
        this.preLen[i] = m;
        done[i] = 1;
      }
    }
    distinct.length = 0;
    this.preDec = dec;
    this.preCount = n;
  }

  /** Make the WebAssembly scanner and move the seam buffer into its arena (once per detector). */
  private startWasm(): void {
    this.wasmTried = true;
    this.wasm = WasmScanner.create();
    const at = this.wasm?.scratch(2 * SEAM) ?? -1;
    if (at >= 0) {
      this.seamBuf = this.wasm!.bytes.subarray(at, at + 2 * SEAM);
      this.seamAt = at;
    }
  }

  /**
   * The payload prefilter of packet i (into selMpm, selPatRule, selAlways): TCP packets of a flow
   * use their direction's port group, others their protocol class's group. A port group's
   * automaton is built here on first use with a payload (payLen > 0).
   */
  private select(dec: DecodedBatch, i: number, payLen: number): void {
    const proto = dec.proto[i]!;
    const slot = dec.flowSlot[i]!;
    const g = this.pktGroups[protoClass(proto)]!;
    this.selMpm = g.mpm;
    this.selPatRule = g.patRule;
    this.selAlways = g.always;
    if (proto !== 6 || slot < 0) return;
    const dir = dec.flowDir[i]! & 1;
    const pg = this.tcpPorts[dir];
    if (pg === null || pg === undefined) return;
    const e = pg.groups[pg.map[dir === 0 ? dec.dport[i]! : dec.sport[i]!]!]!;
    const pm = e.pm;
    this.selMpm = null;
    if (pm !== null) {
      // Without payload there is nothing to scan (and no seam): the automaton can wait.
      if (pm.mpm === null && payLen > 0) pm.mpm = buildPortMpm(this.rules, pm.patRule);
      this.selMpm = pm.mpm;
      this.selPatRule = pm.patRule;
    }
    this.selAlways = e.always;
  }

  /** Forget a flow's state (its slot is about to be reused). */
  release(slot: number): void {
    if (this.pendingTx.size > 0 && this.pendingTx.has(slot)) {
      // The flow ended with transaction sides not inspected yet: inspect them now, as Suricata
      // does at flow end, on no packet (counters are the flow's last ones).
      const cur = [this.curPkts, this.curDec, this.curI] as const;
      this.curPkts = null;
      this.curDec = null;
      this.flushTx(slot);
      [this.curPkts, this.curDec, this.curI] = cur;
    }
    if (this.streamRules) {
      this.freeTail(slot * 2);
      this.freeTail(slot * 2 + 1);
      this.tailLen[slot * 2] = 0;
      this.tailLen[slot * 2 + 1] = 0;
      this.tailEnd[slot * 2] = 0;
      this.tailEnd[slot * 2 + 1] = 0;
    }
    if (slot < this.ipDone.length) {
      this.ipDone[slot] = 0;
      this.passed[slot] = 0;
      this.slotVlan[slot] = 0;
    }
    if (slot < this.appSeen.length) this.appSeen[slot] = 0;
    if (this.flowbits.size > 0) this.flowbits.delete(slot);
    if (this.flowints.size > 0) this.flowints.delete(slot);
    if (this.storeFlow !== null && slot < this.storeFlow.length) {
      this.storeFlow[slot] = 0;
      this.storeNext![slot] = 0;
      this.storeSids.delete(slot);
    }
    if (slot * 2 + 1 < this.streamBytes.length) {
      this.streamBytes[slot * 2] = 0;
      this.streamBytes[slot * 2 + 1] = 0;
    }
  }

  // ---- packets ---------------------------------------------------------------------------------

  /** Run packet rules on packet i of the batch. `pcapCnt` is its 1-based number in the capture. */
  packet(pkts: PacketBatch, dec: DecodedBatch, i: number, pcapCnt: number): void {
    const ipVer = dec.ipVer[i]!;
    if (ipVer === 0) return;
    const proto = dec.proto[i]!;
    const slot = dec.flowSlot[i]!;
    if (slot >= 0 && slot < this.slotVlan.length) this.slotVlan[slot] = dec.vlan[i]!;
    if (this.protoOnlyRules && proto === 6 && slot >= 0) this.updateAppSeen(slot, dec, i);
    if (slot >= 0 && this.pendingTx.size > 0) this.flushTxDue(slot, dec, i, pcapCnt);
    if (slot >= 0 && this.passed[slot] === 1) return;
    const payLen = dec.payLen[i]! > 0 ? dec.payLen[i]! : 0;
    const noPay = slot >= 0 && this.noPayload !== null && this.noPayload[slot] === 1;
    this.pktNoPayload = noPay;
    if (this.trackStreamBytes && slot >= 0 && payLen > 0 && slot * 2 + 1 < this.streamBytes.length) {
      const k = slot * 2 + (dec.flowDir[i]! & 1);
      this.streamBytes[k] = this.streamBytes[k]! + payLen;
    }
    let nc: number;
    const cand = this.cand;
    // The payload as a Buffer view is made only when a candidate inspects it (not per packet).
    this.pktPayload = null;
    this.pktPayloadFor = -1;
    this.select(dec, i, payLen);
    const mpm = this.selMpm;
    const patRule = this.selPatRule;
    const always = this.selAlways;
    if (mpm !== null && payLen > 0 && !noPay) {
      if (this.preDec === dec && i < this.preCount && this.preDone[i] === 1) {
        // Scanned by prescan: its hits are rule ids already.
        const hits = this.hits;
        const a = this.preStart[i]!;
        const m = this.preLen[i]!;
        for (let k = 0; k < m; k++) hits[k] = this.preHits[a + k]!;
        nc = this.mergeAlways(always, m);
      } else {
        const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
        const n = mpm.scan(src, dec.payOff[i]!, payLen, this.hits, this.seen, this.nextGen());
        nc = this.merge(always, patRule, n);
      }
    } else {
      const a = always;
      for (let k = 0; k < a.length; k++) cand[k] = a[k]!;
      nc = a.length;
    }
    const ni = this.ipOnlyCandidates(protoClass(proto), dec, i);
    if (ni > 0) nc = this.mergeInto(nc, ni);
    if (this.env.exhaustive === true) nc = this.exhaustivePacket(protoClass(proto), ni > 0);
    // Raw stream view (TCP data accepted into the stream): the bytes before this segment.
    const key = slot * 2 + (dec.flowDir[i]! & 1);
    const streamData = this.streamRules && proto === 6 && slot >= 0 && payLen > 0 && dec.inStream[i] === 1 && !noPay;
    const tl = streamData ? this.tailLen[key]! : 0;
    // The tail ends at te in the batch (see tailEnd) or is in its arena cell.
    const te = tl > 0 ? this.tailEnd[key]! : 0;
    // Fast patterns spanning the previous stream bytes and this segment: scan the seam.
    let ns = 0;
    if (tl > 0 && mpm !== null && this.env.exhaustive !== true) {
      const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
      const a = Math.min(tl, SEAM - 1);
      const b = Math.min(payLen, SEAM - 1);
      const seam = this.seamBuf;
      if (te > 0) copyBytes(pkts.buf, te - a, a, seam, 0);
      else copyBytes(this.tailArena, this.tailAt[key]! - 1 + tl - a, a, seam, 0);
      copyBytes(src, dec.payOff[i]!, b, seam, a);
      // With the batch's payloads scanned in WebAssembly, so is the seam (one copy of the tables hot).
      const desc = this.wasmBatch && this.seamAt >= 0 ? this.wasm!.desc(mpm) : -1;
      let n: number;
      let found: Int32Array = this.hits;
      let at = 0;
      if (desc >= 0) {
        n = this.wasm!.scan(desc, this.seamAt, a + b);
        found = this.wasm!.out();
        at = this.wasm!.outIndex;
      } else n = mpm.scan(seam, 0, a + b, this.hits, this.seen, this.nextGen());
      for (let k = 0; k < n; k++) {
        const id = patRule[found[at + k]!]!;
        if (this.rules[id]!.streamMode !== 'pkt') this.straddle[ns++] = id;
      }
      if (ns > 1) ns = uniqueSorted(this.straddle, ns);
    }
    if (nc === 0 && ns === 0) {
      if (streamData) this.keepTail(key, pkts, dec, i);
      return;
    }
    // The previous stream bytes as a view, now that candidates may inspect them.
    if (te > 0) this.copyTail(key);
    const tail = tl > 0 ? this.tailArena.subarray(this.tailAt[key]! - 1, this.tailAt[key]! - 1 + tl) : undefined;
    this.loadWords(dec, i);
    let alerts = 0;
    let nm = 0;
    const matched = this.ipCand; // reused as the list of rules that alerted on this packet
    const tsUs = pkts.tsUs[i]!;
    const flagOk = proto === 6 ? this.flagOk : null;
    const fl = dec.tcpFlags[i]!;
    for (let k = 0; k < nc + ns; k++) {
      const fromSeam = k >= nc;
      const id = fromSeam ? this.straddle[k - nc]! : cand[k]!;
      // A flags check this packet cannot pass: no evaluation (matchPacket/matchStream check it too).
      // Tested on the id, before the rule object is loaded: most candidates of a content-free
      // rule set stop here (Snort 3 community rules: 2 of 3 on the bench capture).
      if (flagOk !== null && (flagOk[id * 8 + (fl >>> 5)]! & (1 << (fl & 31))) === 0) continue;
      if (fromSeam && (indexOf(cand, nc, id) || indexOf(matched, nm, id))) continue;
      const r = this.rules[id]!;
      this.evaluated++;
      let ok: boolean;
      if (r.streamMode === 'stream' || fromSeam) ok = streamData && this.matchStream(r, pkts, dec, i, tail);
      else {
        ok = this.matchPacket(r, pkts, dec, i);
        // Exhaustive mode has no seam scan: try every stream rule's spanning match directly.
        if (!ok && this.env.exhaustive === true && r.streamMode === 'both' && streamData && tail !== undefined)
          ok = this.matchStream(r, pkts, dec, i, tail);
      }
      if (!ok) continue;
      // Post-match actions (flowbits, ...) apply at once, so later rules of this packet see them.
      if (!this.postMatch(r, slot, tsUs, dec, i, null)) continue;
      if (r.action === 'pass') {
        if (slot >= 0) this.passed[slot] = 1;
        break;
      }
      matched[nm++] = r.id;
      if (r.filestore !== null && slot >= 0) this.markStoreSlot(r, slot);
      if (r.noalert || alerts >= this.alertMax) continue;
      alerts++;
      this.raisePacket(r, pkts, dec, i, pcapCnt);
    }
    if (streamData) this.keepTail(key, pkts, dec, i);
  }

  /**
   * A stream-inspecting rule on a segment: it matches the stream window (the previous stream bytes
   * and this segment) but not those previous bytes alone — the match needs this segment's data,
   * so each stream match alerts once, on the segment that completes it.
   */
  private matchStream(
    r: CompiledRule,
    pkts: PacketBatch,
    dec: DecodedBatch,
    i: number,
    tail: Buffer | undefined,
  ): boolean {
    if (tail === undefined || tail.length === 0) return this.matchPacket(r, pkts, dec, i);
    const payload = this.payloadOf(pkts, dec, i);
    if (payload === null) return false;
    this.payloadOverride = Buffer.concat([tail, payload]);
    const win = this.matchPacket(r, pkts, dec, i);
    if (!win) {
      this.payloadOverride = null;
      return false;
    }
    this.payloadOverride = tail;
    const old = this.matchPacket(r, pkts, dec, i);
    this.payloadOverride = null;
    return !old;
  }

  /**
   * Remember the last TAIL stream bytes of this direction (after this segment), in the direction's
   * arena cell (taken once per flow direction, not per segment), or as a pending tail (tailEnd).
   */
  private keepTail(key: number, pkts: PacketBatch, dec: DecodedBatch, i: number): void {
    const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
    const off = dec.payOff[i]!;
    const len = dec.payLen[i]!;
    if (len >= TAIL && dec.bufSel[i] === 0) {
      if (this.tailEnd[key] === 0) this.pendKeys.push(key);
      this.tailEnd[key] = off + len;
      this.pendBuf = pkts.buf;
      this.tailLen[key] = TAIL;
      return;
    }
    if (this.tailEnd[key] !== 0) this.copyTail(key);
    const at = this.tailCell(key);
    const arena = this.tailArena;
    if (len >= TAIL) {
      copyBytes(src, off + len - TAIL, TAIL, arena, at);
      this.tailLen[key] = TAIL;
      return;
    }
    const tl = this.tailLen[key]!;
    const keep = Math.min(tl, TAIL - len);
    if (keep > 0) arena.copyWithin(at, at + tl - keep, at + tl);
    copyBytes(src, off, len, arena, at + keep);
    this.tailLen[key] = keep + len;
  }

  /**
   * Offset of key's TAIL-byte cell in tailArena, taken on first use (from the free stack, else at
   * the top, doubling the arena when full). The arena may be replaced here: read it afterwards.
   */
  private tailCell(key: number): number {
    const at = this.tailAt[key]!;
    if (at !== 0) return at - 1;
    let cell: number;
    if (this.tailFreeN > 0) cell = this.tailFree[--this.tailFreeN]!;
    else {
      cell = this.tailTop;
      this.tailTop += TAIL;
      if (this.tailTop > this.tailArena.length) {
        const grown = Buffer.allocUnsafe(Math.max(64 * TAIL, 2 * this.tailArena.length));
        this.tailArena.copy(grown, 0, 0, cell);
        this.tailArena = grown;
        this.tailFree = new Int32Array(grown.length / TAIL);
        // (the free stack is empty whenever the top moves, so nothing is lost here)
      }
    }
    this.tailAt[key] = cell + 1;
    return cell;
  }

  /** Give key's tail cell back (its flow ended). */
  private freeTail(key: number): void {
    const at = this.tailAt[key]!;
    if (at === 0) return;
    this.tailAt[key] = 0;
    this.tailFree[this.tailFreeN++] = at - 1;
  }

  /** Copy key's pending tail (tailEnd) out of the batch into its arena cell. */
  private copyTail(key: number): void {
    const end = this.tailEnd[key]!;
    this.tailEnd[key] = 0;
    const at = this.tailCell(key);
    copyBytes(this.pendBuf!, end - TAIL, TAIL, this.tailArena, at);
  }

  /** The batch ends: copy every tail still pending out of it. */
  private copyPendingTails(): void {
    const keys = this.pendKeys;
    for (let k = 0; k < keys.length; k++) if (this.tailEnd[keys[k]!] !== 0) this.copyTail(keys[k]!);
    keys.length = 0;
    this.pendBuf = null;
  }

  /** Every packet rule of protocol class c (IP-only ones when due), for the exhaustive mode. */
  private exhaustivePacket(c: number, ipDue: boolean): number {
    let n = 0;
    for (const r of this.rules) {
      if (r.scope !== 'pkt' || (r.ipOnly && !ipDue)) continue;
      if (r.proto !== 0 && protoClass(r.proto) !== c) continue;
      if (r.icmp && c !== 2) continue;
      this.cand[n++] = r.id;
    }
    return n;
  }

  /** cand[0, nc) ∪ ipCand[0, ni), both sorted, into cand; returns the new count. */
  private mergeInto(nc: number, ni: number): number {
    const a = this.cand;
    const b = this.ipCand;
    const m = this.merged;
    let x = 0;
    let y = 0;
    let n = 0;
    while (x < nc || y < ni) {
      let v: number;
      if (y >= ni || (x < nc && a[x]! <= b[y]!)) {
        v = a[x++]!;
        if (y < ni && b[y] === v) y++;
      } else v = b[y++]!;
      m[n++] = v;
    }
    for (let k = 0; k < n; k++) a[k] = m[k]!;
    return n;
  }

  private nextGen(): number {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.seen.fill(0);
      this.gen = 1;
    }
    return this.gen;
  }

  /** Candidates = always ∪ rules of the MPM hits, sorted by rule id, into this.cand. */
  private merge(always: Int32Array, patRule: Int32Array, nHits: number): number {
    const hits = this.hits;
    for (let k = 0; k < nHits; k++) hits[k] = patRule[hits[k]!]!;
    return this.mergeAlways(always, nHits);
  }

  /** this.cand = always ∪ the rule ids in hits[0, nHits) (sorted, unique); returns the count. */
  private mergeAlways(always: Int32Array, nHits: number): number {
    const h = this.hits;
    sortInPlace(h, nHits);
    const cand = this.cand;
    let a = 0;
    let b = 0;
    let n = 0;
    while (a < always.length || b < nHits) {
      if (b >= nHits || (a < always.length && always[a]! < h[b]!)) cand[n++] = always[a++]!;
      else {
        const v = h[b++]!;
        if (n === 0 || cand[n - 1] !== v) cand[n++] = v;
      }
    }
    return n;
  }

  private headerMatch(
    r: CompiledRule,
    v6: boolean,
    w: Uint32Array,
    sp: number,
    dp: number,
    hasPorts: boolean,
  ): boolean {
    if (this.oriented(r, v6, w, 0, 4, sp, dp, hasPorts)) return true;
    return r.bidir && this.oriented(r, v6, w, 4, 0, dp, sp, hasPorts);
  }

  private oriented(
    r: CompiledRule,
    v6: boolean,
    w: Uint32Array,
    so: number,
    do_: number,
    sp: number,
    dp: number,
    hasPorts: boolean,
  ): boolean {
    if (r.src !== null && !r.src(v6, w, so)) return false;
    if (r.dst !== null && !r.dst(v6, w, do_)) return false;
    if (r.sp !== null && (!hasPorts || !r.sp(sp))) return false;
    if (r.dp !== null && (!hasPorts || !r.dp(dp))) return false;
    return true;
  }

  /**
   * Suricata in IDS mode hands a TCP direction's data to the app layer when the other side
   * acknowledges it, so a protocol found in to-server data is known to detection from the next
   * to-client packet that is not a SYN (the handshake done), and the other way round. Vigil
   * parses data on arrival; this state keeps protocol-only rules from matching before Suricata's
   * would (suricata-verify exception-policy-default-02, detect-engine-proto).
   */
  private updateAppSeen(slot: number, dec: DecodedBatch, i: number): void {
    let st = this.appSeen[slot]!;
    if ((st & 4) !== 0) return;
    const dir = dec.flowDir[i]! & 1;
    // Found in the other direction's data at an earlier packet: this packet acknowledges it.
    if ((st & (1 << (dir ^ 1))) !== 0 && (dec.tcpFlags[i]! & TCP_FLAG.SYN) === 0) st |= 4;
    const byDir = this.env.appProtoDirOf;
    for (let d = 0; d < 2; d++) {
      const p = byDir !== undefined ? byDir(slot, d) : d === dir ? this.env.appProtoOf(slot) : '';
      if (p !== '' && p !== 'failed') st |= 1 << d;
    }
    this.appSeen[slot] = st;
  }

  private appOk(r: CompiledRule, slot: number, dir: number): boolean {
    if (r.appProtos === null && r.appChecks.length === 0) return true;
    const ap = slot >= 0 ? this.env.appProtoOf(slot) : '';
    if (r.appProtos !== null && !r.appProtos.includes(ap)) return false;
    if (r.appChecks.length === 0) return true;
    if (slot < 0) return false;
    // Protocol-detection-only rules run on the packet where a direction's detection concluded.
    const done = this.env.detectDoneOf;
    if (r.pdOnly && done !== undefined && done(slot) === 0) return false;
    const byDir = this.env.appProtoDirOf;
    for (const c of r.appChecks) {
      // Suricata's DetectAppLayerProtocolPacketMatch: a negation never matches an unknown protocol.
      if (c.mode === 'either') {
        const ts = byDir === undefined ? ap : byDir(slot, 0);
        const tc = byDir === undefined ? ap : byDir(slot, 1);
        if (c.negated && ts === '' && tc === '') return false;
        if ((ts === c.proto || tc === c.proto) === c.negated) return false;
        continue;
      }
      let p = ap;
      if (byDir !== undefined) {
        if (c.mode === 'direction') p = byDir(slot, dir);
        else if (c.mode === 'to_server') p = byDir(slot, 0);
        else if (c.mode === 'to_client') p = byDir(slot, 1);
      }
      // 'unknown' matches a protocol not yet known ('' here).
      const want = c.proto === 'unknown' ? '' : c.proto;
      if (c.negated && p === '') return false;
      if ((p === want) === c.negated) return false;
    }
    return true;
  }

  private matchPacket(r: CompiledRule, pkts: PacketBatch, dec: DecodedBatch, i: number): boolean {
    const proto = dec.proto[i]!;
    if (r.proto !== 0 && r.proto !== proto && !(r.icmp && proto === 58)) return false;
    const v6 = dec.ipVer[i] === 6;
    // The packet's addresses are in this.words (loaded once per packet by packet()).
    const w = this.words;
    const hasPorts = proto === 6 || proto === 17 || proto === 132;
    if (!this.headerMatch(r, v6, w, dec.sport[i]!, dec.dport[i]!, hasPorts)) return false;
    const slot = dec.flowSlot[i]!;
    const f = r.flow;
    if (f !== 0) {
      const dir = dec.flowDir[i]!;
      if (f & FLOW_TO_SERVER && (slot < 0 || dir !== 0)) return false;
      if (f & FLOW_TO_CLIENT && (slot < 0 || dir !== 1)) return false;
      const est = slot >= 0 && (dec.flowFlags[i]! & FFLAG.ESTABLISHED) !== 0;
      if (f & FLOW_ESTABLISHED && !est) return false;
      if (f & FLOW_NOT_ESTABLISHED && est) return false;
      const frag = (dec.layers[i]! & LAYER.REASSEMBLED) !== 0;
      if (f & FLOW_ONLY_FRAG && !frag) return false;
      // only_stream: the packet's data must be part of the reassembled stream (not RST data, a
      // retransmission or data past the depth). Matches spanning segments are not seen here.
      if (f & FLOW_ONLY_STREAM && dec.inStream[i] !== 1) return false;
      if (f & FLOW_NO_FRAG && frag) return false;
      void FLOW_STATELESS;
    }
    if (!this.appOk(r, slot, dec.flowDir[i]! & 1)) return false;
    if (proto === 6 && slot >= 0 && (this.appSeen[slot]! & 4) === 0 && protoOnly(r)) return false;
    for (const c of r.checks) if (!this.check(c, pkts, dec, i)) return false;
    if (!this.flowbitsOk(r, slot)) return false;
    if (!this.flowintsOk(r, slot)) return false;
    if (!this.xbitsOk(r, dec, i, pkts.tsUs[i]!)) return false;
    if (r.progs.length > 0) {
      const st = this.st;
      st.reset();
      for (const g of r.progs) {
        let buf: Buffer | null;
        if (g.buffer === 'base64_data') buf = st.b64;
        else
          buf =
            g.buffer === 'payload'
              ? this.pktNoPayload
                ? null
                : this.packetPayload(pkts, dec, i)
              : this.headerBuffer(g.buffer, pkts, dec, i);
        if (buf === null) return false;
        if (g.transforms.length > 0) buf = applyTransforms(buf, g.transforms);
        if (!inspect(g.ops, 0, buf, 0, st)) return false;
      }
    }
    return true;
  }

  /** Packet i's payload view, made once per packet on first use. */
  private packetPayload(pkts: PacketBatch, dec: DecodedBatch, i: number): Buffer | null {
    if (this.payloadOverride !== null) return this.payloadOverride;
    if (this.pktPayloadFor !== i) {
      this.pktPayload = this.payloadOf(pkts, dec, i);
      this.pktPayloadFor = i;
    }
    return this.pktPayload;
  }

  private payloadOf(pkts: PacketBatch, dec: DecodedBatch, i: number): Buffer | null {
    const len = dec.payLen[i]!;
    if (len <= 0) return null;
    const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
    return Buffer.from(src.buffer, src.byteOffset + dec.payOff[i]!, len);
  }

  private headerBuffer(name: string, pkts: PacketBatch, dec: DecodedBatch, i: number): Buffer | null {
    const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
    const l3 = dec.l3Off[i]!;
    const l4 = dec.l4Off[i]!;
    const v = dec.ipVer[i]!;
    const proto = dec.proto[i]!;
    const at = (off: number, len: number): Buffer | null =>
      off < 0 || len <= 0 ? null : Buffer.from(src.buffer, src.byteOffset + off, len);
    switch (name) {
      case 'ipv4.hdr':
        return v === 4 ? at(l3, dec.ipHdrLen[i]!) : null;
      case 'ipv6.hdr':
        return v === 6 ? at(l3, 40) : null;
      case 'tcp.hdr':
        return proto === 6 ? at(l4, dec.l4HdrLen[i]!) : null;
      case 'udp.hdr':
        return proto === 17 ? at(l4, 8) : null;
      case 'icmpv4.hdr':
        return proto === 1 ? at(l4, 8) : null;
      case 'icmpv6.hdr':
        return proto === 58 ? at(l4, 8) : null;
      default:
        return null;
    }
  }

  private check(c: PacketCheck, pkts: PacketBatch, dec: DecodedBatch, i: number): boolean {
    switch (c.k) {
      case 'flags': {
        if (dec.proto[i] !== 6) return false;
        const fl = dec.tcpFlags[i]! & ~c.ignored & 0xff;
        return flagTest(c.modifier, fl, c.bits);
      }
      case 'fragbits': {
        if (dec.ipVer[i] !== 4) return false;
        const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
        const b = src[dec.l3Off[i]! + 6]! >> 5;
        // Header bits: reserved (4), DF (2), MF (1); rule bits: M=1, D=2, R=4.
        const fb = ((b & 1) !== 0 ? 1 : 0) | ((b & 2) !== 0 ? 2 : 0) | ((b & 4) !== 0 ? 4 : 0);
        return flagTest(c.modifier, fb & ~c.ignored, c.bits);
      }
      case 'cmp': {
        const x = this.field(c.field, pkts, dec, i);
        return x !== null && compareU(c.op, x, c.a, c.b);
      }
      case 'ip_proto': {
        const p = dec.proto[i]!;
        return c.op === '!' ? p !== c.proto : c.op === '<' ? p < c.proto : c.op === '>' ? p > c.proto : p === c.proto;
      }
      case 'sameip': {
        for (let k = 0; k < 4; k++) if (dec.src[i * 4 + k] !== dec.dst[i * 4 + k]) return false;
        return true;
      }
      case 'ipopts':
        return hasIpOption(dec.bufSel[i] === 1 ? dec.alt : pkts.buf, dec, i, c.opt);
      case 'iprep': {
        const v = dec.ipVer[i]!;
        const o = i * 4;
        const test = (w: Uint32Array): boolean => {
          const sc = repScore(v, w, o, c.cat);
          return sc >= 0 && (c.op === '>' ? sc > c.value : c.op === '<' ? sc < c.value : sc === c.value);
        };
        if (c.side === 'src') return test(dec.src);
        if (c.side === 'dst') return test(dec.dst);
        if (c.side === 'both') return test(dec.src) && test(dec.dst);
        return test(dec.src) || test(dec.dst);
      }
      case 'stream_size': {
        const slot = dec.flowSlot[i]!;
        if (slot < 0 || dec.proto[i] !== 6) return false;
        const sb = this.streamBytes;
        const c0 = slot * 2 + 1 < sb.length ? sb[slot * 2]! : 0;
        const c1 = slot * 2 + 1 < sb.length ? sb[slot * 2 + 1]! : 0;
        if (c.side === 'client') return compareStream(c.op, c0, c.value);
        if (c.side === 'server') return compareStream(c.op, c1, c.value);
        if (c.side === 'both') return compareStream(c.op, c0, c.value) && compareStream(c.op, c1, c.value);
        return compareStream(c.op, c0, c.value) || compareStream(c.op, c1, c.value);
      }
    }
  }

  private field(f: string, pkts: PacketBatch, dec: DecodedBatch, i: number): number | null {
    const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
    const proto = dec.proto[i]!;
    const isIcmp = proto === 1 || proto === 58;
    const l3 = dec.l3Off[i]!;
    const l4 = dec.l4Off[i]!;
    switch (f) {
      case 'dsize':
        return dec.payLen[i]! < 0 ? 0 : dec.payLen[i]!;
      case 'ttl':
        return dec.ttl[i]!;
      case 'itype':
        return isIcmp ? dec.icmpType[i]! : null;
      case 'icode':
        return isIcmp ? dec.icmpCode[i]! : null;
      case 'icmp_id':
      case 'icmp_seq': {
        if (!isIcmp || l4 < 0) return null;
        const t = dec.icmpType[i]!;
        // Echo, timestamp, information and address-mask messages carry an id and sequence.
        const ok4 = proto === 1 && [0, 8, 13, 14, 15, 16, 17, 18].includes(t);
        const ok6 = proto === 58 && (t === 128 || t === 129);
        if (!ok4 && !ok6) return null;
        const at = l4 + (f === 'icmp_id' ? 4 : 6);
        return at + 2 <= src.length ? src.readUInt16BE(at) : null;
      }
      case 'tcp.mss':
        return proto === 6 && dec.tcpMss[i]! > 0 ? dec.tcpMss[i]! : null;
      case 'tos':
        return dec.ipVer[i] === 4 ? src[l3 + 1]! : null;
      case 'id':
        return dec.ipVer[i] === 4 ? src.readUInt16BE(l3 + 4) : null;
      case 'window':
        return proto === 6 ? dec.tcpWin[i]! : null;
      case 'seq':
        return proto === 6 ? dec.tcpSeq[i]! : null;
      case 'ack':
        return proto === 6 ? dec.tcpAck[i]! : null;
      case 'fragoffset':
        return dec.ipVer[i] === 4 ? src.readUInt16BE(l3 + 6) & 0x1fff : null;
      default:
        return null;
    }
  }

  // ---- flow state --------------------------------------------------------------------------------

  private flowbitsOk(r: CompiledRule, slot: number): boolean {
    if (r.flowbitChecks.length === 0) return true;
    if (slot < 0) return false;
    const bits = this.flowbits.get(slot);
    for (const c of r.flowbitChecks) {
      const isSet = (n: string): boolean => bits !== undefined && bits.has(n);
      const want = c.cmd === 'isset';
      const ok = c.any ? c.names.some((n) => isSet(n) === want) : c.names.every((n) => isSet(n) === want);
      if (c.any && !want) {
        // isnotset a|b: true when at least one of them is not set.
        if (!c.names.some((n) => !isSet(n))) return false;
        continue;
      }
      if (!ok) return false;
    }
    return true;
  }

  private flowintsOk(r: CompiledRule, slot: number): boolean {
    if (r.flowints.length === 0) return true;
    if (slot < 0) return false;
    const vars = this.flowints.get(slot);
    for (const f of r.flowints) {
      const cur = vars?.get(f.name);
      switch (f.op) {
        case 'isset':
          if (cur === undefined) return false;
          continue;
        case 'notset':
        case 'isnotset':
          if (cur !== undefined) return false;
          continue;
        case '==':
        case '!=':
        case '<':
        case '<=':
        case '>':
        case '>=': {
          if (cur === undefined) return false;
          const v = typeof f.value === 'number' ? f.value : vars?.get(String(f.value));
          if (v === undefined) return false;
          if (!compareStream(f.op === '==' ? '=' : f.op, cur, v)) return false;
          continue;
        }
        default:
          continue;
      }
    }
    return true;
  }

  private xbitKey(name: string, track: string, srcIp: string, dstIp: string): string {
    return track === 'ip_src'
      ? `${name}/s/${srcIp}`
      : track === 'ip_dst'
        ? `${name}/d/${dstIp}`
        : `${name}/p/${srcIp < dstIp ? srcIp + '|' + dstIp : dstIp + '|' + srcIp}`;
  }

  private xbitsOk(
    r: CompiledRule,
    dec: DecodedBatch | null,
    i: number,
    tsUs: number,
    tuple?: { src: string; dst: string },
  ): boolean {
    if (r.xbits.length === 0) return true;
    const ips = tuple ?? this.ipsOf(dec!, i);
    for (const x of r.xbits) {
      if (x.cmd !== 'isset' && x.cmd !== 'isnotset') continue;
      const exp = this.xbits.get(this.xbitKey(x.name, x.track, ips.src, ips.dst));
      const isSet = exp !== undefined && exp >= tsUs;
      if (isSet !== (x.cmd === 'isset')) return false;
    }
    return true;
  }

  /** Packet i's source (words 0..3) and destination (4..7) addresses, into this.words. */
  private loadWords(dec: DecodedBatch, i: number): Uint32Array {
    const w = this.words;
    for (let k = 0; k < 4; k++) {
      w[k] = dec.src[i * 4 + k]!;
      w[4 + k] = dec.dst[i * 4 + k]!;
    }
    return w;
  }

  private ipsOf(dec: DecodedBatch, i: number): { src: string; dst: string } {
    const v = dec.ipVer[i]!;
    const w = this.loadWords(dec, i);
    return { src: formatIp(v, w, 0), dst: formatIp(v, w, 4) };
  }

  /**
   * After a rule matched: detection_filter (a match condition), then flowbit / flowint / xbit
   * actions, then threshold (an alert filter). False when the alert is not to be raised.
   */
  private postMatch(
    r: CompiledRule,
    slot: number,
    tsUs: number,
    dec: DecodedBatch | null,
    i: number,
    tuple: { src: string; dst: string; flowId: number } | null,
  ): boolean {
    const needIps = r.detectionFilter !== null || r.threshold !== null || r.xbits.length > 0;
    const ips = needIps ? (tuple ?? this.ipsOf(dec!, i)) : null;
    const flowId = tuple?.flowId ?? (slot >= 0 ? this.env.flowIdOf(slot) : 0);
    if (
      r.detectionFilter !== null &&
      !this.rate.detectionFilter(r.id, r.detectionFilter, ips!.src, ips!.dst, flowId, tsUs)
    )
      return false;
    if (slot >= 0) {
      for (const a of r.flowbitActions) {
        let bits = this.flowbits.get(slot);
        if (bits === undefined) {
          bits = new Set();
          this.flowbits.set(slot, bits);
        }
        for (const n of a.names) {
          if (a.cmd === 'set') bits.add(n);
          else if (a.cmd === 'unset') bits.delete(n);
          else if (a.cmd === 'toggle') {
            if (bits.has(n)) bits.delete(n);
            else bits.add(n);
          }
        }
      }
      for (const f of r.flowints) {
        if (f.op !== '=' && f.op !== '+' && f.op !== '-') continue;
        let vars = this.flowints.get(slot);
        if (vars === undefined) {
          vars = new Map();
          this.flowints.set(slot, vars);
        }
        const v = typeof f.value === 'number' ? f.value : vars.get(String(f.value));
        if (v === undefined) continue;
        // An unset variable counts as 0 for + and - (Suricata initialises it).
        const cur = vars.get(f.name) ?? 0;
        if (f.op === '=') vars.set(f.name, v);
        else vars.set(f.name, f.op === '+' ? cur + v : cur - v);
      }
    }
    for (const x of r.xbits) {
      if (x.cmd === 'isset' || x.cmd === 'isnotset') continue;
      const key = this.xbitKey(x.name, x.track, ips!.src, ips!.dst);
      const cur = this.xbits.get(key);
      const isSet = cur !== undefined && cur >= tsUs;
      const set = x.cmd === 'set' || (x.cmd === 'toggle' && !isSet);
      if (set) this.xbits.set(key, tsUs + (x.expire ?? 3600) * 1e6);
      else this.xbits.delete(key);
    }
    if (r.threshold !== null && !this.rate.threshold(r.id, r.threshold, ips!.src, ips!.dst, flowId, tsUs)) return false;
    return true;
  }

  /** threshold.config suppress by address: src words at 0, dst at 4 in this.words. */
  private suppressed(r: CompiledRule, v6: boolean): boolean {
    for (const s of r.suppress) {
      const w = this.words;
      const hitSrc = s.match === null || s.match(v6, w, 0);
      const hitDst = s.match === null || s.match(v6, w, 4);
      if (s.track === 'by_dst' ? hitDst : s.track === 'by_either' ? hitSrc || hitDst : hitSrc) return true;
    }
    return false;
  }

  private raisePacket(r: CompiledRule, pkts: PacketBatch, dec: DecodedBatch, i: number, pcapCnt: number): void {
    const v = dec.ipVer[i]!;
    const w = this.loadWords(dec, i);
    if (r.suppress.length > 0 && this.suppressed(r, v === 6)) return;
    const slot = dec.flowSlot[i]!;
    if (slot >= 0) this.env.markAlerted(slot);
    this.alertCount++;
    this.env.onAlert({
      kind: 'alert',
      tsUs: pkts.tsUs[i]!,
      pcapCnt,
      flowId: slot >= 0 ? this.env.flowIdOf(slot) : 0,
      srcIp: formatIp(v, w, 0),
      dstIp: formatIp(v, w, 4),
      srcPort: dec.sport[i]!,
      dstPort: dec.dport[i]!,
      proto: dec.proto[i]!,
      ipVer: v,
      direction: slot >= 0 && dec.flowDir[i] === 1 ? 'to_client' : 'to_server',
      appProto: slot >= 0 ? appProtoName(this.env.appProtoOf(slot)) : '',
      ...ruleFields(r),
      ...(slot >= 0 ? { flow: this.countersAt(slot, pkts, dec, i) } : {}),
      ...(dec.vlan[i]! !== 0 ? { vlan: vlanList(dec.vlan[i]!) } : {}),
      ...this.captures(),
      ...this.captured(pkts, dec, i),
    });
  }

  /** pcre captures of the rule just matched, for its alert. */
  private captures(): Pick<AlertRecord, 'context' | 'flowvars' | 'pktvars'> {
    const st = this.st;
    const out: Pick<AlertRecord, 'context' | 'flowvars' | 'pktvars'> = {};
    if (st.context !== null) out.context = { ...st.context };
    if (st.flowvars !== null) out.flowvars = st.flowvars.slice();
    if (st.pktvars !== null) out.pktvars = st.pktvars.slice();
    return out;
  }

  /**
   * The flow's counters as of packet i (itself included, as Suricata counts a packet before
   * inspecting it). The flow table counts a whole batch before the per-packet stages, so the
   * batch's later packets of the flow are taken back; without a current packet (a transaction
   * handed over at flow end) the counters are the flow's final ones.
   */
  private countersAt(slot: number, pkts: PacketBatch | null, dec: DecodedBatch | null, i: number): FlowCounters {
    const now = this.env.countersOf(slot);
    if (pkts === null || dec === null || dec.flowSlot[i] !== slot) return now;
    const c = { ...now };
    for (let j = i + 1; j < pkts.count; j++) {
      if (dec.flowSlot[j] !== slot) continue;
      if ((dec.flowDir[j]! & 1) === 0) {
        c.pktsToServer--;
        c.bytesToServer -= pkts.origLen[j]!;
      } else {
        c.pktsToClient--;
        c.bytesToClient -= pkts.origLen[j]!;
      }
    }
    return c;
  }

  /** Copies of the frame and payload for EVE, when configured. */
  private captured(
    pkts: PacketBatch,
    dec: DecodedBatch,
    i: number,
  ): Pick<AlertRecord, 'packet' | 'linkType' | 'payload'> {
    const cap = this.env.capture;
    if (cap === undefined || (!cap.packet && !cap.payload)) return {};
    const out: Pick<AlertRecord, 'packet' | 'linkType' | 'payload'> = {};
    if (cap.packet) {
      const off = pkts.off[i]!;
      const pre = dec.reasmPrefix[i]!;
      out.packet =
        dec.bufSel[i] === 1 && pre >= 0
          ? Buffer.concat([
              pkts.buf.subarray(off, off + pre),
              dec.alt.subarray(dec.reasmOff[i]!, dec.reasmOff[i]! + dec.reasmLen[i]!),
            ])
          : Buffer.from(pkts.buf.subarray(off, off + pkts.capLen[i]!));
      out.linkType = pkts.linkType[i]!;
    }
    if (cap.payload) {
      const p = this.payloadOf(pkts, dec, i);
      out.payload = p === null ? Buffer.alloc(0) : Buffer.from(p);
    }
    return out;
  }

  // ---- transactions ------------------------------------------------------------------------------

  /** A `filestore` packet rule matched on the flow in `slot`: mark its next transaction (or all, for ssn/flow). */
  private markStoreSlot(r: CompiledRule, slot: number): void {
    const fs = r.filestore!;
    if (fs.flow) this.storeFlow![slot]! |= fs.bits;
    else this.storeNext![slot]! |= fs.bits;
    this.addStoreSid(slot, r.sid, fs.bits);
  }

  private addStoreSid(slot: number, sid: number, bits: number): void {
    let sids = this.storeSids.get(slot);
    if (sids === undefined) {
      sids = [];
      this.storeSids.set(slot, sids);
    }
    // Bounded: a flow lists each storing rule once, and at most 64 of them.
    if (sids.length < 64 && !sids.some((x) => x.sid === sid)) sids.push({ sid, bits });
  }

  /** A `filestore` transaction rule matched `rec`: mark the record's files (and the flow's, for ssn/flow). */
  private markStoreTx(r: CompiledRule, rec: AppRecord): void {
    const fs = r.filestore!;
    if (fs.flow) {
      this.storeFlow![rec.slot]! |= fs.bits;
      this.addStoreSid(rec.slot, r.sid, fs.bits);
    }
    if (rec.kind !== 'http' && rec.kind !== 'smtp') return;
    rec.fileStore = (rec.fileStore ?? 0) | fs.bits;
    const by = (rec.fileStoreRules ??= []);
    if (!by.some((x) => x.sid === r.sid)) by.push({ sid: r.sid, bits: fs.bits });
  }

  /** Marks from earlier matches on the flow (ssn/flow scope, packet rules) onto a finished transaction. */
  private applyStoreMarks(rec: AppRecord): void {
    const slot = rec.slot;
    const bits = this.storeFlow![slot]! | this.storeNext![slot]!;
    if (bits === 0 || (rec.kind !== 'http' && rec.kind !== 'smtp')) return;
    this.storeNext![slot] = 0;
    rec.fileStore = (rec.fileStore ?? 0) | bits;
    const by = (rec.fileStoreRules ??= []);
    for (const x of this.storeSids.get(slot) ?? []) if (!by.some((y) => y.sid === x.sid)) by.push(x);
  }

  /**
   * Run transaction rules on an application-layer record (each side it has). Suricata in IDS mode
   * hands TCP data to the app layer once the peer acknowledges it and inspects a transaction's
   * to-server side on to-server packets, its to-client side on to-client packets. So a TCP record
   * that the current packet's data completed waits: it is parsed on the flow's next packet in the
   * other direction (or one carrying RST or FIN), and each side is inspected on the first packet
   * of its direction from then on; at flow end what is left is inspected. Alerts then carry that
   * packet's pcap_cnt, flow counters and frame, as Suricata's do. With `filestore` rules records
   * are inspected at once: the file store reads their marks as soon as the record is handed on.
   */
  tx(rec: AppRecord, pcapCnt = 0): void {
    // A request handed over early (txRequest) has had its side queued: only the response is left.
    this.queueTx(rec, pcapCnt, rec.kind === 'http' && this.requestSeen.has(rec.tx) ? 2 : 3);
  }

  /**
   * An HTTP request complete before its transaction ends: its to-server side is inspected from now
   * on (on the first to-server packet after the server acknowledged it, as for whole records), so a
   * request alerts while the response is still coming, as in Suricata; the finished record later
   * brings the to-client side. With `filestore` rules the whole record is inspected at the end (the
   * file store reads the marks that record carries).
   */
  txRequest(rec: HttpRecord, pcapCnt = 0): void {
    if (this.storeFlow !== null) return;
    this.requestSeen.add(rec.tx);
    this.queueTx(rec, pcapCnt, 1);
  }

  /** Inspect `sides` of `rec` now, or queue them for the packets that acknowledge its data (see tx). */
  private queueTx(rec: AppRecord, pcapCnt: number, sides: number): void {
    const dec = this.curDec;
    const slot = rec.slot;
    if (dec !== null && slot >= 0 && dec.flowSlot[this.curI] === slot) {
      this.flushTxDue(slot, dec, this.curI, pcapCnt);
      if (this.storeFlow === null && rec.flow.proto === 6 && (dec.tcpFlags[this.curI]! & TCP_FLAG.RST) === 0) {
        let q = this.pendingTx.get(slot);
        if (q === undefined) this.pendingTx.set(slot, (q = []));
        q.push({ rec, dataDir: dec.flowDir[this.curI]! & 1, parsed: false, sides, pcapCnt });
        // Bounded: a one-sided capture never acknowledges; the oldest is inspected here.
        if (q.length > MAX_PENDING_TX) {
          const old = q.shift()!;
          this.inspectTx(old.rec, pcapCnt, old.sides);
        }
        return;
      }
    } else if (slot >= 0 && this.pendingTx.has(slot)) this.flushTx(slot);
    this.inspectTx(rec, pcapCnt, sides);
  }

  /** Packet i of the flow in `slot`: parse the waiting records it acknowledges, inspect the sides now due. */
  private flushTxDue(slot: number, dec: DecodedBatch, i: number, pcapCnt: number): void {
    const q = this.pendingTx.get(slot);
    if (q === undefined) return;
    const dir = dec.flowDir[i]! & 1;
    const ends = (dec.tcpFlags[i]! & (TCP_FLAG.RST | TCP_FLAG.FIN)) !== 0;
    let kept = 0;
    for (let k = 0; k < q.length; k++) {
      const e = q[k]!;
      if (!e.parsed && (dir !== e.dataDir || ends)) e.parsed = true;
      if (e.parsed && (e.sides & (1 << dir)) !== 0) {
        e.sides &= ~(1 << dir);
        this.inspectTx(e.rec, pcapCnt, 1 << dir);
      }
      if (e.sides !== 0) q[kept++] = e;
    }
    q.length = kept;
    if (kept === 0) this.pendingTx.delete(slot);
  }

  /** Inspect every side still waiting on `slot`, oldest record first. */
  private flushTx(slot: number): void {
    const q = this.pendingTx.get(slot);
    if (q === undefined) return;
    this.pendingTx.delete(slot);
    for (const e of q) this.inspectTx(e.rec, e.pcapCnt, e.sides);
  }

  /** Transaction rules on the sides of `rec` in `sides` (bit 0 to server, bit 1 to client). */
  private inspectTx(rec: AppRecord, pcapCnt: number, sides: number): void {
    if (this.storeFlow !== null) this.applyStoreMarks(rec);
    switch (rec.kind) {
      case 'http':
        if ((sides & 1) !== 0) this.txSide(rec, 'http', 0, pcapCnt);
        if ((sides & 2) !== 0 && rec.tx.responseStarted) this.txSide(rec, 'http', 1, pcapCnt);
        return;
      case 'dns': {
        const side = rec.msg.flags.qr ? 1 : 0;
        if ((sides & (1 << side)) !== 0) this.txSide(rec, 'dns', side, pcapCnt);
        return;
      }
      case 'smtp':
        // A mail goes to the server: its rules (file.data, the attachments) have that side only.
        if ((sides & 1) !== 0) this.txSide(rec, 'smtp', 0, pcapCnt);
        return;
      case 'tls':
      case 'ssh':
        if ((sides & 1) !== 0) this.txSide(rec, rec.kind, 0, pcapCnt);
        if ((sides & 2) !== 0) this.txSide(rec, rec.kind, 1, pcapCnt);
        return;
      default:
        return;
    }
  }

  /**
   * txBuffers with the transforms applied, cached for the transaction side being inspected
   * (txSide clears the cache). Callers must not modify the buffers.
   */
  private txView(rec: AppRecord, name: string, transforms: BufferProg['transforms'], side: number): Buffer[] | null {
    let raw = this.txRaw.get(name);
    if (raw === undefined) {
      raw = { stamp: -1, val: null };
      this.txRaw.set(name, raw);
    }
    if (raw.stamp !== this.txStamp) {
      raw.val = this.txBuffers(rec, name, side);
      raw.stamp = this.txStamp;
    }
    const bufs = raw.val;
    if (bufs === null || transforms.length === 0) return bufs;
    let byName = this.txXf.get(transforms);
    if (byName === undefined) {
      byName = new Map();
      this.txXf.set(transforms, byName);
    }
    let xf = byName.get(name);
    if (xf === undefined) {
      xf = { stamp: -1, val: null };
      byName.set(name, xf);
    }
    if (xf.stamp !== this.txStamp) {
      const v = new Array<Buffer>(bufs.length);
      for (let k = 0; k < bufs.length; k++) v[k] = applyTransforms(bufs[k]!, transforms);
      xf.val = v;
      xf.stamp = this.txStamp;
    }
    return xf.val;
  }

  /** The buffer values of a record for one side (several for multi buffers), null when absent. */
  private txBuffers(rec: AppRecord, name: string, side: number): Buffer[] | null {
    const ts = side === 0;
    switch (rec.kind) {
      case 'http': {
        if (name === 'payload') {
          // The rebuilt message starts with http.start's bytes: reuse the side's cached ones.
          const head = this.txView(rec, 'http.start', NO_TRANSFORMS, side);
          return head === null ? null : [httpMessage(head[0]!, rec.tx, ts)];
        }
        const b = httpBuffer(rec.tx, name, ts);
        return b === null ? null : [b];
      }
      case 'dns': {
        if (name !== 'dns.query' || rec.msg.flags.qr) return null;
        const q = rec.msg.questions.map((x) => Buffer.from(x.name, 'latin1'));
        return q.length === 0 ? null : q;
      }
      case 'tls': {
        const info = rec.info;
        const str = (v: string | undefined): Buffer[] | null =>
          v !== undefined && v !== '' ? [Buffer.from(v, 'latin1')] : null;
        const cert = info.cert;
        switch (name) {
          case 'tls.sni':
            return ts ? str(info.sni) : null;
          case 'ja3.hash':
            return ts ? str(info.ja3Hash) : null;
          case 'ja3.string':
            return ts ? str(info.ja3) : null;
          case 'ja3s.hash':
            return ts ? null : str(info.ja3sHash);
          case 'tls.cert_subject':
            return ts || cert === null ? null : str(cert.subject);
          case 'tls.cert_issuer':
            return ts || cert === null ? null : str(cert.issuer);
          case 'tls.cert_serial':
            return ts || cert === null ? null : str(cert.serial);
          case 'tls.certs':
            // A multi buffer: each certificate of the server's chain, DER bytes.
            return ts || info.certs.length === 0 ? null : info.certs;
          default:
            return null;
        }
      }
      case 'smtp': {
        // Each attachment's decoded bytes, as kept (Suricata's SMTP files: the attachments).
        if (name !== 'file.data' || !ts) return null;
        const atts = rec.tx.attachments;
        const out: Buffer[] = [];
        for (const a of atts)
          if (a.data.length > 0) out.push(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.length));
        return out.length === 0 ? null : out;
      }
      case 'ssh': {
        const b = ts ? rec.conn.client : rec.conn.server;
        if (b === null) return null;
        if (name === 'ssh.proto') return [Buffer.from(b.protoVersion, 'latin1')];
        if (name === 'ssh.software') return [Buffer.from(b.softwareVersion, 'latin1')];
        return null;
      }
      default:
        return null;
    }
  }

  private txSide(rec: AppRecord, scope: string, side: number, pcapCnt: number): void {
    if (this.passed[rec.slot] === 1) return;
    const g = this.txGroups.get(scope)?.[side];
    if (g === undefined) return;
    this.txStamp++;
    const cand = this.cand;
    let nc: number;
    if (g.prefilters.length === 0) {
      for (let k = 0; k < g.always.length; k++) cand[k] = g.always[k]!;
      nc = g.always.length;
    } else {
      let nHits = 0;
      const hits = this.hits;
      const out = this.txOut;
      // HTTP: the start-line and header parts in one scan of http.start, when it holds them all.
      let merged = false;
      if (g.start !== null && rec.kind === 'http') {
        const sb = this.txView(rec, 'http.start', NO_TRANSFORMS, side);
        if (sb !== null && !repeatedName(side === 0 ? rec.tx.requestHeaders : rec.tx.responseHeaders)) {
          const b = sb[0]!;
          const n = g.start.mpm.scan(b, 0, b.length, out, this.seen, this.nextGen(), MPM_COLD_QUAD_MIN);
          for (let x = 0; x < n; x++) hits[x] = g.start.patRule[out[x]!]!;
          nHits = n;
          merged = true;
        }
      }
      for (const p of g.prefilters) {
        if (merged && p.inStart) continue;
        const bufs = this.txView(rec, p.buffer, p.transforms, side);
        if (bufs === null) continue;
        for (let k = 0; k < bufs.length; k++) {
          const b = bufs[k]!;
          // Pattern ids are per automaton: a fresh generation per scan keeps them apart.
          const n = p.mpm.scan(b, 0, b.length, out, this.seen, this.nextGen(), MPM_COLD_QUAD_MIN);
          for (let x = 0; x < n; x++) hits[nHits + x] = p.patRule[out[x]!]!;
          nHits += n;
          if (nHits > 4 * this.rules.length + 512) nHits = uniqueSorted(hits, nHits);
        }
      }
      // Hits are already rule ids here; merge with the always list.
      nc = this.mergeAlways(g.always, nHits);
    }
    if (this.env.exhaustive === true) {
      nc = 0;
      for (const r of this.rules)
        if (
          (r.scope === scope || (scope === 'smtp' && r.smtpFiles)) &&
          (BUFFER_SIDE[r.txDir] & (side === 0 ? 1 : 2)) !== 0
        )
          cand[nc++] = r.id;
    }
    if (nc === 0) return;
    const t = rec.flow;
    const tuple = orient(t, side);
    const v6 = t.srcIp.includes(':');
    // The tuple's addresses as words, once; candidates' header checks read them from this.words.
    if (!parseInto(tuple.srcIp, this.words, 0) || !parseInto(tuple.dstIp, this.words, 4)) return;
    for (let k = 0; k < nc; k++) {
      const r = this.rules[cand[k]!]!;
      this.evaluated++;
      if (!this.matchTx(r, rec, side, tuple, v6)) continue;
      if (!this.postMatch(r, rec.slot, rec.tsUs, null, 0, { src: tuple.srcIp, dst: tuple.dstIp, flowId: t.flowId }))
        continue;
      if (r.filestore !== null) this.markStoreTx(r, rec);
      if (r.action === 'pass') {
        this.passed[rec.slot] = 1;
        break;
      }
      if (r.noalert) continue;
      if (
        r.suppress.length > 0 &&
        parseInto(tuple.srcIp, this.words, 0) &&
        parseInto(tuple.dstIp, this.words, 4) &&
        this.suppressed(r, v6)
      )
        continue;
      this.env.markAlerted(rec.slot);
      this.alertCount++;
      this.env.onAlert({
        kind: 'alert',
        tsUs: rec.tsUs,
        pcapCnt,
        flowId: t.flowId,
        srcIp: tuple.srcIp,
        dstIp: tuple.dstIp,
        srcPort: tuple.srcPort,
        dstPort: tuple.dstPort,
        proto: t.proto,
        ipVer: v6 ? 6 : 4,
        direction: side === 0 ? 'to_server' : 'to_client',
        appProto: rec.kind,
        ...ruleFields(r),
        tx: rec,
        ...this.captures(),
        flow: this.countersAt(rec.slot, this.curPkts, this.curDec, this.curI),
        ...(this.slotVlan[rec.slot]! > 0 ? { vlan: vlanList(this.slotVlan[rec.slot]!) } : {}),
        ...(this.curPkts !== null && this.curDec !== null ? this.captured(this.curPkts, this.curDec, this.curI) : {}),
      });
    }
  }

  private matchTx(r: CompiledRule, rec: AppRecord, side: number, t: FlowTuple, v6: boolean): boolean {
    if (r.proto !== 0 && r.proto !== t.proto) return false;
    // this.words holds the tuple's addresses (parsed once per side in txSide).
    if (!this.headerMatch(r, v6, this.words, t.srcPort, t.dstPort, true)) return false;
    const f = r.flow;
    if (f & FLOW_TO_SERVER && side !== 0) return false;
    if (f & FLOW_TO_CLIENT && side !== 1) return false;
    // A transaction on TCP implies an established session; a UDP query is the flow's first packet.
    const est = t.proto === 6 || side === 1;
    if (f & FLOW_ESTABLISHED && !est) return false;
    if (f & FLOW_NOT_ESTABLISHED && est) return false;
    if (!this.flowbitsOk(r, rec.slot)) return false;
    if (!this.flowintsOk(r, rec.slot)) return false;
    if (r.xbits.length > 0 && !this.xbitsOk(r, null, 0, rec.tsUs, { src: t.srcIp, dst: t.dstIp })) return false;
    if (r.tlsVersions.length > 0) {
      if (rec.kind !== 'tls') return false;
      const info = rec.info;
      const ver = side === 0 ? info.clientVersion : info.version >= 0 ? info.version : info.serverVersion;
      if (!r.tlsVersions.includes(ver)) return false;
    }
    for (const c of r.sshChecks) {
      const b = this.txView(rec, c.field === 'proto' ? 'ssh.proto' : 'ssh.software', NO_TRANSFORMS, side);
      if (b === null) return false;
      const s = b[0]!.toString('latin1');
      if (
        c.field === 'proto'
          ? !(s === c.value || (c.value === '2_compat' && (s === '2.0' || s === '1.99')))
          : !s.startsWith(c.value)
      )
        return false;
    }
    const st = this.st;
    st.reset();
    for (const g of r.progs) {
      if (g.buffer === 'base64_data') {
        if (st.b64 === null || !inspect(g.ops, 0, st.b64, 0, st)) return false;
        continue;
      }
      const bufs = this.txView(rec, g.buffer, g.transforms, side);
      if (bufs === null) return false;
      let any = false;
      for (const b of bufs) {
        if (st.vars.size !== 0) st.vars.clear();
        st.steps = 0;
        if (inspect(g.ops, 0, b, 0, st)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    return true;
  }
}

function ruleFields(
  r: CompiledRule,
): Pick<
  AlertRecord,
  'action' | 'gid' | 'sid' | 'rev' | 'msg' | 'classtype' | 'category' | 'severity' | 'metadata' | 'target'
> {
  return {
    action: r.action,
    gid: r.gid,
    sid: r.sid,
    rev: r.rev,
    msg: r.msg,
    classtype: r.classtype,
    category: r.category,
    severity: r.priority,
    metadata: r.metadata,
    target: r.target,
  };
}

const NO_TRANSFORMS: BufferProg['transforms'] = [];
/** A cached transaction buffer (Detector.txView): valid while stamp is the current side's. */
interface TxSlot {
  stamp: number;
  val: Buffer[] | null;
}

/**
 * The buffer a transaction prefilter scans: the request / response body under its other names,
 * so that rules on `file.data` and on `http.request_body` / `http.response_body` share one
 * automaton and the body is scanned once (httpBuffer returns the same bytes for each).
 */
function prefilterBuffer(name: string, side: number): string {
  if (side === 0 && name === 'http.request_body') return 'file.data';
  if (side === 1 && name === 'http.response_body') return 'file.data';
  return name;
}

/** Does a header name occur twice (ASCII case-insensitive)? Then header values are joined. */
function repeatedName(headers: readonly [string, string][]): boolean {
  for (let a = 1; a < headers.length; a++) {
    const x = headers[a]![0];
    for (let b = 0; b < a; b++) {
      const y = headers[b]![0];
      if (x.length !== y.length) continue;
      let k = 0;
      while (k < x.length && (x.charCodeAt(k) | 0x20) === (y.charCodeAt(k) | 0x20)) k++;
      if (k === x.length) return true;
    }
  }
  return false;
}

/** The automaton of a port group: pattern k is the fast pattern of rule patRule[k]. */
function buildPortMpm(rules: readonly CompiledRule[], patRule: Int32Array): Mpm {
  const b = new MpmBuilder();
  for (let k = 0; k < patRule.length; k++) b.add(rules[patRule[k]!]!.fast!.pat.subarray(0, 255), k);
  return b.build();
}

/** The rule's fast pattern is in the packet payload, untransformed (it joins the payload automatons). */
function payloadFastPattern(r: CompiledRule): boolean {
  const fp = r.fast;
  return fp !== null && r.progs[fp.prog]!.buffer === 'payload' && r.progs[fp.prog]!.transforms.length === 0;
}

/** Is v among a[0, n)? */
function indexOf(a: Int32Array, n: number, v: number): boolean {
  for (let k = 0; k < n; k++) if (a[k] === v) return true;
  return false;
}

/** Stream bytes kept per flow direction for matches spanning segments. */
const TAIL = 256;
/** Bytes on each side of a segment boundary scanned for spanning fast patterns (longer patterns are not seen spanning). */
const SEAM = 64;

/** Sort a[0, n) ascending without allocating: insertion sort for the usual few hits. */
function sortInPlace(a: Int32Array, n: number): void {
  if (n > 32) {
    a.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/** Sort hits[0, n) and drop duplicates in place; returns the new length. */
function uniqueSorted(hits: Int32Array, n: number): number {
  sortInPlace(hits, n);
  const h = hits;
  let m = 0;
  for (let k = 0; k < n; k++) if (m === 0 || h[m - 1] !== h[k]) h[m++] = h[k]!;
  return m;
}

/**
 * A packet rule whose app-layer part is its header protocol alone (`alert http`, no buffer or
 * payload inspection): it matches once the flow's protocol is known (Detector.updateAppSeen).
 */
function protoOnly(r: CompiledRule): boolean {
  return r.scope === 'pkt' && r.appProtos !== null && r.progs.length === 0;
}

/** DecodedBatch.vlan (outer << 12 | inner) as EVE's list, outer first. */
function vlanList(v: number): number[] {
  const outer = v >>> 12;
  const inner = v & 0xfff;
  return outer !== 0 ? [outer, inner] : [inner];
}

function appProtoName(p: string): string {
  return p === '' ? '' : p;
}

function orient(t: FlowTuple, side: number): FlowTuple {
  return side === 0 ? t : { ...t, srcIp: t.dstIp, dstIp: t.srcIp, srcPort: t.dstPort, dstPort: t.srcPort };
}

/**
 * Parse a formatted address into 4 words at `o`; false when it is not an address. IPv4 (dotted
 * decimal, as Vigil formats it) is read character by character: split and Number made garbage
 * twice per inspected transaction side (7 % of transaction time with ET Open).
 */
function parseInto(ip: string, w: Uint32Array, o: number): boolean {
  if (!ip.includes(':')) {
    let acc = 0;
    let part = 0;
    let digits = 0;
    let dots = 0;
    for (let k = 0; k < ip.length; k++) {
      const c = ip.charCodeAt(k);
      if (c === 46) {
        if (digits === 0 || ++dots > 3) return false;
        acc = (acc << 8) | part;
        part = 0;
        digits = 0;
      } else if (c >= 48 && c <= 57 && digits < 3) {
        part = part * 10 + (c - 48);
        if (part > 255) return false;
        digits++;
      } else return false;
    }
    if (dots !== 3 || digits === 0) return false;
    w[o] = ((acc << 8) | part) >>> 0;
    w[o + 1] = 0;
    w[o + 2] = 0;
    w[o + 3] = 0;
    return true;
  }
  const halves = ip.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length > 1 && halves[1] !== '' ? halves[1]!.split(':') : [];
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  if (groups.length !== 8) return false;
  for (let k = 0; k < 4; k++)
    w[o + k] = ((parseInt(groups[2 * k]!, 16) << 16) | parseInt(groups[2 * k + 1]!, 16)) >>> 0;
  return true;
}

/** Detector.flagOk: per rule, which TCP flags bytes pass all its `flags` checks; null if none has one. */
function flagMasks(rules: readonly CompiledRule[]): Uint32Array | null {
  if (!rules.some((r) => r.checks.some((c) => c.k === 'flags'))) return null;
  const out = new Uint32Array(rules.length * 8).fill(0xffffffff);
  for (const r of rules) {
    const fc = r.checks.filter((c) => c.k === 'flags');
    if (fc.length === 0) continue;
    for (let f = 0; f < 256; f++)
      if (!fc.every((c) => flagTest(c.modifier, f & ~c.ignored & 0xff, c.bits)))
        out[r.id * 8 + (f >>> 5)]! &= ~(1 << (f & 31));
  }
  return out;
}

function flagTest(modifier: string, have: number, want: number): boolean {
  switch (modifier) {
    case '+':
      return (have & want) === want;
    case '*':
      return want === 0 ? true : (have & want) !== 0;
    case '!':
      return (have & want) === 0;
    default:
      return have === want;
  }
}

function compareStream(op: string, x: number, v: number): boolean {
  switch (op) {
    case '>':
      return x > v;
    case '<':
      return x < v;
    case '=':
      return x === v;
    case '!=':
      return x !== v;
    case '>=':
      return x >= v;
    case '<=':
      return x <= v;
    default:
      return false;
  }
}

const IPOPT_CODES: Record<string, number> = {
  eol: 0,
  nop: 1,
  rr: 7,
  ts: 68,
  sec: 130,
  esec: 133,
  lsrr: 131,
  ssrr: 137,
  satid: 136,
};

function hasIpOption(buf: Uint8Array, dec: DecodedBatch, i: number, opt: string): boolean {
  if (dec.ipVer[i] !== 4) return false;
  const l3 = dec.l3Off[i]!;
  const hl = dec.ipHdrLen[i]!;
  let p = l3 + 20;
  const end = l3 + hl;
  while (p < end) {
    const t = buf[p]!;
    if (opt === 'any' || IPOPT_CODES[opt] === t) return true;
    if (t === 0) break;
    if (t === 1) {
      p++;
      continue;
    }
    const l = buf[p + 1] ?? 0;
    if (l < 2) break;
    p += l;
  }
  return false;
}
