/**
 * MPLS unicast (EtherType 0x8847, RFC 3032): 4-byte label stack entries label(20) TC(3) S(1) TTL(8)
 * until the bottom-of-stack bit; the payload is IPv4 or IPv6 when its version nibble says so
 * (pseudowires and control words end as other L2).
 */
import { LAYER } from '../batch.js';
import type { Ctx } from '../ctx.js';
import { K_DONE, K_IPV4, K_IPV6, invalid, note, truncated } from '../ctx.js';
import { EV } from '../events.js';

/** Label stack entries accepted before giving up (real stacks are 1-5 deep). */
export const MAX_MPLS_LABELS = 16;

export function decodeMpls(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  out.layers[c.i]! |= LAYER.MPLS;
  for (let n = 0; ; n++) {
    if (n === MAX_MPLS_LABELS) return invalid(c, EV.TOO_MANY_LAYERS);
    if (len < 4) return truncated(c, EV.MPLS_HEADER_TOO_SMALL);
    const bos = buf[off + 2]! & 1;
    off += 4;
    len -= 4;
    if (bos) break;
  }
  if (len < 1) return truncated(c, EV.MPLS_PKT_TOO_SMALL);
  c.off = off;
  c.len = len;
  const v = buf[off]! >> 4;
  if (v === 4) return K_IPV4;
  if (v === 6) return K_IPV6;
  note(c, EV.MPLS_UNKNOWN_PAYLOAD_TYPE);
  out.layers[c.i]! |= LAYER.OTHER_L2;
  return K_DONE;
}
