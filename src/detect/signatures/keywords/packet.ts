/**
 * Packet header and size keywords: flags (tcp.flags), fragbits, ipopts, sameip, dsize, ttl, tos, id,
 * fragoffset, seq, ack, window, tcp.mss, itype, icode, icmp_id, icmp_seq, ip_proto, isdataat, urilen,
 * tls.version.
 */
import { VAR_NAME, fail, ok, parseUint, parseUintCompare, splitArgs } from './common.js';
import type { KeywordDef } from './common.js';

/** TCP flag letters (Suricata): FIN SYN RST PSH ACK URG, CWR (C or 1), ECE (E or 2), 0 = none. */
const TCP_FLAG_BITS: Record<string, number> = {
  F: 0x01,
  S: 0x02,
  R: 0x04,
  P: 0x08,
  A: 0x10,
  U: 0x20,
  E: 0x40,
  '2': 0x40,
  C: 0x80,
  '1': 0x80,
};

function flagMask(s: string): number | null {
  let m = 0;
  for (const c of s.toUpperCase()) {
    const b = TCP_FLAG_BITS[c];
    if (b === undefined) return null;
    m |= b;
  }
  return m;
}

function compare(name: string, max: number): KeywordDef {
  return {
    name,
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const c = parseUintCompare(v!, max);
      return typeof c === 'string' ? fail(c) : ok(c);
    },
  };
}

const IP_PROTO_NAMES: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  icmpv6: 58,
  sctp: 132,
};

/** IPv4 fragment bits (values of the `fragbits` contract, not the header bit positions). */
const FRAG_BITS: Record<string, number> = { M: 0x1, D: 0x2, R: 0x4 };

function fragMask(s: string): number | null {
  let m = 0;
  for (const c of s.toUpperCase()) {
    const b = FRAG_BITS[c];
    if (b === undefined) return null;
    m |= b;
  }
  return m;
}

/**
 * `<bits>[,<ignored>]` with a modifier before or after the bits (`!D`, `M+`): `=` exact, `*` any of,
 * `+` all of and maybe others, `!` none of. `zero` is the spelling of "no bit set", if any.
 */
function bitsKeyword(name: string, mask: (s: string) => number | null, zero: string | null): KeywordDef {
  return {
    name,
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const [test, ignore, extra] = splitArgs(v!);
      if (extra !== undefined || test === undefined) return fail(`expected <${name}>[,<mask>]`);
      const m = /^([!*+]?)\s*([A-Za-z0-9]+)\s*([!*+]?)$/.exec(test);
      if (!m || (m[1] !== '' && m[3] !== '')) return fail(`bad ${name} "${test}"`);
      const modifier = m[1] || m[3] || '=';
      const bits = m[2] === zero ? 0 : mask(m[2]!);
      if (bits === null) return fail(`unknown flag in "${m[2]}"`);
      let ignored = 0;
      if (ignore !== undefined) {
        const b = mask(ignore);
        if (b === null) return fail(`unknown flag in mask "${ignore}"`);
        ignored = b;
      }
      return ok({ modifier, bits, ignored });
    },
  };
}

/** `tos` also takes hex (`0x10`, or Suricata's older `x10`), which parseUintCompare does not. */
function tosKeyword(): KeywordDef {
  return {
    name: 'tos',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const h = /^([!<>]?)\s*0?x([0-9a-f]{1,2})$/i.exec(v!.trim());
      const c = parseUintCompare(h ? `${h[1]}${parseInt(h[2]!, 16)}` : v!, 255);
      return typeof c === 'string' ? fail(c) : ok(c);
    },
  };
}

/** IP options by their Suricata names. */
const IP_OPTS = new Set(['rr', 'eol', 'nop', 'ts', 'sec', 'esec', 'lsrr', 'ssrr', 'satid', 'any']);

