/**
 * FTP probing parser: recognises the control channel by content on any port. To the client, the
 * server's greeting starts with `220 ` or `220-`; to the server, the stream starts with a known
 * command (case-insensitive, RFC 959, 2228, 2389, 2428, 3659) followed by a space or a line end.
 */
import type { ProbeResult } from '../http/probe.js';

export type { ProbeResult };

/** Commands recognised at the start of a to-server stream. */
export const FTP_COMMANDS: readonly string[] = [
  'USER',
  'PASS',
  'ACCT',
  'AUTH',
  'ADAT',
  'PBSZ',
  'PROT',
  'CCC',
  'SYST',
  'FEAT',
  'OPTS',
  'HELP',
  'NOOP',
  'QUIT',
  'PWD',
  'CWD',
  'CDUP',
  'TYPE',
  'MODE',
  'STRU',
  'PASV',
  'EPSV',
  'PORT',
  'EPRT',
  'LIST',
  'NLST',
  'MLSD',
  'MLST',
  'RETR',
  'STOR',
  'STOU',
  'APPE',
  'REST',
  'SIZE',
  'MDTM',
  'DELE',
  'RNFR',
  'RNTO',
  'MKD',
  'RMD',
  'SITE',
  'STAT',
  'ABOR',
  'REIN',
  'ALLO',
  'LANG',
  'CLNT',
];

const COMMAND_BYTES: readonly Uint8Array[] = FTP_COMMANDS.map((c) => Uint8Array.from(Buffer.from(c, 'latin1')));
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

/**
 * Probes the first bytes of one direction of a TCP stream.
 * @param dir 0 = to server (commands), 1 = to client (replies)
 */
export function probeFtp(buf: Uint8Array, off: number, len: number, dir: 0 | 1): ProbeResult {
  if (len <= 0) return 'need_more';
  if (off < 0 || off + len > buf.length) return 'no';
  if (dir === 1) {
    const n = len < 3 ? len : 3;
    for (let i = 0; i < n; i++) if (buf[off + i] !== GREETING[i]) return 'no';
    if (len < 4) return 'need_more';
    const c = buf[off + 3];
    return c === 32 || c === 45 ? 'yes' : 'no';
  }
  let more = false;
  for (let i = 0; i < COMMAND_BYTES.length; i++) {
    const r = matchCommand(buf, off, len, COMMAND_BYTES[i]!);
    if (r === 1) return 'yes';
    if (r === 0) more = true;
  }
  return more ? 'need_more' : 'no';
}
