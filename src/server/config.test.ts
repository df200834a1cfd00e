import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadServerConfig, redactConfig, storeConfigOf } from './config.js';

test('defaults: port 3002, SQLite under ./data, the original rate limits and CORS origins', () => {
  const c = loadServerConfig({ env: {} });
  assert.equal(c.port, 3002);
  assert.deepEqual(storeConfigOf(c), { backend: 'sqlite', file: path.join('data', 'vigil.db'), dedupWindowS: 300 });
  assert.deepEqual(c.rateLimit.defaults, [
    { max: 200, windowS: 3600 },
    { max: 50, windowS: 60 },
  ]);
  assert.deepEqual(c.corsOrigins, ['http://localhost:3000', 'http://127.0.0.1:3000']);
  assert.equal(c.rateLimit.enabled, true);
});

test('environment: VIGIL_PORT over PORT over FLASK_PORT; the original names', () => {
  assert.equal(loadServerConfig({ env: { FLASK_PORT: '1', PORT: '2' } }).port, 2);
  assert.equal(loadServerConfig({ env: { FLASK_PORT: '1', PORT: '2', VIGIL_PORT: '3' } }).port, 3);
  const c = loadServerConfig({
    env: {
      VIGIL_DATA_DIR: '/var/lib/vigil',
      LOG_LEVEL: 'WARNING',
      CAPTURE_ENABLED: 'true',
      CAPTURE_INTERFACE: 'eth0',
      PCAP_MAX_PACKETS: '5000',
      PCAP_ANALYSIS_TIMEOUT: '60',
      RATE_LIMIT_ENABLED: 'no',
      VIGIL_CORS_ORIGINS: 'https://ids.example.com, http://localhost:5173',
      VIGIL_DATABASE_URL: 'postgresql://u:p@h/db',
    },
  });
  assert.equal(c.logLevel, 'warn');
  assert.deepEqual(c.capture, { enabled: true, interface: 'eth0' });
  assert.equal(c.pcap.maxPackets, 5000);
  assert.equal(c.pcap.timeoutS, 60);
  assert.equal(c.rateLimit.enabled, false);
  assert.deepEqual(c.corsOrigins, ['https://ids.example.com', 'http://localhost:5173']);
  assert.equal(storeConfigOf(c).backend, 'postgres');
});

test('bad values stop with a one-line reason naming the variable, never echoing secrets', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ VIGIL_PORT: '70000' }, /VIGIL_PORT must be an integer from 0 to 65535/],
    [{ RATE_LIMIT_ENABLED: 'maybe' }, /RATE_LIMIT_ENABLED must be true or false/],
    [{ RATE_LIMIT_STORAGE: 'redis://x' }, /RATE_LIMIT_STORAGE/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ VIGIL_CORS_ORIGINS: 'http://a.example/path' }, /VIGIL_CORS_ORIGINS/],
    [{ VIGIL_SESSION_TTL: '5' }, /VIGIL_SESSION_TTL/],
    [{ ALERT_DEDUP_WINDOW: '-1' }, /ALERT_DEDUP_WINDOW/],
    [{ VIGIL_DATABASE_URL: 'mysql://root:topsecret@h/db' }, /must start with postgres/],
  ];
  for (const [env, re] of cases) {
    assert.throws(
      () => loadServerConfig({ env }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, re);
        assert.ok(!e.message.includes('\n') && !e.message.includes('topsecret'), e.message);
        return true;
      },
    );
  }
});

test('config file (YAML or JSON), overridden by the environment and flags; unknown keys refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
  try {
    const file = path.join(dir, 'server.yaml');
    fs.writeFileSync(
      file,
      'port: 4000\nhost: 127.0.0.1\ncorsOrigins: [https://ids.example.com]\nrateLimit:\n  defaults: 10 per minute\n  routes:\n    "GET /api/alerts": 5/minute\npcap:\n  maxPackets: 100\n',
    );
    const c = loadServerConfig({ env: {}, file });
    assert.equal(c.port, 4000);
    assert.equal(c.host, '127.0.0.1');
    assert.deepEqual(c.rateLimit.defaults, [{ max: 10, windowS: 60 }]);
    assert.deepEqual(c.rateLimit.routes['GET /api/alerts'], [{ max: 5, windowS: 60 }]);
    assert.equal(c.pcap.maxPackets, 100);
    assert.equal(loadServerConfig({ env: { VIGIL_PORT: '5000' }, file }).port, 5000);
    assert.equal(loadServerConfig({ env: { VIGIL_PORT: '5000' }, file, overrides: { port: 6000 } }).port, 6000);
    assert.equal(loadServerConfig({ env: { VIGIL_CONFIG_FILE: file } }).port, 4000);
    const json = path.join(dir, 'server.json');
    fs.writeFileSync(json, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadServerConfig({ env: {}, file: json }), /unknown key "prot"/);
    assert.throws(() => loadServerConfig({ env: {}, file: path.join(dir, 'missing.yaml') }), /cannot read config file/);
    fs.writeFileSync(json, '{"port": ');
    assert.throws(() => loadServerConfig({ env: {}, file: json }), /not valid YAML\/JSON/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('redaction: the admin password and the database password never appear', () => {
  const c = loadServerConfig({
    env: { VIGIL_ADMIN_PASSWORD: 'very-secret-pw', VIGIL_DATABASE_URL: 'postgres://vigil:dbsecret@h:5432/x' },
  });
  const out = JSON.stringify(redactConfig(c));
  assert.ok(!out.includes('very-secret-pw') && !out.includes('dbsecret'), out);
  assert.match(out, /postgres:\/\/vigil:\[redacted\]@h:5432\/x/);
});
