import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from './config.js';
import { serverEnvSettings } from './env-settings.js';

test('defaults: the extensions and the engine model settings', () => {
  const s = serverEnvSettings({});
  // Only the fields of issue 7: the extensions may gain settings of their own.
  const { broadcastIntervalS, maxAlertsPerSecond, pcapConcurrency, testRoutes } = s.extensions;
  assert.deepEqual([broadcastIntervalS, maxAlertsPerSecond, pcapConcurrency, testRoutes], [3, 200, 1, false]);
  assert.equal(s.ml.enabled, true);
  assert.equal(s.ml.classifierModel, 'default');
  assert.equal(s.ml.confidenceThreshold, 0.9);
  assert.equal(s.ml.anomalyModel, 'none');
  assert.equal(s.ml.anomalyThreshold, null);
  // NODE_ENV=development turns the test routes on when VIGIL_TEST_ROUTES is unset.
  assert.equal(serverEnvSettings({ NODE_ENV: 'development' }).extensions.testRoutes, true);
});

test('environment values are applied', () => {
  const s = serverEnvSettings({
    WEBSOCKET_BROADCAST_INTERVAL: '0.5',
    WEBSOCKET_MAX_ALERTS_PER_S: '50',
    PCAP_JOB_CONCURRENCY: '4',
    VIGIL_TEST_ROUTES: 'yes',
    CLASSIFICATION_ENABLED: 'false',
    CLASSIFICATION_MODEL_PATH: '/models/rf',
    CLASSIFICATION_CONFIDENCE_THRESHOLD: '0.75',
    ANOMALY_MODEL_PATH: '/models/if',
    ANOMALY_SCORE_THRESHOLD: '0.6',
  });
  // Only the fields of issue 7: the extensions may gain settings of their own.
  const { broadcastIntervalS, maxAlertsPerSecond, pcapConcurrency, testRoutes } = s.extensions;
  assert.deepEqual([broadcastIntervalS, maxAlertsPerSecond, pcapConcurrency, testRoutes], [0.5, 50, 4, true]);
  assert.deepEqual(
    [s.ml.enabled, s.ml.classifierModel, s.ml.confidenceThreshold, s.ml.anomalyModel, s.ml.anomalyThreshold],
    [false, '/models/rf', 0.75, '/models/if', 0.6],
  );
});

test('a bad value: ConfigError with one line naming the variable', () => {
  for (const [name, value] of [
    ['WEBSOCKET_BROADCAST_INTERVAL', '0.1'],
    ['WEBSOCKET_MAX_ALERTS_PER_S', '1.5'],
    ['PCAP_JOB_CONCURRENCY', '0'],
    ['VIGIL_TEST_ROUTES', 'maybe'],
    ['CLASSIFICATION_ENABLED', 'perhaps'],
    ['CLASSIFICATION_CONFIDENCE_THRESHOLD', '2'],
    ['ANOMALY_SCORE_THRESHOLD', 'high'],
    ['WHITELIST_IPS', '10.0.0.300'],
  ] as const)
    assert.throws(
      () => serverEnvSettings({ [name]: value }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.startsWith(name) &&
        e.message.includes(value) &&
        !e.message.includes('\n'),
      `${name}=${value}`,
    );
});

test('VIGIL_FILE_STORE*: off by default; set, checked and reported like the other engine variables', () => {
  assert.equal(serverEnvSettings({}).fileStore.enabled, false);
  const s = serverEnvSettings({
    VIGIL_FILE_STORE: 'yes',
    VIGIL_FILE_STORE_DIR: 'carved',
    VIGIL_FILE_STORE_FORCE: 'true',
    VIGIL_FILE_STORE_MAX_SIZE: '2mb',
  });
  assert.deepEqual(s.fileStore, { enabled: true, dir: 'carved', force: true, maxSize: 2 * 1024 * 1024 });
  assert.throws(() => serverEnvSettings({ VIGIL_FILE_STORE_MAX_SIZE: 'lots' }), /VIGIL_FILE_STORE_MAX_SIZE/);
});
