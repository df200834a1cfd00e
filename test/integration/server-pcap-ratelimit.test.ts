/**
 * The original's per-endpoint limits on the PCAP routes: upload 8 per minute, last result 20 per
 * minute (per client and route, counted before authentication, as the other limits), 429 with
 * Retry-After at the documented count; the other PCAP routes get the defaults (50 per minute).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { serveExtensions } from '../../src/server/extensions.js';
import { openRepository } from '../../src/store/open.js';
import { tempDir } from '../helpers/paths.js';
import { ADMIN_PASSWORD, assertError, client, testConfig } from './server-suite.js';

const dir = tempDir('vigil-pcap-ratelimit-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('PCAP routes: upload 8/minute, last 20/minute, list 50/minute', async () => {
  const repo = await openRepository({ backend: 'sqlite', file: path.join(dir, 'vigil.db'), dedupWindowS: 300 });
  const cfg = testConfig({ dataDir: dir });
  cfg.rateLimit.enabled = true;
  const ext = serveExtensions(cfg, { env: {}, settings: { testRoutes: false }, live: { probe: false } });
  const app = await buildServer({ config: cfg, repo, logger: false, extensions: ext.extensions });
  try {
    const c = client(app);
    const token = await c.login('admin', ADMIN_PASSWORD);
    // Uploads that fail validation (JSON, not multipart) still count, as every request does.
    for (let i = 0; i < 8; i++)
      assertError(await c.call('POST', '/api/pcap/analyze', { token, body: { file: 'x' } }), 415);
    const r = await c.call('POST', '/api/pcap/analyze', { token, body: { file: 'x' } });
    assertError(r, 429, 'VIGIL_API_RATE_LIMITED');
    assert.ok(Number(r.headers['retry-after']) > 0);
    for (let i = 0; i < 20; i++) assert.equal((await c.call('GET', '/api/pcap/last', { token })).statusCode, 200);
    assertError(await c.call('GET', '/api/pcap/last', { token }), 429);
    for (let i = 0; i < 50; i++) assert.equal((await c.call('GET', '/api/pcap/analyses', { token })).statusCode, 200);
    assertError(await c.call('GET', '/api/pcap/analyses', { token }), 429);
  } finally {
    await app.close();
    await repo.close();
  }
});
