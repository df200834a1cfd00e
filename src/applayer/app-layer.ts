/**
 * Application-layer dispatch: receives in-order stream bytes per flow slot and direction (from
 * src/stream/reassembly.ts), recognises the protocol by content (ports are not consulted, as in
 * Suricata's probing parsers: HTTP on 8080 is HTTP) and feeds the protocol's parser. Finished
 * transactions leave as records through `emit`.
 *
 * Recognised today: HTTP/1.x, TLS, SSH and FTP over TCP, DNS over UDP and TCP. Other protocols
 * (SMTP, ...) are the next slices of issue 4; their flows are marked "failed" after probing.
 */
import type { PacketBatch } from '../capture/batch.js';
import type { DecodedBatch } from '../decode/batch.js';
import type { FlowTable, FlowTuple } from '../flow/table.js';
import { DnsTcpStream, isDnsError, parseDnsMessage, probeDns } from './dns/parser.js';
import type { DnsMessage } from './dns/parser.js';
import { HttpConnection } from './http/parser.js';
import type { HttpTransaction } from './http/parser.js';
import { probeHttp } from './http/probe.js';
import { FtpConnection } from './ftp/parser.js';
import type { FtpTransaction } from './ftp/parser.js';
import { probeFtp } from './ftp/probe.js';
import { SshConnection, probeSsh } from './ssh/parser.js';
import { TlsConnection } from './tls/parser.js';
import { SmtpConnection } from './smtp/parser.js';
import type { SmtpTransaction } from './smtp/parser.js';
import { probeSmtp } from './smtp/probe.js';
import type { TlsInfo } from './tls/parser.js';
import { probeTls } from './tls/probe.js';

/** A finished HTTP transaction with its flow. */
export interface HttpRecord {
  kind: 'http';
  /** The flow's table slot (valid while the record is being handed over). */
  slot: number;
  tsUs: number;
  flow: FlowTuple;
  tx: HttpTransaction;
  /** Files to store, set by `filestore` rules: bit 1 the request body, bit 2 the response body. */
  fileStore?: number;
  /** The rules that asked for files to be stored, with their direction bits (EVE fileinfo.sid). */
  fileStoreRules?: { sid: number; bits: number }[];
}

/** A DNS message, with the flow tuple oriented as the packet travelled (responses: server first). */
export interface DnsRecord {
  kind: 'dns';
  /** The flow's table slot (valid while the record is being handed over). */
  slot: number;
  tsUs: number;
  flow: FlowTuple;
  /** Transaction number within the flow: a response shares its query's. */
  txId: number;
  msg: DnsMessage;
}

/** A TLS handshake (logged once per flow: when both hellos are parsed or the flow ends). */
export interface TlsRecord {
  kind: 'tls';
  /** The flow's table slot (valid while the record is being handed over). */
  slot: number;
  tsUs: number;
  flow: FlowTuple;
  info: TlsInfo;
}

/** SSH identification banners of a flow (logged once: when both are seen or the flow ends). */
export interface SshRecord {
  kind: 'ssh';
  /** The flow's table slot (valid while the record is being handed over). */
  slot: number;
  tsUs: number;
  flow: FlowTuple;
  conn: SshConnection;
}

/** A finished FTP command and its reply. */
export interface FtpRecord {
  kind: 'ftp';
  /** The flow's table slot (valid while the record is being handed over). */
  slot: number;
  tsUs: number;
  flow: FlowTuple;
  tx: FtpTransaction;
}

/** A finished SMTP transaction (one mail, or a session without one). */
export interface SmtpRecord {
  kind: 'smtp';
  /** The flow's table slot (valid while the record is being handed over). */
  slot: number;
  tsUs: number;
  flow: FlowTuple;
  tx: SmtpTransaction;
  /** Attachments to store, set by `filestore` rules (bit 1: mail travels to the server). */
  fileStore?: number;
  /** The rules that asked for files to be stored, with their direction bits (EVE fileinfo.sid). */
  fileStoreRules?: { sid: number; bits: number }[];
}

export type AppRecord = HttpRecord | DnsRecord | TlsRecord | SshRecord | FtpRecord | SmtpRecord;

