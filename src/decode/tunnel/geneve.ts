/**
 * Geneve (RFC 8926) on the configured UDP ports (either port, as Suricata checks them; default
 * 6081, the port AWS Gateway Load Balancer and OVN use): ver(2 bits) opt_len(6, 4-byte words)
 * O C rsvd(6) protocol(2) VNI(3) reserved(1), then the options (class(2) type(1) rsvd(3 bits)
 * len(5, words) data), then the inner packet: Ethernet (0x6558), IPv4 or IPv6.
 *
 * As in Suricata's decoder, a header that is not version 0, sets reserved bits, is longer than the
 * datagram or whose options do not add up to its length leaves the datagram plain UDP; an ARP
 * payload is not decoded further; another protocol type raises decoder.geneve.unknown_payload_type.
 */
import { LAYER } from '../batch.js';
import type { Ctx } from '../ctx.js';
import { K_DONE, K_TUN_ETH, K_TUN_IPV4, K_TUN_IPV6, invalid } from '../ctx.js';
import { EV } from '../events.js';

export const GENEVE_HEADER_LEN = 8;

export function decodeGeneve(c: Ctx, buf: Buffer, off: number, len: number): number {
  if (len < GENEVE_HEADER_LEN) return K_DONE;
  const b0 = buf[off]!;
  if (b0 >>> 6 !== 0 || (buf[off + 1]! & 0x3f) !== 0 || buf[off + 7] !== 0) return K_DONE;
  const optLen = (b0 & 0x3f) * 4;
  const hdrLen = GENEVE_HEADER_LEN + optLen;
  if (len < hdrLen) return K_DONE;
  // The options must fill the option area exactly (each is 4 + 4 * len bytes).
  let p = off + GENEVE_HEADER_LEN;
  const end = off + hdrLen;
  while (p < end) p += 4 + (buf[p + 3]! & 0x1f) * 4;
  if (p !== end) return K_DONE;
  const type = (buf[off + 2]! << 8) | buf[off + 3]!;
  c.out.layers[c.i]! |= LAYER.GENEVE;
  c.off = off + hdrLen;
  c.len = len - hdrLen;
  switch (type) {
    case 0x6558:
      return K_TUN_ETH;
    case 0x0800:
      return K_TUN_IPV4;
    case 0x86dd:
      return K_TUN_IPV6;
    case 0x0806:
      return K_DONE;
    default:
      return invalid(c, EV.GENEVE_UNKNOWN_PAYLOAD_TYPE);
  }
}
