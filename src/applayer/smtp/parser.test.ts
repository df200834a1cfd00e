import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  MAX_COMMAND_LINE,
  MAX_LINE,
  MAX_PENDING_COMMANDS,
  MAX_PENDING_TX,
  MAX_RCPT,
  SmtpConnection,
  type SmtpTransaction,
} from './parser.js';
import { SMTP_EVENT } from './events.js';
import { bytes, parseSession, streamLength, summary, type Segment } from './test-util.js';

/** 300 bytes 0..255,0..43 base64-encoded in 76-character lines (RFC 2045 6.8). */
const ATTACHMENT = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
const ATTACHMENT_B64 = ATTACHMENT.toString('base64').replace(/.{76}/g, '$&\r\n');

/** A MIME message as sent after DATA (dot-stuffed), with the end-of-data line. */
const MESSAGE =
  'From: Alice <alice@example.com>\r\n' +
  'To: "Bob, B." <bob@example.org>, carol@example.org\r\n' +
  'Cc: dave@example.org\r\n' +
  'Subject: Quarterly\r\n' + // folded subject: unfolding keeps the space
  ' report\r\n' +
  'Message-ID: <1234@example.com>\r\n' +
  'X-Mailer: TestMailer 1.0\r\n' +
  'Date: Tue, 12 Dec 2023 17:37:16 +0100\r\n' +
  'MIME-Version: 1.0\r\n' +
  'Content-Type: multipart/mixed; boundary="XYZ"\r\n' +
  '\r\n' +
  'This is the preamble.\r\n' +
  '--XYZ\r\n' +
  'Content-Type: text/plain; charset="UTF-8"\r\n' +
  'Content-Transfer-Encoding: quoted-printable\r\n' +
  '\r\n' +
  'Caf=C3=A9 menu: see https://example.net/menu.html.\r\n' +
  '..a line that starts with a dot, and a soft=\r\n' +
  ' break\r\n' +
  '--XYZ\r\n' +
  'Content-Type: application/octet-stream; name="ignored.bin"\r\n' +
  'Content-Disposition: attachment; filename="data.bin"\r\n' +
  'Content-Transfer-Encoding: base64\r\n' +
  '\r\n' +
  ATTACHMENT_B64 +
  '\r\n' +
  '--XYZ--\r\n' +
  'epilogue\r\n' +
  '.\r\n';

/** A whole session: greeting, EHLO, AUTH LOGIN, a pipelined mail with a MIME message, RSET, QUIT. */
const SESSION: Segment[] = [
  [1, '220 mail.example.org ESMTP Postfix\r\n'],
  [0, 'EHLO client.example.com\r\n'],
  [
    1,
    '250-mail.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n' +
      '250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n250 8BITMIME\r\n',
  ],
  [0, 'AUTH LOGIN\r\n'],
  [1, '334 VXNlcm5hbWU6\r\n'],
  [0, 'YWxpY2U=\r\n'], // credentials: never kept
  [1, '334 UGFzc3dvcmQ6\r\n'],
  [0, 'c2VjcmV0\r\n'],
  [1, '235 2.7.0 Authentication successful\r\n'],
  // Pipelined (RFC 2920): MAIL, two RCPT and DATA in one segment.
  [
    0,
    'MAIL FROM:<alice@example.com> SIZE=1000\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n',
  ],
  [1, '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n'],
  [0, MESSAGE],
  [1, '250 2.0.0 Ok: queued as ABC123\r\n'],
  [0, 'MAIL FROM: <alice@example.com>\r\n'],
  [1, '250 2.1.0 Ok\r\n'],
  [0, 'RCPT TO:<nobody@example.org>\r\n'],
  [1, '550 5.1.1 User unknown\r\n'],
  [0, 'RSET\r\n'],
  [1, '250 2.0.0 Ok\r\n'],
  [0, 'QUIT\r\n'],
  [1, '221 2.0.0 Bye\r\n'],
];

