/**
 * Packet injection for `POST /api/test/inject-packet`: turn a request (raw frames as hex/base64,
 * Ethernet or bare IP, or fields: addresses, ports, protocol, payload) into frames, and run them
 * through a PacketEngine with the built-in rules and behaviour detectors, returning its alerts.
 *
 * Each request gets its own small engine (its own flow table), so injected traffic never mixes
 * with live flows or another request's. Field-built TCP payloads are wrapped in a complete session
 * (handshake, data, ACK, FIN) so stream reassembly and the application-layer parsers see what they
 * would on the wire; raw frames are inspected with midstream pick-up on, since a lone data segment
 * has no handshake before it.
 */
import net from 'node:net';
import { LINKTYPE, PacketBatch } from '../capture/batch.js';
import type { AlertRecord } from '../detect/engine/detector.js';
import type { FlowRecord } from '../flow/table.js';
import { loadDetectRules } from '../detect/engine/load.js';
import type { LoadedRules } from '../detect/engine/load.js';
import { defaultConfig } from '../pipeline/config.js';
import type { EngineConfig } from '../pipeline/config.js';
import { PacketEngine, detectSpec } from '../pipeline/engine.js';
import type { EngineCounters } from '../pipeline/engine.js';
import type { FlowSink } from '../pipeline/sink.js';
import { badRequest } from './errors.js';

/** Frames one request may inject (bounded work per request). */
export const MAX_INJECT_PACKETS = 64;
/** Largest frame accepted (a jumbo frame). */
export const MAX_FRAME_BYTES = 9216;
/** Flow slots of an injection engine: a request is a handful of flows. */
const INJECT_MAX_FLOWS = 1024;

export interface InjectFields {
  src_ip: string;
  dst_ip: string;
  protocol: 'tcp' | 'udp' | 'icmp';
  src_port?: number;
  dst_port?: number;
  /** Payload as text (UTF-8), or exactly one of payload_hex / payload_base64. */
  payload?: string;
  payload_hex?: string;
  payload_base64?: string;
  /** TCP only: wrap the payload in a full session (default true). */
  session?: boolean;
  /** TCP sessions only: the server's answer as text (e.g. an HTTP response), sent after the payload. */
  response?: string;
}

export interface InjectRequest {
  /** One raw frame, or several (`packets`). */
  packet?: string;
  packets?: string[];
  /** Default: hex when the text is only hex digits (separators allowed), else base64. */
  encoding?: 'hex' | 'base64';
  /** Default: `raw` (bare IP) when the first byte looks like an IPv4/IPv6 header, else Ethernet. */
  link?: 'ethernet' | 'raw';
  fields?: InjectFields;
}

export interface InjectFrames {
  frames: Buffer[];
  linkType: number;
  /** Raw frames may start mid-session. */
  midstream: boolean;
}

// ---- decoding the request --------------------------------------------------------------------

function decodeBytes(text: string, encoding: 'hex' | 'base64' | undefined, what: string): Buffer {
  const t = text.trim();
  const hexish = /^(0x)?[0-9a-f\s:-]*$/i.test(t);
  const enc = encoding ?? (hexish ? 'hex' : 'base64');
  if (enc === 'hex') {
    const h = t.replace(/^0x/i, '').replace(/[\s:-]/g, '');
    if (!/^[0-9a-f]*$/i.test(h) || h.length % 2 !== 0) throw badRequest(`${what}: not an even number of hex digits`);
    return Buffer.from(h, 'hex');
  }
  const b = t.replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b) || b.length % 4 === 1) throw badRequest(`${what}: not valid base64`);
  return Buffer.from(b, b.includes('-') || b.includes('_') ? 'base64url' : 'base64');
}

