/**
 * EVE JSON output (Suricata's field names, one object per line), a Sink for flow records and the
 * final stats record. Every record validates against Suricata's EVE schema (strict: no keys the
 * schema does not define; see test/golden/eve-schema.test.ts).
 */
import fs from 'node:fs';
import type { DnsRecord, FtpRecord, HttpRecord, SmtpRecord, SshRecord, TlsRecord } from '../applayer/app-layer.js';
import { smtpEveBody, smtpFileinfoObject } from '../applayer/smtp/eve.js';
import type { SmtpStoreMark } from '../applayer/smtp/eve.js';
import type { StoreResult } from './filestore.js';
import { httpFileinfoObject, httpRequestFileinfoObject } from './fileinfo.js';
import { httpRequestFiles } from '../applayer/http/files.js';
import { ftpEveObject } from '../applayer/ftp/eve.js';
import { sshEveObject } from '../applayer/ssh/eve.js';
import { tlsEveObject } from '../applayer/tls/eve.js';
import { dnsEveObjects } from '../applayer/dns/eve.js';
import { httpEveObject } from '../applayer/http/eve.js';
import type { FlowRecord, FlowTuple } from '../flow/table.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import type { EngineCounters } from '../pipeline/engine.js';
import { eveTimestamp } from '../util/time.js';
import { EVE_DECODER_EVENT_KEYS } from './eve-stats-keys.js';

const PROTO_NAMES: Record<number, string> = {
  1: 'ICMP',
  2: 'IGMP',
  6: 'TCP',
  17: 'UDP',
  47: 'GRE',
  50: 'ESP',
  58: 'IPv6-ICMP',
  132: 'SCTP',
};

/** EVE `proto`: Suricata's protocol names, the number for others. */
export function protoName(proto: number): string {
  return PROTO_NAMES[proto] ?? String(proto);
}

/** Suricata prints TCP flags as a hex byte, e.g. "1b". */
function hexFlags(f: number): string {
  return f.toString(16).padStart(2, '0');
}

/** The EVE `flow` event for a finished flow. */
export function flowEvent(rec: FlowRecord, host: string): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    timestamp: eveTimestamp(rec.startUs),
    flow_id: rec.flowId,
    event_type: 'flow',
    host,
    src_ip: rec.srcIp,
    dest_ip: rec.dstIp,
    proto: protoName(rec.proto),
    community_id: rec.communityId,
  };
  if (rec.proto === 6 || rec.proto === 17 || rec.proto === 132) {
    ev['src_port'] = rec.srcPort;
    ev['dest_port'] = rec.dstPort;
  }
  if (rec.proto === 1 || rec.proto === 58) {
    if (rec.icmpType !== undefined) ev['icmp_type'] = rec.icmpType;
    if (rec.icmpCode !== undefined) ev['icmp_code'] = rec.icmpCode;
  }
  if (rec.vlan.length > 0) ev['vlan'] = rec.vlan;
  if (rec.appProto !== undefined) ev['app_proto'] = rec.appProto;
  ev['flow'] = {
    pkts_toserver: rec.pktsToServer,
    pkts_toclient: rec.pktsToClient,
    bytes_toserver: rec.bytesToServer,
    bytes_toclient: rec.bytesToClient,
    start: eveTimestamp(rec.startUs),
    end: eveTimestamp(rec.endUs),
    age: Math.max(0, Math.floor(rec.endUs / 1e6) - Math.floor(rec.startUs / 1e6)),
    state: rec.state,
    reason: rec.reason,
    alerted: rec.alerted,
  };
  if (rec.tcp) {
    const f = rec.tcp.flags;
    const tcp: Record<string, unknown> = {
      tcp_flags: hexFlags(f),
      tcp_flags_ts: hexFlags(rec.tcp.flagsTs),
      tcp_flags_tc: hexFlags(rec.tcp.flagsTc),
    };
    if (f & 0x01) tcp['fin'] = true;
    if (f & 0x02) tcp['syn'] = true;
    if (f & 0x04) tcp['rst'] = true;
    if (f & 0x08) tcp['psh'] = true;
    if (f & 0x10) tcp['ack'] = true;
    if (f & 0x20) tcp['urg'] = true;
    if (f & 0x40) tcp['ecn'] = true;
    if (f & 0x80) tcp['cwr'] = true;
    tcp['state'] = rec.tcp.state;
    ev['tcp'] = tcp;
  }
  return ev;
}

