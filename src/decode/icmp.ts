/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443): type(1) code(1) checksum(2) rest-of-header(4), then data.
 * Error messages (v4 types 3, 4, 5, 11, 12; v6 types 1-4) quote the offending IP header right
 * after the 8-byte header: its offset goes to `icmpInnerOff`, and `decodeIcmpQuoted` reads it.
 */
import { LAYER, PFLAG } from './batch.js';
import { u16, u32 } from './bytes.js';
import { addrSum, fold, sum16 } from './checksum.js';
import type { Ctx } from './ctx.js';
import { K_DONE, invalid, note, truncated } from './ctx.js';
import { EV } from './events.js';

export const ICMP_HEADER_LEN = 8;

/** True for ICMPv4 error types, which quote an IP header. */
export function isIcmpv4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** True for ICMPv6 error types (destination unreachable, too big, time exceeded, parameter problem). */
export function isIcmpv6Error(type: number): boolean {
  return type >= 1 && type <= 4;
}

/** Highest valid code per ICMPv4 type, -1 for unknown types (IANA icmp-parameters). */
const V4_MAX_CODE = new Int8Array(256).fill(-1);
V4_MAX_CODE[0] = 0; // echo reply
V4_MAX_CODE[3] = 15; // destination unreachable
V4_MAX_CODE[4] = 0; // source quench
V4_MAX_CODE[5] = 3; // redirect
V4_MAX_CODE[8] = 0; // echo
V4_MAX_CODE[9] = 16; // router advertisement (0 or 16)
V4_MAX_CODE[10] = 0; // router solicitation
V4_MAX_CODE[11] = 1; // time exceeded
V4_MAX_CODE[12] = 2; // parameter problem
for (let t = 13; t <= 18; t++) V4_MAX_CODE[t] = 0; // timestamp, information, address mask
V4_MAX_CODE[30] = 0; // traceroute
V4_MAX_CODE[40] = 5; // photuris
V4_MAX_CODE[42] = 0; // extended echo request
V4_MAX_CODE[43] = 4; // extended echo reply

export function decodeIcmpv4(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  if (c.ipVer === 6) {
    note(c, EV.IPV6_ICMPV4);
    out.layers[i]! |= LAYER.OTHER_IP;
    return K_DONE;
  }
  out.layers[i]! |= LAYER.ICMP;
  if (len < ICMP_HEADER_LEN) return truncated(c, EV.ICMPV4_PKT_TOO_SMALL);
  const type = buf[off]!;
  const code = buf[off + 1]!;
  out.icmpType[i] = type;
  out.icmpCode[i] = code;
  out.l4Off[i] = off;
  out.l4HdrLen[i] = ICMP_HEADER_LEN;
  out.payOff[i] = off + ICMP_HEADER_LEN;
  out.payLen[i] = len - ICMP_HEADER_LEN;
  const max = V4_MAX_CODE[type]!;
  if (max < 0) note(c, EV.ICMPV4_UNKNOWN_TYPE);
  else if (code > max) note(c, EV.ICMPV4_UNKNOWN_CODE);
  if (isIcmpv4Error(type)) {
    if (len < ICMP_HEADER_LEN + 20) {
      if (len > ICMP_HEADER_LEN && buf[off + ICMP_HEADER_LEN]! >> 4 !== 4) invalid(c, EV.ICMPV4_IPV4_UNKNOWN_VER);
      else truncated(c, EV.ICMPV4_IPV4_TRUNC_PKT);
    } else if (buf[off + ICMP_HEADER_LEN]! >> 4 !== 4) {
      invalid(c, EV.ICMPV4_IPV4_UNKNOWN_VER);
    } else {
      out.icmpInnerOff[i] = off + ICMP_HEADER_LEN;
    }
  }
  if (c.checksums && (out.pflags[i]! & PFLAG.SNAPLEN_TRUNC) === 0 && fold(sum16(buf, off, len, 0)) !== 0) {
    out.pflags[i]! |= PFLAG.BAD_L4_CSUM;
    note(c, EV.ICMPV4_INVALID_CHECKSUM);
  }
  return K_DONE;
}

export function decodeIcmpv6(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  if (c.ipVer === 4) {
    note(c, EV.IPV4_ICMPV6);
    out.layers[i]! |= LAYER.OTHER_IP;
    return K_DONE;
  }
  out.layers[i]! |= LAYER.ICMPV6;
  if (len < ICMP_HEADER_LEN) return truncated(c, EV.ICMPV6_PKT_TOO_SMALL);
  const type = buf[off]!;
  const code = buf[off + 1]!;
  out.icmpType[i] = type;
  out.icmpCode[i] = code;
  out.l4Off[i] = off;
  out.l4HdrLen[i] = ICMP_HEADER_LEN;
  out.payOff[i] = off + ICMP_HEADER_LEN;
  out.payLen[i] = len - ICMP_HEADER_LEN;
  checkV6Type(c, type, code);
  if (isIcmpv6Error(type)) {
    if (len < ICMP_HEADER_LEN + 40) {
      if (len > ICMP_HEADER_LEN && buf[off + ICMP_HEADER_LEN]! >> 4 !== 6) invalid(c, EV.ICMPV6_IPV6_UNKNOWN_VERSION);
      else truncated(c, EV.ICMPV6_IPV6_TRUNC_PKT);
    } else if (buf[off + ICMP_HEADER_LEN]! >> 4 !== 6) {
      invalid(c, EV.ICMPV6_IPV6_UNKNOWN_VERSION);
    } else {
      out.icmpInnerOff[i] = off + ICMP_HEADER_LEN;
    }
  }
  if (c.checksums && (out.pflags[i]! & PFLAG.SNAPLEN_TRUNC) === 0) {
    const s = sum16(buf, off, len, addrSum(out.src, out.dst, i << 2, 4) + 58 + len);
    if (fold(s) !== 0) {
      out.pflags[i]! |= PFLAG.BAD_L4_CSUM;
      note(c, EV.ICMPV6_INVALID_CHECKSUM);
    }
  }
  return K_DONE;
}

