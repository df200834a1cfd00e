/**
 * Synthetic decoded batches for flow-layer tests and benchmarks: fills a PacketBatch and a
 * DecodedBatch with the columns the decoder would set for simple TCP/UDP/ICMP packets, without
 * building packet bytes other than the payload (used by the entropy sample). Not for the packet path.
 */
import { PacketBatch } from '../capture/batch.js';
import { DecodedBatch, LAYER } from '../decode/batch.js';
import { parseIp } from './key.js';

export interface SynthPacket {
  /** Capture time, microseconds. */
  ts: number;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  /** IP protocol (default 6). */
  proto?: number;
  /** TCP flags byte. */
  flags?: number;
  /** TCP window. */
  win?: number;
  /** Transport header length (default 20 TCP, 8 UDP, 8 ICMP). */
  hdrLen?: number;
  /** Payload bytes, or a length of zero bytes. */
  payload?: Uint8Array | number;
  vlan?: number;
  icmpType?: number;
  icmpCode?: number;
  /** Extra LAYER bits (e.g. LAYER.FRAGMENT). */
  layers?: number;
  /** Frame length on the wire (default 14 + IP length). */
  origLen?: number;
}

/** Fill `pkts`/`dec` (created if omitted) with `list`; returns them. */
export function synthBatch(
  list: readonly SynthPacket[],
  pkts: PacketBatch = new PacketBatch(Math.max(1, list.length)),
  dec: DecodedBatch = new DecodedBatch(Math.max(1, list.length)),
): { pkts: PacketBatch; dec: DecodedBatch } {
  let total = 0;
  for (const p of list) total += 14 + payloadLen(p);
  const buf = Buffer.alloc(total);
  pkts.buf = buf;
  pkts.count = list.length;
  dec.count = list.length;
  let off = 0;
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    dec.clear(i);
    const proto = p.proto ?? 6;
    const ver = parseIp(p.src, dec.src, i * 4);
    parseIp(p.dst, dec.dst, i * 4);
    const ipHdr = ver === 6 ? 40 : 20;
    const hdr = p.hdrLen ?? (proto === 6 ? 20 : 8);
    const plen = payloadLen(p);
    const payStart = off + 14;
    if (p.payload instanceof Uint8Array) buf.set(p.payload, payStart);
    pkts.off[i] = off;
    pkts.capLen[i] = 14 + plen;
    pkts.origLen[i] = p.origLen ?? 14 + ipHdr + hdr + plen;
    pkts.tsUs[i] = p.ts;
    dec.ipVer[i] = ver;
    dec.proto[i] = proto;
    dec.layers[i] =
      (ver === 6 ? LAYER.IPV6 : LAYER.IPV4) |
      (proto === 6
        ? LAYER.TCP
        : proto === 17
          ? LAYER.UDP
          : proto === 1
            ? LAYER.ICMP
            : proto === 58
              ? LAYER.ICMPV6
              : 0) |
      (p.layers ?? 0);
    dec.sport[i] = p.sport ?? 0;
    dec.dport[i] = p.dport ?? 0;
    dec.tcpFlags[i] = p.flags ?? 0;
    dec.tcpWin[i] = p.win ?? 0;
    dec.l4HdrLen[i] = hdr;
    dec.ipHdrLen[i] = ipHdr;
    dec.ipLen[i] = ipHdr + hdr + plen;
    dec.payOff[i] = plen > 0 ? payStart : -1;
    dec.payLen[i] = plen;
    dec.vlan[i] = p.vlan ?? 0;
    dec.icmpType[i] = p.icmpType ?? 0;
    dec.icmpCode[i] = p.icmpCode ?? 0;
    off += 14 + plen;
  }
  return { pkts, dec };
}

function payloadLen(p: SynthPacket): number {
  if (p.payload === undefined) return 0;
  return typeof p.payload === 'number' ? p.payload : p.payload.length;
}