export interface AppLayerOptions {
  requestBodyLimit?: number;
  responseBodyLimit?: number;
  /** Content-Encoding layers decoded at most (libhtp's response-body-decompress-layer-limit). */
  decompressLayerLimit?: number;
  /**
   * Each HTTP request once complete (HttpOptions.onRequest), for detection's request side; the
   * record's `tx` is the object the finished record carries later. Not a finished transaction:
   * loggers must not see it.
   */
  onHttpRequest?: (rec: HttpRecord) => void;
  /**
   * Stop payload inspection of a TLS flow once its encrypted application data starts (Suricata's
   * default `encryption-handling`): sets `noPayload` for the slot.
   */
  tlsNoPayload?: boolean;
}

const P_UNKNOWN = 0;
const P_HTTP = 1;
/** Probed and not recognised: no more work for this flow. */
const P_NONE = 2;
const P_DNS = 3;
const P_TLS = 4;
const P_SSH = 5;
const P_FTP = 6;
const P_SMTP = 7;

/** Bytes kept per direction while a probe needs more data (a request line split mid-method). */
const PROBE_BUFFER = 64;

export const APP_PROTO_NAMES = ['', 'http', 'failed', 'dns', 'tls', 'ssh', 'ftp', 'smtp'] as const;

export class AppLayer {
  /** The flow's protocol (Suricata's final `f->alproto`): the first one detected on either direction. */
  private readonly proto: Uint8Array;
  /**
   * Per slot and direction (slot * 2 + dir): the protocol detected on that direction's first data
   * (Suricata's alproto_ts / alproto_tc); P_NONE when its detection failed.
   */
  private readonly dirProto: Uint8Array;
  /** Slot and directions (bit 0 to server, bit 1 to client) whose detection concluded in the current packet. */
  private doneSlot = -1;
  private doneBits = 0;
  private readonly http: (HttpConnection | undefined)[];
  private readonly probeBuf: (Buffer | undefined)[];
  /** DNS-over-TCP framing per slot and direction. */
  private readonly dnsTcp: (DnsTcpStream | undefined)[];
  private readonly tls: (TlsConnection | undefined)[];
  private readonly ssh: (SshConnection | undefined)[];
  private readonly ftp: (FtpConnection | undefined)[];
  private readonly smtp: (SmtpConnection | undefined)[];
  /** 1 once the slot's TLS handshake or SSH banners were emitted. */
  private readonly logged: Uint8Array;
  /** DNS transactions per slot (queries seen). */
  private readonly dnsTx: Uint32Array;
  private readonly opts: AppLayerOptions;
  /** Flows per recognised protocol (counted when recognised). */
  readonly flowsByProto = { http: 0, dns: 0, tls: 0, ssh: 0, ftp: 0, smtp: 0 };
  transactions = 0;
  dnsMessages = 0;
  /** DNS payloads on recognised DNS flows that did not parse. */
  dnsErrors = 0;