/** ICMPv6 type/code sanity (IANA icmpv6-parameters). */
function checkV6Type(c: Ctx, type: number, code: number): void {
  let maxCode = 0;
  switch (type) {
    case 1: // destination unreachable
      maxCode = 8;
      break;
    case 2: // packet too big
      break;
    case 3: // time exceeded
      maxCode = 1;
      break;
    case 4: // parameter problem
      maxCode = 10;
      break;
    case 128: // echo request / reply
    case 129:
      break;
    case 130: // MLD query, report, done; MLDv2 report: hop limit must be 1 (RFC 2710 §3)
    case 131:
    case 132:
    case 143:
      if (c.out.ttl[c.i] !== 1) note(c, EV.ICMPV6_MLD_MESSAGE_WITH_INVALID_HL);
      break;
    case 100: // private experimentation (RFC 4443 §2.1)
    case 101:
    case 200:
    case 201:
      note(c, EV.ICMPV6_EXPERIMENTATION_TYPE);
      return;
    case 138: // router renumbering
    case 139: // node information
    case 140:
      maxCode = 255;
      break;
    default:
      if ((type >= 133 && type <= 161) || type === 0x8b) {
        maxCode = 255; // neighbour discovery and later informational types: codes not checked
        break;
      }
      if (type === 0 || type === 127 || type === 255) note(c, EV.ICMPV6_UNKNOWN_TYPE);
      else note(c, EV.ICMPV6_UNASSIGNED_TYPE);
      return;
  }
  if (code > maxCode) note(c, EV.ICMPV6_UNKNOWN_CODE);
}

/** Fields of an IP header (and its transport ports) quoted in an ICMP error. Reuse one instance. */
export class QuotedHeader {
  ipVer = 0;
  proto = 0;
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  sport = 0;
  dport = 0;
}

/**
 * Reads the IP header quoted in an ICMP/ICMPv6 error at `buf[off, off+len)` into `out`:
 * version, protocol, addresses (big-endian words, v4 in word 0) and, for TCP/UDP/SCTP when the
 * first 4 transport bytes are present, the ports (else 0). IPv6 extension headers (hop-by-hop,
 * routing, destination options) are skipped; a non-first fragment yields no ports.
 * Returns false when no IP header can be read (`out` then has ipVer 0). Never throws.
 */
export function decodeIcmpQuoted(buf: Buffer, off: number, len: number, out: QuotedHeader): boolean {
  out.ipVer = 0;
  out.proto = 0;
  out.sport = 0;
  out.dport = 0;
  out.src.fill(0);
  out.dst.fill(0);
  if (len < 1 || off < 0 || off + len > buf.length) return false;
  const v = buf[off]! >> 4;
  let l4 = -1;
  if (v === 4) {
    if (len < 20) return false;
    const hl = (buf[off]! & 15) << 2;
    if (hl < 20) return false;
    out.ipVer = 4;
    out.proto = buf[off + 9]!;
    out.src[0] = u32(buf, off + 12);
    out.dst[0] = u32(buf, off + 16);
    if ((u16(buf, off + 6) & 0x1fff) === 0) l4 = off + hl;
  } else if (v === 6) {
    if (len < 40) return false;
    out.ipVer = 6;
    for (let k = 0; k < 4; k++) {
      out.src[k] = u32(buf, off + 8 + 4 * k);
      out.dst[k] = u32(buf, off + 24 + 4 * k);
    }
    let nh = buf[off + 6]!;
    let p = off + 40;
    const end = off + len;
    for (let n = 0; n < 8; n++) {
      if (nh === 0 || nh === 43 || nh === 60) {
        if (p + 2 > end) break;
        nh = buf[p]!;
        p += (buf[p + 1]! + 1) << 3;
      } else if (nh === 44) {
        if (p + 8 > end) break;
        const first = (u16(buf, p + 2) & 0xfff8) === 0;
        nh = buf[p]!;
        p = first ? p + 8 : end + 1;
      } else break;
    }
    out.proto = nh;
    l4 = p;
  } else {
    return false;
  }
  const p = out.proto;
  if (l4 >= 0 && l4 + 4 <= off + len && (p === 6 || p === 17 || p === 132)) {
    out.sport = u16(buf, l4);
    out.dport = u16(buf, l4 + 2);
  }
  return true;
}
