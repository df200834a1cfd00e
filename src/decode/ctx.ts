/**
 * Per-decoder state shared by the protocol modules, and the "kinds" that drive decoding.
 *
 * Each protocol module exports `decodeX(c, buf, off, len): number`: it checks lengths, fills
 * columns of `c.out` for packet `c.i`, stores the next layer's range in `c.off`/`c.len` (and the
 * EtherType or IP protocol number in `c.etype`/`c.ipproto`) and returns the kind of the next layer,
 * or `K_DONE`. The loop in decode.ts dispatches on the kind, so modules never import each other
 * (no import cycles) and no closure is created per packet.
 */
import type { DecodedBatch } from './batch.js';
import { LAYER, PFLAG } from './batch.js';
import type { Defrag } from './defrag.js';

export const K_DONE = 0;
/** Resolve `c.etype` through ETHERTYPE_KIND. */
export const K_ETHERTYPE = 1;
/** Resolve `c.ipproto` through IPPROTO_KIND. */
export const K_IPPROTO = 2;
export const K_ETHERNET = 3;
export const K_VLAN = 4;
export const K_ARP = 5;
export const K_IPV4 = 6;
export const K_IPV6 = 7;
export const K_TCP = 8;
export const K_UDP = 9;
export const K_ICMP = 10;
export const K_ICMPV6 = 11;
export const K_SCTP = 12;
export const K_GRE = 13;
export const K_VXLAN = 14;
export const K_MPLS = 15;
export const K_PPPOE = 16;
export const K_SLL = 17;
export const K_SLL2 = 18;
export const K_NULL = 19;
export const K_RAW = 20;
export const K_CHDLC = 21;
/** Enter a tunnel (depth-checked, columns reset), then Ethernet / IPv4 / IPv6 / `c.etype`. */
export const K_TUN_ETH = 22;
export const K_TUN_IPV4 = 23;
export const K_TUN_IPV6 = 24;
export const K_TUN_ETYPE = 25;
export const K_PPP = 26;
export const K_NSH = 27;
export const K_GENEVE = 28;

/** Decoding state; one per Decoder, reused for every packet. */
export class Ctx {
  readonly ev: Uint32Array;
  out: DecodedBatch;
  /** Packet index in the batch. */
  i = 0;
  /** Buffer the current layer's bytes are in (the batch buffer, or `out.alt` after reassembly). */
  buf: Buffer = Buffer.alloc(0);
  /** Next layer's offset and length, set by the module that returns a kind. */
  off = 0;
  len = 0;
  /** Offset of the frame in the packet buffer (for the frame prefix of rebuilt datagrams). */
  frameOff = 0;
  etype = 0;
  ipproto = 0;
  /** Bytes the snaplen cut off this packet (origLen - capLen), 0 when whole. */
  snapMissing = 0;
  tsUs = 0;
  readonly checksums: boolean;
  /** Tunnel levels entered, VLAN tags seen, in this packet. */
  tunnels = 0;
  vlans = 0;
  /** IP version of the innermost IP header decoded so far (ICMP/ICMPv6 check it). */
  ipVer = 0;
  /** True while decoding a datagram rebuilt from fragments (a fragment header in it is an error). */
  inReasm = false;
  /** Bytes of `out.alt` used in this batch. */
  altLen = 0;
  /** 1 for UDP destination ports decoded as VXLAN. */
  readonly vxlanPort: Uint8Array;
  /** 1 for UDP ports (source or destination) decoded as Geneve. */
  readonly genevePort: Uint8Array;
  readonly defrag: Defrag;

  constructor(
    ev: Uint32Array,
    out: DecodedBatch,
    checksums: boolean,
    vxlanPort: Uint8Array,
    defrag: Defrag,
    genevePort: Uint8Array,
  ) {
    this.ev = ev;
    this.out = out;
    this.checksums = checksums;
    this.vxlanPort = vxlanPort;
    this.genevePort = genevePort;
    this.defrag = defrag;
  }
}

/** Counts event `id` and marks the packet INVALID. Returns K_DONE for `return invalid(...)`. */
export function invalid(c: Ctx, id: number): number {
  c.ev[id]!++;
  c.out.layers[c.i]! |= LAYER.INVALID;
  return K_DONE;
}

/** Counts event `id` without marking the packet invalid (unusual but well-formed). */
export function note(c: Ctx, id: number): void {
  c.ev[id]!++;
}

/**
 * A header does not fit in the bytes present. When the snaplen cut the packet this is expected:
 * flag SNAPLEN_TRUNC and stop quietly; otherwise count `id` and mark the packet INVALID.
 */
export function truncated(c: Ctx, id: number): number {
  if (c.snapMissing > 0) {
    c.out.pflags[c.i]! |= PFLAG.SNAPLEN_TRUNC;
    return K_DONE;
  }
  return invalid(c, id);
}

/** Reserves `len` bytes in `out.alt` (growing it, keeping earlier bytes of this batch); returns the offset. */
export function altReserve(c: Ctx, len: number): number {
  const out = c.out;
  const pos = c.altLen;
  if (pos + len > out.alt.length) {
    const size = Math.max(pos + len, out.alt.length * 2, 1 << 17);
    const nb = Buffer.allocUnsafe(size);
    out.alt.copy(nb, 0, 0, pos);
    out.alt = nb;
  }
  c.altLen = pos + len;
  return pos;
}
