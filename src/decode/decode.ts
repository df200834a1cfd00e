/**
 * Packet decoding entry point: fills a DecodedBatch from a PacketBatch.
 *
 * Each packet runs through a small state machine: a protocol module decodes one header and returns
 * the kind of the next one (ctx.ts); EtherTypes, IP protocols and link types go through the
 * numeric tables of dispatch.ts. Malformed input raises counted events (events.ts) and marks the
 * packet LAYER.INVALID; nothing throws on the packet path. The columns describe the innermost
 * IP/transport headers: entering a GRE, VXLAN, Geneve or IP-in-IP tunnel (at most MAX_TUNNEL_DEPTH levels)
 * resets them and sets PFLAG.TUNNELED.
 */
import type { PacketBatch } from '../capture/batch.js';
import type { DecodedBatch } from './batch.js';
import { DecodedBatch as DecodedBatchClass, LAYER, PFLAG } from './batch.js';
import {
  Ctx,
  K_ARP,
  K_CHDLC,
  K_DONE,
  K_ETHERNET,
  K_ETHERTYPE,
  K_GENEVE,
  K_GRE,
  K_ICMP,
  K_ICMPV6,
  K_IPPROTO,
  K_IPV4,
  K_IPV6,
  K_MPLS,
  K_NSH,
  K_NULL,
  K_PPP,
  K_PPPOE,
  K_RAW,
  K_SCTP,
  K_SLL,
  K_SLL2,
  K_TCP,
  K_TUN_ETH,
  K_TUN_ETYPE,
  K_TUN_IPV4,
  K_TUN_IPV6,
  K_UDP,
  K_VLAN,
  K_VXLAN,
  note,
} from './ctx.js';
import { decodeArp } from './arp.js';
import { Defrag } from './defrag.js';
import { ETHERTYPE_KIND, IPPROTO_KIND, LINKTYPE_KIND } from './dispatch.js';
import { DECODER_EVENT_COUNT, DECODER_EVENT_NAMES, EV } from './events.js';
import { decodeIcmpv4, decodeIcmpv6 } from './icmp.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import { decodeChdlc } from './link/chdlc.js';
import { decodeEthernet } from './link/ethernet.js';
import { decodeNsh } from './link/nsh.js';
import { decodeMpls } from './link/mpls.js';
import { decodeNull } from './link/null.js';
import { decodePpp } from './link/ppp.js';
import { decodePppoe } from './link/pppoe.js';
import { decodeRaw } from './link/raw.js';
import { decodeSll } from './link/sll.js';
import { decodeSll2 } from './link/sll2.js';
import { decodeVlan } from './link/vlan.js';
import { decodeSctp } from './sctp.js';
import { decodeTcp } from './tcp.js';
import { decodeGeneve } from './tunnel/geneve.js';
import { decodeGre } from './tunnel/gre.js';
import { decodeVxlan } from './tunnel/vxlan.js';
import { decodeUdp } from './udp.js';

export { decodeIcmpQuoted, QuotedHeader } from './icmp.js';

export interface DecodeOptions {
  /** Validate IPv4 header and TCP/UDP/ICMP checksums (`-k all`); off by default. */
  checksumValidation: boolean;
  /** Datagrams being reassembled at once; default 4096. */
  defragMaxTrackers?: number;
  /** Bytes of fragment buffers; default 32 MiB. */
  defragMaxBytes?: number;
  /** Reassembly timeout in packet time (microseconds); default 60 s. */
  defragTimeoutUs?: number;
  /** UDP destination ports decoded as VXLAN; default [4789]. */
  vxlanPorts?: readonly number[];
  /** UDP ports (source or destination) decoded as Geneve; default [6081]. */
  genevePorts?: readonly number[];
}

