/** Test helpers for the DNS parser tests (not used by the parser). */
import { isDnsError, parseDnsMessage, type DnsError, type DnsMessage } from './parser.js';

/** A message part: hex digits (spaces allowed) or raw bytes. */
export type Part = string | Uint8Array;

/** Concatenates hex strings and byte arrays into one message. */
export function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') {
      const h = p.replace(/\s+/g, '');
      if (h.length % 2 !== 0) throw new Error(`odd hex: ${p}`);
      for (let i = 0; i < h.length; i += 2) out.push(parseInt(h.slice(i, i + 2), 16));
    } else out.push(...p);
  }
  return Uint8Array.from(out);
}

/** Uncompressed wire name of `dotted` ('' is the root): length-prefixed labels and a 0 octet. */
export function name(dotted: string): Uint8Array {
  const out: number[] = [];
  if (dotted !== '') {
    for (const l of dotted.split('.')) {
      out.push(l.length);
      for (let i = 0; i < l.length; i++) out.push(l.charCodeAt(i));
    }
  }
  out.push(0);
  return Uint8Array.from(out);
}

/** Labels of `dotted` without the terminating root octet (to end with a pointer). */
export function labels(dotted: string): Uint8Array {
  const n = name(dotted);
  return n.subarray(0, n.length - 1);
}

/** A length-prefixed character-string (TXT). */
export function cstr(s: string): Uint8Array {
  return Uint8Array.from([s.length, ...Buffer.from(s, 'latin1')]);
}

/** Parses the whole of `b`, failing the test on an error. */
export function parseOk(b: Uint8Array): DnsMessage {
  const r = parseDnsMessage(b, 0, b.length);
  if (isDnsError(r)) throw new Error(`parse failed: ${r.error} at ${r.offset}`);
  return r;
}

/** Parses the whole of `b`, failing the test when it parses. */
export function parseErr(b: Uint8Array): DnsError {
  const r = parseDnsMessage(b, 0, b.length);
  if (!isDnsError(r)) throw new Error('parsed, expected an error');
  return r;
}

// A query: www.example.com A, recursion desired, with an EDNS OPT record carrying a cookie.
export const QUERY = bytes(
  '1234', // id
  '0100', // flags: RD
  '0001', // qdcount
  '0000', // ancount
  '0000', // nscount
  '0001', // arcount
  name('www.example.com'), // qname at 12: www@12 example@16 com@24 root@28
  '0001', // qtype A
  '0001', // qclass IN
  '00', // OPT owner: root
  '0029', // type OPT
  '1000', // class: UDP payload size 4096
  '00008000', // ttl: extended rcode 0, version 0, DO bit
  '000c', // rdlength 12
  '000a', // option code 10 (COOKIE)
  '0008', // option length 8
  '0102030405060708', // client cookie
);

// The response: one record of each decoded type, an SOA authority, an empty OPT additional.
export const RESPONSE = bytes(
  '1234', // id
  '8580', // flags: QR, AA, RD, RA
  '0001', // qdcount
  '0008', // ancount
  '0001', // nscount
  '0001', // arcount
  name('www.example.com'), // qname at 12 (example.com at 0x10)
  '0001', // qtype A
  '0001', // qclass IN
  // answer 1: CNAME
  'c00c', // name: pointer to www.example.com
  '0005 0001', // type CNAME, class IN
  '0000012c', // ttl 300
  '0006', // rdlength
  labels('web'),
  'c010', // web + pointer to example.com
  // answer 2: A
  'c00c 0001 0001 0000003c 0004', // www.example.com A IN ttl 60 rdlength 4
  '5db8d822', // 93.184.216.34
  // answer 3: AAAA
  'c00c 001c 0001 0000003c 0010', // www.example.com AAAA IN ttl 60 rdlength 16
  '26062800022000010248189325c81946', // 2606:2800:220:1:248:1893:25c8:1946
  // answer 4: MX
  'c010 000f 0001 00000e10 0009', // example.com MX IN ttl 3600 rdlength 9
  '000a', // preference 10
  labels('mail'),
  'c010', // mail.example.com
  // answer 5: NS
  'c010 0002 0001 00000e10 0006', // example.com NS IN ttl 3600 rdlength 6
  labels('ns1'),
  'c010', // ns1.example.com
  // answer 6: TXT with two strings
  'c010 0010 0001 00000e10 000c', // example.com TXT IN ttl 3600 rdlength 12
  cstr('v=spf1'),
  cstr('-all'),
  // answer 7: PTR
  name('4.3.2.1.in-addr.arpa'), // owner, uncompressed
  '000c 0001 00000e10 0002', // PTR IN ttl 3600 rdlength 2
  'c00c', // www.example.com
  // answer 8: SRV
  labels('_sip._udp'),
  'c010', // _sip._udp.example.com
  '0021 0001 00000e10 000c', // SRV IN ttl 3600 rdlength 12
  '000a', // priority 10
  '0005', // weight 5
  '13c4', // port 5060
  labels('sip'),
  'c010', // sip.example.com
  // authority: SOA
  'c010 0006 0001 00000e10 0027', // example.com SOA IN ttl 3600 rdlength 39
  labels('ns1'),
  'c010', // mname ns1.example.com (6 bytes)
  labels('hostmaster'),
  'c010', // rname hostmaster.example.com (13 bytes)
  '78a0f835', // serial 2023749685
  '00001c20', // refresh 7200
  '00000e10', // retry 3600
  '00127500', // expire 1209600
  '0000012c', // minimum 300
  // additional: OPT without options
  '00 0029 04d0 00000000 0000', // root OPT, payload 1232, ttl 0, rdlength 0
);

/** Frames `msgs` for DNS over TCP (2-byte length prefix each). */
export function tcpFrames(...msgs: Uint8Array[]): Uint8Array {
  const parts: Part[] = [];
  for (const m of msgs) {
    parts.push(m.length.toString(16).padStart(4, '0'), m);
  }
  return bytes(...parts);
}
