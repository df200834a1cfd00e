/** Test helpers for the SMTP parser tests (not used by the parser). */
import { createHash } from 'node:crypto';
import { SmtpConnection, type SmtpOptions, type SmtpTransaction } from './parser.js';

/** latin1 bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

/** One segment of a hand-made session: direction and text (latin1). */
export type Segment = [dir: 0 | 1, text: string];

/** sha256 of some bytes, hex (to compare part contents compactly). */
export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A comparable summary of a transaction (everything but timestamps; part contents hashed). */
export function summary(tx: SmtpTransaction): Record<string, unknown> {
  const part = (p: SmtpTransaction['attachments'][number]): Record<string, unknown> => ({
    filename: p.filename,
    contentType: p.contentType,
    charset: p.charset,
    encoding: p.encoding,
    size: p.size,
    data: sha256(p.data),
    truncated: p.truncated,
    complete: p.complete,
    md5: p.md5,
  });
  return {
    id: tx.id,
    helo: tx.helo,
    mailFrom: tx.mailFrom,
    mailFromReply: tx.mailFromReply,
    rcptTo: tx.rcptTo,
    hasMessage: tx.hasMessage,
    messageSize: tx.messageSize,
    dataReplyCode: tx.dataReplyCode,
    startTls: tx.startTls,
    headers: tx.headers,
    from: tx.from,
    to: tx.to,
    cc: tx.cc,
    subject: tx.subject,
    messageId: tx.messageId,
    xMailer: tx.xMailer,
    date: tx.date,
    attachments: tx.attachments.map(part),
    bodies: tx.bodies.map(part),
    urls: tx.urls,
    mimeStatus: tx.mimeStatus,
    events: tx.events,
  };
}

/**
 * Feeds the segments in order, each direction's stream cut at the given offsets (of that
 * direction's bytes), then closes. Returns the transactions and the connection.
 */
export function parseSession(
  segs: Segment[],
  cuts: [number[], number[]] = [[], []],
  opts: SmtpOptions = {},
): { txs: SmtpTransaction[]; conn: SmtpConnection } {
  const conn = new SmtpConnection(opts);
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

/** Total bytes of one direction of a session. */
export function streamLength(segs: Segment[], dir: 0 | 1): number {
  let n = 0;
  for (const [d, t] of segs) if (d === dir) n += t.length;
  return n;
}
