/**
 * ARP (RFC 826): htype(2) ptype(2) hlen(1) plen(1) op(2), then sender/target hardware and
 * protocol addresses. Only checked for sanity; no address columns are filled (not IP).
 */
import { LAYER } from './batch.js';
import { u16 } from './bytes.js';
import type { Ctx } from './ctx.js';
import { K_DONE, invalid, note, truncated } from './ctx.js';
import { EV } from './events.js';

export function decodeArp(c: Ctx, buf: Buffer, off: number, len: number): number {
  c.out.layers[c.i]! |= LAYER.ARP;
  if (len < 8) return truncated(c, EV.ARP_PKT_TOO_SMALL);
  const htype = u16(buf, off);
  const ptype = u16(buf, off + 2);
  const hlen = buf[off + 4]!;
  const plen = buf[off + 5]!;
  const op = u16(buf, off + 6);
  if (htype === 1 && hlen !== 6) return invalid(c, EV.ARP_INVALID_HARDWARE_SIZE);
  if (ptype === 0x0800 && plen !== 4) return invalid(c, EV.ARP_INVALID_PROTOCOL_SIZE);
  if (len < 8 + 2 * (hlen + plen)) return truncated(c, EV.ARP_PKT_TOO_SMALL);
  // 1/2 request/reply, 3/4 RARP, 8/9 InARP.
  if (op !== 1 && op !== 2 && op !== 3 && op !== 4 && op !== 8 && op !== 9) note(c, EV.ARP_UNSUPPORTED_OPCODE);
  return K_DONE;
}
