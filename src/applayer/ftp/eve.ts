/**
 * EVE `ftp` object of one transaction, with Suricata's field names (output-json-ftp.c /
 * ftp/event.rs), so tools that read Suricata's ftp events read Vigil's.
 */
import type { FtpTransaction } from './parser.js';

/** The EVE `ftp` object of a transaction. */
export function ftpEveObject(tx: FtpTransaction): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (tx.command !== '') {
    o['command'] = tx.command;
    // Like Suricata: command_data (the password too, for PASS) and its truncation flag when present.
    if (tx.commandData !== '' || tx.commandTruncated) {
      o['command_data'] = tx.commandData;
      o['command_truncated'] = tx.commandTruncated;
    }
  }
  if (tx.replyLines.length > 0) {
    // Each line: a leading 3-digit code goes to completion_code and the text after `ddd ` or
    // `ddd-` to reply; a line without code goes to reply whole.
    const reply: string[] = [];
    for (let i = 0; i < tx.replyLines.length; i++) {
      const l = tx.replyLines[i]!;
      const coded = l.length >= 3 && /^[0-9]{3}/.test(l);
      if (!coded) reply.push(l);
      else if (l.length >= 4) reply.push(l.slice(4));
    }
    if (reply.length > 0) o['reply'] = reply;
    if (tx.completionCodes.length > 0) o['completion_code'] = tx.completionCodes.slice();
    o['reply_truncated'] = tx.replyTruncated;
  }
  if (tx.dynamicPort > 0) {
    o['dynamic_port'] = tx.dynamicPort;
    o['mode'] = tx.mode;
  }
  o['reply_received'] = tx.replyReceived ? 'yes' : 'no';
  return o;
}
