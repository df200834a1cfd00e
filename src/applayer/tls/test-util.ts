/** Test helpers for the TLS parser tests (not used by the parser): hand-built handshake records. */
import { TlsConnection } from './parser.js';

const u8 = (v: number): number[] => [v & 0xff];
const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u24 = (v: number): number[] => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

/** An extension: type(2) length(2) data. */
export function ext(type: number, data: number[]): number[] {
  return [...u16(type), ...u16(data.length), ...data];
}

/** server_name (RFC 6066 §3): list length(2), name type 0 = host_name, name length(2), name. */
export function sniExt(name: string): number[] {
  const n = [...Buffer.from(name, 'latin1')];
  return ext(0x0000, [...u16(n.length + 3), 0, ...u16(n.length), ...n]);
}

/** A list of 16-bit values with a 2-byte (or 1-byte) byte-length prefix. */
export function list16(values: number[], lenBytes: 1 | 2 = 2): number[] {
  const body = values.flatMap(u16);
  return [...(lenBytes === 2 ? u16(body.length) : u8(body.length)), ...body];
}

/** ALPN (RFC 7301): list length(2), then length(1)-prefixed names. */
export function alpnExt(names: string[]): number[] {
  const body = names.flatMap((n) => [n.length, ...Buffer.from(n, 'latin1')]);
  return ext(0x0010, [...u16(body.length), ...body]);
}

/** A handshake message: type(1) length(3) body. */
export function handshake(type: number, body: number[]): number[] {
  return [type, ...u24(body.length), ...body];
}

/** A record: content type(1) version(2) length(2) fragment. */
export function record(type: number, fragment: number[], version = 0x0301): number[] {
  return [type, ...u16(version), ...u16(fragment.length), ...fragment];
}

/** ClientHello body (RFC 8446 §4.1.2). */
export function clientHelloBody(version: number, ciphers: number[], exts: number[][]): number[] {
  const e = exts.flat();
  return [
    ...u16(version), // legacy_version
    ...new Array<number>(32).fill(0x11), // random
    32, // legacy_session_id length
    ...new Array<number>(32).fill(0x22), // legacy_session_id
    ...list16(ciphers), // cipher_suites
    1, // legacy_compression_methods length
    0, // null compression
    ...u16(e.length), // extensions length
    ...e,
  ];
}

/** ServerHello body (RFC 8446 §4.1.3). */
export function serverHelloBody(version: number, cipher: number, exts: number[][], random?: number[]): number[] {
  const e = exts.flat();
  return [
    ...u16(version), // legacy_version
    ...(random ?? new Array<number>(32).fill(0x33)), // random
    0, // legacy_session_id_echo length
    ...u16(cipher), // cipher_suite
    0, // legacy_compression_method
    ...u16(e.length), // extensions length
    ...e,
  ];
}

/** Certificate message body (RFC 5246 §7.4.2): list length(3), each DER with length(3). */
export function certificateBody(ders: Uint8Array[]): number[] {
  const body = ders.flatMap((d) => [...u24(d.length), ...d]);
  return [...u24(body.length), ...body];
}

/** Feeds both directions, each cut at the given offsets (client first). */
export function parseSplit(
  cli: Uint8Array,
  srv: Uint8Array,
  cliCuts: number[] = [],
  srvCuts: number[] = [],
): TlsConnection {
  const c = new TlsConnection();
  feedCuts(c, 0, cli, cliCuts);
  feedCuts(c, 1, srv, srvCuts);
  return c;
}

function feedCuts(c: TlsConnection, dir: 0 | 1, data: Uint8Array, cuts: number[]): void {
  let prev = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut > prev) c.feed(dir, data, prev, cut - prev, prev);
    prev = Math.max(prev, cut);
  }
}

/** A self-signed P-256 certificate made with `openssl req -x509 -newkey ec -subj
 * "/C=US/ST=California/O=Example Org/CN=www.example.com" -set_serial 0x00e2bcd57bda0ec56f`. */