/** The common part of an application-layer event: time, flow id, type, sensor, and the tuple. */
function appEventHeader(flow: FlowTuple, tsUs: number, eventType: string, host: string): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    timestamp: eveTimestamp(tsUs),
    flow_id: flow.flowId,
    event_type: eventType,
    host,
    src_ip: flow.srcIp,
    src_port: flow.srcPort,
    dest_ip: flow.dstIp,
    dest_port: flow.dstPort,
    proto: protoName(flow.proto),
  };
  // As in Suricata's common EVE header: the flow's VLAN ids, outer first.
  if (flow.vlan !== undefined && flow.vlan.length > 0) ev['vlan'] = flow.vlan;
  return ev;
}

/** sids of the `filestore` rules that asked for files of direction `bit` (1 to server, 2 to client). */
function storeSids(by: readonly { sid: number; bits: number }[] | undefined, bit: number): number[] | undefined {
  if (by === undefined) return undefined;
  const out: number[] = [];
  for (const x of by) if ((x.bits & bit) !== 0) out.push(x.sid);
  return out;
}

/**
 * The EVE `fileinfo` event for the file an HTTP response carried, null when it carried none;
 * `store`: what the file store did with it.
 */
export function httpFileinfoEvent(rec: HttpRecord, host: string, store?: StoreResult): Record<string, unknown> | null {
  const fi = httpFileinfoObject(rec.tx, store, storeSids(rec.fileStoreRules, 2));
  if (fi === null) return null;
  // Files travel server -> client.
  const t = rec.flow;
  const ev = appEventHeader(
    { ...t, srcIp: t.dstIp, dstIp: t.srcIp, srcPort: t.dstPort, dstPort: t.srcPort },
    rec.tx.responseTsUs >= 0 ? rec.tx.responseTsUs : rec.tsUs,
    'fileinfo',
    host,
  );
  ev['app_proto'] = 'http';
  ev['http'] = httpEveObject(rec.tx);
  ev['fileinfo'] = fi;
  return ev;
}

/**
 * The EVE `fileinfo` events for the files of an HTTP request body (uploads, POST/PUT bodies), in
 * body order; `stores[k]`: what the file store did with file k. Files travel client -> server.
 */
export function httpRequestFileinfoEvents(
  rec: HttpRecord,
  host: string,
  stores?: readonly (StoreResult | undefined)[],
): Record<string, unknown>[] {
  const files = httpRequestFiles(rec.tx);
  if (files.length === 0) return [];
  const sids = storeSids(rec.fileStoreRules, 1);
  const http = httpEveObject(rec.tx);
  const out: Record<string, unknown>[] = [];
  for (let k = 0; k < files.length; k++) {
    const ev = appEventHeader(rec.flow, rec.tx.tsUs > 0 ? rec.tx.tsUs : rec.tsUs, 'fileinfo', host);
    ev['app_proto'] = 'http';
    ev['http'] = http;
    ev['fileinfo'] = httpRequestFileinfoObject(rec.tx, files[k]!, stores?.[k], sids);
    out.push(ev);
  }
  return out;
}

/**
 * The EVE `smtp` event of a finished SMTP transaction, and a `fileinfo` event per attachment;
 * `stores[k]`: what the file store did with attachment k.
 */
export function smtpEvents(
  rec: SmtpRecord,
  host: string,
  stores?: readonly (SmtpStoreMark | undefined)[],
): Record<string, unknown>[] {
  const ev = appEventHeader(rec.flow, rec.tsUs, 'smtp', host);
  ev['tx_id'] = rec.tx.id;
  Object.assign(ev, smtpEveBody(rec.tx));
  const out = [ev];
  const atts = rec.tx.attachments;
  for (let k = 0; k < atts.length; k++) {
    const f = appEventHeader(rec.flow, rec.tsUs, 'fileinfo', host);
    f['app_proto'] = 'smtp';
    const fileinfo = smtpFileinfoObject(rec.tx, atts[k]!, stores?.[k], storeSids(rec.fileStoreRules, 1));
    Object.assign(f, { smtp: ev['smtp'], email: ev['email'], fileinfo });
    if (f['email'] === undefined) delete f['email'];
    out.push(f);
  }
  return out;
}

