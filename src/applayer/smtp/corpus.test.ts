/**
 * Real traffic: zeek/smtp_rfc3030-bdat-multipart.pcap (Postfix, EHLO, MAIL, RCPT, one BDAT LAST
 * chunk of 3460 bytes carrying a multipart mail with a base64 PNG, QUIT). The TCP payloads are read
 * with a minimal pcap reader below (Ethernet, IPv4, TCP; no tshark needed) and fed segment by
 * segment; the command count is compared with tshark's `smtp.req.command` when tshark is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SHARED_DIR } from '../../../test/helpers/paths.js';
import { SmtpConnection } from './parser.js';
import { probeSmtp } from './probe.js';
import { smtpEveBody } from './eve.js';

const file = path.join(SHARED_DIR, 'data', 'pcaps', 'zeek', 'smtp_rfc3030-bdat-multipart.pcap');
const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;

/** TCP payloads of a classic little-endian Ethernet/IPv4 pcap, in capture order, with direction (0 = SYN sender). */
function tcpPayloads(buf: Buffer): { dir: 0 | 1; data: Buffer }[] {
  assert.equal(buf.readUInt32LE(0), 0xa1b2c3d4, 'little-endian microsecond pcap');
  assert.equal(buf.readUInt32LE(20), 1, 'Ethernet');
  const out: { dir: 0 | 1; data: Buffer }[] = [];
  let client = '';
  const next = new Map<string, number>(); // next expected sequence number per direction
  for (let p = 24; p + 16 <= buf.length;) {
    const incl = buf.readUInt32LE(p + 8);
    const f = buf.subarray(p + 16, p + 16 + incl);
    p += 16 + incl;
    if (f.length < 14 + 20 || f.readUInt16BE(12) !== 0x0800) continue;
    const ip = f.subarray(14);
    const ihl = (ip[0]! & 15) * 4;
    if (ip[9] !== 6) continue;
    const tcp = ip.subarray(ihl, ip.readUInt16BE(2));
    const key = `${ip.readUInt32BE(12)}:${tcp.readUInt16BE(0)}`;
    const seq = tcp.readUInt32BE(4);
    const flags = tcp[13]!;
    if ((flags & 0x12) === 0x02) client = key; // SYN without ACK
    if (flags & 0x02) {
      next.set(key, (seq + 1) >>> 0);
      continue;
    }
    const data = tcp.subarray((tcp[12]! >> 4) * 4);
    if (data.length === 0 || next.get(key) !== seq) continue; // retransmission or out of order: none here
    next.set(key, (seq + data.length) >>> 0);
    out.push({ dir: key === client ? 0 : 1, data });
  }
  return out;
}

test('corpus: smtp_rfc3030-bdat-multipart.pcap', { skip: !fs.existsSync(file) && 'capture missing' }, () => {
  const segs = tcpPayloads(fs.readFileSync(file));
  const conn = new SmtpConnection({ hashFiles: true });
  const first = [true, true];
  let clientBytes = '';
  for (const { dir, data } of segs) {
    if (first[dir] === true) assert.equal(probeSmtp(data, 0, data.length, dir), 'yes', `probe dir ${dir}`);
    first[dir] = false;
    if (dir === 0) clientBytes += data.toString('latin1');
    conn.feed(dir, data, 0, data.length, 0);
  }
  conn.close();
  const txs = conn.drain();
  assert.equal(conn.greeting, 'example.com ESMTP Postfix (Debian/GNU)');
  assert.ok(conn.extensions.includes('CHUNKING'));
  assert.equal(txs.length, 1);
  const tx = txs[0]!;
  assert.deepEqual(tx.events, []);
  assert.equal(tx.mimeStatus, 'PARSE_DONE');
  assert.equal(tx.messageSize, 3460);
  assert.equal(tx.dataReplyCode, 250);
  assert.deepEqual(smtpEveBody(tx), {
    smtp: { helo: 'localhost', mail_from: '<zeek@localhost>', rcpt_to: ['<root@localhost>'] },
    email: {
      status: 'PARSE_DONE',
      from: 'Arne Welzel <arne.welzel@corelight.com>',
      to: ['Arne Welzel <arne.welzel@corelight.com>'],
      subject: 'Zeek Logo',
      message_id: '<CADsmdyWKpbe9NVsh29VkbMCRZRfXUUXH+316vKFgDGHtJxwoAw@mail.gmail.com>',
      date: 'Tue, 12 Dec 2023 17:37:16 +0100',
      attachment: ['zeek-logo.png'],
    },
  });
  assert.equal(Buffer.from(tx.bodies[0]!.data).toString(), "This is Zeek's logo.\r\n\r\nHave fun!\r\n");
  // The attachment equals an independent decode of the base64 between its headers and the boundary.
  const att = tx.attachments[0]!;
  const m = /X-Attachment-Id: [^\r]*\r\nContent-ID: [^\r]*\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--0000/.exec(clientBytes);
  assert.ok(m !== null);
  const png = Buffer.from(m[1]!, 'base64');
  assert.ok(Buffer.from(att.data).equals(png));
  assert.equal(att.contentType, 'image/png');
  assert.equal(att.size, png.length);
  assert.equal(Buffer.from(att.data.subarray(0, 8)).toString('latin1'), '\x89PNG\r\n\x1a\n');
  assert.equal(Buffer.from(att.data.subarray(att.data.length - 8, att.data.length - 4)).toString(), 'IEND');
  assert.equal(att.complete, true);
  assert.equal(att.sha256.length, 64);

  if (hasTshark) {
    const r = spawnSync(
      'tshark',
      ['-r', file, '-n', '-Y', 'smtp.req.command', '-T', 'fields', '-e', 'smtp.req.command'],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const cmds = r.stdout.split(/[\n,]/).filter((l) => l !== '');
    assert.deepEqual(cmds, ['EHLO', 'MAIL', 'RCPT', 'BDAT', 'QUIT']);
    assert.equal(conn.commandCount, cmds.length);
  }
});