export const TEST_CERT_DER = Uint8Array.from(
  Buffer.from(
    'MIIB7zCCAZSgAwIBAgIJAOK81XvaDsVvMAoGCCqGSM49BAMCMFIxCzAJBgNVBAYTAlVTMRMwEQYDVQQIDApDYWxpZm9ybmlhMRQw' +
      'EgYDVQQKDAtFeGFtcGxlIE9yZzEYMBYGA1UEAwwPd3d3LmV4YW1wbGUuY29tMB4XDTI2MTEyNjEzMjczNVoXDTM2MTEyMzEzMjcz' +
      'NVowUjELMAkGA1UEBhMCVVMxEzARBgNVBAgMCkNhbGlmb3JuaWExFDASBgNVBAoMC0V4YW1wbGUgT3JnMRgwFgYDVQQDDA93d3cu' +
      'ZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAShyYNTc4/xbmf+x/fKQfhnZtEuBw/DSKvxoKMminYjDFrjCklq' +
      'b3a72OOM3OD2TkHs+OzTCavydYA3JRXo0+xGo1MwUTAdBgNVHQ4EFgQUsL/xAplpMk9fcEabv+I9YWVWe9kwHwYDVR0jBBgwFoAU' +
      'sL/xAplpMk9fcEabv+I9YWVWe9kwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAmVqP82RAUvqwB4Ex9CMilUjj' +
      'FtrAzKsDwM3uDPe1NCECIQDH8XDU1mROxQ5frlYeavKnsIimQT8lX+/VxdxF9Vyulw==',
    'base64',
  ),
);

/**
 * A TLS 1.2 exchange with GREASE: client = ClientHello; server = ServerHello, Certificate and
 * ServerHelloDone in one record, then ChangeCipherSpec and an encrypted record that must be ignored.
 */
export function tls12Exchange(): { cli: Uint8Array; srv: Uint8Array } {
  const ch = handshake(
    1,
    clientHelloBody(
      0x0303,
      [0x1a1a /* GREASE */, 0xc02b, 0xc02f, 0x009c, 0x000a],
      [
        ext(0x2a2a, []), // GREASE extension
        sniExt('www.example.com'),
        ext(0x0017, []), // extended_master_secret
        ext(0x000a, list16([0x3a3a /* GREASE */, 0x001d, 0x0017, 0x0018])), // supported_groups
        ext(0x000b, [1, 0]), // ec_point_formats: uncompressed
        ext(0x000d, list16([0x0403, 0x0804, 0x0401])), // signature_algorithms
        alpnExt(['h2', 'http/1.1']),
      ],
    ),
  );
  const cli = Uint8Array.from([
    ...record(22, ch),
    ...record(20, [1], 0x0303), // ChangeCipherSpec
    ...record(22, [0xde, 0xad, 0xbe, 0xef], 0x0303), // encrypted Finished: ignored
  ]);
  const sh = handshake(
    2,
    serverHelloBody(0x0303, 0xc02f, [ext(0xff01, [0]) /* renegotiation_info */, ext(0x0017, []), alpnExt(['h2'])]),
  );
  const cert = handshake(11, certificateBody([TEST_CERT_DER, TEST_CERT_DER]));
  const done = handshake(14, []);
  const srv = Uint8Array.from([
    ...record(22, [...sh, ...cert, ...done], 0x0303),
    ...record(20, [1], 0x0303),
    ...record(23, [1, 2, 3, 4, 5], 0x0303),
  ]);
  return { cli, srv };
}

/** A TLS 1.3 exchange: ClientHello offering 1.3 and 1.2; ServerHello selecting 1.3; CCS; encrypted. */
export function tls13Exchange(): { cli: Uint8Array; srv: Uint8Array } {
  const ch = handshake(
    1,
    clientHelloBody(
      0x0303,
      [0x1301, 0x1302, 0x1303, 0xc02b],
      [
        sniExt('tls13.example'),
        ext(0x000a, list16([0x001d, 0x0017])),
        ext(0x000d, list16([0x0403, 0x0804])),
        ext(0x002b, list16([0x0304, 0x0303], 1)), // supported_versions
        ext(0x0033, [0, 0]), // key_share (empty list)
      ],
    ),
  );
  const sh = handshake(
    2,
    serverHelloBody(0x0303, 0x1301, [
      ext(0x002b, [0x03, 0x04]), // supported_versions: TLS 1.3
      ext(0x0033, [0x00, 0x1d, 0x00, 0x00]), // key_share
    ]),
  );
  return {
    cli: Uint8Array.from([...record(22, ch), ...record(20, [1], 0x0303), ...record(23, [9, 9, 9], 0x0303)]),
    srv: Uint8Array.from([...record(22, sh, 0x0303), ...record(20, [1], 0x0303), ...record(23, [7, 7], 0x0303)]),
  };
}