/** Rule metadata (`key value` strings) as EVE's `alert.metadata`: key -> values. */
function metadataObject(meta: readonly string[]): Record<string, string[]> | null {
  const out: Record<string, string[]> = {};
  let n = 0;
  for (const m of meta) {
    const t = m.trim();
    const sp = t.indexOf(' ');
    if (sp <= 0) continue;
    const k = t.slice(0, sp);
    (out[k] ??= []).push(t.slice(sp + 1).trim());
    n++;
  }
  return n === 0 ? null : out;
}

/** Suricata's names of pcap link types (EVE packet_info.linktype_name). */
const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL',
  1: 'EN10MB',
  9: 'PPP',
  12: 'RAW',
  101: 'RAW',
  104: 'C_HDLC',
  113: 'LINUX_SLL',
  228: 'IPv4',
  229: 'IPv6',
  276: 'LINUX_SLL2',
};

/** What alert records include beyond the defaults (suricata.yaml eve-log alert options). */
export interface AlertEveOptions {
  packet?: boolean;
  payload?: boolean;
  payloadPrintable?: boolean;
  ethernet?: boolean;
  /** `verdict` object (eve-log alert `verdict: yes`). */
  verdict?: boolean;
}

const mac = (b: Buffer, o: number): string =>
  Array.from(b.subarray(o, o + 6), (x) => x.toString(16).padStart(2, '0')).join(':');

/** The EVE `alert` event (Suricata's layout; `alert.action` is "allowed": Vigil does not block). */
export function alertEvent(a: AlertRecord, host: string, opts: AlertEveOptions = {}): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    timestamp: eveTimestamp(a.tsUs),
  };
  if (a.flowId !== 0) ev['flow_id'] = a.flowId;
  if (a.pcapCnt > 0) ev['pcap_cnt'] = a.pcapCnt;
  ev['event_type'] = 'alert';
  ev['host'] = host;
  ev['src_ip'] = a.srcIp;
  if (a.proto === 6 || a.proto === 17 || a.proto === 132) ev['src_port'] = a.srcPort;
  ev['dest_ip'] = a.dstIp;
  if (a.proto === 6 || a.proto === 17 || a.proto === 132) ev['dest_port'] = a.dstPort;
  if (a.vlan !== undefined) ev['vlan'] = a.vlan;
  if (opts.ethernet === true && a.packet !== undefined && a.linkType === 1 && a.packet.length >= 14)
    ev['ether'] = { src_mac: mac(a.packet, 6), dest_mac: mac(a.packet, 0) };
  ev['proto'] = protoName(a.proto);
  ev['ip_v'] = a.ipVer;
  if (a.appProto !== '' && a.appProto !== 'failed') ev['app_proto'] = a.appProto;
  if (a.flowId !== 0) ev['direction'] = a.direction;
  const alert: Record<string, unknown> = {
    action: 'allowed',
    gid: a.gid,
    signature_id: a.sid,
    rev: a.rev,
    signature: a.msg,
    category: a.category,
    severity: a.severity,
  };
  if (a.context !== undefined) alert['context'] = a.context;
  const md = metadataObject(a.metadata);
  if (md !== null) alert['metadata'] = md;
  if (a.target !== null) {
    const src = { ip: a.srcIp, port: a.srcPort };
    const dst = { ip: a.dstIp, port: a.dstPort };
    // As Suricata's AlertJsonSourceTarget: `target:dest_ip` -> source = src_ip, target = dest_ip.
    alert['source'] = a.target === 'src_ip' ? dst : src;
    alert['target'] = a.target === 'src_ip' ? src : dst;
  }
  ev['alert'] = alert;
  if (a.flowvars !== undefined || a.pktvars !== undefined) {
    const md: Record<string, unknown> = {};
    if (a.flowvars !== undefined) md['flowvars'] = a.flowvars;
    if (a.pktvars !== undefined) md['pktvars'] = a.pktvars;
    ev['metadata'] = md;
  }
  if (opts.payload === true && a.payload !== undefined) ev['payload'] = a.payload.toString('base64');
  if (opts.payloadPrintable === true && a.payload !== undefined)
    ev['payload_printable'] = Array.from(a.payload, (c) =>
      (c >= 32 && c < 127) || c === 10 || c === 13 || c === 9 ? String.fromCharCode(c) : '.',
    ).join('');
  if ((opts.payload === true || opts.payloadPrintable === true) && a.payload !== undefined) ev['stream'] = 0;
  if (opts.packet === true && a.packet !== undefined) {
    ev['packet'] = a.packet.toString('base64');
    const info: Record<string, unknown> = { linktype: a.linkType ?? 1 };
    const name = LINKTYPE_NAMES[a.linkType ?? 1];
    if (name !== undefined) info['linktype_name'] = name;
    ev['packet_info'] = info;
  }
  // Suricata's EveAddVerdict in IDS mode: no drop or reject is applied, so the verdict is "alert".
  // A pass rule that matches a packet is inspected before its alert rules (action order), so no
  // alert is raised on such a packet and "pass" cannot occur here.
  if (opts.verdict === true) ev['verdict'] = { action: 'alert' };
  if (a.flow !== undefined) {
    ev['flow'] = {
      pkts_toserver: a.flow.pktsToServer,
      pkts_toclient: a.flow.pktsToClient,
      bytes_toserver: a.flow.bytesToServer,
      bytes_toclient: a.flow.bytesToClient,
      start: eveTimestamp(a.flow.startUs),
    };
  }
  const tx = a.tx;
  if (tx !== undefined) {
    if (tx.kind === 'http') {
      ev['tx_id'] = tx.tx.id;
      ev['http'] = httpEveObject(tx.tx);
    } else if (tx.kind === 'tls') ev['tls'] = tlsEveObject(tx.info);
    else if (tx.kind === 'ssh') ev['ssh'] = sshEveObject(tx.conn);
    else if (tx.kind === 'smtp') {
      ev['tx_id'] = tx.tx.id;
      const body = smtpEveBody(tx.tx);
      ev['smtp'] = body.smtp;
      if (body.email !== undefined) ev['email'] = body.email;
    }
  }
  return ev;
}

