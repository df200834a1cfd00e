/**
 * Client and server fingerprints of a handshake:
 * - JA3 / JA3S (Salesforce, https://github.com/salesforce/ja3): decimal fields joined by ',' and
 *   list items by '-', GREASE values (RFC 8701) left out, then the lowercase MD5.
 *   JA3 = `version,ciphers,extensions,groups,ec_point_formats` of the ClientHello;
 *   JA3S = `version,cipher,extensions` of the ServerHello.
 * - JA4 (FoxIO, https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md) of the
 *   ClientHello: `t13d1516h2_<sha256(sorted ciphers)[:12]>_<sha256(sorted extensions _ sigalgs)[:12]>`.
 * Computed once per hello, off the packet hot path.
 */
import { createHash } from 'node:crypto';
import type { TlsInfo } from './parser.js';

/** GREASE values (RFC 8701 §2): 0x0a0a, 0x1a1a, ... 0xfafa. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

function joinNoGrease(list: readonly number[]): string {
  let s = '';
  for (let i = 0; i < list.length; i++) {
    const v = list[i]!;
    if (isGrease(v)) continue;
    s += (s === '' ? '' : '-') + v;
  }
  return s;
}

/** Lowercase hex MD5 of a string. */
export function md5Hex(s: string): string {
  return createHash('md5').update(s, 'latin1').digest('hex');
}

function sha256Prefix(s: string): string {
  return createHash('sha256').update(s, 'latin1').digest('hex').slice(0, 12);
}

/** The JA3 string of a parsed ClientHello. */
export function ja3String(info: TlsInfo): string {
  return [
    info.clientVersion,
    joinNoGrease(info.ciphers),
    joinNoGrease(info.extensions),
    joinNoGrease(info.groups),
    info.ecPointFormats.join('-'),
  ].join(',');
}

/** The JA3S string of a parsed ServerHello. */
export function ja3sString(info: TlsInfo): string {
  return [info.serverVersion, info.serverCipher, joinNoGrease(info.serverExtensions)].join(',');
}

/** JA4 version code of a TLS version number. */
function ja4Version(v: number): string {
  switch (v) {
    case 0x0304:
      return '13';
    case 0x0303:
      return '12';
    case 0x0302:
      return '11';
    case 0x0301:
      return '10';
    case 0x0300:
      return 's3';
    case 0x0002:
    case 0x0200:
      return 's2';
    default:
      return '00';
  }
}

function two(n: number): string {
  return n > 99 ? '99' : n < 10 ? '0' + n : String(n);
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** JA4 ALPN part: first and last character of the first ALPN value, hex digits when not alphanumeric. */
function ja4Alpn(alpns: readonly string[]): string {
  const a = alpns[0];
  if (a === undefined || a.length === 0) return '00';
  const f = a.charCodeAt(0);
  const l = a.charCodeAt(a.length - 1);
  if (isAlnum(f) && isAlnum(l)) return a[0]! + a[a.length - 1]!;
  const h = Buffer.from(a, 'latin1').toString('hex');
  return h[0]! + h[h.length - 1]!;
}

/** The JA4 fingerprint of a parsed ClientHello (TCP, so the protocol letter is `t`). */
export function ja4String(info: TlsInfo): string {
  let version = -1;
  for (let i = 0; i < info.supportedVersions.length; i++) {
    const v = info.supportedVersions[i]!;
    if (!isGrease(v) && v > version) version = v;
  }
  if (version < 0) version = info.clientVersion;
  const ciphers: string[] = [];
  for (let i = 0; i < info.ciphers.length; i++) {
    const c = info.ciphers[i]!;
    if (!isGrease(c)) ciphers.push(hex4(c));
  }
  let extCount = 0;
  const exts: string[] = [];
  for (let i = 0; i < info.extensions.length; i++) {
    const e = info.extensions[i]!;
    if (isGrease(e)) continue;
    extCount++;
    // SNI and ALPN are counted but not hashed: they are already in part a.
    if (e !== 0x0000 && e !== 0x0010) exts.push(hex4(e));
  }
  const sigs: string[] = [];
  for (let i = 0; i < info.signatureAlgorithms.length; i++) {
    const s = info.signatureAlgorithms[i]!;
    if (!isGrease(s)) sigs.push(hex4(s));
  }
  ciphers.sort();
  exts.sort();
  const a =
    't' +
    ja4Version(version) +
    (info.extensions.includes(0x0000) ? 'd' : 'i') +
    two(ciphers.length) +
    two(extCount) +
    ja4Alpn(info.alpns);
  const b = ciphers.length === 0 ? '000000000000' : sha256Prefix(ciphers.join(','));
  let cs = exts.join(',');
  if (sigs.length > 0) cs += '_' + sigs.join(',');
  const c = exts.length === 0 ? '000000000000' : sha256Prefix(cs);
  return a + '_' + b + '_' + c;
}

/** Fills the fingerprints of the hello just parsed: `side` 0 = ClientHello, 1 = ServerHello. */
export function computeFingerprints(info: TlsInfo, side: 0 | 1): void {
  if (side === 0) {
    info.ja3 = ja3String(info);
    info.ja3Hash = md5Hex(info.ja3);
    info.ja4 = ja4String(info);
  } else {
    info.ja3s = ja3sString(info);
    info.ja3sHash = md5Hex(info.ja3s);
  }
}
