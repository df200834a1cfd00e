/**
 * Bounded TCP stream reassembly, per flow slot and direction (docs/stream.md).
 *
 * Runs right after `FlowTable.process(pkts, dec)`, which sets `dec.flowSlot`/`dec.flowDir`. State
 * lives in typed arrays indexed by `slot * 2 + dir`. In-order payload is handed to `onData` straight
 * from the packet buffer (no copy, no allocation); only segments that arrive ahead of the next
 * expected sequence number are copied, into a bounded set of buffered segments (per-direction
 * `maxSegments`, global `memcap`). Overlaps keep the bytes seen first; differing overlapping bytes
 * raise `stream.reassembly_overlap_different_data`. Holes are skipped (with
 * `stream.reassembly_seq_gap`) when the peer acknowledges beyond them, when the snaplen cut a
 * segment, or when the flow is released with data buffered beyond a hole. Each direction stops
 * after `depth` bytes of stream.
 *
 * Sequence numbers are compared with `(a - b) | 0`, so they wrap at 2^32 (RFC 793 section 3.3).
 */
import type { PacketBatch } from '../capture/batch.js';
import { TCP_FLAG } from '../decode/batch.js';
import type { DecodedBatch } from '../decode/batch.js';

export interface StreamOptions {
  /** Bytes of stream per direction to reassemble (default 1 MiB, Suricata's stream.reassembly.depth); 0 = unlimited. */
  depth?: number;
  /** Bytes of buffered out-of-order segments across all flows, each counted with SEGMENT_OVERHEAD (default 64 MiB). */
  memcap?: number;
  /** Buffered out-of-order segments per direction (default 1024). */
  maxSegments?: number;
  /** Pick up streams without a seen handshake (default false, like Suricata's stream.midstream). */
  midstream?: boolean;
  /** Flow slots: FlowTable `maxFlows` + its spare slots (every `dec.flowSlot` value must be below it). */
  maxFlows: number;
}

/**
 * In-order stream bytes `buf[off, off + len)` of direction `dir` (0 client->server) of the flow in
 * `slot`, starting at `streamOffset` (bytes since the stream start, holes included). Each byte is
 * delivered once. `buf` is the packet buffer or a buffered segment: valid during the call only.
 */
export type StreamDataHandler = (
  slot: number,
  dir: number,
  buf: Uint8Array,
  off: number,
  len: number,
  streamOffset: number,
) => void;

/** A stream event (id in STREAM_EVENT) on direction `dir` of the flow in `slot`. */
export type StreamEventHandler = (slot: number, dir: number, event: number) => void;

/** Default `StreamOptions.depth`: Suricata's stream.reassembly.depth (1 MiB). */
export const DEFAULT_STREAM_DEPTH = 1024 * 1024;
/** Default `StreamOptions.memcap` (64 MiB). */
export const DEFAULT_STREAM_MEMCAP = 64 * 1024 * 1024;
/** Default `StreamOptions.maxSegments` per direction. */
export const DEFAULT_STREAM_MAX_SEGMENTS = 1024;
/** Bytes charged against the memcap per buffered segment on top of its data (record + Buffer header). */
export const SEGMENT_OVERHEAD = 64;
/**
 * Segments starting this far or more ahead of the next expected byte are dropped as out of window:
 * 2^30 is the largest window RFC 7323 window scaling allows.
 */
/** SYN data kept for TCP Fast Open at most (a SYN carries at most an MSS). */
const MAX_SYN_DATA = 65535;
const MAX_AHEAD = 0x40000000;

