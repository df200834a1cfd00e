/**
 * EVE `dns` objects in Suricata's version 3 layout (rust/src/dns/log.rs `log_json`, Suricata 8;
 * the layout the shared EVE schema describes): one object per message, `type` `request` or
 * `response`, header flags, `queries`, `answers` (detailed) and/or `grouped`, `authorities`,
 * `additionals`. Only present values are written, as Suricata does.
 */
import { DNS_TYPE, type DnsMessage, type DnsRecord } from './parser.js';

/** Suricata's eve-log dns options. */
export interface DnsEveOptions {
  /** Suricata's internal transaction id (`tx_id`), default 0. */
  txId?: number;
  /** One `answers` entry per record (Suricata's `formats: [detailed]`); default true. */
  detailed?: boolean;
  /** `grouped` answers by type (Suricata's `formats: [grouped]`); default true (Suricata: both). */
  grouped?: boolean;
}

/** Type mnemonics (IANA DNS parameters), as Suricata's `dns_rrtype_string` prints them. */
const RRTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'A'],
  [2, 'NS'],
  [3, 'MD'],
  [4, 'MF'],
  [5, 'CNAME'],
  [6, 'SOA'],
  [7, 'MB'],
  [8, 'MG'],
  [9, 'MR'],
  [10, 'NULL'],
  [11, 'WKS'],
  [12, 'PTR'],
  [13, 'HINFO'],
  [14, 'MINFO'],
  [15, 'MX'],
  [16, 'TXT'],
  [17, 'RP'],
  [18, 'AFSDB'],
  [19, 'X25'],
  [20, 'ISDN'],
  [21, 'RT'],
  [22, 'NSAP'],
  [23, 'NSAPPTR'],
  [24, 'SIG'],
  [25, 'KEY'],
  [26, 'PX'],
  [27, 'GPOS'],
  [28, 'AAAA'],
  [29, 'LOC'],
  [30, 'NXT'],
  [33, 'SRV'],
  [34, 'ATMA'],
  [35, 'NAPTR'],
  [36, 'KX'],
  [37, 'CERT'],
  [38, 'A6'],
  [39, 'DNAME'],
  [41, 'OPT'],
  [42, 'APL'],
  [43, 'DS'],
  [44, 'SSHFP'],
  [45, 'IPSECKEY'],
  [46, 'RRSIG'],
  [47, 'NSEC'],
  [48, 'DNSKEY'],
  [49, 'DHCID'],
  [50, 'NSEC3'],
  [51, 'NSEC3PARAM'],
  [52, 'TLSA'],
  [55, 'HIP'],
  [59, 'CDS'],
  [60, 'CDNSKEY'],
  [64, 'SVCB'],
  [65, 'HTTPS'],
  [99, 'SPF'],
  [249, 'TKEY'],
  [250, 'TSIG'],
  [252, 'AXFR'],
  [253, 'MAILB'],
  [254, 'MAILA'],
  [255, 'ANY'],
  [256, 'URI'],
  [257, 'CAA'],
]);

/** RCODE mnemonics of the 4-bit header field (RFC 6895 section 2.3). */
const RCODE_NAMES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

/** The type mnemonic, or the number as a string. */
export function dnsTypeName(type: number): string {
  return RRTYPE_NAMES.get(type) ?? String(type);
}

/** The header RCODE mnemonic, or the number as a string. */
export function dnsRcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? String(rcode);
}

/**
 * A latin1 name or string for JSON: printable ASCII as is, other bytes as `\xHH` so the output
 * stays valid UTF-8 and the bytes stay recognisable.
 */
function printable(s: string): string {
  let clean = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      clean = false;
      break;
    }
  }
  if (clean) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c > 0x7e ? '\\x' + c.toString(16).padStart(2, '0') : s[i]!;
  }
  return out;
}

