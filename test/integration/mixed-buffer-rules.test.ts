/**
 * Packet payload matches in HTTP rules (ET Open's `content:"../"; depth:200; http.uri; ...`, 336
 * of its rules; 230 of the Snort 3 community rules): Suricata inspects those contents on the raw
 * stream of the rule's direction; Vigil on the message rebuilt from the transaction (start line,
 * headers, blank line, body). `vigil rules check` counts what `vigil analyze` loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';
import { httpPcap } from '../helpers/http-pcap.js';

const RULES = [
  // The raw URI holds "../", the normalised one does not: the payload match sees the raw request.
  'alert http any any -> any any (msg:"raw traversal"; flow:established,to_server; content:"../"; depth:200; http.uri; content:"/lib/lcUser.php"; nocase; sid:1;)',
  // Request body bytes, in a payload match of a rule with a method match.
  'alert http any any -> any any (msg:"body"; flow:to_server; content:"secret=1"; http.method; content:"POST"; sid:2;)',
  // Not in the request: no alert.
  'alert http any any -> any any (msg:"absent"; flow:to_server; content:"nowhere-to-be-found"; http.uri; content:"/lib"; sid:3;)',
  // depth counts from the start of the message: the header name lies past byte 10.
  'alert http any any -> any any (msg:"depth"; flow:to_server; content:"User-Agent"; depth:10; http.method; content:"GET"; sid:4;)',
  // The response side: status line and headers of the response.
  'alert http any any -> any any (msg:"response"; flow:established,to_client; content:"HTTP/1.1 200"; depth:12; content:"X-Powered-By|3a| PHP"; http.stat_code; content:"200"; sid:5;)',
  // Explicit fast pattern on the payload content: prefiltered on the rebuilt message.
  'alert http any any -> any any (msg:"fast payload"; flow:to_server; content:"Agent|3a| probe"; fast_pattern; http.method; content:"GET"; sid:6;)',
  // Header buffers and other protocols have no rebuilt view: still skipped with the reason.
  'alert tls any any -> any any (msg:"tls mixed"; content:"|16 03|"; tls.sni; content:"x"; sid:7;)',
  'alert http any any -> any any (msg:"hdr mixed"; tcp.hdr; content:"|50|"; http.method; content:"GET"; sid:8;)',
];

test('payload contents in HTTP rules match the rebuilt message of their direction', async () => {
  const dir = tempDir();
  const pcap = path.join(dir, 'http.pcap');
  const exchanges = [
    {
      request: Buffer.from(
        'GET /cal/../lib/lcUser.php?LIBDIR=x HTTP/1.1\r\nHost: a.example\r\nUser-Agent: probe\r\n\r\n',
      ),
      response: Buffer.from('HTTP/1.1 200 OK\r\nX-Powered-By: PHP/5.2\r\nContent-Length: 2\r\n\r\nok'),
    },
    {
      request: Buffer.from('POST /form HTTP/1.1\r\nHost: a.example\r\nContent-Length: 17\r\n\r\nuser=a&secret=1&x'),
      response: Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'),
    },
  ];
  // Segments of 20 bytes: the matches span TCP segments, which the rebuilt message joins.
  fs.writeFileSync(pcap, httpPcap(exchanges, 20));
  const rules = path.join(dir, 'test.rules');
  fs.writeFileSync(rules, RULES.join('\n') + '\n');
  const eve = path.join(dir, 'eve.json');
  const r = await runCli(['analyze', pcap, '--no-builtin-rules', '--no-ml', '--rules', rules, '--eve', eve, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { rules: { loaded: number; skipped: number } };
  assert.deepEqual(summary.rules, { loaded: 6, skipped: 2 });
  assert.match(r.stderr, /test\.rules:7: rule skipped: packet and transaction buffers in one rule/);
  assert.match(r.stderr, /test\.rules:8: rule skipped: packet and transaction buffers in one rule/);
  const alerts = fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"alert"'))
    .map((l) => JSON.parse(l) as { alert: { signature_id: number }; direction: string; http?: { url?: string } });
  const got = alerts.map((a) => `${a.alert.signature_id} ${a.direction} ${a.http?.url ?? ''}`).sort();
  assert.deepEqual(got, [
    '1 to_server /cal/../lib/lcUser.php?LIBDIR=x',
    '2 to_server /form',
    '5 to_client /cal/../lib/lcUser.php?LIBDIR=x',
    '6 to_server /cal/../lib/lcUser.php?LIBDIR=x',
  ]);

  // vigil rules check reports the same load as analyze.
  const check = await runCli(['rules', 'check', rules, '--json']);
  assert.equal(check.code, 0, check.stderr);
  assert.deepEqual(JSON.parse(check.stdout), {
    loaded: 6,
    skipped: 2,
    skipped_by_reason: { 'packet and transaction buffers in one rule': 2 },
  });
});
