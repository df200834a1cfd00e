/**
 * SMTP probing parser: recognises an SMTP session by content on any port.
 *
 * - To the server (`dir` 0): the stream starts with `EHLO` or `HELO` (case-insensitive, RFC 5321
 *   4.1.1.1) followed by a space, CRLF or LF. FTP has no such command, so this side never clashes.
 * - To the client (`dir` 1): the greeting `220 ` / `220-` whose first line contains `SMTP`
 *   (case-insensitive; `ESMTP` included), as RFC 5321 4.3.1 greetings conventionally do. FTP
 *   greetings are also `220`, so a `220` line without `SMTP` is left to the FTP probe ('no').
 *
 * Run this probe before `probeFtp` and only consult `probeFtp` when it says 'no': while the greeting
 * line is incomplete it answers 'need_more' (up to SMTP_PROBE_WINDOW bytes, then 'no').
 */
import type { ProbeResult } from '../http/probe.js';

export type { ProbeResult };

/**
 * Bytes of an unterminated greeting line examined before answering 'no': the app layer buffers
 * 64 bytes while a probe needs more (app-layer.ts PROBE_BUFFER), so asking for more is useless.
 */
export const SMTP_PROBE_WINDOW = 64;
/** Longest greeting line searched for `SMTP` when its LF is in view (RFC 5321 4.5.3.1.5: 512). */
const MAX_GREETING_LINE = 512;

const EHLO = Uint8Array.from(Buffer.from('EHLO', 'latin1'));
const HELO = Uint8Array.from(Buffer.from('HELO', 'latin1'));
const GREETING = Uint8Array.from(Buffer.from('220', 'latin1'));

/** Uppercases an ASCII letter byte. */
function upper(c: number): number {
  return c >= 97 && c <= 122 ? c - 32 : c;
}

/** `cmd` then a space, CRLF or LF at `buf[off..off+len)`: 1 match, 0 need more, -1 mismatch. */
function matchCommand(buf: Uint8Array, off: number, len: number, cmd: Uint8Array): number {
  const n = len < cmd.length ? len : cmd.length;
  for (let i = 0; i < n; i++) if (upper(buf[off + i]!) !== cmd[i]) return -1;
  if (len <= cmd.length) return 0;
  const c = buf[off + cmd.length];
  if (c === 32 || c === 10) return 1;
  if (c !== 13) return -1;
  if (len === cmd.length + 1) return 0;
  return buf[off + cmd.length + 1] === 10 ? 1 : -1;
}

/** Whether `SMTP` (any case) is in the first line of `buf[s..e)`: 1 yes, -1 no, 0 line not complete. */
function greetingNamesSmtp(buf: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === 10) return -1;
    if (
      (c === 83 || c === 115) &&
      i + 3 < e &&
      upper(buf[i + 1]!) === 77 && // M
      upper(buf[i + 2]!) === 84 && // T
      upper(buf[i + 3]!) === 80 // P
    ) {
      return 1;
    }
  }
  return 0;
}

/**
 * Probes the first bytes of one direction of a TCP stream.
 * @param dir 0 = to server (commands), 1 = to client (replies)
 */
export function probeSmtp(buf: Uint8Array, off: number, len: number, dir: 0 | 1): ProbeResult {
  if (len <= 0) return 'need_more';
  if (off < 0 || off + len > buf.length) return 'no';
  if (dir === 0) {
    const a = matchCommand(buf, off, len, EHLO);
    if (a === 1) return 'yes';
    const b = matchCommand(buf, off, len, HELO);
    if (b === 1) return 'yes';
    return a === 0 || b === 0 ? 'need_more' : 'no';
  }
  // "220" then ' ' or '-'.
  const n = len < 3 ? len : 3;
  for (let i = 0; i < n; i++) if (buf[off + i] !== GREETING[i]) return 'no';
  if (len < 4) return 'need_more';
  const sep = buf[off + 3];
  if (sep !== 32 && sep !== 45) return 'no';
  const end = off + (len < MAX_GREETING_LINE ? len : MAX_GREETING_LINE);
  const r = greetingNamesSmtp(buf, off + 4, end);
  if (r === 1) return 'yes';
  if (r === -1 || len >= SMTP_PROBE_WINDOW) return 'no';
  return 'need_more';
}