const DEFS = {
  /** Overlapping bytes differ from the bytes seen first (evasion signal); the first ones are kept. */
  OVERLAP_DIFFERENT_DATA: 'stream.reassembly_overlap_different_data',
  /** A hole in the stream was skipped (capture loss, ACK of unseen data, snaplen cut, release with pending data). */
  SEQ_GAP: 'stream.reassembly_seq_gap',
  /** The direction reached the reassembly depth; nothing further is delivered. */
  DEPTH_REACHED: 'stream.reassembly_depth_reached',
  /** A segment was dropped because the direction holds `maxSegments` buffered segments. */
  INSERT_LIMIT: 'stream.reassembly_insert_limit',
  /** A segment was dropped because buffered segments across flows reached the memcap. */
  INSERT_MEMCAP: 'stream.reassembly_insert_memcap',
  /** A segment starts 2^30 or more bytes ahead of the next expected byte (dropped). */
  OUT_OF_WINDOW: 'stream.est_packet_out_of_window',
  /** A SYN with another sequence number on a direction that already carried data (ignored). */
  SYN_RESEND_DIFF_SEQ: 'stream.est_syn_resend_diff_seq',
  /** A SYN-ACK acknowledges something other than the client's ISN + 1. */
  SYNACK_WITH_WRONG_ACK: 'stream.3whs_synack_with_wrong_ack',
  /** A RST carried data (not delivered). */
  RST_WITH_DATA: 'stream.rst_with_data',
} as const;

export type StreamEventKey = keyof typeof DEFS;

/** Event names; the index is the event id. */
export const STREAM_EVENT_NAMES: readonly string[] = Object.freeze(Object.values(DEFS));

/** Event ids, e.g. `STREAM_EVENT.SEQ_GAP`, indexing `StreamReassembler.events` and `STREAM_EVENT_NAMES`. */
export const STREAM_EVENT: { readonly [K in StreamEventKey]: number } = (() => {
  const ids = {} as Record<StreamEventKey, number>;
  let n = 0;
  for (const k of Object.keys(DEFS) as StreamEventKey[]) ids[k] = n++;
  return Object.freeze(ids);
})();

const EV_OVERLAP = STREAM_EVENT.OVERLAP_DIFFERENT_DATA;
const EV_GAP = STREAM_EVENT.SEQ_GAP;
const EV_DEPTH = STREAM_EVENT.DEPTH_REACHED;
const EV_LIMIT = STREAM_EVENT.INSERT_LIMIT;
const EV_MEMCAP = STREAM_EVENT.INSERT_MEMCAP;
const EV_WINDOW = STREAM_EVENT.OUT_OF_WINDOW;
const EV_SYN_DIFF = STREAM_EVENT.SYN_RESEND_DIFF_SEQ;
const EV_SYNACK_ACK = STREAM_EVENT.SYNACK_WITH_WRONG_ACK;
const EV_RST_DATA = STREAM_EVENT.RST_WITH_DATA;

// Per-direction state bits (`st`).
/** The stream start is known (SYN / SYN-ACK seen, or midstream pick-up). */
const S_STARTED = 1;
/** Depth reached: the direction is no longer tracked. */
const S_DONE = 2;
/** The start came from a SYN or SYN-ACK. */
const S_SYN = 4;
/** A hole was skipped at least once. */
const S_GAP = 8;

const SYN = TCP_FLAG.SYN;
const ACK = TCP_FLAG.ACK;
const FIN = TCP_FLAG.FIN;
const RST = TCP_FLAG.RST;

const EMPTY = Buffer.alloc(0);
const INITIAL_SEGMENTS = 256;

export class StreamReassembler {
  /** Per-event counters, indexed by STREAM_EVENT ids. */
  readonly events: Uint32Array;
  readonly maxFlows: number;
  private readonly depth: number;
  private readonly memcap: number;
  private readonly maxSegments: number;
  private readonly midstream: boolean;
  private readonly onData: StreamDataHandler;
  /** Capture time of the packet being processed, readable by the handlers (no per-call argument). */
  tsUs = 0;
  private readonly onEvent: StreamEventHandler | null;

  // Per direction (slot * 2 + dir).
  private readonly st: Uint8Array;
  /** Sequence number of stream offset 0 (ISN + 1, or the first picked-up byte). */
  private readonly base: Uint32Array;
  /** Next expected sequence number. */
  private readonly nxt: Uint32Array;
  /** Stream offset of `nxt` (delivered bytes + skipped hole bytes). */
  private readonly soff: Float64Array;
  /** First buffered segment (ordered by sequence number, non-overlapping), -1 none. */
  private readonly head: Int32Array;
  private readonly nseg: Int32Array;

