/**
 * Issue 4 (suricata-verify acceptance): alert fields Suricata writes that Vigil left out.
 * - A transaction alert on a VLAN flow carries `vlan` like packet alerts do, and so do the flow's
 *   app-layer records (suricata-verify bug-814 checks `vlan[0]` on the HTTP alert and event).
 * - `verdict: yes` under eve-log's alert type adds `verdict.action` (bug-8021-alert-max-verdict-01).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';
import { httpPcap } from '../helpers/http-pcap.js';

/** Insert an 802.1Q tag with VLAN id `vid` into every Ethernet frame of a classic pcap. */
function withVlan(pcap: Buffer, vid: number): Buffer {
  const parts: Buffer[] = [pcap.subarray(0, 24)];
  let o = 24;
  // Bounded by the capture's size: each record advances o by at least 16 bytes.
  while (o + 16 <= pcap.length) {
    const len = pcap.readUInt32LE(o + 8);
    const frame = pcap.subarray(o + 16, o + 16 + len);
    const tag = Buffer.from([0x81, 0x00, (vid >> 8) & 0x0f, vid & 0xff]);
    const rec = Buffer.from(pcap.subarray(o, o + 16));
    rec.writeUInt32LE(len + 4, 8);
    rec.writeUInt32LE(len + 4, 12);
    parts.push(rec, frame.subarray(0, 12), tag, frame.subarray(12));
    o += 16 + len;
  }
  return Buffer.concat(parts);
}

interface EveAlert {
  event_type: string;
  pcap_cnt: number;
  direction: string;
  flow: Record<string, number>;
  vlan?: number[];
  verdict?: { action: string };
  alert: { signature_id: number };
}

function eveAlerts(file: string): EveAlert[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"alert"'))
    .map((l) => JSON.parse(l) as EveAlert);
}

/** `vigil analyze` of the capture with only `rules` (no built-in rules, no ML); the EVE file. */
async function analyzeEve(capture: Buffer, rules: readonly string[]): Promise<string> {
  const dir = tempDir();
  const pcap = path.join(dir, 'test.pcap');
  fs.writeFileSync(pcap, capture);
  const file = path.join(dir, 'test.rules');
  fs.writeFileSync(file, rules.join('\n') + '\n');
  const eve = path.join(dir, 'eve.json');
  const r = await runCli(['analyze', pcap, '--no-builtin-rules', '--no-ml', '--rules', file, '--eve', eve]);
  assert.equal(r.code, 0, r.stderr);
  return eve;
}

