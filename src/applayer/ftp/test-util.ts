/** Test helpers for the FTP parser tests (not used by the parser). */
import { FtpConnection, type FtpTransaction } from './parser.js';

/** latin1 bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

/** A comparable summary of a transaction (everything but timestamps). */
export function summary(tx: FtpTransaction): Record<string, unknown> {
  return {
    id: tx.id,
    command: tx.command,
    commandData: tx.commandData,
    commandTruncated: tx.commandTruncated,
    replyLines: tx.replyLines,
    completionCodes: tx.completionCodes,
    replyCode: tx.replyCode,
    replyReceived: tx.replyReceived,
    replyTruncated: tx.replyTruncated,
    dynamicPort: tx.dynamicPort,
    mode: tx.mode,
    events: tx.events,
  };
}

/** One segment of a hand-made session: direction and text. */
export type Segment = [dir: 0 | 1, text: string];

/**
 * Feeds the segments in order, each direction's stream cut at the given offsets (of that
 * direction's bytes), then closes. Returns the transactions and the connection.
 */
export function parseSession(
  segs: Segment[],
  cuts: [number[], number[]] = [[], []],
): { txs: FtpTransaction[]; conn: FtpConnection } {
  const conn = new FtpConnection();
  const pos = [0, 0];
  for (const [dir, text] of segs) {
    const data = bytes(text);
    const base = pos[dir]!;
    let prev = 0;
    for (const c of cuts[dir]) {
      const at = c - base;
      if (at > prev && at < data.length) {
        conn.feed(dir, data, prev, at - prev, 0);
        prev = at;
      }
    }
    if (data.length > prev) conn.feed(dir, data, prev, data.length - prev, 0);
    pos[dir] = base + data.length;
  }
  conn.close();
  return { txs: conn.drain(), conn };
}