  // Buffered segments: a pool of records, grown by doubling (bounded by memcap / SEGMENT_OVERHEAD).
  private segSeq: Uint32Array;
  private segLen: Int32Array;
  private segNext: Int32Array;
  private segFin: Uint8Array;
  private segData: Buffer[];
  private segFree = -1;
  private segCap = 0;

  private memuse = 0;
  private memuseMax = 0;
  private segments = 0;

  // Counters.
  private nPackets = 0;
  private nNoHandshake = 0;
  private nPickups = 0;
  private nDelivered = 0;
  private nRetrans = 0;
  private nOverlap = 0;
  private nBuffered = 0;
  private nGapBytes = 0;
  private nBeyondDepth = 0;
  private nSynData = 0;
  /** Data carried by a SYN, per slot*2+dir, until the SYN-ACK says whether it was accepted. */
  private readonly synData = new Map<number, Buffer>();
  private nBadSlot = 0;
  private nReleased = 0;

  constructor(opts: StreamOptions, onData: StreamDataHandler, onEvent?: StreamEventHandler) {
    this.maxFlows = Math.max(1, Math.floor(opts.maxFlows));
    this.depth = Math.max(0, Math.floor(opts.depth ?? DEFAULT_STREAM_DEPTH));
    this.memcap = Math.max(0, Math.floor(opts.memcap ?? DEFAULT_STREAM_MEMCAP));
    this.maxSegments = Math.max(0, Math.floor(opts.maxSegments ?? DEFAULT_STREAM_MAX_SEGMENTS));
    this.midstream = opts.midstream === true;
    this.onData = onData;
    this.onEvent = onEvent ?? null;
    this.events = new Uint32Array(STREAM_EVENT_NAMES.length);
    const n = this.maxFlows * 2;
    this.st = new Uint8Array(n);
    this.base = new Uint32Array(n);
    this.nxt = new Uint32Array(n);
    this.soff = new Float64Array(n);
    this.head = new Int32Array(n).fill(-1);
    this.nseg = new Int32Array(n);
    this.segSeq = new Uint32Array(0);
    this.segLen = new Int32Array(0);
    this.segNext = new Int32Array(0);
    this.segFin = new Uint8Array(0);
    this.segData = [];
    this.growSegments();
  }