export const PACKET_KEYWORDS: KeywordDef[] = [
  // flags:[!|*|+]<flags>[,<ignored flags>]; 0 means no flag set. tcp.flags is the Suricata 8 name.
  bitsKeyword('flags', flagMask, '0'),
  bitsKeyword('tcp.flags', flagMask, '0'),
  // fragbits:[!|*|+]<MDR>[,<ignored>]
  bitsKeyword('fragbits', fragMask, null),
  {
    // ipopts:<name>: the packet carries that IPv4 option (any: at least one).
    name: 'ipopts',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const opt = v!.toLowerCase();
      return IP_OPTS.has(opt) ? ok({ opt }) : fail(`unknown IP option "${v}"`);
    },
  },
  {
    // sameip: source and destination address are equal.
    name: 'sameip',
    kind: 'standalone',
    value: 'none',
    parse: () => ok(true),
  },
  compare('dsize', 65535),
  compare('ttl', 255),
  tosKeyword(),
  compare('id', 65535),
  compare('fragoffset', 8191),
  compare('seq', 0xffffffff),
  compare('ack', 0xffffffff),
  compare('window', 65535),
  compare('tcp.mss', 65535),
  compare('itype', 255),
  compare('icode', 255),
  compare('icmp_id', 65535),
  compare('icmp_seq', 65535),
  {
    // ip_proto:[!|<|>]<number or name>
    name: 'ip_proto',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const m = /^([!<>]?)\s*([A-Za-z0-9-]+)$/.exec(v!);
      if (!m) return fail('expected [!<>]<protocol number or name>');
      const n = parseUint(m[2]!, 255) ?? IP_PROTO_NAMES[m[2]!.toLowerCase()] ?? null;
      if (n === null) return fail(`unknown protocol "${m[2]}"`);
      return ok({ op: m[1] || '=', proto: n });
    },
  },
  {
    // isdataat:[!]<N or var>[,relative][,rawbytes]
    name: 'isdataat',
    kind: 'standalone',
    value: 'required',
    parse(v, ctx) {
      const a = splitArgs(v!);
      let first = a[0]!;
      const negated = first.startsWith('!');
      if (negated) first = first.slice(1).trim();
      const n = VAR_NAME.test(first) ? (ctx.byteVars.has(first) ? first : null) : parseUint(first, 65535);
      if (n === null) return fail('expected 0..65535 or a byte_extract variable');
      let relative = false;
      for (const o of a.slice(1)) {
        if (o === 'relative') relative = true;
        else if (o !== 'rawbytes') return fail(`unknown option "${o}"`);
      }
      if (relative && ctx.last === null && ctx.buffer === null) {
        // Relative to the start of the payload: allowed, as in Suricata.
      }
      return ok({ negated, value: n, relative, buffer: ctx.buffer });
    },
  },
  {
    // urilen:<compare>[,raw|norm]
    name: 'urilen',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const [c, mode, extra] = splitArgs(v!);
      if (extra !== undefined || (mode !== undefined && mode !== 'raw' && mode !== 'norm'))
        return fail('expected <compare>[,raw|norm]');
      const r = parseUintCompare(c!, 65535);
      return typeof r === 'string' ? fail(r) : ok({ ...r, raw: mode === 'raw' });
    },
  },
  {
    // tls.version:1.0|1.1|1.2|1.3|ssl2|ssl3|0xNNNN
    name: 'tls.version',
    kind: 'standalone',
    value: 'required',
    parse(v) {
      const names: Record<string, number> = {
        ssl2: 0x0200,
        ssl3: 0x0300,
        '1.0': 0x0301,
        '1.1': 0x0302,
        '1.2': 0x0303,
        '1.3': 0x0304,
      };
      const t = v!.replace(/^"|"$/g, '').toLowerCase();
      const n = names[t] ?? (/^0x[0-9a-f]{1,4}$/.test(t) ? parseInt(t.slice(2), 16) : null);
      return n === null ? fail(`unknown TLS version "${v}"`) : ok(n);
    },
  },
];
