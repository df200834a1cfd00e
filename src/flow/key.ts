/**
 * Flow keys: the symmetric flow hash used to index the flow table and to shard flows across
 * workers, Community ID v1 (https://github.com/corelight/community-id-spec), and address formatting.
 */
import * as crypto from 'node:crypto';
import type { DecodedBatch } from '../decode/batch.js';

/** IP protocol numbers the flow layer treats specially. */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132 } as const;

/** True for ICMP and ICMPv6: their flows are keyed by addresses only (type/code ignored), like Suricata's. */
export function isIcmpProto(proto: number): boolean {
  return proto === 1 || proto === 58;
}

// Multiplicative mixing constants (odd, from MurmurHash3 / splitmix / golden ratio).
const K1 = 0x85ebca6b | 0;
const K2 = 0xc2b2ae35 | 0;
const K3 = 0x27d4eb2f | 0;
const K4 = 0x9e3779b1 | 0;
const K5 = 0x165667b1 | 0;

/** MurmurHash3's 32-bit finaliser: full avalanche. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, K1);
  h ^= h >>> 13;
  h = Math.imul(h, K2);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Symmetric 32-bit flow hash of packet `i`: both directions of a flow hash to the same value.
 * Covers addresses, ports (ignored for ICMP/ICMPv6, whose flows are keyed by addresses), IP
 * protocol, IP version and VLAN ids. Each endpoint is folded to one word and multiplied by an odd
 * constant; the two endpoints are combined with commutative operations (sum, xor), then the
 * MurmurHash3 finaliser spreads the bits. Kept short because it runs for every packet, twice
 * when the pipeline shards by it (about 10 ns; the earlier 4-round Murmur mix cost 40 ns, see
 * docs/flows.md).
 */
export function flowHash(dec: DecodedBatch, i: number): number {
  const w = i * 4;
  const proto = dec.proto[i]!;
  const ver = dec.ipVer[i]!;
  const src = dec.src;
  const dst = dec.dst;
  let a = src[w]! | 0;
  let b = dst[w]! | 0;
  if (ver === 6) {
    a ^= Math.imul(src[w + 1]! | 0, K1) ^ Math.imul(src[w + 2]! | 0, K2) ^ Math.imul(src[w + 3]! | 0, K3);
    b ^= Math.imul(dst[w + 1]! | 0, K1) ^ Math.imul(dst[w + 2]! | 0, K2) ^ Math.imul(dst[w + 3]! | 0, K3);
  }
  if (proto !== 1 && proto !== 58) {
    a ^= Math.imul(dec.sport[i]!, K4);
    b ^= Math.imul(dec.dport[i]!, K4);
  }
  a = Math.imul(a ^ (a >>> 15), K5);
  b = Math.imul(b ^ (b >>> 15), K5);
  const h = ((a + b) | 0) ^ ((a ^ b) >>> 11) ^ Math.imul((proto << 8) | ver, K3) ^ Math.imul(dec.vlan[i]! | 0, K2);
  return fmix(h);
}

// ---- Community ID v1 ---------------------------------------------------------------------------

/** ICMPv4 type -> "counter-type" for two-way exchanges (Zeek's ICMP4_counterpart, used by the spec). */
const ICMP4_COUNTER: ReadonlyMap<number, number> = new Map([
  [8, 0], // echo -> echo reply
  [0, 8],
  [13, 14], // timestamp
  [14, 13],
  [15, 16], // information request
  [16, 15],
  [10, 9], // router solicitation -> advertisement
  [9, 10],
  [17, 18], // address mask
  [18, 17],
]);

/** ICMPv6 type -> counter-type (Zeek's ICMP6_counterpart). */
const ICMP6_COUNTER: ReadonlyMap<number, number> = new Map([
  [128, 129], // echo request -> reply
  [129, 128],
  [133, 134], // router solicitation -> advertisement
  [134, 133],
  [135, 136], // neighbor solicitation -> advertisement
  [136, 135],
  [130, 131], // MLD listener query -> report
  [131, 130],
  [139, 140], // node information query -> response (WRU)
  [140, 139],
  [144, 145], // home agent address discovery request -> reply
  [145, 144],
]);