test('parser: a whole session', () => {
  const { txs, conn } = parseSession(SESSION);
  assert.equal(conn.pendingCount, 0);
  assert.equal(conn.pendingCommands, 0);
  assert.equal(txs.length, 2);
  const [mail, rset] = txs as [SmtpTransaction, SmtpTransaction];
  assert.equal(conn.greeting, 'mail.example.org ESMTP Postfix');
  assert.equal(conn.helo, 'client.example.com');
  assert.deepEqual(conn.extensions, [
    'PIPELINING',
    'SIZE 10240000',
    'STARTTLS',
    'AUTH PLAIN LOGIN',
    'CHUNKING',
    '8BITMIME',
  ]);
  assert.equal(conn.authMechanism, 'LOGIN');
  assert.equal(conn.authSuccesses, 1);
  assert.equal(conn.authFailures, 0);
  assert.equal(conn.tlsStarted, false);

  assert.equal(mail.id, 0);
  assert.equal(mail.helo, 'client.example.com');
  assert.equal(mail.mailFrom, '<alice@example.com>'); // SIZE parameter not included, as Suricata
  assert.equal(mail.mailFromReply, 250);
  assert.deepEqual(mail.rcptTo, ['<bob@example.org>', '<carol@example.org>']);
  assert.equal(mail.hasMessage, true);
  assert.equal(mail.dataReplyCode, 250);
  assert.equal(mail.mimeStatus, 'PARSE_DONE');
  assert.equal(mail.from, 'Alice <alice@example.com>');
  assert.deepEqual(mail.to, ['"Bob, B." <bob@example.org>', 'carol@example.org']);
  assert.deepEqual(mail.cc, ['dave@example.org']);
  assert.equal(mail.subject, 'Quarterly report');
  assert.equal(mail.messageId, '<1234@example.com>');
  assert.equal(mail.xMailer, 'TestMailer 1.0');
  assert.equal(mail.date, 'Tue, 12 Dec 2023 17:37:16 +0100');
  assert.equal(mail.headers.length, 9);
  assert.deepEqual(mail.headers[9 - 1], { name: 'content-type', value: 'multipart/mixed; boundary="XYZ"' });
  // Message size: the DATA bytes minus the stuffed dot and the end line.
  assert.equal(mail.messageSize, MESSAGE.length - 1 - 3);

  assert.equal(mail.bodies.length, 1);
  const body = mail.bodies[0]!;
  assert.equal(body.contentType, 'text/plain');
  assert.equal(body.charset, 'utf-8');
  assert.equal(body.encoding, 'quoted-printable');
  assert.equal(
    Buffer.from(body.data).toString('utf8'),
    'Café menu: see https://example.net/menu.html.\r\n.a line that starts with a dot, and a soft break',
  );
  assert.equal(body.complete, true);
  assert.deepEqual(mail.urls, ['https://example.net/menu.html']);

  assert.equal(mail.attachments.length, 1);
  const att = mail.attachments[0]!;
  assert.equal(att.filename, 'data.bin'); // Content-Disposition filename wins over Content-Type name
  assert.equal(att.contentType, 'application/octet-stream');
  assert.equal(att.encoding, 'base64');
  assert.equal(att.size, 300);
  assert.deepEqual(Buffer.from(att.data), ATTACHMENT);
  assert.equal(att.truncated, false);
  assert.equal(att.complete, true);
  assert.equal(att.md5, ''); // hashFiles off
  assert.deepEqual(mail.events, []);

  assert.equal(rset.id, 1);
  assert.equal(rset.mailFrom, '<alice@example.com>'); // space after the colon tolerated
  assert.deepEqual(rset.rcptTo, ['<nobody@example.org>']); // refused, still logged (as Suricata)
  assert.equal(rset.hasMessage, false);
  assert.equal(rset.dataReplyCode, -1);
  assert.deepEqual(rset.events, []);

  // AUTH responses are not kept anywhere.
  const all = JSON.stringify(txs.map(summary)) + JSON.stringify(conn);
  assert.ok(!all.includes('YWxpY2U') && !all.includes('c2VjcmV0'));
});

test('parser: the same transactions at every split point and byte by byte', () => {
  const want = parseSession(SESSION).txs.map(summary);
  for (const dir of [0, 1] as const) {
    const n = streamLength(SESSION, dir);
    for (let k = 1; k < n; k++) {
      const cuts: [number[], number[]] = dir === 0 ? [[k], []] : [[], [k]];
      assert.deepEqual(parseSession(SESSION, cuts).txs.map(summary), want, `dir ${dir} cut ${k}`);
    }
  }
  const all = (dir: 0 | 1): number[] => Array.from({ length: streamLength(SESSION, dir) }, (_, i) => i + 1);
  assert.deepEqual(parseSession(SESSION, [all(0), all(1)]).txs.map(summary), want);
});

