/**
 * TLS probing parser: recognises the first record of either direction by content (any port): a
 * handshake record (type 22) of version 3.0 to 3.4, a plausible length, and a ClientHello or
 * ServerHello inside, or an SSLv2-format ClientHello (as Suricata's SSLv2 patterns do).
 */
import type { ProbeResult } from '../http/probe.js';

export type { ProbeResult };

/** Largest TLS record body (RFC 8446 §5.2: 2^14 + 256 ciphertext; 2^14 + 2048 in TLS 1.2). */
export const MAX_RECORD_LENGTH = (1 << 14) + 2048;

/**
 * An SSLv2-format record header starting a ClientHello at `b[p]` (5 bytes): the 2-byte header
 * form (high bit set), message type 1 and a version of SSL 2.0 or 3.0 to TLS 1.3.
 */
export function isSslv2ClientHello(b: Uint8Array, p: number): boolean {
  if ((b[p]! & 0x80) === 0 || b[p + 2] !== 1) return false;
  const len = ((b[p]! & 0x7f) << 8) | b[p + 1]!;
  // The message type, version, three lengths and a challenge of at least 16 bytes.
  if (len < 9 + 16) return false;
  const major = b[p + 3]!;
  const minor = b[p + 4]!;
  return (major === 0 && minor === 2) || (major === 3 && minor <= 4);
}

/** Probes the first bytes of one direction of a TCP stream. */
export function probeTls(buf: Uint8Array, off: number, len: number): ProbeResult {
  if (len <= 0 || off < 0 || off + len > buf.length) return len <= 0 ? 'need_more' : 'no';
  if ((buf[off]! & 0x80) !== 0) {
    if (len < 5) return 'need_more';
    return isSslv2ClientHello(buf, off) ? 'yes' : 'no';
  }
  if (buf[off] !== 22) return 'no';
  if (len < 2) return 'need_more';
  if (buf[off + 1] !== 3) return 'no';
  if (len < 3) return 'need_more';
  if (buf[off + 2]! > 4) return 'no';
  if (len < 5) return 'need_more';
  const recLen = (buf[off + 3]! << 8) | buf[off + 4]!;
  // A hello needs its 4-byte handshake header and at least a version and random (RFC 5246 §7.4.1).
  if (recLen < 4 || recLen > MAX_RECORD_LENGTH) return 'no';
  if (len < 6) return 'need_more';
  const hs = buf[off + 5];
  return hs === 1 || hs === 2 ? 'yes' : 'no';
}
