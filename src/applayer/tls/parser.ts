/**
 * Incremental TLS handshake parser over in-order reassembled TCP bytes, one `TlsConnection` per
 * flow. It reads the plaintext part of a handshake: ClientHello, ServerHello and (TLS ≤ 1.2) the
 * Certificate message, then stops a direction at its ChangeCipherSpec or first application-data
 * record, after which everything is encrypted.
 *
 * Record layer (RFC 8446 §5.1, RFC 5246 §6.2): each direction walks record headers as a small state
 * machine and never buffers a record; handshake-record bodies are appended to a per-direction
 * handshake buffer, from which complete handshake messages (which may span records, or share one)
 * are parsed. Caps: a record body of 2^14+2048 bytes, a handshake message of `MAX_HANDSHAKE_MESSAGE`;
 * past either the direction is abandoned with an event. Malformed input is recorded as an event
 * (events.ts); nothing throws.
 */
import { TLS_EVENT, type TlsEvent } from './events.js';
import { MAX_RECORD_LENGTH, isSslv2ClientHello } from './probe.js';
import { parseCertificate, type CertInfo } from './x509.js';
import { computeFingerprints } from './ja3.js';

/** Largest handshake message kept (a Certificate chain); longer: event and that side abandoned. */
export const MAX_HANDSHAKE_MESSAGE = 64 * 1024;
/** Longest SNI kept (a DNS name is at most 253 characters; the rest is dropped with an event). */
export const MAX_SNI_LENGTH = 255;
/** Most ALPN protocol names kept per hello. */
export const MAX_ALPNS = 16;
/** Raw server certificates kept for `tls.certs` (the chain itself is capped by MAX_HANDSHAKE_MESSAGE). */
export const MAX_CERTS = 10;

// Record content types (RFC 8446 §5.1).
const CT_CHANGE_CIPHER_SPEC = 20;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;
const CT_HEARTBEAT = 24;

// Handshake types (RFC 8446 §4).
const HT_CLIENT_HELLO = 1;
const HT_SERVER_HELLO = 2;
const HT_CERTIFICATE = 11;

// Extension types (IANA TLS ExtensionType registry).
const EXT_SERVER_NAME = 0;
const EXT_SUPPORTED_GROUPS = 10;
const EXT_EC_POINT_FORMATS = 11;
const EXT_SIGNATURE_ALGORITHMS = 13;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;

/** ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** What the handshake revealed. Absent values are '', -1 or empty arrays. */
export class TlsInfo {
  /** A ClientHello was parsed completely. */
  clientHello = false;
  /** A ServerHello (not a HelloRetryRequest) was parsed completely. */
  serverHello = false;
  /** ClientHello.legacy_version (0x0303 for TLS 1.2 and 1.3). */
  clientVersion = -1;
  /** Client cipher suites in order, GREASE included. */
  ciphers: number[] = [];
  /** Client extension types in order, GREASE included. */
  extensions: number[] = [];
  /** supported_groups (elliptic curves). */
  groups: number[] = [];
  ecPointFormats: number[] = [];
  signatureAlgorithms: number[] = [];
  /** supported_versions offered by the client. */
  supportedVersions: number[] = [];
  /** ALPN protocol names offered by the client (latin1). */
  alpns: string[] = [];
  /** First host_name of the server_name extension (latin1). */
  sni = '';
  /** ServerHello.legacy_version. */
  serverVersion = -1;
  /** supported_versions selected by the server (TLS 1.3), -1 when absent. */
  serverSelectedVersion = -1;
  /** Negotiated version: the selected supported_version, else ServerHello.legacy_version. */
  version = -1;
  serverCipher = -1;
  serverExtensions: number[] = [];
  /** ALPN protocol chosen by the server, '' when none. */
  serverAlpn = '';
  /** The server answered with a HelloRetryRequest first. */
  helloRetry = false;
  /** The server's first certificate (TLS ≤ 1.2 only; TLS 1.3 certificates are encrypted). */
  cert: CertInfo | null = null;
  /** Certificates in the server's chain. */
  certChainLength = 0;
  /**
   * DER bytes of the server's certificates in chain order, at most MAX_CERTS (the `tls.certs`
   * buffer); copies, since the handshake buffer is reused. 64 KiB at most per flow.
   */
  certs: Buffer[] = [];
  /** The client's first certificate (mutual TLS ≤ 1.2). */
  clientCert: CertInfo | null = null;
  /** JA3 string and lowercase MD5 of the ClientHello ('' before one is parsed). */
  ja3 = '';
  ja3Hash = '';
  /** JA3S string and MD5 of the ServerHello. */
  ja3s = '';
  ja3sHash = '';
  /** JA4 of the ClientHello (FoxIO spec), '' before one is parsed. */
  ja4 = '';
  /** Time (µs) of the last handshake message parsed. */
  tsUs = 0;
  /** Anomalies, each once, in the order seen. */
  events: TlsEvent[] = [];