export const DEFAULT_DEFRAG_MAX_TRACKERS = 4096;
export const DEFAULT_DEFRAG_MAX_BYTES = 32 * 1024 * 1024;
export const DEFAULT_DEFRAG_TIMEOUT_US = 60_000_000;
export const DEFAULT_VXLAN_PORTS: readonly number[] = [4789];
export const DEFAULT_GENEVE_PORTS: readonly number[] = [6081];
/** Tunnel levels (GRE, VXLAN, Geneve, IP-in-IP) decapsulated per packet; deeper ones count decoder.too_many_layers. */
export const MAX_TUNNEL_DEPTH = 3;
/** Decode steps per packet: a bound on the state machine whatever the input (real packets use < 15). */
const MAX_STEPS = 64;

export class Decoder {
  /** Per-event counters, indexed by the ids of events.ts. */
  readonly events: Uint32Array;
  private readonly c: Ctx;

  constructor(opts: DecodeOptions) {
    this.events = new Uint32Array(DECODER_EVENT_COUNT);
    const vx = portTable(opts.vxlanPorts ?? DEFAULT_VXLAN_PORTS);
    const gv = portTable(opts.genevePorts ?? DEFAULT_GENEVE_PORTS);
    const defrag = new Defrag(
      {
        maxTrackers: opts.defragMaxTrackers ?? DEFAULT_DEFRAG_MAX_TRACKERS,
        maxBytes: opts.defragMaxBytes ?? DEFAULT_DEFRAG_MAX_BYTES,
        timeoutUs: opts.defragTimeoutUs ?? DEFAULT_DEFRAG_TIMEOUT_US,
      },
      this.events,
    );
    this.c = new Ctx(this.events, new DecodedBatchClass(1), opts.checksumValidation === true, vx, defrag, gv);
  }

  /** Decode pkts[0..count) into out (sets out.count). Never throws. */
  decode(pkts: PacketBatch, out: DecodedBatch): void {
    const c = this.c;
    const n = Math.min(pkts.count, out.capacity);
    out.count = n;
    c.out = out;
    c.altLen = 0;
    // Packet columns are reset for the whole batch at once; decoders write only packet c.i's entries.
    out.clearRange(n);
    let i = 0;
    while (i < n) {
      try {
        for (; i < n; i++) decodePacket(c, pkts, i);
      } catch {
        // Last resort: a decoder bug must not stop the pipeline. Counted, never relied upon.
        this.events[EV.INTERNAL_ERROR]!++;
        out.layers[i]! |= LAYER.INVALID;
        i++;
      }
    }
  }

  /** Non-zero event counters as { 'decoder.ipv4.trunc_pkt': n, ... }. */
  eventCounts(): Record<string, number> {
    const r: Record<string, number> = {};
    const ev = this.events;
    for (let k = 0; k < ev.length; k++) if (ev[k] !== 0) r[DECODER_EVENT_NAMES[k]!] = ev[k]!;
    return r;
  }

  /** Datagrams being reassembled and bytes of fragment buffers held (for stats). */
  defragUsage(): { trackers: number; bytes: number } {
    return { trackers: this.c.defrag.active, bytes: this.c.defrag.bytes };
  }
}

/** A 65536-entry table with 1 at each valid port of `ports` (a tunnel decoder's UDP ports). */
function portTable(ports: readonly number[]): Uint8Array {
  const t = new Uint8Array(65536);
  for (const p of ports) if (Number.isInteger(p) && p > 0 && p < 65536) t[p] = 1;
  return t;
}