  /** Event counts by name (every event, zeros included). */
  eventCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let k = 0; k < STREAM_EVENT_NAMES.length; k++) out[STREAM_EVENT_NAMES[k]!] = this.events[k]!;
    return out;
  }

  stats(): Record<string, number> {
    return {
      packets: this.nPackets,
      no_handshake_ignored: this.nNoHandshake,
      midstream_pickups: this.nPickups,
      delivered_bytes: this.nDelivered,
      retransmissions: this.nRetrans,
      overlap: this.nOverlap,
      overlap_diff_data: this.events[EV_OVERLAP]!,
      segments_buffered: this.nBuffered,
      segments: this.segments,
      reassembly_memuse: this.memuse,
      reassembly_memuse_max: this.memuseMax,
      reassembly_gap: this.events[EV_GAP]!,
      gap_bytes: this.nGapBytes,
      stream_depth_reached: this.events[EV_DEPTH]!,
      beyond_depth: this.nBeyondDepth,
      segment_limit_drop: this.events[EV_LIMIT]!,
      segment_memcap_drop: this.events[EV_MEMCAP]!,
      out_of_window: this.events[EV_WINDOW]!,
      syn_data_ignored: this.nSynData,
      bad_slot: this.nBadSlot,
      released: this.nReleased,
    };
  }

  /** Stream offset of the next expected byte of `dir` in `slot` (bytes delivered + holes skipped). */
  streamOffset(slot: number, dir: number): number {
    return this.soff[slot * 2 + (dir & 1)]!;
  }

  /** Whether a hole was skipped in direction `dir` of `slot`. */
  hadGap(slot: number, dir: number): boolean {
    return (this.st[slot * 2 + (dir & 1)]! & S_GAP) !== 0;
  }

  /** Reassemble every TCP packet of the batch with `dec.flowSlot[i] >= 0`. */
  process(pkts: PacketBatch, dec: DecodedBatch): void {
    const count = dec.count;
    for (let i = 0; i < count; i++) this.processPacket(pkts, dec, i);
  }

  /** One packet of a batch (the detector's per-packet path runs stages packet by packet). */
  processPacket(pkts: PacketBatch, dec: DecodedBatch, i: number): void {
    const proto = dec.proto;
    const slots = dec.flowSlot;
    const st = this.st;
    const nxt = this.nxt;
    if (proto[i] !== 6) return;
    const slot = slots[i]!;
    if (slot < 0) return;
    if (slot >= this.maxFlows) {
      this.nBadSlot++;
      return;
    }
    this.nPackets++;
    this.tsUs = pkts.tsUs[i]!;
    const dir = dec.flowDir[i]! & 1;
    const d = slot * 2 + dir;
    const o = d ^ 1;
    const flags = dec.tcpFlags[i]!;
    const seq = dec.tcpSeq[i]!;
    const cap = dec.payLen[i]! > 0 ? dec.payLen[i]! : 0;

    if ((flags & SYN) !== 0) {
      const ack = dec.tcpAck[i]!;
      // TCP Fast Open: data on a SYN joins the stream once the SYN-ACK acknowledges it.
      const pend = (flags & ACK) !== 0 ? this.synData.get(o) : undefined;
      if (pend !== undefined) this.synData.delete(o);
      const tfo = pend !== undefined && ack === (this.base[o]! + pend.length) >>> 0;
      this.syn(slot, dir, d, o, flags, seq, tfo ? this.base[o]! : ack);
      if (cap > 0) {
        this.nSynData++;
        if ((flags & ACK) === 0 && cap <= MAX_SYN_DATA) {
          const src = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
          this.synData.set(d, Buffer.from(src.subarray(dec.payOff[i]!, dec.payOff[i]! + cap)));
          // Inspected as stream data now (Suricata keeps it unless the SYN-ACK refuses it).
          dec.inStream[i] = 1;
        }
      }
      if (tfo && (this.st[o]! & S_DONE) === 0 && this.nxt[o] === this.base[o]) {
        if (!this.deliver(slot, dir ^ 1, o, pend, 0, pend.length)) this.nxt[o] = ack;
      }
      return;
    }
    // The peer acknowledging bytes of direction o that were never seen: skip the hole.
    if ((flags & ACK) !== 0 && (st[o]! & (S_STARTED | S_DONE)) === S_STARTED) {
      const rel = (dec.tcpAck[i]! - nxt[o]!) | 0;
      if (rel > 0 && rel < MAX_AHEAD && this.ready(o)) this.ackGap(slot, dir ^ 1, o, dec.tcpAck[i]!);
    }
    if ((flags & RST) !== 0) {
      if (cap > 0) this.emit(slot, dir, EV_RST_DATA);
      return;
    }
    let wire = dec.ipLen[i]! - dec.ipHdrLen[i]! - dec.l4HdrLen[i]!;
    if (wire < cap) wire = cap;
    const fin = flags & FIN;
    if (wire === 0 && fin === 0) return;

    let s = st[d]!;
    if ((s & S_STARTED) === 0) {
      if (!this.midstream) {
        this.nNoHandshake++;
        return;
      }
      // Midstream pick-up: this segment's first byte is stream offset 0.
      s = S_STARTED;
      st[d] = s;
      this.base[d] = seq;
      nxt[d] = seq;
      this.soff[d] = 0;
      this.nPickups++;
    } else if (!this.midstream && (st[o]! & S_STARTED) === 0) {
      this.nNoHandshake++;
      return;
    }
    if ((s & S_DONE) !== 0) return;

    const buf = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
    const payOff = dec.payOff[i]!;
    const rel = (seq - nxt[d]!) | 0;
    if (rel <= 0) {
      // In order (possibly starting with bytes already delivered: first wins).
      const skip = -rel;
      if (skip > 0) {
        if (skip >= wire + fin) this.nRetrans++;
        else this.nOverlap++;
      }
      if (skip < cap) {
        dec.inStream[i] = 1;
        if (this.deliver(slot, dir, d, buf, payOff + skip, cap - skip)) return;
        nxt[d] = (seq + cap) >>> 0;
      }
      if (wire > cap) {
        // Snaplen cut: the bytes not captured are a hole.
        const from = skip > cap ? skip : cap;
        if (from < wire) {
          nxt[d] = (seq + wire) >>> 0;
          if (this.skipHole(slot, dir, d, wire - from)) return;
        }
      }
      if (fin !== 0 && nxt[d] === (seq + wire) >>> 0) nxt[d] = (seq + wire + 1) >>> 0;
      if (this.head[d]! >= 0) this.drain(slot, dir, d);
    } else if (rel >= MAX_AHEAD) {
      this.emit(slot, dir, EV_WINDOW);
    } else if (this.depth > 0 && this.soff[d]! + rel >= this.depth) {
      this.nBeyondDepth++;
    } else if (cap > 0) {
      dec.inStream[i] = 1;
      this.insert(slot, dir, d, buf, payOff, rel, cap, fin !== 0 && cap === wire);
    }
  }

  /**
   * The flow in `slot` ended: by default deliver what is buffered beyond holes (skipping them, with
   * a gap event), then free its segments and forget its state. Must be called before the slot is
   * reused for another flow (FlowTable frees a slot when it emits the flow's record).
   */
  release(slot: number, deliverPending = true): void {
    if (slot < 0 || slot >= this.maxFlows) return;
    this.synData.delete(slot * 2);
    this.synData.delete(slot * 2 + 1);
    this.nReleased++;
    for (let dir = 0; dir < 2; dir++) {
      const d = slot * 2 + dir;
      if (deliverPending && (this.st[d]! & (S_STARTED | S_DONE)) === S_STARTED) {
        let h = this.head[d]!;
        while (h >= 0) {
          const hole = (this.segSeq[h]! - this.nxt[d]!) | 0;
          if (hole > 0) {
            this.nxt[d] = this.segSeq[h]!;
            if (this.skipHole(slot, dir, d, hole)) break;
          }
          this.drain(slot, dir, d);
          h = this.head[d]!;
        }
      }
      this.freeDir(d);
      this.st[d] = 0;
      this.base[d] = 0;
      this.nxt[d] = 0;
      this.soff[d] = 0;
    }
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Direction `d` is reassembled: started, and with midstream off, both sides' SYNs were seen. */
  private ready(d: number): boolean {
    return this.midstream || (this.st[d ^ 1]! & S_STARTED) !== 0;
  }

  private syn(slot: number, dir: number, d: number, o: number, flags: number, seq: number, ack: number): void {
    const isn1 = (seq + 1) >>> 0;
    const s = this.st[d]!;
    if ((s & S_STARTED) === 0) {
      this.st[d] = S_STARTED | S_SYN;
      this.base[d] = isn1;
      this.nxt[d] = isn1;
      this.soff[d] = 0;
    } else if (this.base[d] !== isn1) {
      if (this.soff[d] === 0 && this.head[d]! < 0 && this.nxt[d] === this.base[d]) {
        // Nothing delivered yet: a SYN resent with a new ISN restarts the direction.
        this.st[d] = S_STARTED | S_SYN;
        this.base[d] = isn1;
        this.nxt[d] = isn1;
      } else {
        this.emit(slot, dir, EV_SYN_DIFF);
      }
    }
    if ((flags & ACK) !== 0 && (this.st[o]! & S_SYN) !== 0 && ack !== this.base[o]) {
      this.emit(slot, dir, EV_SYNACK_ACK);
    }
  }

  private emit(slot: number, dir: number, ev: number): void {
    this.events[ev]!++;
    if (this.onEvent !== null) this.onEvent(slot, dir, ev);
  }

  /**
   * Deliver `len` in-order bytes, cut at the depth. Returns true when the direction is done (depth
   * reached: its segments are freed and nothing further is tracked).
   */
  private deliver(slot: number, dir: number, d: number, buf: Uint8Array, off: number, len: number): boolean {
    const at = this.soff[d]!;
    const depth = this.depth;
    let n = len;
    if (depth > 0 && at + n >= depth) n = depth - at;
    if (n > 0) {
      this.soff[d] = at + n;
      this.nDelivered += n;
      this.onData(slot, dir, buf, off, n, at);
    }
    if (depth > 0 && at + n >= depth) {
      this.reachDepth(slot, dir, d);
      return true;
    }
    return false;
  }

  /** Skip `n` missing bytes (nxt already moved past them). Returns true when that reached the depth. */
  private skipHole(slot: number, dir: number, d: number, n: number): boolean {
    this.st[d] = this.st[d]! | S_GAP;
    this.nGapBytes += n;
    this.emit(slot, dir, EV_GAP);
    const at = this.soff[d]! + n;
    this.soff[d] = at;
    if (this.depth > 0 && at >= this.depth) {
      this.soff[d] = this.depth;
      this.reachDepth(slot, dir, d);
      return true;
    }
    return false;
  }

  private reachDepth(slot: number, dir: number, d: number): void {
    this.st[d] = this.st[d]! | S_DONE;
    this.freeDir(d);
    this.emit(slot, dir, EV_DEPTH);
  }

  /** The peer acknowledged up to `ack` in direction `d`: skip holes up to it, delivering buffered data. */
  private ackGap(slot: number, dir: number, d: number, ack: number): void {
    // Each round skips one hole and drains at least one segment, so it ends within nseg + 1 rounds.
    for (;;) {
      const rel = (ack - this.nxt[d]!) | 0;
      if (rel <= 0) return;
      const h = this.head[d]!;
      let hole = rel;
      if (h >= 0) {
        const at = (this.segSeq[h]! - this.nxt[d]!) | 0;
        if (at < hole) hole = at;
      }
      if (hole > 0) {
        this.nxt[d] = (this.nxt[d]! + hole) >>> 0;
        if (this.skipHole(slot, dir, d, hole)) return;
      }
      if (h < 0) return;
      this.drain(slot, dir, d);
      if ((this.st[d]! & S_DONE) !== 0) return;
    }
  }

  /** Deliver buffered segments that became contiguous with the next expected byte. */
  private drain(slot: number, dir: number, d: number): void {
    let h = this.head[d]!;
    while (h >= 0) {
      const seq = this.segSeq[h]!;
      const rel = (seq - this.nxt[d]!) | 0;
      if (rel > 0) return;
      const len = this.segLen[h]!;
      const end = (seq + len) >>> 0;
      const fin = this.segFin[h]!;
      const data = this.segData[h]!;
      // Unlink first: delivery may reach the depth, which frees the whole list.
      this.head[d] = this.segNext[h]!;
      this.nseg[d]!--;
      this.freeSeg(h);
      if (-rel < len) {
        if (this.deliver(slot, dir, d, data, -rel, len + rel)) return;
        this.nxt[d] = end;
      }
      if (fin !== 0 && this.nxt[d] === end) this.nxt[d] = (end + 1) >>> 0;
      h = this.head[d]!;
    }
  }

  /**
   * Buffer the bytes `buf[payOff, payOff + len)` that start `rel` > 0 bytes ahead of the next
   * expected byte. Parts already buffered keep their bytes (first wins); only uncovered parts are
   * copied, as new segments.
   */
  private insert(
    slot: number,
    dir: number,
    d: number,
    buf: Buffer,
    payOff: number,
    rel: number,
    len: number,
    fin: boolean,
  ): void {
    const next = this.nxt[d]!;
    const b = rel + len;
    let c = rel;
    let prev = -1;
    let h = this.head[d]!;
    let diff = false;
    while (h >= 0 && c < b) {
      const x = (this.segSeq[h]! - next) | 0;
      const y = x + this.segLen[h]!;
      if (y <= c) {
        prev = h;
        h = this.segNext[h]!;
        continue;
      }
      if (x >= b) break;
      if (x > c) {
        const p = this.newSeg(slot, dir, d, prev, buf, payOff + (c - rel), (next + c) >>> 0, x - c, 0);
        if (p < 0) return;
      }
      // Overlap [max(c, x), min(b, y)): keep the buffered bytes, compare.
      const os = c > x ? c : x;
      const oe = b < y ? b : y;
      this.nOverlap++;
      if (!diff && buf.compare(this.segData[h]!, os - x, oe - x, payOff + (os - rel), payOff + (oe - rel)) !== 0) {
        diff = true;
        this.emit(slot, dir, EV_OVERLAP);
      }
      c = y;
      prev = h;
      h = this.segNext[h]!;
    }
    if (c < b) this.newSeg(slot, dir, d, prev, buf, payOff + (c - rel), (next + c) >>> 0, b - c, fin ? 1 : 0);
  }

  /** Copy a segment in after `prev` (-1: at the head). Returns its index, or -1 when a cap dropped it. */
  private newSeg(
    slot: number,
    dir: number,
    d: number,
    prev: number,
    buf: Buffer,
    off: number,
    seq: number,
    len: number,
    fin: number,
  ): number {
    if (this.nseg[d]! >= this.maxSegments) {
      this.emit(slot, dir, EV_LIMIT);
      return -1;
    }
    const cost = len + SEGMENT_OVERHEAD;
    if (this.memuse + cost > this.memcap) {
      this.emit(slot, dir, EV_MEMCAP);
      return -1;
    }
    if (this.segFree < 0) this.growSegments();
    const p = this.segFree;
    this.segFree = this.segNext[p]!;
    const data = Buffer.allocUnsafe(len);
    buf.copy(data, 0, off, off + len);
    this.segData[p] = data;
    this.segSeq[p] = seq;
    this.segLen[p] = len;
    this.segFin[p] = fin;
    if (prev < 0) {
      this.segNext[p] = this.head[d]!;
      this.head[d] = p;
    } else {
      this.segNext[p] = this.segNext[prev]!;
      this.segNext[prev] = p;
    }
    this.nseg[d]!++;
    this.segments++;
    this.nBuffered++;
    this.memuse += cost;
    if (this.memuse > this.memuseMax) this.memuseMax = this.memuse;
    return p;
  }

  /** Return segment `p` (already unlinked) to the free list. */
  private freeSeg(p: number): void {
    this.memuse -= this.segLen[p]! + SEGMENT_OVERHEAD;
    this.segments--;
    this.segData[p] = EMPTY;
    this.segNext[p] = this.segFree;
    this.segFree = p;
  }

  private freeDir(d: number): void {
    let h = this.head[d]!;
    while (h >= 0) {
      const n = this.segNext[h]!;
      this.freeSeg(h);
      h = n;
    }
    this.head[d] = -1;
    this.nseg[d] = 0;
  }

  private growSegments(): void {
    const old = this.segCap;
    const cap = old === 0 ? INITIAL_SEGMENTS : old * 2;
    const seq = new Uint32Array(cap);
    seq.set(this.segSeq);
    const len = new Int32Array(cap);
    len.set(this.segLen);
    const next = new Int32Array(cap);
    next.set(this.segNext);
    const fin = new Uint8Array(cap);
    fin.set(this.segFin);
    this.segSeq = seq;
    this.segLen = len;
    this.segNext = next;
    this.segFin = fin;
    for (let k = old; k < cap; k++) this.segData.push(EMPTY);
    // Chain the new records onto the free list, lowest index first.
    for (let k = cap - 1; k >= old; k--) {
      next[k] = this.segFree;
      this.segFree = k;
    }
    this.segCap = cap;
  }
}
