import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseVersion } from './checks.js';
import { failureLine, runCases } from './run.js';
import type { CaseResult, RunOptions } from './run.js';

/**
 * A stand-in for `vigil analyze`: copies the case's fake-eve.json to the --eve path, or behaves as
 * the case's fake.json says (exit code and stderr, or hang), so the runner is tested without the
 * engine.
 */
const FAKE_CLI = `
import fs from 'node:fs';
const argv = process.argv.slice(2);
const eve = argv[argv.indexOf('--eve') + 1];
const how = fs.existsSync('fake.json') ? JSON.parse(fs.readFileSync('fake.json', 'utf8')) : {};
if (how.hang) setInterval(() => {}, 1000);
else {
  if (how.stderr) process.stderr.write(how.stderr);
  if (how.code) process.exit(how.code);
  if (!how.noEve) fs.copyFileSync('fake-eve.json', eve);
}
`;

function setup(): { root: string; opts: RunOptions } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-run-'));
  const cli = path.join(root, 'fake-cli.mjs');
  fs.writeFileSync(cli, FAKE_CLI);
  fs.mkdirSync(path.join(root, 'work'));
  return {
    root,
    opts: {
      cli,
      timeoutMs: 60_000,
      jobs: 3,
      workDir: path.join(root, 'work'),
      evaluate: { version: parseVersion('9.0.0')!, allChecks: false },
    },
  };
}

const ALERT_CHECK = 'checks:\n- filter:\n    count: 1\n    match: { event_type: alert, alert.signature_id: 7 }\n';

function addCase(root: string, name: string, files: Record<string, string>): { name: string; dir: string } {
  const dir = path.join(root, 'cases', name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'input.pcap'), '');
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  return { name, dir };
}

test('runCases: pass, fail and the ways a run can go wrong, reported in order', async () => {
  const { root, opts } = setup();
  const alert = JSON.stringify({ event_type: 'alert', alert: { signature_id: 7 } });
  const refs = [
    addCase(root, 'a-pass', { 'test.yaml': ALERT_CHECK, 'fake-eve.json': `${alert}\n{"event_type":"flow"}\n` }),
    addCase(root, 'b-fail', { 'test.yaml': ALERT_CHECK, 'fake-eve.json': '{"event_type":"flow"}\n' }),
    addCase(root, 'c-exit', {
      'test.yaml': ALERT_CHECK,
      'fake.json': JSON.stringify({
        code: 2,
        stderr: 'vigil: warning: x\nvigil: unknown --set key "foo"\nusage: ...\n',
      }),
    }),
    addCase(root, 'd-no-eve', { 'test.yaml': ALERT_CHECK, 'fake.json': '{"noEve":true}' }),
    addCase(root, 'e-bad-json', { 'test.yaml': ALERT_CHECK, 'fake-eve.json': `${alert}\n{oops\n` }),
    addCase(root, 'f-bad-yaml', { 'test.yaml': 'checks: [' }),
    addCase(root, 'g-unknown-var', { 'test.yaml': 'args:\n  - --set x=${NO_SUCH_VAR_FOR_VIGIL}\n' }),
  ];
  const seen: string[] = [];
  try {
    const results = await runCases(refs, opts, (r) => seen.push(r.name));
    assert.deepEqual(
      seen,
      refs.map((r) => r.name),
      'onResult sees cases in order',
    );
    const by = (n: string): CaseResult => results.find((r) => r.name === n)!;
    assert.deepEqual(
      results.map((r) => [r.name, r.status]),
      [
        ['a-pass', 'pass'],
        ['b-fail', 'fail'],
        ['c-exit', 'error'],
        ['d-no-eve', 'error'],
        ['e-bad-json', 'error'],
        ['f-bad-yaml', 'error'],
        ['g-unknown-var', 'error'],
      ],
    );
    assert.equal(by('a-pass').reason, null);
    assert.equal(by('a-pass').checks[0]!.got, 1);
    assert.equal(by('b-fail').reason, 'filter {"event_type":"alert","alert.signature_id":7} expected count 1, got 0');
    assert.equal(by('c-exit').reason, 'analyze exited with code 2: unknown --set key "foo"');
    assert.match(by('c-exit').stderr, /usage/);
    assert.equal(by('d-no-eve').reason, 'analyze wrote no EVE file');
    assert.equal(by('e-bad-json').reason, 'eve.json line 2 is not JSON');
    assert.match(by('f-bad-yaml').reason!, /^invalid YAML in test\.yaml/);
    assert.equal(by('g-unknown-var').reason, 'unknown variable $NO_SUCH_VAR_FOR_VIGIL in args');
    const cmd = by('a-pass').command!;
    assert.deepEqual(cmd.slice(-4), ['--eve', path.join(by('a-pass').out_dir, 'eve.json'), '--workers', '1']);
    assert.ok(fs.existsSync(path.join(by('a-pass').out_dir, 'eve.json')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('runCases: a case that runs past --timeout is killed and reported', async () => {
  const { root, opts } = setup();
  // Only the hanging case: a short limit could also catch a slow start of a healthy one on a busy machine.
  const refs = [addCase(root, 'hang', { 'test.yaml': ALERT_CHECK, 'fake.json': '{"hang":true}' })];
  try {
    // Without onResult, as --json runs it.
    const results = await runCases(refs, { ...opts, timeoutMs: 300, jobs: 1 });
    assert.deepEqual(
      results.map((r) => [r.name, r.status, r.reason]),
      [['hang', 'error', 'analyze timed out after 0.3 s']],
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('failureLine picks the error out of analyze stderr', () => {
  assert.equal(failureLine('vigil: warning: a\nvigil: cannot read x\n'), 'cannot read x');
  assert.equal(failureLine('file.js:3\n  throw e\n\nTypeError: boom\n    at f (x.js:1)\n'), 'TypeError: boom');
  assert.equal(failureLine('\n  something odd\n'), 'something odd');
  assert.equal(failureLine(''), null);
});
