/**
 * Decoded columns for a `PacketBatch`: one typed-array slot per packet, filled by `decodeBatch`
 * (src/decode/decode.ts) and read by the flow table and later stages. Offsets index into the
 * packet's buffer: `PacketBatch.buf` when `bufSel[i] === 0`, `DecodedBatch.alt` when it is 1
 * (IP datagrams rebuilt from fragments are written there).
 */
import { BATCH_PACKETS } from '../capture/batch.js';

/** Bits of `DecodedBatch.layers`: which protocols a packet carries (for protocol statistics). */
export const LAYER = {
  ETHERNET: 1 << 0,
  VLAN: 1 << 1,
  SLL: 1 << 2,
  SLL2: 1 << 3,
  NULL: 1 << 4,
  RAW: 1 << 5,
  ARP: 1 << 6,
  IPV4: 1 << 7,
  IPV6: 1 << 8,
  TCP: 1 << 9,
  UDP: 1 << 10,
  ICMP: 1 << 11,
  ICMPV6: 1 << 12,
  GRE: 1 << 13,
  VXLAN: 1 << 14,
  SCTP: 1 << 15,
  /** An IP fragment that is not (yet) a whole datagram. */
  FRAGMENT: 1 << 16,
  /** The IP datagram was rebuilt from fragments. */
  REASSEMBLED: 1 << 17,
  /** Some other IP protocol (IGMP, ESP, OSPF, ...). */
  OTHER_IP: 1 << 18,
  /** Link or network layer Vigil does not decode (LLDP, STP, C-HDLC, ...). */
  OTHER_L2: 1 << 19,
  /** Packet is malformed somewhere (a decoder event was raised for it). */
  INVALID: 1 << 20,
  CHDLC: 1 << 21,
  MPLS: 1 << 22,
  PPPOE: 1 << 23,
  GENEVE: 1 << 24,
} as const;

/** Protocol names reported in summaries, in this order, with the bit that counts them. */
export const LAYER_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['ethernet', LAYER.ETHERNET],
  ['vlan', LAYER.VLAN],
  ['sll', LAYER.SLL],
  ['sll2', LAYER.SLL2],
  ['null', LAYER.NULL],
  ['raw', LAYER.RAW],
  ['chdlc', LAYER.CHDLC],
  ['mpls', LAYER.MPLS],
  ['pppoe', LAYER.PPPOE],
  ['arp', LAYER.ARP],
  ['ipv4', LAYER.IPV4],
  ['ipv6', LAYER.IPV6],
  ['tcp', LAYER.TCP],
  ['udp', LAYER.UDP],
  ['icmp', LAYER.ICMP],
  ['icmpv6', LAYER.ICMPV6],
  ['sctp', LAYER.SCTP],
  ['gre', LAYER.GRE],
  ['vxlan', LAYER.VXLAN],
  ['geneve', LAYER.GENEVE],
  ['ip_fragment', LAYER.FRAGMENT],
  ['ip_reassembled', LAYER.REASSEMBLED],
  ['other_ip', LAYER.OTHER_IP],
  ['other_l2', LAYER.OTHER_L2],
  ['invalid', LAYER.INVALID],
];

/** Bits of `DecodedBatch.pflags`. */
export const PFLAG = {
  /** IPv4 header checksum invalid (only set when checksum validation is on). */
  BAD_IP_CSUM: 1 << 0,
  /** TCP/UDP/ICMP checksum invalid (only set when checksum validation is on). */
  BAD_L4_CSUM: 1 << 1,
  /** Decoded from inside a GRE or VXLAN tunnel. */
  TUNNELED: 1 << 2,
  /** Overlapping fragments were seen while rebuilding this datagram. */
  FRAG_OVERLAP: 1 << 3,
  /** The packet's bytes were cut by the snaplen. */
  SNAPLEN_TRUNC: 1 << 4,
} as const;

/** Bits of `DecodedBatch.flowFlags`. */
export const FFLAG = {
  /** The flow is established at this packet: TCP after a seen handshake (or a midstream pick-up when allowed), other protocols once both directions were seen. */
  ESTABLISHED: 1 << 0,
} as const;

