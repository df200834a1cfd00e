/**
 * Signature detection through the CLI: built-in rules on the labelled corpus, a user rule checked
 * against tshark's count of the frames carrying its content, rule-file errors, and the
 * suricata-verify pass rate as a regression floor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { haveTool, runCli } from '../helpers/reference.js';

const corpus = (f: string): string => path.join(SHARED_DIR, 'corpus', f);
const haveCorpus = fs.existsSync(corpus('sql_injection.pcap'));

function alerts(eveFile: string): { sid: number; pcap_cnt?: number }[] {
  return fs
    .readFileSync(eveFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"alert"'))
    .map((l) => {
      const e = JSON.parse(l) as { alert: { signature_id: number }; pcap_cnt?: number };
      return { sid: e.alert.signature_id, pcap_cnt: e.pcap_cnt };
    });
}

test(
  'built-in rules flag the SQL injection capture and stay quiet on benign traffic',
  { skip: !haveCorpus },
  async () => {
    const dir = tempDir();
    const eve = path.join(dir, 'eve.json');
    const r = await runCli(['analyze', corpus('sql_injection.pcap'), '--json', '--workers', '1', '--eve', eve]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { alerts: number; rules: { loaded: number } };
    assert.ok(s.rules.loaded > 0);
    const sids = new Set(alerts(eve).map((a) => a.sid));
    assert.ok(
      s.alerts > 0 && (sids.has(9100001) || sids.has(9100002) || sids.has(9100003)),
      `sids: ${[...sids].join(',')}`,
    );
    for (const f of ['benign.pcap', 'benign_tricky.pcap']) {
      const b = await runCli(['analyze', corpus(f), '--json', '--workers', '1']);
      assert.equal(b.code, 0, b.stderr);
      assert.equal((JSON.parse(b.stdout) as { alerts: number }).alerts, 0, `false positives on ${f}`);
    }
  },
);

test(
  'a packet content rule alerts once per packet carrying the content, as tshark counts them',
  { skip: !haveCorpus || !haveTool('tshark') },
  async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'user.rules');
    // Case-sensitive, so tshark's `contains` (also case-sensitive) counts the same frames.
    fs.writeFileSync(
      rules,
      'alert tcp any any -> any any (msg:"status line"; content:"HTTP/1.1 200 OK"; sid:1000001; rev:1;)\n',
    );
    const eve = path.join(dir, 'eve.json');
    const r = await runCli([
      'analyze',
      corpus('sql_injection.pcap'),
      '--workers',
      '1',
      '--no-builtin-rules',
      '--rules',
      rules,
      '--eve',
      eve,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ours = alerts(eve).filter((a) => a.sid === 1000001);
    const frames = execFileSync(
      'tshark',
      [
        '-r',
        corpus('sql_injection.pcap'),
        '-Y',
        'tcp.payload contains "HTTP/1.1 200 OK"',
        '-T',
        'fields',
        '-e',
        'frame.number',
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
    assert.ok(frames.length > 0);
    assert.deepEqual(
      ours.map((a) => a.pcap_cnt).sort((x, y) => x! - y!),
      frames,
    );
  },
);

test(
  'bad rules are skipped with a warning naming file and line; an unreadable file is an error',
  { skip: !haveCorpus },
  async () => {
    const dir = tempDir();
    const rules = path.join(dir, 'mixed.rules');
    fs.writeFileSync(
      rules,
      'alert tcp any any -> any any (msg:"ok"; content:"x"; sid:1;)\nalert tcp any any -> any any (msg:"bad"; lua:foo.lua; sid:2;)\n',
    );
    const r = await runCli(['analyze', corpus('benign.pcap'), '--json', '--no-builtin-rules', '--rules', rules]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mixed\.rules:2: rule skipped: unsupported keyword: lua/);
    assert.deepEqual((JSON.parse(r.stdout) as { rules: unknown }).rules, { loaded: 1, skipped: 1 });
    const missing = await runCli(['analyze', corpus('benign.pcap'), '--rules', path.join(dir, 'nope.rules')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot read rule file/);
  },
);

const verifyDir = path.join(SHARED_DIR, 'data', 'suricata-verify');
test(
  'suricata-verify: pass rate stays above the floor',
  { skip: !fs.existsSync(verifyDir), timeout: 20 * 60_000 },
  async () => {
    const r = await runCli(['verify', verifyDir, '--json']);
    const j = JSON.parse(r.stdout) as { passed: number; total: number };
    const rate = j.passed / j.total;
    // Measured 80.5 % when this floor was set; raise it as the engine improves.
    assert.ok(rate >= 0.78, `pass rate ${(100 * rate).toFixed(1)} % (${j.passed}/${j.total})`);
  },
);

test(
  'stream-aware payload rules: spanning matches, RST data, TCP Fast Open (suricata-verify cases)',
  { skip: !fs.existsSync(verifyDir) },
  async () => {
    const cases = ['tcp-fastopen-07', 'tcp-fastopen-03', 'bug-6244-tcp-rst-with-data', 'bug-6244-tcp-rst-with-data-02'];
    const r = await runCli(['verify', ...cases.map((c) => path.join(verifyDir, c)), '--json']);
    const j = JSON.parse(r.stdout) as { cases: { name: string; status: string }[] };
    for (const c of j.cases) assert.equal(c.status, 'pass', c.name);
    assert.equal(j.cases.length, cases.length);
  },
);
