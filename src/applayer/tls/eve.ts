/**
 * EVE `tls` object of one connection, with Suricata's field names (output-json-tls.c), so tools
 * that read Suricata's tls events read Vigil's. Only present values are written, as Suricata does.
 */
import type { TlsInfo } from './parser.js';
import type { CertInfo } from './x509.js';

/** What `tlsEveObject` adds beyond the default fields (Suricata's eve-log `tls.fields`). */
export interface TlsEveOptions {
  /** `client_alpns`, `server_alpns`, `client_handshake`, `server_handshake` and `client` (mTLS cert). */
  extended?: boolean;
}

/** Suricata's version names (app-layer-ssl.c SSLVersionToString); others as `0x%04x`. */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0002:
    case 0x0200:
      return 'SSLv2';
    case 0x0300:
      return 'SSLv3';
    case 0x0301:
      return 'TLS 1.0';
    case 0x0302:
      return 'TLS 1.1';
    case 0x0303:
      return 'TLS 1.2';
    case 0x0304:
      return 'TLS 1.3';
    default:
      if (v < 0) return 'UNDETERMINED';
      // TLS 1.3 drafts (0x7fXX) as Suricata names them.
      if (v >> 8 === 0x7f) return `TLS 1.3 draft-${v & 0xff}`;
      return '0x' + v.toString(16).padStart(4, '0');
  }
}

function certFields(o: Record<string, unknown>, c: CertInfo): void {
  if (c.subject !== '') o['subject'] = c.subject;
  if (c.issuer !== '') o['issuerdn'] = c.issuer;
  if (c.serial !== '') o['serial'] = c.serial;
  o['fingerprint'] = c.fingerprint;
  if (c.notBefore !== '') o['notbefore'] = c.notBefore;
  if (c.notAfter !== '') o['notafter'] = c.notAfter;
}

/** The EVE `tls` object of a connection's handshake. */
export function tlsEveObject(info: TlsInfo, opts: TlsEveOptions = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (info.cert !== null) certFields(o, info.cert);
  if (info.sni !== '') o['sni'] = info.sni;
  o['version'] = tlsVersionName(info.version);
  if (info.ja3 !== '') o['ja3'] = { hash: info.ja3Hash, string: info.ja3 };
  if (info.ja3s !== '') o['ja3s'] = { hash: info.ja3sHash, string: info.ja3s };
  if (info.ja4 !== '') o['ja4'] = info.ja4;
  if (opts.extended === true) {
    if (info.alpns.length > 0) o['client_alpns'] = info.alpns.slice();
    if (info.serverAlpn !== '') o['server_alpns'] = [info.serverAlpn];
    if (info.clientHello) {
      const ch: Record<string, unknown> = { version: tlsVersionName(info.clientVersion) };
      if (info.ciphers.length > 0) ch['ciphers'] = info.ciphers.slice();
      if (info.extensions.length > 0) ch['exts'] = info.extensions.slice();
      if (info.signatureAlgorithms.length > 0) ch['sig_algs'] = info.signatureAlgorithms.slice();
      o['client_handshake'] = ch;
    }
    if (info.serverHello) {
      const sh: Record<string, unknown> = { version: tlsVersionName(info.version), cipher: info.serverCipher };
      if (info.serverExtensions.length > 0) sh['exts'] = info.serverExtensions.slice();
      o['server_handshake'] = sh;
    }
    if (info.clientCert !== null) {
      const c: Record<string, unknown> = {};
      certFields(c, info.clientCert);
      o['client'] = c;
    }
  }
  return o;
}
