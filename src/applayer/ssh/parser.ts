/**
 * SSH identification banners (RFC 4253 section 4.2): `SSH-protoversion-softwareversion [comments]`
 * ending in CR LF (LF alone accepted), one per direction. A server may send other lines before its
 * banner; they are skipped. Everything after the banner is the encrypted binary protocol and is
 * not parsed. Incremental over in-order stream chunks, bounded: a line longer than
 * MAX_BANNER_LINE (RFC: 255) or more than MAX_PRE_BANNER_LINES lines before the banner abandons
 * that direction.
 */

export const MAX_BANNER_LINE = 255;
export const MAX_PRE_BANNER_LINES = 16;

/** Does this look like the start of an SSH conversation? (`SSH-` from either side.) */
export function probeSsh(buf: Uint8Array, off: number, len: number): 'yes' | 'no' | 'need_more' {
  const want = [0x53, 0x53, 0x48, 0x2d]; // "SSH-"
  const n = Math.min(len, 4);
  for (let i = 0; i < n; i++) if (buf[off + i] !== want[i]) return 'no';
  return len >= 4 ? 'yes' : 'need_more';
}

export interface SshBanner {
  /** "2.0" (or "1.99"). */
  protoVersion: string;
  /** "OpenSSH_8.9p1" — up to the first space. */
  softwareVersion: string;
  /** Text after the software version, if any. */
  comments: string;
}

class Side {
  line = '';
  lines = 0;
  banner: SshBanner | null = null;
  /** Gave up: over-long line or too many lines. */
  dead = false;
}

export class SshConnection {
  private readonly sides = [new Side(), new Side()] as const;
  /** Time the first banner was completed (µs), -1 before. */
  tsUs = -1;

  /** Client (0) and server (1) banners, null until seen. */
  get client(): SshBanner | null {
    return this.sides[0].banner;
  }

  get server(): SshBanner | null {
    return this.sides[1].banner;
  }

  /** Both banners seen, or both sides done trying. */
  get done(): boolean {
    return this.sides.every((s) => s.banner !== null || s.dead);
  }

  feed(dir: 0 | 1, buf: Uint8Array, off: number, len: number, tsUs: number): void {
    const side = this.sides[dir];
    if (side.banner !== null || side.dead) return;
    const end = off + len;
    let p = off;
    while (p < end && side.banner === null && !side.dead) {
      let nl = -1;
      for (let i = p; i < end; i++) {
        if (buf[i] === 0x0a) {
          nl = i;
          break;
        }
      }
      const stop = nl < 0 ? end : nl;
      if (side.line.length + (stop - p) > MAX_BANNER_LINE + 1) {
        side.dead = true;
        return;
      }
      side.line += Buffer.from(buf.buffer, buf.byteOffset + p, stop - p).toString('latin1');
      if (nl < 0) return;
      p = nl + 1;
      const line = side.line.endsWith('\r') ? side.line.slice(0, -1) : side.line;
      side.line = '';
      side.lines++;
      if (line.startsWith('SSH-')) {
        side.banner = parseBanner(line);
        if (this.tsUs < 0) this.tsUs = tsUs;
      } else if (dir === 0 || side.lines > MAX_PRE_BANNER_LINES) {
        // Only a server may send lines before its banner.
        side.dead = true;
      }
    }
  }
}

/** Split `SSH-2.0-OpenSSH_8.9p1 Ubuntu-3` into its parts. */
export function parseBanner(line: string): SshBanner {
  const rest = line.slice(4);
  const dash = rest.indexOf('-');
  const protoVersion = dash < 0 ? rest : rest.slice(0, dash);
  const sw = dash < 0 ? '' : rest.slice(dash + 1);
  const sp = sw.indexOf(' ');
  return {
    protoVersion,
    softwareVersion: sp < 0 ? sw : sw.slice(0, sp),
    comments: sp < 0 ? '' : sw.slice(sp + 1),
  };
}
