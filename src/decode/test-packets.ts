/**
 * Test helpers: build packets from commented byte arrays and run them through a Decoder.
 * Used by the *.test.ts files of src/decode and by test/fuzz/decode-fuzz.ts; not on the packet path.
 */
import { PacketBatch } from '../capture/batch.js';
import { DecodedBatch } from './batch.js';
import type { DecodeOptions } from './decode.js';
import { Decoder } from './decode.js';
import { DECODER_EVENT_NAMES } from './events.js';

export const MAC_DST = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
export const MAC_SRC = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];

/** Ethernet header: dst MAC, src MAC, EtherType. */
export function eth(etype: number): number[] {
  return [...MAC_DST, ...MAC_SRC, etype >> 8, etype & 0xff];
}

/** 10.0.0.1 and 10.0.0.2 as bytes. */
export const V4_SRC = [10, 0, 0, 1];
export const V4_DST = [10, 0, 0, 2];
/** 2001:db8::1 and 2001:db8::2 as bytes. */
export const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
export const V6_DST = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/** Ones-complement checksum of bytes (with an initial sum). */
export function inetChecksum(bytes: number[], init = 0): number {
  let s = init;
  for (let k = 0; k < bytes.length; k += 2) s += (bytes[k]! << 8) | (bytes[k + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

export interface V4Opts {
  id?: number;
  /** Flags+fragment offset word (e.g. 0x2000 = MF, offset in 8-byte units in the low 13 bits). */
  frag?: number;
  ttl?: number;
  options?: number[];
  /** Override the total length field. */
  totalLength?: number;
  src?: number[];
  dst?: number[];
  badChecksum?: boolean;
}

/** IPv4 header (with a valid checksum unless asked otherwise) followed by `payload`. */
export function ipv4(proto: number, payload: number[], o: V4Opts = {}): number[] {
  const opts = o.options ?? [];
  const hlen = 20 + opts.length;
  const tot = o.totalLength ?? hlen + payload.length;
  const id = o.id ?? 0x1234;
  const frag = o.frag ?? 0x4000; // DF
  const h = [
    0x40 | (hlen >> 2), // version 4, IHL
    0x00, // TOS
    tot >> 8,
    tot & 0xff, // total length
    id >> 8,
    id & 0xff, // identification
    frag >> 8,
    frag & 0xff, // flags, fragment offset
    o.ttl ?? 64, // TTL
    proto, // protocol
    0,
    0, // header checksum (filled below)
    ...(o.src ?? V4_SRC), // source
    ...(o.dst ?? V4_DST), // destination
    ...opts,
  ];
  const ck = inetChecksum(h) ^ (o.badChecksum ? 0x5555 : 0);
  h[10] = ck >> 8;
  h[11] = ck & 0xff;
  return [...h, ...payload];
}

/** IPv6 header followed by `payload` (payload length from it unless given). */
export function ipv6(nh: number, payload: number[], plen = payload.length, hop = 64): number[] {
  return [
    0x60,
    0,
    0,
    0, // version 6, traffic class, flow label
    plen >> 8,
    plen & 0xff, // payload length
    nh, // next header
    hop, // hop limit
    ...V6_SRC,
    ...V6_DST,
    ...payload,
  ];
}

/** Pseudo-header sum for IPv4 (src, dst, proto, length). */
export function v4Pseudo(proto: number, len: number, src = V4_SRC, dst = V4_DST): number {
  return (
    ((src[0]! << 8) | src[1]!) +
    ((src[2]! << 8) | src[3]!) +
    ((dst[0]! << 8) | dst[1]!) +
    ((dst[2]! << 8) | dst[3]!) +
    proto +
    len
  );
}

/** Pseudo-header sum for IPv6. */
export function v6Pseudo(proto: number, len: number): number {
  let s = proto + len;
  for (let k = 0; k < 16; k += 2) s += ((V6_SRC[k]! << 8) | V6_SRC[k + 1]!) + ((V6_DST[k]! << 8) | V6_DST[k + 1]!);
  return s;
}

/** Writes the checksum of `seg` (with pseudo-header sum) at `at` in place and returns seg. */
export function withChecksum(seg: number[], at: number, pseudo: number): number[] {
  seg[at] = 0;
  seg[at + 1] = 0;
  const ck = inetChecksum(seg, pseudo);
  seg[at] = ck >> 8;
  seg[at + 1] = ck & 0xff;
  return seg;
}

export interface TcpOpts {
  flags?: number;
  seq?: number;
  ack?: number;
  win?: number;
  options?: number[];
  /** Override the data offset nibble. */
  doff?: number;
}

/** TCP header (checksum 0) and payload. */
export function tcp(sport: number, dport: number, payload: number[] = [], o: TcpOpts = {}): number[] {
  const opts = o.options ?? [];
  const doff = o.doff ?? (20 + opts.length) >> 2;
  const seq = o.seq ?? 1000;
  const ack = o.ack ?? 0;
  const win = o.win ?? 8192;
  return [
    sport >> 8,
    sport & 0xff, // source port
    dport >> 8,
    dport & 0xff, // destination port
    seq >>> 24,
    (seq >>> 16) & 0xff,
    (seq >>> 8) & 0xff,
    seq & 0xff, // sequence number
    ack >>> 24,
    (ack >>> 16) & 0xff,
    (ack >>> 8) & 0xff,
    ack & 0xff, // acknowledgement number
    doff << 4, // data offset, reserved
    o.flags ?? 0x02, // flags (SYN)
    win >> 8,
    win & 0xff, // window
    0,
    0, // checksum
    0,
    0, // urgent pointer
    ...opts,
    ...payload,
  ];
}

/** UDP header (checksum 0) and payload; `len` overrides the length field. */
export function udp(sport: number, dport: number, payload: number[] = [], len = 8 + payload.length): number[] {
  return [
    sport >> 8,
    sport & 0xff, // source port
    dport >> 8,
    dport & 0xff, // destination port
    len >> 8,
    len & 0xff, // length
    0,
    0, // checksum (none)
    ...payload,
  ];
}

export interface RunOpts {
  linkType?: number;
  /** Original lengths (default: the captured lengths). */
  origLen?: number[];
  tsUs?: number[];
  decoder?: Decoder;
  options?: Partial<DecodeOptions>;
}

export interface RunResult {
  out: DecodedBatch;
  decoder: Decoder;
  batch: PacketBatch;
  /** Non-zero event counts of this run (the decoder's counters). */
  events: Record<string, number>;
}

/**
 * Decodes `packets` as one batch. Packets are laid out with a 3-byte gap (so offsets are not
 * 0) in one buffer, like a reader would.
 */
export function run(packets: ReadonlyArray<ArrayLike<number>>, o: RunOpts = {}): RunResult {
  const batch = new PacketBatch(Math.max(1, packets.length));
  let size = 0;
  for (const p of packets) size += p.length + 3;
  const buf = Buffer.alloc(size);
  let pos = 0;
  packets.forEach((p, i) => {
    pos += 3;
    buf.set(p, pos);
    batch.off[i] = pos;
    batch.capLen[i] = p.length;
    batch.origLen[i] = o.origLen?.[i] ?? p.length;
    batch.tsUs[i] = o.tsUs?.[i] ?? 1_700_000_000_000_000 + i;
    batch.linkType[i] = o.linkType ?? 1;
    pos += p.length;
  });
  batch.buf = buf;
  batch.count = packets.length;
  const decoder = o.decoder ?? new Decoder({ checksumValidation: false, ...o.options });
  const out = new DecodedBatch(Math.max(1, packets.length));
  decoder.decode(batch, out);
  return { out, decoder, batch, events: decoder.eventCounts() };
}

/** Names of events with a non-zero counter. */
export function eventNames(d: Decoder): string[] {
  const r: string[] = [];
  for (let k = 0; k < d.events.length; k++) if (d.events[k] !== 0) r.push(DECODER_EVENT_NAMES[k]!);
  return r;
}
