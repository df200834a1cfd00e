/** SCTP (RFC 9260) common header: sport(2) dport(2) verification tag(4) checksum(4); chunks not parsed. */
import { LAYER } from './batch.js';
import { u16 } from './bytes.js';
import type { Ctx } from './ctx.js';
import { K_DONE, truncated } from './ctx.js';
import { EV } from './events.js';

export const SCTP_HEADER_LEN = 12;

export function decodeSctp(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.SCTP;
  if (len < SCTP_HEADER_LEN) return truncated(c, EV.SCTP_PKT_TOO_SMALL);
  out.sport[i] = u16(buf, off);
  out.dport[i] = u16(buf, off + 2);
  out.l4Off[i] = off;
  out.l4HdrLen[i] = SCTP_HEADER_LEN;
  out.payOff[i] = off + SCTP_HEADER_LEN;
  out.payLen[i] = len - SCTP_HEADER_LEN;
  return K_DONE;
}
