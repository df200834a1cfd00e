/**
 * IPv4 (RFC 791): version/IHL(1) TOS(1) total length(2) id(2) flags/fragment offset(2) TTL(1)
 * protocol(1) checksum(2) source(4) destination(4) options(IHL*4-20).
 *
 * Lengths: the payload is bounded by the total length, never the frame (Ethernet padding is
 * ignored). A total length beyond the captured bytes is `decoder.ipv4.trunc_pkt`, unless the
 * snaplen explains the missing bytes: then what is present is decoded and PFLAG.SNAPLEN_TRUNC set.
 */
import { LAYER, PFLAG } from './batch.js';
import { u16, u32 } from './bytes.js';
import { fold, sum16 } from './checksum.js';
import type { Ctx } from './ctx.js';
import { K_DONE, K_IPPROTO, K_IPV4, altReserve, invalid, note, truncated } from './ctx.js';
import { DEFRAG_INVALID } from './defrag.js';
import { EV } from './events.js';

export const IPV4_HEADER_LEN = 20;

export function decodeIpv4(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.IPV4;
  if (len < IPV4_HEADER_LEN) return truncated(c, EV.IPV4_PKT_TOO_SMALL);
  const b0 = buf[off]!;
  if (b0 >> 4 !== 4) return invalid(c, EV.IPV4_WRONG_IP_VERSION);
  const hlen = (b0 & 15) << 2;
  if (hlen < IPV4_HEADER_LEN) return invalid(c, EV.IPV4_HLEN_TOO_SMALL);
  const tot = u16(buf, off + 2);
  if (tot < hlen) return invalid(c, EV.IPV4_IPLEN_SMALLER_THAN_HLEN);
  if (len < hlen) return truncated(c, EV.IPV4_TRUNC_PKT);
  let avail = tot;
  if (tot > len) {
    if (tot - len > c.snapMissing) return invalid(c, EV.IPV4_TRUNC_PKT);
    out.pflags[i]! |= PFLAG.SNAPLEN_TRUNC;
    avail = len;
  }
  const proto = buf[off + 9]!;
  const w = i << 2;
  out.src[w] = u32(buf, off + 12);
  out.dst[w] = u32(buf, off + 16);
  out.src[w + 1] = out.src[w + 2] = out.src[w + 3] = 0;
  out.dst[w + 1] = out.dst[w + 2] = out.dst[w + 3] = 0;
  out.ipVer[i] = 4;
  out.proto[i] = proto;
  out.ttl[i] = buf[off + 8]!;
  out.ipHdrLen[i] = hlen;
  out.ipLen[i] = tot;
  out.l3Off[i] = off;
  c.ipVer = 4;

  if (hlen > IPV4_HEADER_LEN && !checkOptions(c, buf, off + IPV4_HEADER_LEN, off + hlen)) return K_DONE;
  if (c.checksums && fold(sum16(buf, off, hlen, 0)) !== 0) {
    out.pflags[i]! |= PFLAG.BAD_IP_CSUM;
    note(c, EV.IPV4_INVALID_CHECKSUM);
  }

  const frag = u16(buf, off + 6);
  if ((frag & 0x3fff) !== 0) return fragment(c, buf, off, hlen, avail, frag, proto);

  c.off = off + hlen;
  c.len = avail - hlen;
  c.ipproto = proto;
  return K_IPPROTO;
}