/** TCP flag bits as in the TCP header's flags byte. */
export const TCP_FLAG = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export class DecodedBatch {
  readonly capacity: number;
  count = 0;
  /** Scratch buffer for rebuilt IP datagrams (selected by `bufSel[i] === 1`); grown by the defragmenter. */
  alt: Buffer = Buffer.alloc(0);
  /** 0: bytes in PacketBatch.buf, 1: bytes in `alt`. */
  readonly bufSel: Uint8Array;
  /** LAYER bits. */
  readonly layers: Uint32Array;
  /** PFLAG bits. */
  readonly pflags: Uint16Array;
  /** Offset of the (innermost) IP header, -1 if none. */
  readonly l3Off: Int32Array;
  /** Offset of the (innermost) transport header, -1 if none. */
  readonly l4Off: Int32Array;
  /** Offset and length of the transport payload (TCP/UDP data, ICMP data after the 8-byte header), -1/0 if none. */
  readonly payOff: Int32Array;
  readonly payLen: Int32Array;
  /** 0 (no IP), 4 or 6. */
  readonly ipVer: Uint8Array;
  /** IP protocol number of the innermost transport (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...). */
  readonly proto: Uint8Array;
  /** Source/destination address, 4 words per packet, network order read as big-endian u32. IPv4 uses word 0; words 1..3 are 0. */
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  /** Transport ports; 0 when the protocol has none. */
  readonly sport: Uint16Array;
  readonly dport: Uint16Array;
  /** ICMP/ICMPv6 type and code (0 for other protocols). */
  readonly icmpType: Uint8Array;
  readonly icmpCode: Uint8Array;
  /** Offset of the IP header quoted inside an ICMP/ICMPv6 error, -1 if none. */
  readonly icmpInnerOff: Int32Array;
  /** IP header length (v4: IHL*4; v6: 40 + extension headers). */
  readonly ipHdrLen: Uint16Array;
  /** IP total length (v4 total length; v6 40 + payload length). */
  readonly ipLen: Uint32Array;
  readonly ttl: Uint8Array;
  /** VLAN ids: outer << 12 | inner (QinQ), 0 when untagged. */
  readonly vlan: Uint32Array;
  /** TCP flags byte, header length (data offset * 4), window, sequence and acknowledgement numbers. */
  readonly tcpFlags: Uint8Array;
  readonly l4HdrLen: Uint16Array;
  readonly tcpWin: Uint16Array;
  readonly tcpSeq: Uint32Array;
  readonly tcpAck: Uint32Array;
  /** TCP options: MSS (0 none), window scale (255 none), SACK permitted (0/1), timestamp value/echo. */
  readonly tcpMss: Uint16Array;
  readonly tcpWscale: Uint8Array;
  readonly tcpSackOk: Uint8Array;
  readonly tcpTsVal: Uint32Array;
  readonly tcpTsEcr: Uint32Array;
  /** Filled by the flow table: flow slot (-1 none) and direction (0 to server, 1 to client). */
  readonly flowSlot: Int32Array;
  readonly flowDir: Uint8Array;
  /**
   * For a packet whose IP datagram was rebuilt from fragments: bytes of the frame before the
   * fragmented IP header (link and outer headers), and where the rebuilt datagram is in `alt`
   * (EVE logs such an alert's packet as that prefix plus the datagram, as Suricata does). -1 otherwise.
   */
  readonly reasmPrefix: Int32Array;
  readonly reasmOff: Int32Array;
  readonly reasmLen: Int32Array;
  /** Filled by TCP reassembly: 1 when this packet's payload became part of the reassembled stream. */
  readonly inStream: Uint8Array;
  /** Filled by the flow table: FFLAG bits describing the flow as of this packet. */
  readonly flowFlags: Uint8Array;

  constructor(capacity: number = BATCH_PACKETS) {
    this.capacity = capacity;
    this.bufSel = new Uint8Array(capacity);
    this.layers = new Uint32Array(capacity);
    this.pflags = new Uint16Array(capacity);
    this.l3Off = new Int32Array(capacity);
    this.l4Off = new Int32Array(capacity);
    this.payOff = new Int32Array(capacity);
    this.payLen = new Int32Array(capacity);
    this.ipVer = new Uint8Array(capacity);
    this.proto = new Uint8Array(capacity);
    this.src = new Uint32Array(capacity * 4);
    this.dst = new Uint32Array(capacity * 4);
    this.sport = new Uint16Array(capacity);
    this.dport = new Uint16Array(capacity);
    this.icmpType = new Uint8Array(capacity);
    this.icmpCode = new Uint8Array(capacity);
    this.icmpInnerOff = new Int32Array(capacity);
    this.ipHdrLen = new Uint16Array(capacity);
    this.ipLen = new Uint32Array(capacity);
    this.ttl = new Uint8Array(capacity);
    this.vlan = new Uint32Array(capacity);
    this.tcpFlags = new Uint8Array(capacity);
    this.l4HdrLen = new Uint16Array(capacity);
    this.tcpWin = new Uint16Array(capacity);
    this.tcpSeq = new Uint32Array(capacity);
    this.tcpAck = new Uint32Array(capacity);
    this.tcpMss = new Uint16Array(capacity);
    this.tcpWscale = new Uint8Array(capacity);
    this.tcpSackOk = new Uint8Array(capacity);
    this.tcpTsVal = new Uint32Array(capacity);
    this.tcpTsEcr = new Uint32Array(capacity);
    this.flowSlot = new Int32Array(capacity);
    this.flowDir = new Uint8Array(capacity);
    this.flowFlags = new Uint8Array(capacity);
    this.inStream = new Uint8Array(capacity);
    this.reasmPrefix = new Int32Array(capacity);
    this.reasmOff = new Int32Array(capacity);
    this.reasmLen = new Int32Array(capacity);
  }

  /** Reset packet i's columns to "nothing decoded" (called by the decoder before decoding it). */
  clear(i: number): void {
    this.bufSel[i] = 0;
    this.layers[i] = 0;
    this.pflags[i] = 0;
    this.l3Off[i] = -1;
    this.l4Off[i] = -1;
    this.payOff[i] = -1;
    this.payLen[i] = 0;
    this.ipVer[i] = 0;
    this.proto[i] = 0;
    const w = i * 4;
    this.src[w] = this.src[w + 1] = this.src[w + 2] = this.src[w + 3] = 0;
    this.dst[w] = this.dst[w + 1] = this.dst[w + 2] = this.dst[w + 3] = 0;
    this.sport[i] = 0;
    this.dport[i] = 0;
    this.icmpType[i] = 0;
    this.icmpCode[i] = 0;
    this.icmpInnerOff[i] = -1;
    this.ipHdrLen[i] = 0;
    this.ipLen[i] = 0;
    this.ttl[i] = 0;
    this.vlan[i] = 0;
    this.tcpFlags[i] = 0;
    this.l4HdrLen[i] = 0;
    this.tcpWin[i] = 0;
    this.tcpSeq[i] = 0;
    this.tcpAck[i] = 0;
    this.tcpMss[i] = 0;
    this.tcpWscale[i] = 255;
    this.tcpSackOk[i] = 0;
    this.tcpTsVal[i] = 0;
    this.tcpTsEcr[i] = 0;
    this.flowSlot[i] = -1;
    this.flowDir[i] = 0;
    this.flowFlags[i] = 0;
    this.inStream[i] = 0;
    this.reasmPrefix[i] = -1;
  }

  /**
   * `clear(i)` for every i in [0, n): one `fill` per column instead of 38 scattered stores per
   * packet (DecodedBatch.clear was 3.8 % of `analyze --no-detect` in cpu-prof; docs/performance.md).
   */
  clearRange(n: number): void {
    this.bufSel.fill(0, 0, n);
    this.layers.fill(0, 0, n);
    this.pflags.fill(0, 0, n);
    this.l3Off.fill(-1, 0, n);
    this.l4Off.fill(-1, 0, n);
    this.payOff.fill(-1, 0, n);
    this.payLen.fill(0, 0, n);
    this.ipVer.fill(0, 0, n);
    this.proto.fill(0, 0, n);
    this.src.fill(0, 0, n * 4);
    this.dst.fill(0, 0, n * 4);
    this.sport.fill(0, 0, n);
    this.dport.fill(0, 0, n);
    this.icmpType.fill(0, 0, n);
    this.icmpCode.fill(0, 0, n);
    this.icmpInnerOff.fill(-1, 0, n);
    this.ipHdrLen.fill(0, 0, n);
    this.ipLen.fill(0, 0, n);
    this.ttl.fill(0, 0, n);
    this.vlan.fill(0, 0, n);
    this.tcpFlags.fill(0, 0, n);
    this.l4HdrLen.fill(0, 0, n);
    this.tcpWin.fill(0, 0, n);
    this.tcpSeq.fill(0, 0, n);
    this.tcpAck.fill(0, 0, n);
    this.tcpMss.fill(0, 0, n);
    this.tcpWscale.fill(255, 0, n);
    this.tcpSackOk.fill(0, 0, n);
    this.tcpTsVal.fill(0, 0, n);
    this.tcpTsEcr.fill(0, 0, n);
    this.flowSlot.fill(-1, 0, n);
    this.flowDir.fill(0, 0, n);
    this.flowFlags.fill(0, 0, n);
    this.inStream.fill(0, 0, n);
    this.reasmPrefix.fill(-1, 0, n);
  }

  /** The buffer packet i's offsets index into. */
  bytesOf(i: number, packetBuf: Buffer): Buffer {
    return this.bufSel[i] === 1 ? this.alt : packetBuf;
  }
}
