/**
 * Application-layer dispatch: receives in-order stream bytes per flow slot and direction (from
 * src/stream/reassembly.ts), recognises the protocol by content (ports are not consulted, as in
 * Suricata's probing parsers: HTTP on 8080 is HTTP) and feeds the protocol's parser. Finished
 * transactions leave as records through `emit`.
 *
 * Recognised today: HTTP/1.x. Other protocols (DNS, TLS, SSH, FTP, SMTP) are the next slices of
 * issue 4; their flows are marked "unknown" after probing.
 */
import type { FlowTable, FlowTuple } from '../flow/table.js';
import { HttpConnection } from './http/parser.js';
import type { HttpTransaction } from './http/parser.js';
import { probeHttp } from './http/probe.js';

/** A finished HTTP transaction with its flow. */
export interface HttpRecord {
  kind: 'http';
  tsUs: number;
  flow: FlowTuple;
  tx: HttpTransaction;
}

export type AppRecord = HttpRecord;

export interface AppLayerOptions {
  requestBodyLimit?: number;
  responseBodyLimit?: number;
}

const P_UNKNOWN = 0;
const P_HTTP = 1;
/** Probed and not recognised: no more work for this flow. */
const P_NONE = 2;

/** Bytes kept per direction while a probe needs more data (a request line split mid-method). */
const PROBE_BUFFER = 64;

export const APP_PROTO_NAMES = ['', 'http', 'failed'] as const;

export class AppLayer {
  private readonly proto: Uint8Array;
  private readonly http: (HttpConnection | undefined)[];
  private readonly probeBuf: (Buffer | undefined)[];
  private readonly opts: AppLayerOptions;
  /** Flows per recognised protocol (counted when recognised). */
  readonly flowsByProto = { http: 0 };
  transactions = 0;

  /** Handler for StreamReassembler: a bound method, created once. */
  readonly onData: (slot: number, dir: number, buf: Uint8Array, off: number, len: number) => void;

  constructor(
    slots: number,
    private readonly flows: FlowTable,
    private readonly emit: (rec: AppRecord) => void,
    private readonly now: () => number,
    opts: AppLayerOptions = {},
  ) {
    this.proto = new Uint8Array(slots);
    this.http = new Array<HttpConnection | undefined>(slots);
    this.probeBuf = new Array<Buffer | undefined>(slots * 2);
    this.opts = opts;
    this.onData = (slot, dir, buf, off, len) => this.data(slot, dir, buf, off, len);
  }

  private data(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    const p = this.proto[slot]!;
    if (p === P_HTTP) {
      this.feedHttp(slot, dir, buf, off, len);
      return;
    }
    if (p === P_NONE) return;
    // Probe, with what an earlier short chunk left in this direction.
    const pending = this.probeBuf[slot * 2 + dir];
    let pb = buf;
    let po = off;
    let pl = len;
    if (pending !== undefined) {
      const joined = Buffer.concat([pending, Buffer.from(buf.buffer, buf.byteOffset + off, len)]);
      pb = joined;
      po = 0;
      pl = joined.length;
    }
    const r = probeHttp(pb, po, pl, dir === 0 ? 0 : 1);
    if (r === 'yes') {
      this.probeBuf[slot * 2 + dir] = undefined;
      this.proto[slot] = P_HTTP;
      this.flowsByProto.http++;
      this.http[slot] = new HttpConnection({
        requestBodyLimit: this.opts.requestBodyLimit,
        responseBodyLimit: this.opts.responseBodyLimit,
      });
      this.feedHttp(slot, dir, pb, po, pl);
    } else if (r === 'need_more' && pl < PROBE_BUFFER) {
      this.probeBuf[slot * 2 + dir] = Buffer.from(pb.subarray(po, po + pl));
    } else {
      this.probeBuf[slot * 2] = this.probeBuf[slot * 2 + 1] = undefined;
      this.proto[slot] = P_NONE;
    }
  }

  private feedHttp(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    const conn = this.http[slot]!;
    conn.feed(dir === 0 ? 0 : 1, buf, off, len, this.now());
    if (conn.pendingCount > 0) this.emitHttp(slot, conn);
  }

  private emitHttp(slot: number, conn: HttpConnection): void {
    const txs = conn.drain();
    if (txs.length === 0) return;
    const flow = this.flows.tupleOf(slot);
    for (const tx of txs) {
      this.transactions++;
      this.emit({ kind: 'http', tsUs: tx.tsUs, flow, tx });
    }
  }

  /**
   * The flow in `slot` ended (its stream already flushed): finish its parser, emit what is left,
   * free the slot's state. Returns the recognised protocol name, or undefined.
   */
  release(slot: number, tsUs: number): string | undefined {
    const p = this.proto[slot]!;
    let name: string | undefined;
    if (p === P_HTTP) {
      const conn = this.http[slot]!;
      conn.close(tsUs);
      this.emitHttp(slot, conn);
      this.http[slot] = undefined;
      name = 'http';
    } else if (p === P_NONE) name = 'failed';
    this.proto[slot] = P_UNKNOWN;
    this.probeBuf[slot * 2] = this.probeBuf[slot * 2 + 1] = undefined;
    return name;
  }
}