test('parser: transactions are delivered once ended and answered', () => {
  const c = new SmtpConnection();
  const feed = (dir: 0 | 1, s: string, ts: number): void => c.feed(dir, bytes(s), 0, s.length, ts);
  feed(1, '220 mx ESMTP\r\n', 1);
  feed(0, 'HELO a\r\nMAIL FROM:<a@a>\r\nRCPT TO:<b@b>\r\nDATA\r\n', 2);
  assert.equal(c.pendingCommands, 4);
  feed(1, '250 hi\r\n250 ok\r\n250 ok\r\n354 go\r\n', 3);
  feed(0, 'Subject: x\r\n\r\nhello\r\n.\r\n', 4);
  assert.equal(c.drain().length, 0); // the reply to the end of data is not in yet
  feed(1, '250 queued\r\n', 5);
  const [tx] = c.drain();
  assert.equal(tx?.tsUs, 2);
  assert.equal(tx?.dataReplyCode, 250);
  assert.equal(tx?.subject, 'x');
  assert.equal(Buffer.from(tx!.bodies[0]!.data).toString(), 'hello');
  // A command after the end opens the next transaction; QUIT ends it; close delivers it unanswered.
  feed(0, 'NOOP\r\nQUIT\r\n', 6);
  c.close(7);
  const [noop] = c.drain();
  assert.equal(noop?.id, 1);
  assert.equal(noop?.helo, 'a');
  assert.equal(noop?.hasMessage, false);
  c.feed(0, bytes('MAIL FROM:<x@x>\r\n'), 0, 17, 8); // ignored after close
  assert.equal(c.pendingCount, 0);
});

test('parser: dot-unstuffing and the end-of-data line', () => {
  const msg = 'Subject: dots\r\n\r\n..one\r\n.\r\n.\r\n';
  const { txs } = parseSession([
    [1, '220 x ESMTP\r\n'],
    [0, 'HELO h\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n'],
    [1, '250 a\r\n250 b\r\n250 c\r\n354 d\r\n'],
    [0, msg + 'NOOP\r\n'],
    [1, '250 e\r\n250 f\r\n'],
  ]);
  // ".." -> "."; the first "." line ends the message; the second "." is a command (unknown).
  assert.equal(Buffer.from(txs[0]!.bodies[0]!.data).toString(), '.one');
  assert.deepEqual(txs[0]!.events, []);
  assert.equal(txs.length, 2);
  // A bare LF before or after the dot still ends the message here, flagged (SMTP smuggling).
  for (const end of ['\n.\r\n', '\r\n.\n', '\n.\n']) {
    const { txs: t } = parseSession([
      [1, '220 x ESMTP\r\n'],
      [0, 'HELO h\r\nDATA\r\n'],
      [1, '250 a\r\n354 d\r\n'],
      [0, `Subject: s\r\n\r\nbody${end}MAIL FROM:<z@z>\r\n`],
    ]);
    assert.deepEqual(t[0]!.events, [SMTP_EVENT.NON_CRLF_END_OF_DATA], JSON.stringify(end));
    assert.equal(t[1]?.mailFrom, '<z@z>');
  }
  // ".\r" followed by more text is not the end: the dot was stuffing.
  const { txs: t2 } = parseSession([
    [0, 'HELO h\r\nDATA\r\n'],
    [0, '\r\n.\rx\r\n.\r\n'],
  ]);
  assert.equal(Buffer.from(t2[0]!.bodies[0]!.data).toString('latin1'), '\rx');
});

test('parser: STARTTLS accepted: the rest is TLS and not parsed', () => {
  const { txs, conn } = parseSession([
    [1, '220 mx.example.org ESMTP\r\n'],
    [0, 'EHLO c\r\n'],
    [1, '250-mx\r\n250 STARTTLS\r\n'],
    [0, 'STARTTLS\r\n'],
    [1, '220 2.0.0 Ready to start TLS\r\n'],
    [0, '\x16\x03\x01\x00\x05hello MAIL FROM:<hidden@x>\r\n'],
    [1, '\x16\x03\x03\x00\x02hi\r\n500 nonsense\r\n'],
  ]);
  assert.equal(conn.tlsStarted, true);
  assert.equal(txs.length, 1);
  assert.equal(txs[0]!.startTls, true);
  assert.equal(txs[0]!.helo, 'c');
  assert.equal(txs[0]!.mailFrom, '');
  assert.deepEqual(txs[0]!.events, []);
  // The ClientHello before the 220 was fed: the client side stops too.
  const { txs: t2 } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'EHLO c\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05MAIL FROM:<x@y>\r\n'],
    [1, '250 mx\r\n220 go\r\n'],
  ]);
  assert.equal(t2.length, 1);
  assert.equal(t2[0]!.mailFrom, '');
  assert.equal(t2[0]!.startTls, true);
});

