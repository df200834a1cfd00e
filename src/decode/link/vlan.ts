/** IEEE 802.1Q / 802.1ad tag after EtherType 0x8100, 0x88a8 or 0x9100: TCI(2) EtherType(2). */
import { LAYER } from '../batch.js';
import { u16 } from '../bytes.js';
import type { Ctx } from '../ctx.js';
import { K_ETHERTYPE, invalid, truncated } from '../ctx.js';
import { EV } from '../events.js';

/** Tags per packet beyond which it is rejected (Suricata's VLAN_MAX_LAYERS). */
export const MAX_VLAN_LAYERS = 3;

export function decodeVlan(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.VLAN;
  if (len < 4) return truncated(c, EV.VLAN_HEADER_TOO_SMALL);
  if (c.vlans >= MAX_VLAN_LAYERS) return invalid(c, EV.VLAN_TOO_MANY_LAYERS);
  const id = u16(buf, off) & 0x0fff; // PCP(3) DEI(1) VID(12)
  // vlan column: outer << 12 | inner for QinQ, the id alone for a single tag; a third tag is not kept.
  if (c.vlans === 0) out.vlan[i] = id;
  else if (c.vlans === 1) out.vlan[i] = (out.vlan[i]! << 12) | id;
  c.vlans++;
  c.etype = u16(buf, off + 2);
  c.off = off + 4;
  c.len = len - 4;
  return K_ETHERTYPE;
}