  /** Records `ev` once. */
  addEvent(ev: TlsEvent): void {
    if (!this.events.includes(ev)) this.events.push(ev);
  }
}

// Direction states.
const ST_HEADER = 0; // collecting a 5-byte record header
const ST_BODY = 1; // inside a record body
const ST_DONE = 2; // encrypted from here on, or abandoned
/**
 * After a ChangeCipherSpec: the handshake is over for this side (the connection can be `done`),
 * but record headers are still walked, bodies skipped, until the first application_data record
 * (`TlsConnection.appData`), then ST_DONE.
 */
const ST_ENC_HEADER = 3;
const ST_ENC_BODY = 4;

/** Parse state of one direction. */
class Side {
  state = ST_HEADER;
  readonly hdr = new Uint8Array(5);
  hdrLen = 0;
  /** Records started on this side (an SSLv2-format ClientHello is accepted as the first only). */
  records = 0;
  recType = 0;
  /** Bytes left in the current record body. */
  remaining = 0;
  /** Handshake bytes not yet parsed into messages (grown up to the cap, allocated on first need). */
  hs: Buffer | null = null;
  hsLen = 0;
}

/** Lists read from an extension; null on malformation. */
function readU16List(b: Uint8Array, p: number, end: number, lenBytes: 1 | 2, out: number[]): boolean {
  if (p + lenBytes > end) return false;
  const n = lenBytes === 2 ? (b[p]! << 8) | b[p + 1]! : b[p]!;
  p += lenBytes;
  if (p + n > end || (n & 1) !== 0) return false;
  for (let i = 0; i < n; i += 2) out.push((b[p + i]! << 8) | b[p + i + 1]!);
  return true;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

/** ALPN ProtocolNameList (RFC 7301 §3.1). */
function readAlpn(b: Uint8Array, p: number, end: number, out: string[]): boolean {
  if (p + 2 > end) return false;
  const n = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (p + n !== end) return false;
  while (p < end) {
    const l = b[p]!;
    if (l === 0 || p + 1 + l > end) return false;
    if (out.length < MAX_ALPNS) out.push(latin1(b, p + 1, p + 1 + l));
    p += 1 + l;
  }
  return true;
}

/** One TLS connection (both directions of a TCP flow). */
export class TlsConnection {
  readonly info = new TlsInfo();
  private readonly cli = new Side();
  private readonly srv = new Side();

  /**
   * Encrypted application data has started: an application_data record after the ServerHello, on
   * either side (Suricata's handshake-done point, where its default `encryption-handling` stops
   * inspecting the flow's payload). Early data (TLS 1.3 0-RTT) before the ServerHello does not count.
   */
  appData = false;

  /** Both directions are encrypted or abandoned: nothing more to learn from the handshake. */
  get done(): boolean {
    return this.cli.state >= ST_DONE && this.srv.state >= ST_DONE;
  }

  /**
   * Feeds in-order bytes of one direction.
   * @param dir 0 = client to server, 1 = server to client
   */
  feed(dir: 0 | 1, buf: Uint8Array, off: number, len: number, tsUs: number): void {
    if (len <= 0 || off < 0 || off + len > buf.length) return;
    const side = dir === 0 ? this.cli : this.srv;
    let p = off;
    const end = off + len;
    while (p < end && side.state !== ST_DONE) {
      if (side.state >= ST_ENC_HEADER) {
        p = this.walkEncrypted(side, buf, p, end);
        continue;
      }
      if (side.state === ST_HEADER) {
        const h = side.hdr;
        while (side.hdrLen < 5 && p < end) h[side.hdrLen++] = buf[p++]!;
        if (side.hdrLen < 5) return;
        side.hdrLen = 0;
        this.header(side);
        continue;
      }
      // ST_BODY
      const n = end - p < side.remaining ? end - p : side.remaining;
      if (side.recType === CT_HANDSHAKE && n > 0) this.handshakeBytes(side, dir, buf, p, n, tsUs);
      p += n;
      side.remaining -= n;
      if (side.remaining === 0 && side.state === ST_BODY) side.state = ST_HEADER;
    }
  }

  /** A record header is complete: checks it and enters its body. */
  private header(side: Side): void {
    const h = side.hdr;
    const type = h[0]!;
    const len = (h[3]! << 8) | h[4]!;
    if (side.records++ === 0 && side === this.cli && isSslv2ClientHello(h, 0)) {
      // SSLv2-format ClientHello (RFC 5246 App. E.2): a 2-byte length, then msg type, version;
      // clients offering SSL 3.0+ send it to reach old servers. Its body has no SNI or extensions.
      this.info.clientVersion = (h[3]! << 8) | h[4]!;
      side.recType = 0;
      side.remaining = (((h[0]! & 0x7f) << 8) | h[1]!) - 3;
      side.state = side.remaining > 0 ? ST_BODY : ST_HEADER;
      return;
    }
    if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT) {
      this.info.addEvent(TLS_EVENT.INVALID_RECORD_TYPE);
      this.stop(side);
      return;
    }
    // Record versions are 3.0-3.4 (RFC 8446 §5.1 ignores the value but it is always 0x03xx).
    if (h[1] !== 3 || h[2]! > 4) {
      this.info.addEvent(TLS_EVENT.INVALID_RECORD_VERSION);
      this.stop(side);
      return;
    }
    if (len > MAX_RECORD_LENGTH) {
      this.info.addEvent(TLS_EVENT.RECORD_OVERFLOW);
      this.stop(side);
      return;
    }
    if (type === CT_APPLICATION_DATA) {
      this.applicationData(side);
      return;
    }
    if (type === CT_CHANGE_CIPHER_SPEC) {
      // Everything after is encrypted (TLS 1.3 compatibility CCS included, RFC 8446 §D.4): only
      // the record headers are followed on, to the first application data.
      this.stop(side);
      side.state = ST_ENC_BODY;
      side.remaining = len;
      if (len === 0) side.state = ST_ENC_HEADER;
      return;
    }
    if (type === CT_HEARTBEAT) this.info.addEvent(TLS_EVENT.HEARTBEAT_MESSAGE);
    if (type === CT_HANDSHAKE && len === 0) this.info.addEvent(TLS_EVENT.INVALID_RECORD_LENGTH);
    // Alerts and heartbeats are skipped; only handshake bodies are read.
    side.recType = type;
    side.remaining = len;
    side.state = len > 0 ? ST_BODY : ST_HEADER;
  }

  /** An application_data record on `side`: encrypted data has started (after a ServerHello). */
  private applicationData(side: Side): void {
    if (this.info.serverHello) this.appData = true;
    this.stop(side);
  }

  /**
   * Encrypted records of a side after its ChangeCipherSpec: skip bodies, read headers, until an
   * application_data record (or a header that is not a record: stop). Returns the new position.
   */
  private walkEncrypted(side: Side, buf: Uint8Array, p: number, end: number): number {
    while (p < end && side.state !== ST_DONE) {
      if (side.state === ST_ENC_BODY) {
        const n = end - p < side.remaining ? end - p : side.remaining;
        p += n;
        side.remaining -= n;
        if (side.remaining === 0) side.state = ST_ENC_HEADER;
        continue;
      }
      const h = side.hdr;
      while (side.hdrLen < 5 && p < end) h[side.hdrLen++] = buf[p++]!;
      if (side.hdrLen < 5) return p;
      side.hdrLen = 0;
      const type = h[0]!;
      if (type === CT_APPLICATION_DATA) {
        this.applicationData(side);
        return p;
      }
      if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT || h[1] !== 3) {
        side.state = ST_DONE;
        return p;
      }
      side.remaining = (h[3]! << 8) | h[4]!;
      side.state = side.remaining > 0 ? ST_ENC_BODY : ST_ENC_HEADER;
    }
    return p;
  }

  /** The side is encrypted or abandoned: its handshake buffer is freed. */
  private stop(side: Side): void {
    side.state = ST_DONE;
    side.hs = null;
    side.hsLen = 0;
  }

  /** Appends handshake-record bytes and parses every complete message. */
  private handshakeBytes(side: Side, dir: 0 | 1, b: Uint8Array, p: number, n: number, tsUs: number): void {
    const need = side.hsLen + n;
    let hs = side.hs;
    if (hs === null || hs.length < need) {
      const grown = Buffer.allocUnsafe(
        Math.min(MAX_HANDSHAKE_MESSAGE + 4 + MAX_RECORD_LENGTH, Math.max(1024, need * 2)),
      );
      if (hs !== null) hs.copy(grown, 0, 0, side.hsLen);
      side.hs = grown;
      hs = grown;
    }
    hs.set(b.subarray(p, p + n), side.hsLen);
    side.hsLen = need;
    let q = 0;
    while (side.hsLen - q >= 4) {
      const mlen = (hs[q + 1]! << 16) | (hs[q + 2]! << 8) | hs[q + 3]!;
      if (mlen > MAX_HANDSHAKE_MESSAGE) {
        this.info.addEvent(TLS_EVENT.HANDSHAKE_INVALID_LENGTH);
        this.stop(side);
        return;
      }
      if (side.hsLen - q < 4 + mlen) break;
      this.info.tsUs = tsUs;
      this.message(dir, hs[q]!, hs, q + 4, q + 4 + mlen);
      q += 4 + mlen;
    }
    if (q > 0) {
      hs.copyWithin(0, q, side.hsLen);
      side.hsLen -= q;
    }
  }

  /** One complete handshake message `b[s, e)` (body, without its header). */
  private message(dir: 0 | 1, type: number, b: Uint8Array, s: number, e: number): void {
    if (dir === 0 && type === HT_CLIENT_HELLO) {
      if (this.info.clientHello) return; // the first ClientHello fingerprints the client
      if (!this.clientHello(b, s, e)) this.info.addEvent(TLS_EVENT.INVALID_HANDSHAKE_MESSAGE);
    } else if (dir === 1 && type === HT_SERVER_HELLO) {
      if (this.info.serverHello) return;
      if (!this.serverHello(b, s, e)) this.info.addEvent(TLS_EVENT.INVALID_HANDSHAKE_MESSAGE);
    } else if (type === HT_CERTIFICATE) {
      this.certificate(dir, b, s, e);
    }
  }

  /** ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2); false when malformed. */
  private clientHello(b: Uint8Array, p: number, end: number): boolean {
    const info = this.info;
    if (p + 35 > end) return false;
    const version = (b[p]! << 8) | b[p + 1]!;
    p += 34; // legacy_version, random
    const sid = b[p]!;
    if (sid > 32 || p + 1 + sid + 2 > end) return false;
    p += 1 + sid;
    const ciphers: number[] = [];
    if (!readU16List(b, p, end, 2, ciphers)) return false;
    p += 2 + ciphers.length * 2;
    if (p + 1 > end) return false;
    const comp = b[p]!;
    if (p + 1 + comp > end) return false;
    p += 1 + comp;
    const exts: number[] = [];
    const groups: number[] = [];
    const formats: number[] = [];
    const sigs: number[] = [];
    const versions: number[] = [];
    const alpns: string[] = [];
    let sni = '';
    let sniSeen = false;
    if (p < end) {
      // Extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2).
      if (p + 2 > end) return false;
      const elen = (b[p]! << 8) | b[p + 1]!;
      p += 2;
      if (p + elen !== end) return false;
      while (p < end) {
        if (p + 4 > end) return false;
        const type = (b[p]! << 8) | b[p + 1]!;
        const len = (b[p + 2]! << 8) | b[p + 3]!;
        const ds = p + 4;
        const de = ds + len;
        if (de > end) return false;
        exts.push(type);
        let ok = true;
        switch (type) {
          case EXT_SERVER_NAME:
            if (sniSeen) info.addEvent(TLS_EVENT.MULTIPLE_SNI_EXTENSIONS);
            else if (len > 0) {
              // ServerNameList (RFC 6066 §3): the first host_name entry.
              if (ds + 5 > de) ok = false;
              else if (b[ds + 2] !== 0) info.addEvent(TLS_EVENT.INVALID_SNI_TYPE);
              else {
                const nl = (b[ds + 3]! << 8) | b[ds + 4]!;
                if (ds + 5 + nl > de) info.addEvent(TLS_EVENT.INVALID_SNI_LENGTH);
                else {
                  if (nl > MAX_SNI_LENGTH) info.addEvent(TLS_EVENT.INVALID_SNI_LENGTH);
                  sni = latin1(b, ds + 5, ds + 5 + (nl > MAX_SNI_LENGTH ? MAX_SNI_LENGTH : nl));
                }
              }
            }
            sniSeen = true;
            break;
          case EXT_SUPPORTED_GROUPS:
            ok = readU16List(b, ds, de, 2, groups);
            break;
          case EXT_EC_POINT_FORMATS:
            if (ds + 1 > de || ds + 1 + b[ds]! > de) ok = false;
            else for (let i = 0; i < b[ds]!; i++) formats.push(b[ds + 1 + i]!);
            break;
          case EXT_SIGNATURE_ALGORITHMS:
            ok = readU16List(b, ds, de, 2, sigs);
            break;
          case EXT_ALPN:
            ok = readAlpn(b, ds, de, alpns);
            break;
          case EXT_SUPPORTED_VERSIONS:
            ok = readU16List(b, ds, de, 1, versions);
            break;
          default:
            break;
        }
        if (!ok) info.addEvent(TLS_EVENT.INVALID_HANDSHAKE_MESSAGE);
        p = de;
      }
    }
    info.clientHello = true;
    info.clientVersion = version;
    info.ciphers = ciphers;
    info.extensions = exts;
    info.groups = groups;
    info.ecPointFormats = formats;
    info.signatureAlgorithms = sigs;
    info.supportedVersions = versions;
    info.alpns = alpns;
    info.sni = sni;
    computeFingerprints(info, 0);
    return true;
  }

  /** ServerHello (RFC 8446 §4.1.3); false when malformed. */
  private serverHello(b: Uint8Array, p: number, end: number): boolean {
    const info = this.info;
    if (p + 35 > end) return false;
    const version = (b[p]! << 8) | b[p + 1]!;
    const hrr = Buffer.compare(Buffer.from(b.buffer, b.byteOffset + p + 2, 32), HRR_RANDOM) === 0;
    p += 34;
    const sid = b[p]!;
    if (sid > 32 || p + 1 + sid + 3 > end) return false;
    p += 1 + sid;
    const cipher = (b[p]! << 8) | b[p + 1]!;
    p += 3; // cipher_suite, legacy_compression_method
    const exts: number[] = [];
    let selected = -1;
    let alpn = '';
    if (p < end) {
      if (p + 2 > end) return false;
      const elen = (b[p]! << 8) | b[p + 1]!;
      p += 2;
      if (p + elen !== end) return false;
      while (p < end) {
        if (p + 4 > end) return false;
        const type = (b[p]! << 8) | b[p + 1]!;
        const len = (b[p + 2]! << 8) | b[p + 3]!;
        const ds = p + 4;
        const de = ds + len;
        if (de > end) return false;
        exts.push(type);
        if (type === EXT_SUPPORTED_VERSIONS && len === 2) selected = (b[ds]! << 8) | b[ds + 1]!;
        else if (type === EXT_ALPN) {
          const l: string[] = [];
          if (readAlpn(b, ds, de, l) && l.length > 0) alpn = l[0]!;
          else info.addEvent(TLS_EVENT.INVALID_HANDSHAKE_MESSAGE);
        }
        p = de;
      }
    }
    if (hrr) {
      // The real ServerHello follows the client's second ClientHello.
      info.helloRetry = true;
      return true;
    }
    info.serverHello = true;
    info.serverVersion = version;
    info.serverSelectedVersion = selected;
    info.version = selected >= 0 ? selected : version;
    info.serverCipher = cipher;
    info.serverExtensions = exts;
    info.serverAlpn = alpn;
    computeFingerprints(info, 1);
    return true;
  }

  /** Certificate (RFC 5246 §7.4.2): certificate_list of 24-bit-length DER entries; the first is parsed. */
  private certificate(dir: 0 | 1, b: Uint8Array, p: number, end: number): void {
    const info = this.info;
    const tls13 = info.version === 0x0304;
    if (tls13) return; // encrypted in TLS 1.3; a plaintext one here would be bogus
    if (dir === 1 ? info.cert !== null : info.clientCert !== null) return;
    if (p + 3 > end) {
      info.addEvent(TLS_EVENT.CERTIFICATE_INVALID_LENGTH);
      return;
    }
    const total = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
    p += 3;
    if (p + total !== end) {
      info.addEvent(TLS_EVENT.CERTIFICATE_INVALID_LENGTH);
      return;
    }
    let first: CertInfo | null = null;
    let count = 0;
    while (p < end) {
      if (p + 3 > end) {
        info.addEvent(TLS_EVENT.CERTIFICATE_INVALID_LENGTH);
        break;
      }
      const l = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
      p += 3;
      if (p + l > end) {
        info.addEvent(TLS_EVENT.CERTIFICATE_INVALID_LENGTH);
        break;
      }
      if (count === 0) {
        first = parseCertificate(b, p, l);
        if (first === null) info.addEvent(TLS_EVENT.INVALID_CERTIFICATE);
      }
      // Kept raw whether or not they parse, as Suricata's tls.certs inspects the DER bytes.
      if (dir === 1 && count < MAX_CERTS) info.certs.push(Buffer.from(b.subarray(p, p + l)));
      count++;
      p += l;
    }
    if (dir === 1) {
      info.cert = first;
      info.certChainLength = count;
    } else info.clientCert = first;
  }
}