/** The EVE `http` event for a finished HTTP transaction (Suricata's fields; src is the client). */
export function httpEvent(rec: HttpRecord, host: string): Record<string, unknown> {
  const ev = appEventHeader(rec.flow, rec.tsUs, 'http', host);
  ev['tx_id'] = rec.tx.id;
  ev['http'] = httpEveObject(rec.tx);
  return ev;
}

/** The EVE `tls` event of a flow's handshake (src is the client). */
export function tlsEvent(rec: TlsRecord, host: string): Record<string, unknown> {
  const ev = appEventHeader(rec.flow, rec.tsUs, 'tls', host);
  ev['tls'] = tlsEveObject(rec.info);
  return ev;
}

/** The EVE `ssh` event of a flow's identification banners (src is the client). */
export function sshEvent(rec: SshRecord, host: string): Record<string, unknown> {
  const ev = appEventHeader(rec.flow, rec.tsUs, 'ssh', host);
  ev['ssh'] = sshEveObject(rec.conn);
  return ev;
}

/** The EVE `ftp` event of one command and its reply (src is the client). */
export function ftpEvent(rec: FtpRecord, host: string): Record<string, unknown> {
  const ev = appEventHeader(rec.flow, rec.tsUs, 'ftp', host);
  ev['ftp'] = ftpEveObject(rec.tx);
  return ev;
}

/** EVE `dns` events for one DNS message (one per object Suricata's v3 format makes of it). */
export function dnsEvents(rec: DnsRecord, host: string): Record<string, unknown>[] {
  return dnsEveObjects(rec.msg, { txId: rec.txId }).map((dns) => {
    const ev = appEventHeader(rec.flow, rec.tsUs, 'dns', host);
    ev['dns'] = dns;
    return ev;
  });
}

