/**
 * VXLAN (RFC 7348) on the configured UDP ports: flags(1, I bit 0x08) reserved(3) VNI(3)
 * reserved(1), then an Ethernet frame. Without the I flag the datagram stays plain UDP.
 */
import { LAYER } from '../batch.js';
import type { Ctx } from '../ctx.js';
import { K_DONE, K_TUN_ETH } from '../ctx.js';

export const VXLAN_HEADER_LEN = 8;

export function decodeVxlan(c: Ctx, buf: Buffer, off: number, len: number): number {
  if (len < VXLAN_HEADER_LEN || (buf[off]! & 0x08) === 0) return K_DONE;
  c.out.layers[c.i]! |= LAYER.VXLAN;
  c.off = off + VXLAN_HEADER_LEN;
  c.len = len - VXLAN_HEADER_LEN;
  return K_TUN_ETH;
}