test('parser: STARTTLS refused, and a command injected after STARTTLS', () => {
  const { txs, conn } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'EHLO c\r\nSTARTTLS\r\n'],
    [1, '250 mx\r\n454 4.7.0 TLS not available\r\n'],
    [0, 'MAIL FROM:<a@b>\r\n'],
    [1, '250 ok\r\n'],
  ]);
  assert.equal(conn.tlsStarted, false);
  assert.equal(txs[0]!.mailFrom, '<a@b>'); // parsing went on
  assert.deepEqual(txs[0]!.events, [SMTP_EVENT.TLS_REJECTED]);
  // CVE-2011-0411: plaintext commands pipelined after STARTTLS.
  const { txs: t2 } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'EHLO c\r\nSTARTTLS\r\nRSET\r\n'],
    [1, '250 mx\r\n220 go\r\n'],
  ]);
  assert.ok(t2[0]!.events.includes(SMTP_EVENT.INVALID_PIPELINED_SEQUENCE));
});

test('parser: DATA refused, RSET, duplicate and missing pieces', () => {
  const { txs } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'EHLO c\r\nMAIL FROM:<a@b>\r\nDATA\r\n'],
    [1, '250 mx\r\n250 ok\r\n554 5.5.1 No valid recipients\r\n'],
    [0, 'RSET\r\nMAIL FROM:<c@d>\r\nMAIL FROM:<e@f>\r\nQUIT\r\n'],
    [1, '250 ok\r\n250 ok\r\n503 nested MAIL\r\n221 bye\r\n'],
  ]);
  assert.equal(txs.length, 2);
  assert.equal(txs[0]!.hasMessage, false); // refused before any byte: no message
  assert.deepEqual(txs[0]!.events, [SMTP_EVENT.DATA_COMMAND_REJECTED]);
  assert.equal(txs[1]!.mailFrom, '<c@d>'); // the first is kept
  assert.deepEqual(txs[1]!.events, [SMTP_EVENT.DUPLICATE_FIELDS]);
  // A MAIL FROM refused by the server may be retried without duplicate.
  const { txs: t2 } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'HELO c\r\nMAIL FROM:<bad@x>\r\n'],
    [1, '250 hi\r\n553 no\r\n'],
    [0, 'MAIL FROM:<good@x>\r\n'],
    [1, '250 ok\r\n'],
  ]);
  assert.equal(t2[0]!.mailFrom, '<good@x>');
  assert.equal(t2[0]!.mailFromReply, 250);
  assert.deepEqual(t2[0]!.events, []);
  // HELO after a refused EHLO replaces it; after an accepted one it is a duplicate.
  const { conn, txs: t3 } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'EHLO new\r\n'],
    [1, '502 no EHLO\r\n'],
    [0, 'HELO old\r\n'],
    [1, '250 ok\r\n'],
    [0, 'HELO third\r\n'],
  ]);
  assert.equal(conn.helo, 'old');
  assert.deepEqual(t3[0]!.events, [SMTP_EVENT.DUPLICATE_FIELDS]);
});

test('parser: greeting, invalid and unmatched replies, no welcome', () => {
  const { txs } = parseSession([
    [0, 'EHLO c\r\n'],
    [1, '250 ok\r\nhello there\r\n250 extra\r\n'],
  ]);
  assert.deepEqual(txs[0]!.events, [
    SMTP_EVENT.NO_SERVER_WELCOME_MESSAGE,
    SMTP_EVENT.INVALID_REPLY, // "hello there"
    SMTP_EVENT.UNABLE_TO_MATCH_REPLY_WITH_REQUEST, // "250 extra": EHLO already answered
  ]);
  const { txs: t2 } = parseSession([
    [1, '220 ok ESMTP\r\n'],
    [0, 'EHLO c\r\n'],
    [1, '250 ok\r\n250 stray\r\n'],
  ]);
  assert.deepEqual(t2[0]!.events, [SMTP_EVENT.UNABLE_TO_MATCH_REPLY_WITH_REQUEST]);
  // A refusing greeting with nothing after it still reaches the output through a transaction.
  const { txs: t3, conn } = parseSession([[1, '554 5.3.2 no service\r\n']]);
  assert.equal(conn.greeting, '5.3.2 no service');
  assert.deepEqual(t3[0]!.events, [SMTP_EVENT.INVALID_REPLY]);
  // A multi-line greeting, and replies with an odd separator or code.
  const { txs: t4 } = parseSession([
    [1, '220-mx ESMTP\r\n220-welcome\r\n220 go\r\n'],
    [0, 'HELO a\r\nNOOP\r\n'],
    [1, '250x ok\r\n150 odd\r\n'],
  ]);
  assert.deepEqual(t4[0]!.events, [SMTP_EVENT.INVALID_REPLY]);
});