/** Suricata decoder counter names for our protocol counts (stats.decoder.*). */
const DECODER_COUNTERS: ReadonlyArray<readonly [string, string]> = [
  ['ethernet', 'ethernet'],
  ['vlan', 'vlan'],
  ['sll', 'sll'],
  ['sll2', 'sll2'],
  ['null', 'null'],
  ['raw', 'raw'],
  ['chdlc', 'chdlc'],
  ['mpls', 'mpls'],
  ['pppoe', 'pppoe'],
  ['arp', 'arp'],
  ['ipv4', 'ipv4'],
  ['ipv6', 'ipv6'],
  ['tcp', 'tcp'],
  ['udp', 'udp'],
  ['icmp', 'icmpv4'],
  ['icmpv6', 'icmpv6'],
  ['sctp', 'sctp'],
  ['gre', 'gre'],
  ['vxlan', 'vxlan'],
  ['geneve', 'geneve'],
  ['invalid', 'invalid'],
];

/** The final EVE `stats` event of a run. */
export function statsEvent(
  c: EngineCounters,
  protocols: Record<string, number>,
  host: string,
  uptimeSeconds: number,
  readErrors: number,
): Record<string, unknown> {
  const decoder: Record<string, unknown> = {
    pkts: c.packets,
    bytes: c.bytes,
    avg_pkt_size: c.packets > 0 ? Math.round(c.bytes / c.packets) : 0,
  };
  for (const [ours, theirs] of DECODER_COUNTERS) decoder[theirs] = protocols[ours] ?? 0;
  // Only events Suricata's schema names go into stats.decoder.event; all of them are in the --json summary.
  const event: Record<string, Record<string, number>> = {};
  for (const [name, n] of Object.entries(c.decoderEvents)) {
    const m = /^decoder\.([a-z0-9_]+)\.([a-z0-9_]+)$/.exec(name);
    if (!m || !EVE_DECODER_EVENT_KEYS.has(`${m[1]}.${m[2]}`)) continue;
    (event[m[1]!] ??= {})[m[2]!] = n;
  }
  decoder['event'] = event;
  // stats.defrag: Suricata's counters of the same names (max_frag_hits is Vigil's own; not in the schema).
  const ev = c.decoderEvents;
  const defrag: Record<string, unknown> = {
    ipv4: {
      fragments: ev['defrag.ipv4.fragments'] ?? 0,
      reassembled: ev['defrag.ipv4.reassembled'] ?? 0,
      timeouts: ev['defrag.ipv4.timeouts'] ?? 0,
    },
    ipv6: {
      fragments: ev['defrag.ipv6.fragments'] ?? 0,
      reassembled: ev['defrag.ipv6.reassembled'] ?? 0,
      timeouts: ev['defrag.ipv6.timeouts'] ?? 0,
    },
    max_trackers_reached: ev['defrag.max_trackers_reached'] ?? 0,
  };
  const f = c.flow;
  const flow: Record<string, unknown> = {
    total: f['total'] ?? 0,
    active: f['active'] ?? 0,
    tcp: f['tcp'] ?? 0,
    udp: f['udp'] ?? 0,
    icmpv4: f['icmpv4'] ?? 0,
    icmpv6: f['icmpv6'] ?? 0,
    tcp_reuse: f['tcp_reuse'] ?? 0,
  };
  return {
    timestamp: eveTimestamp(c.lastTsUs >= 0 ? c.lastTsUs : Date.now() * 1000),
    event_type: 'stats',
    host,
    stats: {
      uptime: Math.round(uptimeSeconds),
      capture: { errors: readErrors },
      decoder,
      defrag,
      flow,
    },
  };
}

/** Buffered EVE JSON lines writer. */
export class EveWriter {
  private readonly fd: number;
  private chunk = '';

  constructor(path: string) {
    this.fd = fs.openSync(path, 'w');
  }

  write(ev: Record<string, unknown>): void {
    this.writeLines(JSON.stringify(ev) + '\n');
  }

  /** Append already formatted lines (each ending in a newline). */
  writeLines(lines: string): void {
    this.chunk += lines;
    if (this.chunk.length >= 1 << 16) this.flush();
  }

  flush(): void {
    if (this.chunk.length > 0) {
      fs.writeSync(this.fd, this.chunk);
      this.chunk = '';
    }
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}
