/**
 * `vigil eval` as a user runs it, on a small corpus copied from ../shared/corpus. Detection
 * figures are not asserted (detectors are still being improved); the structure and the
 * arithmetic are, and the plumbing is checked against a direct `vigil analyze` run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';

/** The CLI of the same build as this test (dist/ or a private --outDir). */
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Counts {
  events: number;
  typed: number;
  at_all: number;
}
interface EvalCapture extends Counts {
  name: string;
  benign_events: number;
  fp_alerts: number;
  alerts: number;
  packets: number;
  packets_per_s: number;
  labels: Record<string, Counts>;
  alerts_by_type: Record<string, number>;
  fp_by_type: Record<string, number>;
  event_outcomes: { index: number; label: string; typed: boolean; at_all: boolean; types_in_window: string[] }[];
  error: string | null;
}
interface EvalResult {
  captures: EvalCapture[];
  labels: Record<string, Counts & { type: string; typed_recall: number | null }>;
  totals: Counts & { captures: number; fp_alerts: number; alerts: number; packets: number };
  fp_by_type: Record<string, number>;
  typed_recall: number | null;
  at_all_recall: number | null;
  window: { before_s: number; after_s: number };
  analyze_args: string[];
  errors: unknown[];
}

function vigil(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const CORPUS = path.join(SHARED_DIR, 'corpus');
const made: string[] = [];
const scratch = (prefix: string): string => {
  const d = tempDir(prefix);
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
const dir = scratch('vigil-eval-test-');
for (const n of ['xss', 'benign']) {
  fs.copyFileSync(path.join(CORPUS, `${n}.pcap`), path.join(dir, `${n}.pcap`));
  fs.copyFileSync(path.join(CORPUS, `${n}.truth.json`), path.join(dir, `${n}.truth.json`));
}
// Neither of these is a labeled capture: a capture without truth, a truth without capture.
fs.copyFileSync(path.join(CORPUS, 'xss.pcap'), path.join(dir, 'unlabeled.pcap'));
fs.copyFileSync(path.join(CORPUS, 'xss.truth.json'), path.join(dir, 'orphan.truth.json'));

const truthEvents = (n: string): { label: string }[] =>
  (JSON.parse(fs.readFileSync(path.join(CORPUS, `${n}.truth.json`), 'utf8')) as { events: { label: string }[] }).events;

/** Alerts and packets of a direct `vigil analyze` run, for checking eval's plumbing. */
async function analyzeDirect(file: string): Promise<{ alerts: number; packets: number }> {
  const eve = path.join(scratch('vigil-eval-direct-'), 'eve.json');
  const r = await vigil(['analyze', file, '--json', '--eve', eve, '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  const alerts = fs
    .readFileSync(eve, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"event_type":"alert"')).length;
  return { alerts, packets: (JSON.parse(r.stdout) as { packets: number }).packets };
}

test('--json: one object per the documented structure, with consistent arithmetic', async () => {
  // A private TMPDIR shows that eval removes its temporary EVE files.
  const tmp = scratch('vigil-eval-tmp-');
  const r = await vigil(['eval', dir, '--json', '--workers', '1'], { ...process.env, TMPDIR: tmp });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(tmp), []);
  const res = JSON.parse(r.stdout) as EvalResult;
  assert.deepEqual(
    res.captures.map((c) => c.name),
    ['benign.pcap', 'xss.pcap'],
  );
  assert.deepEqual(res.window, { before_s: 5, after_s: 60 });
  assert.deepEqual(res.analyze_args, []);
  assert.deepEqual(res.errors, []);

  const sum = (f: (c: EvalCapture) => number): number => res.captures.reduce((n, c) => n + f(c), 0);
  for (const c of res.captures) {
    assert.equal(c.error, null);
    const truth = truthEvents(c.name.replace('.pcap', ''));
    assert.equal(c.events, truth.filter((e) => e.label !== 'benign').length);
    assert.equal(c.benign_events, truth.filter((e) => e.label === 'benign').length);
    assert.ok(c.typed <= c.at_all && c.at_all <= c.events, c.name);
    assert.ok(c.fp_alerts <= c.alerts, c.name);
    assert.ok(c.packets > 0 && c.packets_per_s > 0, c.name);
    assert.equal(c.event_outcomes.length, c.events);
    assert.equal(c.event_outcomes.filter((o) => o.typed).length, c.typed);
    assert.equal(c.event_outcomes.filter((o) => o.at_all).length, c.at_all);
    for (const o of c.event_outcomes) if (o.typed) assert.ok(o.at_all);
    const ls = Object.values(c.labels);
    assert.equal(
      ls.reduce((n, l) => n + l.events, 0),
      c.events,
    );
    assert.equal(
      ls.reduce((n, l) => n + l.typed, 0),
      c.typed,
    );
    assert.equal(
      Object.values(c.alerts_by_type).reduce((n, x) => n + x, 0),
      c.alerts,
    );
    assert.equal(
      Object.values(c.fp_by_type).reduce((n, x) => n + x, 0),
      c.fp_alerts,
    );
  }
  const benign = res.captures[0]!;
  assert.equal(benign.events, 0);
  // On a benign-only capture every alert is a false positive.
  assert.equal(benign.fp_alerts, benign.alerts);
  assert.deepEqual(benign.labels, {});

  assert.equal(res.totals.captures, 2);
  assert.equal(
    res.totals.events,
    sum((c) => c.events),
  );
  assert.equal(
    res.totals.typed,
    sum((c) => c.typed),
  );
  assert.equal(
    res.totals.at_all,
    sum((c) => c.at_all),
  );
  assert.equal(
    res.totals.fp_alerts,
    sum((c) => c.fp_alerts),
  );
  assert.equal(
    res.totals.alerts,
    sum((c) => c.alerts),
  );
  assert.equal(
    res.totals.packets,
    sum((c) => c.packets),
  );
  assert.ok(res.totals.typed <= res.totals.at_all && res.totals.at_all <= res.totals.events);
  assert.deepEqual(Object.keys(res.labels), ['xss']);
  assert.equal(res.labels['xss']!.type, 'xss');
  assert.equal(res.labels['xss']!.events, 12);
  assert.equal(res.typed_recall, Math.round((1e4 * res.totals.typed) / res.totals.events) / 1e4);

  // Plumbing: eval counts the alerts and packets analyze itself reports.
  for (const c of res.captures) {
    const d = await analyzeDirect(path.join(dir, c.name));
    assert.equal(c.alerts, d.alerts, c.name);
    assert.equal(c.packets, d.packets, c.name);
  }
});

test('arguments after -- reach analyze', async () => {
  const r = await vigil(['eval', dir, '--json', '--filter', 'xss', '--', '--no-detect']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as EvalResult;
  assert.deepEqual(res.analyze_args, ['--no-detect']);
  assert.deepEqual(
    res.captures.map((c) => c.name),
    ['xss.pcap'],
  );
  // The packet engine alone raises nothing.
  assert.equal(res.totals.alerts, 0);
  assert.equal(res.totals.typed, 0);
});

test('the text report has a row per capture, a label table and the typed recall', async () => {
  const r = await vigil(['eval', dir, '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^capture\s+events\s+typed\s+at-all\s+FP alerts\s+alerts\s+packets\s+packets\/s$/);
  assert.match(lines[1]!, /^benign\.pcap\s+0\s+0\s+0\s+\d+\s+\d+\s+\d+\s+\d+$/);
  assert.match(lines[2]!, /^xss\.pcap\s+12\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+$/);
  assert.match(r.stdout, /^label\s+type\s+events\s+typed\s+at-all\s+typed recall$/m);
  assert.match(r.stdout, /^xss\s+xss\s+12\s+\d+\s+\d+\s+\d+\.\d %$/m);
  assert.match(r.stdout, /^typed recall: \d+\/12 = \d+\.\d %/m);
});

test('errors: a missing directory, an unreadable truth file, bad options', async () => {
  const missing = await vigil(['eval', path.join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  assert.match(missing.stderr, /nope/);

  const bad = scratch('vigil-eval-bad-');
  fs.copyFileSync(path.join(CORPUS, 'xss.pcap'), path.join(bad, 'xss.pcap'));
  fs.writeFileSync(path.join(bad, 'xss.truth.json'), '{"events": [');
  const r = await vigil(['eval', bad]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /xss\.truth\.json/);

  fs.writeFileSync(path.join(bad, 'xss.truth.json'), '{"events": [{"label": "xss", "src": "10.0.0.1"}]}');
  const r2 = await vigil(['eval', bad]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /xss\.truth\.json: event 0/);

  // analyze failing on one capture: reported in its row and in errors, its events count as missed.
  const broken = scratch('vigil-eval-broken-');
  fs.writeFileSync(path.join(broken, 'a.pcap'), 'this is not a capture file\n');
  fs.copyFileSync(path.join(CORPUS, 'xss.truth.json'), path.join(broken, 'a.truth.json'));
  fs.copyFileSync(path.join(CORPUS, 'benign.pcap'), path.join(broken, 'b.pcap'));
  fs.copyFileSync(path.join(CORPUS, 'benign.truth.json'), path.join(broken, 'b.truth.json'));
  const r3 = await vigil(['eval', broken, '--json']);
  assert.equal(r3.code, 1);
  const res = JSON.parse(r3.stdout) as EvalResult;
  assert.match(res.captures[0]!.error ?? '', /analyze exited with code 1: .*a\.pcap/);
  assert.equal(res.captures[1]!.error, null);
  assert.ok(res.captures[1]!.packets > 0);
  assert.deepEqual(res.errors, [{ capture: 'a.pcap', reason: res.captures[0]!.error }]);
  assert.equal(res.totals.events, 12);
  assert.equal(res.totals.typed, 0);

  const empty = scratch('vigil-eval-empty-');
  assert.equal((await vigil(['eval', empty])).code, 1);
  assert.equal((await vigil(['eval'])).code, 2);
  assert.equal((await vigil(['eval', dir, '--workers', '0'])).code, 2);
});
