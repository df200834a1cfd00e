/**
 * Shard selection for worker threads. The reader thread does not decode: it peeks at the link and
 * IP headers just far enough to hash the IP address pair. The hash is symmetric (both directions
 * give the same value) and ignores ports on purpose, so that every fragment of a datagram and
 * both directions of every flow between two hosts reach the same worker, where the full decoder,
 * defragmenter and flow table run. Packets without an IP header go to shard 0.
 */
import { LINKTYPE } from '../capture/batch.js';
import { mix32 } from '../util/hash.js';

function ipPairHash(buf: Buffer, off: number, end: number): number {
  if (off >= end) return 0;
  const v = buf[off]! >> 4;
  if (v === 4 && off + 20 <= end) {
    // Symmetric: sum of per-endpoint hashes.
    return (mix32(buf.readUInt32BE(off + 12)) + mix32(buf.readUInt32BE(off + 16))) >>> 0;
  }
  if (v === 6 && off + 40 <= end) {
    let a = 0;
    let b = 0;
    for (let k = 0; k < 16; k += 4) {
      a = mix32(a ^ buf.readUInt32BE(off + 8 + k));
      b = mix32(b ^ buf.readUInt32BE(off + 24 + k));
    }
    return (a + b) >>> 0;
  }
  return 0;
}

/** Symmetric hash of a packet's IP address pair; 0 when it has none Vigil can see cheaply. */
export function shardHash(buf: Buffer, off: number, len: number, linkType: number): number {
  const end = off + len;
  let p = off;
  let etype: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      if (p + 14 > end) return 0;
      etype = buf.readUInt16BE(p + 12);
      p += 14;
      break;
    case LINKTYPE.LINUX_SLL:
      if (p + 16 > end) return 0;
      etype = buf.readUInt16BE(p + 14);
      p += 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (p + 20 > end) return 0;
      etype = buf.readUInt16BE(p);
      p += 20;
      break;
    case LINKTYPE.C_HDLC:
      if (p + 4 > end) return 0;
      etype = buf.readUInt16BE(p + 2);
      p += 4;
      break;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      return ipPairHash(buf, p + 4, end);
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
    case 12:
    case 14:
      return ipPairHash(buf, p, end);
    default:
      return 0;
  }
  // VLAN tags (802.1Q, 802.1ad, QinQ), bounded.
  for (let k = 0; k < 3 && (etype === 0x8100 || etype === 0x88a8 || etype === 0x9100); k++) {
    if (p + 4 > end) return 0;
    etype = buf.readUInt16BE(p + 2);
    p += 4;
  }
  if (etype === 0x0800 || etype === 0x86dd) return ipPairHash(buf, p, end);
  return 0;
}
