/**
 * GRE (RFC 2784/2890, version 0): C R K S s recur(3) | flags(5) ver(3) | protocol(2), then
 * checksum+offset (C or R), key (K), sequence (S), source routes (R, RFC 1701 SREs).
 * Version 1 is PPTP's enhanced GRE (RFC 2637): key required, PPP payload (IPv4/IPv6 decoded).
 * Payload protocols decoded: IPv4, IPv6, MPLS, PPP (0x880b), and 0x6558 transparent Ethernet bridging.
 */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_DONE, K_TUN_ETH, K_TUN_ETYPE, K_TUN_IPV4, K_TUN_IPV6, invalid, truncated } from '../ctx.js';
import { ETHERTYPE_KIND } from '../dispatch.js';
import { EV } from '../events.js';
import { pppPayload } from '../link/ppp.js';

/** Source route entries walked before the header is rejected. */
const MAX_SRE = 16;

export function decodeGre(c: Ctx, buf: Buffer, off: number, len: number): number {
  c.out.layers[c.i]! |= LAYER.GRE;
  if (len < 4) return truncated(c, EV.GRE_PKT_TOO_SMALL);
  const f0 = buf[off]!;
  const f1 = buf[off + 1]!;
  const ver = f1 & 7;
  const ptype = u16(buf, off + 2);
  if (ver === 0) {
    if (f0 & 7) return invalid(c, EV.GRE_VERSION0_RECUR);
    if (f1 & 0xf8) return invalid(c, EV.GRE_VERSION0_FLAGS);
    let hl = 4;
    if (f0 & 0xc0) hl += 4; // checksum + offset
    if (f0 & 0x20) hl += 4; // key
    if (f0 & 0x10) hl += 4; // sequence
    if (hl > len) return truncated(c, EV.GRE_VERSION0_HDR_TOO_BIG);
    if (f0 & 0x40) {
      // Routing present: SREs address family(2) offset(1) length(1) data, ended by af 0 length 0.
      let q = off + hl;
      const end = off + len;
      for (let n = 0; ; n++) {
        if (n === MAX_SRE || q + 4 > end) return invalid(c, EV.GRE_VERSION0_MALFORMED_SRE_HDR);
        const af = u16(buf, q);
        const sl = buf[q + 3]!;
        q += 4 + sl;
        if (q > end) return invalid(c, EV.GRE_VERSION0_MALFORMED_SRE_HDR);
        if (af === 0 && sl === 0) break;
      }
      hl = q - off;
    }
    c.off = off + hl;
    c.len = len - hl;
    if (ptype === 0x6558) return K_TUN_ETH;
    if (ptype === 0x880b) return ppp(c, buf, off + hl, off + len);
    if (ptype === 0x0800 || ptype === 0x86dd || ETHERTYPE_KIND[ptype] !== 0) {
      c.etype = ptype;
      return K_TUN_ETYPE;
    }
    return K_DONE; // ERSPAN, WCCP, keepalives...: GRE only
  }
  if (ver === 1) {
    if (f0 & 0x80) return invalid(c, EV.GRE_VERSION1_CHKSUM);
    if (f0 & 0x40) return invalid(c, EV.GRE_VERSION1_ROUTE);
    if (f0 & 0x08) return invalid(c, EV.GRE_VERSION1_SSR);
    if (f0 & 7) return invalid(c, EV.GRE_VERSION1_RECUR);
    if (f1 & 0x78) return invalid(c, EV.GRE_VERSION1_FLAGS);
    if ((f0 & 0x20) === 0) return invalid(c, EV.GRE_VERSION1_NO_KEY);
    if (ptype !== 0x880b) return invalid(c, EV.GRE_VERSION1_WRONG_PROTOCOL);
    let hl = 8; // base + key (payload length, call id)
    if (f0 & 0x10) hl += 4; // sequence
    if (f1 & 0x80) hl += 4; // acknowledgement
    if (hl > len) return truncated(c, EV.GRE_VERSION1_HDR_TOO_BIG);
    if (hl === len) return K_DONE; // acknowledgement only
    return ppp(c, buf, off + hl, off + len);
  }
  return invalid(c, EV.GRE_WRONG_VERSION);
}

/** A PPP frame carried in GRE: IPv4/IPv6 payloads enter a tunnel level. */
function ppp(c: Ctx, buf: Buffer, p: number, end: number): number {
  const r = pppPayload(c, buf, p, end);
  if (r === 4) return K_TUN_IPV4;
  if (r === 6) return K_TUN_IPV6;
  return K_DONE;
}