/** The frames of a request, validated (throws a 400 ApiError with the reason). */
export function framesOf(req: InjectRequest, maxPackets = MAX_INJECT_PACKETS): InjectFrames {
  const raw = req.packets ?? (req.packet !== undefined ? [req.packet] : []);
  const given = (raw.length > 0 ? 1 : 0) + (req.fields !== undefined ? 1 : 0);
  if (given !== 1) throw badRequest('give exactly one of packet, packets or fields');
  if (req.fields !== undefined)
    return { frames: framesFromFields(req.fields), linkType: LINKTYPE.ETHERNET, midstream: false };
  if (raw.length > maxPackets) throw badRequest(`at most ${maxPackets} packets per request`);
  const frames = raw.map((p, i) => {
    const b = decodeBytes(p, req.encoding, raw.length === 1 ? 'packet' : `packets[${i}]`);
    if (b.length === 0) throw badRequest('a packet is empty');
    if (b.length > MAX_FRAME_BYTES) throw badRequest(`a packet is longer than ${MAX_FRAME_BYTES} bytes`);
    return b;
  });
  const first = frames[0]![0]! >> 4;
  const link = req.link ?? ((first === 4 && (frames[0]![0]! & 0x0f) >= 5) || first === 6 ? 'raw' : 'ethernet');
  return { frames, linkType: link === 'raw' ? LINKTYPE.RAW : LINKTYPE.ETHERNET, midstream: true };
}

// ---- building frames from fields ---------------------------------------------------------------

const PROTO = { icmp: 1, tcp: 6, udp: 17 } as const;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