/** Input of one Community ID hash (at most 2 + 16 + 16 + 2 + 4 = 40 bytes). */
const CID_SCRATCH = Buffer.alloc(40);
/** Views of CID_SCRATCH for the four input lengths (IPv4/IPv6, with or without ports). */
const CID_VIEWS: ReadonlyMap<number, Buffer> = new Map([12, 16, 36, 40].map((n) => [n, CID_SCRATCH.subarray(0, n)]));
const ONE_SHOT: ((alg: string, data: Buffer, enc: 'hex' | 'base64') => string) | undefined =
  typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** Protocols whose ports enter the Community ID hash (TCP, UDP, SCTP; ICMP/ICMPv6 via type/code). */
function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132 || proto === 1 || proto === 58;
}

/** Compare endpoint (a, ap) with (b, bp) as big-endian bytes then port: <0, 0, >0. */
function cmpEndpoint(
  words: number,
  a: Uint32Array,
  aOff: number,
  ap: number,
  b: Uint32Array,
  bOff: number,
  bp: number,
): number {
  for (let k = 0; k < words; k++) {
    const x = a[aOff + k]! >>> 0;
    const y = b[bOff + k]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return ap - bp;
}

/**
 * Community ID v1 with an explicit output encoding (`base64` true: "1:" + base64 of the SHA-1,
 * false: "1:" + lowercase hex, the spec's --no-base64 variant). For ICMP/ICMPv6, `sport` is the
 * type and `dport` the code; they are mapped to ports as the spec does (Zeek's counter-types).
 */
export function communityIdEncoded(
  ipVer: 4 | 6,
  src: Uint32Array,
  srcOff: number,
  dst: Uint32Array,
  dstOff: number,
  proto: number,
  sport: number,
  dport: number,
  seed: number,
  base64: boolean,
): string {
  const words = ipVer === 6 ? 4 : 1;
  let sp = sport & 0xffff;
  let dp = dport & 0xffff;
  let oneWay = false;
  if (proto === 1 || proto === 58) {
    const counter = (proto === 1 ? ICMP4_COUNTER : ICMP6_COUNTER).get(sp);
    if (counter === undefined) oneWay = true;
    else dp = counter;
  }
  const ports = hasPorts(proto);
  let a = src;
  let aOff = srcOff;
  let b = dst;
  let bOff = dstOff;
  // Order endpoints so the smaller IP:port comes first, except for one-way ICMP messages,
  // whose direction is kept (the spec, following Zeek).
  if (!oneWay && cmpEndpoint(words, src, srcOff, ports ? sp : 0, dst, dstOff, ports ? dp : 0) > 0) {
    a = dst;
    aOff = dstOff;
    b = src;
    bOff = srcOff;
    const t = sp;
    sp = dp;
    dp = t;
  }
  const len = 2 + 8 * words + 2 + (ports ? 4 : 0);
  const buf = CID_VIEWS.get(len)!;
  buf[0] = (seed >>> 8) & 0xff;
  buf[1] = seed & 0xff;
  let o = 2;
  for (let k = 0; k < words; k++) {
    const x = a[aOff + k]!;
    buf[o] = x >>> 24;
    buf[o + 1] = (x >>> 16) & 0xff;
    buf[o + 2] = (x >>> 8) & 0xff;
    buf[o + 3] = x & 0xff;
    o += 4;
  }
  for (let k = 0; k < words; k++) {
    const x = b[bOff + k]!;
    buf[o] = x >>> 24;
    buf[o + 1] = (x >>> 16) & 0xff;
    buf[o + 2] = (x >>> 8) & 0xff;
    buf[o + 3] = x & 0xff;
    o += 4;
  }
  buf[o] = proto & 0xff;
  buf[o + 1] = 0;
  if (ports) {
    buf[o + 2] = sp >>> 8;
    buf[o + 3] = sp & 0xff;
    buf[o + 4] = dp >>> 8;
    buf[o + 5] = dp & 0xff;
  }
  const enc = base64 ? 'base64' : 'hex';
  // One-shot crypto.hash (Node >= 20.12) is several times cheaper than a Hash object; this runs
  // once per flow, which matters for floods of tiny flows.
  const digest =
    ONE_SHOT !== undefined ? ONE_SHOT('sha1', buf, enc) : crypto.createHash('sha1').update(buf).digest(enc);
  return '1:' + digest;
}

/** Community ID v1 ("1:" + base64 SHA-1) of a flow tuple given as address words (see `communityIdEncoded`). */
export function communityId(
  ipVer: 4 | 6,
  src: Uint32Array,
  srcOff: number,
  dst: Uint32Array,
  dstOff: number,
  proto: number,
  sport: number,
  dport: number,
  seed = 0,
): string {
  return communityIdEncoded(ipVer, src, srcOff, dst, dstOff, proto, sport, dport, seed, true);
}

/**
 * Community ID from address strings (tests, API). Port-less protocols ignore `sport`/`dport`.
 * `base64` false gives the spec's hex variant. Throws on an unparsable address.
 */
export function communityIdFromStrings(
  saddr: string,
  daddr: string,
  proto: number,
  sport: number,
  dport: number,
  seed = 0,
  base64 = true,
): string {
  const s = new Uint32Array(4);
  const d = new Uint32Array(4);
  const vs = parseIp(saddr, s, 0);
  const vd = parseIp(daddr, d, 0);
  if (vs === 0 || vs !== vd) throw new Error(`bad address pair: ${saddr} ${daddr}`);
  return communityIdEncoded(vs, s, 0, d, 0, proto, sport, dport, seed, base64);
}

// ---- Address parsing and formatting -----------------------------------------------------------

/**
 * Parse an IPv4 or IPv6 address string into 4 big-endian words at `out[off..off+3]` (IPv4 in
 * word 0, the rest 0, as in DecodedBatch). Returns 4, 6, or 0 when the string is not an address.
 * Not for the packet path.
 */
export function parseIp(text: string, out: Uint32Array, off: number): 0 | 4 | 6 {
  out[off] = out[off + 1] = out[off + 2] = out[off + 3] = 0;
  const v4 = parseV4(text);
  if (v4 >= 0) {
    out[off] = v4;
    return 4;
  }
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const groups = new Array<number>(8).fill(0);
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return 0;
  const parseGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const res: number[] = [];
    const items = part.split(':');
    for (let k = 0; k < items.length; k++) {
      const it = items[k]!;
      if (k === items.length - 1 && it.includes('.')) {
        const x = parseV4(it);
        if (x < 0) return null;
        res.push(x >>> 16, x & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        res.push(parseInt(it, 16));
      }
    }
    return res;
  };
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (head === null || tail === null || head.length + tail.length > 7) return 0;
    for (let k = 0; k < head.length; k++) groups[k] = head[k]!;
    for (let k = 0; k < tail.length; k++) groups[8 - tail.length + k] = tail[k]!;
  } else {
    const all = parseGroups(s);
    if (all === null || all.length !== 8) return 0;
    for (let k = 0; k < 8; k++) groups[k] = all[k]!;
  }
  for (let k = 0; k < 4; k++) out[off + k] = ((groups[2 * k]! << 16) | groups[2 * k + 1]!) >>> 0;
  return 6;
}

