/** Ethernet II / 802.3 (IEEE 802.3 clause 3): dst(6) src(6) EtherType-or-length(2). */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_ETHERTYPE, invalid } from '../ctx.js';
import { EV } from '../events.js';

export const ETHERNET_HEADER_LEN = 14;

export function decodeEthernet(c: Ctx, buf: Buffer, off: number, len: number): number {
  c.out.layers[c.i]! |= LAYER.ETHERNET;
  if (len < ETHERNET_HEADER_LEN) return invalid(c, EV.ETHERNET_PKT_TOO_SMALL);
  // Values below 0x0600 are an 802.3 length (LLC follows): ETHERTYPE_KIND maps them to "other L2".
  c.etype = u16(buf, off + 12);
  c.off = off + ETHERNET_HEADER_LEN;
  c.len = len - ETHERNET_HEADER_LEN;
  return K_ETHERTYPE;
}
