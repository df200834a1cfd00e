/**
 * `vigil config` shows the settings read only from the environment (issue 7): the server
 * extensions' (WEBSOCKET_*, PCAP_JOB_CONCURRENCY, VIGIL_TEST_ROUTES), the PCAP limits and the
 * engine's model settings (CLASSIFICATION_*, ANOMALY_*), with --server and without; a bad value
 * stops `vigil config` and `vigil serve` alike with one line and exit status 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/paths.js';

/** The built CLI beside this compiled test (dist/ or any --outDir). */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');
// Removed at exit by the helper.
const dir = tempDir('vigil-config-cli-');
/** A run that has not exited by then is killed (a `serve` that wrongly started would never exit). */
const RUN_TIMEOUT_MS = 30_000;

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    // A clean environment: only what the case sets (and PATH), so the caller's settings do not leak in.
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env['PATH'] ?? '', VIGIL_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

interface ServerPart {
  pcap: { maxPackets: number; timeoutS: number; maxUploadBytes: number };
  extensions: { broadcastIntervalS: number; maxAlertsPerSecond: number; pcapConcurrency: number; testRoutes: boolean };
  ml: {
    enabled: boolean;
    classifierModel: string;
    confidenceThreshold: number;
    anomalyModel: string;
    anomalyThreshold: number | null;
  };
  adminPassword: string | null;
}

const ENV = {
  WEBSOCKET_BROADCAST_INTERVAL: '1.5',
  WEBSOCKET_MAX_ALERTS_PER_S: '40',
  PCAP_JOB_CONCURRENCY: '3',
  VIGIL_TEST_ROUTES: 'true',
  PCAP_MAX_UPLOAD_MB: '10',
  PCAP_MAX_PACKETS: '5000',
  PCAP_ANALYSIS_TIMEOUT: '60',
  CLASSIFICATION_CONFIDENCE_THRESHOLD: '0.8',
  CLASSIFICATION_MODEL_PATH: 'none',
  ANOMALY_MODEL_PATH: '/srv/models/if',
  ANOMALY_SCORE_THRESHOLD: '0.7',
  VIGIL_ADMIN_PASSWORD: 'admin-secret-pw',
};

function checkServerPart(s: ServerPart): void {
  // Only the fields of issue 7: the extensions may gain settings of their own.
  const { broadcastIntervalS, maxAlertsPerSecond, pcapConcurrency, testRoutes } = s.extensions;
  assert.deepEqual([broadcastIntervalS, maxAlertsPerSecond, pcapConcurrency, testRoutes], [1.5, 40, 3, true]);
  assert.deepEqual(s.pcap, { maxPackets: 5000, timeoutS: 60, maxUploadBytes: 10 * 1024 * 1024 });
  assert.deepEqual(
    [s.ml.enabled, s.ml.classifierModel, s.ml.confidenceThreshold, s.ml.anomalyModel, s.ml.anomalyThreshold],
    [true, 'none', 0.8, '/srv/models/if', 0.7],
  );
  assert.equal(s.adminPassword, '[redacted]');
}

test('vigil config --server (and --json) shows the environment-only settings', async () => {
  for (const args of [
    ['config', '--server'],
    ['config', '--server', '--json'],
  ]) {
    const r = await run(args, ENV);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /admin-secret-pw/);
    checkServerPart(JSON.parse(r.out) as ServerPart);
  }
});

test('vigil config: the same under "server", the engine configuration beside it', async () => {
  const r = await run(['config', '--json', '--set', 'ml.classifier.confidence-threshold=0.95'], ENV);
  assert.equal(r.code, 0, r.err);
  const cfg = JSON.parse(r.out) as { server: ServerPart; ml: { confidenceThreshold: number } };
  checkServerPart(cfg.server);
  // --set changes `vigil analyze`'s engine, not the server's (which reads the environment only).
  assert.equal(cfg.ml.confidenceThreshold, 0.95);
});

test('a bad environment-only value: one line and exit status 2, from config and serve alike', async () => {
  for (const [name, value, re] of [
    ['WEBSOCKET_BROADCAST_INTERVAL', '0', /WEBSOCKET_BROADCAST_INTERVAL must be a number from 0.5 to 300/],
    ['WEBSOCKET_MAX_ALERTS_PER_S', 'lots', /WEBSOCKET_MAX_ALERTS_PER_S must be an integer/],
    ['PCAP_JOB_CONCURRENCY', '65', /PCAP_JOB_CONCURRENCY must be an integer from 1 to 64/],
    ['VIGIL_TEST_ROUTES', 'maybe', /VIGIL_TEST_ROUTES must be true or false/],
    ['PCAP_MAX_UPLOAD_MB', '0', /PCAP_MAX_UPLOAD_MB must be an integer from 1/],
    ['CLASSIFICATION_CONFIDENCE_THRESHOLD', '1.5', /CLASSIFICATION_CONFIDENCE_THRESHOLD: invalid value/],
    ['ANOMALY_SCORE_THRESHOLD', 'high', /ANOMALY_SCORE_THRESHOLD: invalid value/],
  ] as const) {
    const commands = [['config', '--server'], ['config'], ['serve', '--port', '0', '--host', '127.0.0.1']];
    // The three at once: each is a short process start.
    const runs = await Promise.all(commands.map((args) => run(args, { [name]: value })));
    for (const [i, r] of runs.entries()) {
      const args = commands[i]!;
      const what = `${args.join(' ')} with ${name}=${value}`;
      assert.equal(r.code, 2, `${what}: ${r.out} ${r.err}`);
      assert.match(r.err, re, what);
      assert.equal(r.err.trim().split('\n').length, 1, `${what}: ${r.err}`);
      assert.equal(r.out, '', what);
    }
  }
});