test('transaction and packet alerts on a VLAN flow carry vlan; verdict is written when configured', async () => {
  const dir = tempDir();
  const pcap = path.join(dir, 'vlan-http.pcap');
  const request = Buffer.from('GET /cgi-bin/x.exe HTTP/1.1\r\nHost: a.example\r\n\r\n');
  const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  fs.writeFileSync(pcap, withVlan(httpPcap([{ request, response }]), 1111));
  const rules = path.join(dir, 'test.rules');
  fs.writeFileSync(
    rules,
    [
      'alert http any any -> any any (msg:"tx"; content:"GET"; http_method; sid:1;)',
      'alert tcp any any -> any any (msg:"pkt"; content:"x.exe"; sid:2;)',
    ].join('\n') + '\n',
  );
  const yaml = path.join(dir, 'suricata.yaml');
  fs.writeFileSync(
    yaml,
    '%YAML 1.1\n---\noutputs:\n  - eve-log:\n      types:\n        - alert:\n            verdict: yes\n',
  );
  const run = async (extra: string[]): Promise<EveAlert[]> => {
    const eve = path.join(dir, `eve-${extra.length}.json`);
    const r = await runCli([
      'analyze',
      pcap,
      '--no-builtin-rules',
      '--no-ml',
      '--rules',
      rules,
      '--eve',
      eve,
      ...extra,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return eveAlerts(eve);
  };
  const plain = await run([]);
  assert.deepEqual(plain.map((a) => a.alert.signature_id).sort(), [1, 2]);
  for (const a of plain) {
    assert.deepEqual(a.vlan, [1111], `sid ${a.alert.signature_id}`);
    assert.equal(a.verdict, undefined);
  }
  // The app-layer and flow records of the flow carry it too, as Suricata's common EVE header does.
  const others = fs
    .readFileSync(path.join(dir, 'eve-0.json'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { event_type: string; vlan?: number[] })
    .filter((e) => e.event_type === 'http' || e.event_type === 'flow');
  assert.deepEqual(others.map((e) => e.event_type).sort(), ['flow', 'http']);
  for (const e of others) assert.deepEqual(e.vlan, [1111], e.event_type);
  const withVerdict = await run(['-c', yaml]);
  assert.equal(withVerdict.length, 2);
  for (const a of withVerdict) assert.deepEqual(a.verdict, { action: 'alert' });
});

test('a protocol-only rule matches from the packet that acknowledges the data the protocol was found in', async () => {
  const request = Buffer.from('GET / HTTP/1.1\r\nHost: a.example\r\n\r\n');
  const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  // 1 SYN, 2 SYN/ACK, 3 ACK, 4 request, 5 server ACK, 6 response, 7 ACK, 8 FIN, 9 FIN, 10 ACK.
  const alerts = eveAlerts(
    await analyzeEve(httpPcap([{ request, response }]), [
      'alert http any any -> any any (msg:"to server"; flow:to_server; sid:1;)',
      'alert http any any -> any any (msg:"to client"; flow:to_client; sid:2;)',
    ]),
  );
  const at = (sid: number): number[] => alerts.filter((a) => a.alert.signature_id === sid).map((a) => a.pcap_cnt);
  // The request (4) is known to detection once the server acknowledges it (5), as in Suricata.
  assert.deepEqual(at(1), [7, 8, 10]);
  assert.deepEqual(at(2), [5, 6, 9]);
});

test('alert flow counters are those of the alerting packet, not of the end of its batch', async () => {
  const request = Buffer.from('GET /counted HTTP/1.1\r\nHost: a.example\r\n\r\n');
  const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const alerts = eveAlerts(
    await analyzeEve(httpPcap([{ request, response }]), [
      'alert tcp any any -> any any (msg:"request"; content:"/counted"; sid:1;)',
    ]),
  );
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  // Packet 4 is the request: SYN, ACK and the request to the server, the SYN/ACK to the client.
  assert.equal(a.pcap_cnt, 4);
  assert.equal(a.flow['pkts_toserver'], 3);
  assert.equal(a.flow['pkts_toclient'], 1);
  assert.equal(a.flow['bytes_toserver'], 54 + 54 + 54 + request.length);
  assert.equal(a.flow['bytes_toclient'], 54);
});

test('transaction sides are inspected on the packets Suricata inspects them on (after the acknowledgement)', async () => {
  const request = Buffer.from('GET /tx HTTP/1.1\r\nHost: a.example\r\n\r\n');
  const response = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  // 1 SYN, 2 SYN/ACK, 3 ACK, 4 request, 5 server ACK, 6 response, 7 ACK, 8 FIN, 9 FIN, 10 ACK.
  const alerts = eveAlerts(
    await analyzeEve(httpPcap([{ request, response }]), [
      'alert http any any -> any any (msg:"request"; http.method; content:"GET"; sid:1;)',
      'alert http any any -> any any (msg:"response"; http.stat_code; content:"200"; sid:2;)',
    ]),
  );
  const at = (sid: number): [number, string][] =>
    alerts.filter((a) => a.alert.signature_id === sid).map((a) => [a.pcap_cnt, a.direction]);
  // To-server side: on the first to-server packet after the server acknowledged the data (7);
  // to-client side: on the first to-client packet after the client acknowledged the response (9).
  assert.deepEqual(at(1), [[7, 'to_server']]);
  assert.deepEqual(at(2), [[9, 'to_client']]);
});

test('a transaction alert raised as its flow ends marks the flow record alerted', async () => {
  // The request alone, never acknowledged: its transaction is inspected when the flow ends.
  const request = Buffer.from('GET /late HTTP/1.1\r\nHost: a.example\r\n\r\n');
  const full = httpPcap([{ request, response: Buffer.alloc(0) }]);
  // Keep the pcap header and the first four records: SYN, SYN/ACK, ACK, request.
  let o = 24;
  for (let k = 0; k < 4; k++) o += 16 + full.readUInt32LE(o + 8);
  const eve = await analyzeEve(full.subarray(0, o), [
    'alert http any any -> any any (msg:"late"; http.uri; content:"/late"; sid:1;)',
  ]);
  const evs = fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { event_type: string; flow?: { alerted?: boolean } });
  assert.equal(evs.filter((e) => e.event_type === 'alert').length, 1);
  const flows = evs.filter((e) => e.event_type === 'flow');
  assert.equal(flows.length, 1);
  assert.equal(flows[0]!.flow?.alerted, true);
});

test('an HTTP request is inspected once complete, while its response is still coming', async () => {
  const request = Buffer.from('GET /early/check HTTP/1.1\r\nHost: a.example\r\n\r\n');
  // The response announces more body than it sends: the transaction never ends in the capture.
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n';
  const response = Buffer.concat([Buffer.from(head), Buffer.alloc(3000, 0x61)]);
  // 1 SYN, 2 SYN/ACK, 3 ACK, 4 request, 5 server ACK, 6-8 response, 9 ACK, 10 FIN, 11 FIN, 12 ACK.
  const eve = await analyzeEve(httpPcap([{ request, response }]), [
    'alert http any any -> any any (msg:"uri"; http.uri; content:"/early/"; sid:1;)',
    'alert http any any -> any any (msg:"status"; http.stat_code; content:"200"; sid:2;)',
  ]);
  const lines = fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"alert"'))
    .map((l) => JSON.parse(l) as EveAlert & { http: { status?: number; length: number } });
  const uri = lines.filter((a) => a.alert.signature_id === 1);
  assert.equal(uri.length, 1);
  // The first to-server packet after the server acknowledged the request, with the response so far.
  assert.equal(uri[0]!.pcap_cnt, 9);
  assert.equal(uri[0]!.http.status, 200);
  assert.equal(uri[0]!.http.length, 3000);
  // The response side is inspected when the (unfinished) transaction is handed over, once.
  assert.equal(lines.filter((a) => a.alert.signature_id === 2).length, 1);
});