/** Resets the L3/L4 columns of packet i before decoding a tunnel's inner packet. */
function resetInner(out: DecodedBatch, i: number): void {
  out.l3Off[i] = -1;
  out.l4Off[i] = -1;
  out.payOff[i] = -1;
  out.payLen[i] = 0;
  out.ipVer[i] = 0;
  out.proto[i] = 0;
  const w = i << 2;
  out.src[w] = out.src[w + 1] = out.src[w + 2] = out.src[w + 3] = 0;
  out.dst[w] = out.dst[w + 1] = out.dst[w + 2] = out.dst[w + 3] = 0;
  out.sport[i] = 0;
  out.dport[i] = 0;
  out.icmpType[i] = 0;
  out.icmpCode[i] = 0;
  out.icmpInnerOff[i] = -1;
  out.ipHdrLen[i] = 0;
  out.ipLen[i] = 0;
  out.ttl[i] = 0;
  out.tcpFlags[i] = 0;
  out.l4HdrLen[i] = 0;
  out.tcpWin[i] = 0;
  out.tcpSeq[i] = 0;
  out.tcpAck[i] = 0;
  out.tcpMss[i] = 0;
  out.tcpWscale[i] = 255;
  out.tcpSackOk[i] = 0;
  out.tcpTsVal[i] = 0;
  out.tcpTsEcr[i] = 0;
}

/** Enters a tunnel level; returns `next`, or K_DONE when too deep (the outer layers stay decoded). */
function enterTunnel(c: Ctx, next: number): number {
  if (c.tunnels >= MAX_TUNNEL_DEPTH) {
    note(c, EV.TOO_MANY_LAYERS);
    return K_DONE;
  }
  c.tunnels++;
  c.inReasm = false;
  c.ipVer = 0;
  c.out.pflags[c.i]! |= PFLAG.TUNNELED;
  resetInner(c.out, c.i);
  return next;
}

/** The literal `case` labels of decodePacket with the kinds they stand for (checked by decode.test.ts). */
export const KIND_CASES: ReadonlyArray<readonly [number, number]> = [
  [K_ETHERTYPE, 1],
  [K_IPPROTO, 2],
  [K_ETHERNET, 3],
  [K_VLAN, 4],
  [K_ARP, 5],
  [K_IPV4, 6],
  [K_IPV6, 7],
  [K_TCP, 8],
  [K_UDP, 9],
  [K_ICMP, 10],
  [K_ICMPV6, 11],
  [K_SCTP, 12],
  [K_GRE, 13],
  [K_VXLAN, 14],
  [K_MPLS, 15],
  [K_PPPOE, 16],
  [K_NSH, 27],
  [K_GENEVE, 28],
  [K_SLL, 17],
  [K_SLL2, 18],
  [K_NULL, 19],
  [K_RAW, 20],
  [K_CHDLC, 21],
  [K_TUN_ETH, 22],
  [K_TUN_IPV4, 23],
  [K_TUN_IPV6, 24],
  [K_TUN_ETYPE, 25],
  [K_PPP, 26],
];