  /**
   * Per slot: 1 once the flow's payload is no longer inspected (TLS application data has started,
   * see AppLayerOptions.tlsNoPayload). As in Suricata, whose parser reads a direction's data when
   * the other side acknowledges it and whose flag then holds from the next packet on: set from the
   * packet after the first one in the other direction that follows the data (beginPacket).
   */
  readonly noPayload: Uint8Array;
  /** Flows waiting for noPayload: slot, direction of the data that showed it, 1 once acknowledged. */
  private npSlot: number[] = [];
  private npDir: number[] = [];
  private npAcked: number[] = [];

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
    this.dirProto = new Uint8Array(slots * 2);
    this.http = new Array<HttpConnection | undefined>(slots);
    this.probeBuf = new Array<Buffer | undefined>(slots * 2);
    this.dnsTcp = new Array<DnsTcpStream | undefined>(slots * 2);
    this.dnsTx = new Uint32Array(slots);
    this.tls = new Array<TlsConnection | undefined>(slots);
    this.ssh = new Array<SshConnection | undefined>(slots);
    this.ftp = new Array<FtpConnection | undefined>(slots);
    this.smtp = new Array<SmtpConnection | undefined>(slots);
    this.logged = new Uint8Array(slots);
    this.noPayload = new Uint8Array(slots);
    this.opts = opts;
    this.onData = (slot, dir, buf, off, len) => this.data(slot, dir, buf, off, len);
  }

  /** UDP payloads of a batch (after the flow table): DNS recognised by content on any port. */
  udp(pkts: PacketBatch, dec: DecodedBatch): void {
    const count = dec.count;
    for (let i = 0; i < count; i++) if (dec.proto[i] === 17) this.udpPacket(pkts, dec, i);
  }

  /** One UDP packet of a batch (the detector's per-packet path). */
  udpPacket(pkts: PacketBatch, dec: DecodedBatch, i: number): void {
    if (dec.proto[i] !== 17) return;
    const slot = dec.flowSlot[i]!;
    const len = dec.payLen[i]!;
    if (slot < 0 || len <= 0) return;
    const p = this.proto[slot]!;
    if (p === P_NONE || p === P_HTTP) return;
    const buf = dec.bufSel[i] === 1 ? dec.alt : pkts.buf;
    const off = dec.payOff[i]!;
    const dir = dec.flowDir[i]! & 1;
    if (p === P_UNKNOWN) {
      if (!probeDns(buf, off, len, false)) {
        this.proto[slot] = P_NONE;
        this.concluded(slot, dir, P_NONE);
        return;
      }
      this.proto[slot] = P_DNS;
      this.concluded(slot, dir, P_DNS);
      this.flowsByProto.dns++;
    } else if (this.dirProto[slot * 2 + dir] === P_UNKNOWN) this.concluded(slot, dir, p);
    const msg = parseDnsMessage(buf, off, len);
    if (isDnsError(msg)) {
      this.dnsErrors++;
      return;
    }
    this.emitDns(slot, dec.flowDir[i]!, pkts.tsUs[i]!, msg);
  }

  /** The application protocol recognised on `slot` so far ('' while unknown, 'failed' when none). */
  protoOf(slot: number): string {
    return APP_PROTO_NAMES[this.proto[slot]!] ?? '';
  }

  /** The protocol detected on direction `dir` (0 to server) of `slot`: '' while unknown, 'failed' when detection failed. */
  protoDirOf(slot: number, dir: number): string {
    return APP_PROTO_NAMES[this.dirProto[slot * 2 + (dir & 1)]!] ?? '';
  }

  /** Forget which detections concluded: called before each packet's stream data is delivered. */
  beginPacket(slot = -1, dir = 0): void {
    this.doneSlot = -1;
    this.doneBits = 0;
    if (this.npSlot.length > 0) this.advanceNoPayload(slot, dir & 1);
  }

  /** Packet of `slot`/`dir` begins: flag the flows acknowledged by an earlier packet, arm those this one acknowledges. */
  private advanceNoPayload(slot: number, dir: number): void {
    let kept = 0;
    for (let k = 0; k < this.npSlot.length; k++) {
      const s = this.npSlot[k]!;
      if (this.npAcked[k] === 1) {
        this.noPayload[s] = 1;
        continue;
      }
      if (s === slot && dir !== this.npDir[k]) this.npAcked[k] = 1;
      this.npSlot[kept] = s;
      this.npDir[kept] = this.npDir[k]!;
      this.npAcked[kept] = this.npAcked[k]!;
      kept++;
    }
    this.npSlot.length = this.npDir.length = this.npAcked.length = kept;
  }

  /**
   * Directions of `slot` whose protocol detection concluded (found or failed) during the current
   * packet: bit 0 to server, bit 1 to client (Suricata's PKT_PROTO_DETECT_TS_DONE / TC_DONE).
   */
  detectDoneNow(slot: number): number {
    return slot === this.doneSlot ? this.doneBits : 0;
  }

  private concluded(slot: number, dir: number, p: number): void {
    this.dirProto[slot * 2 + dir] = p;
    if (this.doneSlot !== slot) {
      this.doneSlot = slot;
      this.doneBits = 0;
    }
    this.doneBits |= 1 << dir;
  }

  /**
   * Detection on a direction's first data when the flow's protocol is already known (from the
   * other direction): records what this side speaks; a side nothing recognises inherits the
   * flow's protocol, as Suricata continues with the other direction's parser.
   */
  private detectSecondSide(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    const d = dir === 0 ? 0 : 1;
    let found = P_UNKNOWN;
    let more = false;
    const r = probeHttp(buf, off, len, d);
    if (r === 'yes') found = P_HTTP;
    else {
      more = r === 'need_more';
      const t = probeTls(buf, off, len);
      if (t === 'yes') found = P_TLS;
      else {
        more ||= t === 'need_more';
        const h = probeSsh(buf, off, len);
        if (h === 'yes') found = P_SSH;
        else {
          more ||= h === 'need_more';
          const m = probeSmtp(buf, off, len, d);
          if (m === 'yes') found = P_SMTP;
          else {
            more ||= m === 'need_more';
            const f = probeFtp(buf, off, len, d);
            if (f === 'yes') found = P_FTP;
            else more ||= f === 'need_more';
          }
        }
      }
    }
    if (found === P_UNKNOWN && this.proto[slot] === P_DNS && len >= 14 && probeDns(buf, off, len, true)) found = P_DNS;
    // A later chunk may still tell (no buffering: the flow's parser already has the bytes).
    if (found === P_UNKNOWN && more && len < PROBE_BUFFER) return;
    this.concluded(slot, dir, found === P_UNKNOWN ? this.proto[slot]! : found);
  }

  private emitDns(slot: number, dir: number, tsUs: number, msg: DnsMessage): void {
    const t = this.flows.tupleOf(slot);
    const flow = dir === 0 ? t : { ...t, srcIp: t.dstIp, dstIp: t.srcIp, srcPort: t.dstPort, dstPort: t.srcPort };
    let txId: number;
    if (!msg.flags.qr) txId = this.dnsTx[slot]!++;
    else txId = this.dnsTx[slot]! > 0 ? this.dnsTx[slot]! - 1 : 0;
    this.dnsMessages++;
    this.emit({ kind: 'dns', slot, tsUs, flow, txId, msg });
  }

  private data(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    const p = this.proto[slot]!;
    if (p !== P_UNKNOWN && p !== P_NONE && this.dirProto[slot * 2 + dir] === P_UNKNOWN)
      this.detectSecondSide(slot, dir, buf, off, len);
    if (p === P_HTTP) {
      this.feedHttp(slot, dir, buf, off, len);
      return;
    }
    if (p === P_DNS) {
      this.feedDnsTcp(slot, dir, buf, off, len);
      return;
    }
    if (p === P_TLS) {
      this.feedTls(slot, dir, buf, off, len);
      return;
    }
    if (p === P_SSH) {
      this.feedSsh(slot, dir, buf, off, len);
      return;
    }
    if (p === P_FTP) {
      this.feedFtp(slot, dir, buf, off, len);
      return;
    }
    if (p === P_SMTP) {
      this.smtp[slot]!.feed(dir === 0 ? 0 : 1, buf, off, len, this.now());
      return;
    }
    if (p === P_NONE) return;
    // This direction's detection failed: wait for the other one (Suricata detects each side).
    if (this.dirProto[slot * 2 + dir] === P_NONE) return;
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
    const t = r === 'yes' ? 'no' : probeTls(pb, po, pl);
    const h = r === 'yes' || t === 'yes' ? 'no' : probeSsh(pb, po, pl);
    // SMTP before FTP: both greet with 220, and the FTP probe accepts any 220 greeting.
    const m = r === 'yes' || t === 'yes' || h === 'yes' ? 'no' : probeSmtp(pb, po, pl, dir === 0 ? 0 : 1);
    const f = r === 'yes' || t === 'yes' || h === 'yes' || m !== 'no' ? 'no' : probeFtp(pb, po, pl, dir === 0 ? 0 : 1);
    if (m === 'yes') {
      this.probeBuf[slot * 2 + dir] = undefined;
      this.proto[slot] = P_SMTP;
      this.concluded(slot, dir, P_SMTP);
      this.flowsByProto.smtp++;
      this.smtp[slot] = new SmtpConnection({
        onTransaction: (tx) => this.emit({ kind: 'smtp', slot, tsUs: tx.tsUs, flow: this.flows.tupleOf(slot), tx }),
      });
      this.smtp[slot].feed(dir === 0 ? 0 : 1, pb, po, pl, this.now());
    } else if (f === 'yes') {
      this.probeBuf[slot * 2 + dir] = undefined;
      this.proto[slot] = P_FTP;
      this.concluded(slot, dir, P_FTP);
      this.flowsByProto.ftp++;
      // Transactions are handed over as they finish (a closure per flow, not per packet).
      this.ftp[slot] = new FtpConnection({
        onTransaction: (tx) => this.emit({ kind: 'ftp', slot, tsUs: tx.tsUs, flow: this.flows.tupleOf(slot), tx }),
      });
      this.feedFtp(slot, dir, pb, po, pl);
    } else if (h === 'yes') {
      this.probeBuf[slot * 2 + dir] = undefined;
      this.proto[slot] = P_SSH;
      this.concluded(slot, dir, P_SSH);
      this.flowsByProto.ssh++;
      this.ssh[slot] = new SshConnection();
      this.feedSsh(slot, dir, pb, po, pl);
    } else if (t === 'yes') {
      this.probeBuf[slot * 2 + dir] = undefined;
      this.proto[slot] = P_TLS;
      this.concluded(slot, dir, P_TLS);
      this.flowsByProto.tls++;
      this.tls[slot] = new TlsConnection();
      this.feedTls(slot, dir, pb, po, pl);
    } else if (r === 'yes') {
      this.probeBuf[slot * 2 + dir] = undefined;
      this.proto[slot] = P_HTTP;
      this.concluded(slot, dir, P_HTTP);
      this.flowsByProto.http++;
      const onRequest = this.opts.onHttpRequest;
      this.http[slot] = new HttpConnection({
        requestBodyLimit: this.opts.requestBodyLimit,
        responseBodyLimit: this.opts.responseBodyLimit,
        decompressLayerLimit: this.opts.decompressLayerLimit,
        onTransaction: (tx) => {
          this.transactions++;
          this.emit({ kind: 'http', slot, tsUs: tx.tsUs, flow: this.flows.tupleOf(slot), tx });
        },
        ...(onRequest === undefined
          ? {}
          : {
              onRequest: (tx: HttpTransaction) =>
                onRequest({ kind: 'http', slot, tsUs: tx.tsUs, flow: this.flows.tupleOf(slot), tx }),
            }),
      });
      this.feedHttp(slot, dir, pb, po, pl);
    } else if (
      (r === 'need_more' || t === 'need_more' || h === 'need_more' || m === 'need_more' || f === 'need_more') &&
      pl < PROBE_BUFFER
    ) {
      this.probeBuf[slot * 2 + dir] = Buffer.from(pb.subarray(po, po + pl));
    } else if (pl >= 14 && probeDns(pb, po, pl, true)) {
      // DNS over TCP: a 2-byte length, then a sane DNS header.
      this.probeBuf[slot * 2 + dir] = undefined;
      this.proto[slot] = P_DNS;
      this.concluded(slot, dir, P_DNS);
      this.flowsByProto.dns++;
      this.dnsTcp[slot * 2] = new DnsTcpStream();
      this.dnsTcp[slot * 2 + 1] = new DnsTcpStream();
      this.feedDnsTcp(slot, dir, pb, po, pl);
    } else {
      // Nothing recognised this direction; the flow fails once both directions have.
      this.probeBuf[slot * 2 + dir] = undefined;
      this.concluded(slot, dir, P_NONE);
      if (this.dirProto[slot * 2 + (dir ^ 1)] === P_NONE) this.proto[slot] = P_NONE;
    }
  }

  private feedTls(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    const conn = this.tls[slot]!;
    conn.feed(dir === 0 ? 0 : 1, buf, off, len, this.now());
    if (conn.done && this.logged[slot] === 0) this.emitTls(slot, conn);
    if (conn.appData && this.opts.tlsNoPayload === true && this.noPayload[slot] === 0 && !this.npSlot.includes(slot)) {
      this.npSlot.push(slot);
      this.npDir.push(dir & 1);
      this.npAcked.push(0);
    }
  }

  private emitTls(slot: number, conn: TlsConnection): void {
    this.logged[slot] = 1;
    this.emit({ kind: 'tls', slot, tsUs: conn.info.tsUs, flow: this.flows.tupleOf(slot), info: conn.info });
    // The raw certificates served tls.certs during that (synchronous) inspection: no need to hold
    // up to 64 KiB per flow until it ends.
    conn.info.certs = [];
  }

  private feedFtp(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    this.ftp[slot]!.feed(dir === 0 ? 0 : 1, buf, off, len, this.now());
  }

  private feedSsh(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    const conn = this.ssh[slot]!;
    if (this.logged[slot] !== 0) return;
    conn.feed(dir === 0 ? 0 : 1, buf, off, len, this.now());
    if (conn.done) this.emitSsh(slot, conn);
  }

  private emitSsh(slot: number, conn: SshConnection): void {
    this.logged[slot] = 1;
    this.emit({ kind: 'ssh', slot, tsUs: conn.tsUs, flow: this.flows.tupleOf(slot), conn });
  }

  private feedDnsTcp(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    const stream = this.dnsTcp[slot * 2 + dir];
    if (stream === undefined) return;
    const msgs = stream.feed(buf, off, len);
    for (const m of msgs) this.emitDns(slot, dir, this.now(), m);
  }

  private feedHttp(slot: number, dir: number, buf: Uint8Array, off: number, len: number): void {
    this.http[slot]!.feed(dir === 0 ? 0 : 1, buf, off, len, this.now());
  }

  /**
   * The flow in `slot` ended (its stream already flushed): finish its parser, emit what is left,
   * free the slot's state. Returns the recognised protocol name, or undefined.
   */
  release(slot: number, tsUs: number): string | undefined {
    const p = this.proto[slot]!;
    let name: string | undefined;
    if (p === P_HTTP) {
      this.http[slot]!.close(tsUs); // delivers what is left through onTransaction
      this.http[slot] = undefined;
      name = 'http';
    } else if (p === P_TLS) {
      const conn = this.tls[slot]!;
      if (this.logged[slot] === 0 && conn.info.clientHello) this.emitTls(slot, conn);
      this.tls[slot] = undefined;
      this.logged[slot] = 0;
      name = 'tls';
    } else if (p === P_FTP) {
      this.ftp[slot]!.close(tsUs); // delivers what is left through onTransaction
      this.ftp[slot] = undefined;
      name = 'ftp';
    } else if (p === P_SSH) {
      const conn = this.ssh[slot]!;
      if (this.logged[slot] === 0 && (conn.client !== null || conn.server !== null)) this.emitSsh(slot, conn);
      this.ssh[slot] = undefined;
      this.logged[slot] = 0;
      name = 'ssh';
    } else if (p === P_SMTP) {
      this.smtp[slot]!.close(tsUs); // delivers what is left through onTransaction
      this.smtp[slot] = undefined;
      name = 'smtp';
    } else if (p === P_DNS) {
      name = 'dns';
      this.dnsTcp[slot * 2] = this.dnsTcp[slot * 2 + 1] = undefined;
    } else if (p === P_NONE || this.dirProto[slot * 2] === P_NONE || this.dirProto[slot * 2 + 1] === P_NONE)
      name = 'failed';
    this.proto[slot] = P_UNKNOWN;
    this.dirProto[slot * 2] = this.dirProto[slot * 2 + 1] = P_UNKNOWN;
    this.dnsTx[slot] = 0;
    this.noPayload[slot] = 0;
    // A flag still waiting must not land on the slot's next flow.
    const w = this.npSlot.indexOf(slot);
    if (w >= 0) {
      this.npSlot.splice(w, 1);
      this.npDir.splice(w, 1);
      this.npAcked.splice(w, 1);
    }
    this.probeBuf[slot * 2] = this.probeBuf[slot * 2 + 1] = undefined;
    return name;
  }
}
