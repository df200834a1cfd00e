/**
 * `file.data` in SMTP rules (`alert smtp`, or Snort 3's `service:smtp` with `file_data`: 64 of the
 * Snort 3 community rules): inspected on each attachment's decoded bytes, as Suricata's SMTP
 * files; the alert carries the mail's `smtp` and `email` objects. A rule for any protocol
 * (`alert tcp ... file.data`) or for HTTP and SMTP sees the attachments too; an HTTP rule does not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES_DIR, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';

const PCAP = path.join(FIXTURES_DIR, 'applayer', 'smtp-bdat-attachment.pcap');

const RULES = [
  'alert smtp any any -> any any (msg:"PNG attachment"; flow:to_server,established; file.data; content:"|89|PNG|0d 0a|"; depth:6; sid:1;)',
  // Snort 3 syntax: comma modifiers, file_data, service:smtp on a tcp rule.
  'alert tcp any any -> any 25 (msg:"PNG attachment, Snort 3"; flow:to_server,established; file_data; content:"IHDR",depth 16; service:smtp; sid:2;)',
  // Not at the attachment's start: no alert.
  'alert smtp any any -> any any (msg:"GIF attachment"; flow:to_server; file.data; content:"GIF89a"; depth:6; sid:3;)',
  // The message's text, not an attachment: file.data does not hold it.
  'alert smtp any any -> any any (msg:"subject text"; flow:to_server; file.data; content:"Zeek Logo"; sid:4;)',
  // file.data in a rule for any protocol, or for HTTP and SMTP: attachments too (the PNG's end).
  'alert tcp any any -> any any (msg:"any protocol"; flow:to_server; file.data; content:"IEND"; sid:5;)',
  'alert tcp any any -> any any (msg:"Snort 3 services"; file_data; content:"|89|PNG",depth 4; service:ftp-data,http,smtp; sid:6;)',
  // An HTTP rule: HTTP bodies only.
  'alert http any any -> any any (msg:"http only"; file.data; content:"|89|PNG"; depth:4; sid:7;)',
  // To the client: no mail goes there.
  'alert tcp any any -> any any (msg:"to client"; flow:to_client; file.data; content:"|89|PNG"; depth:4; sid:8;)',
];

test('file.data in SMTP rules matches the attachments of a mail', async () => {
  const dir = tempDir();
  const rules = path.join(dir, 'smtp.rules');
  fs.writeFileSync(rules, RULES.join('\n') + '\n');
  const eve = path.join(dir, 'eve.json');
  const r = await runCli(['analyze', PCAP, '--no-builtin-rules', '--no-ml', '--rules', rules, '--eve', eve, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { rules: unknown }).rules, { loaded: 8, skipped: 0 });
  const alerts = fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"alert"'))
    .map(
      (l) =>
        JSON.parse(l) as {
          app_proto: string;
          direction: string;
          alert: { signature_id: number };
          smtp?: { helo?: string };
          email?: { attachment?: string[] };
        },
    );
  assert.deepEqual(
    alerts.map((a) => a.alert.signature_id).sort((x, y) => x - y),
    [1, 2, 5, 6],
  );
  for (const a of alerts) {
    assert.equal(a.app_proto, 'smtp');
    assert.equal(a.direction, 'to_server');
    assert.equal(a.smtp?.helo, 'localhost');
    assert.deepEqual(a.email?.attachment, ['zeek-logo.png']);
  }
});
