/**
 * PPP (RFC 1661) framing shared by the PPP link type (LINKTYPE_PPP 9, PPP_HDLC 50), PPPoE and
 * GRE: optional address/control bytes (0xff 0x03, RFC 1662), then the protocol field (2 bytes, or
 * 1 when compressed: an odd first byte, RFC 1661 §6.5). IPv4 (0x0021) and IPv6 (0x0057) decoded.
 */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_DONE, K_IPV4, K_IPV6, note, truncated } from '../ctx.js';
import { EV } from '../events.js';

/** `pppPayload` results besides 4 and 6. */
export const PPP_OTHER = 0;
export const PPP_TRUNCATED = -1;

/**
 * Reads the PPP header at [p, end): sets `c.off`/`c.len` to the payload and returns 4 or 6 for an
 * IP payload, PPP_OTHER for another protocol (LCP, IPCP, CHAP: not an error, counted as
 * decoder.ppp.unsup_proto), PPP_TRUNCATED when the header does not fit (event raised).
 */
export function pppPayload(c: Ctx, buf: Buffer, p: number, end: number): number {
  if (p + 2 <= end && buf[p] === 0xff && buf[p + 1] === 0x03) p += 2;
  if (p >= end) {
    truncated(c, EV.PPP_PKT_TOO_SMALL);
    return PPP_TRUNCATED;
  }
  let proto = buf[p]!;
  if (proto & 1) p += 1;
  else {
    if (p + 2 > end) {
      truncated(c, EV.PPP_PKT_TOO_SMALL);
      return PPP_TRUNCATED;
    }
    proto = u16(buf, p);
    p += 2;
  }
  c.off = p;
  c.len = end - p;
  if (proto === 0x21) return 4;
  if (proto === 0x57) return 6;
  note(c, EV.PPP_UNSUP_PROTO);
  return PPP_OTHER;
}

/** The PPP link types: a PPP header, then IPv4/IPv6 (others end as other L2). */
export function decodePpp(c: Ctx, buf: Buffer, off: number, len: number): number {
  const r = pppPayload(c, buf, off, off + len);
  if (r === 4) return K_IPV4;
  if (r === 6) return K_IPV6;
  if (r === PPP_OTHER) c.out.layers[c.i]! |= LAYER.OTHER_L2;
  return K_DONE;
}
