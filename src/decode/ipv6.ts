/**
 * IPv6 (RFC 8200): version/class/flow(4) payload length(2) next header(1) hop limit(1)
 * source(16) destination(16), then an extension-header chain: hop-by-hop (0), routing (43),
 * fragment (44), destination options (60), AH (51); ESP (50) and No Next Header (59) end it.
 * At most MAX_EXT_HEADERS extension headers are walked.
 */
import { LAYER, PFLAG } from './batch.js';
import { u16, u32 } from './bytes.js';
import type { Ctx } from './ctx.js';
import { K_DONE, K_IPPROTO, K_IPV6, altReserve, invalid, note, truncated } from './ctx.js';
import { DEFRAG_INVALID } from './defrag.js';
import { EV } from './events.js';

export const IPV6_HEADER_LEN = 40;
/** Extension headers walked before the chain is rejected (real chains have 0-3). */
export const MAX_EXT_HEADERS = 8;

const NH_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_ESP = 50;
const NH_AH = 51;
const NH_NONE = 59;
const NH_DSTOPTS = 60;

export function decodeIpv6(c: Ctx, buf: Buffer, off: number, len: number): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.IPV6;
  if (len < IPV6_HEADER_LEN) return truncated(c, EV.IPV6_PKT_TOO_SMALL);
  if (buf[off]! >> 4 !== 6) return invalid(c, EV.IPV6_WRONG_IP_VERSION);
  const tot = IPV6_HEADER_LEN + u16(buf, off + 4);
  let avail = tot;
  if (tot > len) {
    if (tot - len > c.snapMissing) return invalid(c, EV.IPV6_TRUNC_PKT);
    out.pflags[i]! |= PFLAG.SNAPLEN_TRUNC;
    avail = len;
  }
  const w = i << 2;
  out.src[w] = u32(buf, off + 8);
  out.src[w + 1] = u32(buf, off + 12);
  out.src[w + 2] = u32(buf, off + 16);
  out.src[w + 3] = u32(buf, off + 20);
  out.dst[w] = u32(buf, off + 24);
  out.dst[w + 1] = u32(buf, off + 28);
  out.dst[w + 2] = u32(buf, off + 32);
  out.dst[w + 3] = u32(buf, off + 36);
  out.ipVer[i] = 6;
  out.ttl[i] = buf[off + 7]!;
  out.ipLen[i] = tot;
  out.l3Off[i] = off;
  c.ipVer = 6;

  const end = off + avail;
  let nh = buf[off + 6]!;
  let nhPos = off + 6;
  let p = off + IPV6_HEADER_LEN;
  let seen = 0; // bit per header type, for duplicates
  let dstopts = 0;
  for (let n = 0; ; n++) {
    if (nh !== NH_HOP && nh !== NH_ROUTING && nh !== NH_FRAGMENT && nh !== NH_DSTOPTS && nh !== NH_AH) break;
    if (n === MAX_EXT_HEADERS) {
      setL3(c, off, p, nh);
      return invalid(c, EV.IPV6_EXTHDR_TOO_MANY);
    }
    if (p + 8 > end) {
      setL3(c, off, p, nh);
      return truncated(c, EV.IPV6_TRUNC_EXTHDR);
    }
    const next = buf[p]!;
    let hl: number;
    if (nh === NH_FRAGMENT) {
      if (seen & 4 || c.inReasm) {
        setL3(c, off, p, nh);
        return invalid(c, EV.IPV6_EXTHDR_DUPL_FH);
      }
      seen |= 4;
      const fo = u16(buf, p + 2);
      if (buf[p + 1] !== 0 || (fo & 6) !== 0) note(c, EV.IPV6_FH_NON_ZERO_RESERVED_FIELD);
      if ((fo & 0xfff9) === 0) {
        // Atomic fragment (offset 0, no more fragments; RFC 6946): decode as a whole datagram.
        note(c, EV.IPV6_EXTHDR_USELESS_FH);
      } else {
        setL3(c, off, p + 8, next);
        return fragment(c, buf, off, p, nhPos, next, end, fo, u32(buf, p + 4));
      }
      hl = 8;
    } else {
      hl = nh === NH_AH ? (buf[p + 1]! + 2) << 2 : (buf[p + 1]! + 1) << 3;
      if (p + hl > end) {
        setL3(c, off, p, nh);
        return truncated(c, EV.IPV6_TRUNC_EXTHDR);
      }
      if (nh === NH_HOP) {
        if (seen & 1) note(c, EV.IPV6_EXTHDR_DUPL_HH);
        seen |= 1;
        if (!checkTlvOptions(c, buf, p + 2, p + hl, true)) {
          setL3(c, off, p, nh);
          return K_DONE;
        }
      } else if (nh === NH_DSTOPTS) {
        // Allowed twice: before a routing header and before the upper layer.
        if (++dstopts > 2) note(c, EV.IPV6_EXTHDR_DUPL_DH);
        if (!checkTlvOptions(c, buf, p + 2, p + hl, false)) {
          setL3(c, off, p, nh);
          return K_DONE;
        }
      } else if (nh === NH_ROUTING) {
        if (seen & 2) note(c, EV.IPV6_EXTHDR_DUPL_RH);
        seen |= 2;
        if (buf[p + 2] === 0) note(c, EV.IPV6_RH_TYPE_0); // deprecated by RFC 5095
      } else {
        if (seen & 8) note(c, EV.IPV6_EXTHDR_DUPL_AH);
        seen |= 8;
        if (u16(buf, p + 2) !== 0) note(c, EV.IPV6_EXTHDR_AH_RES_NOT_NULL);
      }
    }
    nhPos = p;
    nh = next;
    p += hl;
  }
  setL3(c, off, p, nh);
  if (nh === NH_NONE) {
    if (p < end) note(c, EV.IPV6_DATA_AFTER_NONE_HEADER);
    out.layers[i]! |= LAYER.OTHER_IP;
    return K_DONE;
  }
  if (nh === NH_ESP) {
    out.layers[i]! |= LAYER.OTHER_IP;
    return K_DONE;
  }
  c.off = p;
  c.len = end - p;
  c.ipproto = nh;
  return K_IPPROTO;
}