function decodePacket(c: Ctx, pkts: PacketBatch, i: number): void {
  const out = c.out;
  const buf = pkts.buf;
  const off = pkts.off[i]!;
  const cap = pkts.capLen[i]!;
  const orig = pkts.origLen[i]!;
  c.i = i;
  c.buf = buf;
  c.off = off;
  c.frameOff = off;
  // Never read past the batch buffer, whatever the reader wrote.
  c.len = off + cap <= buf.length ? cap : Math.max(0, buf.length - off);
  c.snapMissing = orig > c.len ? orig - c.len : 0;
  c.tsUs = pkts.tsUs[i]!;
  c.tunnels = 0;
  c.vlans = 0;
  c.ipVer = 0;
  c.inReasm = false;
  let k = LINKTYPE_KIND[pkts.linkType[i]!]!;
  if (k === K_DONE) {
    note(c, EV.UNKNOWN_LINKTYPE);
    out.layers[i]! |= LAYER.OTHER_L2;
    return;
  }
  for (let steps = 0; k !== K_DONE; steps++) {
    if (steps === MAX_STEPS) {
      note(c, EV.TOO_MANY_LAYERS);
      out.layers[i]! |= LAYER.INVALID;
      return;
    }
    // Literal case labels: V8 builds a jump table only for literal cases (imported constants made
    // this switch a compare chain: 300 vs 157 ns/packet on corpus/dos.pcap). KIND_CASES pins them.
    switch (k) {
      case 1 /* K_ETHERTYPE */: {
        const e = c.etype;
        k = ETHERTYPE_KIND[e]!;
        if (k === K_DONE) {
          // 802.3 length values (< 0x0600) carry LLC (STP, CDP, ...): other L2, not an event.
          if (e >= 0x0600) note(c, c.vlans > 0 ? EV.VLAN_UNKNOWN_TYPE : EV.ETHERNET_UNKNOWN_ETHERTYPE);
          out.layers[i]! |= LAYER.OTHER_L2;
        }
        break;
      }
      case 2 /* K_IPPROTO */:
        k = IPPROTO_KIND[c.ipproto]!;
        if (k === K_DONE) out.layers[i]! |= LAYER.OTHER_IP;
        break;
      case 3 /* K_ETHERNET */:
        k = decodeEthernet(c, c.buf, c.off, c.len);
        break;
      case 6 /* K_IPV4 */:
        k = decodeIpv4(c, c.buf, c.off, c.len);
        break;
      case 7 /* K_IPV6 */:
        k = decodeIpv6(c, c.buf, c.off, c.len);
        break;
      case 8 /* K_TCP */:
        k = decodeTcp(c, c.buf, c.off, c.len);
        break;
      case 9 /* K_UDP */:
        k = decodeUdp(c, c.buf, c.off, c.len);
        break;
      case 10 /* K_ICMP */:
        k = decodeIcmpv4(c, c.buf, c.off, c.len);
        break;
      case 11 /* K_ICMPV6 */:
        k = decodeIcmpv6(c, c.buf, c.off, c.len);
        break;
      case 5 /* K_ARP */:
        k = decodeArp(c, c.buf, c.off, c.len);
        break;
      case 4 /* K_VLAN */:
        k = decodeVlan(c, c.buf, c.off, c.len);
        break;
      case 12 /* K_SCTP */:
        k = decodeSctp(c, c.buf, c.off, c.len);
        break;
      case 13 /* K_GRE */:
        k = decodeGre(c, c.buf, c.off, c.len);
        break;
      case 14 /* K_VXLAN */:
        k = decodeVxlan(c, c.buf, c.off, c.len);
        break;
      case 15 /* K_MPLS */:
        k = decodeMpls(c, c.buf, c.off, c.len);
        break;
      case 16 /* K_PPPOE */:
        k = decodePppoe(c, c.buf, c.off, c.len);
        break;
      case 27 /* K_NSH */:
        k = decodeNsh(c, c.buf, c.off, c.len);
        break;
      case 28 /* K_GENEVE */:
        k = decodeGeneve(c, c.buf, c.off, c.len);
        break;
      case 17 /* K_SLL */:
        k = decodeSll(c, c.buf, c.off, c.len);
        break;
      case 18 /* K_SLL2 */:
        k = decodeSll2(c, c.buf, c.off, c.len);
        break;
      case 19 /* K_NULL */:
        k = decodeNull(c, c.buf, c.off, c.len);
        break;
      case 20 /* K_RAW */:
        k = decodeRaw(c, c.buf, c.off, c.len);
        break;
      case 21 /* K_CHDLC */:
        k = decodeChdlc(c, c.buf, c.off, c.len);
        break;
      case 22 /* K_TUN_ETH */:
        k = enterTunnel(c, K_ETHERNET);
        break;
      case 23 /* K_TUN_IPV4 */:
        k = enterTunnel(c, K_IPV4);
        break;
      case 24 /* K_TUN_IPV6 */:
        k = enterTunnel(c, K_IPV6);
        break;
      case 25 /* K_TUN_ETYPE */:
        k = enterTunnel(c, K_ETHERTYPE);
        break;
      case 26 /* K_PPP */:
        k = decodePpp(c, c.buf, c.off, c.len);
        break;
      default:
        k = K_DONE;
        break;
    }
  }
}
