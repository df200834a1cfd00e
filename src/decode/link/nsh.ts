/**
 * Network Service Header (RFC 8300, EtherType 0x894F): a base header (version, TTL, length in
 * 4-byte words, MD type, next protocol), a service path header and metadata; the payload is
 * IPv4, IPv6, Ethernet or another NSH. Checks follow Suricata's decode-nsh.c.
 */
import type { Ctx } from '../ctx.js';
import { K_ETHERNET, K_IPV4, K_IPV6, K_NSH, invalid, truncated } from '../ctx.js';
import { EV } from '../events.js';

/** Base + service path header. */
const NSH_MIN = 8;

export function decodeNsh(c: Ctx, buf: Buffer, off: number, len: number): number {
  if (len < NSH_MIN) return truncated(c, EV.NSH_HEADER_TOO_SMALL);
  const version = buf[off]! >> 6;
  if (version !== 0) return invalid(c, EV.NSH_UNSUPPORTED_VERSION);
  const words = buf[off + 1]! & 0x3f;
  const mdType = buf[off + 2]! & 0x0f;
  const next = buf[off + 3]!;
  const hlen = words * 4;
  if (hlen < NSH_MIN || hlen > len) return invalid(c, EV.NSH_BAD_HEADER_LENGTH);
  // MD type 1 has a fixed 24-byte header; 0 and 0xf are reserved; type 2 is variable.
  if (mdType === 1 && words !== 6) return invalid(c, EV.NSH_BAD_HEADER_LENGTH);
  if (mdType === 0 || mdType === 0xf) return invalid(c, EV.NSH_RESERVED_TYPE);
  if (mdType !== 1 && mdType !== 2) return invalid(c, EV.NSH_UNSUPPORTED_TYPE);
  c.off = off + hlen;
  c.len = len - hlen;
  switch (next) {
    case 1:
      return K_IPV4;
    case 2:
      return K_IPV6;
    case 3:
      return K_ETHERNET;
    case 4:
      return K_NSH;
    default:
      return invalid(c, EV.NSH_UNKNOWN_PAYLOAD);
  }
}
