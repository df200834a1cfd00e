/**
 * Indicator lists, datasets and IP reputation through the CLI on a real capture (tr-c2.pcap:
 * HTTP beacons to one host by name and to a second by address). Alerts are checked against the
 * EVE http/flow records of the same run: one per listed transaction or flow, none elsewhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';

const pcap = path.join(SHARED_DIR, 'corpus', 'tr-c2.pcap');
const have = fs.existsSync(pcap);

interface Eve {
  event_type: string;
  flow_id?: number;
  dest_ip?: string;
  http?: { hostname?: string; http_user_agent?: string };
  alert?: { signature_id: number; metadata?: Record<string, string[]> };
}

const read = (f: string): Eve[] =>
  fs
    .readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Eve);

/** The most frequent HTTP hostname and the destination of the other HTTP flows, from a plain run. */
async function survey(dir: string): Promise<{ host: string; otherIp: string; events: Eve[] }> {
  const eve = path.join(dir, 'plain.json');
  const r = await runCli(['analyze', pcap, '--eve', eve, '--no-builtin-rules', '--set', 'behavior.enabled=no']);
  assert.equal(r.code, 0, r.stderr);
  const events = read(eve);
  const http = events.filter((e) => e.event_type === 'http');
  const hosts = new Map<string, number>();
  for (const e of http) hosts.set(e.http?.hostname ?? '', (hosts.get(e.http?.hostname ?? '') ?? 0) + 1);
  const host = [...hosts].sort((a, b) => b[1] - a[1])[0]![0];
  const other = http.find((e) => e.http?.hostname !== host)!;
  return { host, otherIp: other.dest_ip!, events };
}

test(
  'indicator lists: a listed host and a listed address alert once per transaction / flow',
  { skip: !have },
  async () => {
    const dir = tempDir();
    const { host, otherIp, events } = await survey(dir);
    const list = path.join(dir, 'feed.lst');
    fs.writeFileSync(list, `# feed\n${host}\n${otherIp}\nnot an indicator\n`);
    const eve = path.join(dir, 'eve.json');
    const r = await runCli(['analyze', pcap, '--eve', eve, '--json', '--indicators', list, '--no-builtin-rules']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 lines are not an IP/);
    const alerts = read(eve).filter((e) => e.event_type === 'alert' && e.alert!.signature_id >= 9300000);
    const byOn = (on: string): Eve[] => alerts.filter((a) => a.alert!.metadata!['matched_on']![0] === on);
    const hostTx = events.filter((e) => e.event_type === 'http' && e.http?.hostname === host).length;
    const ipFlows = events.filter((e) => e.event_type === 'flow' && e.dest_ip === otherIp).length;
    assert.ok(hostTx > 0 && ipFlows > 0);
    assert.equal(byOn('http_host').length, hostTx);
    assert.equal(byOn('ip').length, ipFlows);
    for (const a of alerts) {
      assert.deepEqual(a.alert!.metadata!['indicator_list'], ['feed.lst']);
      assert.deepEqual(a.alert!.metadata!['vigil_type'], ['malware']);
    }
    const bad = await runCli(['analyze', pcap, '--indicators', path.join(dir, 'missing.lst')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /cannot read indicator list .*missing\.lst/);
  },
);

test('dataset and iprep rule keywords', { skip: !have }, async () => {
  const dir = tempDir();
  const { host, otherIp, events } = await survey(dir);
  fs.writeFileSync(path.join(dir, 'hosts.lst'), Buffer.from(host).toString('base64') + '\n');
  fs.writeFileSync(path.join(dir, 'cat.txt'), '1,CnC,Command and control\n2,Spam,Spammer\n');
  fs.writeFileSync(path.join(dir, 'rep.list'), `${otherIp},1,100\n192.0.2.0/24,1,10\n`);
  const rules = path.join(dir, 'intel.rules');
  fs.writeFileSync(
    rules,
    [
      'alert http any any -> any any (msg:"listed host"; flow:to_server; http.host; dataset:isset,hosts,type string,load hosts.lst; sid:1; rev:1;)',
      'alert http any any -> any any (msg:"new UA"; flow:to_server; http.user_agent; dataset:set,ua-seen,type string; sid:2; rev:1;)',
      'alert ip any any -> any any (msg:"bad rep"; iprep:dst,CnC,>,50; sid:3; rev:1;)',
      'alert ip any any -> any any (msg:"spam rep"; iprep:any,Spam,>,0; sid:4; rev:1;)',
      'alert ip any any -> any any (msg:"bad category"; iprep:dst,Nope,>,0; sid:5; rev:1;)',
    ].join('\n') + '\n',
  );
  const eve = path.join(dir, 'eve.json');
  // One worker: runtime `set` state is per pipeline worker (documented in docs/indicators.md).
  const args = ['analyze', pcap, '--eve', eve, '--json', '--no-builtin-rules', '--rules', rules, '--workers', '1'];
  const r = await runCli([
    ...args,
    '--set',
    `reputation-categories-file=${path.join(dir, 'cat.txt')}`,
    '--set',
    `reputation-files=${path.join(dir, 'rep.list')}`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /unknown category "Nope"/);
  const alerts = read(eve).filter((e) => e.event_type === 'alert');
  const sid = (n: number): Eve[] => alerts.filter((a) => a.alert!.signature_id === n);
  assert.equal(sid(1).length, events.filter((e) => e.event_type === 'http' && e.http?.hostname === host).length);
  const uas = new Set(events.filter((e) => e.event_type === 'http').map((e) => e.http?.http_user_agent));
  assert.equal(sid(2).length, uas.size, 'set matches once per new value');
  // IP-only: once per flow direction that has the listed destination.
  assert.equal(sid(3).length, events.filter((e) => e.event_type === 'flow' && e.dest_ip === otherIp).length);
  assert.equal(sid(4).length, 0);
  // Without reputation data an iprep rule is skipped with its reason.
  const r2 = await runCli(args);
  assert.equal(r2.code, 0);
  assert.match(r2.stderr, /iprep: no IP reputation data loaded/);
});