/** Suricata's `dns_print_addr`: dotted quad, or eight 4-digit hex groups (no `::`). */
function printAddr(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  let s = '';
  for (let i = 0; i < 16; i += 2) {
    if (i > 0) s += ':';
    s += b[i]!.toString(16).padStart(2, '0') + b[i + 1]!.toString(16).padStart(2, '0');
  }
  return s;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

type Section = 'answers' | 'authorities' | 'additionals';

/**
 * The detail objects of one record (several for a TXT record: one per string, as Suricata). The
 * schema allows `soa` in answers and authorities, `srv` in answers only, `opt` in additionals only;
 * a record whose structured field its section does not allow is logged without it.
 */
function details(rr: DnsRecord, section: Section, out: Record<string, unknown>[]): void {
  const base = (): Record<string, unknown> => ({
    rrname: printable(rr.name),
    rrtype: dnsTypeName(rr.type),
    ttl: rr.ttl,
  });
  const d = rr.rdata;
  switch (d.kind) {
    case 'address':
      out.push({ ...base(), rdata: printAddr(d.bytes) });
      return;
    case 'name':
      out.push({ ...base(), rdata: printable(d.name) });
      return;
    case 'mx':
      out.push({ ...base(), rdata: printable(d.exchange) });
      return;
    case 'txt':
      if (d.strings.length === 0) out.push(base());
      for (let i = 0; i < d.strings.length; i++) out.push({ ...base(), rdata: printable(d.strings[i]!) });
      return;
    case 'soa': {
      const o = base();
      if (section !== 'additionals') o['soa'] = soaObject(d);
      out.push(o);
      return;
    }
    case 'srv': {
      const o = base();
      if (section === 'answers') o['srv'] = srvObject(d);
      out.push(o);
      return;
    }
    case 'opt': {
      const o = base();
      if (section === 'additionals' && d.options.length > 0) {
        const opt: { code: number; data: string }[] = [];
        for (let i = 0; i < d.options.length; i++)
          opt.push({ code: d.options[i]!.code, data: hex(d.options[i]!.data) });
        o['opt'] = opt;
      }
      out.push(o);
      return;
    }
    case 'raw':
      out.push(base());
      return;
  }
}

function soaObject(d: Extract<DnsRecord['rdata'], { kind: 'soa' }>): Record<string, unknown> {
  return {
    mname: printable(d.mname),
    rname: printable(d.rname),
    serial: d.serial,
    refresh: d.refresh,
    retry: d.retry,
    expire: d.expire,
    minimum: d.minimum,
  };
}

function srvObject(d: Extract<DnsRecord['rdata'], { kind: 'srv' }>): Record<string, unknown> {
  return { priority: d.priority, weight: d.weight, port: d.port, name: printable(d.target) };
}

/** Appends `rr` to the grouped-by-type map (the types the schema's `grouped` knows). */
function group(rr: DnsRecord, g: Record<string, unknown[]>): void {
  const d = rr.rdata;
  let key: string;
  const vals: unknown[] = [];
  switch (d.kind) {
    case 'address':
      key = rr.type === DNS_TYPE.A ? 'A' : 'AAAA';
      vals.push(printAddr(d.bytes));
      break;
    case 'name':
      key = dnsTypeName(rr.type);
      vals.push(printable(d.name));
      break;
    case 'mx':
      key = 'MX';
      vals.push(printable(d.exchange));
      break;
    case 'txt':
      key = 'TXT';
      for (let i = 0; i < d.strings.length; i++) vals.push(printable(d.strings[i]!));
      break;
    case 'soa':
      key = 'SOA';
      vals.push(soaObject(d));
      break;
    case 'srv':
      key = 'SRV';
      vals.push(srvObject(d));
      break;
    default:
      return;
  }
  if (vals.length === 0) return;
  const arr = g[key];
  if (arr === undefined) g[key] = vals;
  else for (let i = 0; i < vals.length; i++) arr.push(vals[i]);
}

/**
 * The EVE `dns` objects of one message: a single version-3 object (an array so a caller can log
 * several messages, or a later v2 mode one per query, the same way).
 */
export function dnsEveObjects(msg: DnsMessage, opts: DnsEveOptions = {}): Record<string, unknown>[] {
  const f = msg.flags;
  const o: Record<string, unknown> = {
    version: 3,
    type: f.qr ? 'response' : 'request',
    tx_id: opts.txId ?? 0,
    id: msg.id,
    flags: f.raw.toString(16),
  };
  if (f.qr) o['qr'] = true;
  if (f.aa) o['aa'] = true;
  if (f.tc) o['tc'] = true;
  if (f.rd) o['rd'] = true;
  if (f.ra) o['ra'] = true;
  if (f.z) o['z'] = true;
  o['opcode'] = f.opcode;
  o['rcode'] = dnsRcodeName(f.rcode);
  if (msg.questions.length > 0) {
    const qs: Record<string, unknown>[] = [];
    for (let i = 0; i < msg.questions.length; i++) {
      const q = msg.questions[i]!;
      qs.push({ rrname: printable(q.name), rrtype: dnsTypeName(q.type) });
    }
    o['queries'] = qs;
  }
  if (msg.answers.length > 0) {
    if (opts.detailed !== false) {
      const a: Record<string, unknown>[] = [];
      for (let i = 0; i < msg.answers.length; i++) details(msg.answers[i]!, 'answers', a);
      o['answers'] = a;
    }
    if (opts.grouped !== false) {
      const g: Record<string, unknown[]> = {};
      for (let i = 0; i < msg.answers.length; i++) group(msg.answers[i]!, g);
      if (Object.keys(g).length > 0) o['grouped'] = g;
    }
  }
  if (msg.authorities.length > 0) {
    const a: Record<string, unknown>[] = [];
    for (let i = 0; i < msg.authorities.length; i++) details(msg.authorities[i]!, 'authorities', a);
    o['authorities'] = a;
  }
  // An OPT record without options is left out, as Suricata does.
  const add: Record<string, unknown>[] = [];
  for (let i = 0; i < msg.additionals.length; i++) {
    const rr = msg.additionals[i]!;
    if (rr.rdata.kind === 'opt' && rr.rdata.options.length === 0) continue;
    details(rr, 'additionals', add);
  }
  if (add.length > 0) o['additionals'] = add;
  return [o];
}
