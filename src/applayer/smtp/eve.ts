/**
 * EVE body of an `event_type: "smtp"` record for one transaction, with Suricata's field names
 * (output-json-smtp.c, output-json-email-common.c, rust/src/mime/smtp_log.rs), so tools that read
 * Suricata's smtp events read Vigil's; and the `fileinfo` object of one attachment (name, type by
 * magic bytes, state, hashes, size).
 */
import { magicOf } from '../../util/magic.js';
import type { SmtpPart } from './mime.js';
import type { SmtpTransaction } from './parser.js';

/** `{ smtp, email? }`: the `smtp` and `email` objects of a transaction's EVE record. */
export interface SmtpEveBody {
  smtp: Record<string, unknown>;
  email?: Record<string, unknown>;
}

/**
 * The `smtp` object (helo, mail_from, rcpt_to) and, when a message was sent, the `email` object
 * (status, from, to, cc, subject, message_id, x_mailer, date, attachment, url). Empty values are
 * left out, as the schema wants non-empty arrays.
 */
export function smtpEveBody(tx: SmtpTransaction): SmtpEveBody {
  const smtp: Record<string, unknown> = {};
  if (tx.helo !== '') smtp['helo'] = tx.helo;
  if (tx.mailFrom !== '') smtp['mail_from'] = tx.mailFrom;
  if (tx.rcptTo.length > 0) smtp['rcpt_to'] = tx.rcptTo.slice();
  const out: SmtpEveBody = { smtp };
  if (!tx.hasMessage) return out;
  const email: Record<string, unknown> = { status: tx.mimeStatus === '' ? 'PARSE_DONE' : tx.mimeStatus };
  if (tx.from !== '') email['from'] = tx.from;
  if (tx.to.length > 0) email['to'] = tx.to.slice();
  if (tx.cc.length > 0) email['cc'] = tx.cc.slice();
  if (tx.subject !== '') email['subject'] = tx.subject;
  if (tx.messageId !== '') email['message_id'] = tx.messageId;
  if (tx.xMailer !== '') email['x_mailer'] = tx.xMailer;
  if (tx.date !== '') email['date'] = tx.date;
  const names: string[] = [];
  for (const a of tx.attachments) if (a.filename !== '') names.push(a.filename);
  if (names.length > 0) email['attachment'] = names;
  if (tx.urls.length > 0) email['url'] = tx.urls.slice();
  out.email = email;
  return out;
}

/** What the file store did with an attachment (see src/output/filestore.ts). */
export interface SmtpStoreMark {
  stored: boolean;
  fileId?: number;
  sha256?: string;
}

/**
 * The `fileinfo` object of attachment `part` of `tx` (event_type "fileinfo", with the same `smtp`
 * and `email` objects beside it in Suricata). Hashes are present with the `hashFiles` option;
 * `store`: the file store's outcome, `sids`: the `filestore` rules that asked for it.
 */
export function smtpFileinfoObject(
  tx: SmtpTransaction,
  part: SmtpPart,
  store?: SmtpStoreMark,
  sids?: readonly number[],
): Record<string, unknown> {
  const o: Record<string, unknown> = { filename: part.filename };
  if (sids !== undefined && sids.length > 0) o['sid'] = sids.slice();
  o['gaps'] = false;
  // From the first decoded bytes, which are kept even when the rest is not.
  const magic = magicOf(part.data);
  if (magic !== '') o['magic'] = magic;
  o['state'] = part.complete ? 'CLOSED' : 'TRUNCATED';
  if (part.md5 !== '') {
    o['md5'] = part.md5;
    o['sha1'] = part.sha1;
    o['sha256'] = part.sha256;
  } else if (store?.sha256 !== undefined) o['sha256'] = store.sha256;
  o['stored'] = store?.stored === true;
  if (store?.fileId !== undefined) o['file_id'] = store.fileId;
  o['size'] = part.size;
  o['tx_id'] = tx.id;
  return o;
}
