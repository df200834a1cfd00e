/**
 * Decoder fuzzing: random bytes, every truncation of real packets, and random mutations of real
 * packets, for every link type, through Decoder.decode. Properties: no exception escapes, no
 * internal error is counted, defragmentation memory stays under its cap, and afterwards the same
 * decoder still decodes valid packets like a fresh one.
 *
 * Used by test/fuzz/decode.test.ts (time-capped) and bench/fuzz.ts (1M+ iterations).
 */
import * as fs from 'node:fs';
import { mulberry32 } from './prng.js';
import * as path from 'node:path';
import { PacketBatch } from '../../src/capture/batch.js';
import { openCaptureFile } from '../../src/capture/open.js';
import { DecodedBatch, LAYER } from '../../src/decode/batch.js';
import { Decoder } from '../../src/decode/decode.js';
import { EV } from '../../src/decode/events.js';
import { eth, ipv4, ipv6, tcp, udp } from '../../src/decode/test-packets.js';
import { SHARED_DIR } from '../helpers/paths.js';

/** Link types the decoder handles, plus one it does not. */
export const FUZZ_LINKTYPES: readonly number[] = [0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 228, 229, 276, 147];

export interface SeedPacket {
  linkType: number;
  bytes: Buffer;
}

export interface FuzzResult {
  iterations: number;
  /** Exceptions that escaped Decoder.decode plus internal errors it caught (both must be 0). */
  exceptions: number;
  /** Packets decoded. */
  packets: number;
  /** Peak defragmentation bytes seen, and the cap. */
  defragPeakBytes: number;
  defragMaxBytes: number;
  /** Seeds decoded differently after fuzzing than by a fresh decoder (must be 0). */
  divergent: number;
  /** Packets whose decoded offsets/lengths point outside their bytes (must be 0). */
  outOfBounds: number;
}

/** Link-layer prefixes that turn an IPv4/IPv6 packet into a packet of each link type. */
function wrap(linkType: number, ip: number[]): number[] {
  const v6 = ip[0]! >> 4 === 6;
  switch (linkType) {
    case 0:
    case 108:
      return [...(v6 ? [30, 0, 0, 0] : [2, 0, 0, 0]), ...ip];
    case 1:
      return [...eth(v6 ? 0x86dd : 0x0800), ...ip];
    case 9:
    case 50:
      return [0xff, 0x03, 0x00, v6 ? 0x57 : 0x21, ...ip];
    case 104:
      return [0x0f, 0x00, ...(v6 ? [0x86, 0xdd] : [0x08, 0x00]), ...ip];
    case 113:
      return [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...(v6 ? [0x86, 0xdd] : [0x08, 0x00]), ...ip];
    case 276:
      return [...(v6 ? [0x86, 0xdd] : [0x08, 0x00]), 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, ...ip];
    default:
      return ip;
  }
}

/** Synthetic packets covering the protocols the corpus lacks (tunnels, IPv6 chains, fragments...). */
function syntheticSeeds(): SeedPacket[] {
  const ips: number[][] = [
    ipv4(
      6,
      tcp(1234, 80, [0x47, 0x45, 0x54], { options: [2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7] }),
    ),
    ipv4(17, udp(53, 53, [1, 2, 3, 4, 5, 6, 7, 8])),
    ipv4(1, [3, 3, 0, 0, 0, 0, 0, 0, ...ipv4(17, udp(1, 161, [0, 0]))]),
    ipv4(17, udp(9, 4789, [0x08, 0, 0, 0, 0, 0, 1, 0, ...eth(0x0800), ...ipv4(6, tcp(1, 2))])),
    ipv4(47, [0x30, 0, 0x08, 0, 0, 0, 0, 1, 0, 0, 0, 2, ...ipv4(17, udp(1, 2))]),
    ipv4(47, [0x00, 0, 0x65, 0x58, ...eth(0x8100), 0, 5, 0x86, 0xdd, ...ipv6(6, tcp(1, 2))]),
    ipv4(47, [
      0x30,
      0x81,
      0x88,
      0x0b,
      0,
      8,
      0,
      1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
      0xff,
      0x03,
      0x00,
      0x21,
      ...ipv4(17, udp(1, 2)),
    ]),
    ipv4(4, ipv4(17, udp(3, 4))),
    ipv4(41, ipv6(17, udp(3, 4))),
    ipv4(132, [0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0]),
    ipv4(17, new Array<number>(16).fill(1), { id: 7, frag: 0x2000 }),
    ipv4(17, new Array<number>(16).fill(2), { id: 7, frag: 0x2002 }),
    ipv4(17, new Array<number>(12).fill(3), { id: 7, frag: 0x0004 }),
    ipv4(17, udp(1, 2), { options: [0x07, 0x07, 0x04, 0, 0, 0, 0, 0x01] }),
    ipv6(0, [
      60,
      0,
      1,
      4,
      0,
      0,
      0,
      0,
      43,
      0,
      5,
      2,
      0,
      0,
      1,
      0,
      44,
      0,
      4,
      0,
      0,
      0,
      0,
      0,
      17,
      0,
      0,
      1,
      0,
      0,
      0,
      9,
      ...udp(1, 2, new Array<number>(8).fill(0)),
    ]),
    ipv6(44, [17, 0, 0, 8, 0, 0, 0, 9, 1, 2, 3, 4]),
    ipv6(58, [1, 4, 0, 0, 0, 0, 0, 0, ...ipv6(17, udp(5, 6))]),
    ipv6(58, [135, 0, 0, 0, 0, 0, 0, 0, ...new Array<number>(16).fill(0)]),
    ipv6(51, [17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, ...udp(1, 2)]),
  ];
  const seeds: SeedPacket[] = [];
  for (const lt of FUZZ_LINKTYPES) for (const ip of ips) seeds.push({ linkType: lt, bytes: Buffer.from(wrap(lt, ip)) });
  const l2: number[][] = [
    [...eth(0x0806), 0, 1, 8, 0, 6, 4, 0, 1, 1, 2, 3, 4, 5, 6, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2],
    [...eth(0x88a8), 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00, ...ipv4(17, udp(1, 2))],
    [...eth(0x8847), 0, 1, 0x01, 64, ...ipv4(17, udp(1, 2))],
    [...eth(0x8864), 0x11, 0, 0, 1, 0, 30, 0, 0x21, ...ipv4(17, udp(1, 2))],
  ];
  for (const p of l2) seeds.push({ linkType: 1, bytes: Buffer.from(p) });
  return seeds;
}

