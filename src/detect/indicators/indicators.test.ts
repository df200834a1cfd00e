import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IndicatorError, domainMatch, loadIndicatorList, parseIndicatorText } from './lists.js';
import { IndicatorMatcher } from './matcher.js';
import type { AlertRecord } from '../engine/detector.js';
import type { AppRecord } from '../../applayer/app-layer.js';
import { HttpTransaction } from '../../applayer/http/parser.js';
import { synthBatch } from '../../flow/synth.js';

const MD5 = 'e4d909c290d0fb1ca068ffaddf22cbd0';
const SHA256 = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f';

test('list lines are typed by form; iprep and dataset formats; junk is reported, not fatal', () => {
  const l = parseIndicatorText(
    [
      '# comment',
      '198.51.100.7',
      '203.0.113.0/24,1,120',
      '2001:db8::/32',
      'Evil.Example.',
      '*.bad.test',
      'http://cdn.bad2.test/payload/x.bin',
      'files.bad3.test/drop',
      MD5,
      SHA256,
      't13d1516h2_8daaf6152771_b186095e22b6',
      Buffer.from('dataset.bad4.test').toString('base64'),
      'not a thing',
      '10.0.0.0/40',
      '',
    ].join('\n'),
    'test.lst',
    'malware',
  );
  assert.equal(l.entries, 11);
  assert.equal(l.rejectedCount, 2);
  assert.deepEqual(
    l.rejected.map((r) => r.line),
    [13, 14],
  );
  assert.equal(l.ips.size, 3);
  assert.deepEqual([...l.domains].sort(), ['bad.test', 'dataset.bad4.test', 'evil.example']);
  assert.deepEqual(l.urls.get('cdn.bad2.test'), ['/payload/x.bin']);
  assert.deepEqual(l.urls.get('files.bad3.test'), ['/drop']);
  assert.ok(l.md5s.has(MD5) && l.hashes.has(SHA256) && l.ja4.has('t13d1516h2_8daaf6152771_b186095e22b6'));
});

test('domains match themselves and their subdomains only', () => {
  const d = new Set(['evil.example']);
  assert.equal(domainMatch(d, 'evil.example'), 'evil.example');
  assert.equal(domainMatch(d, 'a.b.EVIL.example.'), 'evil.example');
  assert.equal(domainMatch(d, 'notevil.example'), null);
  assert.equal(domainMatch(d, 'example'), null);
});

test('an unreadable list is an IndicatorError with the path', () => {
  assert.throws(
    () => loadIndicatorList('/nonexistent/x.lst'),
    (e: unknown) => {
      return e instanceof IndicatorError && e.message.includes('/nonexistent/x.lst');
    },
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ioc-'));
  const f = path.join(dir, 'p.lst');
  fs.writeFileSync(f, 'policy.example\n');
  const l = loadIndicatorList(`policy:${f}`);
  assert.equal(l.kind, 'policy');
  assert.equal(l.name, 'p.lst');
  fs.rmSync(dir, { recursive: true });
});

const flow = { flowId: 7, srcIp: '10.0.0.5', dstIp: '198.51.100.7', srcPort: 40000, dstPort: 80, proto: 6 };

function httpRecord(host: string, uri: string, body?: Buffer): AppRecord {
  const tx = new HttpTransaction(0);
  tx.host = host;
  tx.uri = uri;
  if (body !== undefined) {
    tx.responseBody = body;
    tx.responseComplete = true;
  }
  return { kind: 'http', slot: 0, tsUs: 5, flow, tx };
}

test('matcher: flows once per flow, HTTP host/URL/file hash, DNS queries, TLS fingerprints', () => {
  const alerts: AlertRecord[] = [];
  const list = parseIndicatorText(
    ['198.51.100.7', 'evil.example', 'http://cdn.bad.test/drop', 'e0b7b5f3d8a6b2f5b0d4d6f2b5b7a3c1', SHA256].join('\n'),
    'feed.lst',
    'malware',
  );
  const m = new IndicatorMatcher([list], 16, (a) => alerts.push(a));
  const { pkts, dec } = synthBatch([
    { ts: 1, src: '10.0.0.5', dst: '198.51.100.7', sport: 40000, dport: 80 },
    { ts: 2, src: '198.51.100.7', dst: '10.0.0.5', sport: 80, dport: 40000 },
    { ts: 3, src: '10.0.0.5', dst: '192.0.2.1', sport: 40001, dport: 80 },
  ]);
  dec.flowSlot[0] = 1;
  dec.flowSlot[1] = 1;
  dec.flowSlot[2] = 2;
  m.packets(pkts, dec);
  assert.equal(alerts.length, 1, 'one alert per flow, none for the unlisted address');
  const a = alerts[0]!;
  assert.equal(a.dstIp, '198.51.100.7');
  assert.ok(a.metadata.includes('indicator_list feed.lst'));
  assert.ok(a.metadata.includes('vigil_type malware'));
  assert.ok(a.metadata.includes('matched_on ip'));
  m.flowEnd({ slot: 1 } as never);
  m.packets(pkts, dec);
  assert.equal(alerts.length, 2, 'a reused slot is checked again');

  alerts.length = 0;
  m.app(httpRecord('www.EVIL.example', '/'));
  m.app(httpRecord('cdn.bad.test', '/drop/file.exe'));
  m.app(httpRecord('cdn.bad.test', '/fine'));
  m.app(
    httpRecord('ok.test', '/x', Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*')),
  );
  assert.deepEqual(
    alerts.map((x) => x.metadata.find((s) => s.startsWith('matched_on '))),
    ['matched_on http_host', 'matched_on url', 'matched_on file'],
  );
  assert.ok(alerts[0]!.metadata.includes('observed www.EVIL.example'.toLowerCase()));

  alerts.length = 0;
  const dnsQ = {
    kind: 'dns',
    slot: 0,
    tsUs: 9,
    flow,
    txId: 0,
    msg: { flags: { qr: false }, questions: [{ name: 'x.evil.example' }, { name: 'fine.test' }] },
  } as unknown as AppRecord;
  m.app(dnsQ);
  m.app({ ...dnsQ, msg: { flags: { qr: true }, questions: [{ name: 'x.evil.example' }] } } as unknown as AppRecord);
  assert.equal(alerts.length, 1, 'queries only');
  const tls = {
    kind: 'tls',
    slot: 0,
    tsUs: 9,
    flow,
    info: { sni: 'safe.test', ja3Hash: 'e0b7b5f3d8a6b2f5b0d4d6f2b5b7a3c1', ja3sHash: '', ja4: '' },
  } as unknown as AppRecord;
  m.app(tls);
  assert.equal(alerts.length, 2);
  assert.ok(alerts[1]!.metadata.includes('matched_on ja3'));
});
