/**
 * Minimal DER walk of an X.509 certificate (RFC 5280 §4.1) for the fields Suricata logs: subject
 * and issuer DNs, serial, validity and the SHA-1 fingerprint. It reads only the outer
 * tbsCertificate fields, checks every length against its parent, and returns null on any
 * malformation instead of throwing. Off the packet hot path: runs once per certificate.
 */
import { createHash } from 'node:crypto';

/** The logged fields of one certificate. */
export interface CertInfo {
  /** Subject DN, RFC 4514-ish in certificate order: `C=US, O=Example, CN=example.com`. */
  subject: string;
  issuer: string;
  /** Serial number bytes as sent, uppercase hex joined by ':' (as Suricata logs it). */
  serial: string;
  /** `YYYY-MM-DDTHH:MM:SS` (UTC), '' when unparseable. */
  notBefore: string;
  notAfter: string;
  /** SHA-1 of the DER, lowercase hex joined by ':' (Suricata's `fingerprint`). */
  fingerprint: string;
}

/** Short names of the attribute types seen in DNs (RFC 4519, PKCS #9); others print dotted. */
const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  // Suricata (Rust x509-parser) names it Email in subject and issuer strings.
  '1.2.840.113549.1.9.1': 'Email',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** A parsed TLV: tag, value start and end (exclusive). */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** Reads the TLV at `p` within `[p, limit)`; null when malformed (long tags, indefinite lengths). */
function tlv(b: Uint8Array, p: number, limit: number): Tlv | null {
  if (p + 2 > limit) return null;
  const tag = b[p]!;
  if ((tag & 0x1f) === 0x1f) return null;
  let l = b[p + 1]!;
  let q = p + 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    if (n === 0 || n > 3 || q + n > limit) return null;
    l = 0;
    for (let i = 0; i < n; i++) l = l * 256 + b[q + i]!;
    q += n;
  }
  if (q + l > limit) return null;
  return { tag, start: q, end: q + l };
}

function hex2(v: number): string {
  return (v < 16 ? '0' : '') + v.toString(16);
}

function oidString(b: Uint8Array, s: number, e: number): string {
  if (s >= e) return '';
  const first = b[s]!;
  const parts: number[] = [first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80];
  let v = 0;
  for (let i = s + 1; i < e; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** An attribute value as text: UTF-8 / printable / IA5 as decoded; BMPString as UCS-2; else hex. */
function valueString(b: Uint8Array, t: Tlv): string {
  const buf = Buffer.from(b.buffer, b.byteOffset + t.start, t.end - t.start);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return buf.toString('utf8');
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString (T.61, latin1 in practice)
    case 0x1a: // VisibleString
    case 0x12: // NumericString
      return buf.toString('latin1');
    case 0x1e: {
      // BMPString: UCS-2 big-endian
      let s = '';
      for (let i = 0; i + 1 < buf.length; i += 2) s += String.fromCharCode((buf[i]! << 8) | buf[i + 1]!);
      return s;
    }
    case 0x1c: {
      // UniversalString: UCS-4 big-endian
      let s = '';
      for (let i = 0; i + 3 < buf.length; i += 4) {
        const cp = buf.readUInt32BE(i);
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '?';
      }
      return s;
    }
    default:
      return '#' + buf.toString('hex');
  }
}

/** Name ::= SEQUENCE OF SET OF AttributeTypeAndValue, printed in order, multi-valued RDNs joined by '+'. */
function dnString(b: Uint8Array, name: Tlv): string | null {
  const rdns: string[] = [];
  let p = name.start;
  while (p < name.end) {
    const set = tlv(b, p, name.end);
    if (set === null || set.tag !== 0x31) return null;
    const atvs: string[] = [];
    let q = set.start;
    while (q < set.end) {
      const atv = tlv(b, q, set.end);
      if (atv === null || atv.tag !== 0x30) return null;
      const oid = tlv(b, atv.start, atv.end);
      if (oid === null || oid.tag !== 0x06) return null;
      const val = tlv(b, oid.end, atv.end);
      if (val === null) return null;
      const o = oidString(b, oid.start, oid.end);
      atvs.push((ATTR_NAMES[o] ?? o) + '=' + valueString(b, val));
      q = atv.end;
    }
    rdns.push(atvs.join(' + '));
    p = set.end;
  }
  return rdns.join(', ');
}

/** UTCTime (YYMMDDHHMMSSZ, RFC 5280 §4.1.2.5.1) or GeneralizedTime as `YYYY-MM-DDTHH:MM:SS`. */
function timeString(b: Uint8Array, t: Tlv): string {
  const s = Buffer.from(b.buffer, b.byteOffset + t.start, t.end - t.start).toString('latin1');
  let m: RegExpExecArray | null;
  if (t.tag === 0x17 && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s)) !== null) {
    const yy = Number(m[1]);
    return `${yy < 50 ? 2000 + yy : 1900 + yy}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}`;
  }
  if (t.tag === 0x18 && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\.\d+)?Z$/.exec(s)) !== null) {
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
  }
  return '';
}

/** Parses the certificate DER at `b[off, off+len)`; null when it is not a well-formed certificate. */
export function parseCertificate(b: Uint8Array, off: number, len: number): CertInfo | null {
  if (off < 0 || len <= 0 || off + len > b.length) return null;
  const cert = tlv(b, off, off + len);
  if (cert === null || cert.tag !== 0x30) return null;
  const tbs = tlv(b, cert.start, cert.end);
  if (tbs === null || tbs.tag !== 0x30) return null;
  let t = tlv(b, tbs.start, tbs.end);
  if (t !== null && t.tag === 0xa0) t = tlv(b, t.end, tbs.end); // [0] EXPLICIT version
  if (t === null || t.tag !== 0x02 || t.end === t.start) return null;
  const serialParts: string[] = [];
  for (let i = t.start; i < t.end; i++) serialParts.push(hex2(b[i]!).toUpperCase());
  const sigAlg = tlv(b, t.end, tbs.end);
  if (sigAlg === null || sigAlg.tag !== 0x30) return null;
  const issuerT = tlv(b, sigAlg.end, tbs.end);
  if (issuerT === null || issuerT.tag !== 0x30) return null;
  const validity = tlv(b, issuerT.end, tbs.end);
  if (validity === null || validity.tag !== 0x30) return null;
  const nb = tlv(b, validity.start, validity.end);
  const na = nb === null ? null : tlv(b, nb.end, validity.end);
  const subjectT = tlv(b, validity.end, tbs.end);
  if (subjectT === null || subjectT.tag !== 0x30) return null;
  const subject = dnString(b, subjectT);
  const issuer = dnString(b, issuerT);
  if (subject === null || issuer === null) return null;
  const der = b.subarray(off, cert.end);
  const sha1 = createHash('sha1').update(der).digest('hex');
  const fp: string[] = [];
  for (let i = 0; i < sha1.length; i += 2) fp.push(sha1.slice(i, i + 2));
  return {
    subject,
    issuer,
    serial: serialParts.join(':'),
    notBefore: nb === null ? '' : timeString(b, nb),
    notAfter: na === null ? '' : timeString(b, na),
    fingerprint: fp.join(':'),
  };
}
