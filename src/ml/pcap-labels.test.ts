import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../../test/helpers/paths.js';
import { canonicalIp, parseTruth } from '../eval/score.js';
import type { TruthEvent } from '../eval/score.js';
import { FEATURE_NAMES } from '../flow/features.js';
import { MlError } from './errors.js';
import { captureFiles, labelFlows, loadPcapDataset, truthFileOf } from './pcap-labels.js';

const ev = (label: string, src: string, dst: string, start: number, end: number): TruthEvent => ({
  label,
  src,
  dst,
  start,
  end,
});
const S = 1_700_000_000; // event times in seconds
const us = (s: number): number => Math.round(s * 1e6);

test('labelFlows: address pair in either direction and overlapping window; otherwise benign', () => {
  const events = [ev('port_scan', '10.0.0.66', '10.0.0.10', S + 10, S + 20)];
  const flows: [string, string, number, number][] = [
    ['10.0.0.66', '10.0.0.10', S + 12, S + 13], // inside
    ['10.0.0.10', '10.0.0.66', S + 5, S + 10], // reverse direction, ends exactly at start (inclusive)
    ['10.0.0.66', '10.0.0.10', S + 20, S + 30], // starts exactly at end (inclusive)
    ['10.0.0.66', '10.0.0.10', S + 1, S + 9.999999], // before
    ['10.0.0.66', '10.0.0.10', S + 20.000001, S + 25], // after
    ['10.0.0.66', '10.0.0.11', S + 12, S + 13], // other pair
    ['10.0.0.66', '10.0.0.10', S + 0, S + 100], // spans the window
  ];
  const out = labelFlows(
    events,
    flows.flatMap((f) => [f[0], f[1]]),
    Float64Array.from(flows, (f) => us(f[2])),
    Float64Array.from(flows, (f) => us(f[3])),
  );
  assert.deepEqual(out, ['port_scan', 'port_scan', 'port_scan', 'benign', 'benign', 'benign', 'port_scan']);
});

test('labelFlows: longest overlap wins, ties go to the earlier event; c2 -> malware; benign events label nothing', () => {
  const events = [
    ev('dos', '10.0.0.1', '10.0.0.2', S, S + 10),
    ev('c2', '10.0.0.1', '10.0.0.2', S + 8, S + 30),
    ev('benign', '10.0.0.3', '10.0.0.2', S, S + 100),
    ev('xss', '2001:db8::1', '2001:db8::2', S, S + 10),
  ];
  const flows: [string, string, number, number][] = [
    ['10.0.0.1', '10.0.0.2', S + 1, S + 9], // dos 8 s vs c2 1 s
    ['10.0.0.1', '10.0.0.2', S + 9, S + 20], // dos 1 s vs c2 11 s
    ['10.0.0.2', '10.0.0.1', S + 8, S + 10], // 2 s each: the earlier event
    ['10.0.0.3', '10.0.0.2', S + 1, S + 2], // benign event
    ['2001:0db8:0000:0000:0000:0000:0000:0002', '2001:db8::1', S + 1, S + 2], // IPv6 in full form
  ];
  const out = labelFlows(
    events,
    flows.flatMap((f) => [f[0], f[1]]),
    Float64Array.from(flows, (f) => us(f[2])),
    Float64Array.from(flows, (f) => us(f[3])),
  );
  assert.deepEqual(out, ['dos', 'malware', 'dos', 'benign', 'xss']);
});

test('truth file and capture discovery', (t) => {
  assert.equal(truthFileOf('/a/b/x.pcap'), '/a/b/x.truth.json');
  assert.equal(truthFileOf('y.pcapng'), 'y.truth.json');
  const d = tempDir('vigil-pcaps-');
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  fs.writeFileSync(path.join(d, 'a.pcap'), '');
  fs.writeFileSync(path.join(d, 'b.pcap'), '');
  fs.writeFileSync(path.join(d, 'b.truth.json'), '{"events":[]}');
  assert.deepEqual(captureFiles(d), [path.join(d, 'b.pcap')]);
  assert.throws(() => captureFiles(path.join(d, 'none')), MlError);
});

test('a missing or invalid truth file is a clear error', async (t) => {
  const d = tempDir('vigil-pcaps-');
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  const p = path.join(d, 'x.pcap');
  fs.writeFileSync(p, '');
  await assert.rejects(loadPcapDataset(p), /cannot read truth file .*x\.truth\.json/);
  fs.writeFileSync(path.join(d, 'x.truth.json'), '{"events":[{"label":"dos"}]}');
  await assert.rejects(loadPcapDataset(p), /event 0: "src" must be a non-empty string/);
});

const C2 = path.join(SHARED_DIR, 'corpus', 'tr-c2.pcap');
test(
  'real capture: flows through the packet engine, labeled from the truth file',
  { skip: !fs.existsSync(C2) },
  async () => {
    const truth = parseTruth(JSON.parse(fs.readFileSync(truthFileOf(C2), 'utf8')), C2);
    const { ds, benignClass, stats } = await loadPcapDataset(C2);
    assert.equal(ds.d, FEATURE_NAMES.length);
    assert.deepEqual(ds.features, FEATURE_NAMES);
    assert.equal(ds.x.length, ds.n * ds.d);
    assert.ok(ds.n > 0 && ds.ts !== undefined && ds.ts.length === ds.n);
    assert.equal(benignClass, 'benign');
    // Every attack label comes from the truth file (c2 named malware), benign first.
    const want = new Set(
      truth.filter((e) => e.label !== 'benign').map((e) => (e.label === 'c2' ? 'malware' : e.label)),
    );
    assert.deepEqual(ds.classes.slice(1).sort(), [...want].sort());
    assert.equal(ds.classes[0], 'benign');
    // Flows labeled as attacks start no later than the last event ends, and not before the first starts
    // minus their own duration (they overlap some event window).
    const first = Math.min(...truth.map((e) => e.start)) * 1e6;
    const last = Math.max(...truth.map((e) => e.end)) * 1e6;
    for (let i = 0; i < ds.n; i++) if (ds.y[i] !== 0) assert.ok(ds.ts[i]! <= last, `flow ${i}`);
    assert.ok(Array.from(ds.ts).some((t, i) => ds.y[i] !== 0 && t >= first - 60e6));
    assert.equal(
      Object.values(stats.classCounts).reduce((a, b) => a + b, 0),
      ds.n,
    );
    // The attacker's address appears in every event of this capture.
    assert.ok(truth.every((e) => canonicalIp(e.src) === canonicalIp(truth[0]!.src)));
  },
);