test('parser: over-long lines are flagged, truncated and skipped to the next LF', () => {
  const long = 'A'.repeat(MAX_LINE + 100);
  const segs: Segment[] = [
    [1, '220 mx ESMTP\r\n'],
    [0, `HELO ${'h'.repeat(MAX_COMMAND_LINE)}\r\n`], // over 510: flagged, kept
    [1, `250 ${'r'.repeat(600)}\r\n`],
    [0, `MAIL FROM:<${long}>\r\nRCPT TO:<b@c>\r\n`],
    [1, `250 ${long}\r\n250 ok\r\n`],
  ];
  const want = parseSession(segs).txs.map(summary);
  const [tx] = parseSession(segs).txs;
  assert.equal(tx!.helo.length, MAX_COMMAND_LINE);
  assert.equal(tx!.mailFrom.length, MAX_LINE - 'MAIL FROM:'.length);
  assert.deepEqual(tx!.rcptTo, ['<b@c>']);
  assert.equal(tx!.mailFromReply, 250);
  assert.deepEqual(tx!.events, [
    SMTP_EVENT.MAX_COMMAND_LINE_LEN_EXCEEDED,
    SMTP_EVENT.MAX_REPLY_LINE_LEN_EXCEEDED,
    SMTP_EVENT.TRUNCATED_LINE,
  ]);
  for (const k of [1, 100, MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, MAX_LINE + 50, 5000]) {
    assert.deepEqual(parseSession(segs, [[k], [k]]).txs.map(summary), want, `cut ${k}`);
  }
});

test('parser: BDAT chunks (RFC 3030)', () => {
  const msg = 'Subject: chunked\r\nContent-Type: text/plain\r\n\r\nfirst half, second half\r\n';
  const a = msg.slice(0, 30);
  const b = msg.slice(30);
  const { txs } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, `EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT ${a.length}\r\n${a}BDAT ${b.length} LAST\r\n${b}QUIT\r\n`],
    [1, '250 mx\r\n250 ok\r\n250 ok\r\n250 30 octets\r\n250 queued\r\n221 bye\r\n'],
  ]);
  assert.equal(txs.length, 1);
  assert.equal(txs[0]!.subject, 'chunked');
  assert.equal(txs[0]!.messageSize, msg.length);
  assert.equal(txs[0]!.dataReplyCode, 250);
  assert.equal(Buffer.from(txs[0]!.bodies[0]!.data).toString(), 'first half, second half');
  assert.deepEqual(txs[0]!.events, []);
  // More bytes than announced: the rest reads as a bogus command.
  const { txs: t2 } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'HELO c\r\nBDAT 5\r\nX: abfgh\r\nBDAT x\r\n'],
  ]);
  assert.deepEqual(t2[0]!.events, [SMTP_EVENT.BDAT_CHUNK_LEN_EXCEEDED, SMTP_EVENT.UNPARSABLE_CONTENT]);
  // BDAT 0 LAST ends the message at once.
  const { txs: t3 } = parseSession([[0, 'HELO c\r\nBDAT 3\r\nab\nBDAT 0 LAST\r\nNOOP\r\n']]);
  assert.equal(t3[0]!.mimeStatus, 'PARSE_DONE');
  assert.equal(t3.length, 2);
});

test('parser: a truncated session delivers what it has', () => {
  const cut = SESSION.slice(0, 11).concat([[0, MESSAGE.slice(0, MESSAGE.indexOf('--XYZ--') - 200)]]);
  const { txs } = parseSession(cut);
  assert.equal(txs.length, 1);
  const tx = txs[0]!;
  assert.equal(tx.mimeStatus, 'BODY_STARTED');
  assert.equal(tx.dataReplyCode, -1);
  assert.equal(tx.attachments[0]!.complete, false);
  assert.equal(tx.bodies[0]!.complete, true);
  assert.ok(tx.attachments[0]!.size > 0 && tx.attachments[0]!.size < 300);
  // Cut inside the headers.
  const { txs: t2 } = parseSession([
    [0, 'HELO c\r\nDATA\r\n'],
    [1, '220 x ESMTP\r\n'],
    [0, 'Subject: unfinished'],
  ]);
  assert.equal(t2[0]!.mimeStatus, 'HEADER_STARTED');
  assert.equal(t2[0]!.subject, 'unfinished');
});