/**
 * Dotted-quad IPv4 (exactly four decimal parts of 1-3 digits, each <= 255) to its 32-bit value,
 * or -1. Hand-written over char codes: behaviour detectors call this for every finished flow, and
 * split + a regex per part allocated and cost ~1 µs each time.
 */
function parseV4(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let v = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return -1;
      part = part * 10 + (c - 0x30);
      if (part > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return v * 256 + part;
}

function v4String(w: number): string {
  return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
}

/**
 * Format an address held as words (IPv4 in word 0): dotted quad, or IPv6 per RFC 5952 (lowercase,
 * no leading zeros, the longest run of two or more zero groups — the first on a tie — as "::",
 * IPv4-mapped addresses as ::ffff:a.b.c.d). Called at output time only.
 */
export function formatIp(ipVer: number, words: Uint32Array, off: number): string {
  if (ipVer !== 6) return v4String(words[off]! >>> 0);
  const w0 = words[off]! >>> 0;
  const w1 = words[off + 1]! >>> 0;
  const w2 = words[off + 2]! >>> 0;
  const w3 = words[off + 3]! >>> 0;
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return '::ffff:' + v4String(w3);
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestLen = e - k;
      bestStart = k;
    }
    k = e;
  }
  if (bestStart < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16));
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16));
  return head.join(':') + '::' + tail.join(':');
}
