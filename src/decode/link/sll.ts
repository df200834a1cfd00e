/**
 * Linux "cooked" capture v1 (LINKTYPE_LINUX_SLL, 113): packet type(2) ARPHRD type(2)
 * address length(2) address(8) protocol(2) = 16 bytes; protocol is an EtherType for most devices.
 */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_ETHERTYPE, truncated } from '../ctx.js';
import { EV } from '../events.js';

export const SLL_HEADER_LEN = 16;

export function decodeSll(c: Ctx, buf: Buffer, off: number, len: number): number {
  c.out.layers[c.i]! |= LAYER.SLL;
  if (len < SLL_HEADER_LEN) return truncated(c, EV.SLL_PKT_TOO_SMALL);
  c.etype = u16(buf, off + 14);
  c.off = off + SLL_HEADER_LEN;
  c.len = len - SLL_HEADER_LEN;
  return K_ETHERTYPE;
}