function checksum(buf: Buffer, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if ((end - start) % 2 === 1) sum += buf[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  // Expand "::" and an embedded IPv4 tail into eight 16-bit groups.
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4 !== null) {
    const b = ipv4Bytes(v4[1]!);
    s = s.slice(0, -v4[1]!.length) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

interface Endpoint {
  ip: Buffer;
  port: number;
}

/** One Ethernet frame: IPv4 or IPv6 with a TCP, UDP or ICMP(v6) echo header and the payload. */
function frame(
  v6: boolean,
  proto: 'tcp' | 'udp' | 'icmp',
  src: Endpoint,
  dst: Endpoint,
  payload: Buffer,
  tcp: { seq: number; ack: number; flags: number } | null,
): Buffer {
  const l4Len = proto === 'tcp' ? 20 : 8;
  const ipLen = v6 ? 40 : 20;
  const b = Buffer.alloc(14 + ipLen + l4Len + payload.length);
  // Ethernet: locally administered MACs, EtherType IPv4 / IPv6.
  Buffer.from([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]).copy(b, 0);
  b.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  const ip = 14;
  const l4 = ip + ipLen;
  const ipProto = v6 && proto === 'icmp' ? 58 : PROTO[proto];
  if (v6) {
    b.writeUInt32BE(0x60000000, ip);
    b.writeUInt16BE(l4Len + payload.length, ip + 4);
    b[ip + 6] = ipProto;
    b[ip + 7] = 64;
    src.ip.copy(b, ip + 8);
    dst.ip.copy(b, ip + 24);
  } else {
    b[ip] = 0x45;
    b.writeUInt16BE(ipLen + l4Len + payload.length, ip + 2);
    b.writeUInt16BE(0x4000, ip + 6); // DF
    b[ip + 8] = 64;
    b[ip + 9] = ipProto;
    src.ip.copy(b, ip + 12);
    dst.ip.copy(b, ip + 16);
    b.writeUInt16BE(checksum(b, ip, ip + 20), ip + 10);
  }
  if (proto === 'tcp') {
    b.writeUInt16BE(src.port, l4);
    b.writeUInt16BE(dst.port, l4 + 2);
    b.writeUInt32BE(tcp!.seq >>> 0, l4 + 4);
    b.writeUInt32BE(tcp!.ack >>> 0, l4 + 8);
    b[l4 + 12] = 5 << 4;
    b[l4 + 13] = tcp!.flags;
    b.writeUInt16BE(65535, l4 + 14);
  } else if (proto === 'udp') {
    b.writeUInt16BE(src.port, l4);
    b.writeUInt16BE(dst.port, l4 + 2);
    b.writeUInt16BE(8 + payload.length, l4 + 4);
  } else {
    b[l4] = v6 ? 128 : 8; // echo request
    b.writeUInt16BE(1, l4 + 4);
    b.writeUInt16BE(1, l4 + 6);
  }
  payload.copy(b, l4 + l4Len);
  // Transport checksum over the pseudo-header (ICMPv4 has none), so -k all accepts the frame too.
  const segLen = l4Len + payload.length;
  const ckOff = proto === 'tcp' ? 16 : proto === 'udp' ? 6 : 2;
  let pseudo = 0;
  if (!(proto === 'icmp' && !v6)) {
    const addr = v6 ? 16 : 4;
    const a = v6 ? ip + 8 : ip + 12;
    for (let i = 0; i < 2 * addr; i += 2) pseudo += b.readUInt16BE(a + i);
    pseudo += ipProto + segLen;
  }
  let ck = checksum(b, l4, l4 + segLen, pseudo);
  if (proto === 'udp' && ck === 0) ck = 0xffff;
  b.writeUInt16BE(ck, l4 + ckOff);
  return b;
}

/** Frames for a fields request (throws 400 for bad addresses, ports or payloads). */
export function framesFromFields(f: InjectFields): Buffer[] {
  const vs = net.isIP(f.src_ip);
  const vd = net.isIP(f.dst_ip);
  if (vs === 0) throw badRequest(`src_ip must be an IPv4 or IPv6 address, got "${f.src_ip}"`);
  if (vd === 0) throw badRequest(`dst_ip must be an IPv4 or IPv6 address, got "${f.dst_ip}"`);
  if (vs !== vd) throw badRequest('src_ip and dst_ip must both be IPv4 or both IPv6');
  const v6 = vs === 6;
  const n = [f.payload, f.payload_hex, f.payload_base64].filter((x) => x !== undefined).length;
  if (n > 1) throw badRequest('give at most one of payload, payload_hex, payload_base64');
  const payload =
    f.payload !== undefined
      ? Buffer.from(f.payload, 'utf8')
      : f.payload_hex !== undefined
        ? decodeBytes(f.payload_hex, 'hex', 'payload_hex')
        : f.payload_base64 !== undefined
          ? decodeBytes(f.payload_base64, 'base64', 'payload_base64')
          : Buffer.alloc(0);
  if (payload.length > MAX_FRAME_BYTES) throw badRequest(`the payload is longer than ${MAX_FRAME_BYTES} bytes`);
  const addr = (ip: string): Buffer => (v6 ? ipv6Bytes(ip) : ipv4Bytes(ip));
  const cli: Endpoint = { ip: addr(f.src_ip), port: f.src_port ?? 49152 };
  const srv: Endpoint = { ip: addr(f.dst_ip), port: f.dst_port ?? (f.protocol === 'udp' ? 53 : 80) };
  if (f.protocol !== 'tcp') return [frame(v6, f.protocol, cli, srv, payload, null)];
  if (f.session === false)
    return [frame(v6, 'tcp', cli, srv, payload, { seq: 1000, ack: 0, flags: TCP_PSH | TCP_ACK })];
  // A whole session: the stream engine inspects data once the handshake established the flow.
  const resp = Buffer.from(f.response ?? '', 'utf8');
  if (resp.length > MAX_FRAME_BYTES) throw badRequest(`the response is longer than ${MAX_FRAME_BYTES} bytes`);
  const c = 1000;
  const s = 5000;
  const end = c + 1 + payload.length;
  const sEnd = s + 1 + resp.length;
  const none = Buffer.alloc(0);
  const out = [
    frame(v6, 'tcp', cli, srv, none, { seq: c, ack: 0, flags: TCP_SYN }),
    frame(v6, 'tcp', srv, cli, none, { seq: s, ack: c + 1, flags: TCP_SYN | TCP_ACK }),
    frame(v6, 'tcp', cli, srv, none, { seq: c + 1, ack: s + 1, flags: TCP_ACK }),
  ];
  if (payload.length > 0) {
    out.push(frame(v6, 'tcp', cli, srv, payload, { seq: c + 1, ack: s + 1, flags: TCP_PSH | TCP_ACK }));
    out.push(frame(v6, 'tcp', srv, cli, none, { seq: s + 1, ack: end, flags: TCP_ACK }));
  }
  if (resp.length > 0) {
    out.push(frame(v6, 'tcp', srv, cli, resp, { seq: s + 1, ack: end, flags: TCP_PSH | TCP_ACK }));
    out.push(frame(v6, 'tcp', cli, srv, none, { seq: end, ack: sEnd, flags: TCP_ACK }));
  }
  out.push(frame(v6, 'tcp', cli, srv, none, { seq: end, ack: sEnd, flags: TCP_FIN | TCP_ACK }));
  out.push(frame(v6, 'tcp', srv, cli, none, { seq: sEnd, ack: end + 1, flags: TCP_FIN | TCP_ACK }));
  out.push(frame(v6, 'tcp', cli, srv, none, { seq: end + 1, ack: sEnd + 1, flags: TCP_ACK }));
  return out;
}

// ---- running the engine ----------------------------------------------------------------------

let builtin: { rules: LoadedRules } | null = null;

/** The engine configuration of an injection: the defaults, built-in rules, no models, small tables. */
function injectConfig(midstream: boolean): EngineConfig {
  const cfg = defaultConfig();
  cfg.flow.maxFlows = INJECT_MAX_FLOWS;
  cfg.flow.communityId = false;
  cfg.stream.midstream = midstream;
  // Models score finished flows (asynchronously with ONNX): a test packet is for the rules.
  cfg.ml.enabled = false;
  return cfg;
}

export interface InjectResult {
  packets: number;
  alerts: AlertRecord[];
  decoder_events: Record<string, number>;
  /** The engine's counters (protocols, flows, ...). */
  counters: EngineCounters;
}

export interface InjectRunOptions {
  /** Each finished flow, in end order (its `features` view is valid during the call only). */
  onFlow?: (rec: FlowRecord) => void;
}

/** The frames as one packet batch, 1 ms apart from `nowUs`, so ordering-sensitive state (TCP, timeouts) sees a plausible sequence. */
export function injectionBatch(input: InjectFrames, nowUs: number): PacketBatch {
  const batch = new PacketBatch(input.frames.length, Buffer.concat(input.frames));
  let off = 0;
  input.frames.forEach((f, i) => {
    batch.off[i] = off;
    batch.capLen[i] = f.length;
    batch.origLen[i] = f.length;
    batch.tsUs[i] = nowUs + i * 1000;
    batch.linkType[i] = input.linkType;
    batch.ifIndex[i] = 0;
    off += f.length;
  });
  batch.count = input.frames.length;
  return batch;
}

/** Run frames through an engine with the built-in rules; the alerts it raised (flows ended). */
export function runInjection(input: InjectFrames, nowUs: number, opts: InjectRunOptions = {}): InjectResult {
  const cfg = injectConfig(input.midstream);
  // The built-in rules are parsed once per process; every request shares them (read-only).
  builtin ??= { rules: loadDetectRules(detectSpec(cfg)) };
  const alerts: AlertRecord[] = [];
  const onFlow = opts.onFlow;
  const sink: FlowSink = {
    flow: onFlow === undefined ? () => undefined : (rec) => onFlow(rec),
    app: () => undefined,
    alert: (a) => void alerts.push(a),
    drain: () => null,
    finish: () => null,
  };
  const engine = new PacketEngine(cfg, sink, input.frames.length, 0, builtin.rules);
  engine.process(injectionBatch(input, nowUs));
  engine.finish();
  const c = engine.counters();
  return { packets: c.packets, alerts, decoder_events: c.decoderEvents, counters: c };
}
