/**
 * Raw IP (LINKTYPE_RAW 101, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229, and the legacy DLT_RAW values
 * 12 and 14): no link header, the IP version nibble tells IPv4 from IPv6.
 */
import { LAYER } from '../batch.js';
import type { Ctx } from '../ctx.js';
import { K_IPV4, K_IPV6, invalid, truncated } from '../ctx.js';
import { EV } from '../events.js';

export function decodeRaw(c: Ctx, buf: Buffer, off: number, len: number): number {
  c.out.layers[c.i]! |= LAYER.RAW;
  if (len < 1) return truncated(c, EV.IPRAW_INVALID_IP_VERSION);
  const v = buf[off]! >> 4;
  c.off = off;
  c.len = len;
  if (v === 4) return K_IPV4;
  if (v === 6) return K_IPV6;
  return invalid(c, EV.IPRAW_INVALID_IP_VERSION);
}
