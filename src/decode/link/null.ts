/**
 * BSD loopback (LINKTYPE_NULL, 0: address family in the capturing host's byte order) and
 * OpenBSD loopback (LINKTYPE_LOOP, 108: network byte order). Both byte orders are accepted for
 * both: the family is a small number, so a value with a zero low half was written the other way.
 */
import { LAYER } from '../batch.js';
import type { Ctx } from '../ctx.js';
import { K_DONE, K_IPV4, K_IPV6, note, truncated } from '../ctx.js';
import { EV } from '../events.js';

/** AF_INET everywhere; AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (Darwin), 10 (Linux). */
const AF_INET = 2;

export function decodeNull(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  out.layers[c.i]! |= LAYER.NULL;
  if (len < 4) return truncated(c, EV.LTNULL_PKT_TOO_SMALL);
  let af = (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
  if ((af & 0xffff) === 0)
    af = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  c.off = off + 4;
  c.len = len - 4;
  if (af === AF_INET) return K_IPV4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return K_IPV6;
  note(c, EV.LTNULL_UNSUPPORTED_TYPE);
  out.layers[c.i]! |= LAYER.OTHER_L2;
  return K_DONE;
}