/** Up to `perFile` packets from each of a few real captures (when SHARED_DIR is present). */
function realSeeds(perFile: number): SeedPacket[] {
  const files = [
    'corpus/port_scan.pcap',
    'corpus/benign.pcap',
    'corpus/dos.pcap',
    'data/pcaps/zeek/dns_mdns.pcap',
    'data/pcaps/chrissanders/activeosfingerprinting.pcapng',
    'data/pcaps/zeek/dhcp_dhcp_flood.pcap',
  ];
  const seeds: SeedPacket[] = [];
  for (const f of files) {
    const file = path.join(SHARED_DIR, f);
    if (!fs.existsSync(file)) continue;
    try {
      const r = openCaptureFile(file);
      const b = new PacketBatch(256);
      let n = 0;
      while (n < perFile && r.next(b) > 0) {
        for (let i = 0; i < b.count && n < perFile; i++, n++) {
          const o = b.off[i]!;
          seeds.push({ linkType: b.linkType[i]!, bytes: Buffer.from(b.buf.subarray(o, o + b.capLen[i]!)) });
        }
      }
      r.close();
    } catch {
      // a capture the reader rejects just gives no seeds
    }
  }
  return seeds;
}

let cachedSeeds: SeedPacket[] | null = null;

/** The seed packets: synthetic ones for every link type plus real packets from SHARED_DIR. */
export function fuzzSeeds(): SeedPacket[] {
  cachedSeeds ??= [...syntheticSeeds(), ...realSeeds(150)];
  return cachedSeeds;
}

const INTERESTING = [
  0x00, 0xff, 0x45, 0x46, 0x4f, 0x60, 0x08, 0x81, 0x86, 0xdd, 0x11, 0x06, 0x2f, 0x3a, 0x2c, 0x20, 0x7f, 0x80,
];
const BATCH = 64;
const MAX_LEN = 2048;

/**
 * Runs `iterations` fuzz cases (one packet each, decoded in batches of 64) with a reproducible
 * `seed`, stopping early after `timeLimitMs`. Never throws.
 */
