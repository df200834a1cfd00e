/**
 * TCP (RFC 9293): sport(2) dport(2) seq(4) ack(4) data offset(4 bits) flags(12 bits) window(2)
 * checksum(2) urgent(2) options. Options kept: MSS (2), window scale (3), SACK permitted (4),
 * SACK (5, validated only), timestamps (8). A repeated option keeps its first value.
 */
import { LAYER, PFLAG } from './batch.js';
import { u16, u32 } from './bytes.js';
import { addrSum, fold, sum16 } from './checksum.js';
import type { Ctx } from './ctx.js';
import { K_DONE, invalid, note, truncated } from './ctx.js';
import { EV } from './events.js';

export const TCP_HEADER_LEN = 20;

export function decodeTcp(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.TCP;
  if (len < TCP_HEADER_LEN) {
    if (len >= 4 && c.snapMissing > 0) {
      out.sport[i] = u16(buf, off);
      out.dport[i] = u16(buf, off + 2);
    }
    return truncated(c, EV.TCP_PKT_TOO_SMALL);
  }
  const hlen = (buf[off + 12]! >> 4) << 2;
  if (hlen < TCP_HEADER_LEN) return invalid(c, EV.TCP_HLEN_TOO_SMALL);
  out.sport[i] = u16(buf, off);
  out.dport[i] = u16(buf, off + 2);
  out.tcpSeq[i] = u32(buf, off + 4);
  out.tcpAck[i] = u32(buf, off + 8);
  out.tcpFlags[i] = buf[off + 13]!;
  out.tcpWin[i] = u16(buf, off + 14);
  // l4Off/l4HdrLen only once the whole header (with options) is present: consumers may read it.
  if (len < hlen) return truncated(c, EV.TCP_INVALID_OPTLEN);
  out.l4Off[i] = off;
  out.l4HdrLen[i] = hlen;
  if (hlen > TCP_HEADER_LEN) options(c, buf, off + TCP_HEADER_LEN, off + hlen);
  out.payOff[i] = off + hlen;
  out.payLen[i] = len - hlen;
  if (c.checksums && (out.pflags[i]! & PFLAG.SNAPLEN_TRUNC) === 0) {
    const w = i << 2;
    const v6 = c.ipVer === 6;
    // Pseudo-header: addresses, zero, protocol, TCP length (RFC 9293 §3.1, RFC 8200 §8.1).
    const s = sum16(buf, off, len, addrSum(out.src, out.dst, w, v6 ? 4 : 1) + 6 + len);
    if (fold(s) !== 0) {
      out.pflags[i]! |= PFLAG.BAD_L4_CSUM;
      note(c, EV.TCP_INVALID_CHECKSUM);
    }
  }
  return K_DONE;
}

function options(c: Ctx, buf: Buffer, p: number, end: number): void {
  const out = c.out;
  const i = c.i;
  let seen = 0;
  while (p < end) {
    const k = buf[p]!;
    if (k === 0) return; // end of option list
    if (k === 1) {
      p++; // no-operation
      continue;
    }
    if (p + 1 >= end) {
      invalid(c, EV.TCP_OPT_INVALID_LEN);
      return;
    }
    const ol = buf[p + 1]!;
    if (ol < 2 || p + ol > end) {
      invalid(c, EV.TCP_OPT_INVALID_LEN);
      return;
    }
    if (k <= 8) {
      const bit = 1 << k;
      const dup = (seen & bit) !== 0;
      seen |= bit;
      switch (k) {
        case 2: // MSS
          if (ol !== 4) return void invalid(c, EV.TCP_OPT_INVALID_LEN);
          if (!dup) out.tcpMss[i] = u16(buf, p + 2);
          break;
        case 3: // window scale
          if (ol !== 3) return void invalid(c, EV.TCP_OPT_INVALID_LEN);
          if (!dup) out.tcpWscale[i] = buf[p + 2]!;
          break;
        case 4: // SACK permitted
          if (ol !== 2) return void invalid(c, EV.TCP_OPT_INVALID_LEN);
          out.tcpSackOk[i] = 1;
          break;
        case 5: // SACK: 1 to 4 blocks of 8 bytes
          if (ol < 10 || ol > 34 || (ol - 2) % 8 !== 0) return void invalid(c, EV.TCP_OPT_INVALID_LEN);
          break;
        case 8: // timestamps
          if (ol !== 10) return void invalid(c, EV.TCP_OPT_INVALID_LEN);
          if (!dup) {
            out.tcpTsVal[i] = u32(buf, p + 2);
            out.tcpTsEcr[i] = u32(buf, p + 6);
          }
          break;
        default:
          break;
      }
      if (dup && k !== 6 && k !== 7) note(c, EV.TCP_OPT_DUPLICATE);
    }
    p += ol;
  }
}
