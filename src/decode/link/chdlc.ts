/**
 * Cisco HDLC (LINKTYPE_C_HDLC, 104), minimal: address(1: 0x0f unicast, 0x8f broadcast)
 * control(1) protocol(2, an EtherType: 0x0800 IPv4, 0x86dd IPv6; SLARP and CDP end as other L2).
 */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_ETHERTYPE, truncated } from '../ctx.js';
import { EV } from '../events.js';

export const CHDLC_HEADER_LEN = 4;

export function decodeChdlc(c: Ctx, buf: Buffer, off: number, len: number): number {
  c.out.layers[c.i]! |= LAYER.CHDLC;
  if (len < CHDLC_HEADER_LEN) return truncated(c, EV.CHDLC_PKT_TOO_SMALL);
  c.etype = u16(buf, off + 2);
  c.off = off + CHDLC_HEADER_LEN;
  c.len = len - CHDLC_HEADER_LEN;
  return K_ETHERTYPE;
}
