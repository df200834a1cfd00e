/**
 * Numeric dispatch tables: EtherType, IP protocol and pcap link type to a decoder kind (ctx.ts).
 * Adding a protocol is a new module, a kind, one line here and one `case` in decode.ts.
 * Typed arrays indexed by the number: one load per lookup, no hashing, no closures.
 */
import {
  K_ARP,
  K_CHDLC,
  K_ETHERNET,
  K_GRE,
  K_ICMP,
  K_ICMPV6,
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
  K_TUN_IPV4,
  K_TUN_IPV6,
  K_UDP,
  K_VLAN,
} from './ctx.js';

/** EtherType -> kind; 0 = not decoded (other L2). */
export const ETHERTYPE_KIND = new Uint8Array(65536);
ETHERTYPE_KIND[0x0800] = K_IPV4;
ETHERTYPE_KIND[0x86dd] = K_IPV6;
ETHERTYPE_KIND[0x0806] = K_ARP;
ETHERTYPE_KIND[0x8100] = K_VLAN; // 802.1Q
ETHERTYPE_KIND[0x88a8] = K_VLAN; // 802.1ad service tag
ETHERTYPE_KIND[0x9100] = K_VLAN; // pre-standard QinQ
ETHERTYPE_KIND[0x8847] = K_MPLS; // MPLS unicast
ETHERTYPE_KIND[0x8864] = K_PPPOE; // PPPoE session stage
ETHERTYPE_KIND[0x894f] = K_NSH; // Network Service Header (RFC 8300)

/** IP protocol / IPv6 next header -> kind; 0 = other IP protocol. */
export const IPPROTO_KIND = new Uint8Array(256);
IPPROTO_KIND[6] = K_TCP;
IPPROTO_KIND[17] = K_UDP;
IPPROTO_KIND[1] = K_ICMP;
IPPROTO_KIND[58] = K_ICMPV6;
IPPROTO_KIND[132] = K_SCTP;
IPPROTO_KIND[47] = K_GRE;
IPPROTO_KIND[4] = K_TUN_IPV4; // IPv4 in IP (RFC 2003)
IPPROTO_KIND[41] = K_TUN_IPV6; // IPv6 in IP (RFC 4213 6in4, RFC 2473)

/** pcap LINKTYPE_* -> kind; 0 = unknown link type. */
export const LINKTYPE_KIND = new Uint8Array(65536);
LINKTYPE_KIND[0] = K_NULL; // BSD loopback, host byte order
LINKTYPE_KIND[1] = K_ETHERNET;
LINKTYPE_KIND[9] = K_PPP;
LINKTYPE_KIND[50] = K_PPP; // PPP in HDLC-like framing
LINKTYPE_KIND[12] = K_RAW; // legacy DLT_RAW (some BSDs)
LINKTYPE_KIND[14] = K_RAW; // legacy DLT_RAW (OpenBSD)
LINKTYPE_KIND[101] = K_RAW;
LINKTYPE_KIND[104] = K_CHDLC;
LINKTYPE_KIND[108] = K_NULL; // OpenBSD loopback, network byte order
LINKTYPE_KIND[113] = K_SLL;
LINKTYPE_KIND[228] = K_RAW; // IPv4
LINKTYPE_KIND[229] = K_RAW; // IPv6
LINKTYPE_KIND[276] = K_SLL2;
