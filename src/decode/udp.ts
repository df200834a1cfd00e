/**
 * UDP (RFC 768): sport(2) dport(2) length(2) checksum(2). The payload is bounded by the UDP
 * length. A destination port listed in `vxlanPorts` hands the payload to the VXLAN decoder, a
 * source or destination port in `genevePorts` to the Geneve decoder.
 */
import { LAYER, PFLAG } from './batch.js';
import { u16 } from './bytes.js';
import { addrSum, fold, sum16 } from './checksum.js';
import type { Ctx } from './ctx.js';
import { K_DONE, K_GENEVE, K_VXLAN, invalid, note, truncated } from './ctx.js';
import { EV } from './events.js';

export const UDP_HEADER_LEN = 8;

export function decodeUdp(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.UDP;
  if (len < UDP_HEADER_LEN) {
    if (len >= 4 && c.snapMissing > 0) {
      out.sport[i] = u16(buf, off);
      out.dport[i] = u16(buf, off + 2);
    }
    return truncated(c, EV.UDP_PKT_TOO_SMALL);
  }
  const dport = u16(buf, off + 2);
  out.sport[i] = u16(buf, off);
  out.dport[i] = dport;
  out.l4Off[i] = off;
  out.l4HdrLen[i] = UDP_HEADER_LEN;
  const ulen = u16(buf, off + 4);
  if (ulen < UDP_HEADER_LEN) return invalid(c, EV.UDP_HLEN_TOO_SMALL);
  let plen = ulen;
  let whole = true;
  if (ulen > len) {
    if ((out.pflags[i]! & PFLAG.SNAPLEN_TRUNC) === 0) return invalid(c, EV.UDP_HLEN_INVALID);
    plen = len;
    whole = false;
  } else if (ulen < len) {
    note(c, EV.UDP_LEN_INVALID); // IP payload longer than the UDP datagram
  }
  out.payOff[i] = off + UDP_HEADER_LEN;
  out.payLen[i] = plen - UDP_HEADER_LEN;
  if (c.checksums && whole) {
    const ck = u16(buf, off + 6);
    const v6 = c.ipVer === 6;
    // IPv4 checksum 0 means "none" (RFC 768); IPv6 requires one (RFC 8200 §8.1).
    if (ck !== 0 || v6) {
      const s = sum16(buf, off, ulen, addrSum(out.src, out.dst, i << 2, v6 ? 4 : 1) + 17 + ulen);
      if (ck === 0 || fold(s) !== 0) {
        out.pflags[i]! |= PFLAG.BAD_L4_CSUM;
        note(c, EV.UDP_INVALID_CHECKSUM);
      }
    }
  }
  if (!whole) return K_DONE;
  if (c.vxlanPort[dport] === 1) {
    c.off = off + UDP_HEADER_LEN;
    c.len = ulen - UDP_HEADER_LEN;
    return K_VXLAN;
  }
  if (c.genevePort[dport] === 1 || c.genevePort[out.sport[i]!] === 1) {
    c.off = off + UDP_HEADER_LEN;
    c.len = ulen - UDP_HEADER_LEN;
    return K_GENEVE;
  }
  return K_DONE;
}
