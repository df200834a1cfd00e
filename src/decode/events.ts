/**
 * Decoder event table: one counter per named event, indexed by the ids in `EV`.
 *
 * Names follow Suricata's decoder events (src/decode-events.c, and the `stats.decoder.event.*` /
 * `stats.defrag.*` keys of its EVE schema) wherever Suricata has one; the few Vigil-only names are
 * marked below. Adding an event is one line in `DEFS`.
 */

const DEFS = {
  // ---- whole packet / link layer ----
  INTERNAL_ERROR: 'decoder.internal_error', // Vigil: a decoder bug was caught (should stay 0)
  UNKNOWN_LINKTYPE: 'decoder.unknown_linktype', // Vigil: PacketBatch.linkType not decoded
  TOO_MANY_LAYERS: 'decoder.too_many_layers',
  ETHERNET_PKT_TOO_SMALL: 'decoder.ethernet.pkt_too_small',
  ETHERNET_UNKNOWN_ETHERTYPE: 'decoder.ethernet.unknown_ethertype',
  VLAN_HEADER_TOO_SMALL: 'decoder.vlan.header_too_small',
  VLAN_UNKNOWN_TYPE: 'decoder.vlan.unknown_type',
  VLAN_TOO_MANY_LAYERS: 'decoder.vlan.too_many_layers',
  SLL_PKT_TOO_SMALL: 'decoder.sll.pkt_too_small',
  SLL2_PKT_TOO_SMALL: 'decoder.sll2.pkt_too_small',
  LTNULL_PKT_TOO_SMALL: 'decoder.ltnull.pkt_too_small',
  LTNULL_UNSUPPORTED_TYPE: 'decoder.ltnull.unsupported_type',
  IPRAW_INVALID_IP_VERSION: 'decoder.ipraw.invalid_ip_version',
  CHDLC_PKT_TOO_SMALL: 'decoder.chdlc.pkt_too_small',
  MPLS_HEADER_TOO_SMALL: 'decoder.mpls.header_too_small',
  MPLS_PKT_TOO_SMALL: 'decoder.mpls.pkt_too_small',
  MPLS_UNKNOWN_PAYLOAD_TYPE: 'decoder.mpls.unknown_payload_type',
  NSH_HEADER_TOO_SMALL: 'decoder.nsh.header_too_small',
  NSH_UNSUPPORTED_VERSION: 'decoder.nsh.unsupported_version',
  NSH_BAD_HEADER_LENGTH: 'decoder.nsh.bad_header_length',
  NSH_RESERVED_TYPE: 'decoder.nsh.reserved_type',
  NSH_UNSUPPORTED_TYPE: 'decoder.nsh.unsupported_type',
  NSH_UNKNOWN_PAYLOAD: 'decoder.nsh.unknown_payload',
  PPPOE_PKT_TOO_SMALL: 'decoder.pppoe.pkt_too_small',
  PPPOE_WRONG_CODE: 'decoder.pppoe.wrong_code',
  PPP_PKT_TOO_SMALL: 'decoder.ppp.pkt_too_small',
  PPP_UNSUP_PROTO: 'decoder.ppp.unsup_proto',
  ARP_PKT_TOO_SMALL: 'decoder.arp.pkt_too_small',
  ARP_INVALID_HARDWARE_SIZE: 'decoder.arp.invalid_hardware_size',
  ARP_INVALID_PROTOCOL_SIZE: 'decoder.arp.invalid_protocol_size',
  ARP_UNSUPPORTED_OPCODE: 'decoder.arp.unsupported_opcode',

  // ---- IPv4 ----
  IPV4_PKT_TOO_SMALL: 'decoder.ipv4.pkt_too_small',
  IPV4_HLEN_TOO_SMALL: 'decoder.ipv4.hlen_too_small',
  IPV4_IPLEN_SMALLER_THAN_HLEN: 'decoder.ipv4.iplen_smaller_than_hlen',
  IPV4_TRUNC_PKT: 'decoder.ipv4.trunc_pkt',
  IPV4_OPT_INVALID: 'decoder.ipv4.opt_invalid',
  IPV4_OPT_INVALID_LEN: 'decoder.ipv4.opt_invalid_len',
  IPV4_OPT_MALFORMED: 'decoder.ipv4.opt_malformed',
  IPV4_OPT_DUPLICATE: 'decoder.ipv4.opt_duplicate',
  IPV4_OPT_UNKNOWN: 'decoder.ipv4.opt_unknown',
  IPV4_WRONG_IP_VERSION: 'decoder.ipv4.wrong_ip_version',
  IPV4_ICMPV6: 'decoder.ipv4.icmpv6',
  IPV4_INVALID_CHECKSUM: 'decoder.ipv4.invalid_checksum', // Vigil (Suricata: ipv4-csum keyword)
  IPV4_FRAG_PKT_TOO_LARGE: 'decoder.ipv4.frag_pkt_too_large',
  IPV4_FRAG_OVERLAP: 'decoder.ipv4.frag_overlap',
  IPV4_FRAG_IGNORED: 'decoder.ipv4.frag_ignored',

  // ---- IPv6 ----
  IPV6_PKT_TOO_SMALL: 'decoder.ipv6.pkt_too_small',
  IPV6_TRUNC_PKT: 'decoder.ipv6.trunc_pkt',
  IPV6_TRUNC_EXTHDR: 'decoder.ipv6.trunc_exthdr',
  IPV6_EXTHDR_DUPL_FH: 'decoder.ipv6.exthdr_dupl_fh',
  IPV6_EXTHDR_USELESS_FH: 'decoder.ipv6.exthdr_useless_fh',
  IPV6_EXTHDR_DUPL_RH: 'decoder.ipv6.exthdr_dupl_rh',
  IPV6_EXTHDR_DUPL_HH: 'decoder.ipv6.exthdr_dupl_hh',
  IPV6_EXTHDR_DUPL_DH: 'decoder.ipv6.exthdr_dupl_dh',
  IPV6_EXTHDR_DUPL_AH: 'decoder.ipv6.exthdr_dupl_ah',
  IPV6_EXTHDR_INVALID_OPTLEN: 'decoder.ipv6.exthdr_invalid_optlen',
  IPV6_EXTHDR_TOO_MANY: 'decoder.ipv6.exthdr_too_many', // Vigil: more than MAX_EXT_HEADERS in the chain
  IPV6_WRONG_IP_VERSION: 'decoder.ipv6.wrong_ip_version',
  IPV6_EXTHDR_AH_RES_NOT_NULL: 'decoder.ipv6.exthdr_ah_res_not_null',
  IPV6_HOPOPTS_UNKNOWN_OPT: 'decoder.ipv6.hopopts_unknown_opt',
  IPV6_HOPOPTS_ONLY_PADDING: 'decoder.ipv6.hopopts_only_padding',
  IPV6_DSTOPTS_UNKNOWN_OPT: 'decoder.ipv6.dstopts_unknown_opt',
  IPV6_DSTOPTS_ONLY_PADDING: 'decoder.ipv6.dstopts_only_padding',
  IPV6_RH_TYPE_0: 'decoder.ipv6.rh_type_0',
  IPV6_FH_NON_ZERO_RESERVED_FIELD: 'decoder.ipv6.fh_non_zero_reserved_field',
  IPV6_DATA_AFTER_NONE_HEADER: 'decoder.ipv6.data_after_none_header',
  IPV6_ICMPV4: 'decoder.ipv6.icmpv4',
  IPV6_FRAG_PKT_TOO_LARGE: 'decoder.ipv6.frag_pkt_too_large',
  IPV6_FRAG_OVERLAP: 'decoder.ipv6.frag_overlap',
  IPV6_FRAG_IGNORED: 'decoder.ipv6.frag_ignored',
  IPV6_FRAG_INVALID_LENGTH: 'decoder.ipv6.frag_invalid_length',

  // ---- defragmentation counters (not malformations) ----
  DEFRAG_IPV4_FRAGMENTS: 'defrag.ipv4.fragments',
  DEFRAG_IPV4_REASSEMBLED: 'defrag.ipv4.reassembled',
  DEFRAG_IPV4_TIMEOUTS: 'defrag.ipv4.timeouts',
  DEFRAG_IPV6_FRAGMENTS: 'defrag.ipv6.fragments',
  DEFRAG_IPV6_REASSEMBLED: 'defrag.ipv6.reassembled',
  DEFRAG_IPV6_TIMEOUTS: 'defrag.ipv6.timeouts',
  /** The tracker cap forced the oldest datagram in progress out. */
  DEFRAG_MAX_TRACKERS_REACHED: 'defrag.max_trackers_reached',
  /** The fragment-bytes cap forced a datagram in progress out (or a fragment to be dropped). */
  DEFRAG_MAX_FRAG_HITS: 'defrag.max_frag_hits',

  // ---- TCP / UDP / SCTP ----
  TCP_PKT_TOO_SMALL: 'decoder.tcp.pkt_too_small',
  TCP_HLEN_TOO_SMALL: 'decoder.tcp.hlen_too_small',
  TCP_INVALID_OPTLEN: 'decoder.tcp.invalid_optlen',
  TCP_OPT_INVALID_LEN: 'decoder.tcp.opt_invalid_len',
  TCP_OPT_DUPLICATE: 'decoder.tcp.opt_duplicate',
  TCP_INVALID_CHECKSUM: 'decoder.tcp.invalid_checksum', // Vigil (Suricata: stats tcp.invalid_checksum)
  UDP_PKT_TOO_SMALL: 'decoder.udp.pkt_too_small',
  UDP_HLEN_TOO_SMALL: 'decoder.udp.hlen_too_small',
  UDP_HLEN_INVALID: 'decoder.udp.hlen_invalid',
  UDP_LEN_INVALID: 'decoder.udp.len_invalid',
  UDP_INVALID_CHECKSUM: 'decoder.udp.invalid_checksum', // Vigil
  SCTP_PKT_TOO_SMALL: 'decoder.sctp.pkt_too_small',

  // ---- ICMP ----
  ICMPV4_PKT_TOO_SMALL: 'decoder.icmpv4.pkt_too_small',
  ICMPV4_UNKNOWN_TYPE: 'decoder.icmpv4.unknown_type',
  ICMPV4_UNKNOWN_CODE: 'decoder.icmpv4.unknown_code',
  ICMPV4_IPV4_TRUNC_PKT: 'decoder.icmpv4.ipv4_trunc_pkt',
  ICMPV4_IPV4_UNKNOWN_VER: 'decoder.icmpv4.ipv4_unknown_ver',
  ICMPV4_INVALID_CHECKSUM: 'decoder.icmpv4.invalid_checksum', // Vigil
  ICMPV6_UNKNOWN_TYPE: 'decoder.icmpv6.unknown_type',
  ICMPV6_UNKNOWN_CODE: 'decoder.icmpv6.unknown_code',
  ICMPV6_PKT_TOO_SMALL: 'decoder.icmpv6.pkt_too_small',
  ICMPV6_IPV6_UNKNOWN_VERSION: 'decoder.icmpv6.ipv6_unknown_version',
  ICMPV6_IPV6_TRUNC_PKT: 'decoder.icmpv6.ipv6_trunc_pkt',
  ICMPV6_MLD_MESSAGE_WITH_INVALID_HL: 'decoder.icmpv6.mld_message_with_invalid_hl',
  ICMPV6_UNASSIGNED_TYPE: 'decoder.icmpv6.unassigned_type',
  ICMPV6_EXPERIMENTATION_TYPE: 'decoder.icmpv6.experimentation_type',
  ICMPV6_INVALID_CHECKSUM: 'decoder.icmpv6.invalid_checksum', // Vigil

  // ---- tunnels ----
  GRE_PKT_TOO_SMALL: 'decoder.gre.pkt_too_small',
  GRE_WRONG_VERSION: 'decoder.gre.wrong_version',
  GRE_VERSION0_RECUR: 'decoder.gre.version0_recur',
  GRE_VERSION0_FLAGS: 'decoder.gre.version0_flags',
  GRE_VERSION0_HDR_TOO_BIG: 'decoder.gre.version0_hdr_too_big',
  GRE_VERSION0_MALFORMED_SRE_HDR: 'decoder.gre.version0_malformed_sre_hdr',
  GRE_VERSION1_CHKSUM: 'decoder.gre.version1_chksum',
  GRE_VERSION1_ROUTE: 'decoder.gre.version1_route',
  GRE_VERSION1_SSR: 'decoder.gre.version1_ssr',
  GRE_VERSION1_RECUR: 'decoder.gre.version1_recur',
  GRE_VERSION1_FLAGS: 'decoder.gre.version1_flags',
  GRE_VERSION1_NO_KEY: 'decoder.gre.version1_no_key',
  GRE_VERSION1_WRONG_PROTOCOL: 'decoder.gre.version1_wrong_protocol',
  GRE_VERSION1_HDR_TOO_BIG: 'decoder.gre.version1_hdr_too_big',
  VXLAN_UNKNOWN_PAYLOAD_TYPE: 'decoder.vxlan.unknown_payload_type',
  GENEVE_UNKNOWN_PAYLOAD_TYPE: 'decoder.geneve.unknown_payload_type',
} as const;

/** Symbolic event keys (`'IPV4_TRUNC_PKT'`, ...). */
export type DecoderEventKey = keyof typeof DEFS;

/** Event names; the index is the event id. */
export const DECODER_EVENT_NAMES: readonly string[] = Object.freeze(Object.values(DEFS));

/** Event ids, e.g. `EV.IPV4_TRUNC_PKT`, indexing `Decoder.events` and `DECODER_EVENT_NAMES`. */
export const EV: { readonly [K in DecoderEventKey]: number } = (() => {
  const ids = {} as Record<DecoderEventKey, number>;
  let n = 0;
  for (const k of Object.keys(DEFS) as DecoderEventKey[]) ids[k] = n++;
  return Object.freeze(ids);
})();

/** Number of decoder events (length of `Decoder.events`). */
export const DECODER_EVENT_COUNT = DECODER_EVENT_NAMES.length;