test('parser: limits on kept bytes, hashes of whole files', () => {
  const opts = { fileLimit: 100, bodyLimit: 10, hashFiles: true };
  const { txs } = parseSession(SESSION, [[], []], opts);
  const att = txs[0]!.attachments[0]!;
  assert.equal(att.size, 300);
  assert.equal(att.data.length, 100);
  assert.ok(att.truncated);
  assert.deepEqual(Buffer.from(att.data), ATTACHMENT.subarray(0, 100));
  assert.equal(att.md5, createHash('md5').update(ATTACHMENT).digest('hex'));
  assert.equal(att.sha1, createHash('sha1').update(ATTACHMENT).digest('hex'));
  assert.equal(att.sha256, createHash('sha256').update(ATTACHMENT).digest('hex'));
  assert.equal(txs[0]!.bodies[0]!.data.length, 10);
  // The per-transaction bound caps everything kept.
  const { txs: t2 } = parseSession(SESSION, [[], []], { txDataLimit: 60 });
  const kept = t2[0]!.bodies[0]!.data.length + t2[0]!.attachments[0]!.data.length;
  assert.equal(kept, 60);
});

test('parser: caps on transactions, commands and recipients', () => {
  // The server is not seen: ended transactions pile up, the oldest go out early.
  const c = new SmtpConnection();
  let s = 'HELO c\r\n';
  for (let i = 0; i < MAX_PENDING_TX + 3; i++) s += 'MAIL FROM:<a@b>\r\nDATA\r\nx\r\n.\r\n';
  c.feed(0, bytes(s), 0, s.length, 0);
  assert.equal(c.pendingCount, MAX_PENDING_TX);
  const early = c.drain();
  assert.equal(early.length, 3);
  assert.ok(early[0]!.events.includes(SMTP_EVENT.TOO_MANY_TRANSACTIONS));
  assert.ok(c.pendingCommands <= MAX_PENDING_COMMANDS);
  c.close();
  assert.equal(c.drain().length, MAX_PENDING_TX);

  let rc = 'HELO c\r\nMAIL FROM:<a@b>\r\n';
  for (let i = 0; i < MAX_RCPT + 5; i++) rc += `RCPT TO:<u${i}@x>\r\n`;
  const { txs, conn } = parseSession([[0, rc]]);
  assert.equal(txs[0]!.rcptTo.length, MAX_RCPT);
  assert.ok(txs[0]!.events.includes(SMTP_EVENT.TOO_MANY_RECIPIENTS));
  assert.ok(txs[0]!.events.includes(SMTP_EVENT.TOO_MANY_PENDING_COMMANDS));
  assert.equal(conn.pendingCommands, 0);
});

test('parser: AUTH PLAIN with an initial response, and failed logins', () => {
  const { txs, conn } = parseSession([
    [1, '220 mx ESMTP\r\n'],
    [0, 'EHLO c\r\nAUTH PLAIN AGFsaWNlAHdyb25n\r\n'],
    [1, '250 mx\r\n535 5.7.8 Authentication failed\r\n'],
    [0, 'AUTH LOGIN\r\n'],
    [1, '334 VXNlcm5hbWU6\r\n'],
    [0, 'YWxpY2U=\r\n'],
    [1, '334 UGFzc3dvcmQ6\r\n'],
    [
      0,
      'd3JvbmcyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy\r\n',
    ],
    [1, '535 5.7.8 Authentication failed\r\n'],
    [0, 'QUIT\r\n'],
    [1, '221 bye\r\n'],
  ]);
  assert.equal(conn.authFailures, 2);
  assert.equal(conn.authSuccesses, 0);
  assert.equal(conn.authMechanism, 'LOGIN');
  assert.equal(txs.length, 1);
  assert.deepEqual(txs[0]!.events, []); // a long AUTH response is not a long command line
  assert.ok(!JSON.stringify(summary(txs[0]!)).includes('AGFsaWNl'));
});