/** A fragment: hand it to the defragmenter; when it completes the datagram, decode the rebuilt one. */
function fragment(c: Ctx, buf: Buffer, off: number, hlen: number, avail: number, frag: number, proto: number): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.FRAGMENT;
  // A fragment the snaplen cut cannot be rebuilt; it stays a fragment.
  if (avail < u16(buf, off + 2)) return K_DONE;
  const more = (frag & 0x2000) !== 0;
  const fragOff = (frag & 0x1fff) << 3;
  const d = c.defrag;
  const r = d.add(
    4,
    proto,
    out.src,
    out.dst,
    i << 2,
    u16(buf, off + 4),
    buf,
    off,
    hlen,
    0,
    off + hlen,
    avail - hlen,
    fragOff,
    more,
    c.tsUs,
  );
  if (d.lastOverlap) out.pflags[i]! |= PFLAG.FRAG_OVERLAP;
  if (r < 0) {
    if (r === DEFRAG_INVALID) out.layers[i]! |= LAYER.INVALID;
    return K_DONE;
  }
  const overlap = d.overlapped(r);
  const dlen = d.datagramLength(r);
  const pos = altReserve(c, dlen);
  d.take(r, 4, out.alt, pos);
  out.layers[i] = (out.layers[i]! & ~LAYER.FRAGMENT) | LAYER.REASSEMBLED;
  if (overlap) out.pflags[i]! |= PFLAG.FRAG_OVERLAP;
  if (!c.inReasm) {
    out.reasmPrefix[i] = off - c.frameOff;
    out.reasmOff[i] = pos;
    out.reasmLen[i] = dlen;
  }
  out.bufSel[i] = 1;
  c.buf = out.alt;
  c.off = pos;
  c.len = dlen;
  c.snapMissing = 0;
  c.inReasm = true;
  return K_IPV4;
}

// Option types whose repetition is flagged (RFC 791, RFC 1108, RFC 2113, RFC 4782, CIPSO draft).
const OPT_RR = 7;
const OPT_QS = 25;
const OPT_TS = 68;
const OPT_SEC = 130;
const OPT_LSRR = 131;
const OPT_CIPSO = 134;
const OPT_SID = 136;
const OPT_SSRR = 137;
const OPT_RTRALT = 148;

/** Bit for a known option type (for duplicate detection), 0 for unknown ones. */
function optBit(t: number): number {
  switch (t) {
    case OPT_RR:
      return 1;
    case OPT_QS:
      return 2;
    case OPT_TS:
      return 4;
    case OPT_SEC:
      return 8;
    case OPT_LSRR:
      return 16;
    case OPT_CIPSO:
      return 32;
    case OPT_SID:
      return 64;
    case OPT_SSRR:
      return 128;
    case OPT_RTRALT:
      return 256;
    default:
      return 0;
  }
}

/**
 * Walks the options in [p, end). Returns false (after an invalidating event) when they are
 * malformed: a length byte missing (opt_invalid), a length below 2 or past the header (opt_invalid_len), or a
 * route/timestamp/fixed-size option with an impossible length or pointer (opt_malformed).
 */
function checkOptions(c: Ctx, buf: Buffer, p: number, end: number): boolean {
  let seen = 0;
  while (p < end) {
    const t = buf[p]!;
    if (t === 0) break; // end of option list
    if (t === 1) {
      p++; // no-operation
      continue;
    }
    if (p + 1 >= end) {
      invalid(c, EV.IPV4_OPT_INVALID); // no room for the length byte
      return false;
    }
    const ol = buf[p + 1]!;
    if (ol < 2 || p + ol > end) {
      invalid(c, EV.IPV4_OPT_INVALID_LEN);
      return false;
    }
    const bit = optBit(t);
    if (bit === 0) {
      note(c, EV.IPV4_OPT_UNKNOWN);
    } else {
      if (seen & bit) note(c, EV.IPV4_OPT_DUPLICATE);
      seen |= bit;
      let ok = true;
      switch (t) {
        case OPT_RR:
        case OPT_LSRR:
        case OPT_SSRR:
          // pointer(1) >= 4, route data a multiple of 4 bytes.
          ok = ol >= 3 && (ol - 3) % 4 === 0 && (ol === 3 || buf[p + 2]! >= 4);
          break;
        case OPT_TS:
          ok = ol >= 4 && buf[p + 2]! >= 5;
          break;
        case OPT_QS:
          ok = ol === 8;
          break;
        case OPT_SID:
        case OPT_RTRALT:
          ok = ol === 4;
          break;
        case OPT_CIPSO:
          ok = ol >= 6;
          break;
        default:
          break;
      }
      if (!ok) {
        invalid(c, EV.IPV4_OPT_MALFORMED);
        return false;
      }
    }
    p += ol;
  }
  return true;
}
