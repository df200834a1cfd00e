/**
 * PPPoE session stage (EtherType 0x8864, RFC 2516): ver/type(1, 0x11) code(1, 0) session(2)
 * length(2), then a PPP header (ppp.ts): IPv4 and IPv6 decoded; LCP/IPCP and the rest end as other L2.
 */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_DONE, K_IPV4, K_IPV6, invalid, truncated } from '../ctx.js';
import { EV } from '../events.js';
import { PPP_OTHER, pppPayload } from './ppp.js';

export const PPPOE_HEADER_LEN = 6;

export function decodePppoe(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  out.layers[c.i]! |= LAYER.PPPOE;
  if (len < PPPOE_HEADER_LEN) return truncated(c, EV.PPPOE_PKT_TOO_SMALL);
  if (buf[off + 1] !== 0) return invalid(c, EV.PPPOE_WRONG_CODE);
  const plen = Math.min(u16(buf, off + 4), len - PPPOE_HEADER_LEN);
  const r = pppPayload(c, buf, off + PPPOE_HEADER_LEN, off + PPPOE_HEADER_LEN + Math.max(0, plen));
  if (r === 4) return K_IPV4;
  if (r === 6) return K_IPV6;
  if (r === PPP_OTHER) out.layers[c.i]! |= LAYER.OTHER_L2;
  return K_DONE;
}