function setL3(c: Ctx, off: number, p: number, nh: number): void {
  c.out.ipHdrLen[c.i] = p - off;
  c.out.proto[c.i] = nh;
}

/**
 * Hop-by-hop / destination options TLVs in [p, end): Pad1 (0) is one byte, others type(1) len(1)
 * data. An option running past the header is invalid; unknown types and padding-only headers
 * (a covert-channel and evasion trick) are noted.
 */
function checkTlvOptions(c: Ctx, buf: Buffer, p: number, end: number, hop: boolean): boolean {
  let onlyPad = true;
  while (p < end) {
    const t = buf[p]!;
    if (t === 0) {
      p++;
      continue;
    }
    if (p + 2 > end || p + 2 + buf[p + 1]! > end) {
      invalid(c, EV.IPV6_EXTHDR_INVALID_OPTLEN);
      return false;
    }
    if (t !== 1) {
      onlyPad = false;
      // Tunnel encapsulation limit, router alert, CALIPSO, SMF_DPD, quick-start, PDM, RPL,
      // jumbo payload, home address, IOAM; RFC 3692 experimental values (x1e, ...).
      if (
        t !== 4 &&
        t !== 5 &&
        t !== 7 &&
        t !== 8 &&
        t !== 0x26 &&
        t !== 0x0f &&
        t !== 0x31 &&
        t !== 0x63 &&
        t !== 0xc2 &&
        t !== 0xc9 &&
        t !== 0x11 &&
        (t & 0x1f) !== 0x1e
      ) {
        note(c, hop ? EV.IPV6_HOPOPTS_UNKNOWN_OPT : EV.IPV6_DSTOPTS_UNKNOWN_OPT);
      }
    }
    p += 2 + buf[p + 1]!;
  }
  if (onlyPad) note(c, hop ? EV.IPV6_HOPOPTS_ONLY_PADDING : EV.IPV6_DSTOPTS_ONLY_PADDING);
  return true;
}

/** A fragment header at `fh`: hand the fragment to the defragmenter; decode the datagram when complete. */
function fragment(
  c: Ctx,
  buf: Buffer,
  off: number,
  fh: number,
  nhPos: number,
  next: number,
  end: number,
  fo: number,
  id: number,
): number {
  const out = c.out;
  const i = c.i;
  out.layers[i]! |= LAYER.FRAGMENT;
  if (out.pflags[i]! & PFLAG.SNAPLEN_TRUNC) return K_DONE;
  const more = (fo & 1) !== 0;
  const d = c.defrag;
  const r = d.add(
    6,
    next,
    out.src,
    out.dst,
    i << 2,
    id,
    buf,
    off,
    fh - off,
    nhPos - off,
    fh + 8,
    end - fh - 8,
    fo & 0xfff8,
    more,
    c.tsUs,
  );
  if (d.lastOverlap) out.pflags[i]! |= PFLAG.FRAG_OVERLAP;
  if (r < 0) {
    if (r === DEFRAG_INVALID) out.layers[i]! |= LAYER.INVALID;
    return K_DONE;
  }
  const overlap = d.overlapped(r);
  const dlen = d.datagramLength(r);
  const pos = altReserve(c, dlen);
  d.take(r, 6, out.alt, pos);
  out.layers[i] = (out.layers[i]! & ~LAYER.FRAGMENT) | LAYER.REASSEMBLED;
  if (overlap) out.pflags[i]! |= PFLAG.FRAG_OVERLAP;
  if (!c.inReasm) {
    out.reasmPrefix[i] = off - c.frameOff;
    out.reasmOff[i] = pos;
    out.reasmLen[i] = dlen;
  }
  out.bufSel[i] = 1;
  c.buf = out.alt;
  c.off = pos;
  c.len = dlen;
  c.snapMissing = 0;
  c.inReasm = true;
  return K_IPV6;
}
