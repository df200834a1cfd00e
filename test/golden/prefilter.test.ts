/**
 * The prefilter (Aho-Corasick fast patterns, port groups, address indexes) must never lose an
 * alert: with ET Open and the built-in rules, `vigil analyze` raises exactly the alerts (sid and
 * packet) that evaluating every rule on every packet raises (`--set detect.exhaustive=yes`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DIR, tempDir } from '../helpers/paths.js';
import { analyzeBothWays, type EveAlert } from '../helpers/eve.js';
import { mapLimit } from '../helpers/reference.js';

const etDir = path.join(SHARED_DIR, 'data', 'rules', 'et-open');
const captures = ['sql_injection.pcap', 'brute_force.pcap', 'port_scan.pcap', 'mixed.pcap', 'tr-c2.pcap']
  .map((f) => path.join(SHARED_DIR, 'corpus', f))
  .filter((f) => fs.existsSync(f));

/** Alerts as sid@packet/direction, sorted. */
function alertKeys(alerts: readonly EveAlert[]): string[] {
  return alerts.map((e) => `${e.alert.signature_id}@${e.pcap_cnt ?? 0}/${e.direction ?? ''}`).sort();
}

test(
  'prefiltered detection raises exactly the alerts of exhaustive evaluation (ET Open + built-in)',
  { skip: !fs.existsSync(etDir) || captures.length === 0, timeout: 20 * 60_000 },
  async () => {
    const rules = fs
      .readdirSync(etDir)
      .filter((f) => f.endsWith('.rules'))
      .sort()
      .flatMap((f) => ['--rules', path.join(etDir, f)]);
    const dir = tempDir();
    let total = 0;
    await mapLimit(captures, 2, async (cap) => {
      const both = await analyzeBothWays(
        [cap, '--workers', '1', '--json', ...rules],
        path.join(dir, path.basename(cap)),
      );
      const [pre, all] = both.map(alertKeys);
      assert.deepEqual(pre, all, path.basename(cap));
      total += pre!.length;
    });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.ok(total > 0, 'some alerts compared');
  },
);
