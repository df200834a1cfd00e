import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI of the same build as this test (dist/ or a private --outDir). */
const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

function vigil(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A classic pcap with one Ethernet/IPv4/UDP packet 10.0.0.1:1234 -> 10.0.0.2:5678 carrying "ping". */
function tinyPcap(): Buffer {
  const hex = [
    'd4c3b2a1', // magic a1b2c3d4, little-endian, microseconds
    '02000400', // version 2.4
    '00000000', // thiszone
    '00000000', // sigfigs
    'ffff0000', // snaplen 65535
    '01000000', // link type 1: Ethernet
    '00f15365', // record: ts_sec 1700000000
    '00000000', // ts_usec
    '2e000000', // captured length 46
    '2e000000', // original length 46
    '000000000002', // Ethernet: dst
    '000000000001', // src
    '0800', // IPv4
    '45000020', // IPv4: version 4, IHL 5, total length 32
    '00010000', // id 1, no fragmentation
    '40110000', // TTL 64, UDP, checksum 0 (not validated: -k none)
    '0a000001', // 10.0.0.1
    '0a000002', // 10.0.0.2
    '04d2162e', // UDP ports 1234 -> 5678
    '000c0000', // UDP length 12, no checksum
    '70696e67', // "ping"
  ];
  return Buffer.from(hex.join(''), 'hex');
}

/**
 * Four cases: one passing (no alerts expected, and ${TEST_DIR} in args becomes the EVE host that a
 * non-alert check looks for), one failing, two erring. None has test.rules, so they run the same
 * before and after `analyze --rules` exists.
 */
function makeCases(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-e2e-'));
  const add = (name: string, yaml: string): string => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'input.pcap'), tinyPcap());
    fs.writeFileSync(path.join(dir, 'test.yaml'), yaml.replaceAll('@DIR@', dir));
    return dir;
  };
  add(
    'zero-alerts',
    [
      'args:',
      '  - -k none --sensor-name "${TEST_DIR}"',
      'checks:',
      '  - filter: { count: 0, match: { event_type: alert } }',
      '  - filter: { count: 1, match: { event_type: stats, host: "@DIR@" } }',
      '  - stats: { decoder.udp: 1 }',
    ].join('\n'),
  );
  add(
    'missing-sid',
    'checks:\n  - filter:\n      count: 1\n      match:\n        event_type: alert\n        alert.signature_id: 9999\n',
  );
  add('bad-yaml', 'checks: [\n');
  add('bad-arg', 'args: [--no-such-option]\nchecks: []\n');
  return root;
}

test('vigil verify: text report, exit status, --filter, --min-pass-rate, a case dir', async () => {
  const root = makeCases();
  try {
    // A private TMPDIR shows that the case outputs are removed afterwards.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-tmp-'));
    const r = await vigil(['verify', root], { ...process.env, TMPDIR: tmp });
    assert.deepEqual(fs.readdirSync(tmp), []);
    fs.rmdirSync(tmp);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 5, r.stdout);
    assert.match(lines[0]!, /^ERROR bad-arg: analyze exited with code 2: Unknown option '--no-such-option'/);
    assert.match(lines[1]!, /^ERROR bad-yaml: invalid YAML in test\.yaml: /);
    assert.equal(
      lines[2],
      'FAIL missing-sid: filter {"event_type":"alert","alert.signature_id":9999} expected count 1, got 0',
    );
    assert.equal(lines[3], 'PASS zero-alerts');
    assert.equal(
      lines[4],
      'passed 1/4 (25%), failed 1, errors 2; non-alert checks (not counted, see --all-checks): 1/1 hold',
    );
    assert.equal(r.stderr, '');

    const only = await vigil(['verify', root, '--filter', 'zero', '--all-checks']);
    assert.equal(only.code, 0, only.stdout);
    assert.equal(only.stdout, 'PASS zero-alerts\npassed 1/1 (100%)\n');

    const half = ['verify', root, '--filter', 'zero', '--filter', 'missing'];
    assert.equal((await vigil([...half, '--min-pass-rate', '50'])).code, 0);
    assert.equal((await vigil([...half, '--min-pass-rate', '50.1'])).code, 1);

    const one = await vigil(['verify', path.join(root, 'missing-sid')]);
    assert.equal(one.code, 1);
    assert.match(
      one.stdout,
      /^FAIL missing-sid: filter .* expected count 1, got 0\npassed 0\/1 \(0%\), failed 1, errors 0\n$/,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('vigil verify --json, --verbose and --keep', async () => {
  const root = makeCases();
  try {
    const r = await vigil(['verify', root, '--json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      { passed: out.passed, failed: out.failed, errors: out.errors, total: out.total, pass_rate: out.pass_rate },
      { passed: 1, failed: 1, errors: 2, total: 4, pass_rate: 25 },
    );
    const zero = out.cases.find((c: { name: string }) => c.name === 'zero-alerts');
    assert.equal(zero.status, 'pass');
    assert.deepEqual(
      zero.checks.map((c: Record<string, unknown>) => [c['kind'], c['expected'], c['got'], c['ok'], c['counted']]),
      [
        ['alert', { count: 0 }, 0, true, true],
        ['non-alert', { count: 1 }, 1, true, false],
        ['stats', null, null, null, false],
      ],
    );
    const missing = out.cases.find((c: { name: string }) => c.name === 'missing-sid');
    assert.equal(missing.status, 'fail');
    assert.deepEqual(missing.checks[0].filter, { event_type: 'alert', 'alert.signature_id': 9999 });
    assert.match(out.cases.find((c: { name: string }) => c.name === 'bad-arg').reason, /Unknown option/);

    const v = await vigil(['verify', root, '--filter', 'zero', '--verbose', '--keep']);
    assert.equal(v.code, 0);
    assert.match(
      v.stdout,
      /^PASS zero-alerts\n {4}command: \S+ \S+ analyze \S+input\.pcap --no-builtin-rules --no-ml --set behavior\.enabled=no -k none --sensor-name \S+zero-alerts --eve /,
    );
    assert.match(v.stdout, /#1 \[ok\] alert filter \{"event_type":"alert"\} expected count 0, got 0\n/);
    assert.match(v.stdout, /#3 \[not evaluated\] stats check\n/);
    const kept = /^vigil: case outputs kept in (\S+)\n$/.exec(v.stderr);
    assert.ok(kept, v.stderr);
    try {
      const eve = fs.readFileSync(path.join(kept[1]!, 'zero-alerts', 'eve.json'), 'utf8');
      assert.match(eve, /"event_type":"stats"/);
    } finally {
      fs.rmSync(kept[1]!, { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('vigil verify: usage and input errors', async () => {
  assert.equal((await vigil(['verify'])).code, 2);
  assert.equal((await vigil(['verify', '--help'])).code, 0);
  assert.equal((await vigil(['verify', '.', '--timeout', 'soon'])).code, 2);
  assert.equal((await vigil(['verify', '.', '--min-pass-rate', '101'])).code, 2);
  assert.equal((await vigil(['verify', '.', '--suricata-version', 'x'])).code, 2);
  const missing = await vigil(['verify', path.join(os.tmpdir(), 'vigil-no-such-dir')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^vigil: .*vigil-no-such-dir: no such directory\n$/);
  const root = makeCases();
  try {
    const none = await vigil(['verify', root, '--filter', 'nothing-like-this']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'vigil: no case name contains nothing-like-this\n');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
