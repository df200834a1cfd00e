/** `vigil analyze` as a user runs it: exit codes, errors, options, and 1 vs 2 workers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/reference.js';
import type { AnalyzeSummary as Summary } from '../../src/cli/analyze.js';

const PORT_SCAN = path.join(SHARED_DIR, 'corpus', 'port_scan.pcap');
const BRUTE = path.join(SHARED_DIR, 'corpus', 'brute_force.pcap');
const dir = tempDir();

async function summary(args: string[]): Promise<Summary> {
  const r = await runCli(['analyze', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Summary;
}

test('--json prints the summary object DESIGN.md specifies', async () => {
  const s = await summary([PORT_SCAN]);
  for (const k of ['packets', 'bytes', 'flows', 'alerts', 'alerts_by_type', 'duration_s', 'packets_per_s', 'errors']) {
    assert.ok(k in s, `missing ${k}`);
  }
  assert.ok(s.packets > 0 && s.bytes > s.packets && s.flows > 0);
  assert.deepEqual(s.errors, []);
  assert.ok(s.protocols['tcp']! > 0);
  assert.equal(s.top_talkers[0]!.ip.startsWith('10.66.0.'), true);
  assert.equal(typeof s.decoder_events, 'object');
});

test('a missing or non-capture file exits non-zero with a one-line reason', async () => {
  const missing = await runCli(['analyze', '--json', path.join(dir, 'nope.pcap')]);
  assert.notEqual(missing.code, 0);
  assert.equal(missing.stdout, '');
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /nope\.pcap/);

  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'this is not a capture file\n');
  const bad = await runCli(['analyze', text]);
  assert.notEqual(bad.code, 0);
  assert.equal(bad.stderr.trim().split('\n').length, 1);

  const empty = path.join(dir, 'empty.pcap');
  fs.writeFileSync(empty, '');
  assert.notEqual((await runCli(['analyze', empty])).code, 0);
});

test('a truncated capture is analysed as far as readable and the problem reported', async () => {
  const whole = await summary(['--workers', '1', BRUTE]);
  const bytes = fs.readFileSync(BRUTE);
  const cut = path.join(dir, 'cut.pcap');
  // Cut in the middle of a record, a little past half of the file.
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.55)));
  const s = await summary(['--workers', '1', cut]);
  assert.ok(s.packets > 0 && s.packets < whole.packets);
  assert.equal(s.errors.length, 1);
  assert.ok(s.errors[0]!.offset > 24 && s.errors[0]!.offset <= bytes.length * 0.55);
  assert.match(s.errors[0]!.reason, /trunc/i);
});

test('--max-packets stops after N packets', async () => {
  const s = await summary(['--max-packets', '100', PORT_SCAN]);
  assert.equal(s.packets, 100);
  const s2 = await summary(['--max-packets', '100', '--workers', '2', PORT_SCAN]);
  assert.equal(s2.packets, 100);
});

test('1 and 2 workers give the same packets, protocols, flows and EVE flow records', async () => {
  const eve1 = path.join(dir, 'w1.json');
  const eve2 = path.join(dir, 'w2.json');
  const a = await summary(['--workers', '1', '--eve', eve1, BRUTE]);
  const b = await summary(['--workers', '2', '--eve', eve2, BRUTE]);
  assert.equal(b.packets, a.packets);
  assert.equal(b.bytes, a.bytes);
  assert.equal(b.flows, a.flows);
  assert.deepEqual(b.protocols, a.protocols);
  const flows = (f: string): string[] =>
    fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"event_type":"flow"'))
      .map((l) => {
        const e = JSON.parse(l) as Record<string, unknown>;
        delete e['flow_id']; // ids are per worker
        return JSON.stringify(e);
      })
      .sort();
  assert.deepEqual(flows(eve2), flows(eve1));
});

test('2 workers reading the file themselves: same signature alerts with the same pcap_cnt, and a truncated capture reported once', async () => {
  // Each worker reads the whole capture and keeps its IP pairs' packets; alerts carry the packet's
  // number in the capture, as with one worker (Suricata's pcap_cnt).
  const mixed = path.join(SHARED_DIR, 'corpus', 'mixed.pcap');
  const sig = (f: string): string[] =>
    fs
      .readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"event_type":"alert"'))
      .map((l) => JSON.parse(l) as { pcap_cnt: number; alert: { signature_id: number; category: string } })
      // Signature alerts, the built-in rules' sids 9100000-9199999 (behaviour and model alerts
      // depend on what each worker's detectors see).
      .filter((e) => e.alert.signature_id >= 9_100_000 && e.alert.signature_id < 9_200_000)
      .map((e) => `${e.alert.signature_id}@${e.pcap_cnt}`)
      .sort();
  const eve1 = path.join(dir, 'm1.json');
  const eve2 = path.join(dir, 'm2.json');
  const a = await summary(['--workers', '1', '--eve', eve1, mixed]);
  const b = await summary(['--workers', '2', '--eve', eve2, mixed]);
  assert.equal(b.packets, a.packets);
  const s1 = sig(eve1);
  assert.ok(s1.length > 0);
  assert.deepEqual(sig(eve2), s1);

  const bytes = fs.readFileSync(BRUTE);
  const cut = path.join(dir, 'cut2.pcap');
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.55)));
  const one = await summary(['--workers', '1', cut]);
  const two = await summary(['--workers', '2', cut]);
  assert.equal(two.packets, one.packets);
  assert.deepEqual(two.errors, one.errors);
  assert.equal(two.errors.length, 1);
  assert.equal((await summary(['--workers', '2', '--max-packets', '250', BRUTE])).packets, 250);
});

test('usage errors: bad -k, bad --workers, bad --set; unknown keys only warn', async () => {
  assert.equal((await runCli(['analyze', '-k', 'maybe', PORT_SCAN])).code, 2);
  assert.equal((await runCli(['analyze', '--workers', '0', PORT_SCAN])).code, 2);
  assert.equal((await runCli(['analyze', '--set', 'novalue', PORT_SCAN])).code, 2);
  assert.equal((await runCli(['analyze', '--set', 'flow-timeouts.tcp.new=soon', PORT_SCAN])).code, 2);
  const r = await runCli(['analyze', '--json', '--set', 'no.such.key=1', '--runmode', 'autofp', PORT_SCAN]);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /no\.such\.key/);
  assert.match(r.stderr, /runmode/);
});

test('-c reads the supported parts of a suricata.yaml; -k all turns on checksum validation', async () => {
  const yaml = path.join(dir, 'suricata.yaml');
  fs.writeFileSync(
    yaml,
    [
      '%YAML 1.1',
      '---',
      'vars:',
      '  address-groups:',
      '    HOME_NET: "[10.66.0.0/16]"',
      'flow-timeouts:',
      '  udp:',
      '    new: 5',
      'stream:',
      '  midstream: yes',
      '',
    ].join('\n'),
  );
  const r = await runCli(['config', '-c', yaml, '-k', 'all']);
  assert.equal(r.code, 0, r.stderr);
  const cfg = JSON.parse(r.stdout) as {
    checksumValidation: boolean;
    vars: { addressGroups: Record<string, string> };
    flow: { timeouts: { udp: { new: number } } };
    stream: { midstream: boolean };
  };
  assert.equal(cfg.checksumValidation, true);
  assert.equal(cfg.vars.addressGroups['HOME_NET'], '[10.66.0.0/16]');
  assert.equal(cfg.flow.timeouts.udp.new, 5);
  assert.equal(cfg.stream.midstream, true);
  // A shorter UDP timeout can only split UDP conversations into more flows.
  const base = await summary([PORT_SCAN]);
  const short = await summary(['-c', yaml, PORT_SCAN]);
  assert.ok(short.flows >= base.flows);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('2 workers: the ruleset is loaded by the workers, its skipped rules reported once, unreadable rule files refused as with 1', async () => {
  // The main thread no longer compiles the ruleset when workers do: the summary's counts and the
  // warnings come from worker 0's load, and must read as with one worker.
  const rules = path.join(dir, 'load.rules');
  fs.writeFileSync(
    rules,
    [
      'alert tcp any any -> any 22 (msg:"ssh"; flow:to_server; content:"SSH-"; sid:1;)',
      'alert tcp any any -> any any (msg:"bad"; nosuchkeyword; sid:2;)',
      'alert udp any any -> any 53 (msg:"dns"; content:"|01 00|"; sid:3;)',
    ].join('\n') + '\n',
  );
  const out: { rules: Summary['rules']; alerts: number; warnings: string[] }[] = [];
  for (const w of ['1', '2']) {
    const r = await runCli([
      'analyze',
      '--json',
      '--workers',
      w,
      '--no-builtin-rules',
      '--no-ml',
      '--rules',
      rules,
      BRUTE,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Summary;
    out.push({ rules: s.rules, alerts: s.alerts, warnings: r.stderr.split('\n').filter((l) => l.includes('skipped')) });
  }
  assert.deepEqual(out[0]!.rules, { loaded: 2, skipped: 1 });
  assert.deepEqual(out[1], out[0]);
  assert.equal(out[1]!.warnings.length, 1);
  assert.match(out[1]!.warnings[0]!, /load\.rules:2: rule skipped: .*nosuchkeyword/);
  assert.ok(out[0]!.alerts > 0);

  for (const w of ['1', '2']) {
    const r = await runCli(['analyze', '--json', '--workers', w, '--rules', path.join(dir, 'absent.rules'), BRUTE]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read rule file .*absent\.rules: ENOENT/);
    const d = await runCli(['analyze', '--json', '--workers', w, '--rules', dir, BRUTE]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /cannot read rule file .*: EISDIR/);
  }
});
