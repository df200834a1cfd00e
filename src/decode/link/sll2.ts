/**
 * Linux "cooked" capture v2 (LINKTYPE_LINUX_SLL2, 276): protocol(2) reserved(2) ifindex(4)
 * ARPHRD type(2) packet type(1) address length(1) address(8) = 20 bytes.
 */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_ETHERTYPE, truncated } from '../ctx.js';
import { EV } from '../events.js';

export const SLL2_HEADER_LEN = 20;

export function decodeSll2(c: Ctx, buf: Buffer, off: number, len: number): number {
  c.out.layers[c.i]! |= LAYER.SLL2;
  if (len < SLL2_HEADER_LEN) return truncated(c, EV.SLL2_PKT_TOO_SMALL);
  c.etype = u16(buf, off);
  c.off = off + SLL2_HEADER_LEN;
  c.len = len - SLL2_HEADER_LEN;
  return K_ETHERTYPE;
}