export function fuzzDecoders(iterations: number, seed: number, timeLimitMs = Infinity): FuzzResult {
  const rand = mulberry32(seed);
  const seeds = fuzzSeeds();
  const defragMaxBytes = 256 * 1024;
  const decoders = [
    new Decoder({ checksumValidation: false, defragMaxTrackers: 16, defragMaxBytes, defragTimeoutUs: 2_000_000 }),
    new Decoder({ checksumValidation: true, defragMaxTrackers: 64, defragMaxBytes, vxlanPorts: [4789, 8472, 53] }),
  ];
  const batch = new PacketBatch(BATCH);
  batch.buf = Buffer.alloc(BATCH * MAX_LEN);
  const out = new DecodedBatch(BATCH);
  const res: FuzzResult = {
    iterations: 0,
    exceptions: 0,
    packets: 0,
    defragPeakBytes: 0,
    defragMaxBytes,
    divergent: 0,
    outOfBounds: 0,
  };
  const t0 = Date.now();
  let ts = 1_700_000_000_000_000;
  let trunc = 0; // walks every truncation length of the current seed
  let truncSeed = 0;
  while (res.iterations < iterations) {
    let n = 0;
    for (; n < BATCH && res.iterations < iterations; n++, res.iterations++) {
      const at = n * MAX_LEN;
      const mode = rand();
      let len: number;
      let lt: number;
      if (mode < 0.2 || seeds.length === 0) {
        // random bytes, sometimes starting like an IP header
        len = Math.floor(rand() * 200);
        for (let k = 0; k < len; k++) batch.buf[at + k] = (rand() * 256) | 0;
        if (len > 0 && rand() < 0.5) batch.buf[at] = rand() < 0.5 ? 0x45 : 0x60;
        lt = FUZZ_LINKTYPES[(rand() * FUZZ_LINKTYPES.length) | 0]!;
      } else if (mode < 0.5) {
        // every truncation length of each seed in turn
        const s = seeds[truncSeed % seeds.length]!;
        len = Math.min(trunc, s.bytes.length, MAX_LEN);
        s.bytes.copy(batch.buf, at, 0, len);
        lt = s.linkType;
        if (++trunc > s.bytes.length) {
          trunc = 0;
          truncSeed++;
        }
      } else {
        // mutations of a seed
        const s = seeds[(rand() * seeds.length) | 0]!;
        len = Math.min(s.bytes.length, MAX_LEN);
        s.bytes.copy(batch.buf, at, 0, len);
        const flips = 1 + ((rand() * 6) | 0);
        for (let f = 0; f < flips && len > 0; f++) {
          const pos = Math.min(len - 1, (rand() < 0.7 ? rand() * Math.min(len, 80) : rand() * len) | 0);
          batch.buf[at + pos] = rand() < 0.5 ? INTERESTING[(rand() * INTERESTING.length) | 0]! : (rand() * 256) | 0;
        }
        if (rand() < 0.1) len = Math.max(0, len - ((rand() * 40) | 0));
        lt = rand() < 0.05 ? FUZZ_LINKTYPES[(rand() * FUZZ_LINKTYPES.length) | 0]! : s.linkType;
      }
      batch.off[n] = at;
      batch.capLen[n] = len;
      batch.origLen[n] = rand() < 0.1 ? len + ((rand() * 1500) | 0) : len;
      ts += rand() < 0.01 ? 3_000_000 : (rand() * 1000) | 0;
      batch.tsUs[n] = ts;
      batch.linkType[n] = lt;
    }
    batch.count = n;
    res.packets += n;
    for (const d of decoders) {
      const before = d.events[EV.INTERNAL_ERROR]!;
      try {
        d.decode(batch, out);
      } catch {
        res.exceptions++;
      }
      res.exceptions += d.events[EV.INTERNAL_ERROR]! - before;
      res.outOfBounds += outOfBounds(batch, out);
      res.defragPeakBytes = Math.max(res.defragPeakBytes, d.defragUsage().bytes);
    }
    if (Date.now() - t0 > timeLimitMs) break;
  }
  res.divergent = divergence(decoders[1]!, seeds);
  return res;
}

/** Packets whose columns point outside the bytes they were decoded from (packet or rebuilt datagram). */
function outOfBounds(batch: PacketBatch, out: DecodedBatch): number {
  let bad = 0;
  for (let i = 0; i < out.count; i++) {
    const alt = out.bufSel[i] === 1;
    const start = alt ? 0 : batch.off[i]!;
    const end = alt ? out.alt.length : start + batch.capLen[i]!;
    const l3 = out.l3Off[i]!;
    const l4 = out.l4Off[i]!;
    const pay = out.payOff[i]!;
    const inner = out.icmpInnerOff[i]!;
    if (
      (l3 >= 0 && (l3 < start || l3 + (out.ipVer[i] === 6 ? 40 : 20) > end || l3 + out.ipHdrLen[i]! > end)) ||
      (l4 >= 0 && (l4 < start || l4 + out.l4HdrLen[i]! > end)) ||
      (pay >= 0 && (pay < start || out.payLen[i]! < 0 || pay + out.payLen[i]! > end)) ||
      (pay < 0 && out.payLen[i] !== 0) ||
      (inner >= 0 && (inner < start || inner > end))
    ) {
      bad++;
    }
  }
  return bad;
}

/** Seeds (non-fragments) decoded by a used decoder and a fresh one must agree. */
function divergence(used: Decoder, seeds: SeedPacket[]): number {
  const fresh = new Decoder({ checksumValidation: true, vxlanPorts: [4789, 8472, 53] });
  const batch = new PacketBatch(1);
  const a = new DecodedBatch(1);
  const b = new DecodedBatch(1);
  let bad = 0;
  for (const s of seeds) {
    batch.buf = s.bytes;
    batch.count = 1;
    batch.off[0] = 0;
    batch.capLen[0] = batch.origLen[0] = s.bytes.length;
    batch.linkType[0] = s.linkType;
    batch.tsUs[0] = 2_000_000_000_000_000;
    fresh.decode(batch, b);
    if (b.layers[0]! & (LAYER.FRAGMENT | LAYER.REASSEMBLED)) continue;
    used.decode(batch, a);
    if (
      a.layers[0] !== b.layers[0] ||
      a.sport[0] !== b.sport[0] ||
      a.payLen[0] !== b.payLen[0] ||
      a.src[0] !== b.src[0]
    )
      bad++;
  }
  return bad;
}
